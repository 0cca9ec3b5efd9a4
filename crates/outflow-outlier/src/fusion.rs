//! Score fusion as a detector: fit several detectors on the same rows and combine their scores.
//!
//! Each member's scores are first made comparable using statistics of its *training* scores, kept in
//! the fitted model so that new rows are combined exactly like the training rows:
//!
//! - [`FusionMethod::Rank`] — mean over members of the mid-rank ECDF
//!   `r(s) = (#{t < s} + #{t ≤ s}) / (2n)` over the member's `n` training scores `t`; in [0, 1].
//! - [`FusionMethod::ZScore`] — mean of `(s − mean) / sd` (population sd of the training scores; 1 when
//!   they are constant), PyOD's `standardizer` + `average`.
//! - [`FusionMethod::Max`] — maximum of those z-scores over members (PyOD's `maximization`).
//! - [`FusionMethod::MaxRank`] — maximum of the mid-rank ECDFs over members.
//!
//! [`ScoreFusion`] is that combination on its own, for scores that do not all come from detectors of
//! this crate (the detector facade fuses HDBSCAN's GLOSH and cluster rarity with detectors through it).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::{Ecdf, Fit, ScoreSamples, check_matrix, check_query, stats};

use crate::any::{Algorithm, Model};
use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// How member scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FusionMethod {
    /// Mean normalised rank.
    #[default]
    Rank,
    /// Mean z-score.
    ZScore,
    /// Maximum z-score.
    Max,
    /// Maximum normalised rank.
    MaxRank,
}

/// Fusion parameters: the members and the combination.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FusionParams {
    /// Member detectors (at least one).
    pub members: Vec<Algorithm>,
    /// Combination.
    pub method: FusionMethod,
}

impl FusionParams {
    /// Checks there is a member and every member is valid.
    pub fn validate(&self) -> Result<()> {
        if self.members.is_empty() {
            return Err(OutlierError::param("members", "fusion needs at least one member"));
        }
        self.members.iter().try_for_each(Algorithm::validate)
    }
}

/// Training-score statistics of one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberStats {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation (1 when 0).
    pub sd: f64,
    /// The training scores' mid-rank ECDF (every score kept).
    #[serde(flatten)]
    pub ecdf: Ecdf,
}

impl MemberStats {
    /// Statistics of training scores; with `max_ecdf_size` the ECDF keeps at most that many evenly
    /// spaced order statistics (see [`Ecdf::with_max_size`]).
    pub fn of(scores: &[f64], max_ecdf_size: Option<usize>) -> MemberStats {
        let (mean, var) = (stats::mean(scores), stats::variance(scores, 0).unwrap_or(0.0));
        let sd = if var.sqrt() > 0.0 && var.is_finite() { var.sqrt() } else { 1.0 };
        let ecdf = match max_ecdf_size {
            Some(m) => Ecdf::with_max_size(scores, m),
            None => Ecdf::new(scores),
        };
        MemberStats { mean, sd, ecdf }
    }

    /// Mid-rank ECDF of a score among the training scores, in [0, 1].
    pub fn rank(&self, s: f64) -> f64 {
        self.ecdf.rank(s)
    }

    /// z-score.
    pub fn z(&self, s: f64) -> f64 {
        (s - self.mean) / self.sd
    }
}

/// The combination of several score columns, fitted on their training scores: the same rule maps
/// training and new rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreFusion {
    /// Combination.
    pub method: FusionMethod,
    /// Training-score statistics of each column.
    pub stats: Vec<MemberStats>,
}

impl ScoreFusion {
    /// Fits on the training scores of each column (all of the same length); see
    /// [`MemberStats::of`] for `max_ecdf_size`.
    pub fn fit(method: FusionMethod, training: &[&[f64]], max_ecdf_size: Option<usize>) -> Result<ScoreFusion> {
        let n = training.first().map(|c| c.len()).ok_or_else(|| OutlierError::param("members", "nothing to fuse"))?;
        if training.iter().any(|c| c.len() != n) {
            return Err(OutlierError::param("members", "fused scores come from different rows"));
        }
        Ok(ScoreFusion { method, stats: training.iter().map(|c| MemberStats::of(c, max_ecdf_size)).collect() })
    }

    /// The fused score of each row of the columns (one column per fitted column, same order).
    pub fn combine(&self, cols: &[&[f64]]) -> Vec<f64> {
        let n = cols.first().map_or(0, |c| c.len());
        let m = cols.len() as f64;
        let st = &self.stats;
        use rayon::prelude::*;
        (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| match self.method {
                FusionMethod::Rank => cols.iter().zip(st).map(|(c, s)| s.rank(c[i])).sum::<f64>() / m,
                FusionMethod::ZScore => cols.iter().zip(st).map(|(c, s)| s.z(c[i])).sum::<f64>() / m,
                FusionMethod::Max => cols.iter().zip(st).map(|(c, s)| s.z(c[i])).fold(f64::NEG_INFINITY, f64::max),
                FusionMethod::MaxRank => {
                    cols.iter().zip(st).map(|(c, s)| s.rank(c[i])).fold(f64::NEG_INFINITY, f64::max)
                }
            })
            .collect()
    }
}

/// A fitted fusion.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fusion {
    /// Fitted members.
    pub members: Vec<Model>,
    /// The combination of their scores.
    #[serde(flatten)]
    pub fusion: ScoreFusion,
    training_scores: Vec<f64>,
}

impl Fusion {
    /// Combines already fitted members (fitted on the same rows).
    pub fn from_members(method: FusionMethod, members: Vec<Model>) -> Result<Fusion> {
        let n = members
            .first()
            .map(|m| m.training_scores().len())
            .ok_or_else(|| OutlierError::param("members", "fusion needs at least one member"))?;
        if members.iter().any(|m| m.training_scores().len() != n) {
            return Err(OutlierError::param("members", "fusion members were fitted on different rows"));
        }
        let cols: Vec<&[f64]> = members.iter().map(|m| m.training_scores()).collect();
        let fusion = ScoreFusion::fit(method, &cols, None)?;
        let training_scores = fusion.combine(&cols);
        Ok(Fusion { members, fusion, training_scores })
    }
}

impl FusionParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        match self.method {
            FusionMethod::Rank => "fusion_rank".into(),
            FusionMethod::ZScore => "fusion_zscore".into(),
            FusionMethod::Max => "fusion_max".into(),
            FusionMethod::MaxRank => "fusion_max_rank".into(),
        }
    }
}

impl Fit for FusionParams {
    type Fitted = Fusion;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Fusion> {
        self.validate()?;
        check_matrix(x)?;
        let members = self.members.iter().map(|d| d.fit(x)).collect::<Result<Vec<_>>>()?;
        Fusion::from_members(self.method, members)
    }
}

impl OutlierModel for Fusion {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.members.first().map_or(0, |m| m.n_features())
    }
}

impl ScoreSamples for Fusion {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        let scores = self.members.iter().map(|m| m.score_samples(x)).collect::<Result<Vec<_>>>()?;
        let cols: Vec<&[f64]> = scores.iter().map(Vec::as_slice).collect();
        Ok(self.fusion.combine(&cols))
    }
}
