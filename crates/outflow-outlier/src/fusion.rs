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

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::any::{Detector, DetectorModel};
use crate::detector::{OutlierDetector, OutlierModel, check_matrix, check_query};
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
}

/// Fusion parameters: the members and the combination.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FusionParams {
    /// Member detectors (at least one).
    pub members: Vec<Detector>,
    /// Combination.
    pub method: FusionMethod,
}

impl FusionParams {
    /// Checks there is a member and every member is valid.
    pub fn validate(&self) -> Result<()> {
        if self.members.is_empty() {
            return Err(OutlierError::param("fusion needs at least one member"));
        }
        self.members.iter().try_for_each(Detector::validate)
    }
}

/// Training-score statistics of one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberStats {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation (1 when 0).
    pub sd: f64,
    /// Training scores, ascending (for ranks).
    pub sorted: Vec<f64>,
}

impl MemberStats {
    fn of(scores: &[f64]) -> MemberStats {
        use outflow_prep::stats::pairwise_sum;
        let n = scores.len() as f64;
        let mean = pairwise_sum(scores) / n;
        let var = pairwise_sum(&scores.iter().map(|s| (s - mean) * (s - mean)).collect::<Vec<_>>()) / n;
        let sd = if var.sqrt() > 0.0 && var.is_finite() { var.sqrt() } else { 1.0 };
        let mut sorted = scores.to_vec();
        sorted.sort_by(f64::total_cmp);
        MemberStats { mean, sd, sorted }
    }

    /// Mid-rank ECDF of a score among the training scores, in [0, 1].
    pub fn rank(&self, s: f64) -> f64 {
        let less = self.sorted.partition_point(|&t| t < s);
        let less_eq = self.sorted.partition_point(|&t| t <= s);
        (less + less_eq) as f64 / (2 * self.sorted.len()) as f64
    }

    /// z-score.
    pub fn z(&self, s: f64) -> f64 {
        (s - self.mean) / self.sd
    }
}

/// A fitted fusion.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fusion {
    /// Combination.
    pub method: FusionMethod,
    /// Fitted members.
    pub members: Vec<DetectorModel>,
    /// Their training-score statistics.
    pub stats: Vec<MemberStats>,
    training_scores: Vec<f64>,
}

impl Fusion {
    /// Combines already fitted members (fitted on the same rows).
    pub fn from_members(method: FusionMethod, members: Vec<DetectorModel>) -> Result<Fusion> {
        let n = members
            .first()
            .map(|m| m.training_scores().len())
            .ok_or_else(|| OutlierError::param("fusion needs at least one member"))?;
        if members.iter().any(|m| m.training_scores().len() != n) {
            return Err(OutlierError::param("fusion members were fitted on different rows"));
        }
        let stats: Vec<MemberStats> = members.iter().map(|m| MemberStats::of(m.training_scores())).collect();
        let mut f = Fusion { method, members, stats, training_scores: Vec::new() };
        let cols: Vec<&[f64]> = f.members.iter().map(|m| m.training_scores()).collect();
        let scores = f.combine(&cols);
        f.training_scores = scores;
        Ok(f)
    }

    fn combine(&self, cols: &[&[f64]]) -> Vec<f64> {
        let n = cols.first().map_or(0, |c| c.len());
        let m = cols.len() as f64;
        (0..n)
            .map(|i| match self.method {
                FusionMethod::Rank => cols.iter().zip(&self.stats).map(|(c, st)| st.rank(c[i])).sum::<f64>() / m,
                FusionMethod::ZScore => cols.iter().zip(&self.stats).map(|(c, st)| st.z(c[i])).sum::<f64>() / m,
                FusionMethod::Max => {
                    cols.iter().zip(&self.stats).map(|(c, st)| st.z(c[i])).fold(f64::NEG_INFINITY, f64::max)
                }
            })
            .collect()
    }
}

impl OutlierDetector for FusionParams {
    type Model = Fusion;

    fn name(&self) -> String {
        match self.method {
            FusionMethod::Rank => "fusion_rank".into(),
            FusionMethod::ZScore => "fusion_zscore".into(),
            FusionMethod::Max => "fusion_max".into(),
        }
    }

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

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        let scores = self.members.iter().map(|m| m.score_samples(x)).collect::<Result<Vec<_>>>()?;
        let cols: Vec<&[f64]> = scores.iter().map(Vec::as_slice).collect();
        Ok(self.combine(&cols))
    }
}
