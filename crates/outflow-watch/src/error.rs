//! The errors of a watch.

/// Result alias of this crate.
pub type Result<T, E = WatchError> = std::result::Result<T, E>;

/// Why a watch could not start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The followed file or directory cannot be read.
    #[error("{0}")]
    Source(String),
    /// The checkpoint cannot be read or written.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Alerts cannot be delivered (the alert file cannot be written).
    #[error("{0}")]
    Sink(String),
    /// A parameter is not usable.
    #[error("{name}: {message}")]
    Param {
        /// The option.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The model refused the flows.
    #[error(transparent)]
    Model(#[from] outflow::OutflowError),
}
