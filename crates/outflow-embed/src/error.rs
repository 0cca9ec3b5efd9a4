//! Typed errors of `outflow-embed`. No input makes an embedding panic; every refusal is one of these.

use outflow_core::InputError;
use thiserror::Error;

/// Result alias of this crate.
pub type Result<T, E = EmbedError> = std::result::Result<T, E>;

/// Errors of the embeddings and their quality measures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// Bad input or parameters: an empty or non-finite matrix, too few rows for a perplexity or a
    /// neighbourhood, an invalid parameter.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The optimisation left finite numbers.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// An error of the nearest-neighbour search.
    #[error(transparent)]
    Cluster(#[from] outflow_cluster::ClusterError),
    /// An error of the PCA start.
    #[error(transparent)]
    Prep(#[from] outflow_prep::PrepError),
}
