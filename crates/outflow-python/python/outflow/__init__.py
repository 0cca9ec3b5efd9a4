"""Outflow: exact, explainable density-based clustering for network flow logs.

- Clusterers with scikit-learn's estimator contract: :class:`HDBSCAN` (hdbscan's names, exact MST,
  prediction for new points with :func:`approximate_predict`), :class:`DBSCAN`, :class:`KMeans`,
  :class:`Ward`.
- Validation indices: :func:`dbcv`, :func:`silhouette_score`, :func:`davies_bouldin_score`,
  :func:`calinski_harabasz_score`, :func:`hopkins`.
- Embeddings: :class:`UMAP` (umap-learn's UMAP, same defaults, with ``transform``), :class:`TSNE`
  (scikit-learn's Barnes–Hut t-SNE, same defaults) and :func:`trustworthiness`.
- :class:`Detector`: the flow anomaly detector of the ``outflow`` command on Arrow data (pyarrow,
  pandas), reading and writing the command's model files.

The work runs in Rust with the GIL released.
"""

from ._outflow import __version__
from ._errors import InputError, ModelFileError, OutflowError
from ._cluster import (
    BranchDetector,
    DBSCAN,
    HDBSCAN,
    KMeans,
    Ward,
    all_points_membership_vectors,
    approximate_predict,
    approximate_predict_scores,
    membership_vector,
)
from ._validate import HopkinsResult, calinski_harabasz_score, davies_bouldin_score, dbcv, hopkins, silhouette_score
from ._detector import Detector, read_log, simulate_log
from ._embed import TSNE, UMAP, trustworthiness

__all__ = [
    "__version__",
    "OutflowError",
    "InputError",
    "ModelFileError",
    "HDBSCAN",
    "BranchDetector",
    "DBSCAN",
    "KMeans",
    "Ward",
    "all_points_membership_vectors",
    "approximate_predict",
    "approximate_predict_scores",
    "membership_vector",
    "dbcv",
    "silhouette_score",
    "davies_bouldin_score",
    "calinski_harabasz_score",
    "hopkins",
    "HopkinsResult",
    "TSNE",
    "UMAP",
    "trustworthiness",
    "Detector",
    "read_log",
    "simulate_log",
]
