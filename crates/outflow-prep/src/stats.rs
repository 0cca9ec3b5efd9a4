//! What EDA reports of a numeric column, with numpy's and scipy's definitions: `describe`, skewness and
//! Tukey's IQR outliers. The building blocks (pairwise sums, numpy's quantiles) are
//! [`outflow_core::stats`].

use outflow_core::stats::{mean, quantile_sorted, variance};
use serde::Serialize;

use outflow_io::opt_f64_or_string;

/// Skewness `mean(((x - mean) / std)^3)` with the population
/// standard deviation (the biased Fisher–Pearson coefficient, `scipy.stats.skew(bias=True)`);
/// `None` when the standard deviation is 0 or NaN, or there are no values (such columns have no skewness to report).
pub fn skewness(x: &[f64]) -> Option<f64> {
    let m = mean(x);
    let sd = variance(x, 0)?.sqrt();
    // A NaN spread (infinite values) has no skewness either.
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let cubes: Vec<f64> = x.iter().map(|&v| (v - m) / sd).map(|z| z * z * z).collect();
    Some(mean(&cubes))
}

/// Values outside `[Q1 - 1.5 IQR, Q3 + 1.5 IQR]` (Tukey's rule, quartiles by [`quantile_sorted`]).
pub fn iqr_outliers_sorted(sorted: &[f64]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    let q1 = quantile_sorted(sorted, 0.25);
    let q3 = quantile_sorted(sorted, 0.75);
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    sorted.iter().filter(|&&v| v < lo || v > hi).count()
}

/// Summary statistics of one numeric sample (what `pandas.describe` prints, plus skewness and IQR outliers).
///
/// `None` means undefined (no values; one value for `std` and `variance`; zero spread for `skewness`).
/// A computed non-finite value (e.g. a mean of `inf`) stays non-finite and serialises as a string.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Describe {
    /// Number of values.
    pub count: usize,
    /// Mean.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof 1).
    #[serde(serialize_with = "opt_f64_or_string")]
    pub std: Option<f64>,
    /// Minimum.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub min: Option<f64>,
    /// 25th percentile.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub p25: Option<f64>,
    /// Median.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub p50: Option<f64>,
    /// 75th percentile.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub p75: Option<f64>,
    /// Maximum.
    #[serde(serialize_with = "opt_f64_or_string")]
    pub max: Option<f64>,
    /// Skewness, see [`skewness`].
    #[serde(serialize_with = "opt_f64_or_string")]
    pub skewness: Option<f64>,
    /// Count of IQR-rule outliers, see [`iqr_outliers_sorted`].
    pub iqr_outliers: Option<usize>,
    /// Sample variance (ddof 1).
    #[serde(serialize_with = "opt_f64_or_string")]
    pub variance: Option<f64>,
}

/// Describes a sample. NaN values must have been removed by the caller (they count as missing).
pub fn describe(values: &[f64]) -> Describe {
    let mut sorted = values.to_vec();
    outflow_core::stats::sort_floats(&mut sorted);
    let some = |v: f64| (!values.is_empty()).then_some(v);
    let var = variance(values, 1);
    Describe {
        count: values.len(),
        mean: some(mean(values)),
        std: var.map(f64::sqrt),
        min: sorted.first().copied(),
        p25: some(quantile_sorted(&sorted, 0.25)),
        p50: some(quantile_sorted(&sorted, 0.5)),
        p75: some(quantile_sorted(&sorted, 0.75)),
        max: sorted.last().copied(),
        skewness: skewness(values),
        iqr_outliers: some(0.0).map(|_| iqr_outliers_sorted(&sorted)),
        variance: var,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_edge_cases() {
        let d = describe(&[]);
        assert_eq!(d.count, 0);
        assert!(d.mean.is_none() && d.p50.is_none() && d.iqr_outliers.is_none());
        let d = describe(&[3.0]);
        assert_eq!(d.std, None);
        assert_eq!(d.skewness, None);
        let d = describe(&[1.0, f64::INFINITY]);
        assert_eq!(d.mean, Some(f64::INFINITY));
        assert!(d.std.unwrap().is_nan());
        let d = describe(&[1.0, 1.0, 1.0, 1.0, 100.0]);
        assert_eq!(d.iqr_outliers, Some(1));
        assert_eq!(d.p50, Some(1.0));
    }
}
