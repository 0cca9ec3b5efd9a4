//! Typed errors of `outflow-cluster`.

use outflow_core::InputError;

/// Errors of the clustering algorithms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Bad input or parameters: an empty or non-finite matrix, a wrong width, an invalid parameter.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The model cannot do what was asked (e.g. predict without prediction data).
    #[error("{0}")]
    Unsupported(String),
}

impl ClusterError {
    pub(crate) fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        ClusterError::Input(InputError::param(name, reason))
    }
}

/// Result alias of this crate.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
