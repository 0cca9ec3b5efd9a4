//! Shape and finiteness checks of input matrices, shared by every algorithm.

use ndarray::ArrayView2;

use crate::error::{InputError, Result};

/// Fails on a matrix without rows or columns, or with a NaN, infinite or too large value (naming the
/// first such cell in row-major order).
///
/// ```
/// use ndarray::array;
/// use outflow_core::{InputError, check_matrix};
/// assert!(check_matrix(array![[1.0, 2.0]].view()).is_ok());
/// let e = check_matrix(array![[1.0, 2.0], [3.0, f64::NAN]].view()).unwrap_err();
/// assert!(matches!(e, InputError::NonFinite { row: 1, col: 1, .. }));
/// ```
pub fn check_matrix(x: ArrayView2<'_, f64>) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(InputError::Empty { rows: x.nrows(), cols: x.ncols() });
    }
    check_finite(x)
}

/// The largest magnitude the algorithms accept. Distances, variances and kernels square their inputs:
/// beyond about 1.3e154 a square is infinite, and a sum of squares over many rows or columns needs room
/// below that.
pub const MAX_MAGNITUDE: f64 = 1e150;

/// Whether a value can be computed with: finite and within [`MAX_MAGNITUDE`].
#[inline]
pub fn is_usable(v: f64) -> bool {
    v.abs() <= MAX_MAGNITUDE
}

/// Fails on the first NaN, infinite or too large value (beyond [`MAX_MAGNITUDE`]; row-major order); an
/// empty matrix passes.
pub fn check_finite(x: ArrayView2<'_, f64>) -> Result<()> {
    for (i, row) in x.rows().into_iter().enumerate() {
        if let Some(j) = row.iter().position(|&v| !is_usable(v)) {
            let value = row[j];
            return Err(if value.is_finite() {
                InputError::TooLarge { row: i, col: j, value, limit: MAX_MAGNITUDE }
            } else {
                InputError::NonFinite { row: i, col: j, value }
            });
        }
    }
    Ok(())
}

/// Checks the data given to a fitted model: `n_features` columns and finite values. Zero rows pass (the
/// answer is then empty).
pub fn check_query(x: ArrayView2<'_, f64>, n_features: usize) -> Result<()> {
    check_width(x.ncols(), n_features)?;
    check_finite(x)
}

/// Checks a column count against the model's.
pub fn check_width(found: usize, expected: usize) -> Result<()> {
    if found == expected { Ok(()) } else { Err(InputError::WidthMismatch { expected, found }) }
}

/// Checks that a per-row input (`what`: labels, scores, ...) has one entry per row.
pub fn check_len(what: &str, rows: usize, found: usize) -> Result<()> {
    if rows == found { Ok(()) } else { Err(InputError::length(what, rows, found)) }
}

/// Checks that every value of a vector (`what`: scores, ...) is finite; the error's row is the index.
pub fn check_values(values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(InputError::NonFinite { row: i, col: 0, value: values[i] }),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;

    #[test]
    fn shapes_and_values() {
        let e = Array2::<f64>::zeros((0, 3));
        assert_eq!(check_matrix(e.view()), Err(InputError::Empty { rows: 0, cols: 3 }));
        assert!(check_query(e.view(), 3).is_ok());
        assert_eq!(check_query(e.view(), 2), Err(InputError::WidthMismatch { expected: 2, found: 3 }));
        let x = array![[1.0, f64::INFINITY]];
        assert_eq!(check_finite(x.view()), Err(InputError::NonFinite { row: 0, col: 1, value: f64::INFINITY }));
        assert!(check_len("labels", 3, 2).is_err() && check_len("labels", 3, 3).is_ok());
        assert!(check_values(&[1.0, f64::NAN]).is_err());
        let e = InputError::NonFinite { row: 1, col: 0, value: 1.0 / 0.0 }.offset_row(10);
        assert!(matches!(e, InputError::NonFinite { row: 11, .. }));
        // Finite but too large to square: named, with the limit.
        let x = array![[1.0, 2.0], [-1e200, 3.0]];
        let e = check_matrix(x.view()).unwrap_err();
        assert_eq!(e, InputError::TooLarge { row: 1, col: 0, value: -1e200, limit: MAX_MAGNITUDE });
        assert_eq!(e.to_string(), "value -1e200 at row 1, column 0 (0-based) is beyond ±1e150: its square overflows");
        assert!(check_matrix(array![[MAX_MAGNITUDE, -MAX_MAGNITUDE]].view()).is_ok());
    }
}
