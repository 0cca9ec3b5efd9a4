"""Clusterers with scikit-learn's estimator contract and hdbscan's attribute names.

Parameters are stored as given by ``__init__`` and checked at ``fit`` (scikit-learn's rule, so that
``clone``, ``get_params`` / ``set_params`` and grid searches work); fitted attributes end in ``_``.
With scikit-learn installed the classes are ``BaseEstimator`` / ``ClusterMixin`` subclasses;
without it they carry the same methods.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import _outflow
from ._array import _feature_names, as_matrix, check_fitted, count, metric_name, real, seed_of
from ._errors import InputError

try:
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClusterMixin as _ClusterMixin
except ImportError:  # scikit-learn is optional

    class _Base:  # type: ignore[no-redef]
        """get_params / set_params as scikit-learn's BaseEstimator: the ``__init__`` arguments."""

        @classmethod
        def _get_param_names(cls) -> list:
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values() if p.name != "self")

        def get_params(self, deep: bool = True) -> Dict[str, Any]:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> "_Base":
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}. Valid parameters are: {valid!r}.")
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _ClusterMixin:  # type: ignore[no-redef]
        """fit_predict as scikit-learn's ClusterMixin."""

        _estimator_type = "clusterer"

        def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
            self.fit(X, **kwargs)
            return self.labels_


def _fit_input(estimator: Any, X: Any, density: bool = False) -> np.ndarray:
    names = _feature_names(X)
    X = as_matrix(X)
    if density and X.shape[0] == 1:
        raise InputError(f"n_samples = 1: {type(estimator).__name__} needs more than one row to measure density")
    estimator.n_features_in_ = X.shape[1]
    if names is not None:
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return X


def _per_row(name: str, values: Any, n: int, dtype: Any) -> np.ndarray:
    """A 1-D array of one value per row (weights as float64; labels as int64, which must be whole)."""
    if isinstance(values, (str, bytes)):
        raise InputError(f"{name} must be a 1-D array of {n} values, got {type(values).__name__}")
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(f"{name} must be a 1-D array of {n} values (one per row), got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{name} must be numeric, got dtype {arr.dtype}")
    if dtype is np.int64:
        as_float = arr.astype(np.float64)
        bad = ~np.isfinite(as_float) | (as_float != np.round(as_float))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name} must hold whole numbers (a class ≥ 0, or -1 unlabelled), got {arr[i]!r} at row {i}")
    elif arr.size and not np.any(arr.astype(np.float64) != 0):
        # scikit-learn's wording for the same check.
        raise InputError("Sample weights must contain at least one non-zero number.")
    return np.ascontiguousarray(arr, dtype=dtype)


def _predict_input(estimator: Any, X: Any) -> np.ndarray:
    names = _feature_names(X)
    fitted = getattr(estimator, "feature_names_in_", None)
    if names is not None and fitted is not None and list(names) != list(fitted):
        raise InputError(
            f"The feature names should match those that were passed during fit: got {list(names)}, fitted on {list(fitted)}"
        )
    X = as_matrix(X)
    if X.shape[1] != estimator.n_features_in_:
        raise InputError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting {estimator.n_features_in_} features as input"
        )
    return X


class HDBSCAN(_ClusterMixin, _Base):
    """Exact HDBSCAN* with hdbscan's parameter and attribute names.

    ``min_samples`` counts the point itself by default, as scikit-learn's ``HDBSCAN`` and the Rust
    crates do: ``HDBSCAN(min_samples=m)`` here equals ``hdbscan.HDBSCAN(min_samples=m - 1)``. Set
    ``min_samples_includes_self=False`` to read ``min_samples`` (and its default, ``min_cluster_size``)
    as the hdbscan package does, so that the same numbers give the same clustering.
    ``max_cluster_size`` (0 or None: no limit) and ``cluster_selection_epsilon_max`` (inf: none) limit
    the excess-of-mass selection as in hdbscan and scikit-learn. ``metric`` is one of euclidean,
    manhattan, chebyshev, cosine, minkowski (exponent ``p``, default 2) or haversine (latitude and
    longitude in radians) or precomputed (``X`` a square matrix of distances, or a scipy sparse one — a
    neighbour graph, as scikit-learn's sparse ``precomputed``: entries not stored are no edges, every row
    needs ``min_samples - 1`` stored distances to others and the graph must be connected; without a stored
    diagonal scikit-learn's ``min_samples=k`` is ``min_samples=k+1`` here; ``approximate_predict``
    then takes rows of distances to the training rows, ``inf`` where unknown after a sparse fit); ``alpha`` scales distances in the mutual reachability as hdbscan's
    ``alpha`` (core distances unscaled); ``cluster_selection_persistence`` as fast_hdbscan's.
    ``fit(X, y, sample_weight=w)`` takes fast_hdbscan's sample weights (core distances reach ``min_samples``
    by cumulative weight, the row's own first — so with ``min_samples_includes_self=False`` the target is
    ``min_samples + 1`` — and cluster sizes are weight sums), and with
    ``semi_supervised=True`` partial labels ``y`` (a class ≥ 0, −1 unlabelled) choose the clusters by their
    BCubed F-measure, as fast_hdbscan's HDBSCAN*(BC) (``ss_algorithm`` "bc" or "bc_simple").
    ``neighbors="approximate"`` finds neighbours on a seeded NN-descent graph of ``knn_k`` neighbours per
    row (fast_hdbscan's name; 0: ``max(min_samples + 5, 15)``) instead of exactly — for many dimensions;
    ``"auto"`` from 31 dimensions and 20,000 rows — deterministic for ``random_state`` (an int), its
    measured recall in ``neighbor_recall_`` (None after an exact fit).

    Attributes after ``fit``: ``labels_`` (−1 noise), ``probabilities_``, ``outlier_scores_`` (GLOSH),
    ``cluster_persistence_``, ``relative_validity_`` (DBCV over the minimum spanning tree),
    ``exemplars_``, ``n_features_in_``; ``dbscan_clustering(cut_distance, min_cluster_size)``. New points: :func:`approximate_predict`, :func:`approximate_predict_scores`.

    >>> import numpy as np, outflow
    >>> X = np.vstack([np.zeros((20, 2)), np.ones((20, 2)) * 5]) + np.random.default_rng(0).normal(0, 0.1, (40, 2))
    >>> int(outflow.HDBSCAN(min_cluster_size=5).fit(X).labels_.max())
    1
    """

    def __init__(
        self,
        min_cluster_size: int = 5,
        min_samples: Optional[int] = None,
        cluster_selection_epsilon: float = 0.0,
        cluster_selection_method: str = "eom",
        metric: str = "euclidean",
        allow_single_cluster: bool = False,
        min_samples_includes_self: bool = True,
        leaf_size: int = 0,
        prediction_data: bool = True,
        max_cluster_size: Optional[int] = 0,
        cluster_selection_epsilon_max: float = float("inf"),
        alpha: float = 1.0,
        p: Optional[float] = None,
        cluster_selection_persistence: float = 0.0,
        semi_supervised: bool = False,
        ss_algorithm: str = "bc",
        neighbors: str = "exact",
        knn_k: int = 0,
        random_state: Optional[int] = None,
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.cluster_selection_method = cluster_selection_method
        self.metric = metric
        self.allow_single_cluster = allow_single_cluster
        self.min_samples_includes_self = min_samples_includes_self
        self.leaf_size = leaf_size
        # Accepted for hdbscan compatibility: prediction data is always kept.
        self.prediction_data = prediction_data
        self.max_cluster_size = max_cluster_size
        self.cluster_selection_epsilon_max = cluster_selection_epsilon_max
        self.alpha = alpha
        self.p = p
        self.cluster_selection_persistence = cluster_selection_persistence
        self.semi_supervised = semi_supervised
        self.ss_algorithm = ss_algorithm
        self.neighbors = neighbors
        self.knn_k = knn_k
        self.random_state = random_state

    def _native_params(self) -> str:
        mcs = count("min_cluster_size", self.min_cluster_size, 2)
        ms = count("min_samples", self.min_samples, 1, allow_none=True)
        if not self.min_samples_includes_self:
            ms = (mcs if ms is None else ms) + 1
        method = self.cluster_selection_method
        if method not in ("eom", "leaf"):
            raise InputError(f"cluster_selection_method must be 'eom' or 'leaf', got {method!r}")
        eps = real("cluster_selection_epsilon", self.cluster_selection_epsilon, 0.0)
        # hdbscan's 0 and scikit-learn's None both mean no limit.
        cap = 0 if self.max_cluster_size is None else count("max_cluster_size", self.max_cluster_size, 0)
        eps_max = self.cluster_selection_epsilon_max
        if not (isinstance(eps_max, (int, float, np.floating, np.integer)) and not isinstance(eps_max, bool)) or np.isnan(eps_max):
            raise InputError(f"cluster_selection_epsilon_max must be a number, got {eps_max!r}")
        params = {
            "min_cluster_size": mcs,
            "min_samples": ms,
            "cluster_selection_epsilon": eps,
            "cluster_selection": method,
            "allow_single_cluster": bool(self.allow_single_cluster),
            "metric": metric_name(self.metric, self.p),
            "alpha": real("alpha", self.alpha, 0.0),
            "cluster_selection_persistence": real("cluster_selection_persistence", self.cluster_selection_persistence, 0.0),
            "leaf_size": count("leaf_size", self.leaf_size, 0),
            "max_cluster_size": cap,
            "cluster_selection_epsilon_max": None if np.isinf(eps_max) and eps_max > 0 else float(eps_max),
        }
        if self.ss_algorithm not in ("bc", "bc_simple"):
            raise InputError(f"ss_algorithm must be 'bc' or 'bc_simple', got {self.ss_algorithm!r}")
        params["ss_algorithm"] = self.ss_algorithm
        if self.neighbors not in ("exact", "approximate", "auto"):
            raise InputError(f"neighbors must be 'exact', 'approximate' or 'auto', got {self.neighbors!r}")
        params["neighbors"] = self.neighbors
        knn_k = count("knn_k", self.knn_k, 0)
        needed = (mcs if ms is None else ms) - 1
        if 0 < knn_k < needed:
            raise InputError(f"knn_k must be 0 (automatic) or at least min_samples - 1 = {needed}, got {knn_k}")
        params["graph_neighbors"] = knn_k
        params["seed"] = 0 if self.random_state is None else count("random_state", self.random_state, 0)
        return json.dumps(params, allow_nan=False)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> "HDBSCAN":
        """Clusters ``X`` (rows × features), with ``sample_weight`` (one finite weight ≥ 0 per row, or one
        number for all) if given; ``y`` holds partial labels with ``semi_supervised=True`` and is ignored
        otherwise."""
        params = self._native_params()
        if hasattr(X, "tocsr") and hasattr(X, "nnz") and self.metric == "precomputed":
            return self._fit_sparse(X, params, y, sample_weight)
        X = _fit_input(self, X, density=True)
        if isinstance(sample_weight, (int, float, np.integer, np.floating)) and not isinstance(sample_weight, bool):
            sample_weight = np.full(X.shape[0], sample_weight, dtype=np.float64)
        weights = None if sample_weight is None else _per_row("sample_weight", sample_weight, X.shape[0], np.float64)
        labels = None
        if self.semi_supervised:
            if y is None:
                raise InputError("semi_supervised=True needs partial labels y (a class ≥ 0, or -1 for an unlabelled row)")
            labels = _per_row("y", y, X.shape[0], np.int64)
        return self._fitted(_outflow.HdbscanModel.fit(X, params, weights, labels), X)

    def _fitted(self, model: Any, raw: Any) -> "HDBSCAN":
        """Keeps a native model and its training data (``exemplars_`` are rows of it) and reads the
        fitted attributes."""
        self._model = model
        self._raw_data = raw
        self.labels_ = model.labels
        self.probabilities_ = model.probabilities
        self.outlier_scores_ = model.outlier_scores
        self.cluster_persistence_ = model.cluster_persistence
        self.neighbor_recall_ = model.neighbor_recall
        return self

    def _fit_sparse(self, X: Any, params: str, y: Any, sample_weight: Any) -> "HDBSCAN":
        """A sparse matrix of distances (a neighbour graph; scikit-learn's sparse ``precomputed``)."""
        if sample_weight is not None or self.semi_supervised:
            raise InputError("sparse precomputed distances take neither sample_weight nor partial labels")
        n, cols = X.shape
        if n != cols:
            raise InputError(f"precomputed distances need a square matrix, got {n} rows × {cols} columns")
        coo = X.tocoo()
        if np.unique(coo.row.astype(np.int64) * n + coo.col).size != coo.nnz:
            raise InputError("precomputed distances list a pair more than once; keep one distance per pair")
        X = X.tocsr().astype(np.float64)
        if not X.has_sorted_indices:
            X = X.sorted_indices()
        model = _outflow.HdbscanModel.fit_sparse(
            n, X.indptr.astype(np.int64), X.indices.astype(np.int64), np.ascontiguousarray(X.data), params
        )
        self.n_features_in_ = n
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self._fitted(model, X)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """``fit(X, y, sample_weight)`` and the labels (``y`` reaches the fit: partial labels)."""
        return self.fit(X, y, sample_weight=sample_weight).labels_

    @property
    def relative_validity_(self) -> float:
        """hdbscan's ``relative_validity_``: DBCV approximated over the minimum spanning tree."""
        check_fitted(self, ["_model"])
        return self._model.relative_validity()

    @property
    def minimum_spanning_tree_(self) -> np.ndarray:
        """The mutual-reachability minimum spanning tree: rows ``(a, b, distance)`` sorted by distance."""
        check_fitted(self, ["_model"])
        return self._model.minimum_spanning_tree

    def predict(self, X: Any) -> np.ndarray:
        """Labels of new rows (the cluster each would join, −1 noise); see :func:`approximate_predict`."""
        return approximate_predict(self, X)[0]

    def dbscan_clustering(self, cut_distance: float, min_cluster_size: int = 5) -> np.ndarray:
        """hdbscan's and scikit-learn's ``dbscan_clustering``: the DBSCAN* labels at a cut of the
        single-linkage tree (merges below ``cut_distance``; clusters smaller than ``min_cluster_size``
        are noise, −1)."""
        check_fitted(self, ["_model"])
        cut = real("cut_distance", cut_distance, 0.0)
        return self._model.dbscan_clustering(cut, count("min_cluster_size", min_cluster_size, 1))

    @property
    def exemplars_(self) -> list:
        """hdbscan's ``exemplars_``: per cluster (by label), the training rows that leave each leaf of the
        condensed tree last."""
        check_fitted(self, ["_model"])
        return [self._raw_data[idx.astype(np.intp)] for idx in self._model.exemplar_indices]


class BranchDetector(_Base):
    """Branches within the clusters of a fitted :class:`HDBSCAN` (FLASC), with hdbscan's
    ``hdbscan.branches.BranchDetector`` parameters and attributes.

    Each cluster's rows are ranked by their distance to the cluster's centroid (weighted by membership
    probability); a graph of the cluster — ``"full"``: pairs within its longest spanning-tree edge, or
    ``"core"``: its spanning-tree edges and nearest neighbours — is filtered from the outside in, and the
    parts that stay apart longest become branches, selected as HDBSCAN selects clusters (``None``
    parameters take the clusterer's). A cluster of more than two branches (more than one with
    ``label_sides_as_branches``) is split: its centre and each branch get a label in ``labels_``.
    Attributes after ``fit``: ``labels_``, ``probabilities_``, ``cluster_labels_``,
    ``cluster_probabilities_``, ``branch_labels_`` (−1 a split cluster's centre), ``branch_probabilities_``,
    ``centralities_`` (``inf`` for a row exactly on its cluster's centroid). At a branch merge the joining
    row falls out of the parent (hdbscan files it under one branch by its sort order), so the ``"full"``
    graph's branches do not depend on the row order.
    """

    def __init__(
        self,
        branch_detection_method: str = "full",
        label_sides_as_branches: bool = False,
        min_cluster_size: Optional[int] = None,
        max_cluster_size: Optional[int] = None,
        allow_single_cluster: Optional[bool] = None,
        cluster_selection_method: Optional[str] = None,
        cluster_selection_epsilon: float = 0.0,
        cluster_selection_persistence: float = 0.0,
    ) -> None:
        self.branch_detection_method = branch_detection_method
        self.label_sides_as_branches = label_sides_as_branches
        self.min_cluster_size = min_cluster_size
        self.max_cluster_size = max_cluster_size
        self.allow_single_cluster = allow_single_cluster
        self.cluster_selection_method = cluster_selection_method
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.cluster_selection_persistence = cluster_selection_persistence

    def fit(self, clusterer: "HDBSCAN") -> "BranchDetector":
        """Finds the branches of a fitted ``HDBSCAN``'s clusters, on the rows it was fitted on."""
        model = _native_model(clusterer)
        if clusterer._raw_data is None or hasattr(clusterer._raw_data, "nnz") or clusterer.metric == "precomputed":
            raise InputError("branch detection needs a clusterer fitted on the rows' coordinates, not on distances")
        graph = self.branch_detection_method
        if graph not in ("full", "core"):
            raise InputError(f"branch_detection_method must be 'full' or 'core', got {graph!r}")
        method = self.cluster_selection_method
        if method not in (None, "eom", "leaf"):
            raise InputError(f"cluster_selection_method must be 'eom', 'leaf' or None, got {method!r}")
        params = {
            "graph": graph,
            "label_sides_as_branches": bool(self.label_sides_as_branches),
            "min_branch_size": count("min_cluster_size", self.min_cluster_size, 2, allow_none=True),
            "max_branch_size": None if self.max_cluster_size is None else count("max_cluster_size", self.max_cluster_size, 0),
            "allow_single_branch": None if self.allow_single_cluster is None else bool(self.allow_single_cluster),
            "branch_selection": method,
            "branch_selection_epsilon": real("cluster_selection_epsilon", self.cluster_selection_epsilon, 0.0),
            "branch_selection_persistence": real("cluster_selection_persistence", self.cluster_selection_persistence, 0.0),
        }
        (
            self.labels_,
            self.probabilities_,
            self.cluster_labels_,
            self.cluster_probabilities_,
            self.branch_labels_,
            self.branch_probabilities_,
            self.centralities_,
        ) = model.branches(clusterer._raw_data, json.dumps(params, allow_nan=False))
        return self


def _native_model(clusterer: Any) -> Any:
    if not isinstance(clusterer, HDBSCAN):
        raise TypeError(f"expected a fitted outflow.HDBSCAN, got {type(clusterer).__name__}")
    check_fitted(clusterer, ["_model"])
    return clusterer._model


def approximate_predict(clusterer: HDBSCAN, points_to_predict: Any) -> Tuple[np.ndarray, np.ndarray]:
    """hdbscan's ``approximate_predict``: the label (−1 noise) and membership strength of each new row,
    without changing the model."""
    model = _native_model(clusterer)
    X = _predict_input(clusterer, points_to_predict)
    labels, strengths, _ = model.predict(X)
    return labels, strengths


def approximate_predict_scores(clusterer: HDBSCAN, points_to_predict: Any) -> np.ndarray:
    """hdbscan's ``approximate_predict_scores``: the GLOSH outlier score of each new row."""
    model = _native_model(clusterer)
    X = _predict_input(clusterer, points_to_predict)
    return model.predict(X)[2]


def all_points_membership_vectors(clusterer: HDBSCAN) -> np.ndarray:
    """hdbscan's ``all_points_membership_vectors``: for every training row, the probability of belonging
    to each selected cluster (rows × clusters, columns in label order; an empty second axis when no
    cluster was selected)."""
    return _native_model(clusterer).all_points_membership_vectors()


def membership_vector(clusterer: HDBSCAN, points_to_predict: Any) -> np.ndarray:
    """hdbscan's ``membership_vector``: the same for new rows."""
    model = _native_model(clusterer)
    X = _predict_input(clusterer, points_to_predict)
    return model.membership_vectors(X)


class DBSCAN(_ClusterMixin, _Base):
    """DBSCAN with scikit-learn's names; ``eps="auto"`` (the default) picks the radius from the data:
    ``median + 0.5 · std`` of every row's distance to its ``knn_k``-th nearest neighbour (the row
    itself counted as the first). ``min_samples`` counts the point itself, as scikit-learn.

    ``neighbors="approximate"`` reads each row's ε-neighbourhood from a seeded NN-descent graph of
    ``graph_neighbors`` neighbours per row (0: ``max(min_samples + 5, 15)``) instead of exact radius
    searches — for many dimensions; ``"auto"`` from 31 dimensions and 20,000 rows — deterministic for
    ``random_state`` (an int), its measured recall in ``neighbor_recall_`` (None after an exact fit).

    Attributes after ``fit``: ``labels_``, ``core_sample_indices_``, ``components_``, ``eps_`` (the
    radius used), ``neighbor_recall_``.
    """

    def __init__(
        self,
        eps: Union[float, str] = "auto",
        min_samples: int = 5,
        metric: str = "euclidean",
        knn_k: int = 4,
        neighbors: str = "exact",
        graph_neighbors: int = 0,
        random_state: Optional[int] = None,
    ) -> None:
        self.eps = eps
        self.min_samples = min_samples
        self.metric = metric
        self.knn_k = knn_k
        self.neighbors = neighbors
        self.graph_neighbors = graph_neighbors
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> "DBSCAN":
        """Clusters ``X``; ``y`` is ignored."""
        if isinstance(self.eps, str) and self.eps.lower() == "auto":
            eps: Any = {"auto": {"k": count("knn_k", self.knn_k, 1)}}
        elif isinstance(self.eps, str) or self.eps is None:
            raise InputError(f"eps must be a positive number or 'auto', got {self.eps!r}")
        else:
            eps = real("eps", self.eps, 0.0)
        params = {"eps": eps, "min_samples": count("min_samples", self.min_samples, 1), "metric": metric_name(self.metric)}
        if self.neighbors not in ("exact", "approximate", "auto"):
            raise InputError(f"neighbors must be 'exact', 'approximate' or 'auto', got {self.neighbors!r}")
        params["neighbors"] = self.neighbors
        params["graph_neighbors"] = count("graph_neighbors", self.graph_neighbors, 0)
        params["seed"] = 0 if self.random_state is None else count("random_state", self.random_state, 0)
        X = _fit_input(self, X, density=True)
        labels, used, core, recall = _outflow.dbscan_fit(X, json.dumps(params, allow_nan=False))
        self.labels_ = labels
        self.eps_ = used
        self.neighbor_recall_ = recall
        self.core_sample_indices_ = core
        self.components_ = X[core].copy()
        return self


class KMeans(_ClusterMixin, _Base):
    """k-means with scikit-learn's names and its k-means++ (greedy, ``2 + ⌊ln k⌋`` candidates).
    ``n_init="auto"`` is scikit-learn's rule (1 run, 10 with ``init="random"``). ``random_state=None``
    is seed 0: results are reproducible unless a seed or a generator is given.

    Attributes after ``fit``: ``labels_``, ``cluster_centers_``, ``inertia_``, ``n_iter_``.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        init: Union[str, np.ndarray] = "k-means++",
        n_init: Union[int, str] = 1,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
        algorithm: str = "lloyd",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm

    def _native_params(self) -> str:
        if isinstance(self.init, str):
            inits = {"k-means++": "k_means_plus_plus", "random": "random"}
            if self.init not in inits:
                raise InputError(f"init must be 'k-means++', 'random' or an array of centres, got {self.init!r}")
            init: Any = inits[self.init]
        else:
            centres = as_matrix(self.init, "init")
            if not np.all(np.isfinite(centres)):
                raise InputError("init has non-finite values")
            init = {"centres": {"v": 1, "dim": list(centres.shape), "data": centres.ravel().tolist()}}
        algorithms = {"lloyd": "lloyd", "elkan": "hamerly", "hamerly": "hamerly", "auto": "auto"}
        if self.algorithm not in algorithms:
            raise InputError(f"algorithm must be one of {', '.join(algorithms)}, got {self.algorithm!r}")
        if isinstance(self.n_init, str) and self.n_init == "auto":
            # scikit-learn's rule: one run from k-means++ or explicit centres, ten from random rows.
            n_init = 10 if init == "random" else 1
        else:
            n_init = count("n_init", self.n_init, 1)
        params = {
            "k": count("n_clusters", self.n_clusters, 1),
            "init": init,
            "n_init": n_init,
            "max_iter": count("max_iter", self.max_iter, 1),
            "tol": real("tol", self.tol, 0.0),
            "seed": seed_of(self.random_state),
            "algorithm": algorithms[self.algorithm],
        }
        return json.dumps(params, allow_nan=False)

    def fit(self, X: Any, y: Any = None) -> "KMeans":
        """Clusters ``X``; ``y`` is ignored."""
        params = self._native_params()
        X = _fit_input(self, X)
        model = _outflow.KMeansModel.fit(X, params)
        self._model = model
        self.labels_ = model.labels
        self.cluster_centers_ = model.cluster_centers
        self.inertia_ = model.inertia
        self.n_iter_ = model.n_iter
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The nearest centre of each row."""
        check_fitted(self, ["_model"])
        return self._model.predict(_predict_input(self, X))


class Ward(_ClusterMixin, _Base):
    """Ward's agglomerative clustering cut at ``n_clusters`` (scikit-learn's
    ``AgglomerativeClustering(linkage="ward")``). ``sample_size`` builds the tree on a seeded sample
    and gives every other row the label of the nearest cluster centroid, for large inputs
    (``random_state=None`` is seed 0).

    Attribute after ``fit``: ``labels_``.
    """

    def __init__(self, n_clusters: int = 2, sample_size: Optional[int] = None, random_state: Any = None) -> None:
        self.n_clusters = n_clusters
        self.sample_size = sample_size
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> "Ward":
        """Clusters ``X``; ``y`` is ignored."""
        params = {
            "k": count("n_clusters", self.n_clusters, 1),
            "sample_size": count("sample_size", self.sample_size, 2, allow_none=True),
            "seed": seed_of(self.random_state),
        }
        X = _fit_input(self, X)
        self.labels_ = _outflow.ward_fit(X, json.dumps(params, allow_nan=False))
        return self
