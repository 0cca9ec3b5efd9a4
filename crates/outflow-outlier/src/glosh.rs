//! HDBSCAN as an outlier detector (outflow-cluster's exact HDBSCAN behind the [`Fit`] / [`OutlierModel`]
//! interface), with two scores:
//!
//! - [`HdbscanScore::Glosh`] — GLOSH (Campello et al. 2015): `(λ_max − λ_x) / λ_max` of the point's
//!   cluster in the condensed tree, in [0, 1]. New rows: outflow-cluster's `approximate_predict`-style
//!   outlier score.
//! - [`HdbscanScore::ClusterRarity`] — how rare the row's *cluster* is: noise → 1, a row of cluster `C`
//!   → `1 − |C| / |C_max|` with `C_max` the largest cluster, in [0, 1). New rows get the rarity of the
//!   cluster they are predicted into.
//!
//! Why cluster rarity, and why that formula. GLOSH is a *local* score: it measures how far a point
//! sits from the densest part of its own cluster. On flow data the attacks that matter often form
//! their own dense clusters (a scan is thousands of near-identical zero-byte flows), so each attack
//! flow looks perfectly typical of its cluster and gets a GLOSH score near 0. What distinguishes it is
//! that its cluster is small compared with the bulk of normal traffic. `1 − |C|/|C_max|` is bounded,
//! independent of `n`, gives the dominant "normal" cluster 0, ranks every cluster by size and puts noise
//! above every cluster. (`−ln(|C|/n)` ranks clusters identically but is unbounded and needs an
//! arbitrary value for noise; ROC-AUC and precision@n only depend on the ranking.) Many rows share a
//! score (one per cluster), so ranking metrics must handle ties — the benchmark's do.

use ndarray::ArrayView2;
use outflow_cluster::{ClusterModel, Hdbscan, HdbscanParams};
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, ScoreSamples, check_matrix, check_query};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// Which HDBSCAN-derived score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HdbscanScore {
    /// GLOSH outlier score.
    #[default]
    Glosh,
    /// Rarity of the row's cluster (noise = 1).
    ClusterRarity,
}

/// HDBSCAN detector parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HdbscanOutlierParams {
    /// The clustering (outflow-cluster's defaults: `min_cluster_size` 5, `min_samples` = it, the point
    /// itself counted).
    pub hdbscan: HdbscanParams,
    /// The score.
    pub score: HdbscanScore,
}

impl Default for HdbscanOutlierParams {
    fn default() -> Self {
        HdbscanOutlierParams { hdbscan: HdbscanParams::default(), score: HdbscanScore::Glosh }
    }
}

impl HdbscanOutlierParams {
    /// GLOSH with the given clustering parameters.
    pub fn glosh(hdbscan: HdbscanParams) -> Self {
        HdbscanOutlierParams { hdbscan, score: HdbscanScore::Glosh }
    }

    /// Cluster rarity with the given clustering parameters.
    pub fn cluster_rarity(hdbscan: HdbscanParams) -> Self {
        HdbscanOutlierParams { hdbscan, score: HdbscanScore::ClusterRarity }
    }

    /// Checks the clustering parameters.
    pub fn validate(&self) -> Result<()> {
        self.hdbscan.validate().map_err(OutlierError::from)
    }
}

/// A fitted HDBSCAN detector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HdbscanOutlier {
    /// The score.
    pub score: HdbscanScore,
    /// The fitted clustering.
    pub model: Hdbscan,
    /// Rarity of each cluster label.
    pub rarity: Vec<f64>,
    training_scores: Vec<f64>,
}

/// `1 − size/largest` per cluster label (`labels` ≥ 0 are clusters, −1 noise).
pub fn cluster_rarity(labels: &[i64]) -> Vec<f64> {
    let k = labels.iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize);
    let mut sizes = vec![0usize; k];
    for &l in labels {
        if l >= 0 {
            sizes[l as usize] += 1;
        }
    }
    let largest = sizes.iter().copied().max().unwrap_or(0).max(1) as f64;
    sizes.iter().map(|&s| 1.0 - s as f64 / largest).collect()
}

fn rarity_of(rarity: &[f64], label: i64) -> f64 {
    if label < 0 { 1.0 } else { rarity.get(label as usize).copied().unwrap_or(1.0) }
}

impl HdbscanOutlierParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        match self.score {
            HdbscanScore::Glosh => "glosh".into(),
            HdbscanScore::ClusterRarity => "cluster_rarity".into(),
        }
    }
}

impl Fit for HdbscanOutlierParams {
    type Fitted = HdbscanOutlier;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<HdbscanOutlier> {
        self.validate()?;
        check_matrix(x)?;
        let model = self.hdbscan.fit(x)?;
        let rarity = cluster_rarity(model.labels());
        let training_scores = match self.score {
            HdbscanScore::Glosh => model.outlier_scores().to_vec(),
            HdbscanScore::ClusterRarity => model.labels().iter().map(|&l| rarity_of(&rarity, l)).collect(),
        };
        Ok(HdbscanOutlier { score: self.score, model, rarity, training_scores })
    }
}

impl OutlierModel for HdbscanOutlier {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.model.n_features()
    }
}

impl ScoreSamples for HdbscanOutlier {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        let p = self.model.predict_batch(x)?;
        Ok(match self.score {
            HdbscanScore::Glosh => p.iter().map(|p| p.outlier_score).collect(),
            HdbscanScore::ClusterRarity => p.iter().map(|p| rarity_of(&self.rarity, p.label)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rarity_definition() {
        let r = cluster_rarity(&[0, 0, 0, 0, 1, 1, -1]);
        assert_eq!(r, vec![0.0, 0.5]);
        assert_eq!(rarity_of(&r, -1), 1.0);
        assert!(cluster_rarity(&[-1, -1]).is_empty());
    }
}
