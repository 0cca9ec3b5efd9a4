//! Ranking metrics of outlier scores against binary labels, with scikit-learn's and PyOD's exact
//! definitions (ties included).
//!
//! - [`roc_auc`] — `sklearn.metrics.roc_auc_score`: the ROC curve over *distinct* score thresholds
//!   (tied scores form one step, i.e. a diagonal segment), collinear points dropped
//!   (`drop_intermediate`), area by the trapezoid rule.
//! - [`average_precision`] — `sklearn.metrics.average_precision_score` (PR-AUC): `Σ (R_k − R_{k−1}) P_k`
//!   over distinct thresholds, no interpolation.
//! - [`precision_at_n`] — PyOD's `precision_n_scores`: with `n` the number of positives, rows whose
//!   score is *strictly* above `percentile(scores, 100·(1 − n/N))` are predicted positive; the precision
//!   of that prediction (0 when nothing is above).
//!
//! Sums use numpy's pairwise summation, so values agree with scikit-learn to the last bits.

use outflow_core::stats::pairwise_sum;

use outflow_core::check_len;

use crate::detector::{check_not_nan, checked_percentile};
use crate::error::{OutlierError, Result};

fn check(y: &[bool], s: &[f64]) -> Result<(usize, usize)> {
    check_len("labels", s.len(), y.len())?;
    check_not_nan(s)?;
    let pos = y.iter().filter(|&&v| v).count();
    let neg = y.len() - pos;
    if pos == 0 || neg == 0 {
        return Err(OutlierError::Labels(format!(
            "a ranking metric needs both classes, got {pos} positive and {neg} negative rows"
        )));
    }
    Ok((pos, neg))
}

/// `_binary_clf_curve`: cumulative (false positives, true positives) at each distinct threshold,
/// scores descending.
fn clf_curve(y: &[bool], s: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let (mut fps, mut tps) = (Vec::new(), Vec::new());
    let mut tp = 0.0;
    for (k, &i) in order.iter().enumerate() {
        if y[i] {
            tp += 1.0;
        }
        let last = k + 1 == order.len() || s[order[k + 1]] != s[i];
        if last {
            tps.push(tp);
            fps.push((k + 1) as f64 - tp);
        }
    }
    (fps, tps)
}

/// ROC-AUC as `sklearn.metrics.roc_auc_score` (binary). Errors when a class is missing.
pub fn roc_auc(y: &[bool], scores: &[f64]) -> Result<f64> {
    check(y, scores)?;
    let (fps, tps) = clf_curve(y, scores);
    let (fps, tps) = if fps.len() > 2 {
        let m = fps.len();
        let keep: Vec<usize> = (0..m)
            .filter(|&i| {
                i == 0
                    || i == m - 1
                    || (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1]) != 0.0
                    || (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1]) != 0.0
            })
            .collect();
        (keep.iter().map(|&i| fps[i]).collect::<Vec<_>>(), keep.iter().map(|&i| tps[i]).collect::<Vec<_>>())
    } else {
        (fps, tps)
    };
    let (fmax, tmax) = (fps[fps.len() - 1], tps[tps.len() - 1]);
    let fpr: Vec<f64> = std::iter::once(0.0).chain(fps.iter().map(|v| v / fmax)).collect();
    let tpr: Vec<f64> = std::iter::once(0.0).chain(tps.iter().map(|v| v / tmax)).collect();
    let terms: Vec<f64> = (0..fpr.len() - 1).map(|i| (fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2.0).collect();
    Ok(pairwise_sum(&terms))
}

/// Average precision (PR-AUC) as `sklearn.metrics.average_precision_score`. Errors when a class is
/// missing.
pub fn average_precision(y: &[bool], scores: &[f64]) -> Result<f64> {
    check(y, scores)?;
    let (fps, tps) = clf_curve(y, scores);
    let tmax = tps[tps.len() - 1];
    // precision_recall_curve, reversed (recall decreasing) with the final (P = 1, R = 0) point.
    let mut p: Vec<f64> = tps.iter().zip(&fps).map(|(t, f)| if t + f != 0.0 { t / (t + f) } else { 0.0 }).collect();
    let mut r: Vec<f64> = tps.iter().map(|t| t / tmax).collect();
    p.reverse();
    r.reverse();
    p.push(1.0);
    r.push(0.0);
    let terms: Vec<f64> = (0..r.len() - 1).map(|i| (r[i + 1] - r[i]) * p[i]).collect();
    Ok((-pairwise_sum(&terms)).max(0.0))
}

/// PyOD's `precision_n_scores` with `n` = number of positives.
pub fn precision_at_n(y: &[bool], scores: &[f64]) -> Result<f64> {
    let (pos, _) = check(y, scores)?;
    let frac = pos as f64 / y.len() as f64;
    let t = checked_percentile(scores, 100.0 * (1.0 - frac))?;
    let (mut tp, mut predicted) = (0usize, 0usize);
    for (&yi, &s) in y.iter().zip(scores) {
        if s > t {
            predicted += 1;
            tp += usize::from(yi);
        }
    }
    Ok(if predicted == 0 { 0.0 } else { tp as f64 / predicted as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases_match_sklearn() {
        // roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        let y = [false, false, true, true];
        assert!((roc_auc(&y, &[0.1, 0.4, 0.35, 0.8]).unwrap() - 0.75).abs() < 1e-15);
        // average_precision_score(...) == 0.8333333333333333
        assert!((average_precision(&y, &[0.1, 0.4, 0.35, 0.8]).unwrap() - 0.833_333_333_333_333_3).abs() < 1e-15);
        // all tied: 0.5 and the positive rate
        assert_eq!(roc_auc(&y, &[1.0; 4]).unwrap(), 0.5);
        assert_eq!(average_precision(&y, &[1.0; 4]).unwrap(), 0.5);
        assert!(roc_auc(&[true, true], &[1.0, 2.0]).is_err());
        assert_eq!(precision_at_n(&y, &[0.1, 0.4, 0.35, 0.8]).unwrap(), 0.5);
    }
}
