//! Descriptive statistics with numpy's definitions: pairwise summation, linear-interpolation quantiles
//! (numpy's default `method="linear"`, including its interpolation formula), sample variance (ddof 1).

use serde::Serialize;

use outflow_io::opt_f64_or_string;

/// Sum by numpy's pairwise algorithm (blocks of 128, eight accumulators): the same rounding as
/// `np.sum` of a contiguous 1-D array, and error growth O(log n) instead of O(n).
pub fn pairwise_sum(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 8 {
        let mut s = 0.0;
        for &v in x {
            s += v;
        }
        s
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&x[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for k in 0..8 {
                r[k] += x[i + k];
            }
            i += 8;
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[i..] {
            s += v;
        }
        s
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&x[..n2]) + pairwise_sum(&x[n2..])
    }
}

/// Arithmetic mean (`np.mean`); NaN for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() { f64::NAN } else { pairwise_sum(x) / x.len() as f64 }
}

/// Variance with `ddof` delta degrees of freedom, two-pass like `np.var`; `None` when `len <= ddof`.
pub fn variance(x: &[f64], ddof: usize) -> Option<f64> {
    if x.len() <= ddof {
        return None;
    }
    let m = mean(x);
    let sq: Vec<f64> = x.iter().map(|&v| (v - m) * (v - m)).collect();
    Some(pairwise_sum(&sq) / (x.len() - ddof) as f64)
}

/// The `q`-quantile (`0 <= q <= 1`) of ascending-sorted values, exactly as `np.quantile(x, q)` with the
/// default linear method (virtual index `(n-1)q`, numpy's two-sided lerp). NaN for an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match quantile_plan(sorted.len(), q) {
        None => f64::NAN,
        Some((prev, next, t)) => lerp(sorted[prev], sorted[next], t),
    }
}

/// The two order statistics (0-based ranks) numpy interpolates between for the `q`-quantile of `n`
/// values, and the weight; `None` when `n == 0`.
fn quantile_plan(n: usize, q: f64) -> Option<(usize, usize, f64)> {
    if n == 0 {
        return None;
    }
    let virtual_index = (n - 1) as f64 * q;
    // numpy clamps the neighbour indexes, then takes gamma against the clamped (possibly -1) index.
    let (prev, next, prev_for_gamma) = if virtual_index >= (n - 1) as f64 {
        (n - 1, n - 1, -1.0)
    } else if virtual_index < 0.0 {
        (0, 0, 0.0)
    } else {
        let p = virtual_index.floor();
        (p as usize, p as usize + 1, p)
    };
    Some((prev, next, virtual_index - prev_for_gamma))
}

/// Quantiles (`qs`, fractions) and the median of unsorted values, equal to [`quantile_sorted`] and
/// [`median_sorted`] of the sorted values but in linear time: only the needed order statistics are
/// selected. `values` is reordered. Returns `(median, quantiles)`; NaN for an empty slice.
pub fn median_and_quantiles(values: &mut [f64], qs: &[f64]) -> (f64, Vec<f64>) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, vec![f64::NAN; qs.len()]);
    }
    let plans: Vec<(usize, usize, f64)> = qs.iter().filter_map(|&q| quantile_plan(n, q)).collect();
    let mut ranks: Vec<usize> = plans.iter().flat_map(|&(a, b, _)| [a, b]).chain([(n - 1) / 2, n / 2]).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut found = vec![0.0; ranks.len()];
    select_ranks(values, 0, &ranks, &mut found);
    let at = |r: usize| found[ranks.binary_search(&r).unwrap_or(0)];
    let median = if n % 2 == 1 { at(n / 2) } else { (at(n / 2 - 1) + at(n / 2)) / 2.0 };
    (median, plans.iter().map(|&(a, b, t)| lerp(at(a), at(b), t)).collect())
}

/// Puts the values of the given ascending ranks (relative to `offset`) into `out`, by recursive selection.
fn select_ranks(v: &mut [f64], offset: usize, ranks: &[usize], out: &mut [f64]) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let k = ranks[mid] - offset;
    let (left, kth, right) = v.select_nth_unstable_by(k, f64::total_cmp);
    out[mid] = *kth;
    let (lo_out, rest) = out.split_at_mut(mid);
    select_ranks(left, offset, &ranks[..mid], lo_out);
    select_ranks(right, offset + k + 1, &ranks[mid + 1..], &mut rest[1..]);
}

/// numpy's `_lerp`: `a + (b-a)t`, or `b - (b-a)(1-t)` when `t >= 0.5` (monotone and exact at the ends).
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 { b - d * (1.0 - t) } else { a + d * t }
}

/// The median of ascending-sorted values as `np.median`: the middle value, or the mean of the two
/// middle values. NaN for an empty slice.
pub fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Skewness as the seed notebook computes it: `mean(((x - mean) / std)^3)` with the population
/// standard deviation (the biased Fisher–Pearson coefficient, `scipy.stats.skew(bias=True)`);
/// `None` when the standard deviation is 0 or NaN, or there are no values (the seed skips those columns).
pub fn skewness(x: &[f64]) -> Option<f64> {
    let m = mean(x);
    let sd = variance(x, 0)?.sqrt();
    // `!(sd > 0)` also skips a NaN spread (infinite values), as the seed's `if std > 0` does.
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

/// Summary statistics of one numeric sample (what `pandas.describe` prints, plus the seed's extras).
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
    sorted.sort_unstable_by(f64::total_cmp);
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
    fn quantiles_match_numpy_examples() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.25), 1.75);
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(median_sorted(&s), 2.5);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
        assert!(quantile_sorted(&[], 0.3).is_nan());
    }

    #[test]
    fn selection_equals_sorting() {
        let mut s = 12345u64;
        for n in [1usize, 2, 3, 4, 5, 8, 17, 100, 1001] {
            let mut v: Vec<f64> = (0..n)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s % 97) as f64 - 40.0
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let qs = [0.25, 0.75, 0.1, 0.9, 0.0, 1.0];
            let (m, q) = median_and_quantiles(&mut v, &qs);
            assert_eq!(m, median_sorted(&sorted));
            for (got, &f) in q.iter().zip(&qs) {
                assert_eq!(*got, quantile_sorted(&sorted, f));
            }
        }
    }

    #[test]
    fn pairwise_sum_is_close_to_exact() {
        let x: Vec<f64> = (0..1000).map(|i| i as f64 * 0.1).collect();
        assert!((pairwise_sum(&x) - 49950.0).abs() < 1e-9);
        assert_eq!(pairwise_sum(&[]), 0.0);
    }

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
