//! Fitting: core distances, the exact mutual-reachability MST (Borůvka over the kd-tree, or Prim), and
//! the trees, selection and GLOSH from it.

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use super::boruvka;
use super::prim;
use outflow_core::{check_len, check_matrix, check_width};

use super::tree;
use crate::dedup::kth_of_mass;
use crate::error::{ClusterError, Result};
use crate::kdtree::{KdTree, NONE};
use crate::metric::{Kernel, Metric, dispatch_tree};
use crate::traits::Fit;
use outflow_core::unique_rows;

use super::*;

/// Core distances and the MST for a data set (stage functions, also benchmarked separately).
pub mod stages {
    use super::*;

    /// Core distance of every row: distance to its `min_samples`-th nearest row, itself included.
    pub fn core_distances(x: ArrayView2<'_, f64>, metric: Metric, min_samples: usize) -> Result<Vec<f64>> {
        check_matrix(x)?;
        if min_samples == 0 {
            return Err(ClusterError::param("min_samples", "must be at least 1"));
        }
        let params = HdbscanParams { min_samples: Some(min_samples), metric, ..HdbscanParams::new(2) };
        params.metric_fits(x)?;
        check_min_samples(min_samples, x.nrows())?;
        let pts = Points::of(x, metric);
        let mass = pts.masses();
        let core_u = if params.use_prim(x.ncols()) {
            prim::kth_distances(pts.view(), metric, min_samples, mass.as_deref())
        } else {
            let tree = tree_for(pts.view(), metric, params.leaf_size);
            dispatch_tree!(metric, K => tree_core::<K>(&tree, mass.as_deref(), min_samples, min_samples.min(tree.n)).0)
        };
        Ok(pts.per_row(&core_u))
    }

    /// The mutual-reachability MST (`n − 1` edges, ascending distance) and the core distances: exact,
    /// unless `params.neighbors` asks for the approximate neighbour graph.
    pub fn mutual_reachability_mst(x: ArrayView2<'_, f64>, params: &HdbscanParams) -> Result<(Vec<MstEdge>, Vec<f64>)> {
        params.validate()?;
        check_matrix(x)?;
        params.metric_fits(x)?;
        let m = params.effective_min_samples();
        check_min_samples(m, x.nrows())?;
        let pts = Points::of(x, params.metric);
        let (edges, core_u, _) = mst_of_points(&pts, params);
        Ok((pts.expand_edges(edges, &core_u), pts.per_row(&core_u)))
    }

    /// MST between unique points (unique ids), their core distances and, from an approximate
    /// neighbour graph, its measured recall.
    ///
    /// With `alpha ≠ 1` the MST of `max(core(a), core(b), d / alpha)` is that of
    /// `max(alpha·core(a), alpha·core(b), d)` with its weights divided by alpha (the same order, so the same
    /// tree): the searches run on scaled core distances and stay exact.
    pub(crate) fn mst_of_points(pts: &Points, params: &HdbscanParams) -> (Vec<MstEdge>, Vec<f64>, Option<f64>) {
        if params.use_approximate(pts.len(), pts.view().ncols()) && pts.len() > 2 {
            let (edges, core, recall) = super::approximate::mst(pts, params);
            return (edges, core, Some(recall));
        }
        let m = params.effective_min_samples();
        let alpha = params.alpha;
        let mass = pts.masses();
        let (mut edges, core) = if params.use_prim(pts.view().ncols()) {
            let core = prim::kth_distances(pts.view(), params.metric, m, mass.as_deref());
            let scaled: Vec<f64>;
            let reach = if alpha == 1.0 {
                &core
            } else {
                scaled = core.iter().map(|c| c * alpha).collect();
                &scaled
            };
            let e = prim::prim_mst(pts.view(), params.metric, reach);
            (e.into_iter().map(|(a, b, d)| MstEdge { a: a as usize, b: b as usize, distance: d }).collect(), core)
        } else {
            let tree = tree_for(pts.view(), params.metric, params.leaf_size);
            dispatch_tree!(params.metric, K => tree_mst::<K>(&tree, mass.as_deref(), m, alpha))
        };
        if alpha != 1.0 {
            for e in &mut edges {
                // An edge within rounding of its larger core distance is that core distance (the scaled
                // search only rounds it), so ties with duplicates' edges at the core distance survive.
                let core_max = core[e.a].max(core[e.b]);
                e.distance /= alpha;
                if e.distance <= core_max * (1.0 + 1e-14) {
                    e.distance = core_max;
                }
            }
        }
        (edges, core, None)
    }

    /// Reduced core distances per tree position (weighted by the points' mass) and the neighbour lists of
    /// the `k` nearest points.
    pub(super) fn tree_core<K: Kernel>(
        tree: &KdTree,
        mass: Option<&[f64]>,
        m: usize,
        k: usize,
    ) -> (Vec<f64>, Vec<f64>, Vec<u32>) {
        let (dist, pos) = tree.knn_all::<K>(k);
        let mass_at = |q: u32| mass.map_or(1.0, |w| w[tree.index[q as usize] as usize]);
        let core_r: Vec<f64> = (0..tree.n)
            .into_par_iter()
            .with_min_len(1024)
            .map(|p| {
                let list = dist[p * k..(p + 1) * k].iter().zip(&pos[p * k..(p + 1) * k]);
                match kth_of_mass(list.map(|(&d, &q)| (d, mass_at(q))), m) {
                    Some(d) => d,
                    // Sample weights below 1: the k nearest points hold less than m; look further.
                    None => deeper_core::<K>(tree, mass_at, p, m, k),
                }
            })
            .collect();
        (to_rows(tree, &core_r, K::to_dist), dist, pos)
    }

    /// The reduced core distance of tree point `p` from ever longer neighbour lists (doubling from `k`).
    fn deeper_core<K: Kernel>(tree: &KdTree, mass_at: impl Fn(u32) -> f64, p: usize, m: usize, k: usize) -> f64 {
        let mut k = k;
        loop {
            k = (2 * k).min(tree.n);
            let (mut d, mut q) = (vec![0.0; k], vec![0u32; k]);
            tree.knn::<K>(tree.point(p), &mut d, &mut q);
            let listed = d.iter().zip(&q).filter(|(_, q)| **q != NONE);
            if let Some(c) = kth_of_mass(listed.clone().map(|(&d, &q)| (d, mass_at(q))), m) {
                return c;
            }
            if k == tree.n {
                // Validation keeps the total mass at least m; rounding aside, the farthest point.
                return listed.map(|(&d, _)| d).fold(0.0, f64::max);
            }
        }
    }

    /// The MST over the kd-tree, on core distances scaled by `alpha` (see [`mst_of_points`]).
    pub(super) fn tree_mst<K: Kernel>(
        tree: &KdTree,
        mass: Option<&[f64]>,
        m: usize,
        alpha: f64,
    ) -> (Vec<MstEdge>, Vec<f64>) {
        // Enough unique neighbours to reach weight m (twice m over the mean weight when weights are
        // below 1, as fast_hdbscan sizes its search), plus a few for Borůvka's first round.
        let light = mass.map_or(1.0, |w| (w.iter().sum::<f64>() / w.len() as f64).min(1.0));
        let k = ((m + 1) as f64 / light.max(1e-9)).ceil().min(tree.n as f64) as usize;
        let k = k.max(3).min(tree.n);
        let (core_u, dist, pos) = tree_core::<K>(tree, mass, m, k);
        let core_r: Vec<f64> = (0..tree.n).map(|p| K::to_rdist(alpha * core_u[tree.index[p] as usize])).collect();
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
    pub(super) fn to_rows(tree: &KdTree, v: &[f64], f: fn(f64) -> f64) -> Vec<f64> {
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
/// where one search per point visits many leaves and larger leaves mean fewer bounds to compute, else
/// 32 (better at 3 dimensions and for the chunked searches from 16 dimensions up); chosen with the
/// `hdbscan` criterion bench on Gaussian blobs.
pub fn auto_leaf_size(dim: usize) -> usize {
    if (6..crate::kdtree::BATCH_MIN_DIM).contains(&dim) { 64 } else { 32 }
}

/// The points an algorithm works on: the rows themselves, or their unique rows with multiplicities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Points {
    /// Unique rows (all rows when there are no duplicates).
    #[serde(with = "outflow_core::codec::matrix")]
    pub(super) points: Array2<f64>,
    /// Multiplicity of each point (empty: all 1).
    #[serde(with = "outflow_core::codec::u32s")]
    pub(super) weights: Vec<u32>,
    /// First original row of each point (empty: identity).
    #[serde(with = "outflow_core::codec::usizes")]
    pub(super) first: Vec<usize>,
    /// Point of each original row (empty: identity).
    #[serde(with = "outflow_core::codec::u32s")]
    pub(super) of_row: Vec<u32>,
    /// Sample weight of each original row (empty: unweighted, every row 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "outflow_core::codec::f64s")]
    pub(super) row_weight: Vec<f64>,
    /// A model fitted on sparse distances keeps them here (`points` is then `n × 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sparse: Option<super::sparse::SparseDistances>,
}

impl Points {
    pub(crate) fn new(x: ArrayView2<'_, f64>) -> Points {
        match unique_rows(x) {
            Some(d) => Points { weights: d.weight, first: d.first, of_row: d.of_row, ..Points::rows(d.points) },
            None => Points::rows(x.as_standard_layout().into_owned()),
        }
    }

    /// Every row a point of its own (no duplicates merged, no weights).
    pub(crate) fn rows(points: Array2<f64>) -> Points {
        Points { points, weights: vec![], first: vec![], of_row: vec![], row_weight: vec![], sparse: None }
    }

    /// The points of `x` for a metric: a precomputed distance matrix is kept as it is (its rows are not
    /// points to merge).
    pub(crate) fn of(x: ArrayView2<'_, f64>, metric: Metric) -> Points {
        if metric == Metric::Precomputed { Points::rows(x.as_standard_layout().into_owned()) } else { Points::new(x) }
    }

    pub(crate) fn view(&self) -> ArrayView2<'_, f64> {
        self.points.view()
    }

    pub(crate) fn len(&self) -> usize {
        self.points.nrows()
    }

    /// The mass of each point: the sum of its rows' sample weights, else its multiplicity; `None` when
    /// every point is one unweighted row.
    pub(crate) fn masses(&self) -> Option<Vec<f64>> {
        if !self.row_weight.is_empty() {
            let mut m = vec![0.0; self.len()];
            for (row, &w) in self.row_weight.iter().enumerate() {
                m[self.unique_of(row)] += w;
            }
            Some(m)
        } else if !self.weights.is_empty() {
            Some(self.weights.iter().map(|&w| f64::from(w)).collect())
        } else {
            None
        }
    }

    /// The rows' sample weights, if any.
    pub(crate) fn row_weights(&self) -> Option<&[f64]> {
        (!self.row_weight.is_empty()).then_some(&self.row_weight[..])
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
        self.fit_with(x, None, None)
    }
}

impl HdbscanParams {
    /// Fits with a weight per row, as fast_hdbscan's `fit(X, sample_weight=w)` defines them (the only
    /// HDBSCAN with weights): a core distance is the distance at which the cumulative weight of the
    /// nearest rows, the row itself first, reaches `min_samples`; a cluster's size is the sum of its rows'
    /// weights (so `min_cluster_size` and `max_cluster_size` compare weights); stability is fast_hdbscan's
    /// `Σ λ(point rows) + Σ λ_D·W_D (child clusters) − λ_C·W_C`, where a point row counts 1 whatever its
    /// weight. Weights are finite and ≥ 0 (0: a row that gives no weight to others but is still
    /// clustered), and sum to at least `min_samples`; like fast_hdbscan's they are held as `f32` values.
    /// `min_samples` is compared with a weight that includes the row's own (under
    /// [`MinSamplesConvention::Hdbscan`] the target is `min_samples + 1`). Unlike fast_hdbscan, a row whose
    /// own weight reaches `min_cluster_size` is kept as a point of the tree (fast_hdbscan drops it, a bug),
    /// and every metric takes weights (fast_hdbscan: Euclidean only). Cluster persistence is the stability
    /// over the cluster's weight times the largest λ, at most 1. [`Hdbscan::dbscan_clustering`] counts
    /// rows, not weights.
    ///
    /// ```
    /// use ndarray::array;
    /// use outflow_cluster::{ClusterModel, HdbscanParams};
    /// let x = array![[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]];
    /// // Unweighted, groups of 3 rows are below min_cluster_size 4: no cluster.
    /// let w = [2.0, 1.0, 1.0, 2.0, 1.0, 1.0];
    /// let model = HdbscanParams::new(4).min_samples(2).fit_weighted(x.view(), &w).unwrap();
    /// assert_eq!(model.n_clusters(), 2);
    /// ```
    pub fn fit_weighted(&self, x: ArrayView2<'_, f64>, sample_weight: &[f64]) -> Result<Hdbscan> {
        self.fit_with(x, Some(sample_weight), None)
    }

    /// Fits with partial labels (semi-supervised HDBSCAN*(BC), as fast_hdbscan's `semi_supervised=True`
    /// defines it): `partial_labels[i]` is row i's class (≥ 0) or −1 for an unlabelled row. The tree is
    /// the unsupervised one; only the excess-of-mass selection changes: bottom-up, a cluster is kept over
    /// its descendants when its BCubed F-measure over the labelled rows is higher, stability deciding
    /// ties (see [`SemiSupervised`]). The output labels are cluster numbers, not classes.
    pub fn fit_semi_supervised(&self, x: ArrayView2<'_, f64>, partial_labels: &[i64]) -> Result<Hdbscan> {
        self.fit_with(x, None, Some(partial_labels))
    }

    /// Fits with sample weights and partial labels, each optional (see [`Self::fit_weighted`] and
    /// [`Self::fit_semi_supervised`]).
    pub fn fit_with(
        &self,
        x: ArrayView2<'_, f64>,
        sample_weight: Option<&[f64]>,
        partial_labels: Option<&[i64]>,
    ) -> Result<Hdbscan> {
        // fast_hdbscan holds weights in f32: decimal weights (0.1) then sum past a threshold as there.
        let sample_weight: Option<Vec<f64>> = sample_weight.map(|w| w.iter().map(|&v| f64::from(v as f32)).collect());
        let sample_weight = sample_weight.as_deref();
        match sample_weight {
            None => self.validate_for(x)?,
            Some(w) => self.validate_weighted(x, w)?,
        }
        if let Some(y) = partial_labels {
            self.check_partial_labels(y, x.nrows())?;
        }
        let mut points = Points::of(x, self.metric);
        if let Some(w) = sample_weight {
            points.row_weight = w.to_vec();
        }
        let (edges, core_u, recall) = stages::mst_of_points(&points, self);
        let mst = points.expand_edges(edges, &core_u);
        let core_distances = points.per_row(&core_u);
        let mut model = self.finish(x.nrows(), x.ncols(), points, mst, core_distances, partial_labels);
        model.neighbor_recall = recall;
        Ok(model)
    }
}

/// The mutual-reachability MST of a data set for one `metric` and `min_samples`: everything HDBSCAN
/// computes before `min_cluster_size` and the selection settings matter. Fit many of those settings
/// from one of these ([`HdbscanParams::fit_from_mst`]) — hyper-parameter search is then nearly free.
#[derive(Debug, Clone)]
pub struct MutualReachability {
    pub(super) points: Points,
    pub(super) mst: Vec<MstEdge>,
    pub(super) core_distances: Vec<f64>,
    pub(super) metric: Metric,
    pub(super) min_samples: usize,
    pub(super) alpha: f64,
    pub(super) n_features: usize,
}

impl MutualReachability {
    /// Computes the MST of `x` with the metric and effective `min_samples` of `params`.
    pub fn new(x: ArrayView2<'_, f64>, params: &HdbscanParams) -> Result<Self> {
        params.validate()?;
        check_matrix(x)?;
        params.metric_fits(x)?;
        let m = params.effective_min_samples();
        check_min_samples(m, x.nrows())?;
        let points = Points::of(x, params.metric);
        let (edges, core_u, _) = stages::mst_of_points(&points, params);
        let mst = points.expand_edges(edges, &core_u);
        let core_distances = points.per_row(&core_u);
        Ok(MutualReachability {
            points,
            mst,
            core_distances,
            metric: params.metric,
            min_samples: m,
            alpha: params.alpha,
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
        if self.metric != mr.metric || self.effective_min_samples() != mr.min_samples || self.alpha != mr.alpha {
            return Err(ClusterError::param(
                "metric",
                format!(
                    "the MST was computed with metric {}, min_samples {} and alpha {}, not {}, {} and {}",
                    mr.metric,
                    mr.min_samples,
                    mr.alpha,
                    self.metric,
                    self.effective_min_samples(),
                    self.alpha
                ),
            ));
        }
        check_width(x.ncols(), mr.n_features)?;
        check_len("the mutual-reachability MST's rows", x.nrows(), mr.core_distances.len())?;
        Ok(self.finish(x.nrows(), x.ncols(), mr.points.clone(), mr.mst.clone(), mr.core_distances.clone(), None))
    }

    /// The stages after the MST: trees, selection (by partial labels when given), scores.
    pub(super) fn finish(
        &self,
        n: usize,
        n_features: usize,
        points: Points,
        mst: Vec<MstEdge>,
        core_distances: Vec<f64>,
        partial_labels: Option<&[i64]>,
    ) -> Hdbscan {
        let sorted: Vec<(usize, usize, f64)> = mst.iter().map(|e| (e.a, e.b, e.distance)).collect();
        let single_linkage = tree::single_linkage(n, &sorted);
        let level = tree::level_tree(n, &sorted, points.row_weights());
        let mut condensed = tree::condense(&level, self.min_cluster_size);
        if self.cluster_selection_persistence > 0.0 {
            condensed = tree::simplify(&condensed, self.cluster_selection_persistence);
        }
        let rule = self.selection_rule();
        let sel = match partial_labels {
            None => tree::select(&condensed, &rule),
            Some(y) => tree::select_semi_supervised(&condensed, &rule, y, self.ss_algorithm),
        };
        let outlier_scores = tree::glosh(&condensed);
        let persistence = match points.row_weights() {
            None => sel.persistence,
            Some(w) => tree::persistence(&condensed, &sel.clusters, &sel.labels, &condensed.stabilities(), Some(w)),
        };
        Hdbscan {
            params: self.clone(),
            labels: sel.labels,
            probabilities: sel.probabilities,
            outlier_scores,
            persistence,
            core_distances,
            mst,
            single_linkage,
            condensed,
            selected: sel.clusters,
            points,
            n_features,
            neighbor_recall: None,
            derived: OnceLock::new(),
        }
    }
}
