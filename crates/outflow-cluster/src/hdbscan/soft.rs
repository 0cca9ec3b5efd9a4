//! Soft clustering: hdbscan's membership vectors, the probability of each point belonging to each
//! selected cluster.
//!
//! A vector combines two views: distance (the inverse of the distance to the nearest exemplar of each
//! cluster) and the condensed tree (how high up the tree the point's branch merges with each cluster,
//! relative to the largest λ of the point's own cluster), normalised, then scaled by the probability
//! that the point is in some cluster at all (the highest such merge against that cluster's largest λ).
//! hdbscan combines them differently for the training rows (`all_points_membership_vectors`: product,
//! tree scores `exp(−λ_max / height)` softmaxed over the whole matrix) and for new points
//! (`membership_vector`: `distance^0.5 · tree^2`, tree scores `λ_max / (λ_max − height)` softmaxed per
//! point); both are reproduced as they are, so results compare one to one.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use outflow_core::check_width;

use crate::error::Result;
use crate::input::at_row;

use super::Hdbscan;

/// The parts of a fitted model the membership vectors read.
struct Soft<'a> {
    model: &'a Hdbscan,
    /// Per cluster id: its parent id (the root: itself) and the λ it was born at.
    up: Vec<(usize, f64)>,
    /// Per node: the largest λ among its rows (hdbscan's `leaf_max_lambdas`).
    max_lambda: Vec<f64>,
    /// Exemplar rows per selected cluster (label order).
    exemplars: Vec<Vec<usize>>,
}

impl<'a> Soft<'a> {
    fn new(model: &'a Hdbscan) -> Self {
        let ct = &model.condensed;
        let mut up: Vec<(usize, f64)> = (0..ct.n_nodes()).map(|c| (c, 0.0)).collect();
        for i in ct.cluster_rows() {
            up[ct.child[i]] = (ct.parent[i], ct.lambda_val[i]);
        }
        Soft { model, up, max_lambda: ct.max_lambdas(), exemplars: model.exemplars() }
    }

    fn clusters(&self) -> &[usize] {
        &self.model.selected
    }

    /// hdbscan's `merge_height`: per selected cluster, the λ at which the branch of `point_cluster` joins
    /// it (the birth of the last cluster walked before the two branches meet), or `point_lambda` when one
    /// lies below the other. Cluster ids grow down the tree, so the larger id is always the one to climb.
    fn merge_heights(&self, point_cluster: usize, point_lambda: f64) -> Vec<f64> {
        self.clusters()
            .iter()
            .map(|&c| {
                let (mut left, mut right) = (point_cluster, c);
                let (mut climbed_left, mut climbed_right, mut last) = (false, false, c);
                while left != right {
                    if left > right {
                        climbed_left = true;
                        last = left;
                        left = self.up[left].0;
                    } else {
                        climbed_right = true;
                        last = right;
                        right = self.up[right].0;
                    }
                }
                if climbed_left && climbed_right { self.up[last].1 } else { point_lambda }
            })
            .collect()
    }

    /// The distance part: `1 / distance` to each cluster's nearest exemplar, normalised (a point on an
    /// exemplar gets `f64::MAX / k` there, as hdbscan). `dist(row)` is the distance to a training row.
    fn distance_vector(&self, dist: impl Fn(usize) -> f64) -> Vec<f64> {
        let k = self.exemplars.len();
        let mut v: Vec<f64> = self
            .exemplars
            .iter()
            .map(|rows| {
                // An unknown (infinite) distance gives 0: no evidence for the cluster.
                let d = rows.iter().map(|&r| dist(r)).fold(f64::INFINITY, f64::min);
                if d != 0.0 { 1.0 / d } else { f64::MAX / k as f64 }
            })
            .collect();
        let sum: f64 = v.iter().sum();
        if sum == 0.0 {
            // No exemplar within a known distance (sparse distances): nothing favours one cluster.
            return vec![1.0 / k as f64; k];
        }
        v.iter_mut().for_each(|x| *x /= sum);
        v
    }

    /// hdbscan's `prob_in_some_cluster` (`floor` is its 1e-8 for new points, 0 for training rows).
    fn in_some_cluster(&self, heights: &[f64], point_lambda: f64, floor: f64) -> f64 {
        let (best, height) =
            heights.iter().enumerate().fold((0, f64::NEG_INFINITY), |a, (j, &h)| if h > a.1 { (j, h) } else { a });
        height / (self.max_lambda[self.clusters()[best]].max(point_lambda) + floor)
    }
}

/// Rows scaled to sum to one.
fn normalise_rows(m: &mut Array2<f64>) {
    for mut row in m.rows_mut() {
        let sum = row.sum();
        row.mapv_inplace(|x| x / sum);
    }
}

impl Hdbscan {
    /// The distance from a point (a training row, or a new one) to training row `r`.
    fn distance_to_row(&self, q: &[f64], r: usize) -> f64 {
        self.distance_to(q, self.points.unique_of(r))
    }

    /// The training row `r` as the metric reads it (for precomputed distances: its row of the matrix,
    /// which the model keeps).
    fn training_row(&self, r: usize) -> ndarray::ArrayView1<'_, f64> {
        self.points.points.row(self.points.unique_of(r))
    }

    /// hdbscan's `all_points_membership_vectors`: for every training row, the probability of belonging
    /// to each selected cluster (columns in label order; rows sum to the probability of being in some
    /// cluster). No cluster selected: `n × 0`.
    ///
    /// ```
    /// use ndarray::array;
    /// use outflow_cluster::{ClusterModel, Fit, HdbscanParams};
    /// let x = array![[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1],
    ///                [5.0, 5.0], [5.1, 5.0], [5.0, 5.1], [5.1, 5.1], [2.5, 2.5]];
    /// let model = HdbscanParams::new(3).min_samples(2).fit(x.view()).unwrap();
    /// let soft = model.all_points_membership_vectors();
    /// assert_eq!(soft.dim(), (9, 2));
    /// assert!(soft[[0, 0]] > soft[[0, 1]] && soft[[5, 1]] > soft[[5, 0]]);
    /// ```
    pub fn all_points_membership_vectors(&self) -> Array2<f64> {
        let ct = &self.condensed;
        let n = ct.n_points;
        let k = self.selected.len();
        if k == 0 || ct.is_empty() {
            return Array2::zeros((n, k));
        }
        let soft = Soft::new(self);
        let point_rows = ct.point_rows();
        let rows: Vec<(Vec<f64>, Vec<f64>, f64)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let distance = match &self.points.sparse {
                    // Only the exemplars' columns: +∞ where no distance is stored.
                    Some(d) => {
                        soft.distance_vector(|r| if r == i { 0.0 } else { d.get(i, r).unwrap_or(f64::INFINITY) })
                    }
                    None => {
                        let q = self.training_row(i);
                        soft.distance_vector(|r| self.distance_to_row(q.as_slice().expect("standard layout"), r))
                    }
                };
                let row = point_rows[i];
                let (cluster, lambda) = (ct.parent[row], ct.lambda_val[row]);
                let heights = soft.merge_heights(cluster, lambda);
                let top = soft.max_lambda[cluster] + 1e-8;
                let tree = heights.iter().map(|&h| (-(top / h)).exp()).collect();
                (distance, tree, soft.in_some_cluster(&heights, lambda, 0.0))
            })
            .collect();
        // The tree scores are softmaxed against the largest one in the whole matrix.
        let top = rows.iter().flat_map(|r| r.1.iter().copied()).filter(|x| !x.is_nan()).fold(f64::MIN, f64::max);
        let mut out = Array2::zeros((n, k));
        for (i, (distance, tree, _)) in rows.iter().enumerate() {
            let tree: Vec<f64> = tree.iter().map(|&s| (s - top).exp()).collect();
            let sum: f64 = tree.iter().sum();
            for j in 0..k {
                out[[i, j]] = distance[j] * tree[j] / sum;
            }
        }
        normalise_rows(&mut out);
        for (i, r) in rows.iter().enumerate() {
            out.row_mut(i).mapv_inplace(|x| x * r.2);
        }
        out
    }

    /// hdbscan's `membership_vector`: the same for new points (rows of `x`; with
    /// [`Metric::Precomputed`](crate::Metric::Precomputed), their rows of distances to the training rows). The point attaches to the
    /// tree where [`Hdbscan::predict_one`] puts it.
    pub fn membership_vectors(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_width(x.ncols(), self.n_features())?;
        let k = self.selected.len();
        let x = x.as_standard_layout();
        if k == 0 || self.condensed.is_empty() {
            return Ok(Array2::zeros((x.nrows(), k)));
        }
        let soft = Soft::new(self);
        let rows: Vec<Vec<f64>> = (0..x.nrows())
            .into_par_iter()
            .map(|i| {
                let q = x.row(i);
                let q = q.as_slice().expect("standard layout");
                self.membership_one(&soft, q).map_err(|e| at_row(e, i))
            })
            .collect::<Result<_>>()?;
        Ok(Array2::from_shape_vec((rows.len(), k), rows.concat()).expect("k values per row"))
    }

    fn membership_one(&self, soft: &Soft<'_>, q: &[f64]) -> Result<Vec<f64>> {
        let ct = &self.condensed;
        let (nn, mut lambda, _) = self.attach(q)?;
        let row = self.derived().point_rows[nn];
        lambda = lambda.min(ct.lambda_val[row]);
        let cluster = ct.parent[row];
        let distance = soft.distance_vector(|r| self.distance_to_row(q, r));
        // hdbscan passes λ to its per-cluster scores as a 32-bit float.
        let heights = soft.merge_heights(cluster, lambda as f32 as f64);
        let top = soft.max_lambda[cluster];
        let scores: Vec<f64> = heights
            .iter()
            .map(|&h| {
                let below = top - h;
                top / if below <= 0.0 { 1e-8 } else { below }
            })
            .collect();
        let best = scores.iter().copied().filter(|x| !x.is_nan()).fold(f64::MIN, f64::max);
        let tree: Vec<f64> = scores.iter().map(|&s| (s - best).exp()).collect();
        let tree_sum: f64 = tree.iter().sum();
        let mut v: Vec<f64> =
            distance.iter().zip(&tree).map(|(&d, &t)| d.sqrt() * (t / tree_sum) * (t / tree_sum)).collect();
        let sum: f64 = v.iter().sum();
        let p = soft.in_some_cluster(&soft.merge_heights(cluster, lambda), lambda, 1e-8);
        v.iter_mut().for_each(|x| *x = *x / sum * p);
        Ok(v)
    }
}
