"""Cluster validation indices, with the Rust crates' numbers. Rows labelled negative (noise) are left
out of every labelled index, as hdbscan's validity tools do; DBCV counts them in its denominator."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from . import _outflow
from ._array import as_labels, as_matrix, count, metric_name, seed_of


def _inputs(X: Any, labels: Any):
    X = as_matrix(X)
    return X, as_labels(labels, X.shape[0])


def dbcv(X: Any, labels: Any, metric: str = "euclidean") -> float:
    """Density-based clustering validation (Moulavi et al. 2014) in ``[-1, 1]``, higher is better."""
    X, labels = _inputs(X, labels)
    return _outflow.dbcv(X, labels, metric_name(metric))


def silhouette_score(X: Any, labels: Any, metric: str = "euclidean", sample_size: Optional[int] = None, random_state: Any = None) -> float:
    """Mean silhouette of the non-noise rows (scikit-learn's ``silhouette_score`` on them), exact;
    ``sample_size`` scores a seeded sample of the non-noise rows."""
    X, labels = _inputs(X, labels)
    sample_size = count("sample_size", sample_size, 2, allow_none=True)
    return _outflow.silhouette_score(X, labels, metric_name(metric), sample_size, seed_of(random_state))


def davies_bouldin_score(X: Any, labels: Any) -> float:
    """Davies–Bouldin index of the non-noise rows (scikit-learn's), lower is better."""
    X, labels = _inputs(X, labels)
    return _outflow.davies_bouldin_score(X, labels)


def calinski_harabasz_score(X: Any, labels: Any) -> float:
    """Calinski–Harabasz index of the non-noise rows (scikit-learn's), higher is better."""
    X, labels = _inputs(X, labels)
    return _outflow.calinski_harabasz_score(X, labels)


class HopkinsResult(NamedTuple):
    """The Hopkins statistic with exponent ``d`` (the number of features) and with exponent 1."""

    statistic: float
    statistic_linear: float


def hopkins(X: Any, sample_size: Optional[int] = None, random_state: Any = None) -> HopkinsResult:
    """Hopkins statistic of clustering tendency: ≈ 0.5 for uniform data, → 1 for clustered data.
    ``sample_size`` defaults to ``min(n // 10, 500)``."""
    X = as_matrix(X)
    sample_size = count("sample_size", sample_size, 1, allow_none=True)
    return HopkinsResult(*_outflow.hopkins(X, sample_size, seed_of(random_state)))
