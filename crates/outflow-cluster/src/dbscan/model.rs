//! The fitted DBSCAN clustering and prediction for new points.

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::check_width;

use super::params::DbscanParams;
use crate::error::{ClusterError, Result};
use crate::input::{at_row, check_point};
use crate::kdtree::range::{for_each_within, reduced_radius};
use crate::kdtree::{KdTree, NONE};
use crate::metric::dispatch_tree;
use crate::traits::{ClusterModel, Predict};

/// What the centroid filter computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub(super) params: DbscanParams,
    pub(super) eps: f64,
    #[serde(with = "outflow_core::codec::i64s")]
    pub(super) labels: Vec<i64>,
    /// Empty after [`Dbscan::slim`].
    pub(super) core: Vec<bool>,
    pub(super) knn_distances: Option<Vec<f64>>,
    /// Empty after [`Dbscan::slim`].
    pub(super) anomalies: Vec<bool>,
    pub(super) filter: Option<CentroidFilter>,
    /// Unique core rows and their labels, for prediction.
    #[serde(with = "outflow_core::codec::matrix")]
    pub(super) core_points: Array2<f64>,
    #[serde(with = "outflow_core::codec::i64s")]
    pub(super) core_labels: Vec<i64>,
    /// Recall of the approximate neighbour graph, measured on a sample (exact fits: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) neighbor_recall: Option<f64>,
    #[serde(skip)]
    pub(super) index: OnceLock<Option<KdTree>>,
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
            && self.neighbor_recall == o.neighbor_recall
    }
}

impl Dbscan {
    /// Checks a model read from a file: one label per core point, cluster labels (≥ 0), a usable radius
    /// and usable coordinates.
    pub fn check(&self) -> std::result::Result<(), String> {
        let n = self.core_points.nrows();
        let ok = self.core_labels.len() == n
            && self.core_labels.iter().all(|&l| l >= 0)
            && self.eps.is_finite()
            && self.eps >= 0.0
            && self.core_points.iter().all(|v| outflow_core::is_usable(*v));
        if !ok {
            return Err(format!("{n} core points with {} labels, eps {}", self.core_labels.len(), self.eps));
        }
        Ok(())
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

    /// The share of true nearest neighbours the approximate graph held, measured on a sample of rows
    /// against an exact scan; `None` for an exact fit.
    pub fn neighbor_recall(&self) -> Option<f64> {
        self.neighbor_recall
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

    pub(super) fn index(&self) -> Option<&KdTree> {
        self.index
            .get_or_init(|| {
                (self.params.metric.has_tree() && self.core_points.nrows() > 0)
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
                let r = reduced_radius(self.params.metric, self.eps);
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
                if pos[0] == NONE || dist[0] > reduced_radius(metric, self.eps) {
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

#[cfg(test)]
mod check_tests {
    use crate::DbscanParams;
    use outflow_core::Fit;

    #[test]
    fn crafted_core_points_are_refused() {
        let x = ndarray::Array2::from_shape_fn((60, 2), |(i, j)| {
            ((i % 3) * 10) as f64 + i as f64 * 0.013 + (j * (i * 7 % 5)) as f64 * 0.1
        });
        let m = DbscanParams::default().fit(x.view()).unwrap().slim();
        assert!(m.check().is_ok());
        let mut b = m.clone();
        b.core_labels.push(0);
        assert!(b.check().is_err());
        let mut b = m.clone();
        b.eps = f64::INFINITY;
        assert!(b.check().is_err());
    }
}
