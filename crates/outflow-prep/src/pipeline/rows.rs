//! Reading rows by column name: input columns bound to a table, the rejection of each row, and the
//! feature matrix of the kept rows. Fit and transform share these, so transforming the training table
//! reproduces the fit exactly.

use std::collections::HashMap;

use ndarray::Array2;
use rayon::prelude::*;

use outflow_io::{Column, ColumnData, DataType, Table, Validity};

use super::clean::{level_string, port_index};
use super::{FeatureSpec, InputKind, InputSpec, RuleSpec, Source};
use crate::error::{PrepError, Result};
use crate::report::{Rejection, RejectionKind, RowStatus, Step};

/// Numeric values of a column without per-row type dispatch.
#[derive(Clone, Copy)]
pub(super) enum NumData<'a> {
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
    pub(super) fn of(c: &'a Column) -> Option<Self> {
        let data = match c.data() {
            ColumnData::Float(v) | ColumnData::Time(v) | ColumnData::Interval(v) => NumData::F(v),
            ColumnData::Int(v) => NumData::I(v),
            ColumnData::Bool(v) => NumData::B(v),
            ColumnData::Categorical(_) => return None,
        };
        Some(NumView { data, valid: c.validity() })
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<f64> {
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

    pub(super) fn null_count(&self) -> usize {
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
pub(super) fn bind<'a>(inputs: &[InputSpec], table: &'a Table) -> Result<Vec<Bound<'a>>> {
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
pub(super) fn numeric(inp: &InputSpec, b: &Bound<'_>, i: usize) -> Option<f64> {
    match (&inp.kind, b) {
        (InputKind::Numeric { fill, .. }, Bound::Num(v)) => v.get(i).or(*fill),
        _ => None,
    }
}

/// The rejection of each row, or `None` when it is kept. Checks run step by step over all columns
/// (missing, then non-finite, then rules), so a row's reason is the first step that would remove it.
pub(super) fn evaluate(
    inputs: &[InputSpec],
    bound: &[Bound<'_>],
    rules: &[RuleSpec],
    n: usize,
) -> Vec<Option<Rejection>> {
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
                if !outflow_core::is_usable(v) {
                    let kind = if v.is_finite() {
                        RejectionKind::TooLarge { value: v }
                    } else {
                        RejectionKind::NonFinite { value: v }
                    };
                    return Some(Rejection { step: Step::NonFinite, column: inputs[k].name.clone(), kind });
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
pub(super) fn level_codes(inputs: &[InputSpec], bound: &[Bound<'_>], rows: &[usize]) -> Vec<Vec<Option<usize>>> {
    inputs
        .iter()
        .zip(bound)
        .map(|(inp, b)| match (&inp.kind, b) {
            (InputKind::Categorical { levels, .. }, Bound::Cat(col)) => {
                let index: HashMap<&str, usize> = levels.iter().enumerate().map(|(k, l)| (l.as_str(), k)).collect();
                per_level(col, rows, |l| index.get(l).copied())
            }
            (InputKind::Port { ports, .. }, Bound::Num(v)) => {
                rows.iter().map(|&i| port_index(v.get(i), ports)).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

/// `of` each row's level among `rows` of a categorical column.
fn per_level<T: Copy>(col: &Column, rows: &[usize], of: impl Fn(&str) -> T) -> Vec<T> {
    if let (ColumnData::Categorical(cat), None) = (col.data(), col.validity()) {
        // Dictionary codes: look each level up once.
        let by_code: Vec<T> = cat.levels().iter().map(|l| of(l)).collect();
        rows.iter().map(|&i| by_code[cat.codes()[i] as usize]).collect()
    } else {
        rows.iter().map(|&i| of(&level_string(col, i))).collect()
    }
}

/// Per categorical input with a rarity feature among `features`, the surprisal of each of `rows`.
fn rarity_values(inputs: &[InputSpec], bound: &[Bound<'_>], features: &[FeatureSpec], rows: &[usize]) -> Vec<Vec<f64>> {
    let wanted = |k: usize| features.iter().any(|f| f.source == Source::Rarity { input: k });
    inputs
        .iter()
        .zip(bound)
        .enumerate()
        .map(|(k, (inp, b))| match (&inp.kind, b) {
            (InputKind::Categorical { rarity: Some(table), .. }, Bound::Cat(col)) if wanted(k) => {
                let lookup = table.lookup();
                per_level(col, rows, |l| lookup.get(l).copied().unwrap_or(table.unseen))
            }
            _ => Vec::new(),
        })
        .collect()
}

/// The `rows × features` matrix (row-major) of the given features.
pub(super) fn build_matrix(
    inputs: &[InputSpec],
    bound: &[Bound<'_>],
    features: &[FeatureSpec],
    rows: &[usize],
) -> Array2<f64> {
    let codes = level_codes(inputs, bound, rows);
    let rarity = rarity_values(inputs, bound, features, rows);
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
                Source::Rarity { input } => rarity[input][r],
            };
        }
    });
    out
}

/// Each row's status from its rejection (`None`: kept), and the kept rows in order.
pub(super) fn split_rows(rejections: Vec<Option<Rejection>>) -> (Vec<RowStatus>, Vec<usize>) {
    let mut kept = Vec::new();
    let rows = rejections
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
    (rows, kept)
}
