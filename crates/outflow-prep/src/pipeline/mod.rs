//! The fitted pipeline: [`PrepParams::fit`] → [`Prep`] (serialisable) → [`Prep::transform`].
//!
//! Fit and transform share one row evaluator and one matrix builder, so transforming the training
//! table reproduces the fit output exactly, and every input row ends as either a matrix row or a
//! [`Rejection`] that says why.

mod clean;
mod fitted;
mod rows;
mod selection;

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, Transform};
use outflow_io::{Column, Table};

use crate::config::{PrepParams, ValueRule};
use crate::error::{PrepError, Result};
use crate::pca::{Pca, PcaParams, PcaSummary};
use crate::report::{FitReport, RowStatus};
use crate::scale::Scaler;

pub(crate) use self::clean::{Cleaned, clean};
pub(crate) use self::selection::{Selected, label_target, select};

/// The level a null categorical value is counted as.
pub const UNSET_LEVEL: &str = "(unset)";
/// The name suffix of the catch-all one-hot column (`proto=other`). When a kept level is itself named
/// `other` (KDD's `service` has one), the catch-all is `<column>=(other)` instead.
pub const OTHER_LEVEL: &str = "other";

/// Version of the serialised [`Prep`] layout.
const FORMAT_VERSION: u32 = 1;

/// How one input column is read, decided at fit time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum InputKind {
    /// A numeric (or boolean) feature; `fill` replaces nulls, `None` rejects the row.
    Numeric { fill: Option<f64>, boolean: bool },
    /// A categorical column: its one-hot levels (`other`: whether a catch-all column follows) and the
    /// surprisal of each level seen at fit time (`None` without a rarity column); `text` records whether
    /// the column held strings at fit time.
    Categorical {
        text: bool,
        levels: Vec<String>,
        other: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rarity: Option<RarityTable>,
    },
    /// One-hot encoded destination ports.
    Port { ports: Vec<u16>, other: bool },
}

/// An input column the fitted pipeline reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct InputSpec {
    name: String,
    #[serde(flatten)]
    kind: InputKind,
    /// False for a column whose features were all pruned: checked (missing, non-finite) when present at
    /// transform time, as at fit time, but not required.
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

/// A value rule bound to an input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RuleSpec {
    input: usize,
    rule: ValueRule,
}

/// Where a feature's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Source {
    /// The numeric value of an input.
    Value { input: usize },
    /// 1 when the input's level is `level`.
    Level { input: usize, level: usize },
    /// 1 when the input's level is none of the kept ones.
    Other { input: usize },
    /// The surprisal of the input's level ([`RarityTable`]).
    Rarity { input: usize },
}

impl Source {
    fn input(self) -> usize {
        match self {
            Source::Value { input }
            | Source::Level { input, .. }
            | Source::Other { input }
            | Source::Rarity { input } => input,
        }
    }
}

/// The surprisal `ln(n / count)` of the levels of a categorical column among its `n` training rows,
/// for the most frequent [`RarityTable::MAX_LEVELS`]; any other level, unseen or beyond them, scores as
/// a level seen once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RarityTable {
    levels: Vec<(String, f64)>,
    unseen: f64,
}

impl RarityTable {
    /// Levels kept: a column of near-unique values must not grow the model file with the log.
    const MAX_LEVELS: usize = 10_000;

    /// From each level's training count (most frequent first) and the number of rows.
    fn new(counts: &[(String, usize)], n: usize) -> RarityTable {
        let n = n.max(1) as f64;
        let levels = counts.iter().take(Self::MAX_LEVELS).map(|(l, c)| (l.clone(), (n / *c as f64).ln())).collect();
        RarityTable { levels, unseen: n.ln() }
    }

    fn lookup(&self) -> std::collections::HashMap<&str, f64> {
        self.levels.iter().map(|(l, r)| (l.as_str(), *r)).collect()
    }

    fn is_sound(&self) -> bool {
        self.unseen.is_finite() && self.levels.iter().all(|(_, r)| r.is_finite() && *r >= 0.0)
    }
}

/// A feature: its name and source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FeatureSpec {
    name: String,
    source: Source,
}

/// Everything needed to transform new flows exactly as the training flows were: the input columns and
/// how each is read, the value rules, the selected features, the fitted scaler and PCA.
/// Serialise it with serde (e.g. `serde_json`) to keep it next to a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prep {
    version: u32,
    config: PrepParams,
    inputs: Vec<InputSpec>,
    rules: Vec<RuleSpec>,
    features: Vec<FeatureSpec>,
    scaler: Scaler,
    pca: Option<Pca>,
    carried: Vec<String>,
}

/// The result of a fit: the fitted state, the report, and the training rows transformed.
#[derive(Debug, Clone)]
pub struct PrepFit {
    /// The fitted pipeline.
    pub prep: Prep,
    /// What each step did.
    pub report: FitReport,
    /// The training table, transformed (identical to `prep.transform(&table)`).
    pub output: Prepared,
}

/// A transformed table.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Feature names, the columns of `unscaled` and `scaled`.
    pub features: Vec<String>,
    /// Cleaned, encoded, selected feature values before scaling (for per-cluster profiles in original
    /// units). One row per kept input row.
    pub unscaled: Array2<f64>,
    /// `unscaled` after the scaler.
    pub scaled: Array2<f64>,
    /// `scaled` projected on the principal components, when the pipeline has a PCA.
    pub projected: Option<Array2<f64>>,
    /// One status per input row: its row in the matrices, or why it could not be scored.
    pub rows: Vec<RowStatus>,
    /// The input row of each matrix row.
    pub kept: Vec<usize>,
    /// The label columns (as configured) of the kept rows, carried along.
    pub carried: Table,
}

impl Prepared {
    /// The matrix a model consumes: `projected` if there is a PCA, else `scaled`.
    pub fn model_input(&self) -> &Array2<f64> {
        self.projected.as_ref().unwrap_or(&self.scaled)
    }

    /// Names of the columns of [`Prepared::model_input`] (`pc1`, `pc2`, ... after a PCA).
    pub fn model_input_names(&self) -> Vec<String> {
        match &self.projected {
            Some(p) => (1..=p.ncols()).map(|k| format!("pc{k}")).collect(),
            None => self.features.clone(),
        }
    }

    /// Number of input rows that could not be scored.
    pub fn n_rejected(&self) -> usize {
        self.rows.len() - self.kept.len()
    }
}

impl PrepParams {
    /// Fits the pipeline on a table.
    ///
    /// ```
    /// use outflow_io::{Column, Table};
    /// use outflow_prep::{PrepParams, RowStatus};
    /// let t = Table::new(vec![
    ///     Column::from_f64_opt("bytes", [Some(10.0), Some(2000.0), None, Some(30.0), Some(f64::INFINITY), Some(5.0)]),
    ///     Column::from_f64("pkts", vec![1.0, 9.0, 2.0, 1.0, 3.0, 1e200]),
    ///     Column::from_str_opt("label", [Some("benign"), Some("malicious"), None, Some("benign"), None, None]),
    /// ]).unwrap();
    /// let fit = PrepParams::default().fit(&t).unwrap();
    /// assert_eq!(fit.output.kept, vec![0, 1, 3]);
    /// assert_eq!(fit.output.rows[2].rejection().unwrap().to_string(), "missing value in 'bytes'");
    /// assert_eq!(fit.output.rows[4].rejection().unwrap().to_string(), "non-finite value (inf) in 'bytes'");
    /// // Too large to square: no distance or variance could use it.
    /// assert_eq!(
    ///     fit.output.rows[5].rejection().unwrap().to_string(),
    ///     "value 1e200 in 'pkts' is beyond ±1e150: its square overflows"
    /// );
    /// let again = fit.prep.transform(&t).unwrap();
    /// assert_eq!(again.scaled, fit.output.scaled);
    /// assert!(matches!(again.rows[1], RowStatus::Kept(1)));
    /// ```
    pub fn fit(&self, table: &Table) -> Result<PrepFit> {
        fit(self, table)
    }
}

/// Fits the pipeline: cleaning, feature selection, scaling and the optional PCA.
fn fit(config: &PrepParams, table: &Table) -> Result<PrepFit> {
    let cleaned = clean(config, table)?;
    let n = cleaned.kept.len();
    if n < 2 {
        return Err(InputError::too_few_rows("fitting (rows left after cleaning)", 2, n).into());
    }
    let names = cleaned.names();
    let label = label_target(config, table, &cleaned.labels, &cleaned.kept);
    let selected = select(config, cleaned.matrix.view(), &names, label)?;
    let (inputs, features) = kept_features(&cleaned, &selected)?;
    let keep_all = selected.keep.len() == cleaned.candidates.len();
    let unscaled = if keep_all { cleaned.matrix } else { cleaned.matrix.select(Axis(1), &selected.keep) };
    let mut warnings = cleaned.warnings.clone();
    warnings.extend(selected.warnings.iter().cloned());
    let feature_names: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
    let compressed = compressed(config, &feature_names, &unscaled);
    let (scaler, scaled, pca, projected, summary) =
        scale_and_project(config, compressed.as_ref().unwrap_or(&unscaled), &mut warnings)?;
    let mut steps = cleaned.steps;
    steps.extend(selected.steps);
    let report = FitReport {
        preset: config.preset,
        input_rows: table.n_rows(),
        rows: n,
        steps,
        candidates: names,
        correlated_pairs: selected.correlated_pairs,
        pruned: selected.pruned,
        leakage: selected.leakage,
        features: features.iter().map(|f| f.name.clone()).collect(),
        scaler: config.scaler.name().into(),
        pca: summary,
        warnings,
    };
    let carried = carried_table(table, &cleaned.labels, &cleaned.kept);
    let prep = Prep {
        version: FORMAT_VERSION,
        config: config.clone(),
        inputs,
        rules: cleaned.rules,
        features,
        scaler,
        pca,
        carried: cleaned.labels,
    };
    let output = Prepared {
        features: report.features.clone(),
        unscaled,
        scaled,
        projected,
        rows: cleaned.rows,
        kept: cleaned.kept,
        carried,
    };
    Ok(PrepFit { prep, report, output })
}

/// The features selection kept, and the inputs with `required` set: inputs feeding no kept feature and
/// no rule stay checked when present, but are not required.
fn kept_features(cleaned: &Cleaned, selected: &Selected) -> Result<(Vec<InputSpec>, Vec<FeatureSpec>)> {
    if selected.keep.is_empty() {
        return Err(PrepError::NoFeatures(format!(
            "feature selection removed all {} candidate features ({})",
            cleaned.candidates.len(),
            selected.pruned.iter().map(|p| format!("'{}': {}", p.name, p.rule)).collect::<Vec<_>>().join(", ")
        )));
    }
    let features: Vec<FeatureSpec> = selected.keep.iter().map(|&j| cleaned.candidates[j].clone()).collect();
    let mut inputs = cleaned.inputs.clone();
    let mut used = vec![false; inputs.len()];
    for f in &features {
        used[f.source.input()] = true;
    }
    for r in &cleaned.rules {
        used[r.input] = true;
    }
    for (inp, u) in inputs.iter_mut().zip(used) {
        inp.required = u;
    }
    Ok((inputs, features))
}

/// The scaler fitted on the kept features, the scaled rows, the optional PCA and its projection, and the
/// explained-variance profile for the report.
#[allow(clippy::type_complexity)]
fn scale_and_project(
    config: &PrepParams,
    unscaled: &Array2<f64>,
    warnings: &mut Vec<String>,
) -> Result<(Scaler, Array2<f64>, Option<Pca>, Option<Array2<f64>>, Option<PcaSummary>)> {
    let scaler = config.scaler.fit(unscaled.view())?;
    let scaled = scaler.transform(unscaled.view())?;
    let pca = config.pca.as_ref().map(|p| p.fit(scaled.view())).transpose()?;
    let summary = match (&pca, config.pca_summary) {
        (Some(p), _) => Some(p.summary()),
        (None, true) => match PcaParams::default().fit(scaled.view()) {
            Ok(p) => Some(p.summary()),
            Err(e) => {
                warnings.push(format!("no PCA summary: {e}"));
                None
            }
        },
        (None, false) => None,
    };
    let projected = pca.as_ref().map(|p| p.transform(scaled.view())).transpose()?;
    Ok((scaler, scaled, pca, projected, summary))
}

/// `unscaled` with `sign(x) ln(1 + |x|)` applied to the features [`PrepParams::log1p`] names; `None`
/// when it names none of them.
pub(crate) fn compressed(config: &PrepParams, features: &[String], unscaled: &Array2<f64>) -> Option<Array2<f64>> {
    let flagged: Vec<usize> = features
        .iter()
        .enumerate()
        .filter(|(_, f)| crate::pattern::matches_any(&config.log1p, f))
        .map(|(j, _)| j)
        .collect();
    if flagged.is_empty() {
        return None;
    }
    let mut out = unscaled.clone();
    for &j in &flagged {
        out.column_mut(j).mapv_inplace(|v| v.signum() * v.abs().ln_1p());
    }
    Some(out)
}

fn carried_table(table: &Table, labels: &[String], kept: &[usize]) -> Table {
    let cols: Vec<Column> = labels.iter().filter_map(|l| table.column(l)).map(|c| c.take(kept)).collect();
    Table::new(cols).unwrap_or_default()
}
