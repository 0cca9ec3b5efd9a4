//! PCA-based detectors: PyOD's `PCA` score (the default, reproduced exactly), the Mahalanobis distance
//! in principal-component space and the reconstruction error.
//!
//! All three standardise the features first (scikit-learn's `StandardScaler`, PyOD's
//! `standardization=True`) and fit scikit-learn's `PCA` with all `min(n, d)` components
//! (outflow-prep's [`Pca`](outflow_prep::Pca), same solver choice and sign convention: the largest loading of every axis is
//! positive). With the last `m` axes `v_j` (smallest variance; `m = n_selected_components`, default all)
//! and their explained-variance *ratios* `r_j`:
//!
//! - [`PcaScore::Pyod`] — PyOD 3.6.7's `decision_function`:
//!   `Σ_j ‖z − v_j‖₂ / r_j` (`cdist(X, selected_components_) / selected_w_components_`, summed). Note
//!   that PyOD measures the Euclidean distance from the standardised row `z` to the *unit axis vector*
//!   `v_j` taken as a point — not the projection on it — so the score depends on the sign convention
//!   of the axes. PyOD's docstring ("weighted projected distance ... to the hyperplane") and its
//!   reference (Shyu et al. 2003) describe the projection; the code does not. We follow the code.
//! - [`PcaScore::Mahalanobis`] — Shyu et al.: `Σ_j (z·v_j)² / λ_j` with `λ_j` the explained variance
//!   (ddof 1): the squared Mahalanobis distance restricted to the selected axes.
//! - [`PcaScore::Reconstruction`] — `‖z − Σ_{j kept} (z·v_j) v_j‖²` where the *kept* axes are the
//!   first `d − m` (largest variance): the squared distance to the principal subspace. Without
//!   `n_selected_components`, the kept axes are the fewest explaining [`RECONSTRUCTION_KEEP`] (90 %) of
//!   the variance (at least one axis stays in the residual).
//!
//! With all axes selected (the default), [`PcaScore::Mahalanobis`] is the squared Mahalanobis distance
//! of the standardised row, which ranks rows exactly as a one-component full-covariance GMM does.
//!
//! An axis with zero explained variance (exactly collinear features) is left out of the weighted
//! scores instead of giving PyOD's infinite score.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, ScoreSamples, Transform, check_matrix, check_query};
use outflow_prep::{PcaParams as PrepPcaParams, StandardScalerParams};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// Share of the variance the kept (leading) axes explain for [`PcaScore::Reconstruction`] when
/// `n_selected_components` is not set.
pub const RECONSTRUCTION_KEEP: f64 = 0.90;

/// Which PCA score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaScore {
    /// PyOD's weighted distance to the selected axes (default; parity with PyOD).
    #[default]
    Pyod,
    /// Squared Mahalanobis distance on the selected axes.
    Mahalanobis,
    /// Squared residual after projecting on the first `d − m` axes.
    Reconstruction,
}

/// PCA detector parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcaParams {
    /// Number of trailing (smallest-variance) axes in the score; `None` = all.
    pub n_selected_components: Option<usize>,
    /// Weight by the inverse explained variance (PyOD's `weighted`; [`PcaScore::Pyod`] only).
    pub weighted: bool,
    /// Standardise features before the PCA (PyOD's `standardization`).
    pub standardization: bool,
    /// The score.
    pub score: PcaScore,
}

impl Default for PcaParams {
    fn default() -> Self {
        PcaParams { n_selected_components: None, weighted: true, standardization: true, score: PcaScore::Pyod }
    }
}

impl PcaParams {
    /// Checks `n_selected_components >= 1`.
    pub fn validate(&self) -> Result<()> {
        if self.n_selected_components == Some(0) {
            return Err(OutlierError::param("n_selected_components", "must be at least 1"));
        }
        Ok(())
    }
}

/// A fitted PCA detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// The parameters used.
    pub params: PcaParams,
    /// The standardisation (identity without `standardization`).
    pub scaler: Option<outflow_prep::Scaler>,
    /// The PCA of the (standardised) training rows.
    pub pca: outflow_prep::Pca,
    /// Number of selected trailing axes.
    pub n_selected: usize,
    training_scores: Vec<f64>,
}

impl PcaParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        match self.score {
            PcaScore::Pyod => "pca".into(),
            PcaScore::Mahalanobis => "pca_mahalanobis".into(),
            PcaScore::Reconstruction => "pca_reconstruction".into(),
        }
    }
}

impl Fit for PcaParams {
    type Fitted = Pca;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Pca> {
        self.validate()?;
        check_matrix(x)?;
        if x.nrows() < 2 {
            return Err(InputError::too_few_rows("PCA", 2, x.nrows()).into());
        }
        let (scaler, z) = if self.standardization {
            let s = StandardScalerParams::default().fit(x)?;
            let z = s.transform(x)?;
            (Some(s), z)
        } else {
            (None, x.to_owned())
        };
        let pca = PrepPcaParams::default().fit(z.view())?;
        let k = pca.n_components();
        let n_selected = match (self.n_selected_components, self.score) {
            (Some(m), _) => m,
            // Reconstruction on every axis would keep nothing: keep the leading axes explaining 90 %.
            (None, PcaScore::Reconstruction) => k.saturating_sub(pca.components_for(RECONSTRUCTION_KEEP)).max(1),
            (None, _) => k,
        };
        if n_selected > k {
            return Err(OutlierError::param("n_selected_components", format!("{n_selected} > components {k}")));
        }
        let mut model = Pca { params: self.clone(), scaler, pca, n_selected, training_scores: Vec::new() };
        model.training_scores = model.score_standardised(z.view());
        Ok(model)
    }
}

impl Pca {
    fn score_standardised(&self, z: ArrayView2<'_, f64>) -> Vec<f64> {
        let k = self.pca.n_components();
        let sel = k - self.n_selected..k;
        let comps = &self.pca.components;
        let ratio = &self.pca.explained_variance_ratio;
        let var = &self.pca.explained_variance;
        let mean = &self.pca.mean;
        let p = self.params.clone();
        let rows: Vec<usize> = (0..z.nrows()).collect();
        rows.par_iter()
            .with_min_len(256)
            .map(|&i| {
                let row = z.row(i);
                match p.score {
                    PcaScore::Pyod => sel
                        .clone()
                        .map(|j| {
                            let d: f64 = row.iter().zip(comps.row(j)).map(|(a, b)| (a - b) * (a - b)).sum();
                            let w = if p.weighted { ratio[j] } else { 1.0 };
                            // An axis without variance (exactly collinear features) would give ∞ in PyOD; it
                            // is left out instead, so scores stay finite.
                            if w > 0.0 { d.sqrt() / w } else { 0.0 }
                        })
                        .sum(),
                    PcaScore::Mahalanobis => sel
                        .clone()
                        .map(|j| {
                            let proj: f64 = row.iter().zip(mean).zip(comps.row(j)).map(|((a, m), b)| (a - m) * b).sum();
                            if var[j] > 0.0 { proj * proj / var[j] } else { 0.0 }
                        })
                        .sum(),
                    PcaScore::Reconstruction => {
                        let c: Vec<f64> = row.iter().zip(mean).map(|(a, m)| a - m).collect();
                        let mut r = c.clone();
                        for j in 0..k - self.n_selected {
                            let proj: f64 = c.iter().zip(comps.row(j)).map(|(a, b)| a * b).sum();
                            for (rv, b) in r.iter_mut().zip(comps.row(j)) {
                                *rv -= proj * b;
                            }
                        }
                        r.iter().map(|v| v * v).sum()
                    }
                }
            })
            .collect()
    }
}

impl OutlierModel for Pca {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.pca.mean.len()
    }
}

impl ScoreSamples for Pca {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let z: Array2<f64> = match &self.scaler {
            Some(s) => s.transform(x)?,
            None => x.to_owned(),
        };
        Ok(self.score_standardised(z.view()))
    }
}
