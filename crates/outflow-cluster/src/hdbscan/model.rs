//! The fitted HDBSCAN model.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::tree::{CondensedTree, SingleLinkageTree};
use crate::traits::ClusterModel;

use super::*;

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
    pub(super) params: HdbscanParams,
    #[serde(with = "outflow_core::codec::i64s")]
    pub(super) labels: Vec<i64>,
    #[serde(with = "outflow_core::codec::f64s")]
    pub(super) probabilities: Vec<f64>,
    #[serde(with = "outflow_core::codec::f64s")]
    pub(super) outlier_scores: Vec<f64>,
    pub(super) persistence: Vec<f64>,
    #[serde(with = "outflow_core::codec::f64s")]
    pub(super) core_distances: Vec<f64>,
    /// Empty after [`Hdbscan::slim`].
    pub(super) mst: Vec<MstEdge>,
    pub(super) single_linkage: SingleLinkageTree,
    pub(super) condensed: CondensedTree,
    /// Selected cluster ids of the condensed tree, ascending (label k ↔ `selected[k]`).
    pub(super) selected: Vec<usize>,
    /// Training rows (deduplicated), kept for prediction.
    pub(super) points: Points,
    pub(super) n_features: usize,
    /// Recall of the approximate neighbour graph, measured on a sample (exact fits: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) neighbor_recall: Option<f64>,
    /// Lookup tables for prediction, built on first use (also after deserialisation).
    #[serde(skip)]
    pub(super) derived: OnceLock<Derived>,
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
    /// The share of true nearest neighbours the approximate neighbour graph held, measured against an
    /// exact scan of a sample of rows ([`crate::Neighbors::Approximate`]); `None` for an exact fit.
    pub fn neighbor_recall(&self) -> Option<f64> {
        self.neighbor_recall
    }

    /// Checks what a fit guarantees and a model file could break, where a broken value would make
    /// prediction index past its arrays, allocate without bound or climb the tree forever: per-row arrays
    /// of one length, the unique points and their row maps in range, and a condensed tree whose indices
    /// stay below its size and whose clusters come after their parents.
    pub fn check(&self) -> std::result::Result<(), String> {
        let n = self.labels.len();
        let per_row = [self.probabilities.len(), self.outlier_scores.len(), self.core_distances.len()];
        if per_row.iter().any(|&l| l != n) {
            return Err(format!("{n} labels but {per_row:?} probabilities, outlier scores, core distances"));
        }
        let p = &self.points;
        let u = p.len();
        let maps_ok = (p.weights.is_empty() || p.weights.len() == u)
            && (p.row_weight.is_empty()
                || (p.row_weight.len() == n && p.row_weight.iter().all(|w| w.is_finite() && *w >= 0.0)))
            && (p.first.is_empty() || (p.first.len() == u && p.first.iter().all(|&r| r < n)))
            && (p.of_row.is_empty() || (p.of_row.len() == n && p.of_row.iter().all(|&q| (q as usize) < u)))
            && (!p.first.is_empty() || !p.of_row.is_empty() || u == n)
            && u > 0;
        let width_ok = match &p.sparse {
            None => p.points.ncols() == self.n_features,
            // Read back through `SparseDistances::from_csr`: checked already.
            Some(d) => {
                p.points.ncols() == 0
                    && d.n_rows() == n
                    && self.n_features == n
                    && self.params.metric == crate::metric::Metric::Precomputed
            }
        };
        if !maps_ok || !width_ok {
            return Err(format!("{u} points of {} features do not map onto {n} rows", p.points.ncols()));
        }
        let ct = &self.condensed;
        let len = ct.parent.len();
        let weights_ok = ct.child_weight.is_empty() || ct.child_weight.len() == len;
        if ct.n_points != n
            || !weights_ok
            || [ct.child.len(), ct.lambda_val.len(), ct.child_size.len()].iter().any(|&l| l != len)
        {
            return Err(format!("a condensed tree of {} points and ragged columns for {n} rows", ct.n_points));
        }
        let bound = n + len;
        for i in 0..len {
            let (parent, child) = (ct.parent[i], ct.child[i]);
            let cluster_after_parent = child < n || child > parent;
            if parent < n || parent >= bound || child >= bound || !cluster_after_parent || ct.lambda_val[i].is_nan() {
                return Err(format!("condensed tree row {i}: parent {parent}, child {child} of {n} points"));
            }
        }
        if let Some(&c) = self.selected.iter().find(|&&c| c < n || c >= bound) {
            return Err(format!("selected cluster {c} is not a cluster of the tree"));
        }
        Ok(())
    }

    /// The parameters used.
    pub fn params(&self) -> &HdbscanParams {
        &self.params
    }

    /// The sample weight of each training row, when fitted with weights ([`HdbscanParams::fit_weighted`]).
    pub fn sample_weights(&self) -> Option<&[f64]> {
        self.points.row_weights()
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

    /// The flat clustering DBSCAN* would give at `cut_distance`, read from the single-linkage tree as
    /// hdbscan's and scikit-learn's `dbscan_clustering(cut_distance, min_cluster_size)` do: points joined
    /// by merges below `cut_distance` (mutual-reachability distance, strictly below) form a cluster;
    /// clusters of fewer than `min_cluster_size` points are noise (−1). Clusters are numbered by their
    /// first point. Needs the single-linkage tree (not a [`Hdbscan::slim`] model).
    pub fn dbscan_clustering(&self, cut_distance: f64, min_cluster_size: usize) -> crate::Result<Vec<i64>> {
        let n = self.single_linkage.n_points;
        if cut_distance.is_nan() || cut_distance <= 0.0 {
            return Err(crate::ClusterError::param("cut_distance", format!("must be > 0, got {cut_distance}")));
        }
        if min_cluster_size == 0 {
            return Err(crate::ClusterError::param("min_cluster_size", "must be at least 1"));
        }
        if n > 1 && self.single_linkage.merges.is_empty() {
            return Err(crate::ClusterError::Unsupported(
                "dbscan_clustering needs the single-linkage tree, which a slim model has dropped".into(),
            ));
        }
        // Union-find over the merges below the cut (node n + i is made by merge i).
        let mut parent: Vec<usize> = (0..n + self.single_linkage.merges.len()).collect();
        let find = super::tree::find;
        for (i, m) in self.single_linkage.merges.iter().enumerate() {
            if m.distance < cut_distance {
                for child in [m.left, m.right] {
                    let r = find(&mut parent, child);
                    parent[r] = n + i;
                }
            }
        }
        let roots: Vec<usize> = (0..n).map(|p| find(&mut parent, p)).collect();
        let mut size = std::collections::HashMap::new();
        roots.iter().for_each(|&r| *size.entry(r).or_insert(0usize) += 1);
        let mut label = std::collections::HashMap::new();
        Ok(roots
            .iter()
            .map(|r| {
                if size[r] < min_cluster_size {
                    return -1;
                }
                let next = label.len() as i64;
                *label.entry(*r).or_insert(next)
            })
            .collect())
    }

    /// The exemplars of each cluster (label `k` ↔ entry `k`), as hdbscan's `exemplars_` (which returns
    /// their rows; these are their indices): for every leaf of the condensed tree under the selected
    /// cluster, the points that leave it last (at its largest λ) — the heart of each dense region.
    pub fn exemplars(&self) -> Vec<Vec<usize>> {
        let ct = &self.condensed;
        let children = ct.children();
        let max_lambda = ct.max_lambdas();
        let mut points_of: Vec<Vec<usize>> = vec![Vec::new(); ct.n_nodes()];
        for i in 0..ct.len() {
            if ct.child[i] < ct.n_points {
                points_of[ct.parent[i]].push(i);
            }
        }
        self.selected
            .iter()
            .map(|&cluster| {
                let mut out = Vec::new();
                let mut stack = vec![cluster];
                // Depth first, children in tree order: the leaves in hdbscan's order.
                let mut leaves = Vec::new();
                while let Some(node) = stack.pop() {
                    if children[node].is_empty() {
                        leaves.push(node);
                    } else {
                        stack.extend(children[node].iter().rev());
                    }
                }
                for leaf in leaves {
                    let top = max_lambda[leaf];
                    out.extend(points_of[leaf].iter().filter(|&&i| ct.lambda_val[i] == top).map(|&i| ct.child[i]));
                }
                out
            })
            .collect()
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
}

impl ClusterModel for Hdbscan {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;
    use crate::HdbscanParams;
    use outflow_core::Fit;

    #[test]
    fn a_fitted_model_passes_and_broken_ones_are_named() {
        let x = ndarray::Array2::from_shape_fn((120, 2), |(i, j)| ((i % 3) * 10) as f64 + ((i * 7 + j * 3) % 5) as f64);
        let m = HdbscanParams { min_cluster_size: 10, ..HdbscanParams::default() }.fit(x.view()).unwrap();
        assert_eq!(m.check(), Ok(()));
        let broken = |f: &dyn Fn(&mut Hdbscan)| {
            let mut b = m.clone();
            f(&mut b);
            b.check().unwrap_err()
        };
        assert!(broken(&|b| b.condensed.parent[0] = usize::MAX / 2).contains("condensed tree row 0"));
        // A cluster whose child is an older cluster would make the parent walk climb forever.
        let cluster_row = m.condensed.child.iter().position(|&c| c >= 120).expect("a cluster row");
        let e = broken(&|b| b.condensed.child[cluster_row] = b.condensed.parent[cluster_row]);
        assert!(e.contains(&format!("row {cluster_row}")), "{e}");
        assert!(broken(&|b| b.selected.push(3)).contains("selected cluster 3"));
        assert!(broken(&|b| b.core_distances.pop().map(|_| ()).unwrap_or(())).contains("core distances"));
    }
}
