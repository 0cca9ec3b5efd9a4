//! HDBSCAN: parameters, fitting (core distances → exact MST → trees → selection), the fitted model and
//! prediction for new points.

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::boruvka;
use crate::brute;
use outflow_core::{InputError, ScoreSamples, check_len, check_matrix, check_width};

use crate::dedup::{dedup, weighted_kth};
use crate::error::{ClusterError, Result};
use crate::input::{at_row, check_point};
use crate::kdtree::{KdTree, NONE};
use crate::metric::{Kernel, Metric, dispatch_tree};
use crate::traits::{ClusterModel, Fit, Predict};
use crate::tree::{self, ClusterSelection, CondensedTree, SingleLinkageTree};

/// How the minimum spanning tree of the mutual-reachability graph is computed. Both are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MstAlgorithm {
    /// Chosen by measurement: Borůvka over the kd-tree up to [`BORUVKA_MAX_DIM`] dimensions, Prim's
    /// O(n²) algorithm above that and for the cosine metric.
    #[default]
    Auto,
    /// Borůvka over the kd-tree (not for cosine).
    Boruvka,
    /// Prim's algorithm with on-the-fly distances: O(n²) time, O(n) memory.
    Prim,
}

/// Above this many dimensions [`MstAlgorithm::Auto`] uses Prim's algorithm (see `benches/`).
pub const BORUVKA_MAX_DIM: usize = 64;

/// HDBSCAN parameters. `min_samples` counts the point itself, as scikit-learn's `HDBSCAN` and
/// `DBSCAN` do (the `hdbscan` package does not: its `min_samples = m` equals Outflow's `m + 1`).
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, Fit, HdbscanParams};
/// let x = array![[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1],
///                [5.0, 5.0], [5.1, 5.0], [5.0, 5.1], [5.1, 5.1], [20.0, 20.0]];
/// let model = HdbscanParams::new(3).min_samples(2).fit(x.view()).unwrap();
/// assert_eq!(model.n_clusters(), 2);
/// assert_eq!(model.labels()[8], -1);
/// assert!(model.outlier_scores()[8] > model.outlier_scores()[0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HdbscanParams {
    /// Smallest group of points that counts as a cluster (≥ 2).
    pub min_cluster_size: usize,
    /// Neighbourhood size for core distances, the point itself included; `None` = `min_cluster_size`.
    pub min_samples: Option<usize>,
    /// Clusters closer than this distance are not split (0 = off).
    pub cluster_selection_epsilon: f64,
    /// Excess of mass or leaf.
    pub cluster_selection: ClusterSelection,
    /// Whether the root may be selected as the single cluster.
    pub allow_single_cluster: bool,
    /// Distance metric.
    pub metric: Metric,
    /// MST strategy.
    pub mst_algorithm: MstAlgorithm,
    /// Points per kd-tree leaf; 0 (the default) chooses by dimension (see [`auto_leaf_size`]).
    pub leaf_size: usize,
}

impl Default for HdbscanParams {
    fn default() -> Self {
        HdbscanParams {
            min_cluster_size: 5,
            min_samples: None,
            cluster_selection_epsilon: 0.0,
            cluster_selection: ClusterSelection::Eom,
            allow_single_cluster: false,
            metric: Metric::Euclidean,
            mst_algorithm: MstAlgorithm::Auto,
            leaf_size: 0,
        }
    }
}

impl HdbscanParams {
    /// Defaults with the given minimum cluster size.
    pub fn new(min_cluster_size: usize) -> Self {
        HdbscanParams { min_cluster_size, ..Default::default() }
    }

    /// Sets `min_samples` (the point itself included).
    pub fn min_samples(mut self, m: usize) -> Self {
        self.min_samples = Some(m);
        self
    }

    /// Sets `cluster_selection_epsilon`.
    pub fn cluster_selection_epsilon(mut self, eps: f64) -> Self {
        self.cluster_selection_epsilon = eps;
        self
    }

    /// Sets `cluster_selection` (excess of mass or leaf).
    pub fn cluster_selection(mut self, s: ClusterSelection) -> Self {
        self.cluster_selection = s;
        self
    }

    /// Sets `leaf_size` (0 chooses by dimension).
    pub fn leaf_size(mut self, n: usize) -> Self {
        self.leaf_size = n;
        self
    }

    /// Sets the metric.
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }

    /// Allows a single cluster.
    pub fn allow_single_cluster(mut self, yes: bool) -> Self {
        self.allow_single_cluster = yes;
        self
    }

    /// Sets the MST strategy.
    pub fn mst_algorithm(mut self, a: MstAlgorithm) -> Self {
        self.mst_algorithm = a;
        self
    }

    /// The effective `min_samples`.
    pub fn effective_min_samples(&self) -> usize {
        self.min_samples.unwrap_or(self.min_cluster_size)
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        if self.min_cluster_size < 2 {
            return bad("min_cluster_size", format!("must be at least 2, got {}", self.min_cluster_size));
        }
        if self.min_samples == Some(0) {
            return bad("min_samples", "must be at least 1".into());
        }
        if !(self.cluster_selection_epsilon >= 0.0 && self.cluster_selection_epsilon.is_finite()) {
            return bad(
                "cluster_selection_epsilon",
                format!("must be finite and ≥ 0, got {}", self.cluster_selection_epsilon),
            );
        }
        if self.metric == Metric::Cosine && self.mst_algorithm == MstAlgorithm::Boruvka {
            return bad(
                "mst_algorithm",
                "the kd-tree Borůvka MST needs a true metric; use prim (or auto) for cosine".into(),
            );
        }
        Ok(())
    }

    fn validate_for(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        let n = x.nrows();
        if n < self.min_cluster_size {
            let what = format!("HDBSCAN with min_cluster_size = {}", self.min_cluster_size);
            return Err(InputError::too_few_rows(what, self.min_cluster_size, n).into());
        }
        check_min_samples(self.effective_min_samples(), n)
    }

    fn use_prim(&self, dim: usize) -> bool {
        match self.mst_algorithm {
            MstAlgorithm::Prim => true,
            MstAlgorithm::Boruvka => false,
            MstAlgorithm::Auto => self.metric == Metric::Cosine || dim > BORUVKA_MAX_DIM,
        }
    }
}

/// Fails when `min_samples` (the point itself counted) exceeds the rows.
fn check_min_samples(min_samples: usize, n: usize) -> Result<()> {
    if min_samples > n {
        return Err(InputError::too_few_rows(format!("min_samples = {min_samples}"), min_samples, n).into());
    }
    Ok(())
}

/// An edge of the mutual-reachability minimum spanning tree (original row indices).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MstEdge {
    /// One end.
    pub a: usize,
    /// Other end.
    pub b: usize,
    /// Mutual-reachability distance `max(core(a), core(b), d(a, b))`.
    pub distance: f64,
}

/// A fitted HDBSCAN model: the flat clustering, GLOSH scores, the trees, and what prediction needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hdbscan {
    params: HdbscanParams,
    #[serde(with = "outflow_core::codec::i64s")]
    labels: Vec<i64>,
    #[serde(with = "outflow_core::codec::f64s")]
    probabilities: Vec<f64>,
    #[serde(with = "outflow_core::codec::f64s")]
    outlier_scores: Vec<f64>,
    persistence: Vec<f64>,
    #[serde(with = "outflow_core::codec::f64s")]
    core_distances: Vec<f64>,
    /// Empty after [`Hdbscan::slim`].
    mst: Vec<MstEdge>,
    single_linkage: SingleLinkageTree,
    condensed: CondensedTree,
    /// Selected cluster ids of the condensed tree, ascending (label k ↔ `selected[k]`).
    selected: Vec<usize>,
    /// Training rows (deduplicated), kept for prediction.
    points: Points,
    n_features: usize,
    /// Lookup tables for prediction, built on first use (also after deserialisation).
    #[serde(skip)]
    derived: OnceLock<Derived>,
}

impl PartialEq for Hdbscan {
    fn eq(&self, o: &Self) -> bool {
        self.params == o.params
            && self.labels == o.labels
            && self.probabilities == o.probabilities
            && self.outlier_scores == o.outlier_scores
            && self.persistence == o.persistence
            && self.core_distances == o.core_distances
            && self.mst == o.mst
            && self.single_linkage == o.single_linkage
            && self.condensed == o.condensed
            && self.selected == o.selected
            && self.points == o.points
    }
}

/// Core distances and the MST for a data set (stage functions, also benchmarked separately).
pub mod stages {
    use super::*;

    /// Core distance of every row: distance to its `min_samples`-th nearest row, itself included.
    pub fn core_distances(x: ArrayView2<'_, f64>, metric: Metric, min_samples: usize) -> Result<Vec<f64>> {
        check_matrix(x)?;
        if min_samples == 0 {
            return Err(ClusterError::param("min_samples", "must be at least 1"));
        }
        check_min_samples(min_samples, x.nrows())?;
        let params = HdbscanParams { min_samples: Some(min_samples), metric, ..HdbscanParams::new(2) };
        let pts = Points::new(x);
        let core_u = if params.use_prim(x.ncols()) {
            brute::kth_distances(pts.view(), metric, min_samples, pts.weights())
        } else {
            let tree = tree_for(pts.view(), metric, params.leaf_size);
            dispatch_tree!(metric, K => tree_core::<K>(&tree, &pts, min_samples, min_samples.min(tree.n)).0)
        };
        Ok(pts.per_row(&core_u))
    }

    /// The exact mutual-reachability MST (`n − 1` edges, ascending distance) and the core distances.
    pub fn mutual_reachability_mst(x: ArrayView2<'_, f64>, params: &HdbscanParams) -> Result<(Vec<MstEdge>, Vec<f64>)> {
        params.validate()?;
        check_matrix(x)?;
        let m = params.effective_min_samples();
        check_min_samples(m, x.nrows())?;
        let pts = Points::new(x);
        let (edges, core_u) = mst_of_points(&pts, params);
        Ok((pts.expand_edges(edges, &core_u), pts.per_row(&core_u)))
    }

    /// MST between unique points (unique ids) and their core distances.
    pub(crate) fn mst_of_points(pts: &Points, params: &HdbscanParams) -> (Vec<MstEdge>, Vec<f64>) {
        let m = params.effective_min_samples();
        if params.use_prim(pts.view().ncols()) {
            let core = brute::kth_distances(pts.view(), params.metric, m, pts.weights());
            let e = brute::prim_mst(pts.view(), params.metric, &core);
            (e.into_iter().map(|(a, b, d)| MstEdge { a: a as usize, b: b as usize, distance: d }).collect(), core)
        } else {
            let tree = tree_for(pts.view(), params.metric, params.leaf_size);
            dispatch_tree!(params.metric, K => tree_mst::<K>(&tree, pts, m))
        }
    }

    /// Reduced core distances per tree position (weighted by multiplicity) and the neighbour lists.
    fn tree_core<K: Kernel>(tree: &KdTree, pts: &Points, m: usize, k: usize) -> (Vec<f64>, Vec<f64>, Vec<u32>) {
        let (dist, pos) = tree.knn_all::<K>(k);
        let core_r: Vec<f64> = (0..tree.n)
            .into_par_iter()
            .with_min_len(1024)
            .map(|p| {
                let list = dist[p * k..(p + 1) * k].iter().zip(&pos[p * k..(p + 1) * k]);
                weighted_kth(list.map(|(&d, &q)| (d, pts.weight(tree.index[q as usize] as usize))), m)
            })
            .collect();
        (to_rows(tree, &core_r, K::to_dist), dist, pos)
    }

    fn tree_mst<K: Kernel>(tree: &KdTree, pts: &Points, m: usize) -> (Vec<MstEdge>, Vec<f64>) {
        // Enough unique neighbours to reach weight m, plus a few for Borůvka's first round.
        let k = (m + 1).max(3).min(tree.n);
        let (core_u, dist, pos) = tree_core::<K>(tree, pts, m, k);
        let core_r: Vec<f64> = (0..tree.n).map(|p| K::to_rdist(core_u[tree.index[p] as usize])).collect();
        let edges = boruvka::mst::<K>(tree, &core_r, &dist, &pos, k)
            .into_iter()
            .map(|e| MstEdge {
                a: tree.index[e.a as usize] as usize,
                b: tree.index[e.b as usize] as usize,
                distance: K::to_dist(e.w),
            })
            .collect();
        (edges, core_u)
    }

    /// Values per tree position → values per point (converted with `f`).
    fn to_rows(tree: &KdTree, v: &[f64], f: fn(f64) -> f64) -> Vec<f64> {
        let mut out = vec![0.0; tree.n];
        for (p, &x) in v.iter().enumerate() {
            out[tree.index[p] as usize] = f(x);
        }
        out
    }
}

/// The kd-tree of a metric: Euclidean trees split along principal axes (see `kdtree::Rotation`).
pub(crate) fn tree_for(x: ArrayView2<'_, f64>, metric: Metric, leaf_size: usize) -> KdTree {
    let leaf_size = if leaf_size == 0 { auto_leaf_size(x.ncols()) } else { leaf_size };
    if metric == Metric::Euclidean { KdTree::build_rotated(x, leaf_size) } else { KdTree::build(x, leaf_size) }
}

/// The kd-tree leaf size used when [`HdbscanParams::leaf_size`] is 0: 64 points for 6–15 dimensions,
/// where one search per point visits many leaves and larger leaves mean fewer bounds to compute
/// (HDBSCAN on 100,000 Gaussian blobs: 0.87 → 0.78 s at 8 dimensions, 2.17 → 2.02 s at 12), else 32
/// (better at 3 dimensions, 0.49 vs 0.54 s, and for the chunked searches from 16 dimensions up).
pub fn auto_leaf_size(dim: usize) -> usize {
    if (6..crate::kdtree::BATCH_MIN_DIM).contains(&dim) { 64 } else { 32 }
}

/// The points an algorithm works on: the rows themselves, or their unique rows with multiplicities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Points {
    /// Unique rows (all rows when there are no duplicates).
    #[serde(with = "outflow_core::codec::matrix")]
    points: Array2<f64>,
    /// Multiplicity of each point (empty: all 1).
    #[serde(with = "outflow_core::codec::u32s")]
    weights: Vec<u32>,
    /// First original row of each point (empty: identity).
    #[serde(with = "outflow_core::codec::usizes")]
    first: Vec<usize>,
    /// Point of each original row (empty: identity).
    #[serde(with = "outflow_core::codec::u32s")]
    of_row: Vec<u32>,
}

impl Points {
    pub(crate) fn new(x: ArrayView2<'_, f64>) -> Points {
        match dedup(x) {
            Some(d) => Points { points: d.points, weights: d.weight, first: d.first, of_row: d.of_row },
            None => {
                Points { points: x.as_standard_layout().into_owned(), weights: vec![], first: vec![], of_row: vec![] }
            }
        }
    }

    pub(crate) fn view(&self) -> ArrayView2<'_, f64> {
        self.points.view()
    }

    pub(crate) fn len(&self) -> usize {
        self.points.nrows()
    }

    pub(crate) fn weights(&self) -> Option<&[u32]> {
        (!self.weights.is_empty()).then_some(&self.weights[..])
    }

    #[inline]
    pub(crate) fn weight(&self, u: usize) -> u32 {
        if self.weights.is_empty() { 1 } else { self.weights[u] }
    }

    /// The point of an original row.
    #[inline]
    pub(crate) fn unique_of(&self, row: usize) -> usize {
        if self.of_row.is_empty() { row } else { self.of_row[row] as usize }
    }

    #[inline]
    pub(crate) fn first_row(&self, u: usize) -> usize {
        if self.first.is_empty() { u } else { self.first[u] }
    }

    /// Per-point values → per-row values.
    pub(crate) fn per_row(&self, v: &[f64]) -> Vec<f64> {
        if self.of_row.is_empty() { v.to_vec() } else { self.of_row.iter().map(|&u| v[u as usize]).collect() }
    }

    /// Point-level MST edges → row-level MST (ascending distance): point edges join first rows, and the
    /// copies of a point join its first row at the point's core distance.
    pub(crate) fn expand_edges(&self, edges: Vec<MstEdge>, core: &[f64]) -> Vec<MstEdge> {
        let mut out: Vec<MstEdge> = edges
            .into_iter()
            .map(|e| MstEdge { a: self.first_row(e.a), b: self.first_row(e.b), distance: e.distance })
            .collect();
        for (row, &u) in self.of_row.iter().enumerate() {
            let f = self.first[u as usize];
            if f != row {
                out.push(MstEdge { a: f, b: row, distance: core[u as usize] });
            }
        }
        out.sort_by(|e, f| e.distance.total_cmp(&f.distance));
        out
    }
}

impl Fit for HdbscanParams {
    type Fitted = Hdbscan;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Hdbscan> {
        self.validate_for(x)?;
        let points = Points::new(x);
        let (edges, core_u) = stages::mst_of_points(&points, self);
        let mst = points.expand_edges(edges, &core_u);
        let core_distances = points.per_row(&core_u);
        Ok(self.finish(x, points, mst, core_distances))
    }
}

/// The mutual-reachability MST of a data set for one `metric` and `min_samples`: everything HDBSCAN
/// computes before `min_cluster_size` and the selection settings matter. Fit many of those settings
/// from one of these ([`HdbscanParams::fit_from_mst`]) — hyper-parameter search is then nearly free.
#[derive(Debug, Clone)]
pub struct MutualReachability {
    points: Points,
    mst: Vec<MstEdge>,
    core_distances: Vec<f64>,
    metric: Metric,
    min_samples: usize,
    n_features: usize,
}

impl MutualReachability {
    /// Computes the MST of `x` with the metric and effective `min_samples` of `params`.
    pub fn new(x: ArrayView2<'_, f64>, params: &HdbscanParams) -> Result<Self> {
        params.validate()?;
        check_matrix(x)?;
        let m = params.effective_min_samples();
        check_min_samples(m, x.nrows())?;
        let points = Points::new(x);
        let (edges, core_u) = stages::mst_of_points(&points, params);
        let mst = points.expand_edges(edges, &core_u);
        let core_distances = points.per_row(&core_u);
        Ok(MutualReachability {
            points,
            mst,
            core_distances,
            metric: params.metric,
            min_samples: m,
            n_features: x.ncols(),
        })
    }

    /// The MST edges, ascending distance.
    pub fn mst(&self) -> &[MstEdge] {
        &self.mst
    }
}

impl HdbscanParams {
    /// Fits from a precomputed [`MutualReachability`] of the same data; `metric` and `min_samples` must
    /// match the ones it was computed with.
    pub fn fit_from_mst(&self, x: ArrayView2<'_, f64>, mr: &MutualReachability) -> Result<Hdbscan> {
        self.validate_for(x)?;
        if self.metric != mr.metric || self.effective_min_samples() != mr.min_samples {
            return Err(ClusterError::param(
                "metric",
                format!(
                    "the MST was computed with metric {} and min_samples {}, not {} and {}",
                    mr.metric,
                    mr.min_samples,
                    self.metric,
                    self.effective_min_samples()
                ),
            ));
        }
        check_width(x.ncols(), mr.n_features)?;
        check_len("the mutual-reachability MST's rows", x.nrows(), mr.core_distances.len())?;
        Ok(self.finish(x, mr.points.clone(), mr.mst.clone(), mr.core_distances.clone()))
    }

    /// The stages after the MST: trees, selection, scores.
    fn finish(&self, x: ArrayView2<'_, f64>, points: Points, mst: Vec<MstEdge>, core_distances: Vec<f64>) -> Hdbscan {
        let n = x.nrows();
        let sorted: Vec<(usize, usize, f64)> = mst.iter().map(|e| (e.a, e.b, e.distance)).collect();
        let single_linkage = tree::single_linkage(n, &sorted);
        let condensed = tree::condense(&tree::level_tree(n, &sorted), self.min_cluster_size);
        let sel =
            tree::select(&condensed, self.cluster_selection, self.allow_single_cluster, self.cluster_selection_epsilon);
        let outlier_scores = tree::glosh(&condensed);
        Hdbscan {
            params: self.clone(),
            labels: sel.labels,
            probabilities: sel.probabilities,
            outlier_scores,
            persistence: sel.persistence,
            core_distances,
            mst,
            single_linkage,
            condensed,
            selected: sel.clusters,
            points,
            n_features: x.ncols(),
            derived: OnceLock::new(),
        }
    }
}

/// What [`Hdbscan::predict_one`] returns for a new point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Cluster label, −1 for noise.
    pub label: i64,
    /// Membership strength in `[0, 1]` (0 for noise).
    pub probability: f64,
    /// GLOSH-style outlier score in `[0, 1]` relative to the cluster the point would join.
    pub outlier_score: f64,
}

impl Hdbscan {
    /// The parameters used.
    pub fn params(&self) -> &HdbscanParams {
        &self.params
    }

    /// Membership strength of each training point (0 for noise).
    pub fn probabilities(&self) -> &[f64] {
        &self.probabilities
    }

    /// GLOSH outlier score of each training point in `[0, 1]` (higher = more outlying).
    pub fn outlier_scores(&self) -> &[f64] {
        &self.outlier_scores
    }

    /// Persistence of each cluster (hdbscan's `cluster_persistence_`).
    pub fn persistence(&self) -> &[f64] {
        &self.persistence
    }

    /// Core distance of each training point.
    pub fn core_distances(&self) -> &[f64] {
        &self.core_distances
    }

    /// The mutual-reachability MST, ascending distance (empty after [`Hdbscan::slim`]).
    pub fn mst(&self) -> &[MstEdge] {
        &self.mst
    }

    /// The single-linkage tree (empty after [`Hdbscan::slim`]).
    pub fn single_linkage_tree(&self) -> &SingleLinkageTree {
        &self.single_linkage
    }

    /// Drops the MST and the single-linkage tree, which prediction does not need (they are about half of
    /// a serialised model). Compute validity indices and plots from them first.
    pub fn slim(mut self) -> Hdbscan {
        self.mst = Vec::new();
        self.single_linkage = SingleLinkageTree { n_points: self.single_linkage.n_points, merges: Vec::new() };
        self
    }

    /// The condensed tree.
    pub fn condensed_tree(&self) -> &CondensedTree {
        &self.condensed
    }

    /// Condensed-tree ids of the selected clusters (label `k` ↔ `selected_clusters()[k]`).
    pub fn selected_clusters(&self) -> &[usize] {
        &self.selected
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| Derived::new(self))
    }

    /// The `k` nearest training points (unique rows) of `q`: (distance, point) ascending.
    fn neighbours(&self, q: &[f64], k: usize) -> Vec<(f64, usize)> {
        let metric = self.params.metric;
        match &self.derived().index {
            Some(t) => {
                let (mut d, mut p) = (vec![0.0; k], vec![0u32; k]);
                dispatch_tree!(metric, K => t.knn::<K>(q, &mut d, &mut p));
                d.iter()
                    .zip(&p)
                    .filter(|(_, p)| **p != NONE)
                    .map(|(&r, &p)| {
                        let dist = if metric == Metric::Euclidean { r.sqrt() } else { r };
                        (dist, t.index[p as usize] as usize)
                    })
                    .collect()
            }
            None => {
                let pts = self.points.view();
                let mut all: Vec<(f64, usize)> = pts
                    .rows()
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (metric.distance(q, r.as_slice().expect("owned standard layout")), i))
                    .collect();
                let k = k.min(all.len());
                all.select_nth_unstable_by(k.saturating_sub(1), |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                all.truncate(k);
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                all
            }
        }
    }

    /// Label, probability and outlier score of one new point (hdbscan's `approximate_predict` and
    /// `approximate_predict_scores`; see the crate docs for the two deliberate differences).
    pub fn predict_one(&self, q: &[f64]) -> Result<Prediction> {
        check_point(q, self.n_features())?;
        let ct = &self.condensed;
        let pts = &self.points;
        let m = self.params.effective_min_samples();
        // hdbscan queries 2·min_samples neighbours (its min_samples is ours − 1); the new point's core
        // distance is that of its m-th nearest training row, counting duplicates.
        let k = (2 * m.saturating_sub(1)).max(m).min(pts.len());
        let nb = self.neighbours(q, k);
        let core_q = weighted_kth(nb.iter().map(|&(d, u)| (d, pts.weight(u))), m);
        let (mut best, mut nn) = (f64::INFINITY, pts.first_row(nb[0].1));
        for &(d, u) in &nb {
            let row = pts.first_row(u);
            let mr = d.max(core_q).max(self.core_distances[row]);
            if mr < best {
                best = mr;
                nn = row;
            }
        }
        let lambda = if best > 0.0 { 1.0 / best } else { f64::MAX };
        let dv = self.derived();
        let row = dv.point_rows[nn];
        let parents = &dv.parents;
        let mut potential = ct.parent[row];
        if ct.lambda_val[row] > lambda {
            while potential > ct.root() {
                match parents[potential] {
                    Some((p, birth)) if birth >= lambda => potential = p,
                    _ => break,
                }
            }
        }
        let (label, cluster_max) = (dv.cluster_map[potential], dv.cluster_max[potential]);
        let probability = if label < 0 {
            0.0
        } else if cluster_max > 0.0 {
            lambda.min(cluster_max) / cluster_max
        } else {
            1.0
        };
        // Outlier score: relative to the neighbour's own cluster, without climbing.
        let score_lambda = if nb[0].0 == 0.0 { ct.lambda_val[row] } else { lambda };
        let subtree_max = dv.subtree_max[ct.parent[row]];
        let outlier_score =
            if subtree_max > 0.0 { ((subtree_max - score_lambda) / subtree_max).clamp(0.0, 1.0) } else { 0.0 };
        Ok(Prediction { label, probability, outlier_score })
    }

    /// [`Self::predict_one`] for every row, in parallel.
    pub fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Prediction>> {
        use rayon::prelude::*;
        check_width(x.ncols(), self.n_features())?;
        let x = x.as_standard_layout();
        (0..x.nrows())
            .into_par_iter()
            .map(|i| {
                let r = x.row(i);
                self.predict_one(r.as_slice().expect("standard layout")).map_err(|e| at_row(e, i))
            })
            .collect()
    }
}

/// Lookup tables derived from a fitted model for prediction (not serialised).
#[derive(Debug, Clone)]
struct Derived {
    index: Option<KdTree>,
    point_rows: Vec<usize>,
    parents: Vec<Option<(usize, f64)>>,
    subtree_max: Vec<f64>,
    /// Per condensed-tree node: label of the selected cluster containing it (−1 if none) and that
    /// cluster's largest λ.
    cluster_map: Vec<i64>,
    cluster_max: Vec<f64>,
}

impl Derived {
    fn new(m: &Hdbscan) -> Derived {
        let ct = &m.condensed;
        let nn = ct.n_nodes();
        let children = ct.children();
        let direct_max = ct.max_lambdas();
        let mut cluster_map = vec![-1i64; nn];
        let mut cluster_max = vec![0.0; nn];
        // Ascending order: a cluster nested in another selected one (epsilon selection) wins its subtree.
        for (label, &c) in m.selected.iter().enumerate() {
            let mut stack = vec![c];
            while let Some(x) = stack.pop() {
                cluster_map[x] = label as i64;
                cluster_max[x] = direct_max[c];
                stack.extend(children[x].iter().copied());
            }
        }
        Derived {
            index: (m.params.metric != Metric::Cosine)
                .then(|| tree_for(m.points.view(), m.params.metric, m.params.leaf_size)),
            point_rows: ct.point_rows(),
            parents: ct.cluster_parent(),
            subtree_max: ct.subtree_max_lambdas(),
            cluster_map,
            cluster_max,
        }
    }
}

impl ClusterModel for Hdbscan {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}

/// GLOSH outlier scores of new points (as [`Hdbscan::predict_one`] computes them).
impl ScoreSamples for Hdbscan {
    type Error = ClusterError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        Ok(self.predict_batch(x)?.into_iter().map(|p| p.outlier_score).collect())
    }
}

impl Predict for Hdbscan {
    type Error = ClusterError;

    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        Ok(self.predict_batch(x)?.into_iter().map(|p| p.label).collect())
    }
}
