//! Branch detection within clusters (FLASC: Bot, Peeters, Liesenborgs & Aerts, PeerJ CS 2025), as
//! hdbscan's `hdbscan.branches` defines it: each cluster's points are ranked by eccentricity (distance to
//! the cluster's centroid), a graph of the cluster is filtered from the outside in, and the parts that
//! stay apart longest — flares, arms of a star, the two ends of an arc — become branches, chosen by the
//! same condensed tree and selection as HDBSCAN's clusters. A cluster of more than two branches (more
//! than one with `label_sides_as_branches`) is split: its centre and each branch get a label.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::check_matrix;

use super::tree::{self, ClusterSelection, CondensedTree, SelectionRule};
use super::{Hdbscan, HdbscanParams, MstEdge};
use crate::error::{ClusterError, Result};
use crate::kdtree::KdTree;
use crate::kdtree::range::{for_each_within, reduced_radius};
use crate::metric::{Metric, dispatch_tree};
use crate::neighbors::NearestNeighbors;
use crate::traits::ClusterModel;

/// Which graph connects a cluster's points (hdbscan's `branch_detection_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchGraph {
    /// Every pair of the cluster not farther apart than its longest minimum-spanning-tree edge
    /// (hdbscan's default, `"full"`): O(m²) pairs for a cluster of m points.
    #[default]
    Full,
    /// The cluster's minimum-spanning-tree edges and its k-nearest-neighbour pairs, k = `min_samples − 2`
    /// other rows (hdbscan's `"core"`: its kNN query counts the point itself and has one neighbour fewer
    /// than the clustering). A pair that is both counts twice its weight, as hdbscan's sums it.
    Core,
}

/// Parameters of [`Hdbscan::branches`] (hdbscan's `BranchDetector`); `None` takes the model's value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BranchParams {
    /// The graph of each cluster.
    pub graph: BranchGraph,
    /// Split a cluster of two branches too (its two sides).
    pub label_sides_as_branches: bool,
    /// Smallest branch (≥ 2); `None`: the model's `min_cluster_size`.
    pub min_branch_size: Option<usize>,
    /// Largest branch the excess of mass returns (0 = none); `None`: the model's `max_cluster_size`.
    pub max_branch_size: Option<usize>,
    /// Whether a cluster's whole branch tree may be the one branch; `None`: the model's
    /// `allow_single_cluster`.
    pub allow_single_branch: Option<bool>,
    /// Excess of mass or leaf; `None`: the model's.
    pub branch_selection: Option<ClusterSelection>,
    /// Branches split off farther than 1 / this from the centroid are merged upwards (centrality units;
    /// 0 = off; not taken from the model).
    pub branch_selection_epsilon: f64,
    /// Splits whose branches persist less than this (in eccentricity, a distance) are removed first
    /// (0 = off; not taken from the model).
    pub branch_selection_persistence: f64,
}

/// One cluster's branches.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterBranches {
    /// The cluster's training rows, ascending (the condensed tree's points are these, in this order).
    pub rows: Vec<usize>,
    /// Selected branches.
    pub n_branches: usize,
    /// hdbscan's `branch_persistences_` of the selected branches.
    pub persistences: Vec<f64>,
    /// The branch condensed tree (λ = eccentricity); empty for a cluster of fewer than two rows.
    pub condensed: CondensedTree,
    /// The first of the cluster's labels in [`Branches::labels`] (its centre's when it is split).
    pub first_label: i64,
    /// Whether the cluster was split into its centre and branches.
    pub split: bool,
}

/// What [`Hdbscan::branches`] finds (hdbscan's `BranchDetector` attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct Branches {
    /// A label per row: a cluster that is not split keeps one; a split cluster's centre has one and each
    /// branch one, consecutive by cluster, then branch; −1 noise.
    pub labels: Vec<i64>,
    /// The cluster probability, or in a split cluster the mean of the cluster and branch probabilities.
    pub probabilities: Vec<f64>,
    /// The clustering the branches were found in.
    pub cluster_labels: Vec<i64>,
    /// Its membership probabilities.
    pub cluster_probabilities: Vec<f64>,
    /// Branch within the cluster (−1: the centre of a split cluster; 0 in a cluster not split and for noise).
    pub branch_labels: Vec<i64>,
    /// Membership of the branch (1 in a cluster not split and for noise).
    pub branch_probabilities: Vec<f64>,
    /// 1 / distance to the cluster's centroid (0 for noise).
    pub centralities: Vec<f64>,
    /// Per cluster, in label order.
    pub clusters: Vec<ClusterBranches>,
}

impl Hdbscan {
    /// Branches within the clusters of the training rows `x` (FLASC, as hdbscan's
    /// `BranchDetector().fit(clusterer)`). The centroid of a cluster is the mean of its rows weighted by
    /// their membership probabilities, a row's centrality 1 / its distance to it (the model's metric); each
    /// graph edge weighs the larger centrality of its ends, and the graph's minimum spanning tree goes
    /// through the level tree, condensed tree and selection of the clustering itself. With
    /// `allow_single_cluster` and one cluster, every row (noise too) is in it, as hdbscan gives it.
    ///
    /// Deliberate difference: a branch merge is always a tie (the vertex joining two branches reaches both
    /// at its own centrality). hdbscan's binary tree files that vertex, and any small piece joined in the
    /// same step, under one branch in the order its sort happens to give (its result moves with the row
    /// order, and can hold a branch of zero persistence); here they fall out of the parent. The "full"
    /// graph then does not depend on the row order; the "core" graph takes the clustering's tree edges
    /// and nearest neighbours, which can (ties in mutual reachability and distance). A row exactly on
    /// its cluster's centroid has centrality +∞, as in hdbscan (a one-row cluster's only row too).
    ///
    /// ```
    /// use ndarray::Array2;
    /// use outflow_cluster::{BranchParams, Fit, HdbscanParams};
    /// // A star of three arms, 30 points each, from the origin.
    /// let x = Array2::from_shape_fn((91, 2), |(i, j)| {
    ///     if i == 90 { return 0.0; }
    ///     let (arm, t) = (i / 30, 0.1 * (1 + i % 30) as f64);
    ///     let angle = arm as f64 * 2.0 * std::f64::consts::PI / 3.0;
    ///     t * if j == 0 { angle.cos() } else { angle.sin() }
    /// });
    /// let model = HdbscanParams::new(20).min_samples(2).allow_single_cluster(true).fit(x.view()).unwrap();
    /// let b = model.branches(x.view(), &BranchParams { min_branch_size: Some(10), ..Default::default() }).unwrap();
    /// assert_eq!(b.clusters[0].n_branches, 3);
    /// assert_ne!(b.labels[5], b.labels[35]);
    /// ```
    pub fn branches(&self, x: ArrayView2<'_, f64>, params: &BranchParams) -> Result<Branches> {
        if self.mst.is_empty() && self.labels.len() > 1 {
            return Err(ClusterError::Unsupported(
                "branch detection needs the minimum spanning tree, which a slim model has dropped".into(),
            ));
        }
        if self.points.row_weights().is_some() {
            return Err(ClusterError::Unsupported("branch detection is defined without sample weights".into()));
        }
        if self.params.metric == Metric::Precomputed {
            return Err(ClusterError::param("metric", "branch detection needs the rows' coordinates".to_string()));
        }
        outflow_core::check_width(x.ncols(), self.n_features)?;
        outflow_core::check_len("the rows the model was fitted on", self.labels.len(), x.nrows())?;
        if let Some(r) = (0..x.nrows()).find(|&r| x.row(r) != self.points.points.row(self.points.unique_of(r))) {
            return Err(ClusterError::param("x", format!("row {r} is not the row the model was fitted on")));
        }
        let (labels, probabilities) = self.single_cluster_labels();
        params.detect(x, &labels, Some(&probabilities), &self.mst, &self.params)
    }

    /// hdbscan's `update_single_cluster_labels`: with `allow_single_cluster` and one cluster, every row is
    /// in it with probability 1, except (with `cluster_selection_epsilon`) the rows that leave it below
    /// λ = 1 / epsilon.
    fn single_cluster_labels(&self) -> (Vec<i64>, Vec<f64>) {
        let n = self.labels.len();
        if !(self.params.allow_single_cluster && self.n_clusters() == 1) {
            return (self.labels.clone(), self.probabilities.clone());
        }
        let (mut labels, mut probabilities) = (vec![0; n], vec![1.0; n]);
        one_cluster(&self.condensed, &mut labels, &mut probabilities, self.params.cluster_selection_epsilon);
        (labels, probabilities)
    }
}

impl BranchParams {
    /// Branch detection from a given clustering of `x`: its labels, probabilities (`None`: 1 for
    /// clustered rows) and mutual-reachability minimum spanning tree, with the HDBSCAN parameters it came
    /// from (hdbscan's `labels=` override; [`Hdbscan::branches`] passes the model's own). Where a given
    /// cluster's graph is not connected, it is not split (hdbscan labels its components as branches).
    pub fn detect(
        &self,
        x: ArrayView2<'_, f64>,
        labels: &[i64],
        probabilities: Option<&[f64]>,
        mst: &[MstEdge],
        hdbscan: &HdbscanParams,
    ) -> Result<Branches> {
        check_matrix(x)?;
        let n = x.nrows();
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        if labels.len() != n || probabilities.is_some_and(|p| p.len() != n) {
            return bad("x", format!("{n} rows against {} labels of the clustering", labels.len()));
        }
        if let Some(i) = labels.iter().position(|&l| l < -1 || l >= n as i64) {
            return bad(
                "labels",
                format!("label {} of row {i} is neither −1 (noise) nor a cluster below {n}", labels[i]),
            );
        }
        if let Some(i) = probabilities.and_then(|p| p.iter().position(|v| !(0.0..=1.0).contains(v))) {
            return bad("probabilities", format!("row {i}: a membership probability is in [0, 1]"));
        }
        if let Some(e) = mst.iter().find(|e| e.a >= n || e.b >= n || e.distance.is_nan()) {
            return bad("mst", format!("edge ({}, {}, {}) is not an edge between {n} rows", e.a, e.b, e.distance));
        }
        if hdbscan.metric == Metric::Precomputed {
            return bad("metric", "branch detection needs the rows' coordinates, not precomputed distances".into());
        }
        hdbscan.metric.validate(x.ncols())?;
        let min_size = self.min_branch_size.unwrap_or(hdbscan.min_cluster_size);
        if min_size < 2 {
            return bad("min_branch_size", format!("must be at least 2, got {min_size}"));
        }
        for (name, v) in [
            ("branch_selection_epsilon", self.branch_selection_epsilon),
            ("branch_selection_persistence", self.branch_selection_persistence),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(name, format!("must be finite and ≥ 0, got {v}"));
            }
        }
        let rule = SelectionRule {
            method: self.branch_selection.unwrap_or(hdbscan.cluster_selection),
            allow_single_cluster: self.allow_single_branch.unwrap_or(hdbscan.allow_single_cluster),
            epsilon: self.branch_selection_epsilon,
            max_cluster_size: self.max_branch_size.unwrap_or(hdbscan.max_cluster_size),
            epsilon_max: f64::INFINITY,
        };
        let cluster_probabilities: Vec<f64> = match probabilities {
            Some(p) => p.to_vec(),
            None => labels.iter().map(|&l| if l >= 0 { 1.0 } else { 0.0 }).collect(),
        };
        let k = labels.iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize);
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (r, &l) in labels.iter().enumerate() {
            if l >= 0 {
                rows_of[l as usize].push(r);
            }
        }
        // hdbscan's kNN counts the point itself and has one neighbour fewer than the clustering.
        let knn = match self.graph {
            BranchGraph::Core => {
                let others = hdbscan.effective_min_samples().saturating_sub(2).min(n - 1);
                if others == 0 {
                    None
                } else {
                    Some(NearestNeighbors::fit(x, hdbscan.metric)?.kneighbors_self(others)?.1)
                }
            }
            BranchGraph::Full => None,
        };
        // The clustering's tree edges inside each cluster, in in-cluster ids.
        let id = |r: usize| rows_of[labels[r] as usize].binary_search(&r).expect("a row of its cluster");
        let mut tree_of: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); k];
        for e in mst.iter().filter(|e| labels[e.a] >= 0 && labels[e.a] == labels[e.b]) {
            let (a, b) = (id(e.a), id(e.b));
            tree_of[labels[e.a] as usize].push((a.min(b), a.max(b), e.distance));
        }
        let x = x.as_standard_layout();
        let row = |r: usize| x.row(r).to_slice().expect("standard layout");
        let metric = hdbscan.metric;
        let per_cluster: Vec<(Vec<f64>, Option<tree::Selection>, CondensedTree)> = rows_of
            .par_iter()
            .zip(&tree_of)
            .map(|(rows, tree_edges)| {
                let centrality = centralities(rows, &cluster_probabilities, &row, metric);
                if rows.len() < 2 {
                    return (centrality, None, CondensedTree::default());
                }
                let spanning = match self.graph {
                    BranchGraph::Full => full_graph_tree(rows, &centrality, tree_edges, &row, metric),
                    BranchGraph::Core => {
                        let edges = core_graph(rows, &centrality, tree_edges, knn.as_ref());
                        tree::spanning_forest(rows.len(), edges)
                    }
                };
                let ct = branch_tree(rows.len(), &spanning, min_size, self.branch_selection_persistence);
                // (A cluster of one branch is not split, so hdbscan's single-cluster relabelling of a
                // branch tree leaves no trace.)
                let sel = tree::select(&ct, &rule);
                (centrality, Some(sel), ct)
            })
            .collect();
        let mut out = Branches {
            labels: vec![-1; n],
            probabilities: cluster_probabilities.clone(),
            cluster_labels: labels.to_vec(),
            cluster_probabilities,
            branch_labels: vec![0; n],
            branch_probabilities: vec![1.0; n],
            centralities: vec![0.0; n],
            clusters: Vec::with_capacity(k),
        };
        let limit = if self.label_sides_as_branches { 1 } else { 2 };
        let mut running = 0i64;
        for (rows, (centrality, sel, condensed)) in rows_of.into_iter().zip(per_cluster) {
            for (&r, &c) in rows.iter().zip(&centrality) {
                out.centralities[r] = c;
            }
            let first_label = running;
            let n_branches = sel.as_ref().map_or(0, |s| s.clusters.len());
            let persistences = sel.as_ref().map_or_else(Vec::new, |s| s.persistence.clone());
            let split = match &sel {
                Some(s) if n_branches > limit => {
                    let centre = i64::from(s.labels.iter().any(|&l| l < 0));
                    for (i, &r) in rows.iter().enumerate() {
                        let b = s.labels[i];
                        out.labels[r] = running + if b < 0 { 0 } else { centre + b };
                        out.branch_labels[r] = b;
                        out.branch_probabilities[r] = s.probabilities[i];
                        out.probabilities[r] = (out.cluster_probabilities[r] + s.probabilities[i]) / 2.0;
                    }
                    running += n_branches as i64 + centre;
                    true
                }
                _ => {
                    for &r in &rows {
                        out.labels[r] = running;
                    }
                    running += 1;
                    false
                }
            };
            out.clusters.push(ClusterBranches { rows, n_branches, persistences, condensed, first_label, split });
        }
        Ok(out)
    }
}

/// The minimum spanning tree of the "full" graph (every pair of the cluster within its longest tree
/// edge, weighing the larger centrality) without listing its pairs, which can be most of the m² of a
/// compact cluster: rows join from the outside in (ascending centrality), each to every row taken
/// before it within reach, at its own centrality — Kruskal's order, as every edge of a row weighs that
/// row's centrality when the row is the later end. Memory O(m); ascending weights.
fn full_graph_tree<'a>(
    rows: &[usize],
    centrality: &[f64],
    tree_edges: &[(usize, usize, f64)],
    row: &(impl Fn(usize) -> &'a [f64] + Sync),
    metric: Metric,
) -> Vec<(usize, usize, f64)> {
    let m = rows.len();
    let reach = tree_edges.iter().map(|e| e.2).fold(0.0, f64::max);
    let mut tree_adj: Vec<Vec<usize>> = vec![Vec::new(); m];
    for &(a, b, _) in tree_edges {
        tree_adj[a].push(b);
        tree_adj[b].push(a);
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| centrality[a].total_cmp(&centrality[b]).then(a.cmp(&b)));
    let index = metric.has_tree().then(|| {
        let pts = ndarray::Array2::from_shape_fn((m, row(rows[0]).len()), |(i, j)| row(rows[i])[j]);
        KdTree::build(pts.view(), 32)
    });
    // The search radius keeps a rounding margin; each candidate is then tested as hdbscan tests it.
    let radius = reduced_radius(metric, reach * (1.0 + 1e-9) + 1e-12);
    let mut added = vec![false; m];
    let mut uf: Vec<usize> = (0..m).collect();
    let mut out = Vec::with_capacity(m - 1);
    let mut near: Vec<usize> = Vec::new();
    for &v in &order {
        added[v] = true;
        near.clear();
        near.extend(tree_adj[v].iter().copied().filter(|&u| added[u]));
        let within = |u: usize| u != v && added[u] && metric.distance(row(rows[v]), row(rows[u])) <= reach;
        match &index {
            Some(t) => dispatch_tree!(metric, K => for_each_within::<K>(t, row(rows[v]), radius, |pos| {
                let u = t.index[pos] as usize;
                if within(u) {
                    near.push(u);
                }
                true
            })),
            None => near.extend((0..m).filter(|&u| within(u))),
        }
        for &u in &near {
            let (ru, rv) = (tree::find(&mut uf, u), tree::find(&mut uf, v));
            if ru != rv {
                uf[ru] = rv;
                out.push((u.min(v), u.max(v), centrality[v]));
            }
        }
    }
    out
}

/// The "core" graph in in-cluster ids: the cluster's tree edges and its rows' nearest-neighbour pairs,
/// weighing the larger centrality; a pair that is both counts twice (hdbscan sums its two entries).
fn core_graph(
    rows: &[usize],
    centrality: &[f64],
    tree_edges: &[(usize, usize, f64)],
    knn: Option<&ndarray::Array2<usize>>,
) -> Vec<(usize, usize, f64)> {
    let weight = |a: usize, b: usize| centrality[a].max(centrality[b]);
    let mut pairs: std::collections::HashMap<(usize, usize), f64> =
        tree_edges.iter().map(|&(a, b, _)| ((a, b), weight(a, b))).collect();
    if let Some(knn) = knn {
        let mut listed: std::collections::HashSet<(usize, usize)> = std::collections::HashSet::new();
        for (a, &r) in rows.iter().enumerate() {
            for &q in knn.row(r) {
                if let Some(b) = rows.binary_search(&q).ok().filter(|&b| b != a) {
                    listed.insert((a.min(b), a.max(b)));
                }
            }
        }
        for (a, b) in listed {
            let w = weight(a, b);
            pairs.entry((a, b)).and_modify(|v| *v = 2.0 * w).or_insert(w);
        }
    }
    pairs.into_iter().map(|((a, b), w)| (a, b, w)).collect()
}

/// 1 / the distance of each of the cluster's rows to its probability-weighted centroid.
fn centralities<'a>(
    rows: &[usize],
    probabilities: &[f64],
    row: &impl Fn(usize) -> &'a [f64],
    metric: Metric,
) -> Vec<f64> {
    let Some(&first) = rows.first() else { return Vec::new() };
    let d = row(first).len();
    let mut centroid = vec![0.0; d];
    let total: f64 = rows.iter().map(|&r| probabilities[r]).sum();
    for &r in rows {
        // Without any membership weight (all 0), the plain mean.
        let w = if total > 0.0 { probabilities[r] / total } else { 1.0 / rows.len() as f64 };
        for (c, v) in centroid.iter_mut().zip(row(r)) {
            *c += w * v;
        }
    }
    rows.iter().map(|&r| 1.0 / metric.distance(&centroid, row(r))).collect()
}

/// The branch condensed tree of a cluster from the spanning tree of its graph (ascending weights): the
/// level tree, condensed with `min_size`, simplified by `persistence`.
fn branch_tree(m: usize, spanning: &[(usize, usize, f64)], min_size: usize, persistence: f64) -> CondensedTree {
    if spanning.len() + 1 < m {
        // Not connected (only with a clustering given from outside): no split.
        return CondensedTree { n_points: m, ..Default::default() };
    }
    let ct = tree::condense(&tree::level_tree(m, spanning, None), min_size);
    if persistence > 0.0 { tree::simplify(&ct, persistence) } else { ct }
}

/// With `epsilon`, the rows of a one-cluster labelling that leave the tree below λ = 1 / epsilon are
/// noise again.
fn one_cluster(ct: &CondensedTree, labels: &mut [i64], probabilities: &mut [f64], epsilon: f64) {
    if epsilon <= 0.0 {
        return;
    }
    for (p, &row) in ct.point_rows().iter().enumerate() {
        if row != usize::MAX && ct.lambda_val[row] < 1.0 / epsilon {
            (labels[p], probabilities[p]) = (-1, 0.0);
        }
    }
}
