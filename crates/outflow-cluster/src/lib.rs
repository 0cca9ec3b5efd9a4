//! # outflow-cluster
//!
//! Exact, fast density-based clustering for network-flow features.
//!
//! **HDBSCAN** ([`HdbscanParams`] → [`Hdbscan`]) follows the `hdbscan` package (McInnes, Healy &
//! Astels) step by step — core distances, the *exact* mutual-reachability minimum spanning tree,
//! single-linkage and condensed trees, stability, excess-of-mass / leaf selection,
//! `cluster_selection_epsilon`, `allow_single_cluster`, `max_cluster_size` (scikit-learn's and hdbscan's
//! rule: a cluster above it is never selected, its selected descendants are), hdbscan's
//! `cluster_selection_epsilon_max` (the same for clusters born above a distance), labels, membership
//! probabilities, GLOSH outlier scores, cluster persistence, exemplars, soft clustering (membership
//! vectors), the DBSCAN* clustering at any cut of the single-linkage tree (`dbscan_clustering`), `alpha`,
//! fast_hdbscan's `cluster_selection_persistence`, sample weights and semi-supervised selection from
//! partial labels ([`HdbscanParams::fit_with`]), every metric of [`Metric`] including haversine and a
//! precomputed distance matrix, dense or sparse (a neighbour graph, [`SparseDistances`]), branches within
//! clusters (FLASC, [`Hdbscan::branches`]) — and predicts new points with `approximate_predict` semantics.
//!
//! ## Options compared with the other implementations
//! From their documentation and source; each ✔ of Outflow's column has a parity test against the
//! implementation named in brackets (`tests/parity_hdbscan*.rs`, fixtures from `tools/reference/`).
//!
//! | option | hdbscan 0.8 | fast_hdbscan | scikit-learn | cuML | Outflow |
//! |---|---|---|---|---|---|
//! | `max_cluster_size` | ✔ | ✔ | ✔ | ✔ | ✔ (scikit-learn, hdbscan) |
//! | `cluster_selection_epsilon_max` | ✔ | ✗ | ✗ | ✗ | ✔ (hdbscan) |
//! | `alpha` | ✔ | ✗ | ✔ | ✔ | ✔ (hdbscan `generic`, scikit-learn's tree paths) |
//! | precomputed distances | ✔ | ✔ | ✔ | ✗ | dense ✔ (both; prediction from a row of distances); sparse ✔ (scikit-learn, hdbscan: [`HdbscanParams::fit_sparse`]) |
//! | `min_samples` convention switch | — | — | — | — | ✔ ([`MinSamplesConvention`]) |
//! | exemplars | ✔ | ✗ | ✗ | ✗ | ✔ (hdbscan's sets where the condensed trees agree; see below) |
//! | `dbscan_clustering(cut)` | ✔ | ✗ | ✔ | ✗ | ✔ (both, exact) |
//! | tree export (condensed, single linkage) | ✔ | ✔ | private | ✔ | ✔ (hdbscan's columns; `outflow cluster --tree`) |
//! | metrics | many | Euclidean | many | Euclidean | Euclidean, Manhattan, Chebyshev, Minkowski p, cosine, haversine, precomputed (scikit-learn, hdbscan) |
//! | sample weights | ✗ | ✔ | ✗ | ✗ | ✔ (fast_hdbscan; every metric, [`HdbscanParams::fit_weighted`]) |
//! | soft clustering | ✔ | ✗ | ✗ | ✔ | ✔ (hdbscan: `all_points_membership_vectors`, `membership_vectors`) |
//! | cluster_selection_persistence | ✗ | ✔ | ✗ | ✗ | ✔ (fast_hdbscan) |
//! | branch detection (FLASC) | ✔ | ✔ | ✗ | ✗ | ✔ (hdbscan's `hdbscan.branches`, both graphs; [`Hdbscan::branches`]) |
//! | semi-supervised | ✗ | ✔ | ✗ | ✗ | ✔ (fast_hdbscan's HDBSCAN*(BC), both variants; [`HdbscanParams::fit_semi_supervised`]) |
//!
//! Where tied edges make a point a bridge between two sub-clusters (its core distance is the weight of the
//! split), Outflow lets it fall out of the parent at the split, as the density levels define it; hdbscan's
//! binary tree files it under one child first. The labels rarely move (one point in the fixtures), but
//! that child's size, its largest λ and so its exemplars and membership vectors can.
//!
//! Sample weights and partial labels follow fast_hdbscan's exact (Kruskal) path, except where it fails:
//! a row whose own weight reaches `min_cluster_size` stays a point of the tree (fast_hdbscan loses it
//! and can select an empty "phantom" cluster); with partial labels a tree without any split selects the
//! root under `allow_single_cluster`, as the unsupervised selection does (fast_hdbscan selects nothing);
//! every metric takes weights (fast_hdbscan: Euclidean); labels below −1 are refused (fast_hdbscan
//! treats them as unlabelled); sums of weights are in `f64` of the `f32` weights (fast_hdbscan sums
//! in `f32`: a size can differ in its last bits). fast_hdbscan's weights are not repetitions: a point
//! row counts once in its cluster's stability whatever its weight, and a zero-weight row stays in the
//! tree, so weight k is not k copies (scikit-learn's `sample_weight` contract) — core distances and
//! cluster sizes are.
//! With partial labels, leaf selection, `max_cluster_size` and `cluster_selection_epsilon_max` are
//! refused (fast_hdbscan ignores the labels or the limit silently).
//!
//! Branch detection follows hdbscan's `hdbscan.branches` (fast_hdbscan's has only the "core" graph and a
//! spanning tree that is not always minimal), with the tie rule above: the row at which two branches
//! meet falls out of their parent instead of joining one branch in sort order, so the "full" graph's
//! branches do not depend on the row order (hdbscan's move with it, to ARI 0.72–0.99 against themselves
//! on the fixtures, and can hold a branch of zero persistence).
//!
//! Sparse precomputed distances follow scikit-learn (hdbscan agrees wherever both accept an input):
//! unstored pairs are no edges, a row's core distance is its `(min_samples − 1)`-th stored distance, and
//! a row with fewer, or a graph of several components, is refused as there. fast_hdbscan instead joins
//! components and short rows by infinite edges (noise at λ = 0); Outflow refuses them with the reason.
//!
//! `alpha` is defined by hdbscan's generic and Prim paths (distances divided by alpha, core distances
//! not); hdbscan's Borůvka paths ignore it and scikit-learn's `brute` path divides the core distances
//! too (alpha then only rescales λ), so compare against those definitions.
//!
//! ```
//! use ndarray::Array2;
//! use outflow_cluster::{ClusterModel, Fit, HdbscanParams, Metric};
//! // two dense blobs and a far point
//! let mut x = Array2::<f64>::zeros((41, 2));
//! for i in 0..20 { x[[i, 0]] = (i % 5) as f64 * 0.1; x[[i, 1]] = (i / 5) as f64 * 0.1; }
//! for i in 20..40 { x[[i, 0]] = 10.0 + (i % 5) as f64 * 0.1; x[[i, 1]] = (i / 5) as f64 * 0.1; }
//! x[[40, 0]] = 50.0;
//! let model = HdbscanParams::new(5).min_samples(3).metric(Metric::Euclidean).fit(x.view()).unwrap();
//! assert_eq!(model.n_clusters(), 2);
//! assert_eq!(model.labels()[40], -1);
//! let p = model.predict_one(&[10.1, 0.1]).unwrap();
//! assert_eq!(p.label, model.labels()[20]);
//! ```
//!
//! ## Conventions and deliberate differences from `hdbscan`
//! - `min_samples` counts the point itself (as scikit-learn's `HDBSCAN` and `DBSCAN`); the `hdbscan`
//!   package's `min_samples = m` is Outflow's `m + 1`. Parity fixtures are generated that way. Set
//!   [`MinSamplesConvention::Hdbscan`] (`--min-samples-convention hdbscan`) to give `min_samples` as the
//!   `hdbscan` package counts it, so that a comparison is right by construction.
//! - The MST is always exact (`hdbscan` defaults to an approximate one).
//! - Zero mutual-reachability distances (≥ `min_samples` exact duplicates) would give λ = ∞: `hdbscan`
//!   then reports infinite stabilities and NaN GLOSH scores (its issue #94). Outflow gives zero distances
//!   the smallest positive distance of the tree, so every λ, stability and score is finite; on data
//!   without such duplicates nothing changes.
//! - Components joined at exactly the same mutual-reachability distance are merged at once (one tree
//!   node with all of them as children) instead of pairwise in the order an MST happens to list its
//!   equal-weight edges. The `hdbscan` package's result depends on that order (an unstable quicksort):
//!   reversing it moves hdbscan's own labels by up to ARI 0.08 on tie-heavy data. Outflow's clustering is
//!   therefore independent of the row order; without ties both trees are the same. Ties are frequent in
//!   flow data (counts, duplicates) and in mutual reachability itself (weights are often core distances).
//! - Prediction uses the core distances of the fit; `hdbscan`'s `PredictionData` recomputes them with one
//!   neighbour fewer. Predicted outlier scores are clamped to `[0, 1]`.
//! - With `alpha ≠ 1` prediction divides a new point's distances by alpha, as the fit does;
//!   `hdbscan`'s `approximate_predict` ignores alpha, so a training point predicted there can land
//!   elsewhere than its fitted label.
//!
//! ## How the MST is computed
//! By parallel Borůvka over our own kd-tree (see [`MstAlgorithm`] and the `kdtree` module for why we do
//! not use a kd-tree crate), with Prim's O(n²) algorithm for the metrics without a kd-tree (cosine, Minkowski with p ∉ {1, 2, ∞},
//! haversine; on the unique rows, so geolocated flows cost the number of distinct places) and very high
//! dimensions. Results do
//! not depend on the number of threads. In many dimensions nearly all of the time is the exact
//! k-nearest-neighbour search: within a Gaussian cluster in 32 dimensions no tree bound prunes, so it is
//! a brute-force scan of the cluster. There, [`Neighbors::Approximate`] (opt in) finds neighbours on an
//! NN-descent graph instead (the `nndescent` module; our own: the Rust approximate-neighbour crates build
//! HNSW indexes whose parallel construction depends on thread timing) and builds the MST from its
//! edges: 5–9× faster than the exact fit at 32 and 64 dimensions with ARI ≥ 0.998 against it, and its
//! recall reported. Timings against hdbscan and fast_hdbscan are in the README
//! (`benches/scripts/hdbscan_vs_python.py`, `benches/scripts/hdbscan_approximate.py`).
//!
//! ## DBSCAN, k-means and Ward
//! The same trait family ([`Fit`] → [`ClusterModel`], [`Predict`]) fronts three more algorithms, each at
//! scikit-learn parity (fixtures from `tools/reference/cluster_sklearn_reference.py`):
//!
//! ```
//! use ndarray::array;
//! use outflow_cluster::{ClusterModel, DbscanParams, Fit, KMeansParams, Predict, WardParams};
//! let x = array![[0.0, 0.0], [0.0, 0.5], [0.5, 0.0], [9.0, 9.0], [9.0, 9.5], [9.5, 9.0], [30.0, 0.0]];
//! fn labels<P: Fit<Fitted: ClusterModel>>(p: P, x: ndarray::ArrayView2<'_, f64>) -> Vec<i64> {
//!     p.fit(x).unwrap().labels().to_vec() // swap algorithms without rewriting code
//! }
//! assert_eq!(labels(DbscanParams::new(1.0, 3), x.view()), [0, 0, 0, 1, 1, 1, -1]);
//! assert_eq!(labels(WardParams::new(3), x.view()), [0, 0, 0, 1, 1, 1, 2]);
//! let km = KMeansParams::new(3).seed(1).n_init(4).fit(x.view()).unwrap();
//! assert_eq!(km.predict(array![[8.0, 8.0]].view()).unwrap()[0], km.labels()[3]);
//! ```
//!
//! **DBSCAN** ([`DbscanParams`] → [`Dbscan`]): labels identical to scikit-learn's `DBSCAN` — the same
//! core points (`min_samples` counts the point itself; distances `≤ eps`, compared as scikit-learn's
//! kd-tree does), clusters numbered in the order of their smallest core row, and a border point within
//! `eps` of several clusters labelled with the smallest of them (the first cluster scikit-learn's
//! index-ordered growth reaches it from). `eps` is given or [`Eps::Auto`]: by default median +
//! 0.5·std of every row's distance to its 4th nearest row — *the row itself counted*, as
//! `NearestNeighbors(4).kneighbors(X)[0][:, 3]` does ([`KnnEps`], [`EpsRule`] make k and the formula
//! configurable). A centroid false-positive filter (anomalies near a cluster centre are not reported) is an option that leaves the labels alone and
//! fills [`Dbscan::anomalies`]. Neighbourhoods are never materialised: three parallel passes of kd-tree
//! radius queries (core counts with early exit, lock-free union–find of core pairs with whole ε-cliques
//! of cores merged at once, smallest neighbouring cluster of the other points); duplicate rows are
//! weighted points. scikit-learn has no `predict`; [`Dbscan`]'s gives a new point the smallest label
//! among the core points within `eps` (how border points are labelled), else −1. In many dimensions,
//! where radius queries prune little, [`Neighbors::Approximate`] reads the ε-neighbourhoods from the
//! NN-descent graph instead (a point sees at most `graph_neighbors` of them; its recall reported in
//! [`Dbscan::neighbor_recall`]).
//!
//! **k-means** ([`KMeansParams`] → [`KMeans`]): scikit-learn's greedy k-means++ (`2 + ⌊ln k⌋` trials
//! sampled ∝ D²), Lloyd iterations with scikit-learn's rules (tolerance × mean feature variance, strict
//! convergence, labels recomputed after a tolerance stop, empty clusters re-seeded with the farthest
//! point), `n_init` runs (lowest inertia wins), seeded ChaCha8 streams (run `r` uses stream `r`), explicit
//! initial centres. [`KMeansAlgorithm::Hamerly`] (the default) skips distance evaluations with bounds
//! that keep a rounding margin, so it produces exactly Lloyd's iterates, only faster. The runs advance
//! in lockstep, so one pass over the data serves all of them; k-means++ prunes candidates by the
//! triangle inequality and hands Hamerly its initial bounds.
//!
//! **Ward** ([`WardParams`] → [`Ward`]): exact Ward linkage by the nearest-neighbour chain on centroids
//! and sizes — O(n²·d) time, O(n·d) memory, no distance matrix — producing SciPy's linkage matrix
//! ([`Ward::linkage_matrix`], Ward distances as `scipy.cluster.hierarchy.ward` and
//! `AgglomerativeClustering(compute_distances=True)` report them), cut into `k` clusters numbered by
//! their smallest row. For large inputs [`WardParams::sample_size`] fits on a seeded sample and gives
//! every other row the nearest cluster centroid; [`Predict`] is the
//! nearest centroid.

#![warn(missing_docs)]

mod algorithm;

mod dbscan;
mod dedup;
mod error;
mod hdbscan;
mod input;
mod kdtree;
mod kmeans;
mod metric;
mod neighbors;
mod nndescent;
mod simd;
mod traits;
mod ward;

pub use crate::algorithm::{Algorithm, Membership, Model};
pub use crate::dbscan::{CentroidFilter, Dbscan, DbscanParams, Eps, EpsRule, KnnEps};
pub use crate::error::{ClusterError, Result};
pub use crate::hdbscan::{
    APPROXIMATE_MIN_DIM, APPROXIMATE_MIN_ROWS, BORUVKA_MAX_DIM, BranchGraph, BranchParams, Branches, ClusterBranches,
    Hdbscan, HdbscanParams, MinSamplesConvention, MstAlgorithm, MstEdge, MutualReachability, Neighbors, Prediction,
    SemiSupervised, SparseDistances, auto_leaf_size, stages,
};
pub use outflow_core::InputError;

pub use crate::hdbscan::tree::{ClusterSelection, CondensedTree, Merge, SingleLinkageTree};
pub use crate::kmeans::{KMeans, KMeansAlgorithm, KMeansInit, KMeansParams, kmeans_plusplus};
pub use crate::metric::Metric;
pub use crate::neighbors::NearestNeighbors;
pub use crate::traits::ClusterModel;
pub use crate::ward::{LinkageStep, Ward, WardParams};
pub use outflow_core::{Fit, Predict, ScoreSamples};
