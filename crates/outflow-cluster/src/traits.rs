//! The trait family shared by every clustering algorithm of the crate (in the spirit of linfa's
//! `Fit` / `Predict`): parameters fit a model, a model has labels, some models assign new points.

use ndarray::ArrayView2;

use crate::error::Result;

/// Parameters that fit a clustering model on a data matrix (rows = points).
pub trait Fit {
    /// The fitted model.
    type Model: ClusterModel;

    /// Validates the parameters against the data and fits.
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Self::Model>;
}

/// A fitted clustering.
pub trait ClusterModel {
    /// One label per training point; −1 is noise.
    fn labels(&self) -> &[i64];

    /// Number of clusters (noise not counted).
    fn n_clusters(&self) -> usize {
        self.labels().iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize)
    }

    /// Fraction of training points labelled noise.
    fn noise_fraction(&self) -> f64 {
        let l = self.labels();
        if l.is_empty() { 0.0 } else { l.iter().filter(|&&x| x < 0).count() as f64 / l.len() as f64 }
    }
}

/// A fitted model that assigns new points to its clusters.
pub trait Predict: ClusterModel {
    /// One label per row of `x` (−1 = noise, where the model has a notion of noise).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>>;
}
