//! Feature selection: correlation pruning, a low-variance filter, and a leakage
//! check against a label.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_io::f64_or_string;

use outflow_core::InputError;

use crate::error::{PrepError, Result};

/// Two mean absolute correlations closer than this count as equal (then the second feature of the pair
/// is dropped, as a strict `>` does for exact ties). Without it, the last-bit noise of a
/// correlation routine would decide between exact duplicates.
pub const TIE_TOLERANCE: f64 = 1e-12;

/// How an undefined correlation (a constant column) enters a feature's mean absolute correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UndefinedCorrelation {
    /// Counts as 0: a constant column has no linear association with anything. The rule then does
    /// what it says ("drop the one with the higher mean |r|") even when a constant column is present.
    #[default]
    Zero,
    /// NaN propagates (as polars / numpy give NaN for a constant column): one constant column makes
    /// every mean NaN, every comparison false, and the second feature of every pair is dropped. This is
    /// what a plain dataframe implementation of the rule decides.
    Propagate,
}

/// Correlation pruning: for each pair `i < j` (row-major order) with `|r| >= threshold`,
/// skip it if either feature is already dropped, otherwise drop the one whose mean absolute correlation
/// to all other features is higher (the second one on a tie).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelationPruning {
    /// `|r|` at or above which a pair is "strongly correlated" (default 0.8).
    pub threshold: f64,
    /// Treatment of undefined correlations in the means.
    pub undefined: UndefinedCorrelation,
}

impl Default for CorrelationPruning {
    fn default() -> Self {
        CorrelationPruning { threshold: 0.8, undefined: UndefinedCorrelation::Zero }
    }
}

/// A strongly correlated pair of features (indexes into the feature list, `i < j`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pair {
    /// First feature.
    pub i: usize,
    /// Second feature.
    pub j: usize,
    /// Their Pearson correlation.
    #[serde(serialize_with = "f64_or_string")]
    pub r: f64,
}

/// One decision of the pruning: `dropped` loses against `kept` on the pair they form.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PruneDecision {
    /// The dropped feature.
    pub dropped: usize,
    /// The other feature of the pair.
    pub kept: usize,
    /// Their correlation.
    #[serde(serialize_with = "f64_or_string")]
    pub r: f64,
    /// Mean absolute correlation of the dropped feature.
    #[serde(serialize_with = "f64_or_string")]
    pub dropped_mean_abs: f64,
    /// Mean absolute correlation of the kept feature.
    #[serde(serialize_with = "f64_or_string")]
    pub kept_mean_abs: f64,
}

/// What [`CorrelationPruning::apply`] found and decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationPruned {
    /// Pairs with `|r| >= threshold`, in row-major order.
    pub pairs: Vec<Pair>,
    /// Each feature's mean absolute correlation to all other features.
    pub mean_abs: Vec<f64>,
    /// Decisions in the order they were taken.
    pub decisions: Vec<PruneDecision>,
}

impl CorrelationPruned {
    /// Indexes of the dropped features, ascending.
    pub fn dropped(&self) -> Vec<usize> {
        let mut d: Vec<usize> = self.decisions.iter().map(|d| d.dropped).collect();
        d.sort_unstable();
        d
    }
}

impl CorrelationPruning {
    /// Checks the threshold is in (0, 1].
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(PrepError::param("correlation.threshold", format!("{} is not in (0, 1]", self.threshold)));
        }
        Ok(())
    }

    /// Applies the rule to a square correlation matrix (NaN marks an undefined correlation).
    ///
    /// ```
    /// use ndarray::array;
    /// use outflow_prep::CorrelationPruning;
    /// let r = array![[1.0, 0.9, 0.1], [0.9, 1.0, 0.5], [0.1, 0.5, 1.0]];
    /// let out = CorrelationPruning::default().apply(r.view()).unwrap();
    /// assert_eq!(out.dropped(), vec![1]); // mean |r|: 0.5 vs 0.7
    /// ```
    pub fn apply(&self, corr: ArrayView2<'_, f64>) -> Result<CorrelationPruned> {
        self.validate()?;
        let p = corr.nrows();
        if corr.ncols() != p {
            return Err(InputError::WidthMismatch { expected: p, found: corr.ncols() }.into());
        }
        let mean_abs: Vec<f64> = (0..p)
            .map(|i| {
                if p < 2 {
                    return 0.0;
                }
                // Summed in column order, then divided by the count: the reference's `sum(corrs) / len(corrs)`.
                let mut s = 0.0;
                for j in (0..p).filter(|&j| j != i) {
                    let r = corr[[i, j]].abs();
                    s += if r.is_nan() && self.undefined == UndefinedCorrelation::Zero { 0.0 } else { r };
                }
                s / (p - 1) as f64
            })
            .collect();
        let mut pairs = Vec::new();
        for i in 0..p {
            for j in i + 1..p {
                let r = corr[[i, j]];
                if r.abs() >= self.threshold {
                    pairs.push(Pair { i, j, r });
                }
            }
        }
        let mut dropped = vec![false; p];
        let mut decisions = Vec::new();
        for pair in &pairs {
            if dropped[pair.i] || dropped[pair.j] {
                continue;
            }
            // NaN compares false and drops the second.
            let first_higher = mean_abs[pair.i] > mean_abs[pair.j] + TIE_TOLERANCE;
            let (d, k) = if first_higher { (pair.i, pair.j) } else { (pair.j, pair.i) };
            dropped[d] = true;
            decisions.push(PruneDecision {
                dropped: d,
                kept: k,
                r: pair.r,
                dropped_mean_abs: mean_abs[d],
                kept_mean_abs: mean_abs[k],
            });
        }
        Ok(CorrelationPruned { pairs, mean_abs, decisions })
    }
}

/// The low-variance filter: a feature whose sample variance (ddof 1) is strictly below the threshold
/// is dropped. The pipeline applies it to the unscaled, cleaned data after correlation pruning (scaling
/// first would give every feature variance about 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LowVariance {
    /// Variance below which a feature is dropped (default 0.01).
    pub threshold: f64,
}

impl Default for LowVariance {
    fn default() -> Self {
        LowVariance { threshold: 0.01 }
    }
}

impl LowVariance {
    /// Checks the threshold is finite and not negative.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(PrepError::param(
                "low_variance.threshold",
                format!("{} must be finite and >= 0", self.threshold),
            ));
        }
        Ok(())
    }

    /// Indexes of the variances below the threshold (NaN is kept: `NaN < t` is false).
    pub fn apply(&self, variances: &[f64]) -> Vec<usize> {
        variances.iter().enumerate().filter(|(_, v)| **v < self.threshold).map(|(i, _)| i).collect()
    }
}

/// The leakage check: features whose `|r|` with the label reaches the threshold are flagged (and
/// dropped when `drop` is set). A categorical label becomes 1 for values outside `negative_labels`
/// (case-insensitive), 0 otherwise; a numeric label is used as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeakageCheck {
    /// The label column; `None` takes the first configured label column present in the table.
    pub label: Option<String>,
    /// `|r|` at or above which a feature is flagged (default 0.5).
    pub threshold: f64,
    /// Label values that mean "not an attack".
    pub negative_labels: Vec<String>,
    /// Drop flagged features instead of only reporting them.
    pub drop: bool,
}

impl Default for LeakageCheck {
    fn default() -> Self {
        LeakageCheck {
            label: None,
            threshold: 0.5,
            negative_labels: ["benign", "normal", "normal.", "background"].map(String::from).to_vec(),
            drop: false,
        }
    }
}

impl LeakageCheck {
    /// Checks the threshold is in (0, 1].
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(PrepError::param("leakage.threshold", format!("{} is not in (0, 1]", self.threshold)));
        }
        Ok(())
    }

    /// The numeric target of a label value: `0` and `1` as flags (a text label of flags, or a host row
    /// joining its flows' as `0;1`), 0 for a negative label, and for a compound label (words
    /// joined by `-`, `_` or spaces) that names one and no attack — the Stratosphere labels of CTU-13's
    /// Argus flows, `flow=To-Background-UDP-CVUT-DNS-Server` or `flow=From-Normal-V42-Jist`, against
    /// `flow=From-Botnet-V42-TCP-Attempt`; 1 otherwise.
    pub fn target_of(&self, label: &str) -> f64 {
        let l = label.trim();
        match l {
            "0" => return 0.0,
            "1" => return 1.0,
            _ => {}
        }
        let l = l.strip_prefix("flow=").unwrap_or(l);
        let negative = |w: &str| self.negative_labels.iter().any(|n| n.trim().eq_ignore_ascii_case(w));
        let attack = |w: &str| ["botnet", "malicious", "attack"].iter().any(|a| a.eq_ignore_ascii_case(w));
        let mut words = l.split(['-', '_', ' ']).filter(|w| !w.is_empty());
        if negative(l) || (words.clone().any(negative) && !words.any(attack)) { 0.0 } else { 1.0 }
    }
}

/// A feature that correlates with the label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeakageFlag {
    /// The feature.
    pub feature: String,
    /// The label column.
    pub label: String,
    /// Pearson correlation with the (encoded) label.
    #[serde(serialize_with = "f64_or_string")]
    pub r: f64,
    /// Whether the feature was dropped.
    pub dropped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ties_drop_the_second_and_skips_apply() {
        // 0 and 1 are duplicates (tie), 2 correlates with 1 only.
        let r = array![[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let out = CorrelationPruning::default().apply(r.view()).unwrap();
        assert_eq!(out.dropped(), vec![1]);
        let r = array![[1.0, 0.9, 0.85], [0.9, 1.0, 0.2], [0.85, 0.2, 1.0]];
        let out = CorrelationPruning::default().apply(r.view()).unwrap();
        // Pair (0,1): 0 has the higher mean (0.875 vs 0.55): drop 0; pair (0,2) is then skipped.
        assert_eq!(out.dropped(), vec![0]);
        assert_eq!(out.pairs.len(), 2);
    }

    #[test]
    fn nan_policies() {
        let n = f64::NAN;
        let r = array![[1.0, 0.9, n, 0.0], [0.9, 1.0, n, 0.6], [n, n, n, n], [0.0, 0.6, n, 1.0]];
        let zero = CorrelationPruning::default().apply(r.view()).unwrap();
        assert_eq!(zero.dropped(), vec![1]); // mean 0.5 > 0.3
        let prop = CorrelationPruning { undefined: UndefinedCorrelation::Propagate, ..Default::default() };
        let prop = prop.apply(r.view()).unwrap();
        assert_eq!(prop.dropped(), vec![1]); // NaN comparison drops the second
        assert!(prop.mean_abs[0].is_nan());
        let r2 = array![[1.0, 0.9, n, 0.6], [0.9, 1.0, n, 0.0], [n, n, n, n], [0.6, 0.0, n, 1.0]];
        assert_eq!(CorrelationPruning::default().apply(r2.view()).unwrap().dropped(), vec![0]);
        let prop = CorrelationPruning { undefined: UndefinedCorrelation::Propagate, ..Default::default() };
        assert_eq!(prop.apply(r2.view()).unwrap().dropped(), vec![1]);
    }

    #[test]
    fn low_variance_and_validation() {
        assert_eq!(LowVariance::default().apply(&[0.0, 0.01, 0.0099, f64::NAN, 5.0]), vec![0, 2]);
        assert!(CorrelationPruning { threshold: 1.5, ..Default::default() }.validate().is_err());
        assert!(LowVariance { threshold: -1.0 }.validate().is_err());
        let l = LeakageCheck::default();
        assert_eq!(l.target_of(" BENIGN"), 0.0);
        assert_eq!(l.target_of("smurf."), 1.0);
        for benign in
            ["flow=To-Background-UDP-CVUT-DNS-Server", "flow=From-Normal-V42-Jist", "Background", "Benign   -"]
        {
            assert_eq!(l.target_of(benign), 0.0, "{benign}");
        }
        for attack in
            ["flow=From-Botnet-V42-TCP-Attempt", "Malicious   PartOfAHorizontalPortScan", "DoS-Hulk", "Normal-Botnet"]
        {
            assert_eq!(l.target_of(attack), 1.0, "{attack}");
        }
    }
}
