//! What every fitted detector offers beyond [`ScoreSamples`]: its training scores, and PyOD's threshold
//! and decision for a contamination rate.

use ndarray::ArrayView2;
use outflow_core::{InputError, ScoreSamples, stats};

use crate::error::{OutlierError, Result};

/// A fitted outlier detector (parameters implement [`outflow_core::Fit`] into one of these).
///
/// Scores follow PyOD's convention: **higher = more anomalous**. [`ScoreSamples::score_samples`] scores
/// new rows (PyOD's `decision_function`); for most detectors a training row scored again gets a
/// different score than at fit time (it is now its own neighbour, or part of the ECDF), as in PyOD. The
/// decision threshold of a contamination rate `c` is PyOD's
/// `threshold_ = percentile(decision_scores_, 100 · (1 − c))` (numpy's linear interpolation) over the
/// training scores, and a row is an outlier when its score is strictly above it (PyOD's `predict`).
pub trait OutlierModel: ScoreSamples<Error = OutlierError> {
    /// Scores of the training rows, in row order (PyOD's `decision_scores_`).
    fn training_scores(&self) -> &[f64];

    /// Number of features the model was fitted on.
    fn n_features(&self) -> usize;

    /// PyOD's `threshold_` for a contamination rate in (0, 0.5].
    fn threshold(&self, contamination: f64) -> Result<f64> {
        contamination_threshold(self.training_scores(), contamination)
    }

    /// Outlier flags of the training rows (PyOD's `labels_`): score > threshold.
    fn training_labels(&self, contamination: f64) -> Result<Vec<bool>> {
        let t = self.threshold(contamination)?;
        Ok(self.training_scores().iter().map(|&s| s > t).collect())
    }

    /// Outlier flags of new rows (PyOD's `predict`): score > threshold.
    fn predict(&self, x: ArrayView2<'_, f64>, contamination: f64) -> Result<Vec<bool>> {
        let t = self.threshold(contamination)?;
        Ok(self.score_samples(x)?.into_iter().map(|s| s > t).collect())
    }
}

/// Checks a contamination rate: (0, 0.5] as PyOD requires.
pub fn check_contamination(c: f64) -> Result<()> {
    if c > 0.0 && c <= 0.5 {
        Ok(())
    } else {
        Err(OutlierError::param("contamination", format!("{c} is not in (0, 0.5]")))
    }
}

/// PyOD's threshold: `np.percentile(scores, 100 · (1 − contamination))`.
pub fn contamination_threshold(scores: &[f64], contamination: f64) -> Result<f64> {
    check_contamination(contamination)?;
    checked_percentile(scores, 100.0 * (1.0 - contamination))
}

/// `np.percentile` of scores that must be non-empty and not NaN (infinite scores sort to the ends).
pub(crate) fn checked_percentile(scores: &[f64], q: f64) -> Result<f64> {
    if scores.is_empty() {
        return Err(InputError::Empty { rows: 0, cols: 1 }.into());
    }
    check_not_nan(scores)?;
    Ok(stats::percentile(scores, q))
}

/// Fails on the first NaN score.
pub(crate) fn check_not_nan(scores: &[f64]) -> Result<()> {
    match scores.iter().position(|v| v.is_nan()) {
        None => Ok(()),
        Some(i) => Err(InputError::NonFinite { row: i, col: 0, value: f64::NAN }.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_match_pyod() {
        assert!(contamination_threshold(&[1.0], 0.0).is_err());
        assert!(contamination_threshold(&[1.0], 0.6).is_err());
        assert_eq!(contamination_threshold(&[1.0, 2.0], 0.5).unwrap(), 1.5);
        assert!(contamination_threshold(&[1.0, f64::NAN], 0.1).is_err());
        assert!(contamination_threshold(&[], 0.1).is_err());
    }
}
