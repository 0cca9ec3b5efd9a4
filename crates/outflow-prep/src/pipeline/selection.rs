//! Feature selection in the pipeline: correlation pruning, the low-variance filter and the leakage check,
//! on the unscaled candidate matrix (shared by the fit and the EDA report).

use ndarray::{Array2, ArrayView2};
use outflow_io::{Table, Value};

use crate::config::PrepParams;
use crate::corr::{Moments, pearson};
use crate::error::Result;
use crate::pattern::matches;
use crate::report::{ColumnReason, CorrelatedPair, PrunedFeature, Step, StepReport};
use crate::select::{CorrelationPruned, CorrelationPruning, LeakageCheck, LeakageFlag, LowVariance};

/// The selection steps shared by the fit and the EDA report.
pub(crate) struct Selected {
    pub correlation: Array2<f64>,
    pub correlated_pairs: Vec<CorrelatedPair>,
    pub pruned: Vec<PrunedFeature>,
    pub leakage: Vec<LeakageFlag>,
    pub keep: Vec<usize>,
    pub steps: Vec<StepReport>,
    pub warnings: Vec<String>,
}

/// Correlation pruning, then the low-variance filter, then the leakage check, on the unscaled
/// candidate matrix, in this order (each step sees only the features the previous ones kept). `label`
/// is the label column's name and its numeric target per row of `x` (`None` for a null label).
pub(crate) fn select(
    config: &PrepParams,
    x: ArrayView2<'_, f64>,
    names: &[String],
    label: Option<(String, Vec<Option<f64>>)>,
) -> Result<Selected> {
    let sel = &config.selection;
    let moments = Moments::of(x)?;
    let correlation = moments.correlation()?;
    let mut warnings = Vec::new();
    let outcome = sel.correlation.clone().unwrap_or_default().apply(correlation.view())?;
    let correlated_pairs =
        outcome.pairs.iter().map(|p| CorrelatedPair { a: names[p.i].clone(), b: names[p.j].clone(), r: p.r }).collect();
    let protected = names.iter().map(|n| crate::pattern::matches_any(&sel.keep, n)).collect();
    let mut pruning = Pruning { names, dropped: vec![false; names.len()], protected, pruned: Vec::new() };
    if let Some(rule) = &sel.correlation {
        pruning.correlated(rule, &outcome);
    }
    if let Some(rule) = &sel.low_variance {
        pruning.low_variance(rule, &moments.variances(1)?);
    }
    let mut leakage = Vec::new();
    match (&sel.leakage, &label) {
        (Some(check), Some((label, target))) => {
            leakage = pruning.leaking(check, label, target, x);
            if !leakage.is_empty() && !check.drop {
                warnings.push(format!(
                    "{} feature(s) correlate with label '{label}' at |r| >= {}: {} (kept; set selection.leakage.drop to drop them)",
                    leakage.len(),
                    check.threshold,
                    leakage.iter().map(|l| format!("'{}'", l.feature)).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        (Some(_), None) => warnings.push("leakage check skipped: no label column".into()),
        (None, _) => {}
    }
    let mut steps =
        vec![StepReport::new(Step::Correlation), StepReport::new(Step::LowVariance), StepReport::new(Step::Leakage)];
    for p in &pruning.pruned {
        let k = steps.iter().position(|s| s.step == p.rule).unwrap_or(0);
        steps[k].columns_removed.push(ColumnReason { column: p.name.clone(), reason: p.reason.clone() });
    }
    let keep = pruning.remaining();
    Ok(Selected { correlation, correlated_pairs, pruned: pruning.pruned, leakage, keep, steps, warnings })
}

/// The features dropped so far and why.
struct Pruning<'a> {
    names: &'a [String],
    dropped: Vec<bool>,
    /// Features `selection.keep` names: never dropped.
    protected: Vec<bool>,
    pruned: Vec<PrunedFeature>,
}

impl Pruning<'_> {
    fn remaining(&self) -> Vec<usize> {
        (0..self.names.len()).filter(|&j| !self.dropped[j]).collect()
    }

    fn drop(&mut self, j: usize, rule: Step, value: f64, partner: Option<String>, reason: String) {
        if self.protected[j] {
            return;
        }
        self.dropped[j] = true;
        self.pruned.push(PrunedFeature { name: self.names[j].clone(), reason, rule, value, partner });
    }

    /// Drops one feature of each strongly correlated pair, as the rule decided.
    fn correlated(&mut self, rule: &CorrelationPruning, outcome: &CorrelationPruned) {
        for d in &outcome.decisions {
            let kept = self.names[d.kept].clone();
            let reason = format!(
                "|r| = {:.4} with '{kept}' (>= {}); mean |r| {:.4} vs {:.4}",
                d.r.abs(),
                rule.threshold,
                d.dropped_mean_abs,
                d.kept_mean_abs
            );
            self.drop(d.dropped, Step::Correlation, d.r.abs(), Some(kept), reason);
        }
    }

    /// Drops the remaining features whose variance is below the rule's threshold.
    fn low_variance(&mut self, rule: &LowVariance, var: &[f64]) {
        let remaining = self.remaining();
        for k in rule.apply(&remaining.iter().map(|&j| var[j]).collect::<Vec<_>>()) {
            let j = remaining[k];
            let reason = format!("variance {:.6} < {}", var[j], rule.threshold);
            self.drop(j, Step::LowVariance, var[j], None, reason);
        }
    }

    /// Flags the remaining features correlated with the label (on the rows with a label), dropping them
    /// when the check says so.
    fn leaking(
        &mut self,
        check: &LeakageCheck,
        label: &str,
        target: &[Option<f64>],
        x: ArrayView2<'_, f64>,
    ) -> Vec<LeakageFlag> {
        let rows: Vec<usize> = (0..target.len()).filter(|&i| target[i].is_some()).collect();
        let y: Vec<f64> = rows.iter().map(|&i| target[i].unwrap_or(0.0)).collect();
        let mut flags = Vec::new();
        for j in self.remaining() {
            let xj: Vec<f64> = rows.iter().map(|&i| x[[i, j]]).collect();
            let r = pearson(&xj, &y);
            if r.abs() < check.threshold {
                continue;
            }
            flags.push(LeakageFlag { feature: self.names[j].clone(), label: label.to_owned(), r, dropped: check.drop });
            if check.drop {
                let reason = format!("|r| = {:.4} with label '{label}' (>= {})", r.abs(), check.threshold);
                self.drop(j, Step::Leakage, r.abs(), Some(label.to_owned()), reason);
            }
        }
        flags
    }
}

/// The label's numeric target per kept row (see [`crate::LeakageCheck`]).
pub(crate) fn label_target(
    config: &PrepParams,
    table: &Table,
    labels: &[String],
    kept: &[usize],
) -> Option<(String, Vec<Option<f64>>)> {
    let check = config.selection.leakage.as_ref()?;
    let name = match &check.label {
        Some(l) => table.columns().iter().find(|c| matches(l, c.name()))?.name().to_owned(),
        None => labels.first()?.clone(),
    };
    let col = table.column(&name)?;
    let target = kept
        .iter()
        .map(|&i| match col.value(i) {
            Value::Null => None,
            Value::Str(s) => Some(check.target_of(s)),
            v => v.as_f64().filter(|x| x.is_finite()),
        })
        .collect();
    Some((name, target))
}
