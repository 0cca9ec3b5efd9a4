//! Labeled benchmarks: every detector on the same prepared features of a labeled flow log, ranked
//! against the labels (ROC-AUC, PR-AUC, precision@n), with fit and score times.
//!
//! [`benchmark`] runs the whole procedure on a [`Table`]:
//!
//! 1. **Labels.** A [`LabelRule`] names the label column and either the positive (attack) value
//!    (`--positive Malicious`) or the negative (normal) value (`--negative normal`: every other value is
//!    an attack, as in KDD). Values match exactly, except for one trailing dot: KDD Cup 99 writes
//!    `normal.`, NSL-KDD `normal`, so `normal` and `normal.` match each other (and `smurf.` matches
//!    `smurf`). Rows without a label are left out.
//! 2. **Features.** outflow-prep's pipeline ([`PrepParams::auto_detection`], the preparation
//!    `outflow detect` uses, unless given) with the label column added to the carried label columns
//!    — labels are never features — and the leakage check switched off, so the labels play no part in
//!    fitting. Rows the pipeline rejects (e.g. infinities) are left
//!    out and counted.
//! 3. **Contamination.** With a rate `c`, positives are subsampled without replacement (ChaCha8,
//!    `seed`) to `round(c · negatives / (1 − c))` when there are more; every negative is kept. The
//!    preparation is then fitted again on exactly the evaluated rows.
//! 4. **Detectors.** Each is fitted on the prepared matrix; its *training* scores (PyOD's
//!    `decision_scores_`) are evaluated. `score_seconds` times scoring the same rows again as new data
//!    (`score_samples`), which is what a deployed model does.
//!
//! A detector that fails (e.g. a GMM with a singular covariance) is reported with its error; the others
//! still run. A single class after filtering is an error.

use std::fmt;
use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use outflow_io::{Table, Value};
use outflow_prep::{PrepParams, matches_any};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::any::Algorithm;
use outflow_core::{Fit, ScoreSamples};

use crate::detector::{OutlierModel, check_contamination};
use crate::error::{OutlierError, Result};
use crate::iforest::sample_without_replacement;
use crate::metrics::{average_precision, precision_at_n, roc_auc};

/// Which label value marks the class of interest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassSpec {
    /// Rows with this value are positives (attacks); all others negatives.
    Positive(String),
    /// Rows with this value are negatives (normal); all others positives.
    Negative(String),
}

/// The label column and how its values map to positive (attack) / negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRule {
    /// Label column (exact name; else the first case-insensitive match).
    pub column: String,
    /// The positive or negative value.
    pub class: ClassSpec,
}

/// Exact match, or equal up to one trailing dot on either side (KDD Cup 99's `normal.`).
pub fn label_matches(value: &str, name: &str) -> bool {
    value == name || value.strip_suffix('.') == Some(name) || name.strip_suffix('.') == Some(value)
}

impl LabelRule {
    /// Positives are rows whose label is `value`.
    pub fn positive(column: impl Into<String>, value: impl Into<String>) -> Self {
        LabelRule { column: column.into(), class: ClassSpec::Positive(value.into()) }
    }

    /// Negatives are rows whose label is `value`; every other label is positive.
    pub fn negative(column: impl Into<String>, value: impl Into<String>) -> Self {
        LabelRule { column: column.into(), class: ClassSpec::Negative(value.into()) }
    }

    /// Whether a label value is positive.
    pub fn is_positive(&self, value: &str) -> bool {
        match &self.class {
            ClassSpec::Positive(p) => label_matches(value, p),
            ClassSpec::Negative(n) => !label_matches(value, n),
        }
    }

    /// The column's actual name in `table`.
    pub fn resolve<'t>(&self, table: &'t Table) -> Result<&'t str> {
        if let Some(c) = table.column(&self.column) {
            return Ok(c.name());
        }
        table
            .columns()
            .iter()
            .find(|c| c.name().trim().eq_ignore_ascii_case(self.column.trim()))
            .map(|c| c.name())
            .ok_or_else(|| {
                OutlierError::Labels(format!(
                    "no label column '{}' (columns: {})",
                    self.column,
                    table.names().join(", ")
                ))
            })
    }

    /// One entry per row: `Some(positive?)`, `None` for a missing label.
    pub fn classes(&self, table: &Table) -> Result<Vec<Option<bool>>> {
        let col = table.require(self.resolve(table)?)?;
        Ok((0..table.n_rows())
            .map(|i| match col.value(i) {
                Value::Null => None,
                Value::Str(s) => Some(self.is_positive(s)),
                v => Some(self.is_positive(&v.to_string())),
            })
            .collect())
    }
}

/// Benchmark settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkParams {
    /// The labels.
    pub label: LabelRule,
    /// Share of positives after subsampling, in (0, 0.5]; `None` keeps every row.
    pub contamination: Option<f64>,
    /// Seed of the subsampling and of the randomised detectors.
    pub seed: u64,
    /// Detectors to run (default: every preset of [`Algorithm::NAMES`]).
    pub detectors: Vec<Algorithm>,
    /// Preparation; `None` = [`PrepParams::auto_detection`], what `outflow detect` uses.
    pub prep: Option<PrepParams>,
    /// Also time `score_samples` on the evaluated rows.
    pub time_scoring: bool,
}

impl BenchmarkParams {
    /// Every detector preset, contamination 0.03.
    pub fn new(label: LabelRule, seed: u64) -> Self {
        BenchmarkParams {
            label,
            contamination: Some(0.03),
            seed,
            detectors: all_detectors(seed),
            prep: None,
            time_scoring: true,
        }
    }
}

/// Every preset of [`Algorithm::NAMES`] with the given seed.
pub fn all_detectors(seed: u64) -> Vec<Algorithm> {
    Algorithm::NAMES.iter().map(|n| Algorithm::preset(n, seed).expect("preset names are valid")).collect()
}

/// Detectors from a comma-separated list of preset names, or `all`.
pub fn parse_detectors(list: &str, seed: u64) -> Result<Vec<Algorithm>> {
    if list.trim().eq_ignore_ascii_case("all") {
        return Ok(all_detectors(seed));
    }
    let d: Vec<Algorithm> =
        list.split(',').filter(|s| !s.trim().is_empty()).map(|s| Algorithm::preset(s, seed)).collect::<Result<_>>()?;
    if d.is_empty() {
        return Err(OutlierError::param("detectors", "no detector given"));
    }
    Ok(d)
}

/// One detector's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorResult {
    /// Algorithm name.
    pub name: String,
    /// ROC-AUC of the training scores.
    pub roc_auc: Option<f64>,
    /// Average precision (PR-AUC).
    pub pr_auc: Option<f64>,
    /// Precision at n = number of positives (PyOD's definition).
    pub precision_at_n: Option<f64>,
    /// Seconds to fit (training scores included).
    pub fit_seconds: f64,
    /// Seconds to score the evaluated rows again with the fitted model.
    pub score_seconds: Option<f64>,
    /// Why the detector failed, if it did.
    pub error: Option<String>,
}

/// What [`benchmark`] did and found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkReport {
    /// The label column used.
    pub label_column: String,
    /// The class rule, e.g. `positive = Malicious`.
    pub rule: String,
    /// Rows in the table.
    pub rows_input: usize,
    /// Rows without a label (left out).
    pub rows_unlabelled: usize,
    /// Labeled rows the preparation rejected (left out).
    pub rows_rejected: usize,
    /// Positives among the prepared rows, before subsampling.
    pub positives_available: usize,
    /// Negatives among the prepared rows (all kept).
    pub negatives: usize,
    /// Positives evaluated.
    pub positives: usize,
    /// Rows evaluated.
    pub rows: usize,
    /// Requested contamination (`None`: no subsampling).
    pub contamination_requested: Option<f64>,
    /// Actual share of positives.
    pub contamination: f64,
    /// Preparation preset.
    pub preset: String,
    /// Feature names.
    pub features: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Worker threads of the rayon pool.
    pub threads: usize,
    /// One entry per detector, in the order given.
    pub results: Vec<DetectorResult>,
}

/// Rows to keep (ascending) so that positives make up `contamination` of the result: every negative
/// and `round(c · negatives / (1 − c))` positives (at least one) drawn without replacement with a
/// ChaCha8 stream seeded with `seed`, or all positives when there are fewer.
pub fn subsample_positives(y: &[bool], contamination: f64, seed: u64) -> Result<Vec<usize>> {
    check_contamination(contamination)?;
    let pos: Vec<usize> = (0..y.len()).filter(|&i| y[i]).collect();
    let neg = y.len() - pos.len();
    let target = ((contamination * neg as f64 / (1.0 - contamination)).round() as usize).max(1);
    let mut keep: Vec<usize> = (0..y.len()).filter(|&i| !y[i]).collect();
    if pos.len() <= target {
        keep.extend(&pos);
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        keep.extend(sample_without_replacement(&mut rng, pos.len(), target).into_iter().map(|k| pos[k]));
    }
    keep.sort_unstable();
    Ok(keep)
}

/// Fits and evaluates every detector on a prepared matrix and its labels (`true` = positive).
pub fn evaluate(
    x: ArrayView2<'_, f64>,
    y: &[bool],
    detectors: &[Algorithm],
    time_scoring: bool,
) -> Vec<DetectorResult> {
    detectors
        .iter()
        .map(|d| {
            let t0 = Instant::now();
            let fitted = d.fit(x);
            let fit_seconds = t0.elapsed().as_secs_f64();
            let mut r = DetectorResult {
                name: d.name(),
                roc_auc: None,
                pr_auc: None,
                precision_at_n: None,
                fit_seconds,
                score_seconds: None,
                error: None,
            };
            match fitted {
                Err(e) => r.error = Some(e.to_string()),
                Ok(m) => {
                    let s = m.training_scores();
                    let metrics =
                        (|| Ok::<_, OutlierError>((roc_auc(y, s)?, average_precision(y, s)?, precision_at_n(y, s)?)))();
                    match metrics {
                        Ok((a, p, n)) => {
                            r.roc_auc = Some(a);
                            r.pr_auc = Some(p);
                            r.precision_at_n = Some(n);
                        }
                        Err(e) => r.error = Some(e.to_string()),
                    }
                    if time_scoring {
                        let t1 = Instant::now();
                        match m.score_samples(x) {
                            Ok(_) => r.score_seconds = Some(t1.elapsed().as_secs_f64()),
                            Err(e) => {
                                r.error.get_or_insert_with(|| format!("scoring: {e}"));
                            }
                        }
                    }
                }
            }
            r
        })
        .collect()
}

fn prepare(table: &Table, prep: &PrepParams) -> Result<(Array2<f64>, Vec<String>, Vec<usize>)> {
    let fit = prep.fit(table)?;
    let names = fit.output.model_input_names();
    Ok((fit.output.model_input().clone(), names, fit.output.kept))
}

/// A labeled, prepared matrix: what the detectors of a benchmark see, and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledMatrix {
    /// Prepared features, one row per evaluated flow.
    pub x: Array2<f64>,
    /// `true` for positives (attacks).
    pub y: Vec<bool>,
    /// Feature names.
    pub features: Vec<String>,
    /// Input row of each matrix row.
    pub rows: Vec<usize>,
    /// The label column used.
    pub label_column: String,
    /// Rows without a label.
    pub rows_unlabelled: usize,
    /// Labeled rows the preparation rejected.
    pub rows_rejected: usize,
    /// Positives before subsampling.
    pub positives_available: usize,
    /// Negatives (all kept).
    pub negatives: usize,
    /// Preparation preset.
    pub preset: String,
}

/// Steps 1–3 of [`benchmark`]: labels, preparation (labels carried, never features, never used for
/// fitting), seeded subsampling of the positives to `contamination`, preparation refitted on the kept
/// rows.
pub fn prepare_labeled(
    table: &Table,
    label: &LabelRule,
    contamination: Option<f64>,
    seed: u64,
    prep: Option<&PrepParams>,
) -> Result<LabeledMatrix> {
    if let Some(c) = contamination {
        check_contamination(c)?;
    }
    let label_column = label.resolve(table)?.to_owned();
    let classes = label.classes(table)?;
    let labelled: Vec<usize> = (0..classes.len()).filter(|&i| classes[i].is_some()).collect();
    let mut prep = prep.cloned().unwrap_or_else(|| PrepParams::auto_detection(table));
    if !matches_any(&prep.labels, &label_column) {
        prep.labels.push(label_column.clone());
    }
    prep.selection.leakage = None;
    let t = table.take_rows(&labelled);
    let y_all: Vec<bool> = labelled.iter().map(|&i| classes[i] == Some(true)).collect();
    // Which labeled rows the preparation can score at all.
    let (_, _, kept) = prepare(&t, &prep)?;
    let y_kept: Vec<bool> = kept.iter().map(|&r| y_all[r]).collect();
    let positives_available = y_kept.iter().filter(|&&v| v).count();
    let negatives = y_kept.len() - positives_available;
    if positives_available == 0 || negatives == 0 {
        return Err(OutlierError::Labels(format!(
            "'{label_column}' gives {positives_available} positive and {negatives} negative rows ({}); a benchmark \
             needs both",
            rule_text(label)
        )));
    }
    let chosen: Vec<usize> = match contamination {
        Some(c) => subsample_positives(&y_kept, c, seed)?.into_iter().map(|k| kept[k]).collect(),
        None => kept.clone(),
    };
    let t2 = t.take_rows(&chosen);
    let (x, features, kept2) = prepare(&t2, &prep)?;
    let y: Vec<bool> = kept2.iter().map(|&r| y_all[chosen[r]]).collect();
    let positives = y.iter().filter(|&&v| v).count();
    if positives == 0 || positives == y.len() {
        return Err(OutlierError::Labels("a single class is left after preparation".into()));
    }
    Ok(LabeledMatrix {
        x,
        y,
        features,
        rows: kept2.iter().map(|&r| labelled[chosen[r]]).collect(),
        label_column,
        rows_unlabelled: table.n_rows() - labelled.len(),
        rows_rejected: labelled.len() - kept.len(),
        positives_available,
        negatives,
        preset: prep.preset.name().to_owned(),
    })
}

/// Runs the benchmark on a labeled table (see the module docs).
pub fn benchmark(table: &Table, config: &BenchmarkParams) -> Result<BenchmarkReport> {
    if config.detectors.is_empty() {
        return Err(OutlierError::param("detectors", "no detector given"));
    }
    config.detectors.iter().try_for_each(Algorithm::validate)?;
    let m = prepare_labeled(table, &config.label, config.contamination, config.seed, config.prep.as_ref())?;
    let results = evaluate(m.x.view(), &m.y, &config.detectors, config.time_scoring);
    let positives = m.y.iter().filter(|&&v| v).count();
    Ok(BenchmarkReport {
        label_column: m.label_column,
        rule: rule_text(&config.label),
        rows_input: table.n_rows(),
        rows_unlabelled: m.rows_unlabelled,
        rows_rejected: m.rows_rejected,
        positives_available: m.positives_available,
        negatives: m.negatives,
        positives,
        rows: m.y.len(),
        contamination_requested: config.contamination,
        contamination: positives as f64 / m.y.len() as f64,
        preset: m.preset,
        features: m.features,
        seed: config.seed,
        threads: rayon::current_num_threads(),
        results,
    })
}

fn rule_text(r: &LabelRule) -> String {
    match &r.class {
        ClassSpec::Positive(p) => format!("positive = {p}"),
        ClassSpec::Negative(n) => format!("negative = {n}"),
    }
}

impl fmt::Display for BenchmarkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "label '{}' ({}): {} rows evaluated, {} positive ({:.2}%), {} features ({} preset); {} unlabelled and {} \
             rejected rows left out; {} of {} positives kept (seed {}, {} threads)",
            self.label_column,
            self.rule,
            self.rows,
            self.positives,
            100.0 * self.contamination,
            self.features.len(),
            self.preset,
            self.rows_unlabelled,
            self.rows_rejected,
            self.positives,
            self.positives_available,
            self.seed,
            self.threads
        )?;
        let w = self.results.iter().map(|r| r.name.len()).max().unwrap_or(8).max(8);
        writeln!(
            f,
            "{:<w$}  {:>7}  {:>7}  {:>7}  {:>8}  {:>8}",
            "detector", "ROC-AUC", "PR-AUC", "P@n", "fit s", "score s"
        )?;
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
        for r in &self.results {
            write!(
                f,
                "{:<w$}  {:>7}  {:>7}  {:>7}  {:>8.3}  {:>8}",
                r.name,
                opt(r.roc_auc),
                opt(r.pr_auc),
                opt(r.precision_at_n),
                r.fit_seconds,
                r.score_seconds.map_or("-".to_owned(), |v| format!("{v:.3}"))
            )?;
            if let Some(e) = &r.error {
                write!(f, "  error: {e}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsampling_and_labels() {
        let y: Vec<bool> = (0..100).map(|i| i % 2 == 0).collect();
        let keep = subsample_positives(&y, 0.1, 3).unwrap();
        let pos = keep.iter().filter(|&&i| y[i]).count();
        assert_eq!(keep.len() - pos, 50);
        assert_eq!(pos, 6); // round(0.1 · 50 / 0.9) = 6
        assert_eq!(keep, subsample_positives(&y, 0.1, 3).unwrap());
        assert!(subsample_positives(&y, 0.0, 3).is_err());
        assert!(label_matches("normal.", "normal") && label_matches("normal", "normal."));
        assert!(!label_matches("normal..", "normal") && !label_matches("Normal", "normal"));
        let r = LabelRule::negative("label", "normal");
        assert!(r.is_positive("smurf.") && !r.is_positive("normal."));
    }
}
