//! The fitted k-means model.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::check_query;

use super::iterate::argmin;
use super::params::KMeansParams;
use crate::error::{ClusterError, Result};
use crate::traits::{ClusterModel, Predict};

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeans {
    pub(super) params: KMeansParams,
    #[serde(with = "outflow_core::codec::matrix")]
    pub(super) centres: Array2<f64>,
    #[serde(with = "outflow_core::codec::i64s")]
    pub(super) labels: Vec<i64>,
    pub(super) inertia: f64,
    pub(super) n_iter: usize,
    pub(super) best_run: usize,
    pub(super) inertia_history: Vec<f64>,
}

impl KMeans {
    /// Checks a model read from a file: at least one centre, every coordinate usable.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.centres.nrows() == 0 || self.centres.iter().any(|v| !outflow_core::is_usable(*v)) {
            return Err(format!(
                "{} centres, or a centre coordinate that is not a usable number",
                self.centres.nrows()
            ));
        }
        Ok(())
    }

    /// The parameters used.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.centres.ncols()
    }

    /// Cluster centres (row = label).
    pub fn centres(&self) -> &Array2<f64> {
        &self.centres
    }

    /// Sum of squared distances of the training rows to their centres.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Iterations of the winning run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Index of the winning run among the `n_init`.
    pub fn best_run(&self) -> usize {
        self.best_run
    }

    /// With [`KMeansParams::track_inertia`]: the inertia after each iteration of the winning run (labels
    /// of the iteration against the centres it produced) — non-increasing.
    pub fn inertia_history(&self) -> &[f64] {
        &self.inertia_history
    }

    /// Nearest centre of each row and the Euclidean distance to it.
    pub fn predict_with_distances(&self, x: ArrayView2<'_, f64>) -> Result<(Vec<i64>, Vec<f64>)> {
        check_query(x, self.centres.ncols())?;
        Ok(nearest_centres(x, &self.centres))
    }
}

/// Nearest row of `centres` (first on ties) for every row of `x`, with the Euclidean distance.
pub(crate) fn nearest_centres(x: ArrayView2<'_, f64>, centres: &Array2<f64>) -> (Vec<i64>, Vec<f64>) {
    let x = x.as_standard_layout();
    let c = centres.as_standard_layout();
    let d = c.ncols();
    let (xs, cs) = (x.as_slice().expect("standard layout"), c.as_slice().expect("standard layout"));
    let out: Vec<(i64, f64)> = xs
        .par_chunks(d.max(1))
        .with_min_len(256)
        .map(|row| {
            let (j, sq) = argmin(row, cs, d);
            (j as i64, sq.sqrt())
        })
        .collect();
    out.into_iter().unzip()
}

impl ClusterModel for KMeans {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}

impl Predict for KMeans {
    type Error = ClusterError;

    /// Nearest centre.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        Ok(self.predict_with_distances(x)?.0)
    }
}

#[cfg(test)]
mod check_tests {
    use crate::KMeansParams;
    use outflow_core::Fit;

    #[test]
    fn crafted_centres_are_refused() {
        let x = ndarray::Array2::from_shape_fn((60, 2), |(i, j)| ((i % 3) * 10 + j) as f64);
        let m = KMeansParams { k: 3, ..Default::default() }.fit(x.view()).unwrap();
        let mut b = m.clone();
        b.centres = ndarray::Array2::zeros((0, 2));
        assert!(b.check().is_err());
        let mut b = m.clone();
        b.centres[[1, 0]] = 1e200;
        assert!(b.check().is_err());
        assert!(m.check().is_ok());
    }
}
