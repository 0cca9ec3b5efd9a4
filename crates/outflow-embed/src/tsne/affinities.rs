//! The joint probabilities `P` of t-SNE from the `k` nearest neighbours of every row (scikit-learn's
//! `_joint_probabilities_nn`): a Gaussian per row whose width gives the asked perplexity, then
//! symmetrised and normalised.

use ndarray::ArrayView2;
use rayon::prelude::*;

use outflow_cluster::{Metric, NearestNeighbors};

use crate::error::Result;

/// Binary-search steps and entropy tolerance (scikit-learn's `_binary_search_perplexity`).
const STEPS: usize = 100;
const TOLERANCE: f64 = 1e-5;
/// Floor of a row's probability sum (single-precision `1e-8`, as scikit-learn's `EPSILON_DBL`).
const MIN_SUM: f64 = 1e-8;

/// A sparse symmetric matrix in compressed rows: row `i`'s columns are `indices[indptr[i]..indptr[i + 1]]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SparseP {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

/// The conditional probabilities `p_{j|i}` of one row from its squared neighbour distances: the precision
/// `β` is searched until the entropy (in nats) is `ln(perplexity)`.
fn conditional_row(sq: &[f32], desired_entropy: f64) -> Vec<f64> {
    let mut p = vec![0.0f64; sq.len()];
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    for _ in 0..STEPS {
        let mut sum = 0.0;
        for (pj, &d) in p.iter_mut().zip(sq) {
            *pj = (-f64::from(d) * beta).exp();
            sum += *pj;
        }
        if sum == 0.0 {
            sum = MIN_SUM;
        }
        let mut dist_p = 0.0;
        for (pj, &d) in p.iter_mut().zip(sq) {
            *pj /= sum;
            dist_p += f64::from(d) * *pj;
        }
        let diff = sum.ln() + beta * dist_p - desired_entropy;
        if diff.abs() <= TOLERANCE {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi == f64::INFINITY { beta * 2.0 } else { (beta + hi) / 2.0 };
        } else {
            hi = beta;
            beta = if lo == f64::NEG_INFINITY { beta / 2.0 } else { (beta + lo) / 2.0 };
        }
    }
    p
}

/// `P = (C + Cᵀ) / sum` for the conditional probabilities `C` of the `k` nearest neighbours of every row.
pub(crate) fn joint_probabilities(x: ArrayView2<'_, f64>, perplexity: f64, k: usize) -> Result<SparseP> {
    let n = x.nrows();
    let nn = NearestNeighbors::fit(x, Metric::Euclidean)?;
    let (dist, idx) = nn.kneighbors_self(k)?;
    let desired = perplexity.ln();
    let rows: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let sq: Vec<f32> = dist.row(i).iter().map(|&d| (d * d) as f32).collect();
            conditional_row(&sq, desired)
        })
        .collect();
    // Every entry once as (i, j) and once as (j, i); sorted by row then column, equal pairs summed.
    let mut triplets: Vec<(u32, u32, f64)> = Vec::with_capacity(2 * n * k);
    for (i, p) in rows.iter().enumerate() {
        for (&j, &v) in idx.row(i).iter().zip(p) {
            triplets.push((i as u32, j as u32, v));
            triplets.push((j as u32, i as u32, v));
        }
    }
    triplets.par_sort_unstable_by_key(|&(i, j, _)| (i, j));
    let mut indptr = vec![0usize; n + 1];
    let mut indices = Vec::with_capacity(triplets.len());
    let mut sums: Vec<f64> = Vec::with_capacity(triplets.len());
    let mut last = None;
    for (i, j, v) in triplets {
        if last == Some((i, j)) {
            *sums.last_mut().expect("an entry precedes its duplicate") += v;
        } else {
            indices.push(j);
            sums.push(v);
            indptr[i as usize + 1] += 1;
            last = Some((i, j));
        }
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    let total = outflow_core::stats::pairwise_sum(&sums).max(f64::EPSILON);
    let values = sums.iter().map(|v| (v / total) as f32).collect();
    Ok(SparseP { indptr, indices, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reaches_its_perplexity() {
        let sq: Vec<f32> = (1..=40).map(|i| (i as f32 * 0.37).powi(2)).collect();
        for perplexity in [2.0, 5.0, 12.0] {
            let p = conditional_row(&sq, f64::ln(perplexity));
            let entropy: f64 = -p.iter().filter(|&&v| v > 0.0).map(|v| v * v.ln()).sum::<f64>();
            assert!((entropy.exp() - perplexity).abs() < 1e-3 * perplexity, "{perplexity}: {}", entropy.exp());
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn joint_probabilities_are_symmetric_and_sum_to_one() {
        let x = ndarray::Array2::from_shape_fn((60, 3), |(i, j)| ((i * 13 + j * 7) % 17) as f64 + 0.01 * i as f64);
        let p = joint_probabilities(x.view(), 5.0, 16).unwrap();
        let get = |i: usize, j: usize| {
            let r = p.indptr[i]..p.indptr[i + 1];
            p.indices[r.clone()].iter().position(|&c| c as usize == j).map(|k| p.values[r.start + k])
        };
        let sum: f64 = p.values.iter().map(|&v| f64::from(v)).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        for i in 0..60 {
            for k in p.indptr[i]..p.indptr[i + 1] {
                let j = p.indices[k] as usize;
                assert_ne!(i, j);
                assert_eq!(get(j, i), Some(p.values[k]));
            }
        }
    }
}
