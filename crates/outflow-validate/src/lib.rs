//! # outflow-validate
//!
//! Internal validation of clusterings of network-flow features — silhouette, Davies–Bouldin,
//! Calinski–Harabasz, DBCV and clustering tendency, computed exactly, with one set of conventions, and fast:
//!
//! | index | function | reference it matches |
//! |---|---|---|
//! | silhouette (mean, per point, per cluster) | [`silhouette`], [`silhouette_score`], [`silhouette_samples`] | scikit-learn `silhouette_score` / `silhouette_samples` |
//! | Davies–Bouldin | [`davies_bouldin`] | scikit-learn `davies_bouldin_score` |
//! | Calinski–Harabasz | [`calinski_harabasz`] | scikit-learn `calinski_harabasz_score` |
//! | DBCV (Moulavi et al. 2014) | [`dbcv`] | `hdbscan.validity.validity_index` |
//! | HDBSCAN relative validity | [`relative_validity`] | hdbscan's `HDBSCAN.relative_validity_` |
//! | Hopkins statistic | [`hopkins`] | Hopkins & Skellam (exponent d) |
//! | inertia / silhouette / gap statistic per k | [`k_table`] | Tibshirani, Walther & Hastie 2001 |
//! | pairwise-distance summary | [`distance_summary`] | — |
//! | several indices at once | [`evaluate`] | — |
//!
//! ```
//! use ndarray::array;
//! use outflow_cluster::Metric;
//! use outflow_validate::{calinski_harabasz, davies_bouldin, dbcv, silhouette_score};
//! let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [9.0, 9.0], [9.0, 10.0], [10.0, 9.0], [50.0, 0.0]];
//! let labels = [0, 0, 0, 1, 1, 1, -1]; // the last row is noise
//! assert!(silhouette_score(x.view(), &labels).unwrap() > 0.8);
//! let db = davies_bouldin(x.view(), &labels).unwrap();
//! assert_eq!((db.n_clusters, db.n_points, db.n_noise), (2, 6, 1));
//! assert!((db.coverage - 6.0 / 7.0).abs() < 1e-12);
//! assert!(calinski_harabasz(x.view(), &labels).unwrap().value > 100.0);
//! assert!(dbcv(x.view(), &labels, Metric::Euclidean).unwrap().value > 0.5);
//! ```
//!
//! ## Conventions (where the references disagree)
//! - **Noise**: every negative label (−1 by convention) is noise. scikit-learn's silhouette,
//!   Davies–Bouldin and Calinski–Harabasz would treat −1 as one more cluster; Outflow removes noise
//!   first, computes the scikit-learn definition on the rest, and reports the `coverage` (fraction of rows
//!   that are not noise) with every [`Score`]. They need `2 ≤ clusters ≤ points − 1` (scikit-learn's rule)
//!   after removing noise. DBCV keeps noise out of every cluster but counts it in `N` (hdbscan's
//!   convention), so noise lowers DBCV.
//! - **Silhouette**: `a` is the mean distance to the other `n_c − 1` points of the own cluster, a point
//!   alone in its cluster scores 0. With [`SilhouetteParams::sample_size`] a seeded sample of non-noise
//!   points is scored exactly (scikit-learn's `sample_size` / `random_state` semantics, Outflow's sampler:
//!   [`sample_indices`](outflow_core::sample_indices)).
//! - **Davies–Bouldin**: `s_k` = mean Euclidean distance to the centroid; zero centroid distances count as
//!   infinitely far; all `s ≈ 0` or all centroids equal → 0. **Calinski–Harabasz**: within-SS = 0 → 1.0.
//! - **DBCV**: Euclidean (not squared) distances, all-points core distances with exponent `d` = the
//!   number of features computed without overflow, hdbscan's MST tie rules — see [`dbcv`]'s module docs.
//! - **Hopkins**: ≈ 0.5 for uniform data, → 1 for clustered data (pyclustertend and R report `1 − H`),
//!   exponent `d` (the exponent-1 value is reported too).
//! - **Gap**: uniform references over the bounding box, `s_k = sd·√(1 + 1/B)`, the first `k` with
//!   `Gap(k) ≥ Gap(k+1) − s_{k+1}`. **Elbow**: max distance to the chord of the normalised `log W_k` curve.
//!
//! ## Errors, determinism, speed
//! Bad input (mismatched lengths, NaN / infinity, fewer than 2 clusters, `k` larger than the rows, …) is a
//! [`ValidateError`], never a panic. Every random choice is seeded (`ChaCha8Rng`); every parallel sum is
//! accumulated in an order fixed by constants, so results do not depend on the number of threads.
//!
//! The silhouette is O(n²·d) but never stores the distance matrix: a cache-blocked, rayon-parallel kernel
//! (AVX-512 or AVX2 + FMA chosen at run time, portable fallback) computes `‖x‖² + ‖y‖² − 2x·y` tiles in
//! registers on centred data, takes each unordered pair once (AVX-512), recomputes directly the rare
//! pairs where cancellation could cost accuracy, and adds per-cluster sums; it equals scikit-learn's
//! `silhouette_score` within 1e-9 relative (timings in the README, `benches/scripts/validate_vs_sklearn.sh`).
//! DBCV is O(Σ|C|²·d): sample large inputs.

#![warn(missing_docs)]

mod dbcv;
mod error;
mod evaluate;
mod labels;
mod scores;
mod silhouette;
mod simd;
mod tendency;

pub use crate::dbcv::{Dbcv, DbcvCluster, dbcv, relative_validity, relative_validity_from_mst};
pub use crate::error::{Result, ValidateError};
pub use crate::evaluate::{DbcvSummary, EvaluateParams, Evaluation, SilhouetteSummary, evaluate};
pub use crate::labels::Score;
pub use crate::scores::{calinski_harabasz, davies_bouldin};
pub use crate::silhouette::{
    ClusterSilhouette, Silhouette, SilhouetteParams, silhouette, silhouette_samples, silhouette_score,
};
pub use crate::tendency::{
    DistanceSummary, Hopkins, HopkinsParams, KRow, KTable, Tendency, TendencyParams, distance_summary, elbow_point,
    hopkins, k_table, tendency,
};
pub use outflow_core::InputError;
