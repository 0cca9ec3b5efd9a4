//! Typed errors of the preparation pipeline.

use outflow_core::InputError;
use outflow_io::{DataType, IoError};

/// Result alias of this crate.
pub type Result<T, E = PrepError> = std::result::Result<T, E>;

/// Errors of `outflow-prep`. No input makes the pipeline panic; every refusal is one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepError {
    /// Bad input or parameters: an empty table or matrix, a non-finite value, a wrong width, too few
    /// rows, an invalid parameter.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Cleaning removed every row; `summary` says which step removed how many.
    #[error("no rows left after cleaning {input} rows ({summary})")]
    NoRowsLeft {
        /// Rows in the input.
        input: usize,
        /// Rows removed per step and column, e.g. `missing: 'duration' 12`.
        summary: String,
    },
    /// No usable feature column is left.
    #[error("no features left: {0}")]
    NoFeatures(String),
    /// A column needed at transform time is absent.
    #[error("no column named '{name}' (it was used when the preparation was fitted)")]
    MissingColumn {
        /// The column name.
        name: String,
    },
    /// A column has a type other than the one seen at fit time.
    #[error("column '{name}' is {found}, expected {expected}")]
    WrongType {
        /// The column name.
        name: String,
        /// What the fitted preparation needs.
        expected: &'static str,
        /// What the table holds.
        found: DataType,
    },
    /// Two features would get the same name (e.g. a one-hot column clashing with an input column).
    #[error("duplicate feature name '{0}'")]
    DuplicateFeature(String),
    /// A saved preparation is inconsistent (corrupt or edited by hand).
    #[error("corrupt fitted preparation: {0}")]
    Corrupt(String),
    /// The linear-algebra backend failed to converge.
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    /// A table operation of `outflow-io` failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl PrepError {
    pub(crate) fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        PrepError::Input(InputError::param(name, reason))
    }
}
