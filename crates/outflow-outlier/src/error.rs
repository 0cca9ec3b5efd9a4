//! Typed errors of `outflow-outlier`. No input makes a detector panic; every refusal is one of these.

use outflow_core::InputError;
use thiserror::Error;

/// Result alias of this crate.
pub type Result<T, E = OutlierError> = std::result::Result<T, E>;

/// Errors of the detectors, the fusion and the benchmark.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OutlierError {
    /// Bad input or parameters: an empty or non-finite matrix, a wrong width, too few rows for a
    /// neighbourhood or a component count, a contamination rate outside (0, 0.5], an invalid parameter.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A numerical step failed (e.g. a covariance that is not positive definite).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// Labels do not fit the data: a single class, an unknown label column or value.
    #[error("labels: {0}")]
    Labels(String),
    /// An error of the clustering crate (HDBSCAN, k-means, nearest neighbours).
    #[error(transparent)]
    Cluster(#[from] outflow_cluster::ClusterError),
    /// An error of the preparation pipeline.
    #[error(transparent)]
    Prep(#[from] outflow_prep::PrepError),
    /// An error reading a flow log.
    #[error(transparent)]
    Io(#[from] outflow_io::IoError),
}

impl OutlierError {
    pub(crate) fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        OutlierError::Input(InputError::param(name, reason))
    }
}
