//! How well an embedding keeps neighbourhoods: scikit-learn's `trustworthiness`.

use ndarray::ArrayView2;
use rayon::prelude::*;

use outflow_cluster::{Metric, NearestNeighbors};
use outflow_core::{InputError, check_len, check_matrix};

use crate::error::Result;

/// Trustworthiness (Venna & Kaski 2001), as scikit-learn's `sklearn.manifold.trustworthiness` with the
/// Euclidean metric: `1 − 2 / (n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ Nᵏ(i) in the embedding} max(0, r(i, j) − k)`,
/// where `r(i, j)` is the rank of `j` among `i`'s neighbours in the input space. 1 when every embedded
/// neighbourhood is an input neighbourhood. `k` must be below `n / 2`.
///
/// Exact: each row ranks all others in the input space (O(n²) time over all rows, O(n) memory per row).
///
/// ```
/// use ndarray::array;
/// use outflow_embed::trustworthiness;
/// let x = array![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [5.0, 0.0]];
/// let line = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]];
/// assert_eq!(trustworthiness(x.view(), line.view(), 2).unwrap(), 1.0);
/// ```
pub fn trustworthiness(x: ArrayView2<'_, f64>, embedding: ArrayView2<'_, f64>, k: usize) -> Result<f64> {
    check_matrix(x)?;
    check_matrix(embedding)?;
    check_len("embedding", x.nrows(), embedding.nrows())?;
    let n = x.nrows();
    if k == 0 || 2 * k >= n {
        return Err(
            InputError::param("n_neighbors", format!("{k} must be at least 1 and below rows / 2 ({n} rows)")).into()
        );
    }
    let (_, embedded) = NearestNeighbors::fit(embedding, Metric::Euclidean)?.kneighbors_self(k)?;
    let penalty: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(16)
        .map(|i| {
            let xi = x.row(i);
            let d: Vec<f64> =
                (0..n)
                    .map(|j| {
                        if j == i {
                            f64::INFINITY
                        } else {
                            xi.iter().zip(x.row(j)).map(|(a, b)| (a - b) * (a - b)).sum()
                        }
                    })
                    .collect();
            embedded
                .row(i)
                .iter()
                .map(|&j| {
                    // Rank from 1: rows strictly closer, then equal rows before `j` in row order (a stable sort).
                    let r = d.iter().enumerate().filter(|&(l, &v)| v < d[j] || (v == d[j] && l < j)).count() + 1;
                    r.saturating_sub(k) as f64
                })
                .sum()
        })
        .collect();
    let t: f64 = penalty.iter().sum();
    let (n, k) = (n as f64, k as f64);
    Ok(1.0 - t * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))
}
