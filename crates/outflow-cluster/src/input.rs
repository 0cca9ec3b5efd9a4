//! Input checks of single query points (matrices are checked with `outflow_core`'s checks).

use outflow_core::{InputError, check_width};

use crate::error::{ClusterError, Result};

/// Checks one query point: `d` values, all finite (a non-finite value is reported at row 0).
pub(crate) fn check_point(q: &[f64], d: usize) -> Result<()> {
    check_width(q.len(), d)?;
    match q.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(col) => Err(InputError::NonFinite { row: 0, col, value: q[col] }.into()),
    }
}

/// An error of a single point's query, moved to row `i` of the batch.
pub(crate) fn at_row(e: ClusterError, i: usize) -> ClusterError {
    match e {
        ClusterError::Input(e) => ClusterError::Input(e.offset_row(i)),
        e => e,
    }
}
