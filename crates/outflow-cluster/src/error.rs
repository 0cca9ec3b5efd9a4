//! Typed errors of `outflow-cluster`.

/// Errors of the clustering algorithms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The input has no rows (or no columns).
    #[error("empty input: {0}")]
    EmptyInput(String),
    /// A NaN or infinite value.
    #[error("non-finite value at row {row}, column {col}")]
    NonFinite {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
    },
    /// A parameter is out of range or inconsistent with the data.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// New data do not match the fitted model.
    #[error("dimension mismatch: model has {expected} features, input has {found}")]
    DimensionMismatch {
        /// Features at fit time.
        expected: usize,
        /// Features given.
        found: usize,
    },
    /// The model cannot do what was asked (e.g. predict without prediction data).
    #[error("{0}")]
    Unsupported(String),
}

/// Result alias of this crate.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
