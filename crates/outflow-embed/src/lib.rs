//! # outflow-embed
//!
//! Non-linear embeddings of flow features, for maps of a log and for clustering in fewer dimensions (a
//! detector can cluster a UMAP map and embed new flows with it):
//!
//! | embedding | module | reference |
//! |---|---|---|
//! | Barnes–Hut t-SNE | [`tsne`] | scikit-learn 1.9 `TSNE` (same parameters, defaults and optimisation) |
//! | UMAP, with `transform` for new rows | [`umap`] | umap-learn 0.5.12 `UMAP` (same parameters, defaults, graph and layout) |
//! | trustworthiness | [`trustworthiness`] | scikit-learn `manifold.trustworthiness` |
//!
//! Parameters are plain structs with `Default` and `validate()` implementing [`Fit`]; the fitted type is
//! named after the algorithm and holds the embedding. Results are deterministic for a seed and do not
//! depend on the number of threads (rayon).
//!
//! Written here rather than taken from a crate: the t-SNE crates on crates.io implement the exact
//! O(n²) method or an older Barnes–Hut without scikit-learn's schedule, and we found no UMAP crate that
//! reproduces umap-learn's fuzzy graph, defaults and `transform` — what comparing maps with the Python
//! ones researchers have, and embedding new flows in a saved model, need. The neighbour searches and the
//! PCA start reuse outflow-cluster's kd-tree and outflow-prep's PCA; the spectral start's eigenvectors
//! come from faer's dense decomposition (small graphs) or a block Krylov method written here (large ones:
//! faer has no sparse symmetric eigensolver).
//!
//! ```
//! use ndarray::Array2;
//! use outflow_embed::{Fit, TsneParams, trustworthiness};
//!
//! // Two groups of 60 rows in 5 dimensions.
//! let x = Array2::from_shape_fn((120, 5), |(i, j)| {
//!     let g = if i < 60 { 0.0 } else { 10.0 };
//!     g + ((i * 7 + j * 13) % 11) as f64 / 11.0
//! });
//! let t = TsneParams { perplexity: 10.0, ..Default::default() }.fit(x.view()).unwrap();
//! assert_eq!(t.embedding.dim(), (120, 2));
//! assert!(trustworthiness(x.view(), t.embedding.view(), 5).unwrap() > 0.9);
//!
//! // UMAP, then new rows placed in its map.
//! use outflow_embed::{Transform, UmapParams};
//! let u = UmapParams { n_neighbors: 10, seed: 7, ..Default::default() }.fit(x.view()).unwrap();
//! assert!(trustworthiness(x.view(), u.embedding.view(), 5).unwrap() > 0.9);
//! let new = u.transform(x.slice(ndarray::s![..3, ..])).unwrap();
//! assert_eq!(new.dim(), (3, 2));
//! ```

#![warn(missing_docs)]

mod error;
mod quality;
pub mod tsne;
pub mod umap;

pub use crate::error::{EmbedError, Result};
pub use crate::quality::trustworthiness;
pub use crate::tsne::{LearningRate, Tsne, TsneInit, TsneParams};
pub use crate::umap::{FuzzyGraph, Umap, UmapInit, UmapParams};
pub use outflow_cluster::Metric;
pub use outflow_core::{Fit, InputError, Transform};

/// The first `dim` principal components of `x` (outflow-prep's PCA, scikit-learn's): the PCA start of
/// t-SNE and UMAP.
pub(crate) fn pca_start(x: ndarray::ArrayView2<'_, f64>, dim: usize) -> Result<ndarray::Array2<f64>> {
    use outflow_prep::{PcaComponents, PcaParams};
    if x.ncols() < dim {
        let why = format!("init pca needs at least {dim} columns, the input has {}", x.ncols());
        return Err(InputError::param("n_components", why).into());
    }
    let pca = PcaParams { n_components: PcaComponents::Count(dim) }.fit(x)?;
    Ok(outflow_core::Transform::transform(&pca, x)?)
}
