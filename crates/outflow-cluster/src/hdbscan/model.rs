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
}

impl ClusterModel for Hdbscan {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}
