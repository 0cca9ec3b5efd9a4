//! # outflow-outlier
//!
//! Unsupervised outlier detectors for network-flow features, their fusion, and labeled benchmarks —
//! PyOD's core detectors with PyOD's and scikit-learn's definitions, checked against them on fixtures.
//!
//! Every detector is a parameter struct (with `Default` and `validate()`) implementing
//! [`Fit`]; `fit` returns a separate, serialisable model implementing [`OutlierModel`]:
//! training scores (PyOD's `decision_scores_`), `score_samples` for new rows (higher = more
//! anomalous), PyOD's threshold `percentile(scores, 100·(1 − contamination))` and `predict`.
//!
//! | detector | module | reference |
//! |---|---|---|
//! | Isolation Forest | [`iforest`] | Liu et al. 2008 / scikit-learn (ψ = 256, 100 trees, `max_features`) |
//! | LOF, kNN distance (largest / mean / median) | [`knn`] | scikit-learn `LocalOutlierFactor`, PyOD `KNN` |
//! | CBLOF | [`cblof`] | PyOD `CBLOF` (α/β rule, `use_weights`) on outflow-cluster's k-means |
//! | ECOD, COPOD | [`ecod`] | PyOD (skewness correction included) |
//! | Gaussian mixture (full / diagonal) | [`gmm`] | scikit-learn `GaussianMixture` EM, PyOD `GMM` |
//! | PCA (PyOD's score, Mahalanobis, reconstruction) | [`pca`] | PyOD `PCA` |
//! | AutoEncoder, VAE (reconstruction error) | [`autoencoder`] | PyOD `AutoEncoder`, `VAE` |
//! | HDBSCAN GLOSH, cluster rarity | [`glosh`] | outflow-cluster's HDBSCAN |
//! | fusion (rank / z-score mean, max) | [`fusion`] | PyOD `combination` |
//!
//! [`Algorithm`] holds any of them (serde-tagged, `"iforest".parse()`), [`metrics`] has scikit-learn's
//! ROC-AUC and average precision (ties as scikit-learn) and PyOD's precision@n, and [`benchmark()`] runs
//! all detectors on a labeled flow log (`outflow benchmark`).
//!
//! ```
//! use ndarray::Array2;
//! use outflow_outlier::{Fit, IForestParams, LofParams, OutlierModel, ScoreSamples, metrics};
//!
//! // 200 rows on a grid and 4 far-away rows
//! let mut x = Array2::<f64>::zeros((204, 2));
//! for i in 0..200 {
//!     x[[i, 0]] = (i % 20) as f64;
//!     x[[i, 1]] = (i / 20) as f64;
//! }
//! for (k, i) in (200..204).enumerate() {
//!     x[[i, 0]] = 60.0 + 10.0 * k as f64;
//!     x[[i, 1]] = -30.0;
//! }
//! let y: Vec<bool> = (0..204).map(|i| i >= 200).collect();
//!
//! let forest = IForestParams { seed: 42, ..Default::default() }.fit(x.view()).unwrap();
//! assert!(metrics::roc_auc(&y, forest.training_scores()).unwrap() > 0.99);
//! let flags = forest.training_labels(0.02).unwrap(); // the top 2 % of the training scores
//! assert!(flags[200..].iter().all(|&f| f));
//!
//! let lof = LofParams::default().fit(x.view()).unwrap();
//! let new = lof.score_samples(ndarray::array![[10.0, 5.0], [500.0, 500.0]].view()).unwrap();
//! assert!(new[1] > 10.0 * new[0]);
//! ```
//!
//! Determinism: randomised detectors draw from ChaCha8 streams seeded by the parameters, parallel work
//! (rayon) is split so that every sum runs in a fixed order — results do not depend on the number of
//! threads.

#![warn(missing_docs)]

pub mod any;
pub mod autoencoder;
pub mod benchmark;
pub mod cblof;
pub mod detector;
pub mod ecod;
mod error;
pub mod fusion;
pub mod glosh;
pub mod gmm;
pub mod iforest;
pub mod knn;
pub mod metrics;
pub mod pca;

pub use crate::any::{Algorithm, Model};
pub use crate::autoencoder::{Activation, AutoEncoder, AutoEncoderParams, Vae, VaeParams};
pub use crate::benchmark::{
    BenchmarkParams, BenchmarkReport, ClassSpec, DetectorResult, LabelRule, LabeledMatrix, benchmark, prepare_labeled,
};
pub use crate::cblof::{Cblof, CblofParams};
pub use crate::detector::{OutlierModel, check_contamination, contamination_threshold};
pub use crate::ecod::{Copod, CopodParams, EcdfKind, Ecdfs, Ecod, EcodParams};
pub use crate::error::{OutlierError, Result};
pub use crate::fusion::{Fusion, FusionMethod, FusionParams, MemberStats, ScoreFusion};
pub use crate::glosh::{HdbscanOutlier, HdbscanOutlierParams, HdbscanScore};
pub use crate::gmm::{CovarianceType, Gmm, GmmInit, GmmParams};
pub use crate::iforest::{IForest, IForestParams, MaxSamples};
pub use crate::knn::{Knn, KnnMethod, KnnParams, Lof, LofParams};
pub use crate::pca::{Pca, PcaParams, PcaScore};
pub use outflow_core::{Fit, InputError, ScoreSamples};
