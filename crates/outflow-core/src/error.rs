//! The input-error vocabulary every Outflow crate's error wraps.

/// Result alias with [`InputError`].
pub type Result<T, E = InputError> = std::result::Result<T, E>;

/// What is wrong with the data or the parameters given to an algorithm. Every crate's error type has a
/// variant holding one of these, so a caller can tell bad input from a failure of the algorithm the same
/// way everywhere.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A matrix without rows or columns (or a vector without values: `cols` is then 1).
    #[error("empty input: {rows} rows × {cols} columns")]
    Empty {
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
    /// A finite value too large to compute with: squared distances and variances of it overflow.
    #[error("value {value:e} at row {row}, column {col} (0-based) is beyond ±{limit:e}: its square overflows")]
    TooLarge {
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The value.
        value: f64,
        /// The largest magnitude accepted ([`crate::MAX_MAGNITUDE`]).
        limit: f64,
    },
    /// A matrix has another number of columns than the model was fitted on.
    #[error("the model was fitted on {expected} features, the input has {found}")]
    WidthMismatch {
        /// Columns expected.
        expected: usize,
        /// Columns given.
        found: usize,
    },
    /// A per-row input (labels, scores, weights) does not have one entry per row.
    #[error("{what} has {found} entries for {expected} rows")]
    LengthMismatch {
        /// What had the wrong length (e.g. `labels`).
        what: String,
        /// Rows of the data.
        expected: usize,
        /// Entries given.
        found: usize,
    },
    /// An algorithm needs more rows than there are.
    #[error("{what} needs at least {needed} rows, found {found}")]
    TooFewRows {
        /// What needs them (e.g. `PCA`, `k = 10 neighbours`).
        what: String,
        /// Rows needed.
        needed: usize,
        /// Rows available.
        found: usize,
    },
    /// A parameter is out of range or inconsistent with another one or with the data.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter, as its field is named (e.g. `min_cluster_size`, `scoring.signals`).
        name: String,
        /// Why, with the value given.
        reason: String,
    },
}

impl InputError {
    /// An [`InputError::InvalidParameter`].
    ///
    /// ```
    /// let e = outflow_core::InputError::param("k", "must be at least 1, got 0");
    /// assert_eq!(e.to_string(), "invalid parameter `k`: must be at least 1, got 0");
    /// ```
    pub fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        InputError::InvalidParameter { name: name.into(), reason: reason.into() }
    }

    /// An [`InputError::TooFewRows`].
    pub fn too_few_rows(what: impl Into<String>, needed: usize, found: usize) -> Self {
        InputError::TooFewRows { what: what.into(), needed, found }
    }

    /// An [`InputError::LengthMismatch`].
    pub fn length(what: impl Into<String>, expected: usize, found: usize) -> Self {
        InputError::LengthMismatch { what: what.into(), expected, found }
    }

    /// The same error with its row moved by `offset` (for checks run on a slice of a larger matrix).
    pub fn offset_row(self, offset: usize) -> Self {
        match self {
            InputError::NonFinite { row, col, value } => InputError::NonFinite { row: row + offset, col, value },
            InputError::TooLarge { row, col, value, limit } => {
                InputError::TooLarge { row: row + offset, col, value, limit }
            }
            e => e,
        }
    }
}
