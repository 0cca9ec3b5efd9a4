//! Typed errors of `outflow-outlier`. No input makes a detector panic; every refusal is one of these.

use thiserror::Error;

/// Result alias of this crate.
pub type Result<T, E = OutlierError> = std::result::Result<T, E>;

/// Errors of the detectors, the fusion and the benchmark.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OutlierError {
    /// The matrix has no rows or no columns.
    #[error("empty input: {rows} rows × {cols} columns")]
    EmptyInput {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A NaN or infinite value.
    #[error("non-finite value {value} at row {row}, column {col} (0-based)")]
    NonFinite {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The value.
        value: f64,
    },
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A neighbourhood or component count needs more rows than there are (e.g. `k ≥ n`).
    #[error("{what} needs more than {needed} rows, the data have {found}")]
    TooFewRows {
        /// What needed them.
        what: String,
        /// The size asked for (k, components, ...).
        needed: usize,
        /// Rows available.
        found: usize,
    },
    /// A contamination rate outside (0, 0.5].
    #[error("contamination {0} is not in (0, 0.5]")]
    Contamination(f64),
    /// New data do not have the columns the model was fitted on.
    #[error("the model was fitted on {expected} features, the input has {found}")]
    DimensionMismatch {
        /// Features at fit time.
        expected: usize,
        /// Features given.
        found: usize,
    },
    /// A numerical step failed (e.g. a covariance that is not positive definite).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// Labels or scores do not fit together (lengths, a single class, an unknown column).
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
    pub(crate) fn param(msg: impl Into<String>) -> Self {
        OutlierError::InvalidParameter(msg.into())
    }
}
