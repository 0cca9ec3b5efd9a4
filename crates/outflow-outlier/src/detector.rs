//! The detector interface shared by every algorithm: parameters fit a model on training rows; a model
//! scores rows (higher = more anomalous), turns a contamination rate into a decision threshold and
//! predicts.

use ndarray::ArrayView2;

use crate::error::{OutlierError, Result};

/// Parameters of an outlier detector (PyOD's estimator before `fit`).
///
/// Implementors validate their parameters against the data, fit, and return a model that holds the
/// scores of the training rows (PyOD's `decision_scores_`).
pub trait OutlierDetector {
    /// The fitted model.
    type Model: OutlierModel;

    /// Short name (`iforest`, `lof`, ...).
    fn name(&self) -> String;

    /// Fits on the rows of `x` (finite values, at least one row and one column).
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Self::Model>;
}

/// A fitted outlier detector.
///
/// Scores follow PyOD's convention: **higher = more anomalous**. The decision threshold of a
/// contamination rate `c` is PyOD's `threshold_ = percentile(decision_scores_, 100 · (1 − c))` (numpy's
/// linear interpolation) over the training scores, and a row is an outlier when its score is strictly
/// above it (PyOD's `predict`).
pub trait OutlierModel {
    /// Scores of the training rows, in row order (PyOD's `decision_scores_`).
    fn training_scores(&self) -> &[f64];

    /// Number of features the model was fitted on.
    fn n_features(&self) -> usize;

    /// Scores new rows (PyOD's `decision_function`). For most detectors a training row scored again
    /// gets a different score than at fit time (it is now its own neighbour, or part of the ECDF), as in
    /// PyOD.
    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>>;

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
    if c > 0.0 && c <= 0.5 { Ok(()) } else { Err(OutlierError::Contamination(c)) }
}

/// `np.percentile(scores, q)` with numpy's default linear interpolation (`q` in percent, 0..=100).
pub fn percentile(scores: &[f64], q: f64) -> Result<f64> {
    if scores.is_empty() {
        return Err(OutlierError::EmptyInput { rows: 0, cols: 1 });
    }
    if !(0.0..=100.0).contains(&q) {
        return Err(OutlierError::param(format!("percentile {q} is not in [0, 100]")));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(OutlierError::NonFinite { row: i, col: 0, value: f64::NAN });
    }
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    // numpy divides the percentile by 100 itself: keep the same rounding.
    Ok(outflow_prep::stats::quantile_sorted(&s, q / 100.0))
}

/// PyOD's threshold: `percentile(scores, 100 · (1 − contamination))`.
pub fn contamination_threshold(scores: &[f64], contamination: f64) -> Result<f64> {
    check_contamination(contamination)?;
    percentile(scores, 100.0 * (1.0 - contamination))
}

/// Fails on an empty matrix or a NaN / infinite value (naming the first such cell).
pub fn check_matrix(x: ArrayView2<'_, f64>) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(OutlierError::EmptyInput { rows: x.nrows(), cols: x.ncols() });
    }
    for (i, row) in x.rows().into_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(OutlierError::NonFinite { row: i, col: j, value: row[j] });
        }
    }
    Ok(())
}

/// [`check_matrix`] plus the column count of a fitted model.
pub fn check_query(x: ArrayView2<'_, f64>, n_features: usize) -> Result<()> {
    if x.ncols() != n_features {
        return Err(OutlierError::DimensionMismatch { expected: n_features, found: x.ncols() });
    }
    if x.nrows() == 0 {
        return Ok(());
    }
    check_matrix(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy() {
        // np.percentile([1, 2, 3, 4, 10], 90) == 7.6
        assert!((percentile(&[10.0, 1.0, 3.0, 2.0, 4.0], 90.0).unwrap() - 7.6).abs() < 1e-12);
        assert!(contamination_threshold(&[1.0], 0.0).is_err());
        assert!(contamination_threshold(&[1.0], 0.6).is_err());
        assert_eq!(contamination_threshold(&[1.0, 2.0], 0.5).unwrap(), 1.5);
    }
}
