//! Fidelity of a surrogate: accuracy and a per-class report like scikit-learn's `classification_report`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use outflow_core::{InputError, check_len as check_rows};

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The class label.
    pub class: i64,
    /// `tp / (tp + fp)`, 0 when the class is never predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when the class is absent from the labels.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Rows whose true label is this class.
    pub support: usize,
}

/// An average of the per-class metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AverageMetrics {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1.
    pub f1: f64,
    /// Total support.
    pub support: usize,
}

/// Accuracy plus per-class and averaged metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Fraction of rows predicted correctly (the surrogate's fidelity when `y_true` are cluster labels).
    pub accuracy: f64,
    /// One entry per class present in either input, sorted by label.
    pub classes: Vec<ClassMetrics>,
    /// Unweighted mean over classes.
    pub macro_avg: AverageMetrics,
    /// Mean over classes weighted by support.
    pub weighted_avg: AverageMetrics,
}

/// Compares predictions with the true labels (scikit-learn's `classification_report` with
/// `zero_division=0`).
pub fn classification_report(y_true: &[i64], y_pred: &[i64]) -> Result<ClassificationReport> {
    check_rows("predictions", y_true.len(), y_pred.len())?;
    if y_true.is_empty() {
        return Err(InputError::Empty { rows: 0, cols: 1 }.into());
    }
    let mut labels: Vec<i64> = y_true.iter().chain(y_pred).copied().collect();
    labels.sort_unstable();
    labels.dedup();
    let idx = |l: &i64| labels.binary_search(l).expect("label collected");
    let k = labels.len();
    let (mut tp, mut pred, mut support) = (vec![0usize; k], vec![0usize; k], vec![0usize; k]);
    let mut correct = 0usize;
    for (t, p) in y_true.iter().zip(y_pred) {
        let (ti, pi) = (idx(t), idx(p));
        support[ti] += 1;
        pred[pi] += 1;
        if ti == pi {
            tp[ti] += 1;
            correct += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassMetrics> = (0..k)
        .map(|i| {
            let precision = ratio(tp[i], pred[i]);
            let recall = ratio(tp[i], support[i]);
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            ClassMetrics { class: labels[i], precision, recall, f1, support: support[i] }
        })
        .collect();
    let n = y_true.len();
    let avg = |weight: &dyn Fn(&ClassMetrics) -> f64| {
        let total: f64 = classes.iter().map(weight).sum();
        let mean = |f: fn(&ClassMetrics) -> f64| {
            if total == 0.0 { 0.0 } else { classes.iter().map(|c| weight(c) * f(c)).sum::<f64>() / total }
        };
        AverageMetrics { precision: mean(|c| c.precision), recall: mean(|c| c.recall), f1: mean(|c| c.f1), support: n }
    };
    let macro_avg = avg(&|_| 1.0);
    let weighted_avg = avg(&|c| c.support as f64);
    Ok(ClassificationReport { accuracy: correct as f64 / n as f64, classes, macro_avg, weighted_avg })
}

impl fmt::Display for ClassificationReport {
    /// The layout of scikit-learn's text report (two decimals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.classes.iter().map(|c| c.class.to_string()).collect();
        let w = names.iter().map(String::len).chain(["weighted avg".len()]).max().unwrap_or(12);
        writeln!(f, "{:>w$} {:>9} {:>9} {:>9} {:>9}", "", "precision", "recall", "f1-score", "support")?;
        writeln!(f)?;
        for (c, name) in self.classes.iter().zip(&names) {
            writeln!(f, "{name:>w$} {:>9.2} {:>9.2} {:>9.2} {:>9}", c.precision, c.recall, c.f1, c.support)?;
        }
        writeln!(f)?;
        let n = self.macro_avg.support;
        writeln!(f, "{:>w$} {:>9} {:>9} {:>9.2} {:>9}", "accuracy", "", "", self.accuracy, n)?;
        for (name, a) in [("macro avg", &self.macro_avg), ("weighted avg", &self.weighted_avg)] {
            writeln!(f, "{name:>w$} {:>9.2} {:>9.2} {:>9.2} {:>9}", a.precision, a.recall, a.f1, a.support)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sklearn_example() {
        // sklearn docs: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1]
        let r = classification_report(&[0, 1, 2, 2, 2], &[0, 0, 2, 2, 1]).unwrap();
        assert_eq!(r.accuracy, 0.6);
        assert_eq!(r.classes[0].precision, 0.5);
        assert_eq!(r.classes[1].f1, 0.0);
        assert!((r.classes[2].f1 - 0.8).abs() < 1e-12);
        assert!((r.macro_avg.precision - 0.5).abs() < 1e-12);
        assert!((r.weighted_avg.f1 - (2.0 / 3.0 + 3.0 * 0.8) / 5.0).abs() < 1e-12);
        assert!(r.to_string().contains("weighted avg"));
    }
}
