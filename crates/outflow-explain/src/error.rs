//! The error type of the crate.

use thiserror::Error;

/// Everything that can go wrong while fitting, explaining or profiling.
#[derive(Debug, Error)]
pub enum ExplainError {
    /// Two inputs that must describe the same rows do not.
    #[error("{what} has {got} rows, expected {expected} (one per feature row)")]
    RowMismatch {
        /// What had the wrong length (e.g. "labels").
        what: String,
        /// The number of feature rows.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// The input matrix has a different number of columns than the model was fitted on.
    #[error("the model was fitted on {expected} features, the input has {got}")]
    FeatureMismatch {
        /// Features of the model.
        expected: usize,
        /// Columns of the input.
        got: usize,
    },
    /// A surrogate needs at least two classes to explain anything.
    #[error("the labels hold a single class ({class}); a surrogate needs at least two")]
    SingleClass {
        /// The only label value.
        class: i64,
    },
    /// A feature value, score or label is NaN, infinite or missing.
    #[error("non-finite or missing value {value} in {column}, row {row} (0-based)")]
    NonFinite {
        /// Column name, or `#j` for an unnamed matrix column.
        column: String,
        /// 0-based row.
        row: usize,
        /// The offending value (NaN for a missing cell).
        value: f64,
    },
    /// No rows or no features.
    #[error("empty input: {0}")]
    Empty(String),
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam {
        /// Parameter name.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A column cannot be used the way it was asked for (e.g. non-integer labels).
    #[error("column '{name}': {reason}")]
    BadColumn {
        /// Column name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tree ensemble (e.g. loaded from JSON) is structurally invalid.
    #[error("invalid tree model: {0}")]
    InvalidModel(String),
    /// Reading a table failed.
    #[error(transparent)]
    Io(#[from] outflow_io::IoError),
    /// JSON (de)serialisation failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// `Result` with [`ExplainError`].
pub type Result<T> = std::result::Result<T, ExplainError>;

impl ExplainError {
    pub(crate) fn param(name: &'static str, reason: impl Into<String>) -> Self {
        ExplainError::InvalidParam { name, reason: reason.into() }
    }
}
