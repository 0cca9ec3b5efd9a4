//! What a fitted clustering offers. Fitting and predicting are `outflow_core`'s [`Fit`] and [`Predict`],
//! shared by every Outflow algorithm.

pub use outflow_core::{Fit, Predict};

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
