//! Typed errors of `outflow-validate`.

use outflow_cluster::ClusterError;
use outflow_core::InputError;

/// Why an index could not be computed. No function of this crate panics on bad input: it returns one
/// of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// Bad input or parameters: an empty or non-finite matrix, labels not one per row, an invalid
    /// parameter.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Fewer than two clusters once noise (negative labels) is removed.
    #[error("need at least 2 clusters (noise excluded), found {found}")]
    TooFewClusters {
        /// Clusters found.
        found: usize,
    },
    /// As many clusters as scored points (scikit-learn requires `2 ≤ clusters ≤ points − 1`).
    #[error("{clusters} clusters for {points} scored points: need at most points − 1 clusters")]
    TooManyClusters {
        /// Clusters found.
        clusters: usize,
        /// Points scored (noise excluded).
        points: usize,
    },
    /// DBCV is undefined for a one-point cluster (no all-points core distance, no spanning tree).
    #[error("cluster {label} has a single point: DBCV needs clusters of at least 2 points")]
    SingletonCluster {
        /// The cluster's label.
        label: i64,
    },
    /// The statistic is undefined on these data (e.g. every row identical).
    #[error("degenerate data: {0}")]
    Degenerate(String),
    /// A clustering run (k-means for the gap statistic, …) failed.
    #[error("clustering failed: {0}")]
    Cluster(#[from] ClusterError),
}

impl ValidateError {
    pub(crate) fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        ValidateError::Input(InputError::param(name, reason))
    }
}

/// Result alias of this crate.
pub type Result<T, E = ValidateError> = std::result::Result<T, E>;
