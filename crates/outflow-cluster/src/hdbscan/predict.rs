//! Prediction for new points: hdbscan's `approximate_predict` and GLOSH scores, over lookup tables
//! derived from the fitted model.

use ndarray::ArrayView2;

use outflow_core::{ScoreSamples, check_width};

use crate::dedup::{kth_of_mass, weighted_kth};
use crate::error::{ClusterError, Result};
use crate::input::{at_row, check_point};
use crate::kdtree::{KdTree, NONE};
use crate::metric::{Metric, dispatch_tree};
use crate::traits::Predict;

use super::*;

thread_local! {
    /// The neighbours of one prediction, reused by the thread's next one.
    static NEAR: std::cell::RefCell<Vec<(f64, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Hdbscan {
    pub(super) fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| Derived::new(self))
    }

    /// The distance from a query `q` to training point `u` (a unique row); with [`Metric::Precomputed`],
    /// `q` holds the query's distances to the training rows (never deduplicated, so rows are points).
    pub(super) fn distance_to(&self, q: &[f64], u: usize) -> f64 {
        match self.params.metric {
            Metric::Precomputed => q[u],
            m => m.distance(q, self.points.points.row(u).as_slice().expect("owned standard layout")),
        }
    }

    /// The `k` nearest training points (unique rows) of `q`: (distance, point) ascending.
    pub(super) fn neighbours(&self, q: &[f64], k: usize) -> Vec<(f64, usize)> {
        let mut out = Vec::with_capacity(k);
        self.neighbours_into(q, k, &mut out);
        out
    }

    /// [`Hdbscan::neighbours`] into `out` (cleared first): a search's buffers on the stack when `k` is
    /// small, since most predictions need one search of `min_samples` neighbours.
    pub(super) fn neighbours_into(&self, q: &[f64], k: usize, out: &mut Vec<(f64, usize)>) {
        const ON_STACK: usize = 32;
        let metric = self.params.metric;
        out.clear();
        match &self.derived().index {
            Some(t) => {
                let (mut d_stack, mut p_stack) = ([0.0f64; ON_STACK], [0u32; ON_STACK]);
                let (mut d_heap, mut p_heap): (Vec<f64>, Vec<u32>);
                let (d, p) = if k <= ON_STACK {
                    (&mut d_stack[..k], &mut p_stack[..k])
                } else {
                    (d_heap, p_heap) = (vec![0.0; k], vec![0u32; k]);
                    (&mut d_heap[..], &mut p_heap[..])
                };
                dispatch_tree!(metric, K => t.knn::<K>(q, d, p));
                out.extend(d.iter().zip(p.iter()).filter(|(_, p)| **p != NONE).map(|(&r, &p)| {
                    let dist = if metric == Metric::Euclidean { r.sqrt() } else { r };
                    (dist, t.index[p as usize] as usize)
                }));
            }
            None => {
                let mut all: Vec<(f64, usize)> = (0..self.points.len()).map(|u| (self.distance_to(q, u), u)).collect();
                let k = k.min(all.len());
                all.select_nth_unstable_by(k.saturating_sub(1), |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                all.truncate(k);
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                *out = all;
            }
        }
    }

    /// The training row a new point attaches to, the λ at which it does (hdbscan's
    /// `_find_neighbor_and_lambda`) and whether the point lies on a training row.
    pub(super) fn attach(&self, q: &[f64]) -> Result<(usize, f64, bool)> {
        if self.points.sparse.is_some() {
            // Fitted on sparse distances: +∞ marks a distance the caller does not know.
            check_width(q.len(), self.n_features())?;
        } else {
            check_point(q, self.n_features())?;
        }
        if self.params.metric == Metric::Precomputed
            && let Some(j) = q.iter().position(|&d| d.is_nan() || d < 0.0)
        {
            return Err(ClusterError::param(
                "metric",
                format!("precomputed distance {} to row {j} is negative or NaN", q[j]),
            ));
        }
        Ok(self.attach_near(q).unwrap_or_else(|| self.attach_full(q)))
    }

    /// The training rows' mass of unique point `u` (its copies, or their summed sample weights).
    fn mass_of(&self, u: usize) -> f64 {
        self.derived().mass.as_deref().map_or(1.0, |w| w[u])
    }

    /// The mutual reachability of a new point (core distance `core_q`) to unique point `u` at distance
    /// `d`, and `u`'s first training row.
    fn reach(&self, d: f64, core_q: f64, u: usize) -> (f64, usize) {
        let row = self.points.first_row(u);
        ((d / self.params.alpha).max(core_q).max(self.core_distances[row]), row)
    }

    /// [`Hdbscan::attach`] from the nearest neighbours holding mass `min_samples`, when one of them
    /// attaches at the point's own core distance: no neighbour attaches below it, so that one (the
    /// first in distance order) is [`Hdbscan::attach_full`]'s answer without searching farther. The
    /// nearest `m` are the first `m` of the longer list, ties in the same order (one depth-first search;
    /// the shorter one prunes only what the longer meets later). `None` otherwise.
    fn attach_near(&self, q: &[f64]) -> Option<(usize, f64, bool)> {
        let m = self.params.effective_min_samples();
        if m >= self.first_k() {
            return None;
        }
        let near = NEAR.with_borrow_mut(|near| {
            self.neighbours_into(q, m, near);
            let core_q = kth_of_mass(near.iter().map(|&(d, u)| (d, self.mass_of(u))), m)?;
            let (mr, row) = near.iter().map(|&(d, u)| self.reach(d, core_q, u)).find(|&(mr, _)| mr <= core_q)?;
            Some((mr, row, near[0].0 == 0.0))
        });
        let (mr, row, on_a_row) = near?;
        let lambda = if mr > 0.0 { 1.0 / mr } else { f64::MAX };
        Some((row, lambda, on_a_row))
    }

    /// How many neighbours hdbscan's rule looks at: 2·min_samples in its convention (ours − 1).
    fn first_k(&self) -> usize {
        let m = self.params.effective_min_samples();
        (2 * m.saturating_sub(1)).max(m).min(self.points.len())
    }

    /// [`Hdbscan::attach`] of a checked point as hdbscan computes it: over its [`Hdbscan::first_k`]
    /// nearest neighbours (more when sample weights below 1 leave them short of mass `min_samples`).
    fn attach_full(&self, q: &[f64]) -> (usize, f64, bool) {
        let pts = &self.points;
        let m = self.params.effective_min_samples();
        // The new point's core distance is where the training rows' mass (duplicates, sample weights)
        // reaches m, the new point itself weighing nothing.
        let mut k = self.first_k();
        let mut nb = self.neighbours(q, k);
        // Sample weights below 1 may need more neighbours to reach m.
        while k < pts.len() && kth_of_mass(nb.iter().map(|&(d, u)| (d, self.mass_of(u))), m).is_none() {
            k = (2 * k).min(pts.len());
            nb = self.neighbours(q, k);
        }
        let core_q = weighted_kth(nb.iter().map(|&(d, u)| (d, self.mass_of(u))), m);
        let (mut best, mut nn) = (f64::INFINITY, pts.first_row(nb[0].1));
        for &(d, u) in &nb {
            let (mr, row) = self.reach(d, core_q, u);
            if mr < best {
                best = mr;
                nn = row;
            }
        }
        let lambda = if best > 0.0 { 1.0 / best } else { f64::MAX };
        (nn, lambda, nb[0].0 == 0.0)
    }

    /// Label, probability and outlier score of one new point (hdbscan's `approximate_predict` and
    /// `approximate_predict_scores`; see the crate docs for the two deliberate differences).
    ///
    /// With [`Metric::Precomputed`] `q` is the new point's row of distances to the training rows.
    pub fn predict_one(&self, q: &[f64]) -> Result<Prediction> {
        let (nn, lambda, on_a_row) = self.attach(q)?;
        let ct = &self.condensed;
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
        let score_lambda = if on_a_row { ct.lambda_val[row] } else { lambda };
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
pub(super) struct Derived {
    pub(super) index: Option<KdTree>,
    pub(super) point_rows: Vec<usize>,
    pub(super) parents: Vec<Option<(usize, f64)>>,
    pub(super) subtree_max: Vec<f64>,
    /// Per condensed-tree node: label of the selected cluster containing it (−1 if none) and that
    /// cluster's largest λ.
    pub(super) cluster_map: Vec<i64>,
    pub(super) cluster_max: Vec<f64>,
    /// Mass of each training point (multiplicity or summed sample weights; `None`: all 1).
    pub(super) mass: Option<Vec<f64>>,
}

impl Derived {
    pub(super) fn new(m: &Hdbscan) -> Derived {
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
            index: (m.params.metric.has_tree()).then(|| tree_for(m.points.view(), m.params.metric, m.params.leaf_size)),
            point_rows: ct.point_rows(),
            parents: ct.cluster_parent(),
            subtree_max: ct.subtree_max_lambdas(),
            cluster_map,
            cluster_max,
            mass: m.points.masses(),
        }
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

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use crate::{Fit, HdbscanParams};

    /// Attaching from the nearest `min_samples` when one of them attaches at the point's core distance
    /// gives what the full `2·(min_samples − 1)` list gives, also on a grid full of ties, with
    /// duplicate rows, sample weights and alpha.
    #[test]
    fn the_short_search_attaches_as_the_full_one() {
        // Half the rows on a coarse grid (ties), half scattered (a hash of the index).
        let coord = |i: usize, j: usize, salt: usize| {
            let h = (i * 2 + j + salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
            if i.is_multiple_of(2) { ((i * (j + 3) * 7919) % 13) as f64 * 0.5 } else { (h % 65_536) as f64 / 10_000.0 }
        };
        let x = Array2::from_shape_fn((600, 3), |(i, j)| coord(i, j, 0));
        let weights: Vec<f64> = (0..600).map(|i| 0.3 + (i % 4) as f64).collect();
        let queries = Array2::from_shape_fn((400, 3), |(i, j)| coord(i, j, 77) * 0.9 + 0.1);
        let mut counts = Vec::new();
        for (alpha, weighted) in [(1.0, false), (1.0, true), (0.7, false), (1.3, true)] {
            let params = HdbscanParams { alpha, ..HdbscanParams::new(8).min_samples(6) };
            let model = if weighted { params.fit_weighted(x.view(), &weights) } else { params.fit(x.view()) }.unwrap();
            let mut short = 0;
            for q in queries.rows().into_iter().chain(x.rows()) {
                let q = q.as_slice().unwrap();
                let full = model.attach_full(q);
                if let Some(near) = model.attach_near(q) {
                    assert_eq!(near, full, "alpha {alpha}, weighted {weighted}, {q:?}");
                    short += 1;
                }
                assert_eq!(model.attach(q).unwrap(), full);
            }
            counts.push(short);
        }
        // Both paths are exercised.
        assert!(counts.iter().all(|&c| c > 100) && counts.iter().any(|&c| c < 1000), "{counts:?} of 1000");
    }
}
