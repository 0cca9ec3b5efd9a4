//! The fitted pipeline: [`PrepParams::fit`] → [`Prep`] (serialisable) → [`Prep::transform`].
//!
//! Fit and transform share one row evaluator and one matrix builder, so transforming the training
//! table reproduces the fit output exactly, and every input row ends as either a matrix row or a
//! [`Rejection`] that says why.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::stats::median_sorted;
use outflow_core::{Fit, InputError, Transform};
use outflow_io::{Column, ColumnData, DataType, Family, Table, Validity, Value};

use crate::config::{Encoding, Missing, PrepParams, ValueRule};
use crate::corr::{Moments, pearson};
use crate::error::{PrepError, Result};
use crate::pattern::{matches, matches_any};
use crate::pca::{Pca, PcaParams};
use crate::report::{
    ColumnCount, ColumnReason, CorrelatedPair, FitReport, Imputed, PrunedFeature, Rejection, RejectionKind, RowStatus,
    Step, StepReport,
};
use crate::scale::Scaler;
use crate::select::LeakageFlag;

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
    /// One-hot encoded levels; `text` records whether the column held strings at fit time.
    Categorical { text: bool, levels: Vec<String>, other: bool },
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
}

impl Source {
    fn input(self) -> usize {
        match self {
            Source::Value { input } | Source::Level { input, .. } | Source::Other { input } => input,
        }
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
    ///     Column::from_f64_opt("bytes", [Some(10.0), Some(2000.0), None, Some(30.0), Some(f64::INFINITY)]),
    ///     Column::from_f64("pkts", vec![1.0, 9.0, 2.0, 1.0, 3.0]),
    ///     Column::from_str_opt("label", [Some("benign"), Some("malicious"), None, Some("benign"), None]),
    /// ]).unwrap();
    /// let fit = PrepParams::default().fit(&t).unwrap();
    /// assert_eq!(fit.output.kept, vec![0, 1, 3]);
    /// assert_eq!(fit.output.rows[2].rejection().unwrap().to_string(), "missing value in 'bytes'");
    /// assert_eq!(fit.output.rows[4].rejection().unwrap().to_string(), "non-finite value (inf) in 'bytes'");
    /// let again = fit.prep.transform(&t).unwrap();
    /// assert_eq!(again.scaled, fit.output.scaled);
    /// assert!(matches!(again.rows[1], RowStatus::Kept(1)));
    /// ```
    pub fn fit(&self, table: &Table) -> Result<PrepFit> {
        fit(self, table)
    }
}

/// The outcome of the cleaning steps: candidate features of the kept rows, before selection.
pub(crate) struct Cleaned {
    pub(crate) inputs: Vec<InputSpec>,
    pub(crate) rules: Vec<RuleSpec>,
    pub(crate) candidates: Vec<FeatureSpec>,
    pub(crate) matrix: Array2<f64>,
    pub(crate) rows: Vec<RowStatus>,
    pub(crate) kept: Vec<usize>,
    pub(crate) steps: Vec<StepReport>,
    pub(crate) labels: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

impl Cleaned {
    pub(crate) fn names(&self) -> Vec<String> {
        self.candidates.iter().map(|f| f.name.clone()).collect()
    }
}

/// Runs the cleaning and encoding steps (everything before feature selection).
pub(crate) fn clean(config: &PrepParams, table: &Table) -> Result<Cleaned> {
    config.validate()?;
    if table.n_rows() == 0 {
        return Err(InputError::Empty { rows: 0, cols: table.n_cols() }.into());
    }
    let mut steps: Vec<StepReport> = [
        Step::Labels,
        Step::Identifiers,
        Step::Excluded,
        Step::Ports,
        Step::Categorical,
        Step::Text,
        Step::EmptyColumns,
        Step::Missing,
        Step::NonFinite,
        Step::ValueRules,
        Step::Booleans,
    ]
    .into_iter()
    .map(StepReport::new)
    .collect();
    let step = |steps: &mut Vec<StepReport>, s: Step| -> usize { steps.iter().position(|r| r.step == s).unwrap() };
    let mut warnings = Vec::new();
    let mut inputs: Vec<InputSpec> = Vec::new();
    let mut labels = Vec::new();
    let mut port_taken = false;

    for c in table.columns() {
        let name = c.name();
        let drop = |steps: &mut Vec<StepReport>, s: Step, reason: String| {
            let k = step(steps, s);
            steps[k].columns_removed.push(ColumnReason { column: name.to_owned(), reason });
        };
        if matches_any(&config.labels, name) {
            labels.push(name.to_owned());
            drop(&mut steps, Step::Labels, "label: carried, never a feature".into());
            continue;
        }
        let is_port = config.ports.enabled && !port_taken && matches_any(&config.ports.columns, name);
        if is_port && c.dtype().is_numeric() {
            port_taken = true;
            inputs.push(InputSpec {
                name: name.to_owned(),
                kind: InputKind::Port { ports: config.ports.ports.clone(), other: config.ports.other },
                required: true,
            });
            continue;
        }
        if let Some(reason) = identifier_reason(config, c) {
            drop(&mut steps, Step::Identifiers, reason);
            continue;
        }
        if matches_any(&config.drop_columns, name) {
            drop(&mut steps, Step::Excluded, "listed in drop_columns".into());
            continue;
        }
        if matches_any(&config.categorical.columns, name) {
            match config.categorical.encoding {
                Encoding::Drop => drop(&mut steps, Step::Categorical, "categorical, encoding is drop".into()),
                Encoding::OneHot => inputs.push(InputSpec {
                    name: name.to_owned(),
                    kind: InputKind::Categorical {
                        text: c.dtype() == DataType::Categorical,
                        levels: Vec::new(),
                        other: false,
                    },
                    required: true,
                }),
            }
            continue;
        }
        if c.dtype() == DataType::Categorical {
            drop(&mut steps, Step::Text, "text column not listed as categorical".into());
            continue;
        }
        // Numeric: a column with no finite value would reject every row; drop the column instead.
        let Some(view) = NumView::of(c) else { continue };
        if !(0..c.len()).any(|i| view.get(i).is_some_and(f64::is_finite)) {
            let why = if c.null_count() == c.len() { "all values missing" } else { "no finite value" };
            drop(&mut steps, Step::EmptyColumns, why.into());
            continue;
        }
        let fill = match config.missing.policy(name) {
            Missing::DropRow => None,
            Missing::Zero => Some(0.0),
            Missing::Median => {
                // Over the column's finite values at fit time, before any row is dropped.
                let mut v: Vec<f64> = (0..c.len()).filter_map(|i| view.get(i)).filter(|v| v.is_finite()).collect();
                v.sort_unstable_by(f64::total_cmp);
                Some(median_sorted(&v))
            }
        };
        let boolean = c.dtype() == DataType::Bool;
        inputs.push(InputSpec { name: name.to_owned(), kind: InputKind::Numeric { fill, boolean }, required: true });
    }
    if config.ports.enabled && !port_taken {
        warnings.push("port encoding is enabled but no numeric destination-port column was found".into());
    }

    let mut rules = Vec::new();
    for rule in &config.value_rules {
        let mut hit = false;
        for (k, inp) in inputs.iter().enumerate() {
            if matches!(inp.kind, InputKind::Numeric { .. }) && matches_any(&rule.columns, &inp.name) {
                rules.push(RuleSpec { input: k, rule: rule.clone() });
                hit = true;
            }
        }
        if !hit {
            warnings.push(format!("value rule '{}' matched no numeric column", rule.name));
        }
    }

    let bound = bind(&inputs, table)?;
    let n = table.n_rows();
    let rejections = evaluate(&inputs, &bound, &rules, n);
    let mut kept = Vec::new();
    let mut rows = Vec::with_capacity(n);
    for (i, r) in rejections.into_iter().enumerate() {
        match r {
            None => {
                rows.push(RowStatus::Kept(kept.len()));
                kept.push(i);
            }
            Some(rej) => rows.push(RowStatus::Rejected(rej)),
        }
    }

    // Row steps: counts per step and column, in first-seen column order.
    for s in [Step::Missing, Step::NonFinite, Step::ValueRules] {
        let k = step(&mut steps, s);
        let mut by: Vec<ColumnCount> = Vec::new();
        for r in rows.iter().filter_map(RowStatus::rejection).filter(|r| r.step == s) {
            match by.iter_mut().find(|c| c.column == r.column) {
                Some(c) => c.rows += 1,
                None => by.push(ColumnCount { column: r.column.clone(), rows: 1 }),
            }
        }
        steps[k].rows_removed = by.iter().map(|c| c.rows).sum();
        steps[k].rows_by_column = by;
    }
    let k = step(&mut steps, Step::Missing);
    for (inp, b) in inputs.iter().zip(&bound) {
        if let (InputKind::Numeric { fill: Some(v), .. }, Bound::Num(view)) = (&inp.kind, b) {
            let count = view.null_count();
            if count > 0 {
                steps[k].imputed.push(Imputed { column: inp.name.clone(), count, value: *v });
            }
        }
    }
    let k = step(&mut steps, Step::Booleans);
    steps[k].converted = inputs
        .iter()
        .filter(|i| matches!(i.kind, InputKind::Numeric { boolean: true, .. }))
        .map(|i| i.name.clone())
        .collect();

    if kept.is_empty() {
        let summary = steps
            .iter()
            .filter(|s| s.rows_removed > 0)
            .map(|s| {
                let cols: Vec<String> = s.rows_by_column.iter().map(|c| format!("'{}' {}", c.column, c.rows)).collect();
                format!("{}: {}", s.step, cols.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(PrepError::NoRowsLeft { input: n, summary });
    }

    // Levels of the encoded columns come from the kept rows.
    let (k_cat, k_port) = (step(&mut steps, Step::Categorical), step(&mut steps, Step::Ports));
    for (inp, b) in inputs.iter_mut().zip(&bound) {
        match (&mut inp.kind, b) {
            (InputKind::Categorical { levels, other, .. }, Bound::Cat(col)) => {
                let (top, rest) = fit_levels(col, &kept, config.categorical.top_k);
                *levels = top;
                *other = rest;
            }
            (InputKind::Port { ports, other }, Bound::Num(view)) => {
                let seen: Vec<bool> = {
                    let mut s = vec![false; ports.len()];
                    let mut any_other = false;
                    for &i in &kept {
                        match port_index(view.get(i), ports) {
                            Some(p) => s[p] = true,
                            None => any_other = true,
                        }
                    }
                    *other = *other && any_other;
                    s
                };
                *ports = ports.iter().zip(&seen).filter(|(_, s)| **s).map(|(p, _)| *p).collect();
            }
            _ => {}
        }
    }

    let mut candidates: Vec<FeatureSpec> = Vec::new();
    for (k, inp) in inputs.iter().enumerate() {
        match &inp.kind {
            InputKind::Numeric { .. } => {
                candidates.push(FeatureSpec { name: inp.name.clone(), source: Source::Value { input: k } })
            }
            InputKind::Categorical { levels, other, .. } => {
                let added = encoded_features(k, &inp.name, levels.iter().map(String::as_str), *other);
                steps[k_cat].columns_added.extend(added.iter().map(|f| f.name.clone()));
                candidates.extend(added);
            }
            InputKind::Port { ports, other } => {
                let names: Vec<String> = ports.iter().map(u16::to_string).collect();
                let added = encoded_features(k, &inp.name, names.iter().map(String::as_str), *other);
                steps[k_port].columns_added.extend(added.iter().map(|f| f.name.clone()));
                candidates.extend(added);
            }
        }
    }
    let mut seen = HashMap::new();
    for f in &candidates {
        if seen.insert(f.name.as_str(), ()).is_some() {
            return Err(PrepError::DuplicateFeature(f.name.clone()));
        }
    }
    if candidates.is_empty() {
        return Err(PrepError::NoFeatures(
            "cleaning left no numeric or encoded column (all were labels, identifiers, text or empty)".into(),
        ));
    }
    let matrix = build_matrix(&inputs, &bound, &candidates, &kept);
    Ok(Cleaned { inputs, rules, candidates, matrix, rows, kept, steps, labels, warnings })
}

fn identifier_reason(config: &PrepParams, c: &Column) -> Option<String> {
    if matches_any(&config.identifiers, c.name()) {
        return Some("identifier".into());
    }
    if let Some(t) = c.source_type()
        && config.identifier_source_types.iter().any(|s| s.eq_ignore_ascii_case(t))
    {
        return Some(format!("identifier (declared type {t})"));
    }
    (config.drop_time_columns && c.dtype() == DataType::Time).then(|| "timestamp".into())
}

fn encoded_features<'a>(
    input: usize,
    name: &str,
    levels: impl Iterator<Item = &'a str>,
    other: bool,
) -> Vec<FeatureSpec> {
    let mut out: Vec<FeatureSpec> = levels
        .enumerate()
        .map(|(level, l)| FeatureSpec { name: format!("{name}={l}"), source: Source::Level { input, level } })
        .collect();
    if other {
        let mut catch_all = format!("{name}={OTHER_LEVEL}");
        while out.iter().any(|f| f.name == catch_all) {
            catch_all = format!("{name}=({})", &catch_all[name.len() + 1..]);
        }
        out.push(FeatureSpec { name: catch_all, source: Source::Other { input } });
    }
    out
}

/// The `top_k` most frequent levels among `rows` (ties by first appearance) and whether others exist.
fn fit_levels(col: &Column, rows: &[usize], top_k: usize) -> (Vec<String>, bool) {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for &i in rows {
        let l = level_string(col, i);
        match index.get(l.as_ref()) {
            Some(&k) => counts[k].1 += 1,
            None => {
                index.insert(l.to_string(), counts.len());
                counts.push((l.into_owned(), 1));
            }
        }
    }
    let distinct = counts.len();
    let mut order: Vec<usize> = (0..distinct).collect();
    order.sort_by(|&a, &b| counts[b].1.cmp(&counts[a].1).then(a.cmp(&b)));
    let top = order.into_iter().take(top_k).map(|k| counts[k].0.clone()).collect();
    (top, distinct > top_k)
}

fn level_string(col: &Column, i: usize) -> std::borrow::Cow<'_, str> {
    match col.value(i) {
        Value::Null => UNSET_LEVEL.into(),
        Value::Str(s) => s.into(),
        v => v.to_string().into(),
    }
}

/// The index in `ports` of a port value; `None` for null, non-integral, out-of-range or unlisted.
fn port_index(v: Option<f64>, ports: &[u16]) -> Option<usize> {
    let v = v?;
    if v.fract() != 0.0 || !(0.0..=65535.0).contains(&v) {
        return None;
    }
    ports.iter().position(|&p| p as f64 == v)
}

/// Numeric values of a column without per-row type dispatch.
#[derive(Clone, Copy)]
enum NumData<'a> {
    F(&'a [f64]),
    I(&'a [i64]),
    B(&'a [bool]),
}

#[derive(Clone, Copy)]
pub(crate) struct NumView<'a> {
    data: NumData<'a>,
    valid: Option<&'a Validity>,
}

impl<'a> NumView<'a> {
    fn of(c: &'a Column) -> Option<Self> {
        let data = match c.data() {
            ColumnData::Float(v) | ColumnData::Time(v) | ColumnData::Interval(v) => NumData::F(v),
            ColumnData::Int(v) => NumData::I(v),
            ColumnData::Bool(v) => NumData::B(v),
            ColumnData::Categorical(_) => return None,
        };
        Some(NumView { data, valid: c.validity() })
    }

    #[inline]
    fn get(&self, i: usize) -> Option<f64> {
        if let Some(v) = self.valid
            && !v.get(i)
        {
            return None;
        }
        Some(match self.data {
            NumData::F(v) => v[i],
            NumData::I(v) => v[i] as f64,
            NumData::B(v) => f64::from(u8::from(v[i])),
        })
    }

    fn null_count(&self) -> usize {
        self.valid.map_or(0, Validity::null_count)
    }
}

/// An input column bound to a table.
pub(crate) enum Bound<'a> {
    Num(NumView<'a>),
    Cat(&'a Column),
    /// An optional input the table does not have.
    Absent,
}

/// Finds every input column by name and checks its type.
fn bind<'a>(inputs: &[InputSpec], table: &'a Table) -> Result<Vec<Bound<'a>>> {
    inputs
        .iter()
        .map(|inp| {
            let Some(c) = table.column(&inp.name) else {
                return if inp.required {
                    Err(PrepError::MissingColumn { name: inp.name.clone() })
                } else {
                    Ok(Bound::Absent)
                };
            };
            let wrong = |expected| PrepError::WrongType { name: inp.name.clone(), expected, found: c.dtype() };
            match &inp.kind {
                InputKind::Numeric { .. } | InputKind::Port { .. } => {
                    NumView::of(c).map(Bound::Num).ok_or_else(|| wrong("a numeric column"))
                }
                InputKind::Categorical { text: true, .. } if c.dtype() != DataType::Categorical => {
                    Err(wrong("a categorical (text) column"))
                }
                InputKind::Categorical { text: false, .. } if c.dtype() == DataType::Categorical => {
                    Err(wrong("a numeric column"))
                }
                InputKind::Categorical { .. } => Ok(Bound::Cat(c)),
            }
        })
        .collect()
}

/// The numeric value of input `k` at row `i` (nulls filled), or `None` for a null without a fill.
#[inline]
fn numeric(inp: &InputSpec, b: &Bound<'_>, i: usize) -> Option<f64> {
    match (&inp.kind, b) {
        (InputKind::Numeric { fill, .. }, Bound::Num(v)) => v.get(i).or(*fill),
        _ => None,
    }
}

/// The rejection of each row, or `None` when it is kept. Checks run step by step over all columns
/// (missing, then non-finite, then rules), so a row's reason is the first step that would remove it.
fn evaluate(inputs: &[InputSpec], bound: &[Bound<'_>], rules: &[RuleSpec], n: usize) -> Vec<Option<Rejection>> {
    let numeric_inputs: Vec<usize> = (0..inputs.len())
        .filter(|&k| matches!((&inputs[k].kind, &bound[k]), (InputKind::Numeric { .. }, Bound::Num(_))))
        .collect();
    (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| {
            for &k in &numeric_inputs {
                if numeric(&inputs[k], &bound[k], i).is_none() {
                    return Some(Rejection {
                        step: Step::Missing,
                        column: inputs[k].name.clone(),
                        kind: RejectionKind::Missing,
                    });
                }
            }
            for &k in &numeric_inputs {
                let v = numeric(&inputs[k], &bound[k], i).unwrap_or(f64::NAN);
                if !v.is_finite() {
                    return Some(Rejection {
                        step: Step::NonFinite,
                        column: inputs[k].name.clone(),
                        kind: RejectionKind::NonFinite { value: v },
                    });
                }
            }
            for r in rules {
                let v = numeric(&inputs[r.input], &bound[r.input], i).unwrap_or(f64::NAN);
                if !r.rule.op.holds(v, r.rule.value) {
                    return Some(Rejection {
                        step: Step::ValueRules,
                        column: inputs[r.input].name.clone(),
                        kind: RejectionKind::Rule { rule: r.rule.name.clone(), value: v },
                    });
                }
            }
            None
        })
        .collect()
}

/// Per encoded input, the level index of each of `rows` (`None`: unseen / other).
fn level_codes(inputs: &[InputSpec], bound: &[Bound<'_>], rows: &[usize]) -> Vec<Vec<Option<usize>>> {
    inputs
        .iter()
        .zip(bound)
        .map(|(inp, b)| match (&inp.kind, b) {
            (InputKind::Categorical { levels, .. }, Bound::Cat(col)) => {
                let index: HashMap<&str, usize> = levels.iter().enumerate().map(|(k, l)| (l.as_str(), k)).collect();
                if let (ColumnData::Categorical(cat), None) = (col.data(), col.validity()) {
                    // Dictionary codes: look each level up once.
                    let by_code: Vec<Option<usize>> =
                        cat.levels().iter().map(|l| index.get(l.as_str()).copied()).collect();
                    rows.iter().map(|&i| by_code[cat.codes()[i] as usize]).collect()
                } else {
                    rows.iter().map(|&i| index.get(level_string(col, i).as_ref()).copied()).collect()
                }
            }
            (InputKind::Port { ports, .. }, Bound::Num(v)) => {
                rows.iter().map(|&i| port_index(v.get(i), ports)).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

/// The `rows × features` matrix (row-major) of the given features.
fn build_matrix(inputs: &[InputSpec], bound: &[Bound<'_>], features: &[FeatureSpec], rows: &[usize]) -> Array2<f64> {
    let codes = level_codes(inputs, bound, rows);
    let p = features.len();
    let mut out = Array2::<f64>::zeros((rows.len(), p));
    if p == 0 {
        return out;
    }
    let flat = out.as_slice_mut().expect("a new array is contiguous");
    flat.par_chunks_mut(p).with_min_len(256).enumerate().for_each(|(r, row)| {
        let i = rows[r];
        for (cell, f) in row.iter_mut().zip(features) {
            *cell = match f.source {
                // Kept rows passed the checks: the value (or its fill) exists and is finite.
                Source::Value { input } => numeric(&inputs[input], &bound[input], i).unwrap_or(f64::NAN),
                Source::Level { input, level } => f64::from(u8::from(codes[input][r] == Some(level))),
                Source::Other { input } => f64::from(u8::from(codes[input][r].is_none())),
            };
        }
    });
    out
}

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

fn fit(config: &PrepParams, table: &Table) -> Result<PrepFit> {
    let cleaned = clean(config, table)?;
    let n = cleaned.kept.len();
    if n < 2 {
        return Err(InputError::too_few_rows("fitting (rows left after cleaning)", 2, n).into());
    }
    let names = cleaned.names();
    let label = label_target(config, table, &cleaned.labels, &cleaned.kept);
    let selected = select(config, cleaned.matrix.view(), &names, label)?;
    if selected.keep.is_empty() {
        return Err(PrepError::NoFeatures(format!(
            "feature selection removed all {} candidate features ({})",
            names.len(),
            selected.pruned.iter().map(|p| format!("'{}': {}", p.name, p.rule)).collect::<Vec<_>>().join(", ")
        )));
    }
    let features: Vec<FeatureSpec> = selected.keep.iter().map(|&j| cleaned.candidates[j].clone()).collect();
    // Inputs feeding no kept feature and no rule stay checked when present, but are not required.
    let mut inputs = cleaned.inputs;
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
    let keep_all = selected.keep.len() == cleaned.candidates.len();
    let unscaled = if keep_all { cleaned.matrix } else { cleaned.matrix.select(Axis(1), &selected.keep) };
    let scaler = config.scaler.fit(unscaled.view())?;
    let mut warnings = cleaned.warnings.clone();
    warnings.extend(selected.warnings.iter().cloned());
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

fn carried_table(table: &Table, labels: &[String], kept: &[usize]) -> Table {
    let cols: Vec<Column> = labels.iter().filter_map(|l| table.column(l)).map(|c| c.take(kept)).collect();
    Table::new(cols).unwrap_or_default()
}

impl Prep {
    /// Transforms new flows by column name, exactly as at fit time.
    ///
    /// Every column feeding a feature or a value rule ([`Prep::required_columns`]) must be present
    /// with the same kind of type (numeric or text) as at fit time, else [`PrepError::MissingColumn`] /
    /// [`PrepError::WrongType`]; columns whose features were pruned are checked only when present
    /// ([`Prep::checked_columns`]); other columns are ignored. Rows that
    /// cannot be scored are not an error: their [`RowStatus`] says why. Category levels and ports not
    /// seen at fit time go to the `=other` column when there is one, else encode as all zeros.
    pub fn transform(&self, table: &Table) -> Result<Prepared> {
        self.check()?;
        let bound = bind(&self.inputs, table)?;
        let rejections = evaluate(&self.inputs, &bound, &self.rules, table.n_rows());
        let mut kept = Vec::new();
        let rows: Vec<RowStatus> = rejections
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                None => {
                    kept.push(i);
                    RowStatus::Kept(kept.len() - 1)
                }
                Some(rej) => RowStatus::Rejected(rej),
            })
            .collect();
        let unscaled = build_matrix(&self.inputs, &bound, &self.features, &kept);
        let scaled = self.scaler.transform(unscaled.view())?;
        let projected = self.pca.as_ref().map(|p| p.transform(scaled.view())).transpose()?;
        let carried = carried_table(table, &self.carried, &kept);
        Ok(Prepared { features: self.feature_names(), unscaled, scaled, projected, rows, kept, carried })
    }

    /// Checks the internal consistency of a (possibly deserialised) fitted state, so that a corrupt
    /// file is an error rather than a panic.
    fn check(&self) -> Result<()> {
        let bad = |what: &str| Err(PrepError::Corrupt(what.to_owned()));
        if self.version != FORMAT_VERSION {
            return bad(&format!("format version {} (expected {FORMAT_VERSION})", self.version));
        }
        let n_in = self.inputs.len();
        for f in &self.features {
            let ok = match f.source {
                Source::Value { input } => input < n_in && matches!(self.inputs[input].kind, InputKind::Numeric { .. }),
                Source::Level { input, level } => {
                    input < n_in
                        && match &self.inputs[input].kind {
                            InputKind::Categorical { levels, .. } => level < levels.len(),
                            InputKind::Port { ports, .. } => level < ports.len(),
                            InputKind::Numeric { .. } => false,
                        }
                }
                Source::Other { input } => {
                    input < n_in && !matches!(self.inputs[input].kind, InputKind::Numeric { .. })
                }
            };
            if !ok || !self.inputs[f.source.input()].required {
                return bad(&format!("feature '{}' has an invalid source", f.name));
            }
        }
        if self.rules.iter().any(|r| r.input >= n_in || !self.inputs[r.input].required) {
            return bad("a value rule refers to a missing input");
        }
        if self.scaler.n_features() != self.features.len() {
            return bad("scaler and feature list disagree");
        }
        let scaler_ok = match &self.scaler {
            Scaler::Robust { center: a, scale: b } | Scaler::Standard { mean: a, scale: b } => a.len() == b.len(),
            Scaler::MinMax { scale, min, .. } => scale.len() == min.len(),
            Scaler::Identity { .. } => true,
        };
        if !scaler_ok {
            return bad("scaler vectors have different lengths");
        }
        if let Some(p) = &self.pca
            && (p.mean.len() != self.features.len() || p.components.ncols() != self.features.len())
        {
            return bad("PCA and feature list disagree");
        }
        Ok(())
    }

    /// The output feature names, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// The input columns a table must have for [`Prep::transform`] (those feeding a feature or a
    /// value rule).
    pub fn required_columns(&self) -> Vec<&str> {
        self.inputs.iter().filter(|i| i.required).map(|i| i.name.as_str()).collect()
    }

    /// Every input column read when present: the required ones, plus columns whose features were
    /// pruned — they were checked for missing and non-finite values at fit time, and are again when
    /// present, so that transforming the training table reproduces the fit exactly.
    pub fn checked_columns(&self) -> Vec<&str> {
        self.inputs.iter().map(|i| i.name.as_str()).collect()
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &PrepParams {
        &self.config
    }

    /// The preset of that configuration.
    pub fn preset(&self) -> Family {
        self.config.preset
    }

    /// The fitted scaler.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }

    /// The fitted PCA, if the pipeline projects.
    pub fn pca(&self) -> Option<&Pca> {
        self.pca.as_ref()
    }

    /// The label columns carried with the rows.
    pub fn carried_columns(&self) -> &[String] {
        &self.carried
    }

    /// Version of the serialised layout.
    pub fn format_version(&self) -> u32 {
        self.version
    }
}
