//! Errors of the report.

use std::path::PathBuf;

/// What can go wrong while reading a run directory or writing its report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The run directory does not exist or is not a directory.
    #[error("{0}: not a run directory (no such directory)")]
    NotADirectory(PathBuf),
    /// A file `outflow detect` writes is missing.
    #[error("{path}: missing; is this a run directory written by `outflow detect`?")]
    MissingFile {
        /// The missing file.
        path: PathBuf,
    },
    /// A file of the run directory is there but cannot be used.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `report.html` exists and overwriting was not asked for.
    #[error("{0} exists; pass --force (or `ReportOptions::overwrite`) to replace it")]
    Exists(PathBuf),
    /// A figure could not be drawn.
    #[error("figure {figure}: {message}")]
    Plot {
        /// The figure.
        figure: String,
        /// What went wrong.
        message: String,
    },
    /// Invalid options.
    #[error("invalid option: {0}")]
    Option(String),
    /// The saved model could not be loaded.
    #[error(transparent)]
    Model(#[from] outflow::OutflowError),
    /// An OS-level I/O failure.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ReportError {
    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        ReportError::Invalid { path: path.into(), message: message.to_string() }
    }

    pub(crate) fn plot(figure: &str, message: impl std::fmt::Display) -> Self {
        ReportError::Plot { figure: figure.to_owned(), message: message.to_string() }
    }
}

/// Result alias of the report.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;
