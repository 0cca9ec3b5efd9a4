//! Feature selection in the pipeline: correlation pruning, the low-variance filter and the leakage check,
//! on the unscaled candidate matrix (shared by the fit and the EDA report).

use ndarray::{Array2, ArrayView2};
use outflow_io::{Table, Value};

use crate::config::PrepParams;
use crate::corr::{Moments, pearson};
use crate::error::Result;
use crate::pattern::matches;
use crate::report::{ColumnReason, CorrelatedPair, PrunedFeature, Step, StepReport};
use crate::select::LeakageFlag;

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
/// candidate matrix (the seed's order). `label` is the label column's name and its numeric target
/// per row of `x` (`None` for a null label).
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
    let mut steps =
        vec![StepReport::new(Step::Correlation), StepReport::new(Step::LowVariance), StepReport::new(Step::Leakage)];
    let rule = sel.correlation.clone().unwrap_or_default();
    let outcome = rule.apply(correlation.view())?;
    let correlated_pairs =
        outcome.pairs.iter().map(|p| CorrelatedPair { a: names[p.i].clone(), b: names[p.j].clone(), r: p.r }).collect();
    let mut dropped = vec![false; names.len()];
    let mut pruned = Vec::new();
    if let Some(c) = &sel.correlation {
        for d in &outcome.decisions {
            dropped[d.dropped] = true;
            pruned.push(PrunedFeature {
                name: names[d.dropped].clone(),
                reason: format!(
                    "|r| = {:.4} with '{}' (>= {}); mean |r| {:.4} vs {:.4}",
                    d.r.abs(),
                    names[d.kept],
                    c.threshold,
                    d.dropped_mean_abs,
                    d.kept_mean_abs
                ),
                rule: Step::Correlation,
                value: d.r.abs(),
                partner: Some(names[d.kept].clone()),
            });
        }
    }
    if let Some(lv) = &sel.low_variance {
        let var = moments.variances(1)?;
        let remaining: Vec<usize> = (0..names.len()).filter(|&j| !dropped[j]).collect();
        let low = lv.apply(&remaining.iter().map(|&j| var[j]).collect::<Vec<_>>());
        for k in low {
            let j = remaining[k];
            dropped[j] = true;
            pruned.push(PrunedFeature {
                name: names[j].clone(),
                reason: format!("variance {:.6} < {}", var[j], lv.threshold),
                rule: Step::LowVariance,
                value: var[j],
                partner: None,
            });
        }
    }
    let mut leakage = Vec::new();
    if let (Some(check), Some((label, target))) = (&sel.leakage, &label) {
        let rows: Vec<usize> = (0..target.len()).filter(|&i| target[i].is_some()).collect();
        let y: Vec<f64> = rows.iter().map(|&i| target[i].unwrap_or(0.0)).collect();
        let remaining: Vec<usize> = (0..names.len()).filter(|&j| !dropped[j]).collect();
        for j in remaining {
            let xj: Vec<f64> = rows.iter().map(|&i| x[[i, j]]).collect();
            let r = pearson(&xj, &y);
            if r.abs() >= check.threshold {
                leakage.push(LeakageFlag { feature: names[j].clone(), label: label.clone(), r, dropped: check.drop });
                if check.drop {
                    dropped[j] = true;
                    pruned.push(PrunedFeature {
                        name: names[j].clone(),
                        reason: format!("|r| = {:.4} with label '{label}' (>= {})", r.abs(), check.threshold),
                        rule: Step::Leakage,
                        value: r.abs(),
                        partner: Some(label.clone()),
                    });
                }
            }
        }
        if !leakage.is_empty() && !check.drop {
            warnings.push(format!(
                "{} feature(s) correlate with label '{label}' at |r| >= {}: {} (kept; set selection.leakage.drop to drop them)",
                leakage.len(),
                check.threshold,
                leakage.iter().map(|l| format!("'{}'", l.feature)).collect::<Vec<_>>().join(", ")
            ));
        }
    } else if sel.leakage.is_some() && label.is_none() {
        warnings.push("leakage check skipped: no label column".into());
    }
    for p in &pruned {
        let k = steps.iter().position(|s| s.step == p.rule).unwrap_or(0);
        steps[k].columns_removed.push(ColumnReason { column: p.name.clone(), reason: p.reason.clone() });
    }
    let keep = (0..names.len()).filter(|&j| !dropped[j]).collect();
    Ok(Selected { correlation, correlated_pairs, pruned, leakage, keep, steps, warnings })
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
