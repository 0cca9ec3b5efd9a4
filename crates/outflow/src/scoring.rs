//! The anomaly score of a flow: several signals, each turned into its rank among the training flows, fused.
//!
//! Why not GLOSH alone: on real labeled Zeek logs, scans and failed connections are dense clusters of
//! near-identical flows, so HDBSCAN's GLOSH score (density relative to the point's own cluster) ranks
//! them *below* random (ROC-AUC 0.22–0.35 on the Stratosphere captures). Cluster rarity does not rescue
//! it: benign traffic is diverse, so much of it is noise, rarer than a tight scan cluster.
//!
//! The default fuses, by mean rank, the detectors that measured best together on every labeled set we
//! have (Stratosphere 001/008/010, CIC-IDS2017, NSL-KDD train/test, KDD'99 10 %; attacks subsampled to
//! 3 %, three seeds; `cargo run --release -p outflow --example detection_quality`):
//!
//! - **Isolation Forest** (Liu et al. 2008) — isolates unusual feature combinations;
//! - **PCA**, PyOD's score (distances to the principal axes weighted by inverse explained variance) —
//!   flows off the correlation structure of normal traffic;
//! - **Mahalanobis distance in principal-component space** — how far a flow lies from the bulk,
//!   scaled per axis.
//!
//! See the README's detection table for the measured ROC-AUC / PR-AUC against Isolation Forest alone and
//! GLOSH. The clustering is what explains a flow (its cluster, the cluster's profile, a surrogate forest);
//! the signals are configurable ([`ScoringConfig::signals`]: `glosh`, `cluster_rarity` or any
//! `outflow-outlier` detector).
//!
//! Each signal is mapped through its empirical CDF over the training flows (mid-ranks for ties), so the
//! fused score is in [0, 1], comparable across signals and stable for new flows.

use ndarray::ArrayView2;
use outflow_cluster::{Hdbscan, Prediction};
use outflow_outlier::{Detector, DetectorModel, IForestParams, OutlierDetector, OutlierModel, PcaParams, PcaScore};
use serde::{Deserialize, Serialize};

use crate::error::{OutflowError, Result};

/// One signal of the fused score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// HDBSCAN's GLOSH outlier score.
    Glosh,
    /// Rarity of the flow's cluster: 1 − cluster size / training flows (noise: 1).
    ClusterRarity,
    /// Any detector of `outflow-outlier`, fitted on the same prepared features.
    Detector(Detector),
}

impl Signal {
    /// Isolation Forest with default settings.
    pub fn isolation_forest() -> Signal {
        Signal::Detector(Detector::Iforest(IForestParams::default()))
    }

    /// The name used in configuration and reports.
    pub fn name(&self) -> String {
        match self {
            Signal::Glosh => "glosh".into(),
            Signal::ClusterRarity => "cluster_rarity".into(),
            Signal::Detector(d) => d.name(),
        }
    }
}

impl std::str::FromStr for Signal {
    type Err = OutflowError;
    /// `glosh`, `cluster_rarity`, or any detector name of `outflow-outlier` (`iforest`, `ecod`, ...).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "glosh" => Ok(Signal::Glosh),
            "cluster_rarity" | "rarity" => Ok(Signal::ClusterRarity),
            other => other.parse::<Detector>().map(Signal::Detector).map_err(|e| {
                OutflowError::Config(format!("unknown signal '{other}' (glosh, cluster_rarity or a detector: {e})"))
            }),
        }
    }
}

/// How the per-signal ranks are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// Mean of the ranks.
    #[default]
    Mean,
    /// Largest rank.
    Max,
}

/// Scoring settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Signals fused into the outlier score.
    pub signals: Vec<Signal>,
    /// Fusion of the signal ranks.
    pub fusion: Fusion,
    /// Training-score percentile at and above which a flow is `moderate`.
    pub moderate_percentile: f64,
    /// Training-score percentile at and above which a flow is `severe`.
    pub severe_percentile: f64,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            signals: vec![
                Signal::isolation_forest(),
                Signal::Detector(Detector::Pca(PcaParams::default())),
                Signal::Detector(Detector::Pca(PcaParams { score: PcaScore::Mahalanobis, ..PcaParams::default() })),
            ],
            fusion: Fusion::Mean,
            moderate_percentile: 95.0,
            severe_percentile: 99.0,
        }
    }
}

impl ScoringConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.signals.is_empty() {
            return Err(OutflowError::Config("scoring needs at least one signal".into()));
        }
        let ok = |p: f64| (0.0..=100.0).contains(&p);
        if !ok(self.moderate_percentile)
            || !ok(self.severe_percentile)
            || self.moderate_percentile > self.severe_percentile
        {
            return Err(OutflowError::Config(format!(
                "percentiles must satisfy 0 ≤ moderate ({}) ≤ severe ({}) ≤ 100",
                self.moderate_percentile, self.severe_percentile
            )));
        }
        for sig in &self.signals {
            if let Signal::Detector(d) = sig {
                d.validate().map_err(|e| OutflowError::Config(format!("signal {}: {e}", d.name())))?;
            }
        }
        Ok(())
    }
}

/// The empirical CDF of a signal over the training flows, with mid-ranks for ties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ecdf {
    #[serde(with = "outflow_cluster::codec::f64s")]
    sorted: Vec<f64>,
}

/// Training values kept per signal (evenly spaced order statistics beyond this many).
const ECDF_SIZE: usize = 20_000;

impl Ecdf {
    /// From training values (finite).
    pub fn new(values: &[f64]) -> Ecdf {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        if v.len() > ECDF_SIZE {
            let n = v.len();
            v = (0..ECDF_SIZE).map(|i| v[i * (n - 1) / (ECDF_SIZE - 1)]).collect();
        }
        Ecdf { sorted: v }
    }

    /// Fraction of training values below `x`, counting equal values half.
    pub fn rank(&self, x: f64) -> f64 {
        let n = self.sorted.len();
        if n == 0 {
            return 0.5;
        }
        let lo = self.sorted.partition_point(|&v| v < x);
        let hi = self.sorted.partition_point(|&v| v <= x);
        (lo + hi) as f64 / (2 * n) as f64
    }
}

/// The fitted scorer: what each signal needs for new flows, and the training CDFs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedScorer {
    config: ScoringConfig,
    /// Training flows per cluster label.
    cluster_sizes: Vec<usize>,
    n_train: usize,
    /// Fitted detector of each `Signal::Detector` signal (in signal order; `None` for the others).
    models: Vec<Option<DetectorModel>>,
    ecdfs: Vec<Ecdf>,
}

/// Raw signal values of a batch of flows, one vector per configured signal.
pub(crate) type RawSignals = Vec<Vec<f64>>;

impl FittedScorer {
    /// Fits on the training matrix and the clustering of those rows.
    pub(crate) fn fit(
        config: &ScoringConfig,
        x: ArrayView2<'_, f64>,
        model: &Hdbscan,
        seed: u64,
    ) -> Result<(Self, Vec<f64>)> {
        config.validate()?;
        let labels = outflow_cluster::ClusterModel::labels(model);
        let k = labels.iter().copied().max().map_or(0, |m| (m + 1).max(0) as usize);
        let mut cluster_sizes = vec![0usize; k];
        for &l in labels.iter().filter(|&&l| l >= 0) {
            cluster_sizes[l as usize] += 1;
        }
        let models = config
            .signals
            .iter()
            .map(|sig| match sig {
                Signal::Detector(d) => seeded(d, seed)
                    .fit(x)
                    .map(Some)
                    .map_err(|e| OutflowError::Model(format!("signal {}: {e}", d.name()))),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        let mut scorer =
            FittedScorer { config: config.clone(), cluster_sizes, n_train: labels.len(), models, ecdfs: Vec::new() };
        let raw = scorer.raw_training(model);
        scorer.ecdfs = raw.iter().map(|v| Ecdf::new(v)).collect();
        let fused = scorer.fuse(&raw);
        Ok((scorer, fused))
    }

    /// The settings.
    pub fn config(&self) -> &ScoringConfig {
        &self.config
    }

    fn rarity(&self, label: i64) -> f64 {
        if label < 0 || label as usize >= self.cluster_sizes.len() {
            1.0
        } else {
            1.0 - self.cluster_sizes[label as usize] as f64 / self.n_train.max(1) as f64
        }
    }

    fn raw_training(&self, model: &Hdbscan) -> RawSignals {
        let labels = outflow_cluster::ClusterModel::labels(model);
        self.config
            .signals
            .iter()
            .zip(&self.models)
            .map(|(s, m)| match (s, m) {
                (Signal::Glosh, _) => model.outlier_scores().to_vec(),
                (Signal::ClusterRarity, _) => labels.iter().map(|&l| self.rarity(l)).collect(),
                (Signal::Detector(_), m) => m.as_ref().expect("fitted with the signal").training_scores().to_vec(),
            })
            .collect()
    }

    /// Raw signals of new flows from their features and HDBSCAN predictions.
    pub(crate) fn raw_new(&self, x: ArrayView2<'_, f64>, pred: &[Prediction]) -> Result<RawSignals> {
        self.config
            .signals
            .iter()
            .zip(&self.models)
            .map(|(s, m)| {
                Ok(match (s, m) {
                    (Signal::Glosh, _) => pred.iter().map(|p| p.outlier_score).collect(),
                    (Signal::ClusterRarity, _) => pred.iter().map(|p| self.rarity(p.label)).collect(),
                    (Signal::Detector(d), m) => m
                        .as_ref()
                        .expect("fitted with the signal")
                        .score_samples(x)
                        .map_err(|e| OutflowError::Model(format!("signal {}: {e}", d.name())))?,
                })
            })
            .collect()
    }

    /// Fuses raw signals into scores in [0, 1].
    pub(crate) fn fuse(&self, raw: &RawSignals) -> Vec<f64> {
        let n = raw.first().map_or(0, Vec::len);
        (0..n)
            .map(|i| {
                let ranks = raw.iter().zip(&self.ecdfs).map(|(v, e)| e.rank(v[i]));
                match self.config.fusion {
                    Fusion::Mean => ranks.sum::<f64>() / raw.len() as f64,
                    Fusion::Max => ranks.fold(0.0, f64::max),
                }
            })
            .collect()
    }
}

/// The detector with the detector's own seed replaced by `seed` (the detector config's master seed).
fn seeded(d: &Detector, seed: u64) -> Detector {
    let mut d = d.clone();
    match &mut d {
        Detector::Iforest(p) => p.seed = seed,
        Detector::Cblof(p) => p.seed = seed,
        Detector::Gmm(p) => p.seed = seed,
        Detector::Fusion(p) => p.members = p.members.iter().map(|m| seeded(m, seed)).collect(),
        _ => {}
    }
    d
}

/// numpy's default (linear interpolation) `q`-th percentile of unsorted values (NaN when empty).
pub fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    outflow_prep::stats::quantile_sorted(&v, q / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdf_mid_ranks() {
        let e = Ecdf::new(&[1.0, 2.0, 2.0, 3.0]);
        assert_eq!(e.rank(0.0), 0.0);
        assert_eq!(e.rank(2.0), 0.5);
        assert_eq!(e.rank(5.0), 1.0);
        assert_eq!(e.rank(1.0), 0.125);
    }

    #[test]
    fn percentiles_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), 2.5);
        assert_eq!(percentile(&v, 95.0), 3.8499999999999996); // numpy's value
        assert_eq!(percentile(&v, 100.0), 4.0);
    }
}
