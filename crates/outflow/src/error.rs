//! Errors of the facade: each lower crate's error, plus configuration and artifact problems.

use std::path::PathBuf;

/// Errors of `outflow`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutflowError {
    /// Reading or typing the input.
    #[error(transparent)]
    Io(#[from] outflow_io::IoError),
    /// Preparing features.
    #[error(transparent)]
    Prep(#[from] outflow_prep::PrepError),
    /// Clustering.
    #[error(transparent)]
    Cluster(#[from] outflow_cluster::ClusterError),
    /// Invalid settings.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A model could not be fitted or applied.
    #[error("model: {0}")]
    Model(String),
    /// The input has nothing to work on.
    #[error("{0}")]
    Empty(String),
    /// A model file problem.
    #[error("{path}: {message}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file exists and overwriting was not asked for.
    #[error("{0} exists; pass --force (or overwrite = true) to replace it")]
    Exists(PathBuf),
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

/// Result alias of the facade.
pub type Result<T, E = OutflowError> = std::result::Result<T, E>;
