//! A quick per-column summary (what `outflow inspect` prints).

use serde::Serialize;

use crate::table::{Column, DataType, Table};
use crate::write::opt_f64_or_string;

/// One value of a categorical column and how often it occurs.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TopValue {
    /// The value.
    pub value: String,
    /// Occurrences.
    pub count: usize,
}

/// Summary of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Logical type.
    #[serde(rename = "type")]
    pub dtype: DataType,
    /// Type declared by the source (Zeek), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// Null cells.
    pub nulls: usize,
    /// Minimum of the numeric values (non-null, NaN ignored).
    #[serde(serialize_with = "opt_f64_or_string")]
    pub min: Option<f64>,
    /// Median (lower-upper mean for even counts).
    #[serde(serialize_with = "opt_f64_or_string")]
    pub median: Option<f64>,
    /// Maximum.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub max: Option<f64>,
    /// Distinct values (categoricals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<usize>,
    /// Up to five most frequent values (categoricals), ties by first appearance.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<TopValue>,
}

/// Summary of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableSummary {
    /// Rows.
    pub rows: usize,
    /// Per-column summaries.
    pub columns: Vec<ColumnSummary>,
}

/// Summarises every column.
pub fn summarize(table: &Table) -> TableSummary {
    TableSummary { rows: table.n_rows(), columns: table.columns().iter().map(summarize_column).collect() }
}

fn summarize_column(c: &Column) -> ColumnSummary {
    let mut s = ColumnSummary {
        name: c.name().to_owned(),
        dtype: c.dtype(),
        source_type: c.source_type().map(str::to_owned),
        nulls: c.null_count(),
        min: None,
        median: None,
        max: None,
        distinct: None,
        top: Vec::new(),
    };
    if c.dtype() == DataType::Categorical {
        let crate::ColumnData::Categorical(cat) = c.data() else { unreachable!() };
        let mut counts = vec![0usize; cat.levels().len()];
        for i in 0..c.len() {
            if !c.is_null(i) {
                counts[cat.codes()[i] as usize] += 1;
            }
        }
        let mut order: Vec<usize> = (0..counts.len()).filter(|&k| counts[k] > 0).collect();
        s.distinct = Some(order.len());
        order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
        s.top =
            order.into_iter().take(5).map(|k| TopValue { value: cat.levels()[k].clone(), count: counts[k] }).collect();
    } else {
        let mut v: Vec<f64> = (0..c.len()).filter_map(|i| c.f64_at(i)).filter(|x| !x.is_nan()).collect();
        if !v.is_empty() {
            v.sort_unstable_by(f64::total_cmp);
            s.min = v.first().copied();
            s.max = v.last().copied();
            let n = v.len();
            s.median = Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 });
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_categorical() {
        let t = Table::new(vec![
            Column::from_f64_opt("x", [Some(3.0), None, Some(1.0), Some(2.0), Some(10.0)]),
            Column::from_str_opt("p", [Some("tcp"), Some("udp"), Some("tcp"), None, Some("icmp")]),
        ])
        .unwrap();
        let s = summarize(&t);
        assert_eq!(s.columns[0].median, Some(2.5));
        assert_eq!(s.columns[0].nulls, 1);
        assert_eq!(s.columns[1].top[0], TopValue { value: "tcp".into(), count: 2 });
        assert_eq!(s.columns[1].distinct, Some(3));
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"type\":\"float\""));
    }
}
