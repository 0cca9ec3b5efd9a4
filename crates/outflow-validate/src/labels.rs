//! Input checks and the clusters of a labelling once noise is removed.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::{check_len, check_matrix};

use crate::error::{Result, ValidateError};

/// An index value, or an error when distances overflowed the float range (|values| ≳ 1e150).
pub(crate) fn finite(v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ValidateError::Degenerate("distances overflow the float range: rescale the data".into()))
    }
}

/// A non-empty, finite matrix and one label per row.
pub(crate) fn check_labelled(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<()> {
    check_len("labels", x.nrows(), labels.len())?;
    Ok(check_matrix(x)?)
}

/// The clusters of a labelling: noise (every negative label, −1 by convention) removed, the remaining
/// labels mapped to compact ids `0..k` in ascending label order (as scikit-learn's `LabelEncoder`).
#[derive(Debug, Clone)]
pub(crate) struct Clusters {
    /// Original label of each compact id, ascending.
    pub labels: Vec<i64>,
    /// Points per compact id.
    pub sizes: Vec<usize>,
    /// Kept rows, ascending.
    pub rows: Vec<usize>,
    /// Compact id of each kept row (parallel to `rows`).
    pub ids: Vec<usize>,
    /// Rows of the whole labelling (noise included).
    pub n_total: usize,
    /// Noise rows of the whole labelling.
    pub n_noise: usize,
}

impl Clusters {
    /// Clusters of every non-noise row.
    pub fn new(labels: &[i64]) -> Self {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] >= 0).collect();
        Self::of_rows(labels, rows)
    }

    /// Clusters of the given non-noise rows (ascending) of `labels`.
    pub fn of_rows(labels: &[i64], rows: Vec<usize>) -> Self {
        let mut distinct: Vec<i64> = rows.iter().map(|&r| labels[r]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut sizes = vec![0usize; distinct.len()];
        let ids: Vec<usize> = rows
            .iter()
            .map(|&r| {
                let c = distinct.binary_search(&labels[r]).expect("label of a kept row");
                sizes[c] += 1;
                c
            })
            .collect();
        let n_noise = labels.iter().filter(|&&l| l < 0).count();
        Clusters { labels: distinct, sizes, rows, ids, n_total: labels.len(), n_noise }
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.labels.len()
    }

    /// Kept (scored) points.
    pub fn n(&self) -> usize {
        self.rows.len()
    }

    /// Fraction of all rows that are not noise.
    pub fn coverage(&self) -> f64 {
        if self.n_total == 0 { 0.0 } else { (self.n_total - self.n_noise) as f64 / self.n_total as f64 }
    }

    /// scikit-learn's condition on the number of labels: `2 ≤ k ≤ n − 1`.
    pub fn require_scorable(&self) -> Result<()> {
        if self.k() < 2 {
            return Err(ValidateError::TooFewClusters { found: self.k() });
        }
        if self.k() >= self.n() {
            return Err(ValidateError::TooManyClusters { clusters: self.k(), points: self.n() });
        }
        Ok(())
    }

    /// A [`Score`] with this labelling's counts.
    pub fn score(&self, value: f64) -> Score {
        Score { value, n_clusters: self.k(), n_points: self.n(), n_noise: self.n_noise, coverage: self.coverage() }
    }
}

/// An index value with the counts it was computed on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The index.
    pub value: f64,
    /// Clusters (noise excluded).
    pub n_clusters: usize,
    /// Points the index was computed on (noise excluded; the sample when sampling).
    pub n_points: usize,
    /// Noise rows (negative labels) of the whole labelling.
    pub n_noise: usize,
    /// Fraction of rows that are not noise.
    pub coverage: f64,
}

/// Pairwise summation in fixed blocks: accurate and independent of any thread count.
pub(crate) fn sum(v: &[f64]) -> f64 {
    if v.len() <= 64 {
        let mut s = 0.0;
        for &x in v {
            s += x;
        }
        s
    } else {
        let h = v.len() / 2;
        sum(&v[..h]) + sum(&v[h..])
    }
}
