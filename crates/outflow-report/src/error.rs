//! Errors of the report.

use std::path::PathBuf;

/// What can go wrong while reading a run directory or writing its report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// `report.html` exists and overwriting was not asked for.
    #[error("{0} exists and replacing it was not asked for")]
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
    /// The run directory could not be read (a missing or invalid file, a model that does not load).
    #[error(transparent)]
    Run(#[from] outflow::OutflowError),
    /// Writing a file failed.
    #[error(transparent)]
    Write(#[from] outflow::WriteError),
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
    pub(crate) fn plot(figure: &str, message: impl std::fmt::Display) -> Self {
        ReportError::Plot { figure: figure.to_owned(), message: message.to_string() }
    }
}

/// Result alias of the report.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;
