//! The error type of the crate.

use outflow_core::InputError;
use thiserror::Error;

/// Everything that can go wrong while fitting, explaining or profiling.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// Bad input or parameters: an empty or non-finite matrix, labels or scores not one per row, a
    /// matrix of another width than the model's, an invalid parameter.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A surrogate needs at least two classes to explain anything.
    #[error("the labels hold a single class ({class}); a surrogate needs at least two")]
    SingleClass {
        /// The only label value.
        class: i64,
    },
    /// A column cannot be used the way it was asked for (non-integer labels, a non-finite value, ...).
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
pub type Result<T, E = ExplainError> = std::result::Result<T, E>;

impl ExplainError {
    pub(crate) fn param(name: &str, reason: impl Into<String>) -> Self {
        ExplainError::Input(InputError::param(name, reason))
    }

    /// A non-finite value in a named column.
    pub(crate) fn non_finite(column: &str, row: usize, value: f64) -> Self {
        ExplainError::BadColumn {
            name: column.to_owned(),
            reason: format!("missing or non-finite value {value} at row {row}"),
        }
    }
}
