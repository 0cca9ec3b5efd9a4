//! Input checks shared by every algorithm.

use ndarray::ArrayView2;

use crate::error::{ClusterError, Result};

/// Fails on an empty matrix or a NaN / infinite value (naming the first such cell).
pub fn check_finite(x: ArrayView2<'_, f64>) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(ClusterError::EmptyInput(format!("{} rows × {} columns", x.nrows(), x.ncols())));
    }
    for (i, row) in x.rows().into_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(ClusterError::NonFinite { row: i, col: j });
        }
    }
    Ok(())
}
