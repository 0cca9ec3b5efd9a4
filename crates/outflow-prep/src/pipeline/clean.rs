//! The cleaning and encoding steps, everything before feature selection: which role each column plays,
//! which rows are kept (and why the others are not), the levels of encoded columns, the candidate
//! features.

use std::collections::HashMap;

use ndarray::Array2;
use outflow_core::InputError;
use outflow_core::stats::median_sorted;
use outflow_io::{Column, DataType, Table, Value};

use super::rows::{Bound, NumView, bind, build_matrix, evaluate, split_rows};
use super::{FeatureSpec, InputKind, InputSpec, OTHER_LEVEL, RarityTable, RuleSpec, Source, UNSET_LEVEL};
use crate::config::{Encoding, Missing, PrepParams};
use crate::error::{PrepError, Result};
use crate::pattern::matches_any;
use crate::report::{ColumnCount, ColumnReason, Imputed, RowStatus, Step, StepReport};

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

/// The reports of the cleaning steps, in their order.
struct Steps(Vec<StepReport>);

impl Steps {
    const ORDER: [Step; 11] = [
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
    ];

    fn new() -> Steps {
        Steps(Self::ORDER.into_iter().map(StepReport::new).collect())
    }

    fn get(&mut self, s: Step) -> &mut StepReport {
        self.0.iter_mut().find(|r| r.step == s).expect("every cleaning step has a report")
    }

    /// Records that step `s` removed a column.
    fn drop(&mut self, s: Step, column: &str, reason: impl Into<String>) {
        self.get(s).columns_removed.push(ColumnReason { column: column.to_owned(), reason: reason.into() });
    }
}

/// Runs the cleaning and encoding steps (everything before feature selection).
pub(crate) fn clean(config: &PrepParams, table: &Table) -> Result<Cleaned> {
    config.validate()?;
    if table.n_rows() == 0 {
        return Err(InputError::Empty { rows: 0, cols: table.n_cols() }.into());
    }
    let mut steps = Steps::new();
    let mut warnings = Vec::new();
    let (mut inputs, labels) = classify_columns(config, table, &mut steps, &mut warnings);
    let rules = bind_rules(config, &inputs, &mut warnings);
    let bound = bind(&inputs, table)?;
    let (rows, kept) = split_rows(evaluate(&inputs, &bound, &rules, table.n_rows()));
    count_rejections(&mut steps, &rows);
    record_conversions(&mut steps, &inputs, &bound);
    if kept.is_empty() {
        return Err(no_rows_left(table.n_rows(), &steps));
    }
    fit_encodings(config, &mut inputs, &bound, &kept);
    let candidates = candidate_features(&inputs, &mut steps)?;
    let matrix = build_matrix(&inputs, &bound, &candidates, &kept);
    Ok(Cleaned { inputs, rules, candidates, matrix, rows, kept, steps: steps.0, labels, warnings })
}

/// The role of every column, in table order: a label (carried), the destination port to encode, an
/// identifier or excluded column (dropped), a categorical one (encoded or dropped), text (dropped), an
/// empty numeric column (dropped), or a numeric input with its missing-value fill.
fn classify_columns(
    config: &PrepParams,
    table: &Table,
    steps: &mut Steps,
    warnings: &mut Vec<String>,
) -> (Vec<InputSpec>, Vec<String>) {
    let mut inputs: Vec<InputSpec> = Vec::new();
    let mut labels = Vec::new();
    let mut port_taken = false;
    for c in table.columns() {
        let name = c.name();
        let input = |kind| InputSpec { name: name.to_owned(), kind, required: true };
        if matches_any(&config.labels, name) {
            labels.push(name.to_owned());
            steps.drop(Step::Labels, name, "label: carried, never a feature");
        } else if config.ports.enabled
            && !port_taken
            && matches_any(&config.ports.columns, name)
            && c.dtype().is_numeric()
        {
            port_taken = true;
            inputs.push(input(InputKind::Port { ports: config.ports.ports.clone(), other: config.ports.other }));
        } else if let Some(reason) = identifier_reason(config, c) {
            steps.drop(Step::Identifiers, name, reason);
        } else if matches_any(&config.drop_columns, name) {
            steps.drop(Step::Excluded, name, "listed in drop_columns");
        } else if matches_any(&config.categorical.columns, name) {
            match config.categorical.encoding {
                Encoding::Drop => steps.drop(Step::Categorical, name, "categorical, encoding is drop"),
                Encoding::OneHot | Encoding::Rarity | Encoding::OneHotRarity => {
                    inputs.push(input(InputKind::Categorical {
                        text: c.dtype() == DataType::Categorical,
                        levels: Vec::new(),
                        other: false,
                        rarity: None,
                    }))
                }
            }
        } else if c.dtype() == DataType::Categorical {
            steps.drop(Step::Text, name, "text column not listed as categorical");
        } else if let Some(view) = NumView::of(c) {
            // A column with no finite value would reject every row: the column goes instead.
            if !(0..c.len()).any(|i| view.get(i).is_some_and(f64::is_finite)) {
                let why = if c.null_count() == c.len() { "all values missing" } else { "no finite value" };
                steps.drop(Step::EmptyColumns, name, why);
            } else {
                let fill = missing_fill(config.missing.policy(name), c, &view);
                inputs.push(input(InputKind::Numeric { fill, boolean: c.dtype() == DataType::Bool }));
            }
        }
    }
    if config.ports.enabled && !port_taken {
        warnings.push("port encoding is enabled but no numeric destination-port column was found".into());
    }
    (inputs, labels)
}

/// The value a null of a numeric column becomes (`None`: the row is dropped). The median is over the
/// column's finite values at fit time, before any row is dropped.
fn missing_fill(policy: Missing, c: &Column, view: &NumView<'_>) -> Option<f64> {
    match policy {
        Missing::DropRow => None,
        Missing::Zero => Some(0.0),
        Missing::Median => {
            let mut v: Vec<f64> = (0..c.len()).filter_map(|i| view.get(i)).filter(|v| v.is_finite()).collect();
            outflow_core::stats::sort_floats(&mut v);
            Some(median_sorted(&v))
        }
    }
}

/// Each value rule bound to the numeric inputs it names; a rule that names none is a warning.
fn bind_rules(config: &PrepParams, inputs: &[InputSpec], warnings: &mut Vec<String>) -> Vec<RuleSpec> {
    let mut rules = Vec::new();
    for rule in &config.value_rules {
        let before = rules.len();
        for (k, inp) in inputs.iter().enumerate() {
            if matches!(inp.kind, InputKind::Numeric { .. }) && matches_any(&rule.columns, &inp.name) {
                rules.push(RuleSpec { input: k, rule: rule.clone() });
            }
        }
        if rules.len() == before {
            warnings.push(format!("value rule '{}' matched no numeric column", rule.name));
        }
    }
    rules
}

/// Rows removed by the row steps, per step and column in first-seen column order.
fn count_rejections(steps: &mut Steps, rows: &[RowStatus]) {
    for s in [Step::Missing, Step::NonFinite, Step::ValueRules] {
        let mut by: Vec<ColumnCount> = Vec::new();
        for r in rows.iter().filter_map(RowStatus::rejection).filter(|r| r.step == s) {
            match by.iter_mut().find(|c| c.column == r.column) {
                Some(c) => c.rows += 1,
                None => by.push(ColumnCount { column: r.column.clone(), rows: 1 }),
            }
        }
        let report = steps.get(s);
        report.rows_removed = by.iter().map(|c| c.rows).sum();
        report.rows_by_column = by;
    }
}

/// The imputed values and the boolean columns turned into 0/1.
fn record_conversions(steps: &mut Steps, inputs: &[InputSpec], bound: &[Bound<'_>]) {
    for (inp, b) in inputs.iter().zip(bound) {
        if let (InputKind::Numeric { fill: Some(v), .. }, Bound::Num(view)) = (&inp.kind, b) {
            let count = view.null_count();
            if count > 0 {
                steps.get(Step::Missing).imputed.push(Imputed { column: inp.name.clone(), count, value: *v });
            }
        }
    }
    steps.get(Step::Booleans).converted = inputs
        .iter()
        .filter(|i| matches!(i.kind, InputKind::Numeric { boolean: true, .. }))
        .map(|i| i.name.clone())
        .collect();
}

/// The error of a cleaning that kept no row, saying which step removed how many rows where.
fn no_rows_left(n: usize, steps: &Steps) -> PrepError {
    let summary = steps
        .0
        .iter()
        .filter(|s| s.rows_removed > 0)
        .map(|s| {
            let cols: Vec<String> = s.rows_by_column.iter().map(|c| format!("'{}' {}", c.column, c.rows)).collect();
            format!("{}: {}", s.step, cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    PrepError::NoRowsLeft { input: n, summary }
}

/// The levels of the encoded columns, from the kept rows: the `top_k` categories and the rarity of
/// every level, as the encoding asks; the ports seen.
fn fit_encodings(config: &PrepParams, inputs: &mut [InputSpec], bound: &[Bound<'_>], kept: &[usize]) {
    let encoding = config.categorical.encoding;
    for (inp, b) in inputs.iter_mut().zip(bound) {
        match (&mut inp.kind, b) {
            (InputKind::Categorical { levels, other, rarity, .. }, Bound::Cat(col)) => {
                let counts = level_counts(col, kept);
                if encoding.one_hot() {
                    let top_k = config.categorical.top_k;
                    *levels = counts.iter().take(top_k).map(|c| c.0.clone()).collect();
                    *other = counts.len() > top_k;
                }
                if encoding.rarity() {
                    *rarity = Some(RarityTable::new(&counts, kept.len()));
                }
            }
            (InputKind::Port { ports, other }, Bound::Num(view)) => {
                let mut seen = vec![false; ports.len()];
                let mut any_other = false;
                for &i in kept {
                    match port_index(view.get(i), ports) {
                        Some(p) => seen[p] = true,
                        None => any_other = true,
                    }
                }
                *other = *other && any_other;
                *ports = ports.iter().zip(&seen).filter(|(_, s)| **s).map(|(p, _)| *p).collect();
            }
            _ => {}
        }
    }
}

/// The candidate features of the inputs: each numeric input, one column per level of an encoded one
/// (and its catch-all). Two features of the same name, or none at all, are errors.
fn candidate_features(inputs: &[InputSpec], steps: &mut Steps) -> Result<Vec<FeatureSpec>> {
    let mut candidates: Vec<FeatureSpec> = Vec::new();
    for (k, inp) in inputs.iter().enumerate() {
        match &inp.kind {
            InputKind::Numeric { .. } => {
                candidates.push(FeatureSpec { name: inp.name.clone(), source: Source::Value { input: k } })
            }
            InputKind::Categorical { levels, other, rarity, .. } => {
                let mut added = encoded_features(k, &inp.name, levels.iter().map(String::as_str), *other);
                if rarity.is_some() {
                    added.push(FeatureSpec {
                        name: format!("rarity({})", inp.name),
                        source: Source::Rarity { input: k },
                    });
                }
                steps.get(Step::Categorical).columns_added.extend(added.iter().map(|f| f.name.clone()));
                candidates.extend(added);
            }
            InputKind::Port { ports, other } => {
                let names: Vec<String> = ports.iter().map(u16::to_string).collect();
                let added = encoded_features(k, &inp.name, names.iter().map(String::as_str), *other);
                steps.get(Step::Ports).columns_added.extend(added.iter().map(|f| f.name.clone()));
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
    Ok(candidates)
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

/// Each level's count among `rows`, most frequent first (ties by first appearance).
fn level_counts(col: &Column, rows: &[usize]) -> Vec<(String, usize)> {
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
    // A stable sort keeps first appearance among equal counts.
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
}

pub(super) fn level_string(col: &Column, i: usize) -> std::borrow::Cow<'_, str> {
    match col.value(i) {
        Value::Null => UNSET_LEVEL.into(),
        Value::Str(s) => s.into(),
        v => v.to_string().into(),
    }
}

/// The index in `ports` of a port value; `None` for null, non-integral, out-of-range or unlisted.
pub(super) fn port_index(v: Option<f64>, ports: &[u16]) -> Option<usize> {
    let v = v?;
    if v.fract() != 0.0 || !(0.0..=65535.0).contains(&v) {
        return None;
    }
    ports.iter().position(|&p| p as f64 == v)
}
