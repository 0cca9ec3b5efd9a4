//! DBCV (Moulavi et al. 2014) as `hdbscan.validity.validity_index`, and hdbscan's `relative_validity_`.

use ndarray::ArrayView2;
use outflow_cluster::{ClusterModel, Hdbscan, Metric, MstEdge};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, ValidateError};
use crate::labels::{Clusters, check_labelled, finite};

/// Per-cluster terms of [`dbcv`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DbcvCluster {
    /// The cluster's label.
    pub label: i64,
    /// Its points.
    pub size: usize,
    /// `V(C)` in `[−1, 1]`.
    pub validity: f64,
    /// Density sparseness `DSC(C)`.
    pub sparseness: f64,
    /// Smallest density separation to another cluster, `min_j DSPC(C, Cj)`.
    pub separation: f64,
    /// Internal nodes of the cluster's spanning tree.
    pub internal_nodes: usize,
}

/// The result of [`dbcv`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dbcv {
    /// The index, in `[−1, 1]` (higher is better).
    pub value: f64,
    /// Clusters.
    pub n_clusters: usize,
    /// Noise rows (they count in `N`).
    pub n_noise: usize,
    /// Fraction of rows that are not noise.
    pub coverage: f64,
    /// Per cluster, ascending label.
    pub clusters: Vec<DbcvCluster>,
}

/// Points per parallel work unit of the quadratic loops.
const PAR_MIN: usize = 256;

/// The exact DBCV index of `labels` on `x` with `metric` distances (hdbscan's default: Euclidean),
/// step by step as hdbscan 0.8.44 computes it.
///
/// For every cluster `C` (label ≥ 0; the points in ascending row order), with `D` = the number of
/// features:
/// 1. **All-points core distance** `apcd(x) = (Σ_{y ∈ C, d(x,y) ≠ 0} d(x,y)^(−D) / (|C| − 1))^(−1/D)`;
///    zero distances (duplicates) are left out of the sum but not of `|C| − 1`, as hdbscan does; a cluster
///    of identical points gets `apcd = 0`. The powers are computed relative to the row's smallest positive
///    distance `m`: `apcd = m · (Σ (m/d)^D / (|C| − 1))^(−1/D)`, so no term exceeds 1 and nothing
///    overflows or underflows to a wrong value at 10–50 dimensions, where hdbscan's `(1/d)^D` does
///    (there it returns `inf`/`0` core distances; Outflow returns the value hdbscan would compute with
///    exact arithmetic — the index is scale invariant, which the tests use).
/// 2. **Mutual reachability** `mr(x, y) = max(d(x, y), apcd(x), apcd(y))` and its minimum spanning tree
///    by hdbscan's dense Prim (`mst_linkage_core`: start at the cluster's first point, strict `<`
///    updates, the lowest index wins ties). hdbscan then re-derives each edge's first end as the
///    *lowest-index* point already in the tree whose `mr` to the new point `isclose`s (`rtol = 1e-5`,
///    `atol = 1e-8`) the edge weight — reproduced here, as it decides the degrees below.
/// 3. **Internal nodes**: degree > 1 in that tree (none: the first point); **density sparseness**
///    `DSC(C)` = the largest weight among edges joining two internal nodes (none: among all edges).
/// 4. **Density separation** `DSPC(Ci, Cj)` = the smallest `max(d(a, b), apcd(a), apcd(b))` over internal
///    nodes `a ∈ Ci`, `b ∈ Cj`.
/// 5. `V(C) = (min_j DSPC(C, Cj) − DSC(C)) / max(min_j DSPC, DSC)` and `DBCV = Σ_C |C| / N · V(C)`,
///    where **`N` counts every row, noise included**: noise points take part in no cluster, tree or
///    separation, but lower the index through `N` (hdbscan's convention; the paper's too).
///
/// Distances are computed directly (hdbscan's Euclidean `pairwise_distances` uses the
/// `‖x‖² + ‖y‖² − 2x·y` form, which is ~1e-8 instead of 0 between duplicate rows — and those enter
/// step 1 as huge `d^(−D)` terms; with duplicates inside a cluster hdbscan's value is an artefact of its
/// rounding and Outflow's is the index's). Deliberate differences: fewer than two clusters is an error
/// (hdbscan returns NaN), a one-point cluster is an error (hdbscan raises on an empty array), and
/// `0/0` in step 5 (all distances zero) gives `V = 0` instead of NaN.
///
/// **Row order.** Inside a cluster many mutual-reachability distances are equal (a core distance
/// dominates), so the spanning tree — hence the internal nodes and `DSC` — depends on which of the equal
/// edges the index-ordered rules above pick: permuting the rows changes hdbscan's `validity_index` (by up
/// to ~0.2 on small overlapping blobs in our checks), and Outflow's identically. **Scale**: the index is
/// scale invariant except through `isclose`'s absolute tolerance of 1e-8, which matters once distances
/// are that small.
///
/// Cost: O(Σ|C|²·D) time in parallel, O(n) memory (no distance matrix is stored).
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::Metric;
/// let x = array![[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [9.0, 0.0], [9.0, 1.0], [9.0, 2.0], [4.0, 20.0]];
/// let v = outflow_validate::dbcv(x.view(), &[0, 0, 0, 1, 1, 1, -1], Metric::Euclidean).unwrap();
/// assert!(v.value > 0.5 && v.value < 6.0 / 7.0); // two well separated clusters; noise costs 1/7
/// ```
pub fn dbcv(x: ArrayView2<'_, f64>, labels: &[i64], metric: Metric) -> Result<Dbcv> {
    check_labelled(x, labels)?;
    metric.validate(x.ncols())?;
    let cl = Clusters::new(labels);
    if cl.k() < 2 {
        return Err(ValidateError::TooFewClusters { found: cl.k() });
    }
    if let Some(c) = cl.sizes.iter().position(|&s| s < 2) {
        return Err(ValidateError::SingletonCluster { label: cl.labels[c] });
    }
    let dim = x.ncols();
    // Members of each cluster (ascending rows), contiguous coordinates.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); cl.k()];
    for (&r, &c) in cl.rows.iter().zip(&cl.ids) {
        members[c].push(r);
    }
    let trees: Vec<ClusterTree> = members
        .iter()
        .map(|rows| {
            let pts: Vec<f64> = rows.iter().flat_map(|&r| x.row(r).to_vec()).collect();
            ClusterTree::new(pts, dim, metric)
        })
        .collect();
    let k = cl.k();
    // Pairwise separations between internal nodes (min is exact in any order).
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|i| (i + 1..k).map(move |j| (i, j))).collect();
    let seps: Vec<f64> = pairs.iter().map(|&(i, j)| separation(&trees[i], &trees[j], metric)).collect();
    let mut min_sep = vec![f64::INFINITY; k];
    for (&(i, j), &s) in pairs.iter().zip(&seps) {
        min_sep[i] = min_sep[i].min(s);
        min_sep[j] = min_sep[j].min(s);
    }
    let n_total = labels.len() as f64;
    let mut value = 0.0;
    let clusters: Vec<DbcvCluster> = (0..k)
        .map(|c| {
            let v = ratio(min_sep[c], trees[c].sparseness);
            value += cl.sizes[c] as f64 / n_total * v;
            DbcvCluster {
                label: cl.labels[c],
                size: cl.sizes[c],
                validity: v,
                sparseness: trees[c].sparseness,
                separation: min_sep[c],
                internal_nodes: trees[c].internal.len(),
            }
        })
        .collect();
    Ok(Dbcv { value: finite(value)?, n_clusters: k, n_noise: cl.n_noise, coverage: cl.coverage(), clusters })
}

/// `(sep − sparse) / max(sep, sparse)`, 0 for `0/0`.
fn ratio(sep: f64, sparse: f64) -> f64 {
    let m = sep.max(sparse);
    if m > 0.0 { (sep - sparse) / m } else { 0.0 }
}

/// One cluster's points, all-points core distances, spanning tree summary.
struct ClusterTree {
    pts: Vec<f64>,
    dim: usize,
    core: Vec<f64>,
    /// Internal nodes (indices into the cluster), ascending.
    internal: Vec<usize>,
    sparseness: f64,
}

impl ClusterTree {
    fn new(pts: Vec<f64>, dim: usize, metric: Metric) -> Self {
        let n = pts.len() / dim;
        let row = |i: usize| &pts[i * dim..(i + 1) * dim];
        let dist = |i: usize, j: usize| metric.distance(row(i), row(j));
        // 1. All-points core distances.
        let exp = dim as u32;
        let core_raw: Vec<f64> = (0..n)
            .into_par_iter()
            .with_min_len(PAR_MIN / 4)
            .map(|i| {
                let ds: Vec<f64> = (0..n).filter(|&j| j != i).map(|j| dist(i, j)).collect();
                let Some(m) = ds.iter().copied().filter(|&v| v > 0.0).reduce(f64::min) else {
                    return 0.0; // every other point is a duplicate
                };
                let mut s = 0.0;
                for &v in &ds {
                    if v > 0.0 {
                        s += powi(m / v, exp);
                    }
                }
                m * (s / (n - 1) as f64).powf(-1.0 / dim as f64)
            })
            .collect();
        // hdbscan zeroes all core distances only when they all vanish (every point identical).
        let core = core_raw;
        let mr = |i: usize, j: usize| dist(i, j).max(core[i]).max(core[j]);
        // 2. Prim's algorithm exactly as hdbscan's mst_linkage_core.
        let mut in_tree = vec![false; n];
        let mut cur_dist = vec![f64::MAX; n];
        let mut cur_src = vec![0usize; n];
        let mut rank = vec![usize::MAX; n];
        rank[0] = 0;
        let mut edges: Vec<(usize, usize, f64)> = Vec::with_capacity(n.saturating_sub(1));
        let mut current = 0usize;
        for step in 1..n {
            in_tree[current] = true;
            let best = cur_dist
                .par_iter_mut()
                .zip(cur_src.par_iter_mut())
                .enumerate()
                .with_min_len(PAR_MIN * 4)
                .filter(|(j, _)| !in_tree[*j])
                .map(|(j, (cd, cs))| {
                    let d = mr(current, j);
                    if d < *cd {
                        *cd = d;
                        *cs = current;
                    }
                    (*cd, j, *cs)
                })
                .reduce(
                    || (f64::MAX, usize::MAX, 0),
                    |a, b| if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) { b } else { a },
                );
            let (w, new, src) = if best.1 == usize::MAX {
                // hdbscan's loop keeps new_node = 0 when nothing beats DBL_MAX (never with finite data).
                (f64::MAX, 0, 0)
            } else {
                best
            };
            edges.push((src, new, w));
            rank[new] = step;
            current = new;
        }
        // hdbscan re-derives the first end of rows ≥ 1: the lowest-index tree node whose mr isclose's w.
        let fixed: Vec<usize> = (0..edges.len())
            .into_par_iter()
            .with_min_len(PAR_MIN / 4)
            .map(|t| {
                let (src, new, w) = edges[t];
                if t == 0 {
                    return src;
                }
                (0..n)
                    .find(|&c| c != new && rank[c] <= t && (mr(new, c) - w).abs() <= 1e-8 + 1e-5 * w.abs())
                    .unwrap_or(src)
            })
            .collect();
        // 3. Internal nodes and density sparseness.
        let mut degree = vec![0usize; n];
        for (t, e) in edges.iter().enumerate() {
            degree[fixed[t]] += 1;
            degree[e.1] += 1;
        }
        let mut internal: Vec<usize> = (0..n).filter(|&i| degree[i] > 1).collect();
        if internal.is_empty() {
            internal.push(0);
        }
        let is_internal = {
            let mut v = vec![false; n];
            for &i in &internal {
                v[i] = true;
            }
            v
        };
        let inner = edges.iter().enumerate().filter(|(t, e)| is_internal[fixed[*t]] && is_internal[e.1]);
        let sparseness = match inner.clone().map(|(_, e)| e.2).reduce(f64::max) {
            Some(m) => m,
            None => edges.iter().map(|e| e.2).fold(f64::NEG_INFINITY, f64::max),
        };
        ClusterTree { pts, dim, core, internal, sparseness }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.pts[i * self.dim..(i + 1) * self.dim]
    }
}

/// `x^e` by repeated squaring (`e ≥ 1`; `0 < x ≤ 1` here, so no overflow).
#[inline]
fn powi(mut x: f64, mut e: u32) -> f64 {
    let mut r = 1.0;
    while e > 0 {
        if e & 1 == 1 {
            r *= x;
        }
        x *= x;
        e >>= 1;
    }
    r
}

/// Smallest mutual-reachability distance between internal nodes of two clusters.
fn separation(a: &ClusterTree, b: &ClusterTree, metric: Metric) -> f64 {
    a.internal
        .par_iter()
        .with_min_len(16)
        .map(|&i| {
            let mut best = f64::INFINITY;
            for &j in &b.internal {
                let v = metric.distance(a.row(i), b.row(j)).max(a.core[i]).max(b.core[j]);
                best = best.min(v);
            }
            best
        })
        .reduce(|| f64::INFINITY, f64::min)
}

/// hdbscan's `relative_validity_` of a fitted model, from its MST and labels.
///
/// The same formula on HDBSCAN's own mutual-reachability MST (core distances from `min_samples`, not
/// all-points core distances): `DSC(C)` = the largest MST edge inside `C`, `DSPC(C)` = the smallest MST
/// edge between `C` and another cluster; a cluster with no such edge gets `2 ×` the largest MST edge
/// (with one cluster: `2 ×` the smallest edge between it and noise, else the largest edge), and
/// `Σ |C| / N · V(C)`. Cheap (one pass over the `n − 1` edges) and only meaningful for comparing
/// hyper-parameters on the same data. `0/0` gives `V = 0` (hdbscan: NaN).
///
/// ```
/// use ndarray::Array2;
/// use outflow_cluster::{Fit, HdbscanParams};
/// let mut x = Array2::<f64>::zeros((40, 2));
/// for i in 0..40 { x[[i, 0]] = (i / 20) as f64 * 10.0 + (i % 5) as f64 * 0.1; x[[i, 1]] = (i % 20 / 5) as f64 * 0.1; }
/// let model = HdbscanParams::new(5).fit(x.view()).unwrap();
/// let rv = outflow_validate::relative_validity(&model).unwrap();
/// assert!(rv > 0.9);
/// ```
pub fn relative_validity(model: &Hdbscan) -> Result<f64> {
    relative_validity_from_mst(model.mst(), model.labels())
}

/// hdbscan's `relative_validity_` from any mutual-reachability MST (`a`, `b` row indices, `distance`)
/// and one label per row (negative = noise).
pub fn relative_validity_from_mst(mst: &[MstEdge], labels: &[i64]) -> Result<f64> {
    let n = labels.len();
    if let Some(e) = mst.iter().find(|e| e.a >= n || e.b >= n) {
        return Err(ValidateError::param("mst", format!("edge ({}, {}) is outside the {n} labels", e.a, e.b)));
    }
    if let Some(e) = mst.iter().find(|e| !e.distance.is_finite()) {
        return Err(ValidateError::param("mst", format!("edge ({}, {}) has weight {}", e.a, e.b, e.distance)));
    }
    let k = labels.iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize);
    let mut size = vec![0usize; k];
    for &l in labels {
        if l >= 0 {
            size[l as usize] += 1;
        }
    }
    let mut dsc = vec![0.0f64; k];
    let mut dspc = vec![f64::INFINITY; k];
    let mut min_outlier_sep = f64::INFINITY;
    let max_distance = mst.iter().map(|e| e.distance).fold(0.0, f64::max);
    for e in mst {
        let (l1, l2, w) = (labels[e.a], labels[e.b], e.distance);
        match (l1 < 0, l2 < 0) {
            (true, true) => {}
            (true, false) | (false, true) => min_outlier_sep = min_outlier_sep.min(w),
            (false, false) if l1 == l2 => dsc[l1 as usize] = dsc[l1 as usize].max(w),
            (false, false) => {
                dspc[l1 as usize] = dspc[l1 as usize].min(w);
                dspc[l2 as usize] = dspc[l2 as usize].min(w);
            }
        }
    }
    if min_outlier_sep == f64::INFINITY {
        min_outlier_sep = max_distance;
    }
    let correction = 2.0 * if k > 1 { max_distance } else { min_outlier_sep };
    let mut score = 0.0;
    for c in 0..k {
        let sep = if dspc[c] == f64::INFINITY { correction } else { dspc[c] };
        score += size[c] as f64 * ratio(sep, dsc[c]) / n as f64;
    }
    finite(score)
}
