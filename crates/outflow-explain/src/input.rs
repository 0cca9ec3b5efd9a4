//! From [`outflow_io::Table`]s to the matrices and vectors the rest of the crate takes.

use ndarray::Array2;
use outflow_core::InputError;
use outflow_io::{ColumnData, NullPolicy, Table};

use crate::error::{ExplainError, Result};

/// The numeric features of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Feature names, in column order.
    pub names: Vec<String>,
    /// `rows × features`.
    pub x: Array2<f64>,
    /// Columns left out because they are not numeric (categorical: addresses, protocols, labels, ...).
    pub ignored: Vec<String>,
}

/// Every numeric column (float, int, bool as 0/1, time, interval) except `exclude` becomes a feature;
/// non-numeric columns are skipped and listed in [`FeatureMatrix::ignored`]. A null, NaN or infinite cell
/// is an [`InputError::NonFinite`](outflow_core::InputError::NonFinite) naming the column and row.
pub fn feature_matrix(table: &Table, exclude: &[&str]) -> Result<FeatureMatrix> {
    for e in exclude {
        table.require(e)?;
    }
    let mut names = Vec::new();
    let mut ignored = Vec::new();
    for c in table.columns() {
        if exclude.contains(&c.name()) {
            continue;
        }
        if c.dtype().is_numeric() { names.push(c.name().to_owned()) } else { ignored.push(c.name().to_owned()) }
    }
    if names.is_empty() {
        return Err(InputError::Empty { rows: table.n_rows(), cols: 0 }.into());
    }
    if table.n_rows() == 0 {
        return Err(InputError::Empty { rows: 0, cols: names.len() }.into());
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let x = table.to_array(&refs, NullPolicy::Nan)?;
    for ((row, j), &v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(ExplainError::non_finite(&names[j], row, v));
        }
    }
    Ok(FeatureMatrix { names, x, ignored })
}

/// Integer labels from a column: integers, or floats with integral values (as `-1.0`).
pub fn labels_from_table(table: &Table, column: &str) -> Result<Vec<i64>> {
    let c = table.require(column)?;
    if matches!(c.data(), ColumnData::Categorical(_)) {
        return Err(ExplainError::BadColumn {
            name: column.to_owned(),
            reason: "labels must be integer cluster ids (e.g. -1 for noise), found text".into(),
        });
    }
    (0..c.len())
        .map(|i| match c.f64_at(i) {
            Some(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(v as i64),
            Some(v) if v.is_finite() => Err(ExplainError::BadColumn {
                name: column.to_owned(),
                reason: format!("row {i}: label {v} is not an integer"),
            }),
            other => Err(ExplainError::non_finite(column, i, other.unwrap_or(f64::NAN))),
        })
        .collect()
}

/// Finite numbers from a numeric column (e.g. `outlier_score`).
pub fn scores_from_table(table: &Table, column: &str) -> Result<Vec<f64>> {
    let c = table.require(column)?;
    if !c.dtype().is_numeric() {
        return Err(ExplainError::BadColumn { name: column.to_owned(), reason: "not numeric".into() });
    }
    (0..c.len())
        .map(|i| match c.f64_at(i) {
            Some(v) if v.is_finite() => Ok(v),
            other => Err(ExplainError::non_finite(column, i, other.unwrap_or(f64::NAN))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use outflow_io::Column;

    use super::*;

    #[test]
    fn numeric_columns_become_features() {
        let t = Table::new(vec![
            Column::from_f64("duration", vec![0.5, 1.5]),
            Column::from_str_opt("proto", [Some("tcp"), Some("udp")]),
            Column::from_i64_opt("bytes", [Some(10), Some(20)]),
            Column::from_i64_opt("label", [Some(-1), Some(0)]),
        ])
        .unwrap();
        let f = feature_matrix(&t, &["label"]).unwrap();
        assert_eq!(f.names, vec!["duration", "bytes"]);
        assert_eq!(f.ignored, vec!["proto"]);
        assert_eq!(f.x[[1, 1]], 20.0);
        assert_eq!(labels_from_table(&t, "label").unwrap(), vec![-1, 0]);
        assert!(matches!(labels_from_table(&t, "proto"), Err(ExplainError::BadColumn { .. })));
        assert!(matches!(labels_from_table(&t, "duration"), Err(ExplainError::BadColumn { .. })));
    }

    #[test]
    fn nulls_are_typed_errors() {
        let t = Table::new(vec![Column::from_f64_opt("a", [Some(1.0), None])]).unwrap();
        match feature_matrix(&t, &[]) {
            Err(ExplainError::BadColumn { name, reason }) => {
                assert_eq!((name.as_str(), reason.contains("row 1")), ("a", true))
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(scores_from_table(&t, "a"), Err(ExplainError::BadColumn { reason, .. }) if reason.contains("row 1"))
        );
    }
}
