//! What can go wrong when flows are aggregated.

use outflow_core::InputError;

/// Result alias with [`AggregateError`].
pub type Result<T, E = AggregateError> = std::result::Result<T, E>;

/// Why a flow table could not be aggregated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AggregateError {
    /// Bad parameters or an empty table.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The log has no column for a part a level needs (hosts for host and pair levels, a timestamp for
    /// time windows).
    #[error("a {role} column is needed ({candidates}); the log has none{hint}")]
    MissingColumn {
        /// The level asked for (`host`, `pair`).
        level: &'static str,
        /// The part (`source address`, `timestamp`, ...).
        role: &'static str,
        /// The names looked for.
        candidates: String,
        /// What to do instead, starting with "; " (or empty).
        hint: String,
    },
    /// A window that does not parse.
    #[error("window '{text}': {reason}")]
    Window {
        /// What was given.
        text: String,
        /// Why it is not a window.
        reason: String,
    },
    /// A network that does not parse.
    #[error("internal network '{text}': {reason}")]
    Network {
        /// What was given.
        text: String,
        /// Why it is not a network.
        reason: String,
    },
    /// A level name that is not one.
    #[error("level '{0}': expected flow, host or pair")]
    Level(String),
    /// A timestamp text that is not a date-time.
    #[error(
        "column '{column}', record {record}: '{value}' is not a timestamp (epoch seconds, \
         YYYY-MM-DD hh:mm:ss or DD/MM/YYYY hh:mm[:ss] [AM|PM])"
    )]
    Timestamp {
        /// The timestamp column.
        column: String,
        /// 1-based record of the table.
        record: usize,
        /// The text.
        value: String,
    },
    /// A later batch does not have the columns of the first one.
    #[error("batch {batch}: {reason}")]
    Batch {
        /// 1-based batch number.
        batch: usize,
        /// What differs.
        reason: String,
    },
    /// No flow had what the level needs.
    #[error("no flow could be aggregated: {0}")]
    NoFlows(String),
}
