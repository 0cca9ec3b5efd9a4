//! DBSCAN with scikit-learn's labels, an ε chosen from k-nearest-neighbour distances, and the centroid
//! false-positive filter of the DBSCAN seed.
//!
//! Labels equal scikit-learn's `DBSCAN(eps, min_samples)` (the kd-tree path it takes for ≤ 15 features):
//! - a point is *core* when at least `min_samples` points (itself included) lie at distance `≤ eps`
//!   (reduced distances compared as scikit-learn's kd-tree does: squared Euclidean against `eps²`,
//!   summed in index order);
//! - clusters are the connected components of core points (two cores are linked when within `eps`),
//!   numbered in the order of their smallest row index — scikit-learn grows clusters from the unlabelled
//!   core points in index order;
//! - a non-core point within `eps` of core points of several clusters takes the *smallest* of their
//!   labels (the first cluster scikit-learn's depth-first growth reaches it from); otherwise it is noise.
//!
//! The implementation never materialises neighbourhoods: three parallel passes of radius queries over the
//! kd-tree (count with early exit → core flags; lock-free union–find over core pairs, with whole subtrees
//! that form an ε-clique of cores merged at once; smallest neighbouring cluster of each non-core point).
//! Exact duplicate rows are collapsed into weighted points first. The union–find links a larger root under
//! a smaller one, so the final partition — and therefore every label — is the same for any thread count.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::stats::{self, quantile_sorted};
use outflow_core::{InputError, check_matrix, check_width};

use crate::dedup::{dedup, weighted_kth};
use crate::error::{ClusterError, Result};
use crate::input::{at_row, check_point};
use crate::kdtree::{KdTree, NONE};
use crate::metric::{Chebyshev, Euclidean, Kernel, Manhattan, Metric, dispatch_tree};
use crate::traits::{ClusterModel, Fit, Predict};

/// How [`Eps::Auto`] turns the k-th neighbour distances `d₁ … dₙ` (one per row) into ε.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EpsRule {
    /// `median(d) + std_factor · std(d)` (population standard deviation, NumPy's `std`). The seed uses
    /// `std_factor = 0.5`.
    MedianStd {
        /// Weight of the standard deviation.
        std_factor: f64,
    },
    /// `mean(d) + std_factor · std(d)`.
    MeanStd {
        /// Weight of the standard deviation.
        std_factor: f64,
    },
    /// The `q`-quantile of `d` (`0 ≤ q ≤ 1`, linear interpolation as NumPy's default).
    Quantile {
        /// Quantile in `[0, 1]`.
        q: f64,
    },
}

impl Default for EpsRule {
    fn default() -> Self {
        EpsRule::MedianStd { std_factor: 0.5 }
    }
}

/// The k-nearest-neighbour ε heuristic: ε from the distribution of every row's distance to its `k`-th
/// nearest row.
///
/// `k` **counts the row itself**, as `NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)[0][:, k-1]`
/// does in scikit-learn (the query set is the training set, so each row is its own first neighbour at
/// distance 0) — this is how the seed computes its "4th neighbour" distances, and it matches
/// `min_samples` counting the point itself. Duplicated rows count as separate neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnEps {
    /// Neighbour rank, the row itself included (default 4).
    pub k: usize,
    /// The formula (default median + 0.5·std).
    pub rule: EpsRule,
}

impl Default for KnnEps {
    fn default() -> Self {
        KnnEps { k: 4, rule: EpsRule::default() }
    }
}

impl KnnEps {
    /// Applies the rule to the k-th neighbour distances.
    pub fn eps_from(&self, d: &[f64]) -> f64 {
        let mut s = d.to_vec();
        s.sort_by(f64::total_cmp);
        // numpy's mean and population std (pairwise sums), as `np.median(d) + 0.5 * np.std(d)`.
        let mean = stats::mean(&s);
        let std = stats::variance(&s, 0).unwrap_or(f64::NAN).sqrt();
        match self.rule {
            EpsRule::MedianStd { std_factor } => quantile_sorted(&s, 0.5) + std_factor * std,
            EpsRule::MeanStd { std_factor } => mean + std_factor * std,
            EpsRule::Quantile { q } => quantile_sorted(&s, q),
        }
    }
}

/// The neighbourhood radius. Serialised as `{"value": 0.5}` or `{"auto": {"k": 4, "rule": ...}}`; a
/// bare number or `"auto"` (the default heuristic) are read too.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "EpsRepr")]
pub enum Eps {
    /// A given radius (> 0).
    Value(f64),
    /// Chosen from the data by the kNN heuristic.
    Auto(KnnEps),
}

/// Every form an [`Eps`] is read from.
#[derive(Deserialize)]
#[serde(untagged)]
enum EpsRepr {
    Number(f64),
    Text(String),
    Tagged(EpsTagged),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum EpsTagged {
    Value(f64),
    Auto(KnnEps),
}

impl TryFrom<EpsRepr> for Eps {
    type Error = String;

    fn try_from(r: EpsRepr) -> std::result::Result<Eps, String> {
        Ok(match r {
            EpsRepr::Number(v) => Eps::Value(v),
            EpsRepr::Text(s) if s.eq_ignore_ascii_case("auto") => Eps::Auto(KnnEps::default()),
            EpsRepr::Text(s) => Eps::Value(s.parse().map_err(|_| format!("must be a number or 'auto', got '{s}'"))?),
            EpsRepr::Tagged(EpsTagged::Value(v)) => Eps::Value(v),
            EpsRepr::Tagged(EpsTagged::Auto(k)) => Eps::Auto(k),
        })
    }
}

impl Default for Eps {
    fn default() -> Self {
        Eps::Auto(KnnEps::default())
    }
}

impl std::str::FromStr for Eps {
    type Err = ClusterError;
    /// `auto` (the default heuristic) or a number.
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Eps::Auto(KnnEps::default()));
        }
        s.parse::<f64>()
            .map(Eps::Value)
            .map_err(|_| ClusterError::param("eps", format!("must be a number or 'auto', got '{s}'")))
    }
}

/// DBSCAN parameters.
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, DbscanParams, Fit};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [10.0, 10.0], [10.0, 11.0], [11.0, 10.0], [50.0, 50.0]];
/// let model = DbscanParams::new(1.5, 3).fit(x.view()).unwrap();
/// assert_eq!(model.labels(), &[0, 0, 0, 1, 1, 1, -1]);
/// assert!(model.is_core()[0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbscanParams {
    /// Neighbourhood radius, given or automatic (default: automatic, k = 4, median + 0.5·std).
    pub eps: Eps,
    /// Points within `eps` (the point itself included) that make a core point (default 5, as
    /// scikit-learn).
    pub min_samples: usize,
    /// Distance metric.
    pub metric: Metric,
    /// Points per kd-tree leaf.
    pub leaf_size: usize,
    /// Centroid false-positive filter: `Some(p)` with `0 ≤ p ≤ 100` — a noise point closer to some
    /// cluster's centroid than the `p`-th percentile of that cluster's member-to-centroid distances is
    /// not reported as an anomaly (see [`Dbscan::anomalies`]). Labels are not changed.
    pub centroid_filter: Option<f64>,
}

impl Default for DbscanParams {
    fn default() -> Self {
        DbscanParams {
            eps: Eps::default(),
            min_samples: 5,
            metric: Metric::Euclidean,
            leaf_size: 24,
            centroid_filter: None,
        }
    }
}

impl DbscanParams {
    /// A given `eps` and `min_samples`.
    pub fn new(eps: f64, min_samples: usize) -> Self {
        DbscanParams { eps: Eps::Value(eps), min_samples, ..Default::default() }
    }

    /// ε from the kNN heuristic (default k = 4, median + 0.5·std) and `min_samples`.
    pub fn auto(min_samples: usize) -> Self {
        DbscanParams { eps: Eps::Auto(KnnEps::default()), min_samples, ..Default::default() }
    }

    /// Sets the radius.
    pub fn eps(mut self, eps: Eps) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the metric.
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }

    /// Turns the centroid filter on at percentile `p`.
    pub fn centroid_filter(mut self, p: f64) -> Self {
        self.centroid_filter = Some(p);
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        match self.eps {
            Eps::Value(e) if !(e > 0.0 && e.is_finite()) => {
                return bad("eps", format!("must be finite and > 0, got {e}"));
            }
            Eps::Auto(k) => {
                if k.k == 0 {
                    return bad("eps.k", "the kNN eps heuristic needs k ≥ 1".into());
                }
                match k.rule {
                    EpsRule::MedianStd { std_factor: f } | EpsRule::MeanStd { std_factor: f } if !f.is_finite() => {
                        return bad("eps.rule.std_factor", format!("must be finite, got {f}"));
                    }
                    EpsRule::Quantile { q } if !(0.0..=1.0).contains(&q) => {
                        return bad("eps.rule.q", format!("the eps quantile must be in [0, 1], got {q}"));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        if self.min_samples == 0 {
            return bad("min_samples", "must be at least 1".into());
        }
        if self.leaf_size == 0 {
            return bad("leaf_size", "must be at least 1".into());
        }
        if let Some(p) = self.centroid_filter
            && !(0.0..=100.0).contains(&p)
        {
            return bad("centroid_filter", format!("the percentile must be in [0, 100], got {p}"));
        }
        Ok(())
    }

    fn validate_for(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        if let Eps::Auto(k) = self.eps
            && k.k > x.nrows()
        {
            return Err(InputError::too_few_rows(format!("the kNN eps heuristic (k = {})", k.k), k.k, x.nrows()).into());
        }
        Ok(())
    }
}

/// What the centroid filter computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CentroidFilter {
    /// The percentile used.
    pub percentile: f64,
    /// Mean of each cluster's members (row = label).
    pub centroids: Array2<f64>,
    /// Per cluster: the percentile of its members' distances to its centroid.
    pub thresholds: Vec<f64>,
}

/// A fitted DBSCAN clustering.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dbscan {
    params: DbscanParams,
    eps: f64,
    #[serde(with = "outflow_core::codec::i64s")]
    labels: Vec<i64>,
    /// Empty after [`Dbscan::slim`].
    core: Vec<bool>,
    knn_distances: Option<Vec<f64>>,
    /// Empty after [`Dbscan::slim`].
    anomalies: Vec<bool>,
    filter: Option<CentroidFilter>,
    /// Unique core rows and their labels, for prediction.
    #[serde(with = "outflow_core::codec::matrix")]
    core_points: Array2<f64>,
    #[serde(with = "outflow_core::codec::i64s")]
    core_labels: Vec<i64>,
    #[serde(skip)]
    index: OnceLock<Option<KdTree>>,
}

impl PartialEq for Dbscan {
    fn eq(&self, o: &Self) -> bool {
        self.params == o.params
            && self.eps == o.eps
            && self.labels == o.labels
            && self.core == o.core
            && self.knn_distances == o.knn_distances
            && self.anomalies == o.anomalies
            && self.filter == o.filter
            && self.core_points == o.core_points
            && self.core_labels == o.core_labels
    }
}

impl Dbscan {
    /// The parameters used.
    pub fn params(&self) -> &DbscanParams {
        &self.params
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.core_points.ncols()
    }

    /// The radius used (the resolved value when it was automatic).
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Whether each row is a core point (empty after [`Dbscan::slim`]).
    pub fn is_core(&self) -> &[bool] {
        &self.core
    }

    /// Rows that are core points, ascending (scikit-learn's `core_sample_indices_`).
    pub fn core_sample_indices(&self) -> Vec<usize> {
        self.core.iter().enumerate().filter(|(_, c)| **c).map(|(i, _)| i).collect()
    }

    /// The k-th neighbour distance of every row, when ε was automatic (the "k-distance graph"); `None`
    /// after [`Dbscan::slim`].
    pub fn knn_distances(&self) -> Option<&[f64]> {
        self.knn_distances.as_deref()
    }

    /// Rows reported as anomalies: noise, minus the noise the centroid filter rescued (just the noise
    /// when the filter is off). Empty after [`Dbscan::slim`].
    pub fn anomalies(&self) -> &[bool] {
        &self.anomalies
    }

    /// What the centroid filter computed, when it was on.
    pub fn centroid_filter(&self) -> Option<&CentroidFilter> {
        self.filter.as_ref()
    }

    fn index(&self) -> Option<&KdTree> {
        self.index
            .get_or_init(|| {
                (self.params.metric != Metric::Cosine && self.core_points.nrows() > 0)
                    .then(|| KdTree::build(self.core_points.view(), self.params.leaf_size))
            })
            .as_ref()
    }

    /// Label of one new point: the smallest label among the core points within `eps` — how a border
    /// point is labelled at fit time — or −1.
    pub fn predict_one(&self, q: &[f64]) -> Result<i64> {
        let d = self.core_points.ncols();
        check_point(q, d)?;
        let labels = &self.core_labels;
        let best = match self.index() {
            Some(t) => {
                let mut best = i64::MAX;
                let r = rradius(self.params.metric, self.eps);
                dispatch_tree!(self.params.metric, K => {
                    for_each_within::<K>(t, q, r, |pos| {
                        best = best.min(labels[t.index[pos] as usize]);
                        true
                    })
                });
                best
            }
            None => {
                let x = self.core_points.as_slice().expect("standard layout");
                (0..self.core_points.nrows())
                    .filter(|&i| self.params.metric.distance(q, &x[i * d..(i + 1) * d]) <= self.eps)
                    .map(|i| labels[i])
                    .min()
                    .unwrap_or(i64::MAX)
            }
        };
        Ok(if best == i64::MAX { -1 } else { best })
    }

    /// Label of one new point by the nearest core point: the cluster of the nearest core point when it
    /// is within `eps` (on a tie, the smallest label among the equally near core points), else −1. This
    /// is the rule a detector applies to new flows; [`Dbscan::predict_one`] instead reproduces how a
    /// border point is labelled at fit time. The two differ only for a point within `eps` of core points
    /// of several clusters.
    pub fn predict_nearest_core(&self, q: &[f64]) -> Result<i64> {
        let d = self.core_points.ncols();
        check_point(q, d)?;
        let labels = &self.core_labels;
        let metric = self.params.metric;
        let best = match self.index() {
            Some(t) => {
                let (mut dist, mut pos) = ([f64::INFINITY], [NONE]);
                dispatch_tree!(metric, K => t.knn::<K>(q, &mut dist, &mut pos));
                if pos[0] == NONE || dist[0] > rradius(metric, self.eps) {
                    return Ok(-1);
                }
                let mut best = i64::MAX;
                dispatch_tree!(metric, K => {
                    for_each_within::<K>(t, q, dist[0], |p| {
                        best = best.min(labels[t.index[p] as usize]);
                        true
                    })
                });
                best
            }
            None => {
                let x = self.core_points.as_slice().expect("standard layout");
                (0..self.core_points.nrows())
                    .map(|i| (metric.distance(q, &x[i * d..(i + 1) * d]), labels[i]))
                    .filter(|&(dist, _)| dist <= self.eps)
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                    .map_or(i64::MAX, |(_, l)| l)
            }
        };
        Ok(if best == i64::MAX { -1 } else { best })
    }

    /// [`Dbscan::predict_nearest_core`] for every row, in parallel.
    pub fn predict_nearest_core_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        check_width(x.ncols(), self.core_points.ncols())?;
        let x = x.as_standard_layout();
        (0..x.nrows())
            .into_par_iter()
            .map(|i| self.predict_nearest_core(x.row(i).as_slice().expect("standard layout")).map_err(|e| at_row(e, i)))
            .collect()
    }

    /// Drops the per-row diagnostics that prediction does not need (k-distances, core flags, reported
    /// anomalies): what a saved detector keeps. The labels and the core points stay.
    pub fn slim(mut self) -> Dbscan {
        self.knn_distances = None;
        self.core = Vec::new();
        self.anomalies = Vec::new();
        self
    }
}

impl ClusterModel for Dbscan {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}

/// scikit-learn's `DBSCAN` has no `predict`; Outflow's assigns a new point the smallest label among
/// the core points within `eps` (exactly how a border point is labelled), else −1.
impl Predict for Dbscan {
    type Error = ClusterError;

    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        check_width(x.ncols(), self.core_points.ncols())?;
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

/// Box bounds a radius query needs beyond [`Kernel`]'s lower bound.
trait BoxBounds: Kernel {
    /// Reduced distance from `q` to the farthest corner of the box, computed with the same operations
    /// in the same order as [`Kernel::rdist`], so it is ≥ the computed reduced distance of every point
    /// in the box (rounding is monotone).
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64;
    /// Reduced diameter of the box: ≥ the computed reduced distance between any two of its points.
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64;
}

#[inline(always)]
fn far_gap(q: f64, lo: f64, hi: f64) -> f64 {
    let (a, b) = ((q - lo).abs(), (q - hi).abs());
    if a > b { a } else { b }
}

impl BoxBounds for Euclidean {
    #[inline(always)]
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s = 0.0;
        for j in 0..q.len() {
            let g = far_gap(q[j], lo[j], hi[j]);
            s += g * g;
        }
        s
    }
    #[inline(always)]
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64 {
        lo.iter().zip(hi).fold(0.0, |s, (l, h)| s + (h - l) * (h - l))
    }
}

impl BoxBounds for Manhattan {
    #[inline(always)]
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s = 0.0;
        for j in 0..q.len() {
            s += far_gap(q[j], lo[j], hi[j]);
        }
        s
    }
    #[inline(always)]
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64 {
        lo.iter().zip(hi).fold(0.0, |s, (l, h)| s + (h - l))
    }
}

impl BoxBounds for Chebyshev {
    #[inline(always)]
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s: f64 = 0.0;
        for j in 0..q.len() {
            s = s.max(far_gap(q[j], lo[j], hi[j]));
        }
        s
    }
    #[inline(always)]
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64 {
        lo.iter().zip(hi).fold(0.0f64, |s, (l, h)| s.max(h - l))
    }
}

/// ε as a reduced distance (scikit-learn's `_dist_to_rdist`).
fn rradius(metric: Metric, eps: f64) -> f64 {
    if metric == Metric::Euclidean { eps * eps } else { eps }
}

/// A small fixed-capacity DFS stack of node ids (the tree is balanced: depth ≤ log2(n) + 1).
struct NodeStack {
    items: [u32; 128],
    len: usize,
}

impl NodeStack {
    #[inline(always)]
    fn new(root: usize) -> Self {
        let mut s = NodeStack { items: [0; 128], len: 1 };
        s.items[0] = root as u32;
        s
    }
    #[inline(always)]
    fn push(&mut self, node: u32) {
        self.items[self.len] = node;
        self.len += 1;
    }
    #[inline(always)]
    fn pop(&mut self) -> Option<usize> {
        (self.len > 0).then(|| {
            self.len -= 1;
            self.items[self.len] as usize
        })
    }
}

/// Calls `f(pos)` for every tree point within reduced radius `r` of `q` until `f` returns false.
fn for_each_within<K: BoxBounds>(t: &KdTree, q: &[f64], r: f64, mut f: impl FnMut(usize) -> bool) {
    let mut stack = NodeStack::new(0);
    while let Some(node) = stack.pop() {
        if t.min_rdist::<K>(q, node) > r {
            continue;
        }
        let nd = t.nodes[node];
        if K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r {
            for p in nd.start as usize..nd.end as usize {
                if !f(p) {
                    return;
                }
            }
        } else if nd.is_leaf() {
            for p in nd.start as usize..nd.end as usize {
                if K::rdist(q, t.point(p)) <= r && !f(p) {
                    return;
                }
            }
        } else {
            stack.push(nd.right);
            stack.push(nd.left);
        }
    }
}

/// Total weight of the tree points within `r` of `q`, stopping early once it reaches `stop`.
fn count_within<K: BoxBounds>(t: &KdTree, cw: &[u64], q: &[f64], r: f64, stop: u64) -> u64 {
    let mut count = 0u64;
    let mut stack = NodeStack::new(0);
    while let Some(node) = stack.pop() {
        if t.min_rdist::<K>(q, node) > r {
            continue;
        }
        let nd = t.nodes[node];
        let (s, e) = (nd.start as usize, nd.end as usize);
        if K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r {
            count += cw[e] - cw[s];
        } else if nd.is_leaf() {
            for p in s..e {
                if K::rdist(q, t.point(p)) <= r {
                    count += cw[p + 1] - cw[p];
                }
            }
        } else {
            stack.push(nd.right);
            stack.push(nd.left);
            continue;
        }
        if count >= stop {
            break;
        }
    }
    count
}

/// Lock-free union–find; a root is always the smallest element of its set, whatever the order of the
/// unions, so the final partition and roots do not depend on scheduling.
struct AtomicUf {
    parent: Vec<AtomicU32>,
}

impl AtomicUf {
    fn new(n: usize) -> Self {
        AtomicUf { parent: (0..n as u32).map(AtomicU32::new).collect() }
    }

    #[inline]
    fn find(&self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize].load(Ordering::Acquire);
            if p == x {
                return x;
            }
            let g = self.parent[p as usize].load(Ordering::Acquire);
            if g != p {
                // Path halving; losing the race is harmless.
                let _ = self.parent[x as usize].compare_exchange_weak(p, g, Ordering::AcqRel, Ordering::Relaxed);
            }
            x = g;
        }
    }

    #[inline]
    fn union(&self, a: u32, b: u32) {
        let (mut a, mut b) = (a, b);
        loop {
            a = self.find(a);
            b = self.find(b);
            if a == b {
                return;
            }
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            if self.parent[hi as usize].compare_exchange(hi, lo, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return;
            }
        }
    }
}

/// The clustering of unique points: core flags and labels (−1 noise), indexed by unique point.
struct PointLabels {
    core: Vec<bool>,
    labels: Vec<i64>,
}

/// Core points, components and border labels over a kd-tree of the unique points.
fn tree_dbscan<K: BoxBounds>(t: &KdTree, weights: Option<&[u32]>, r: f64, min_samples: usize) -> PointLabels {
    let n = t.n;
    // Prefix sums of weights in tree order.
    let mut cw = vec![0u64; n + 1];
    for p in 0..n {
        cw[p + 1] = cw[p] + weights.map_or(1, |w| w[t.index[p] as usize] as u64);
    }
    let stop = min_samples as u64;
    // 1. core flags (tree order).
    let core_pos: Vec<bool> = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|p| count_within::<K>(t, &cw, t.point(p), r, stop) >= stop)
        .collect();
    // Per node: every point core and the whole box within ε of itself → its cores are one component.
    let mut ncore = vec![0u32; n + 1];
    for p in 0..n {
        ncore[p + 1] = ncore[p] + core_pos[p] as u32;
    }
    let clique: Vec<bool> = (0..t.nodes.len())
        .map(|i| {
            let nd = t.nodes[i];
            ncore[nd.end as usize] - ncore[nd.start as usize] == nd.end - nd.start
                && K::diam_rdist(t.lo(i), t.hi(i)) <= r
        })
        .collect();
    // 2. components over unique-point ids (original first-occurrence order).
    let uf = AtomicUf::new(n);
    let id = |p: usize| t.index[p];
    {
        let mut stack = NodeStack::new(0);
        while let Some(node) = stack.pop() {
            let nd = t.nodes[node];
            if clique[node] {
                let rep = id(nd.start as usize);
                for p in nd.start as usize + 1..nd.end as usize {
                    uf.union(rep, id(p));
                }
            } else if !nd.is_leaf() {
                stack.push(nd.right);
                stack.push(nd.left);
            }
        }
    }
    (0..n).into_par_iter().with_min_len(64).filter(|&p| core_pos[p]).for_each(|p| {
        let q = t.point(p);
        let me = id(p);
        let mut stack = NodeStack::new(0);
        while let Some(node) = stack.pop() {
            let nd = t.nodes[node];
            let (s, e) = (nd.start as usize, nd.end as usize);
            // A pair is linked from its smaller tree position: nodes wholly at or below `p` are skipped.
            if e <= p + 1 {
                continue;
            }
            if t.min_rdist::<K>(q, node) > r {
                continue;
            }
            if clique[node] {
                let rep = id(s);
                if uf.find(rep) == uf.find(me) {
                    continue;
                }
                if K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r {
                    uf.union(me, rep);
                } else if nd.is_leaf() {
                    if (s..e).any(|o| K::rdist(q, t.point(o)) <= r) {
                        uf.union(me, rep);
                    }
                } else {
                    stack.push(nd.right);
                    stack.push(nd.left);
                }
            } else if nd.is_leaf() {
                let inside = K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r;
                for (o, &c) in core_pos.iter().enumerate().take(e).skip(s.max(p + 1)) {
                    if c && (inside || K::rdist(q, t.point(o)) <= r) {
                        uf.union(me, id(o));
                    }
                }
            } else {
                stack.push(nd.right);
                stack.push(nd.left);
            }
        }
    });
    // 3. labels: components ranked by their smallest unique id (= smallest original row).
    let mut core = vec![false; n];
    for p in 0..n {
        core[id(p) as usize] = core_pos[p];
    }
    let mut labels = vec![-1i64; n];
    let mut next = 0i64;
    for u in 0..n {
        if core[u] {
            let root = uf.find(u as u32) as usize;
            if root == u {
                labels[u] = next;
                next += 1;
            } else {
                labels[u] = labels[root];
            }
        }
    }
    // 4. non-core points: the smallest label among their core neighbours.
    let border: Vec<(usize, i64)> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .filter(|&p| !core_pos[p])
        .filter_map(|p| {
            let q = t.point(p);
            let mut best = i64::MAX;
            let mut stack = NodeStack::new(0);
            while let Some(node) = stack.pop() {
                if t.min_rdist::<K>(q, node) > r {
                    continue;
                }
                let nd = t.nodes[node];
                let (s, e) = (nd.start as usize, nd.end as usize);
                let inside = K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r;
                if clique[node] {
                    let l = labels[id(s) as usize];
                    if l < best && (inside || (s..e).any(|o| K::rdist(q, t.point(o)) <= r)) {
                        best = l;
                    }
                } else if nd.is_leaf() || inside {
                    for o in s..e {
                        if core_pos[o] {
                            let l = labels[id(o) as usize];
                            if l < best && (inside || K::rdist(q, t.point(o)) <= r) {
                                best = l;
                            }
                        }
                    }
                } else {
                    stack.push(nd.right);
                    stack.push(nd.left);
                }
            }
            (best != i64::MAX).then(|| (id(p) as usize, best))
        })
        .collect();
    for (u, l) in border {
        labels[u] = l;
    }
    PointLabels { core, labels }
}

/// The same without an index (cosine): O(n²) distance evaluations, parallel.
fn brute_dbscan(
    x: ArrayView2<'_, f64>,
    weights: Option<&[u32]>,
    metric: Metric,
    eps: f64,
    min_samples: usize,
) -> PointLabels {
    let n = x.nrows();
    let d = x.ncols();
    let flat = x.as_slice().expect("standard layout");
    let row = |i: usize| &flat[i * d..(i + 1) * d];
    let w = |i: usize| weights.map_or(1u64, |w| w[i] as u64);
    let near = |i: usize, j: usize| metric.distance(row(i), row(j)) <= eps;
    let core: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut c = 0u64;
            for j in 0..n {
                if near(i, j) {
                    c += w(j);
                    if c >= min_samples as u64 {
                        return true;
                    }
                }
            }
            false
        })
        .collect();
    let uf = AtomicUf::new(n);
    (0..n).into_par_iter().filter(|&i| core[i]).for_each(|i| {
        for (j, &cj) in core.iter().enumerate().skip(i + 1) {
            if cj && uf.find(i as u32) != uf.find(j as u32) && near(i, j) {
                uf.union(i as u32, j as u32);
            }
        }
    });
    let mut labels = vec![-1i64; n];
    let mut next = 0;
    for u in 0..n {
        if core[u] {
            let root = uf.find(u as u32) as usize;
            labels[u] = if root == u {
                next += 1;
                next - 1
            } else {
                labels[root]
            };
        }
    }
    let border: Vec<(usize, i64)> = (0..n)
        .into_par_iter()
        .filter(|&i| !core[i])
        .filter_map(|i| (0..n).filter(|&j| core[j] && near(i, j)).map(|j| labels[j]).min().map(|l| (i, l)))
        .collect();
    for (u, l) in border {
        labels[u] = l;
    }
    PointLabels { core, labels }
}

/// Distance from every unique point to its `k`-th nearest row (itself and duplicates included).
fn kth_distances(
    x: ArrayView2<'_, f64>,
    tree: Option<&KdTree>,
    weights: Option<&[u32]>,
    metric: Metric,
    k: usize,
) -> Vec<f64> {
    let n = x.nrows();
    let kk = k.min(n);
    let w = |u: usize| weights.map_or(1u32, |w| w[u]);
    match tree {
        Some(t) => {
            let mut out = vec![0.0; n];
            // The tree's own all-points kNN (vectorised leaf scans); positions and reduced distances
            // in tree order, k unique points per query (their weights reach k).
            let per_pos: Vec<f64> = dispatch_tree!(metric, K => {
                let (dist, pos) = t.knn_all::<K>(kk);
                (0..n).into_par_iter().with_min_len(1024).map(|p| {
                    let near = (p * kk..(p + 1) * kk).map(|i| (dist[i], w(t.index[pos[i] as usize] as usize)));
                    K::to_dist(weighted_kth(near, k))
                }).collect()
            });
            for (p, v) in per_pos.into_iter().enumerate() {
                out[t.index[p] as usize] = v;
            }
            out
        }
        None => {
            let d = x.ncols();
            let flat = x.as_slice().expect("standard layout");
            let row = |i: usize| &flat[i * d..(i + 1) * d];
            (0..n)
                .into_par_iter()
                .map(|i| {
                    let mut all: Vec<(f64, u32)> =
                        (0..n).map(|j| (if i == j { 0.0 } else { metric.distance(row(i), row(j)) }, w(j))).collect();
                    all.select_nth_unstable_by(kk - 1, |a, b| a.0.total_cmp(&b.0));
                    all.truncate(kk);
                    all.sort_by(|a, b| a.0.total_cmp(&b.0));
                    weighted_kth(all.into_iter(), k)
                })
                .collect()
        }
    }
}

impl Fit for DbscanParams {
    type Fitted = Dbscan;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Dbscan> {
        self.validate_for(x)?;
        let x = x.as_standard_layout();
        let n_rows = x.nrows();
        let dd = dedup(x.view());
        let (points, weights, of_row) = match &dd {
            Some(d) => (d.points.view(), Some(&d.weight[..]), Some(&d.of_row[..])),
            None => (x.view(), None, None),
        };
        let unique_of = |row: usize| of_row.map_or(row, |o| o[row] as usize);
        let tree = (self.metric != Metric::Cosine).then(|| KdTree::build(points, self.leaf_size));
        let (eps, knn_distances) = match self.eps {
            Eps::Value(e) => (e, None),
            Eps::Auto(k) => {
                let per_point = kth_distances(points, tree.as_ref(), weights, self.metric, k.k);
                let per_row: Vec<f64> = (0..n_rows).map(|i| per_point[unique_of(i)]).collect();
                let e = k.eps_from(&per_row);
                if !(e > 0.0 && e.is_finite()) {
                    return Err(ClusterError::param(
                        "eps",
                        format!(
                            "the kNN heuristic gave eps = {e} (k = {}): too many duplicate rows; give eps explicitly",
                            k.k
                        ),
                    ));
                }
                (e, Some(per_row))
            }
        };
        let pl = match &tree {
            Some(t) => {
                let r = rradius(self.metric, eps);
                dispatch_tree!(self.metric, K => tree_dbscan::<K>(t, weights, r, self.min_samples))
            }
            None => brute_dbscan(points, weights, self.metric, eps, self.min_samples),
        };
        let labels: Vec<i64> = (0..n_rows).map(|i| pl.labels[unique_of(i)]).collect();
        let core: Vec<bool> = (0..n_rows).map(|i| pl.core[unique_of(i)]).collect();
        let core_ids: Vec<usize> = (0..pl.core.len()).filter(|&u| pl.core[u]).collect();
        let mut core_points = Array2::zeros((core_ids.len(), x.ncols()));
        for (i, &u) in core_ids.iter().enumerate() {
            core_points.row_mut(i).assign(&points.row(u));
        }
        let core_labels = core_ids.iter().map(|&u| pl.labels[u]).collect();
        let (anomalies, filter) = match self.centroid_filter {
            None => (labels.iter().map(|&l| l < 0).collect(), None),
            Some(p) => {
                let (a, f) = centroid_filter(x.view(), &labels, self.metric, p);
                (a, Some(f))
            }
        };
        Ok(Dbscan {
            params: self.clone(),
            eps,
            labels,
            core,
            knn_distances,
            anomalies,
            filter,
            core_points,
            core_labels,
            index: OnceLock::new(),
        })
    }
}

/// Centroids, per-cluster distance percentiles, and which noise rows stay anomalies.
fn centroid_filter(x: ArrayView2<'_, f64>, labels: &[i64], metric: Metric, pct: f64) -> (Vec<bool>, CentroidFilter) {
    let k = labels.iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize);
    let d = x.ncols();
    let mut centroids = Array2::<f64>::zeros((k, d));
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        if l >= 0 {
            let mut c = centroids.row_mut(l as usize);
            c += &x.row(i);
            counts[l as usize] += 1;
        }
    }
    for (c, mut row) in counts.iter().zip(centroids.rows_mut()) {
        row /= *c as f64;
    }
    let cent = centroids.as_standard_layout();
    let cflat = cent.as_slice().expect("standard layout");
    let crow = |c: usize| &cflat[c * d..(c + 1) * d];
    let xs = x.as_slice().expect("standard layout");
    let xrow = |i: usize| &xs[i * d..(i + 1) * d];
    let mut member_d: Vec<Vec<f64>> = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        if l >= 0 {
            member_d[l as usize].push(metric.distance(xrow(i), crow(l as usize)));
        }
    }
    let thresholds: Vec<f64> = member_d
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            quantile_sorted(&v, pct / 100.0)
        })
        .collect();
    let anomalies = (0..labels.len())
        .into_par_iter()
        .with_min_len(256)
        .map(|i| labels[i] < 0 && !(0..k).any(|c| metric.distance(xrow(i), crow(c)) < thresholds[c]))
        .collect();
    (anomalies, CentroidFilter { percentile: pct, centroids, thresholds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{RngExt, SeedableRng};

    /// Textbook DBSCAN with scikit-learn's traversal (neighbourhoods materialised, DFS from cores in
    /// index order), as the oracle.
    fn naive(x: ArrayView2<'_, f64>, metric: Metric, eps: f64, m: usize) -> (Vec<i64>, Vec<bool>) {
        let n = x.nrows();
        let row = |i: usize| x.row(i).to_vec();
        let nb: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                (0..n)
                    .filter(|&j| match metric {
                        Metric::Euclidean => Euclidean::rdist(&row(i), &row(j)) <= eps * eps,
                        _ => metric.distance(&row(i), &row(j)) <= eps,
                    })
                    .collect()
            })
            .collect();
        let core: Vec<bool> = nb.iter().map(|v| v.len() >= m).collect();
        let mut labels = vec![-1i64; n];
        let mut label = 0;
        for i in 0..n {
            if labels[i] != -1 || !core[i] {
                continue;
            }
            let mut stack = vec![i];
            while let Some(v) = stack.pop() {
                if labels[v] == -1 {
                    labels[v] = label;
                    if core[v] {
                        stack.extend(nb[v].iter().copied().filter(|&j| labels[j] == -1));
                    }
                }
            }
            label += 1;
        }
        (labels, core)
    }

    fn grid(n: usize, d: usize, seed: u64, step: f64) -> Array2<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| rng.random_range(0..12) as f64 * step)
    }

    #[test]
    fn matches_naive_with_ties_and_duplicates() {
        for (d, seed) in [(2, 1), (3, 2), (5, 3)] {
            let x = grid(300, d, seed, 0.5);
            for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev, Metric::Cosine] {
                for (eps, m) in [(0.5, 2), (1.0, 4), (1.5, 8), (0.7, 1)] {
                    let model = DbscanParams::new(eps, m).metric(metric).fit(x.view()).unwrap();
                    let (labels, core) = naive(x.view(), metric, eps, m);
                    assert_eq!(model.labels(), &labels[..], "d={d} {metric} eps={eps} m={m}");
                    assert_eq!(model.is_core(), &core[..]);
                }
            }
        }
    }

    #[test]
    fn border_point_takes_first_cluster() {
        // Row 4 is a border point of both clusters and nearer to the second one's core (row 5); the
        // first cluster grown (from row 0) reaches it first, so it is labelled 0, as in scikit-learn.
        let a = [[-0.95, 0.0], [-1.05, 0.1], [-1.05, -0.1], [-1.15, 0.0]];
        let c = [[0.95, 0.0], [1.05, 0.1], [1.05, -0.1], [1.15, 0.0]];
        let b = [0.05, 0.0];
        let rows: Vec<[f64; 2]> = a.iter().copied().chain([b]).chain(c.iter().copied()).collect();
        let x = Array2::from_shape_fn((9, 2), |(i, j)| rows[i][j]);
        let model = DbscanParams::new(1.0, 4).fit(x.view()).unwrap();
        assert_eq!(model.labels(), &[0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert!(!model.is_core()[4]);
        assert_eq!(model.labels(), &naive(x.view(), Metric::Euclidean, 1.0, 4).0[..]);
        // Cluster order follows the smallest row index.
        let rows: Vec<[f64; 2]> = c.iter().copied().chain([b]).chain(a.iter().copied()).collect();
        let x2 = Array2::from_shape_fn((9, 2), |(i, j)| rows[i][j]);
        let model = DbscanParams::new(1.0, 4).fit(x2.view()).unwrap();
        assert_eq!(model.labels(), &[0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(model.predict(array![[0.0, 0.0], [9.0, 9.0]].view()).unwrap(), vec![0, -1]);
    }

    #[test]
    fn auto_eps_and_filter() {
        let x = grid(200, 2, 7, 1.0);
        let model = DbscanParams::auto(4).fit(x.view()).unwrap();
        let d = model.knn_distances().unwrap();
        // brute-force 4th neighbour, self included
        for (i, &di) in d.iter().enumerate() {
            let mut all: Vec<f64> =
                (0..x.nrows()).map(|j| Metric::Euclidean.distance(&x.row(i).to_vec(), &x.row(j).to_vec())).collect();
            all.sort_by(f64::total_cmp);
            assert_eq!(di, all[3]);
        }
        assert_eq!(model.eps(), KnnEps::default().eps_from(d));
        let filtered = DbscanParams::new(model.eps(), 4).centroid_filter(90.0).fit(x.view()).unwrap();
        assert_eq!(filtered.labels(), model.labels());
        for i in 0..x.nrows() {
            assert!(!filtered.anomalies()[i] || filtered.labels()[i] < 0);
        }
    }

    #[test]
    fn numpy_quantiles_of_the_eps_rule() {
        let s = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_sorted(&s, 0.5), 3.0);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 8.0);
        assert!((quantile_sorted(&s, 0.9) - 6.8).abs() < 1e-12);
    }

    #[test]
    fn bad_input() {
        let x = array![[0.0, 1.0], [f64::NAN, 0.0]];
        assert!(matches!(
            DbscanParams::new(1.0, 2).fit(x.view()),
            Err(ClusterError::Input(InputError::NonFinite { row: 1, col: 0, .. }))
        ));
        let x = array![[0.0, 1.0], [1.0, 0.0]];
        assert!(DbscanParams::new(0.0, 2).fit(x.view()).is_err());
        assert!(DbscanParams::new(-1.0, 2).fit(x.view()).is_err());
        assert!(DbscanParams::new(1.0, 0).fit(x.view()).is_err());
        assert!(DbscanParams::auto(2).fit(x.view()).is_err()); // k = 4 > 2 rows
        let same = Array2::from_elem((10, 2), 1.0);
        assert!(DbscanParams::auto(2).fit(same.view()).is_err()); // eps would be 0
        assert!("auto".parse::<Eps>().is_ok() && "x".parse::<Eps>().is_err());
    }
}
