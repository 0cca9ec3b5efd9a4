"""Embeddings with their Python peers' names: :class:`UMAP` (umap-learn's definition, defaults and
``transform``), :class:`TSNE` (Barnes–Hut, scikit-learn's definition, schedule and defaults) and
:func:`trustworthiness`.

Parameters are stored as given by ``__init__`` and checked at ``fit``; fitted attributes end in ``_``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Union

import numpy as np

from . import _outflow
from ._array import as_matrix, check_fitted, count, metric_name, real, seed_of
from ._cluster import _Base, _fit_input
from ._errors import InputError


class TSNE(_Base):
    """t-SNE as scikit-learn's ``TSNE(method="barnes_hut")``: the same parameters, defaults, affinities,
    PCA start, two-stage gradient descent and Barnes–Hut gradient (checked against scikit-learn on
    fixtures). ``n_components`` is 1 to 3. ``random_state=None`` is seed 0; with ``init="pca"`` (the
    default) the result does not depend on the seed at all. There is no ``transform``: t-SNE maps the
    rows it was fitted on only.

    Attributes after ``fit``: ``embedding_``, ``kl_divergence_``, ``n_iter_``, ``learning_rate_``,
    ``n_features_in_``.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        perplexity: float = 30.0,
        early_exaggeration: float = 12.0,
        learning_rate: Union[float, str] = "auto",
        max_iter: int = 1000,
        n_iter_without_progress: int = 300,
        min_grad_norm: float = 1e-7,
        init: str = "pca",
        random_state: Any = None,
        angle: float = 0.5,
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.n_iter_without_progress = n_iter_without_progress
        self.min_grad_norm = min_grad_norm
        self.init = init
        self.random_state = random_state
        self.angle = angle

    def _native_params(self) -> str:
        if isinstance(self.learning_rate, str):
            if self.learning_rate != "auto":
                raise InputError(f"learning_rate must be 'auto' or a positive number, got {self.learning_rate!r}")
            rate: Any = "auto"
        else:
            rate = {"fixed": real("learning_rate", self.learning_rate, 0.0)}
        if self.init not in ("pca", "random"):
            raise InputError(f"init must be 'pca' or 'random', got {self.init!r}")
        params = {
            "n_components": count("n_components", self.n_components, 1),
            "perplexity": real("perplexity", self.perplexity, 0.0),
            "early_exaggeration": real("early_exaggeration", self.early_exaggeration, 1.0),
            "learning_rate": rate,
            "max_iter": count("max_iter", self.max_iter, 1),
            "n_iter_without_progress": count("n_iter_without_progress", self.n_iter_without_progress, 0),
            "min_grad_norm": real("min_grad_norm", self.min_grad_norm, 0.0),
            "init": self.init,
            "angle": real("angle", self.angle, 0.0),
            "seed": seed_of(self.random_state),
        }
        return json.dumps(params, allow_nan=False)

    def fit(self, X: Any, y: Any = None) -> "TSNE":
        """Embeds ``X``; ``y`` is ignored."""
        params = self._native_params()
        X = _fit_input(self, X)
        emb, kl, n_iter, rate = _outflow.tsne_fit(X, params)
        self.embedding_ = emb
        self.kl_divergence_ = kl
        self.n_iter_ = n_iter
        self.learning_rate_ = rate
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Embeds ``X`` and returns the embedding."""
        return self.fit(X).embedding_


class UMAP(_Base):
    """UMAP as umap-learn 0.5's ``UMAP``: the same parameters, defaults, fuzzy graph (checked against
    umap-learn on fixtures), spectral start and layout; exact neighbours at every size. Deterministic for
    a ``random_state`` whatever the thread count (``None`` is seed 0), and parallel all the same.
    ``transform`` places new rows each on its own: a row's position does not depend on its batch.
    ``metric`` is one of ``euclidean``, ``manhattan``, ``chebyshev``, ``cosine``, ``minkowski`` (with
    ``metric_kwds={"p": p}``), ``haversine``.

    Attributes after ``fit``: ``embedding_``, ``n_features_in_``, ``_a``, ``_b`` (the fitted curve, as
    umap-learn names them).
    """

    def __init__(
        self,
        n_neighbors: int = 15,
        n_components: int = 2,
        metric: str = "euclidean",
        metric_kwds: Optional[Dict[str, Any]] = None,
        n_epochs: Optional[int] = None,
        learning_rate: float = 1.0,
        init: str = "spectral",
        min_dist: float = 0.1,
        spread: float = 1.0,
        set_op_mix_ratio: float = 1.0,
        local_connectivity: float = 1.0,
        repulsion_strength: float = 1.0,
        negative_sample_rate: int = 5,
        random_state: Any = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.metric = metric
        self.metric_kwds = metric_kwds
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.init = init
        self.min_dist = min_dist
        self.spread = spread
        self.set_op_mix_ratio = set_op_mix_ratio
        self.local_connectivity = local_connectivity
        self.repulsion_strength = repulsion_strength
        self.negative_sample_rate = negative_sample_rate
        self.random_state = random_state

    def _native_params(self) -> str:
        if self.init not in ("spectral", "pca", "random"):
            raise InputError(f"init must be 'spectral', 'pca' or 'random', got {self.init!r}")
        kwds = dict(self.metric_kwds or {})
        unknown = set(kwds) - {"p"}
        if unknown:
            raise InputError(f"metric_kwds: only p (minkowski) is known, got {sorted(unknown)}")
        params = {
            "n_neighbors": count("n_neighbors", self.n_neighbors, 2),
            "n_components": count("n_components", self.n_components, 1),
            "metric": metric_name(self.metric, kwds.get("p")),
            "min_dist": real("min_dist", self.min_dist, 0.0),
            "spread": real("spread", self.spread, 0.0),
            "n_epochs": None if self.n_epochs is None else count("n_epochs", self.n_epochs, 0),
            "learning_rate": real("learning_rate", self.learning_rate, 0.0),
            "init": self.init,
            "local_connectivity": real("local_connectivity", self.local_connectivity, 0.0),
            "set_op_mix_ratio": real("set_op_mix_ratio", self.set_op_mix_ratio, 0.0),
            "repulsion_strength": real("repulsion_strength", self.repulsion_strength, 0.0),
            "negative_sample_rate": count("negative_sample_rate", self.negative_sample_rate, 0),
            "seed": seed_of(self.random_state),
        }
        return json.dumps(params, allow_nan=False)

    def fit(self, X: Any, y: Any = None) -> "UMAP":
        """Embeds ``X``; ``y`` is ignored."""
        params = self._native_params()
        X = _fit_input(self, X)
        self._model = _outflow.UmapModel.fit(X, params)
        self.embedding_ = self._model.embedding
        self._a, self._b = self._model.curve
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Embeds ``X`` and returns the embedding."""
        return self.fit(X).embedding_

    def transform(self, X: Any) -> np.ndarray:
        """The positions of new rows in the fitted map."""
        check_fitted(self, ["_model"])
        return self._model.transform(as_matrix(X))


def trustworthiness(X: Any, X_embedded: Any, *, n_neighbors: int = 5) -> float:
    """scikit-learn's ``sklearn.manifold.trustworthiness`` (Euclidean), exact: 1 when every
    embedded neighbourhood of ``n_neighbors`` rows is one in ``X``. ``n_neighbors`` must be below half
    the rows."""
    X = as_matrix(X)
    E = as_matrix(X_embedded, "X_embedded")
    return _outflow.trustworthiness(X, E, count("n_neighbors", n_neighbors, 1))
