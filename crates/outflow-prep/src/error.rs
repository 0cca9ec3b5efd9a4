//! Typed errors of the preparation pipeline.

use outflow_io::{DataType, IoError};

/// Result alias of this crate.
pub type Result<T, E = PrepError> = std::result::Result<T, E>;

/// Errors of `outflow-prep`. No input makes the pipeline panic; every refusal is one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepError {
    /// A parameter is out of range or contradicts another.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The table (or matrix) to fit on has no rows.
    #[error("cannot fit on an empty table")]
    EmptyInput,
    /// Fitting needs more rows than there are (e.g. a variance needs two).
    #[error("{what} needs at least {needed} rows, found {found}")]
    TooFewRows {
        /// What needed them.
        what: &'static str,
        /// Rows needed.
        needed: usize,
        /// Rows available.
        found: usize,
    },
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
    /// A matrix has the wrong number of columns for a fitted transformer.
    #[error("expected {expected} columns, found {found}")]
    ShapeMismatch {
        /// Columns the fitted state was built for.
        expected: usize,
        /// Columns given.
        found: usize,
    },
    /// A matrix given to a scaler or PCA holds NaN or an infinity.
    #[error("non-finite value {value} at row {row}, column {column}")]
    NonFinite {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        column: usize,
        /// The value.
        value: f64,
    },
    /// Two features would get the same name (e.g. a one-hot column clashing with an input column).
    #[error("duplicate feature name '{0}'")]
    DuplicateFeature(String),
    /// The linear-algebra backend failed to converge.
    #[error("linear algebra failed: {0}")]
    Linalg(String),
    /// A table operation of `outflow-io` failed.
    #[error(transparent)]
    Io(#[from] IoError),
}

impl PrepError {
    pub(crate) fn config(msg: impl Into<String>) -> Self {
        PrepError::InvalidConfig(msg.into())
    }
}
