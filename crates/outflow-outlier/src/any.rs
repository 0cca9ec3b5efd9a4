//! [`Algorithm`]: every detector's parameters in one serialisable enum (the building block of fusion, the
//! benchmark and configuration files), and [`Model`], its fitted counterpart.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, ScoreSamples};

use crate::autoencoder::{AutoEncoder, AutoEncoderParams, Vae, VaeParams};
use crate::cblof::{Cblof, CblofParams};
use crate::detector::OutlierModel;
use crate::ecod::{Copod, CopodParams, Ecod, EcodParams};
use crate::error::{OutlierError, Result};
use crate::fusion::{Fusion, FusionMethod, FusionParams};
use crate::glosh::{HdbscanOutlier, HdbscanOutlierParams, HdbscanScore};
use crate::gmm::{CovarianceType, Gmm, GmmParams};
use crate::iforest::{IForest, IForestParams};
use crate::knn::{Knn, KnnMethod, KnnParams, Lof, LofParams};
use crate::pca::{Pca, PcaParams, PcaScore};

/// Parameters of any detector.
///
/// ```
/// use outflow_outlier::Algorithm;
/// let d: Algorithm = "iforest".parse().unwrap();
/// assert_eq!(d.name(), "iforest");
/// let json = serde_json::to_string(&d).unwrap();
/// assert!(json.starts_with(r#"{"kind":"iforest""#));
/// assert!("nope".parse::<Algorithm>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum Algorithm {
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
    Hdbscan(HdbscanOutlierParams),
    /// Autoencoder reconstruction error.
    #[serde(rename = "autoencoder")]
    AutoEncoder(AutoEncoderParams),
    /// Variational autoencoder reconstruction error.
    Vae(VaeParams),
    /// Score fusion of other detectors.
    Fusion(FusionParams),
}

/// A fitted [`Algorithm`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs, clippy::large_enum_variant)] // one model per fit: size does not matter
pub enum Model {
    Iforest(IForest),
    Lof(Lof),
    Knn(Knn),
    Cblof(Cblof),
    /// Also read under its former name `ecdf` (model files of format version 1).
    #[serde(alias = "ecdf")]
    Ecod(Ecod),
    Copod(Copod),
    Gmm(Gmm),
    Pca(Pca),
    Hdbscan(HdbscanOutlier),
    #[serde(rename = "autoencoder")]
    AutoEncoder(AutoEncoder),
    Vae(Vae),
    Fusion(Fusion),
}

impl Algorithm {
    /// Whether a row's score depends on its own values alone (and the fitted model). ECOD and COPOD, as
    /// PyOD defines them, rebuild their distributions from the training rows and the scored batch
    /// together, so their scores (and a fusion holding them) depend on the rest of the batch.
    pub fn row_local(&self) -> bool {
        match self {
            Algorithm::Ecod(_) | Algorithm::Copod(_) => false,
            Algorithm::Fusion(f) => f.members.iter().all(Algorithm::row_local),
            _ => true,
        }
    }

    /// The names [`Algorithm::from_str`](std::str::FromStr) accepts, in the benchmark's `all` order.
    pub const NAMES: &'static [&'static str] = &[
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
        "autoencoder",
        "vae",
        "fusion_rank",
        "fusion_zscore",
        "fusion_max",
        "fusion_max_rank",
    ];

    /// The detector's short name (one of [`Algorithm::NAMES`] for the presets).
    pub fn name(&self) -> String {
        match self {
            Algorithm::Iforest(p) => p.name(),
            Algorithm::Lof(p) => p.name(),
            Algorithm::Knn(p) => p.name(),
            Algorithm::Cblof(p) => p.name(),
            Algorithm::Ecod(p) => p.name(),
            Algorithm::Copod(p) => p.name(),
            Algorithm::Gmm(p) => p.name(),
            Algorithm::Pca(p) => p.name(),
            Algorithm::Hdbscan(p) => p.name(),
            Algorithm::AutoEncoder(p) => p.name(),
            Algorithm::Vae(p) => p.name(),
            Algorithm::Fusion(p) => p.name(),
        }
    }

    /// The preset of a name with a seed for the randomised detectors (`iforest`, `cblof`, `gmm`, ...).
    /// Fusion presets combine `iforest`, `knn` and `ecod`.
    pub fn preset(name: &str, seed: u64) -> Result<Algorithm> {
        let fusion = |method| {
            Algorithm::Fusion(FusionParams {
                method,
                members: vec![
                    Algorithm::Iforest(IForestParams { seed, ..Default::default() }),
                    Algorithm::Knn(KnnParams::default()),
                    Algorithm::Ecod(EcodParams::default()),
                ],
            })
        };
        Ok(match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "iforest" | "isolation_forest" => Algorithm::Iforest(IForestParams { seed, ..Default::default() }),
            "lof" => Algorithm::Lof(LofParams::default()),
            "knn" => Algorithm::Knn(KnnParams::default()),
            "knn_mean" => Algorithm::Knn(KnnParams { method: KnnMethod::Mean, ..Default::default() }),
            "knn_median" => Algorithm::Knn(KnnParams { method: KnnMethod::Median, ..Default::default() }),
            "cblof" => Algorithm::Cblof(CblofParams { seed, ..Default::default() }),
            "ecod" => Algorithm::Ecod(EcodParams::default()),
            "copod" => Algorithm::Copod(CopodParams::default()),
            "gmm" => Algorithm::Gmm(GmmParams { seed, ..Default::default() }),
            "gmm_diag" => {
                Algorithm::Gmm(GmmParams { seed, covariance_type: CovarianceType::Diag, ..Default::default() })
            }
            "pca" => Algorithm::Pca(PcaParams::default()),
            "pca_mahalanobis" => Algorithm::Pca(PcaParams { score: PcaScore::Mahalanobis, ..Default::default() }),
            "pca_reconstruction" => Algorithm::Pca(PcaParams { score: PcaScore::Reconstruction, ..Default::default() }),
            "glosh" => Algorithm::Hdbscan(HdbscanOutlierParams::default()),
            "cluster_rarity" => {
                Algorithm::Hdbscan(HdbscanOutlierParams { score: HdbscanScore::ClusterRarity, ..Default::default() })
            }
            "autoencoder" | "auto_encoder" => Algorithm::AutoEncoder(AutoEncoderParams { seed, ..Default::default() }),
            "vae" => Algorithm::Vae(VaeParams { seed, ..Default::default() }),
            "fusion_rank" => fusion(FusionMethod::Rank),
            "fusion_zscore" => fusion(FusionMethod::ZScore),
            "fusion_max" => fusion(FusionMethod::Max),
            "fusion_max_rank" => fusion(FusionMethod::MaxRank),
            other => {
                return Err(OutlierError::param(
                    "detector",
                    format!("unknown detector '{other}' (one of: {})", Algorithm::NAMES.join(", ")),
                ));
            }
        })
    }

    /// The same parameters with the seed of every randomised detector (Isolation Forest, CBLOF's
    /// k-means, GMM, the autoencoders; fusion members included) set to `seed`.
    pub fn with_seed(mut self, seed: u64) -> Algorithm {
        match &mut self {
            Algorithm::Iforest(p) => p.seed = seed,
            Algorithm::Cblof(p) => p.seed = seed,
            Algorithm::Gmm(p) => p.seed = seed,
            Algorithm::AutoEncoder(p) => p.seed = seed,
            Algorithm::Vae(p) => p.seed = seed,
            Algorithm::Fusion(p) => p.members = p.members.drain(..).map(|m| m.with_seed(seed)).collect(),
            Algorithm::Lof(_)
            | Algorithm::Knn(_)
            | Algorithm::Ecod(_)
            | Algorithm::Copod(_)
            | Algorithm::Pca(_)
            | Algorithm::Hdbscan(_) => {}
        }
        self
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            Algorithm::Iforest(p) => p.validate(),
            Algorithm::Lof(p) => p.validate(),
            Algorithm::Knn(p) => p.validate(),
            Algorithm::Cblof(p) => p.validate(),
            Algorithm::Ecod(p) => p.validate(),
            Algorithm::Copod(p) => p.validate(),
            Algorithm::Gmm(p) => p.validate(),
            Algorithm::Pca(p) => p.validate(),
            Algorithm::Hdbscan(p) => p.validate(),
            Algorithm::AutoEncoder(p) => p.validate(),
            Algorithm::Vae(p) => p.validate(),
            Algorithm::Fusion(p) => p.validate(),
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = OutlierError;
    fn from_str(s: &str) -> Result<Algorithm> {
        Algorithm::preset(s, 0)
    }
}

impl Fit for Algorithm {
    type Fitted = Model;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Model> {
        Ok(match self {
            Algorithm::Iforest(p) => Model::Iforest(p.fit(x)?),
            Algorithm::Lof(p) => Model::Lof(p.fit(x)?),
            Algorithm::Knn(p) => Model::Knn(p.fit(x)?),
            Algorithm::Cblof(p) => Model::Cblof(p.fit(x)?),
            Algorithm::Ecod(p) => Model::Ecod(p.fit(x)?),
            Algorithm::Copod(p) => Model::Copod(p.fit(x)?),
            Algorithm::Gmm(p) => Model::Gmm(p.fit(x)?),
            Algorithm::Pca(p) => Model::Pca(p.fit(x)?),
            Algorithm::Hdbscan(p) => Model::Hdbscan(p.fit(x)?),
            Algorithm::AutoEncoder(p) => Model::AutoEncoder(p.fit(x)?),
            Algorithm::Vae(p) => Model::Vae(p.fit(x)?),
            Algorithm::Fusion(p) => Model::Fusion(p.fit(x)?),
        })
    }
}

macro_rules! each_model {
    ($m:expr, $v:ident => $e:expr) => {
        match $m {
            Model::Iforest($v) => $e,
            Model::Lof($v) => $e,
            Model::Knn($v) => $e,
            Model::Cblof($v) => $e,
            Model::Ecod($v) => $e,
            Model::Copod($v) => $e,
            Model::Gmm($v) => $e,
            Model::Pca($v) => $e,
            Model::Hdbscan($v) => $e,
            Model::AutoEncoder($v) => $e,
            Model::Vae($v) => $e,
            Model::Fusion($v) => $e,
        }
    };
}

impl Model {
    /// Checks what a fit guarantees and a model file could break, where a broken value would make scoring
    /// loop, overrun or allocate without bound: the Isolation Forest's trees, the neighbour counts of
    /// kNN and LOF and the layer shapes of the autoencoders (the other detectors score by arithmetic over their stored arrays, whose widths scoring
    /// checks).
    pub fn check(&self) -> std::result::Result<(), String> {
        match self {
            Model::Iforest(m) => m.check(),
            Model::Knn(m) => m.check(),
            Model::Lof(m) => m.check(),
            Model::AutoEncoder(m) => m.check(),
            Model::Vae(m) => m.check(),
            Model::Fusion(f) => f.members.iter().try_for_each(Model::check),
            _ => Ok(()),
        }
    }
}

impl OutlierModel for Model {
    fn training_scores(&self) -> &[f64] {
        each_model!(self, m => m.training_scores())
    }

    fn n_features(&self) -> usize {
        each_model!(self, m => m.n_features())
    }
}

impl ScoreSamples for Model {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        each_model!(self, m => m.score_samples(x))
    }
}
