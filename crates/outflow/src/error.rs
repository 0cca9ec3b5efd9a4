//! Errors of the facade: each lower crate's error in its own variant, plus model-file problems. Nothing
//! is turned into a string to be parsed again: a caller (the service, the command) matches on variants.

use std::path::PathBuf;

use outflow_core::{InputError, WriteError};

/// Errors of `outflow`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutflowError {
    /// Invalid settings of the detector, or data it cannot fit on (no rows, too few flows left).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Reading or typing the input.
    #[error(transparent)]
    Io(#[from] outflow_io::IoError),
    /// Flows could not be aggregated into hosts or pairs.
    #[error(transparent)]
    Aggregate(#[from] outflow_aggregate::AggregateError),
    /// Preparing features (including new flows that miss a column or have a wrong type).
    #[error(transparent)]
    Prep(#[from] outflow_prep::PrepError),
    /// Clustering.
    #[error(transparent)]
    Cluster(#[from] outflow_cluster::ClusterError),
    /// Validity indices.
    #[error(transparent)]
    Validate(#[from] outflow_validate::ValidateError),
    /// The embedding the clusterer is fitted on.
    #[error(transparent)]
    Embed(#[from] outflow_embed::EmbedError),
    /// One signal of the anomaly score.
    #[error("signal {signal}: {source}")]
    Signal {
        /// The signal's name (`iforest`, `pca`, ...).
        signal: String,
        /// What its detector said.
        #[source]
        source: Box<outflow_outlier::OutlierError>,
    },
    /// An outlier detector outside the anomaly score.
    #[error(transparent)]
    Outlier(#[from] outflow_outlier::OutlierError),
    /// Explaining the clustering.
    #[error(transparent)]
    Explain(#[from] outflow_explain::ExplainError),
    /// A model file is not usable.
    #[error("{path}: {source}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ArtifactError,
    },
    /// A run directory is incomplete or inconsistent.
    #[error(transparent)]
    Run(#[from] crate::run::RunDirError),
    /// A model of another level than the operation works with.
    #[error(
        "{what} works with flow-level models; this model is at the {level} level (score host and pair models with `outflow score`)"
    )]
    WrongLevel {
        /// The operation.
        what: &'static str,
        /// The model's level.
        level: outflow_aggregate::Level,
    },
    /// Writing a file failed, or it exists and replacing it was not asked for.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What is wrong with a model file's bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// Not an Outflow model file at all.
    #[error("not an Outflow model file ({0})")]
    NotAModel(&'static str),
    /// Written by a newer Outflow.
    #[error(
        "model format version {found} was written by Outflow {written_by}; this build reads up to version {supported}"
    )]
    NewerVersion {
        /// The file's format version.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
        /// The Outflow version that wrote it.
        written_by: String,
    },
    /// The header does not parse.
    #[error("unreadable header: {0}")]
    Header(String),
    /// The body is shorter or longer than the header says.
    #[error("truncated or altered: body has {found} bytes, header says {expected}")]
    Length {
        /// Bytes announced by the header.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The body's checksum does not match.
    #[error("corrupted: the body's SHA-256 does not match the header")]
    Checksum,
    /// The body does not parse as a model of its format version.
    #[error("cannot read the model body: {0}")]
    Body(String),
    /// A signing key is unusable, or the file's signature is missing or does not verify.
    #[error("signature: {0}")]
    Signature(String),
}

/// Result alias of the facade.
pub type Result<T, E = OutflowError> = std::result::Result<T, E>;
