//! The exploratory report of a flow table: describe, skewness, IQR outliers,
//! duplicates, correlation, strongly correlated pairs, what the selection rules would prune, and
//! variance / range rankings.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::Serialize;

use outflow_io::{Column, ColumnData, DataType, Table, f64_or_string};

use outflow_io::Family;

use crate::config::PrepParams;
use crate::error::Result;
use crate::pipeline::{clean, label_target, select};
use crate::report::{CorrelatedPair, PrunedFeature, StepReport};
use crate::select::{CorrelationPruning, LeakageFlag};
use crate::stats::{Describe, describe};

/// Statistics of one input column. Numeric statistics are over the non-null values (NaN counts as
/// null, infinities are values); they are `null` for text columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnStats {
    /// Column name.
    pub name: String,
    /// Logical type.
    #[serde(rename = "type")]
    pub dtype: DataType,
    /// Type declared by the source (Zeek), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// Null cells (plus NaN values).
    pub nulls: usize,
    /// Infinite values.
    pub non_finite: usize,
    /// Distinct values of a text column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<usize>,
    /// count, mean, std (ddof 1), min, p25, p50, p75, max, skewness, iqr_outliers, variance (ddof 1).
    #[serde(flatten)]
    pub stats: Describe,
}

/// A value for rankings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Column name.
    pub name: String,
    /// The value.
    #[serde(serialize_with = "f64_or_string")]
    pub value: f64,
}

/// A number that serialises NaN and infinities as strings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Num(#[serde(serialize_with = "f64_or_string")] pub f64);

/// The correlation matrix of the cleaned candidate features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationMatrix {
    /// Feature names (rows and columns).
    pub features: Vec<String>,
    /// Rows it was computed over (after cleaning).
    pub rows: usize,
    /// The matrix, row by row; NaN for constant features.
    pub matrix: Vec<Vec<Num>>,
}

/// The EDA report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdaReport {
    /// Rows of the input.
    pub rows: usize,
    /// Rows of the cleaned feature matrix that repeat an earlier row exactly.
    pub duplicates: usize,
    /// Every input column.
    pub columns: Vec<ColumnStats>,
    /// Feature pairs with |r| at or above the correlation threshold, strongest first.
    pub correlated_pairs: Vec<CorrelatedPair>,
    /// What correlation pruning and the low-variance filter would remove, in decision order.
    pub pruned: Vec<PrunedFeature>,
    /// Features correlating with the label.
    pub leakage: Vec<LeakageFlag>,
    /// Numeric input columns by sample variance, highest first.
    pub variance_ranking: Vec<Ranked>,
    /// Numeric input columns by range (max - min), highest first.
    pub range_ranking: Vec<Ranked>,
    /// Correlation matrix of the cleaned candidate features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<CorrelationMatrix>,
    /// The cleaning steps that changed something.
    pub cleaning: Vec<StepReport>,
    /// The preset of the configuration used.
    pub preset: Family,
    /// Why parts of the report are missing, and other notes.
    pub warnings: Vec<String>,
}

/// Builds the EDA report of a table.
///
/// Column statistics are over the raw input columns. Duplicates, correlations, correlated pairs and
/// the pruning decisions are over the candidate features the configuration's cleaning steps produce
/// so `pruned` is exactly what a fit with this configuration
/// would prune. Only an invalid configuration is an error; data problems become `warnings`.
///
/// ```
/// use outflow_io::{Column, Table};
/// use outflow_prep::{PrepParams, eda};
/// let t = Table::new(vec![
///     Column::from_f64("a", vec![1.0, 2.0, 3.0, 4.0]),
///     Column::from_f64("b", vec![2.0, 4.0, 6.0, 8.5]),
///     Column::from_f64("c", vec![0.0, 0.0, 0.0, 0.0]),
/// ]).unwrap();
/// let r = eda(&t, &PrepParams::default()).unwrap();
/// assert_eq!(r.columns[0].stats.p25, Some(1.75));
/// assert_eq!(r.correlated_pairs.len(), 1);
/// let pruned: Vec<&str> = r.pruned.iter().map(|p| p.name.as_str()).collect();
/// assert_eq!(pruned, ["b", "c"]);
/// ```
pub fn eda(table: &Table, config: &PrepParams) -> Result<EdaReport> {
    config.validate()?;
    let columns: Vec<ColumnStats> = table.columns().par_iter().map(column_stats).collect();
    let rank = |f: &dyn Fn(&ColumnStats) -> Option<f64>| {
        let mut r: Vec<Ranked> =
            columns.iter().filter_map(|c| f(c).map(|value| Ranked { name: c.name.clone(), value })).collect();
        r.sort_by(|a, b| b.value.total_cmp(&a.value));
        r
    };
    let variance_ranking = rank(&|c| c.stats.variance.filter(|v| !v.is_nan()));
    let range_ranking = rank(&|c| Some(c.stats.max? - c.stats.min?).filter(|v| !v.is_nan()));
    let mut report = EdaReport {
        rows: table.n_rows(),
        duplicates: 0,
        columns,
        correlated_pairs: Vec::new(),
        pruned: Vec::new(),
        leakage: Vec::new(),
        variance_ranking,
        range_ranking,
        correlation: None,
        cleaning: Vec::new(),
        preset: config.preset,
        warnings: Vec::new(),
    };
    correlation_analysis(&mut report, table, config)?;
    Ok(report)
}

/// Summary statistics of one column (numeric values; nulls, NaN and distinct levels otherwise).
fn column_stats(c: &Column) -> ColumnStats {
    let mut nulls = c.null_count();
    let mut distinct = None;
    let values: Vec<f64> = if c.dtype().is_numeric() {
        let all: Vec<f64> = (0..c.len()).filter_map(|i| c.f64_at(i)).collect();
        nulls += all.iter().filter(|v| v.is_nan()).count();
        all.into_iter().filter(|v| !v.is_nan()).collect()
    } else {
        if let ColumnData::Categorical(cat) = c.data() {
            let mut seen = vec![false; cat.levels().len()];
            (0..c.len()).filter(|&i| !c.is_null(i)).for_each(|i| seen[cat.codes()[i] as usize] = true);
            distinct = Some(seen.iter().filter(|s| **s).count());
        }
        Vec::new()
    };
    let mut stats = describe(&values);
    if !c.dtype().is_numeric() {
        stats.count = c.len() - c.null_count();
    }
    ColumnStats {
        name: c.name().to_owned(),
        dtype: c.dtype(),
        source_type: c.source_type().map(str::to_owned),
        nulls,
        non_finite: values.iter().filter(|v| v.is_infinite()).count(),
        distinct,
        stats,
    }
}

/// Cleans the table as the preparation would and fills in the duplicates, the correlated pairs, the
/// pruned and leaking features and the correlation matrix; says in a warning why when it cannot.
fn correlation_analysis(report: &mut EdaReport, table: &Table, config: &PrepParams) -> Result<()> {
    let cleaned = match clean(config, table) {
        Ok(c) => c,
        Err(e) => {
            report.warnings.push(format!("no correlation analysis: {e}"));
            return Ok(());
        }
    };
    report.cleaning = cleaned.steps.iter().filter(|s| !s.is_noop()).cloned().collect();
    report.warnings.extend(cleaned.warnings.iter().cloned());
    report.duplicates = duplicate_rows(cleaned.matrix.view());
    if cleaned.kept.len() < 2 {
        report.warnings.push(format!("no correlation analysis: {} row(s) left after cleaning", cleaned.kept.len()));
        return Ok(());
    }
    let names = cleaned.names();
    let label = label_target(config, table, &cleaned.labels, &cleaned.kept);
    let selected = select(config, cleaned.matrix.view(), &names, label)?;
    let mut pairs = selected.correlated_pairs;
    // Listed strongest first; the pruning rule itself walks the pairs in row-major order.
    pairs.sort_by(|a, b| b.r.abs().total_cmp(&a.r.abs()));
    if config.selection.correlation.is_none() {
        let t = CorrelationPruning::default().threshold;
        report.warnings.push(format!("correlation pruning is off; pairs listed at |r| >= {t}"));
    }
    report.correlated_pairs = pairs;
    report.pruned = selected.pruned;
    report.leakage = selected.leakage;
    report.warnings.extend(selected.warnings);
    let m = &selected.correlation;
    report.correlation = Some(CorrelationMatrix {
        features: names,
        rows: cleaned.kept.len(),
        matrix: m.rows().into_iter().map(|r| r.iter().map(|&v| Num(v)).collect()).collect(),
    });
    Ok(())
}

/// Rows equal to an earlier row (bitwise, with -0 = +0), by sorting row hashes.
pub fn duplicate_rows(x: ArrayView2<'_, f64>) -> usize {
    let n = x.nrows();
    let key = |v: f64| if v == 0.0 { 0u64 } else { v.to_bits() };
    let hashes: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| {
            // FNV-1a over the row's bit patterns.
            let mut h = 0xcbf29ce484222325u64;
            for &v in x.row(i) {
                h = (h ^ key(v)).wrapping_mul(0x100000001b3);
            }
            h
        })
        .collect();
    let cmp_rows = |a: usize, b: usize| {
        x.row(a)
            .iter()
            .zip(x.row(b))
            .map(|(p, q)| key(*p).cmp(&key(*q)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.par_sort_unstable_by(|&a, &b| hashes[a].cmp(&hashes[b]).then_with(|| cmp_rows(a, b)));
    order.windows(2).filter(|w| hashes[w[0]] == hashes[w[1]] && cmp_rows(w[0], w[1]).is_eq()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use outflow_io::Column;

    #[test]
    fn duplicates() {
        let x = array![[1.0, 0.0], [1.0, -0.0], [2.0, 0.0], [1.0, 0.0]];
        assert_eq!(duplicate_rows(x.view()), 2);
        assert_eq!(duplicate_rows(Array2Zero::zeros().view()), 0);
    }

    struct Array2Zero;
    impl Array2Zero {
        fn zeros() -> ndarray::Array2<f64> {
            ndarray::Array2::zeros((0, 3))
        }
    }

    #[test]
    fn empty_and_text_only_tables_do_not_fail() {
        let r = eda(&Table::default(), &PrepParams::default()).unwrap();
        assert_eq!(r.rows, 0);
        assert!(!r.warnings.is_empty());
        let t = Table::new(vec![Column::from_str_opt("s", [Some("a"), None, Some("b")])]).unwrap();
        let r = eda(&t, &PrepParams::default()).unwrap();
        assert_eq!(r.columns[0].stats.count, 2);
        assert_eq!(r.columns[0].distinct, Some(2));
        assert!(r.columns[0].stats.mean.is_none());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["columns"][0]["type"], "categorical");
        assert!(json["columns"][0]["mean"].is_null());
    }

    #[test]
    fn infinities_are_strings_in_json() {
        let t = Table::new(vec![Column::from_f64("x", vec![1.0, f64::INFINITY, 3.0])]).unwrap();
        let r = eda(&t, &PrepParams::default()).unwrap();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["columns"][0]["mean"], "inf");
        assert_eq!(json["columns"][0]["max"], "inf");
        assert_eq!(json["columns"][0]["non_finite"], 1);
    }
}
