//! Input validation and the column-major copy the tree builder works on.

use ndarray::ArrayView2;

use crate::error::{ExplainError, Result};

/// Checks that `x` is non-empty and finite.
pub(crate) fn check_matrix(x: ArrayView2<'_, f64>) -> Result<()> {
    if x.nrows() == 0 {
        return Err(ExplainError::Empty("no rows".into()));
    }
    if x.ncols() == 0 {
        return Err(ExplainError::Empty("no feature columns".into()));
    }
    check_finite(x)
}

/// Checks that every value of `x` is finite.
pub(crate) fn check_finite(x: ArrayView2<'_, f64>) -> Result<()> {
    for ((row, j), &v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(ExplainError::NonFinite { column: format!("#{j}"), row, value: v });
        }
    }
    Ok(())
}

/// Checks a model's feature count against an input matrix.
pub(crate) fn check_features(expected: usize, x: ArrayView2<'_, f64>) -> Result<()> {
    if x.ncols() != expected {
        return Err(ExplainError::FeatureMismatch { expected, got: x.ncols() });
    }
    check_finite(x)
}

/// Checks that a per-row input has one entry per feature row.
pub(crate) fn check_rows(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(ExplainError::RowMismatch { what: what.to_owned(), expected, got });
    }
    Ok(())
}

/// Sorted distinct labels and each row's class index into them.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub classes: Vec<i64>,
    pub y: Vec<u32>,
}

/// Encodes labels as indices into their sorted distinct values; needs at least two classes.
pub(crate) fn encode_labels(labels: &[i64]) -> Result<Encoded> {
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    match classes.len() {
        0 => return Err(ExplainError::Empty("no labels".into())),
        1 => return Err(ExplainError::SingleClass { class: classes[0] }),
        _ => {}
    }
    let y = labels.iter().map(|l| classes.binary_search(l).expect("label is a class") as u32).collect();
    Ok(Encoded { classes, y })
}

/// A column-major copy of a feature matrix.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub n_rows: usize,
    pub n_features: usize,
    data: Vec<f64>,
}

impl Columns {
    pub fn new(x: ArrayView2<'_, f64>) -> Self {
        let (n_rows, n_features) = x.dim();
        let mut data = Vec::with_capacity(n_rows * n_features);
        for j in 0..n_features {
            data.extend(x.column(j).iter().copied());
        }
        Columns { n_rows, n_features, data }
    }

    #[inline]
    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.n_rows..(j + 1) * self.n_rows]
    }
}

/// Percentile with linear interpolation between closest ranks (NumPy's default); `sorted` ascending.
pub(crate) fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty());
    let rank = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    if lo == hi { sorted[lo] } else { sorted[lo] + (sorted[hi] - sorted[lo]) * frac }
}

/// Median of unsorted values (mean of the two middle values for even counts), `NaN` when empty.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile_sorted(&v, 50.0), 2.5);
        assert!((percentile_sorted(&v, 95.0) - 3.85).abs() < 1e-12);
        assert_eq!(percentile_sorted(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn encode_needs_two_classes() {
        assert!(matches!(encode_labels(&[3, 3]), Err(ExplainError::SingleClass { class: 3 })));
        let e = encode_labels(&[5, -1, 5, 0]).unwrap();
        assert_eq!(e.classes, vec![-1, 0, 5]);
        assert_eq!(e.y, vec![2, 0, 2, 1]);
    }
}
