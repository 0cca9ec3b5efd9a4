//! Distance-based detectors on outflow-cluster's exact [`NearestNeighbors`] index: PyOD's `KNN`
//! (distance to the k-th neighbour, or the mean / median of the k distances) and scikit-learn's /
//! PyOD's `LOF`.
//!
//! Training scores use each row's `k` nearest *other* rows (`kneighbors()` without `X`); new rows are
//! scored against all training rows (a training row scored again is its own nearest neighbour), as in
//! PyOD.

use ndarray::{Array2, ArrayView2};
use outflow_cluster::{Metric, NearestNeighbors};
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, ScoreSamples, check_matrix, check_query};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// How PyOD's KNN turns the `k` neighbour distances into a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnnMethod {
    /// Distance to the k-th neighbour.
    #[default]
    Largest,
    /// Mean of the k distances.
    Mean,
    /// Median of the k distances (numpy's median: mean of the two middle values for even k).
    Median,
}

/// PyOD `KNN` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnParams {
    /// Neighbours (PyOD's default 5).
    pub n_neighbors: usize,
    /// Aggregation of the distances.
    pub method: KnnMethod,
    /// Distance metric.
    pub metric: Metric,
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams { n_neighbors: 5, method: KnnMethod::Largest, metric: Metric::Euclidean }
    }
}

impl KnnParams {
    /// Checks `n_neighbors >= 1`.
    pub fn validate(&self) -> Result<()> {
        if self.n_neighbors == 0 {
            return Err(OutlierError::param("n_neighbors", "must be at least 1"));
        }
        Ok(())
    }
}

/// A fitted kNN detector (keeps the training rows, as PyOD does).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Knn {
    /// The parameters used.
    pub params: KnnParams,
    train: Array2<f64>,
    training_scores: Vec<f64>,
    #[serde(skip)]
    index: std::sync::OnceLock<NearestNeighbors>,
}

impl Knn {
    /// Checks a model read from a file: `1 ≤ n_neighbors <` training rows (scoring allocates that many
    /// neighbours per row), one training score per row.
    pub fn check(&self) -> std::result::Result<(), String> {
        let (k, n) = (self.params.n_neighbors, self.train.nrows());
        if k == 0 || k >= n || self.training_scores.len() != n {
            return Err(format!(
                "kNN with {k} neighbours, {n} training rows and {} scores",
                self.training_scores.len()
            ));
        }
        Ok(())
    }
}

impl Lof {
    /// Checks a model read from a file: `1 ≤ k <` training rows, one k-distance, density and score per row.
    pub fn check(&self) -> std::result::Result<(), String> {
        let n = self.train.nrows();
        let per_row = [self.k_distance.len(), self.lrd.len(), self.training_scores.len()];
        if self.k == 0 || self.k >= n || per_row.iter().any(|&l| l != n) {
            return Err(format!("LOF with {} neighbours, {n} training rows and {per_row:?} per-row values", self.k));
        }
        Ok(())
    }
}

fn check_k(k: usize, n: usize, what: &str) -> Result<()> {
    if k >= n {
        return Err(InputError::too_few_rows(format!("{what} with k = {k}"), k, n).into());
    }
    Ok(())
}

fn aggregate(method: KnnMethod, d: &[f64]) -> f64 {
    match method {
        KnnMethod::Largest => d[d.len() - 1],
        KnnMethod::Mean => outflow_core::stats::pairwise_sum(d) / d.len() as f64,
        KnnMethod::Median => {
            let k = d.len();
            if k % 2 == 1 { d[k / 2] } else { (d[k / 2 - 1] + d[k / 2]) / 2.0 }
        }
    }
}

impl KnnParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        match self.method {
            KnnMethod::Largest => "knn".into(),
            KnnMethod::Mean => "knn_mean".into(),
            KnnMethod::Median => "knn_median".into(),
        }
    }
}

impl Fit for KnnParams {
    type Fitted = Knn;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Knn> {
        self.validate()?;
        check_matrix(x)?;
        check_k(self.n_neighbors, x.nrows(), "kNN")?;
        let index = NearestNeighbors::fit(x, self.metric)?;
        let (dist, _) = index.kneighbors_self(self.n_neighbors)?;
        let training_scores = dist.rows().into_iter().map(|r| aggregate(self.method, &r.to_vec())).collect();
        let lock = std::sync::OnceLock::new();
        let _ = lock.set(index);
        Ok(Knn { params: self.clone(), train: x.to_owned(), training_scores, index: lock })
    }
}

impl Knn {
    fn index(&self) -> Result<&NearestNeighbors> {
        if let Some(i) = self.index.get() {
            return Ok(i);
        }
        let built = NearestNeighbors::fit(self.train.view(), self.params.metric)?;
        Ok(self.index.get_or_init(|| built))
    }
}

impl OutlierModel for Knn {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.train.ncols()
    }
}

impl ScoreSamples for Knn {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let (dist, _) = self.index()?.kneighbors(x, self.params.n_neighbors)?;
        Ok(dist.rows().into_iter().map(|r| aggregate(self.params.method, &r.to_vec())).collect())
    }
}

/// Local Outlier Factor parameters (scikit-learn's `LocalOutlierFactor(novelty=True)` as PyOD wraps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LofParams {
    /// Neighbours (20).
    pub n_neighbors: usize,
    /// Distance metric.
    pub metric: Metric,
}

impl Default for LofParams {
    fn default() -> Self {
        LofParams { n_neighbors: 20, metric: Metric::Euclidean }
    }
}

impl LofParams {
    /// Checks `n_neighbors >= 1`.
    pub fn validate(&self) -> Result<()> {
        if self.n_neighbors == 0 {
            return Err(OutlierError::param("n_neighbors", "must be at least 1"));
        }
        Ok(())
    }
}

/// A fitted LOF: the training rows, their k-distances and local reachability densities.
///
/// With `k` neighbours `N_k(p)` and k-distance `d_k(o)` (distance of `o` to its k-th neighbour):
/// `reach(p, o) = max(d(p, o), d_k(o))`, `lrd(p) = 1 / (mean_{o ∈ N_k(p)} reach(p, o) + 1e-10)` (the
/// `1e-10` is scikit-learn's guard against duplicates), `LOF(p) = mean_{o ∈ N_k(p)} lrd(o) / lrd(p)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lof {
    /// The parameters used.
    pub params: LofParams,
    /// Neighbours used (`n_neighbors`; must be below the number of rows, where scikit-learn would cap
    /// it at `n − 1` with a warning).
    pub k: usize,
    train: Array2<f64>,
    k_distance: Vec<f64>,
    lrd: Vec<f64>,
    training_scores: Vec<f64>,
    #[serde(skip)]
    index: std::sync::OnceLock<NearestNeighbors>,
}

fn lrd_of(dist: &[f64], idx: &[usize], k_distance: &[f64]) -> f64 {
    let reach: Vec<f64> = dist.iter().zip(idx).map(|(&d, &o)| d.max(k_distance[o])).collect();
    1.0 / (outflow_core::stats::pairwise_sum(&reach) / reach.len() as f64 + 1e-10)
}

fn lof_of(idx: &[usize], lrd: &[f64], own: f64) -> f64 {
    let ratios: Vec<f64> = idx.iter().map(|&o| lrd[o] / own).collect();
    outflow_core::stats::pairwise_sum(&ratios) / ratios.len() as f64
}

impl LofParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        "lof".into()
    }
}

impl Fit for LofParams {
    type Fitted = Lof;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Lof> {
        self.validate()?;
        check_matrix(x)?;
        let n = x.nrows();
        // scikit-learn caps k at n − 1 with a warning; a k that the data cannot support is an error here.
        check_k(self.n_neighbors, n, "LOF")?;
        let k = self.n_neighbors;
        let index = NearestNeighbors::fit(x, self.metric)?;
        let (dist, idx) = index.kneighbors_self(k)?;
        let k_distance: Vec<f64> = (0..n).map(|i| dist[[i, k - 1]]).collect();
        let rows: Vec<(Vec<f64>, Vec<usize>)> = (0..n).map(|i| (dist.row(i).to_vec(), idx.row(i).to_vec())).collect();
        let lrd: Vec<f64> = rows.iter().map(|(d, i)| lrd_of(d, i, &k_distance)).collect();
        let training_scores = rows.iter().enumerate().map(|(p, (_, i))| lof_of(i, &lrd, lrd[p])).collect();
        let lock = std::sync::OnceLock::new();
        let _ = lock.set(index);
        Ok(Lof { params: self.clone(), k, train: x.to_owned(), k_distance, lrd, training_scores, index: lock })
    }
}

impl Lof {
    fn index(&self) -> Result<&NearestNeighbors> {
        if let Some(i) = self.index.get() {
            return Ok(i);
        }
        let built = NearestNeighbors::fit(self.train.view(), self.params.metric)?;
        Ok(self.index.get_or_init(|| built))
    }

    /// Local reachability density of each training row.
    pub fn lrd(&self) -> &[f64] {
        &self.lrd
    }
}

impl OutlierModel for Lof {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.train.ncols()
    }
}

impl ScoreSamples for Lof {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let (dist, idx) = self.index()?.kneighbors(x, self.k)?;
        Ok((0..x.nrows())
            .map(|i| {
                let (d, o) = (dist.row(i).to_vec(), idx.row(i).to_vec());
                let own = lrd_of(&d, &o, &self.k_distance);
                lof_of(&o, &self.lrd, own)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn knn_and_lof_on_a_line() {
        let x = array![[0.0], [1.0], [2.0], [3.0], [10.0]];
        let m = KnnParams { n_neighbors: 2, ..Default::default() }.fit(x.view()).unwrap();
        assert_eq!(m.training_scores(), &[2.0, 1.0, 1.0, 2.0, 8.0]);
        assert_eq!(m.score_samples(array![[10.0]].view()).unwrap(), vec![7.0]);
        assert!(KnnParams { n_neighbors: 5, ..Default::default() }.fit(x.view()).is_err());
        let lof = LofParams { n_neighbors: 2, ..Default::default() }.fit(x.view()).unwrap();
        let s = lof.training_scores();
        assert!(s[4] > 3.0 && s[1] < 1.2, "{s:?}");
    }
}
