//! Column means, centred cross-products, covariance and Pearson correlation of an `n × p` matrix
//! (rows are observations), fast and deterministic.
//!
//! Two passes over the data (means first, then cross-products about them: no cancellation with large
//! offsets such as timestamps). The rows are cut into fixed blocks of [`BLOCK_ROWS`]; in the second pass
//! each block is centred into a small row-major buffer that stays in cache, and the lower triangle of its
//! Gram matrix is accumulated with faer's sequential (triangular) matmul; blocks are grouped into fixed
//! super-blocks run in parallel with rayon, and the partial sums are added in block order. The cut does
//! not depend on the number of threads, so neither do the results (bit for bit).

use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use outflow_core::stats::pairwise_sum;
use outflow_core::{InputError, check_finite};

use crate::error::Result;

/// Rows per block: 4096 × 70 features is a 2.3 MB centred buffer.
pub const BLOCK_ROWS: usize = 4096;
/// Blocks per parallel task.
const BLOCKS_PER_TASK: usize = 4;

/// Means and centred cross-products `Σ (x_i - mean)(x_j - mean)` of the columns of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// Rows.
    pub n: usize,
    /// Column means.
    pub mean: Vec<f64>,
    /// `p × p` centred cross-product matrix (symmetric).
    pub cross: Array2<f64>,
    /// Columns whose values are all equal (their correlations are undefined).
    pub constant: Vec<bool>,
}

impl Moments {
    /// Computes the moments of `x`; every value must be finite.
    pub fn of(x: ArrayView2<'_, f64>) -> Result<Moments> {
        let (n, p) = x.dim();
        let n_blocks = n.div_ceil(BLOCK_ROWS);
        let rows = |b: usize| b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n);

        // Pass 1: per-block column sums and a finiteness check; block sums combined pairwise, in order.
        let partial: Vec<(Vec<f64>, bool)> = (0..n_blocks)
            .into_par_iter()
            .map(|b| {
                let mut sums = vec![0.0; p];
                let mut finite = true;
                for_rows(x, rows(b), |row| {
                    for (s, &v) in sums.iter_mut().zip(row) {
                        finite &= v.is_finite();
                        *s += v;
                    }
                });
                (sums, finite)
            })
            .collect();
        if partial.iter().any(|(_, finite)| !finite) {
            check_finite(x)?;
        }
        let mean: Vec<f64> = (0..p)
            .map(|j| {
                let block_sums: Vec<f64> = partial.iter().map(|s| s.0[j]).collect();
                if n == 0 { f64::NAN } else { pairwise_sum(&block_sums) / n as f64 }
            })
            .collect();

        // Pass 2: each block centred into a row-major buffer (also tracking minima and maxima), then the
        // lower triangle of its Gram matrix with a sequential faer matmul; super-blocks summed in order.
        let n_tasks = n_blocks.div_ceil(BLOCKS_PER_TASK);
        let partial: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = (0..n_tasks)
            .into_par_iter()
            .map(|t| {
                let mut acc = vec![0.0; p * p];
                let (mut lo, mut hi) = (vec![f64::INFINITY; p], vec![f64::NEG_INFINITY; p]);
                let mut buf = vec![0.0; BLOCK_ROWS * p];
                for b in t * BLOCKS_PER_TASK..((t + 1) * BLOCKS_PER_TASK).min(n_blocks) {
                    let r = rows(b);
                    let m = r.len();
                    let mut out = buf.chunks_exact_mut(p.max(1));
                    for_rows(x, r, |row| {
                        let Some(d) = out.next() else { return };
                        for ((((d, &v), &mu), l), h) in d.iter_mut().zip(row).zip(&mean).zip(&mut lo).zip(&mut hi) {
                            *d = v - mu;
                            *l = if v < *l { v } else { *l };
                            *h = if v > *h { v } else { *h };
                        }
                    });
                    let c = MatRef::from_row_major_slice(&buf[..m * p], m, p);
                    let dst = MatMut::from_column_major_slice_mut(&mut acc, p, p);
                    // The product is symmetric: compute the lower triangle only (half the flops).
                    triangular::matmul(
                        dst,
                        BlockStructure::TriangularLower,
                        Accum::Add,
                        c.transpose(),
                        BlockStructure::Rectangular,
                        c,
                        BlockStructure::Rectangular,
                        1.0,
                        Par::Seq,
                    );
                }
                (acc, lo, hi)
            })
            .collect();
        let mut cross = Array2::<f64>::zeros((p, p));
        let (mut lo, mut hi) = (vec![f64::INFINITY; p], vec![f64::NEG_INFINITY; p]);
        for (part, l, h) in &partial {
            for j in 0..p {
                lo[j] = lo[j].min(l[j]);
                hi[j] = hi[j].max(h[j]);
                for i in j..p {
                    // Column-major p × p with the lower triangle filled: entry (i, j) at j * p + i.
                    cross[[i, j]] += part[j * p + i];
                }
            }
        }
        for i in 0..p {
            for j in i + 1..p {
                cross[[i, j]] = cross[[j, i]];
            }
        }
        let constant: Vec<bool> = (0..p).map(|j| n == 0 || lo[j] == hi[j]).collect();
        Ok(Moments { n, mean, cross, constant })
    }

    /// Covariance with `ddof` (1 for the sample covariance, as `np.cov`); needs `n > ddof`.
    pub fn covariance(&self, ddof: usize) -> Result<Array2<f64>> {
        if self.n <= ddof {
            return Err(InputError::too_few_rows("a covariance", ddof + 1, self.n).into());
        }
        Ok(&self.cross / (self.n - ddof) as f64)
    }

    /// Per-column variance with `ddof`.
    pub fn variances(&self, ddof: usize) -> Result<Vec<f64>> {
        if self.n <= ddof {
            return Err(InputError::too_few_rows("a variance", ddof + 1, self.n).into());
        }
        Ok((0..self.mean.len()).map(|j| self.cross[[j, j]] / (self.n - ddof) as f64).collect())
    }

    /// Pearson correlation matrix (as `np.corrcoef(x, rowvar=False)`, clipped to [-1, 1]). Rows and
    /// columns of constant columns are NaN, diagonal included, as numpy gives for them; the diagonal
    /// of the others is exactly 1.
    pub fn correlation(&self) -> Result<Array2<f64>> {
        let p = self.mean.len();
        if self.n < 2 {
            return Err(InputError::too_few_rows("a correlation", 2, self.n).into());
        }
        let cov = self.covariance(1)?;
        let sd: Vec<f64> = (0..p).map(|j| cov[[j, j]].sqrt()).collect();
        let mut r = Array2::<f64>::from_elem((p, p), f64::NAN);
        for i in 0..p {
            if self.constant[i] || sd[i] == 0.0 {
                continue;
            }
            r[[i, i]] = 1.0;
            for j in i + 1..p {
                if self.constant[j] || sd[j] == 0.0 {
                    continue;
                }
                let v = (cov[[i, j]] / sd[i] / sd[j]).clamp(-1.0, 1.0);
                r[[i, j]] = v;
                r[[j, i]] = v;
            }
        }
        Ok(r)
    }
}

/// Pearson correlation matrix of the columns of `x` (see [`Moments::correlation`]).
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0, 2.0, 5.0], [2.0, 4.0, 5.0], [3.0, 7.0, 5.0]];
/// let r = outflow_prep::correlation_matrix(x.view()).unwrap();
/// assert!((r[[0, 1]] - 0.9933992677987828).abs() < 1e-15);
/// assert!(r[[0, 2]].is_nan()); // the third column is constant
/// ```
pub fn correlation_matrix(x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    Moments::of(x)?.correlation()
}

/// Pearson correlation of two equally long samples; NaN when either is constant or shorter than 2.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return f64::NAN;
    }
    let (x, y) = (&x[..n], &y[..n]);
    let mx = pairwise_sum(x) / n as f64;
    let my = pairwise_sum(y) / n as f64;
    let dx: Vec<f64> = x.iter().map(|v| v - mx).collect();
    let dy: Vec<f64> = y.iter().map(|v| v - my).collect();
    let sxy = pairwise_sum(&dx.iter().zip(&dy).map(|(a, b)| a * b).collect::<Vec<_>>());
    let sxx = pairwise_sum(&dx.iter().map(|a| a * a).collect::<Vec<_>>());
    let syy = pairwise_sum(&dy.iter().map(|a| a * a).collect::<Vec<_>>());
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / sxx.sqrt() / syy.sqrt()).clamp(-1.0, 1.0)
}

/// Calls `f` on each row of `rows` as a slice: borrowed from a row-major array, copied otherwise.
#[inline]
fn for_rows(x: ArrayView2<'_, f64>, rows: std::ops::Range<usize>, mut f: impl FnMut(&[f64])) {
    let p = x.ncols();
    match x.as_slice() {
        Some(flat) if p > 0 => flat[rows.start * p..rows.end * p].chunks_exact(p).for_each(f),
        _ => {
            let mut row = vec![0.0; p];
            for i in rows {
                row.iter_mut().zip(x.row(i)).for_each(|(d, &v)| *d = v);
                f(&row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_a_direct_computation() {
        let x = array![[1.0, 10.0, 3.0], [2.0, 8.0, 3.0], [4.0, 9.0, 3.0], [8.0, 1.0, 3.0]];
        let m = Moments::of(x.view()).unwrap();
        assert_eq!(m.constant, vec![false, false, true]);
        let r = m.correlation().unwrap();
        let a: Vec<f64> = x.column(0).to_vec();
        let b: Vec<f64> = x.column(1).to_vec();
        assert!((r[[0, 1]] - pearson(&a, &b)).abs() < 1e-15);
        assert!(r[[2, 2]].is_nan() && r[[0, 2]].is_nan());
        assert_eq!(r[[0, 0]], 1.0);
        assert_eq!(m.variances(1).unwrap()[2], 0.0);
    }

    #[test]
    fn many_blocks_and_errors() {
        let n = BLOCK_ROWS * 9 + 17;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 13) % 101) as f64 + j as f64 * 1e6);
        let m = Moments::of(x.view()).unwrap();
        let xs: Vec<Vec<f64>> = (0..3).map(|j| x.column(j).to_vec()).collect();
        let r = m.correlation().unwrap();
        assert!((r[[0, 2]] - pearson(&xs[0], &xs[2])).abs() < 1e-12);
        let bad = array![[1.0, f64::NAN]];
        assert!(matches!(
            Moments::of(bad.view()),
            Err(crate::PrepError::Input(InputError::NonFinite { row: 0, col: 1, .. }))
        ));
        let one = array![[1.0, 2.0]];
        assert!(Moments::of(one.view()).unwrap().correlation().is_err());
        let empty = Array2::<f64>::zeros((0, 2));
        assert!(Moments::of(empty.view()).unwrap().correlation().is_err());
    }
}
