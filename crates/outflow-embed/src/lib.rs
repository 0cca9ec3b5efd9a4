//! # outflow-embed
//!
//! Non-linear embeddings of flow features, for maps of a log and for clustering in fewer dimensions:
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
//! O(n²) method or an older Barnes–Hut without scikit-learn's schedule, so their maps are not comparable
//! with the Python ones researchers have; the neighbour search and the PCA start reuse
//! outflow-cluster's kd-tree and outflow-prep's PCA.
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
