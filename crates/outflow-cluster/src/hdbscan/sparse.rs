//! HDBSCAN on a sparse matrix of distances (a neighbour graph): scikit-learn's and hdbscan's semantics
//! for `metric="precomputed"` with a sparse matrix, where an entry that is not stored is no edge.

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::InputError;

use super::fit::Points;
use super::params::check_min_samples;
use super::tree::spanning_forest;
use super::{Hdbscan, HdbscanParams, MstEdge};
use crate::error::{ClusterError, Result};
use crate::metric::Metric;

/// A square, symmetric matrix of distances between rows with only some entries stored (compressed sparse
/// rows, as scipy's `csr_matrix`): typically a k-nearest-neighbour or radius graph. An entry that is not
/// stored is no edge; the diagonal is implicit (a stored diagonal must be 0 and is ignored).
///
/// ```
/// use outflow_cluster::{ClusterModel, HdbscanParams, Metric, SparseDistances};
/// // Two triangles of close rows joined by one long edge.
/// let edges = [(0, 1, 0.1), (1, 2, 0.1), (0, 2, 0.2), (3, 4, 0.1), (4, 5, 0.1), (3, 5, 0.2), (2, 3, 5.0)];
/// let d = SparseDistances::from_edges(6, edges).unwrap();
/// let model = HdbscanParams::new(3).min_samples(2).metric(Metric::Precomputed).fit_sparse(&d).unwrap();
/// assert_eq!(model.n_clusters(), 2);
/// assert_ne!(model.labels()[0], model.labels()[5]);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Csr")]
pub struct SparseDistances(Csr);

/// The compressed rows themselves; read back (a model file) only through [`SparseDistances::from_csr`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Csr {
    n: usize,
    #[serde(with = "outflow_core::codec::usizes")]
    indptr: Vec<usize>,
    #[serde(with = "outflow_core::codec::usizes")]
    indices: Vec<usize>,
    #[serde(with = "outflow_core::codec::f64s")]
    data: Vec<f64>,
}

impl Serialize for SparseDistances {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl TryFrom<Csr> for SparseDistances {
    type Error = ClusterError;

    fn try_from(c: Csr) -> Result<Self> {
        SparseDistances::from_csr(c.n, c.indptr, c.indices, c.data)
    }
}

fn bad(m: String) -> ClusterError {
    ClusterError::param("distances", m)
}

impl SparseDistances {
    /// From compressed sparse rows: row `i`'s entries are `indices[indptr[i]..indptr[i + 1]]` (strictly
    /// increasing columns) with the distances `data[...]`. Checked: the shape, finite values ≥ 0, a zero
    /// diagonal where stored, and symmetry (`(j, i)` stored wherever `(i, j)` is, the two values equal
    /// within Outflow's dense tolerance `1e-8 + 1e-5·|b|`; scikit-learn's sparse check is tighter,
    /// 1e-9 + 1e-7·|b|, and a value between the two is taken as the smaller of the pair).
    pub fn from_csr(n: usize, indptr: Vec<usize>, indices: Vec<usize>, data: Vec<f64>) -> Result<Self> {
        if indptr.len() != n + 1 || indptr[0] != 0 || indptr[n] != data.len() || indices.len() != data.len() {
            return Err(bad(format!(
                "compressed rows of {n} rows need {} row pointers from 0 to the {} stored values, got {} pointers \
                 ({} indices)",
                n + 1,
                data.len(),
                indptr.len(),
                indices.len()
            )));
        }
        if let Some(i) = indptr.windows(2).position(|w| w[1] < w[0]) {
            return Err(bad(format!("row pointers decrease at row {i} (0-based)")));
        }
        for i in 0..n {
            let (s, e) = (indptr[i], indptr[i + 1]);
            for k in s..e {
                let (j, v) = (indices[k], data[k]);
                if j >= n || (k > s && j <= indices[k - 1]) {
                    return Err(bad(format!(
                        "row {i} (0-based): column {j} is out of range or not after the previous one (columns of a \
                         row must be strictly increasing and below {n})"
                    )));
                }
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad(format!("distance {v} at row {i}, column {j} (0-based) must be finite and ≥ 0")));
                }
                if j == i && v != 0.0 {
                    return Err(bad(format!("the distance of row {i} to itself is {v}, not 0")));
                }
            }
        }
        let d = SparseDistances(Csr { n, indptr, indices, data });
        for i in 0..n {
            for (j, a) in d.row(i) {
                match d.get(j, i) {
                    None => {
                        return Err(bad(format!(
                            "not symmetric: row {i}, column {j} is stored but row {j}, column {i} is not (0-based)"
                        )));
                    }
                    Some(b) if (a - b).abs() > 1e-8 + 1e-5 * b.abs() => {
                        return Err(bad(format!(
                            "not symmetric: {a} at row {i}, column {j} but {b} at row {j}, column {i} (0-based)"
                        )));
                    }
                    _ => {}
                }
            }
        }
        Ok(d)
    }

    /// From undirected edges `(i, j, distance)`, each stored both ways (an edge given twice, in either
    /// direction, is an error; `i == j` is refused as it carries no information).
    pub fn from_edges(n: usize, edges: impl IntoIterator<Item = (usize, usize, f64)>) -> Result<Self> {
        let mut all: Vec<(usize, usize, f64)> = Vec::new();
        for (i, j, v) in edges {
            if i >= n || j >= n || i == j {
                return Err(bad(format!("edge ({i}, {j}) of {n} rows: both ends must be distinct rows below {n}")));
            }
            all.push((i, j, v));
            all.push((j, i, v));
        }
        all.sort_by_key(|e| (e.0, e.1));
        if let Some(w) = all.windows(2).find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)) {
            return Err(bad(format!("edge ({}, {}) is given twice", w[0].0, w[0].1)));
        }
        let mut indptr = vec![0; n + 1];
        for &(i, _, _) in &all {
            indptr[i + 1] += 1;
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        let indices = all.iter().map(|e| e.1).collect();
        let data = all.iter().map(|e| e.2).collect();
        SparseDistances::from_csr(n, indptr, indices, data)
    }

    /// Number of rows (= columns).
    pub fn n_rows(&self) -> usize {
        self.0.n
    }

    /// Number of stored entries (both directions of an edge, and a stored diagonal).
    pub fn nnz(&self) -> usize {
        self.0.data.len()
    }

    /// The stored entries of row `i`: (column, distance), columns ascending.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let Csr { indptr, indices, data, .. } = &self.0;
        let (s, e) = (indptr[i], indptr[i + 1]);
        indices[s..e].iter().copied().zip(data[s..e].iter().copied())
    }

    /// The stored distance at row `i`, column `j`.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        let Csr { indptr, indices, data, .. } = &self.0;
        let (s, e) = (indptr[i], indptr[i + 1]);
        indices[s..e].binary_search(&j).ok().map(|k| data[s + k])
    }

    /// Row `i` as a dense row of distances: 0 to itself, +∞ where nothing is stored.
    pub fn dense_row(&self, i: usize) -> Vec<f64> {
        let mut out = vec![f64::INFINITY; self.0.n];
        out[i] = 0.0;
        for (j, v) in self.row(i) {
            out[j] = v;
        }
        out
    }
}

impl HdbscanParams {
    /// Fits a sparse matrix of distances ([`SparseDistances`]; `metric` must be
    /// [`Metric::Precomputed`]), as scikit-learn's `HDBSCAN(metric="precomputed")` and hdbscan do with a
    /// sparse matrix: a row's core distance is its `min_samples`-th smallest distance, itself counted
    /// first (so its `(min_samples − 1)`-th stored distance to another row); the mutual-reachability graph
    /// has the stored entries as its only edges, `max(core(i), core(j), d(i, j) / alpha)`; its exact
    /// minimum spanning tree (Kruskal's algorithm) then goes through the same trees and selection as a
    /// dense fit. Refused as scikit-learn refuses them: a row with fewer than `min_samples − 1` stored
    /// distances to other rows, and a graph of several connected components. scikit-learn's and hdbscan's
    /// `min_samples = k` without a stored diagonal is Outflow's `k + 1`
    /// ([`MinSamplesConvention::Hdbscan`](super::MinSamplesConvention::Hdbscan)).
    ///
    /// The model predicts new points from their dense rows of distances to the training rows (+∞ for
    /// unknown), and keeps the matrix for the training rows' membership vectors.
    pub fn fit_sparse(&self, d: &SparseDistances) -> Result<Hdbscan> {
        self.validate()?;
        if self.metric != Metric::Precomputed {
            return Err(ClusterError::param(
                "metric",
                format!("fit_sparse takes a matrix of distances: set metric precomputed, not {}", self.metric),
            ));
        }
        let n = d.n_rows();
        if n < self.min_cluster_size.max(2) {
            let what = format!("HDBSCAN with min_cluster_size = {}", self.min_cluster_size);
            return Err(InputError::too_few_rows(what, self.min_cluster_size.max(2), n).into());
        }
        let m = self.effective_min_samples();
        check_min_samples(m, n)?;
        let core = core_distances(d, m)?;
        let edges: Vec<(usize, usize, f64)> = (0..n)
            .into_par_iter()
            .flat_map_iter(|i| {
                let core = &core;
                d.row(i).filter(move |&(j, _)| j > i).map(move |(j, dij)| {
                    let dji = d.get(j, i).expect("symmetric structure, checked");
                    (i, j, core[i].max(core[j]).max(dij.min(dji) / self.alpha))
                })
            })
            .collect();
        let forest = spanning_forest(n, edges);
        if forest.len() + 1 < n {
            let components = n - forest.len();
            return Err(bad(format!(
                "the stored distances leave the rows in {components} separate groups (connected components); \
                 HDBSCAN needs one: store distances between the groups, or cluster each group alone"
            )));
        }
        let mst = forest.into_iter().map(|(a, b, distance)| MstEdge { a, b, distance }).collect();
        let points = Points { sparse: Some(d.clone()), ..Points::rows(Array2::zeros((n, 0))) };
        Ok(self.finish(n, n, points, mst, core, None))
    }
}

/// Each row's distance to its `m`-th nearest row, itself first: 0 for `m = 1`, else its `(m − 1)`-th
/// smallest stored distance to another row.
fn core_distances(d: &SparseDistances, m: usize) -> Result<Vec<f64>> {
    let core: Vec<std::result::Result<f64, usize>> = (0..d.n_rows())
        .into_par_iter()
        .map_init(Vec::new, |buf: &mut Vec<f64>, i| {
            if m == 1 {
                return Ok(0.0);
            }
            buf.clear();
            buf.extend(d.row(i).filter(|&(j, _)| j != i).map(|(_, v)| v));
            if buf.len() < m - 1 {
                return Err(buf.len());
            }
            let (_, kth, _) = buf.select_nth_unstable_by(m - 2, f64::total_cmp);
            Ok(*kth)
        })
        .collect();
    core.into_iter()
        .enumerate()
        .map(|(i, c)| {
            c.map_err(|have| {
                bad(format!(
                    "row {i} (0-based) has {have} stored distances to other rows; min_samples = {m} (the row itself \
                     counted) needs at least {}",
                    m - 1
                ))
            })
        })
        .collect()
}
