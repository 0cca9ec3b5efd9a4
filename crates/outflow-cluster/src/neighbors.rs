//! Exact k-nearest-neighbour queries over the crate's kd-tree, for other crates (outlier detectors,
//! validation indices). Duplicate rows are stored once with their multiplicity and expanded in the
//! answers, so heavily duplicated flow tables stay fast.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::error::{ClusterError, Result};
use crate::hdbscan::Points;
use crate::kdtree::{KdTree, NONE};
use crate::metric::{Chebyshev, Euclidean, Kernel, Manhattan, Metric};
use outflow_core::{check_matrix, check_query};

/// A fitted nearest-neighbour index.
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{Metric, NearestNeighbors};
/// let x = array![[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [3.0, 0.0]];
/// let nn = NearestNeighbors::fit(x.view(), Metric::Euclidean).unwrap();
/// let (d, i) = nn.kneighbors_self(1).unwrap();
/// assert_eq!(d[[0, 0]], 1.0);
/// assert_eq!(i[[0, 0]], 1);
/// assert_eq!((d[[2, 0]], i[[2, 0]]), (0.0, 3)); // its duplicate
/// ```
#[derive(Debug, Clone)]
pub struct NearestNeighbors {
    points: Points,
    /// Rows of each unique point, ascending.
    members: Vec<Vec<u32>>,
    tree: Option<KdTree>,
    metric: Metric,
    n_rows: usize,
}

impl NearestNeighbors {
    /// Indexes the rows of `x` (no NaN / infinity).
    pub fn fit(x: ArrayView2<'_, f64>, metric: Metric) -> Result<Self> {
        check_matrix(x)?;
        metric.validate(x.ncols())?;
        let points = Points::new(x);
        let mut members = vec![Vec::new(); points.len()];
        for r in 0..x.nrows() {
            members[points.unique_of(r)].push(r as u32);
        }
        let tree = (metric.has_tree()).then(|| crate::hdbscan::tree_for(points.view(), metric, 24));
        Ok(NearestNeighbors { points, members, tree, metric, n_rows: x.nrows() })
    }

    /// Number of indexed rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The `k` nearest *other* rows of every indexed row (scikit-learn's `kneighbors()` without `X`):
    /// distances ascending and row indices, each `n × k`. Equal distances are ordered by the first row of
    /// each group of identical rows, then by row.
    pub fn kneighbors_self(&self, k: usize) -> Result<(Array2<f64>, Array2<usize>)> {
        if k == 0 || k >= self.n_rows {
            return Err(ClusterError::param("k", format!("must be in 1..{} (rows − 1), got {k}", self.n_rows)));
        }
        let rows: Vec<(Vec<f64>, Vec<usize>)> = (0..self.n_rows)
            .into_par_iter()
            .with_min_len(64)
            .map(|r| {
                let u = self.points.unique_of(r);
                let q = self.points.view().row(u).to_vec();
                self.expand(&q, k, Some(r))
            })
            .collect();
        Ok(stack(rows, k))
    }

    /// The `k` nearest indexed rows of each row of `q` (distances ascending, row indices).
    pub fn kneighbors(&self, q: ArrayView2<'_, f64>, k: usize) -> Result<(Array2<f64>, Array2<usize>)> {
        check_query(q, self.points.view().ncols())?;
        if k == 0 || k > self.n_rows {
            return Err(ClusterError::param("k", format!("must be in 1..={}, got {k}", self.n_rows)));
        }
        let q = q.as_standard_layout();
        let rows: Vec<(Vec<f64>, Vec<usize>)> = (0..q.nrows())
            .into_par_iter()
            .with_min_len(64)
            .map(|i| self.expand(q.row(i).as_slice().expect("standard layout"), k, None))
            .collect();
        Ok(stack(rows, k))
    }

    /// Nearest unique points of `q`, expanded to rows (skipping `skip`) until `k` rows are collected.
    fn expand(&self, q: &[f64], k: usize, skip: Option<usize>) -> (Vec<f64>, Vec<usize>) {
        // k + 1 unique points always hold ≥ k rows other than `skip`.
        let want = (k + 1).min(self.points.len());
        let nb = self.unique_neighbours(q, want);
        let (mut d, mut idx) = (Vec::with_capacity(k), Vec::with_capacity(k));
        'outer: for (dist, u) in nb {
            for &r in &self.members[u] {
                if Some(r as usize) == skip {
                    continue;
                }
                d.push(dist);
                idx.push(r as usize);
                if d.len() == k {
                    break 'outer;
                }
            }
        }
        (d, idx)
    }

    fn unique_neighbours(&self, q: &[f64], k: usize) -> Vec<(f64, usize)> {
        match &self.tree {
            Some(t) => {
                let (mut d, mut p) = (vec![0.0; k], vec![0u32; k]);
                match self.metric {
                    Metric::Euclidean => t.knn::<Euclidean>(q, &mut d, &mut p),
                    Metric::Manhattan => t.knn::<Manhattan>(q, &mut d, &mut p),
                    Metric::Chebyshev => t.knn::<Chebyshev>(q, &mut d, &mut p),
                    m => unreachable!("{m} has no kd-tree"),
                }
                let mut out: Vec<(f64, usize)> = d
                    .iter()
                    .zip(&p)
                    .filter(|(_, p)| **p != NONE)
                    .map(|(&r, &p)| {
                        let dist = if self.metric == Metric::Euclidean { Euclidean::to_dist(r) } else { r };
                        (dist, t.index[p as usize] as usize)
                    })
                    .collect();
                // Equal distances in unique-point order (= first-row order), so ties go to lower rows.
                out.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                out
            }
            None => {
                let pts = self.points.view();
                let mut all: Vec<(f64, usize)> = (0..pts.nrows())
                    .map(|u| (self.metric.distance(q, pts.row(u).as_slice().expect("standard layout")), u))
                    .collect();
                let k = k.min(all.len());
                all.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                all.truncate(k);
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                all
            }
        }
    }
}

fn stack(rows: Vec<(Vec<f64>, Vec<usize>)>, k: usize) -> (Array2<f64>, Array2<usize>) {
    let n = rows.len();
    let mut d = Array2::zeros((n, k));
    let mut i = Array2::zeros((n, k));
    for (r, (dr, ir)) in rows.into_iter().enumerate() {
        for j in 0..k {
            d[[r, j]] = dr[j];
            i[[r, j]] = ir[j];
        }
    }
    (d, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_brute_force_with_duplicates() {
        let x = array![[0.0, 0.0], [2.0, 0.0], [0.0, 0.0], [5.0, 5.0], [2.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
        for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev, Metric::Cosine] {
            let nn = NearestNeighbors::fit(x.view(), metric).unwrap();
            let (d, _) = nn.kneighbors_self(3).unwrap();
            for r in 0..x.nrows() {
                let mut all: Vec<f64> = (0..x.nrows())
                    .filter(|&j| j != r)
                    .map(|j| metric.distance(x.row(r).as_slice().unwrap(), x.row(j).as_slice().unwrap()))
                    .collect();
                all.sort_by(f64::total_cmp);
                assert_eq!(d.row(r).to_vec(), all[..3].to_vec(), "{metric} row {r}");
            }
        }
        let nn = NearestNeighbors::fit(x.view(), Metric::Euclidean).unwrap();
        let (_, i) = nn.kneighbors_self(2).unwrap();
        assert_eq!(i.row(0).to_vec(), vec![2, 6]);
        let (d, i) = nn.kneighbors(array![[0.0, 0.9]].view(), 2).unwrap();
        assert_eq!(i.row(0).to_vec(), vec![5, 0]);
        assert!((d[[0, 0]] - 0.1).abs() < 1e-12);
        assert!(nn.kneighbors_self(7).is_err());
    }
}
