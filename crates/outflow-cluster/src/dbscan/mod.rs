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

mod approximate;
mod grow;
mod model;
mod params;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use outflow_core::stats::quantile_sorted;

use crate::error::{ClusterError, Result};
use crate::kdtree::KdTree;
use crate::kdtree::range::reduced_radius;
use crate::metric::{Metric, dispatch_tree};
use crate::nndescent;
use crate::traits::Fit;
use outflow_core::unique_rows;

use self::grow::{brute_dbscan, kth_distances, tree_dbscan};
pub use self::model::{CentroidFilter, Dbscan};
pub use self::params::{DbscanParams, Eps, EpsRule, KnnEps};

impl Fit for DbscanParams {
    type Fitted = Dbscan;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Dbscan> {
        self.validate_for(x)?;
        let x = x.as_standard_layout();
        let n_rows = x.nrows();
        let dd = unique_rows(x.view());
        let (points, weights, of_row) = match &dd {
            Some(d) => (d.points.view(), Some(&d.weight[..]), Some(&d.of_row[..])),
            None => (x.view(), None, None),
        };
        let unique_of = |row: usize| of_row.map_or(row, |o| o[row] as usize);
        let n_points = points.nrows();
        let graph = self
            .use_approximate(n_points, points.ncols())
            .then(|| nndescent::knn_graph(points, self.metric, self.graph_k(n_points), self.seed));
        let neighbor_recall =
            graph.as_ref().map(|g| nndescent::recall(points, self.metric, g, nndescent::RECALL_SAMPLE, self.seed));
        let tree = (graph.is_none() && self.metric.has_tree()).then(|| KdTree::build(points, self.leaf_size));
        let (eps, knn_distances) = match self.eps {
            Eps::Value(e) => (e, None),
            Eps::Auto(k) => {
                let per_point = match &graph {
                    Some(g) => approximate::kth_distances(g, n_points, weights, k.k),
                    None => kth_distances(points, tree.as_ref(), weights, self.metric, k.k),
                };
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
        let pl = match (&graph, &tree) {
            (Some(g), _) => approximate::graph_dbscan(points, self.metric, g, weights, eps, self.min_samples),
            (None, Some(t)) => {
                let r = reduced_radius(self.metric, eps);
                dispatch_tree!(self.metric, K => tree_dbscan::<K>(t, weights, r, self.min_samples))
            }
            (None, None) => brute_dbscan(points, weights, self.metric, eps, self.min_samples),
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
            neighbor_recall,
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
