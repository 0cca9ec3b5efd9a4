//! Everything at once: the surrogate, its fidelity, both importances, SHAP values, profiles and the
//! severity comparison — what `outflow explain` prints.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::forest::{RandomForest, RandomForestParams};
use crate::importance::{PermutationImportance, PermutationParams, permutation_importance};
use crate::metrics::{ClassificationReport, classification_report};
use crate::profile::{ProfileParams, Profiles, SeverityComparison, SeverityParams, compare_severity, profile_clusters};
use crate::shap::ShapValues;
use outflow_core::{FitSupervised, Predict, check_len as check_rows, check_matrix};

/// Settings of [`explain`]. `Default` uses [`RandomForestParams::surrogate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainParams {
    /// The surrogate forest.
    pub forest: RandomForestParams,
    /// Permutation importance.
    pub permutation: PermutationParams,
    /// Cluster profiles.
    pub profile: ProfileParams,
    /// Normal vs severe comparison (used when scores are given).
    pub severity: SeverityParams,
}

impl Default for ExplainParams {
    fn default() -> Self {
        ExplainParams {
            forest: RandomForestParams::surrogate(),
            permutation: PermutationParams::default(),
            profile: ProfileParams::default(),
            severity: SeverityParams::default(),
        }
    }
}

impl ExplainParams {
    /// Checks all parameters.
    pub fn validate(&self) -> Result<()> {
        self.forest.validate()?;
        self.permutation.validate()?;
        self.severity.validate()
    }
}

/// The full explanation of a labelling.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// Feature names.
    pub feature_names: Vec<String>,
    /// The fitted surrogate.
    pub forest: RandomForest,
    /// The surrogate's predictions against the labels.
    pub fidelity: ClassificationReport,
    /// Gini importance per feature.
    pub gini_importance: Vec<f64>,
    /// Permutation importance on the training rows.
    pub permutation_importance: PermutationImportance,
    /// SHAP values of every row and class.
    pub shap: ShapValues,
    /// Per-cluster profiles on the given (original) features.
    pub profiles: Profiles,
    /// Normal vs severe rows, when scores were given.
    pub severity: Option<SeverityComparison>,
}

/// Trains a surrogate forest on `labels` and explains it on the same rows.
///
/// `x` holds the original, unscaled features (trees do not need scaling, and the profiles want original
/// units); `scores` are outlier scores (e.g. GLOSH) for the severity comparison.
pub fn explain(
    x: ArrayView2<'_, f64>,
    feature_names: &[String],
    labels: &[i64],
    scores: Option<&[f64]>,
    params: &ExplainParams,
) -> Result<Explanation> {
    params.validate()?;
    check_matrix(x)?;
    check_rows("labels", x.nrows(), labels.len())?;
    check_rows("feature names", x.ncols(), feature_names.len())?;
    if let Some(s) = scores {
        check_rows("scores", x.nrows(), s.len())?;
    }
    let forest = params.forest.fit(x, labels)?;
    let predicted = forest.predict(x)?;
    let fidelity = classification_report(labels, &predicted)?;
    let gini_importance = forest.feature_importances();
    let permutation_importance = permutation_importance(&forest, x, labels, &params.permutation)?;
    let mut shap = forest.shap_values(x)?;
    shap.feature_names = Some(feature_names.to_vec());
    let profiles = profile_clusters(x, feature_names, labels, &params.profile)?;
    let severity = scores.map(|s| compare_severity(x, feature_names, s, &params.severity)).transpose()?;
    Ok(Explanation {
        feature_names: feature_names.to_vec(),
        forest,
        fidelity,
        gini_importance,
        permutation_importance,
        shap,
        profiles,
        severity,
    })
}

/// One feature's importances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSummary {
    /// Feature name.
    pub feature: String,
    /// Gini importance (sums to 1 over features).
    pub gini: f64,
    /// Mean accuracy drop when shuffled.
    pub permutation_mean: f64,
    /// Standard deviation of the drops.
    pub permutation_std: f64,
    /// Mean |SHAP| per class (order of [`ExplanationSummary::classes`]).
    pub mean_abs_shap: Vec<f64>,
}

/// The explanation without per-row arrays, for reports and JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationSummary {
    /// Rows explained.
    pub rows: usize,
    /// Class labels.
    pub classes: Vec<i64>,
    /// Surrogate parameters.
    pub forest: RandomForestParams,
    /// Fidelity and class report.
    pub fidelity: ClassificationReport,
    /// SHAP expected value per class (the forest's mean prediction over the training weights).
    pub expected_value: Vec<f64>,
    /// Features by decreasing Gini importance.
    pub features: Vec<FeatureSummary>,
    /// Cluster profiles.
    pub profiles: Profiles,
    /// Normal vs severe rows.
    pub severity: Option<SeverityComparison>,
}

impl Explanation {
    /// The summary, features sorted by decreasing Gini importance (stable).
    pub fn summary(&self) -> ExplanationSummary {
        let mean_abs = self.shap.mean_abs();
        let mut features: Vec<FeatureSummary> = self
            .feature_names
            .iter()
            .enumerate()
            .map(|(j, name)| FeatureSummary {
                feature: name.clone(),
                gini: self.gini_importance[j],
                permutation_mean: self.permutation_importance.mean[j],
                permutation_std: self.permutation_importance.std[j],
                mean_abs_shap: mean_abs.row(j).to_vec(),
            })
            .collect();
        features.sort_by(|a, b| b.gini.total_cmp(&a.gini));
        ExplanationSummary {
            rows: self.shap.values.dim().0,
            classes: self.forest.classes().to_vec(),
            forest: self.forest.params().clone(),
            fidelity: self.fidelity.clone(),
            expected_value: self.shap.expected_value.to_vec(),
            features,
            profiles: self.profiles.clone(),
            severity: self.severity.clone(),
        }
    }
}
