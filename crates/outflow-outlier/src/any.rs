//! [`Detector`]: every detector's parameters in one serialisable enum (the building block of fusion, the
//! benchmark and configuration files), and [`DetectorModel`], its fitted counterpart.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::cblof::{Cblof, CblofParams};
use crate::detector::{OutlierDetector, OutlierModel};
use crate::ecod::{CopodParams, EcdfModel, EcodParams};
use crate::error::{OutlierError, Result};
use crate::fusion::{Fusion, FusionMethod, FusionParams};
use crate::glosh::{HdbscanDetector, HdbscanDetectorParams, HdbscanScore};
use crate::gmm::{CovarianceType, Gmm, GmmParams};
use crate::iforest::{IForest, IForestParams};
use crate::knn::{Knn, KnnMethod, KnnParams, Lof, LofParams};
use crate::pca::{PcaDetector, PcaParams, PcaScore};

/// Parameters of any detector.
///
/// ```
/// use outflow_outlier::Detector;
/// let d: Detector = "iforest".parse().unwrap();
/// assert_eq!(d.name(), "iforest");
/// let json = serde_json::to_string(&d).unwrap();
/// assert!(json.starts_with(r#"{"kind":"iforest""#));
/// assert!("nope".parse::<Detector>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum Detector {
    /// Isolation Forest.
    Iforest(IForestParams),
    /// Local Outlier Factor.
    Lof(LofParams),
    /// kNN distance.
    Knn(KnnParams),
    /// Cluster-based LOF on k-means.
    Cblof(CblofParams),
    /// ECOD.
    Ecod(EcodParams),
    /// COPOD.
    Copod(CopodParams),
    /// Gaussian mixture.
    Gmm(GmmParams),
    /// PCA scores.
    Pca(PcaParams),
    /// HDBSCAN's GLOSH or cluster rarity.
    Hdbscan(HdbscanDetectorParams),
    /// Score fusion of other detectors.
    Fusion(FusionParams),
}

/// A fitted [`Detector`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs, clippy::large_enum_variant)] // one model per fit: size does not matter
pub enum DetectorModel {
    Iforest(IForest),
    Lof(Lof),
    Knn(Knn),
    Cblof(Cblof),
    Ecdf(EcdfModel),
    Gmm(Gmm),
    Pca(PcaDetector),
    Hdbscan(HdbscanDetector),
    Fusion(Fusion),
}

/// The names [`Detector::from_str`](std::str::FromStr) accepts, in the benchmark's `all` order.
pub const DETECTOR_NAMES: &[&str] = &[
    "iforest",
    "lof",
    "knn",
    "knn_mean",
    "knn_median",
    "cblof",
    "ecod",
    "copod",
    "gmm",
    "gmm_diag",
    "pca",
    "pca_mahalanobis",
    "pca_reconstruction",
    "glosh",
    "cluster_rarity",
    "fusion_rank",
    "fusion_zscore",
    "fusion_max",
];

impl Detector {
    /// The detector's short name (one of [`DETECTOR_NAMES`] for the presets).
    pub fn name(&self) -> String {
        match self {
            Detector::Iforest(p) => p.name(),
            Detector::Lof(p) => p.name(),
            Detector::Knn(p) => p.name(),
            Detector::Cblof(p) => p.name(),
            Detector::Ecod(p) => p.name(),
            Detector::Copod(p) => p.name(),
            Detector::Gmm(p) => p.name(),
            Detector::Pca(p) => p.name(),
            Detector::Hdbscan(p) => p.name(),
            Detector::Fusion(p) => p.name(),
        }
    }

    /// The preset of a name with a seed for the randomised detectors (`iforest`, `cblof`, `gmm`, ...).
    /// Fusion presets combine `iforest`, `knn` and `ecod`.
    pub fn preset(name: &str, seed: u64) -> Result<Detector> {
        let fusion = |method| {
            Detector::Fusion(FusionParams {
                method,
                members: vec![
                    Detector::Iforest(IForestParams { seed, ..Default::default() }),
                    Detector::Knn(KnnParams::default()),
                    Detector::Ecod(EcodParams::default()),
                ],
            })
        };
        Ok(match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "iforest" | "isolation_forest" => Detector::Iforest(IForestParams { seed, ..Default::default() }),
            "lof" => Detector::Lof(LofParams::default()),
            "knn" => Detector::Knn(KnnParams::default()),
            "knn_mean" => Detector::Knn(KnnParams { method: KnnMethod::Mean, ..Default::default() }),
            "knn_median" => Detector::Knn(KnnParams { method: KnnMethod::Median, ..Default::default() }),
            "cblof" => Detector::Cblof(CblofParams { seed, ..Default::default() }),
            "ecod" => Detector::Ecod(EcodParams::default()),
            "copod" => Detector::Copod(CopodParams::default()),
            "gmm" => Detector::Gmm(GmmParams { seed, ..Default::default() }),
            "gmm_diag" => {
                Detector::Gmm(GmmParams { seed, covariance_type: CovarianceType::Diag, ..Default::default() })
            }
            "pca" => Detector::Pca(PcaParams::default()),
            "pca_mahalanobis" => Detector::Pca(PcaParams { score: PcaScore::Mahalanobis, ..Default::default() }),
            "pca_reconstruction" => Detector::Pca(PcaParams { score: PcaScore::Reconstruction, ..Default::default() }),
            "glosh" => Detector::Hdbscan(HdbscanDetectorParams::default()),
            "cluster_rarity" => {
                Detector::Hdbscan(HdbscanDetectorParams { score: HdbscanScore::ClusterRarity, ..Default::default() })
            }
            "fusion_rank" => fusion(FusionMethod::Rank),
            "fusion_zscore" => fusion(FusionMethod::ZScore),
            "fusion_max" => fusion(FusionMethod::Max),
            other => {
                return Err(OutlierError::param(format!(
                    "unknown detector '{other}' (one of: {})",
                    DETECTOR_NAMES.join(", ")
                )));
            }
        })
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            Detector::Iforest(p) => p.validate(),
            Detector::Lof(p) => p.validate(),
            Detector::Knn(p) => p.validate(),
            Detector::Cblof(p) => p.validate(),
            Detector::Ecod(p) => p.validate(),
            Detector::Copod(p) => p.validate(),
            Detector::Gmm(p) => p.validate(),
            Detector::Pca(p) => p.validate(),
            Detector::Hdbscan(p) => p.validate(),
            Detector::Fusion(p) => p.validate(),
        }
    }
}

impl std::str::FromStr for Detector {
    type Err = OutlierError;
    fn from_str(s: &str) -> Result<Detector> {
        Detector::preset(s, 0)
    }
}

impl OutlierDetector for Detector {
    type Model = DetectorModel;

    fn name(&self) -> String {
        Detector::name(self)
    }

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<DetectorModel> {
        Ok(match self {
            Detector::Iforest(p) => DetectorModel::Iforest(p.fit(x)?),
            Detector::Lof(p) => DetectorModel::Lof(p.fit(x)?),
            Detector::Knn(p) => DetectorModel::Knn(p.fit(x)?),
            Detector::Cblof(p) => DetectorModel::Cblof(p.fit(x)?),
            Detector::Ecod(p) => DetectorModel::Ecdf(p.fit(x)?),
            Detector::Copod(p) => DetectorModel::Ecdf(p.fit(x)?),
            Detector::Gmm(p) => DetectorModel::Gmm(p.fit(x)?),
            Detector::Pca(p) => DetectorModel::Pca(p.fit(x)?),
            Detector::Hdbscan(p) => DetectorModel::Hdbscan(p.fit(x)?),
            Detector::Fusion(p) => DetectorModel::Fusion(p.fit(x)?),
        })
    }
}

macro_rules! each_model {
    ($m:expr, $v:ident => $e:expr) => {
        match $m {
            DetectorModel::Iforest($v) => $e,
            DetectorModel::Lof($v) => $e,
            DetectorModel::Knn($v) => $e,
            DetectorModel::Cblof($v) => $e,
            DetectorModel::Ecdf($v) => $e,
            DetectorModel::Gmm($v) => $e,
            DetectorModel::Pca($v) => $e,
            DetectorModel::Hdbscan($v) => $e,
            DetectorModel::Fusion($v) => $e,
        }
    };
}

impl OutlierModel for DetectorModel {
    fn training_scores(&self) -> &[f64] {
        each_model!(self, m => m.training_scores())
    }

    fn n_features(&self) -> usize {
        each_model!(self, m => m.n_features())
    }

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        each_model!(self, m => m.score_samples(x))
    }
}
