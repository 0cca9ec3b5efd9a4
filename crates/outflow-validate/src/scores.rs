//! Davies–Bouldin and Calinski–Harabasz, as scikit-learn defines them, noise removed first.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::Result;
use outflow_core::sq_euclidean;

use crate::labels::{Clusters, Score, check_labelled, finite};

/// Rows per work unit of the parallel passes (fixed, so sums do not depend on the thread count).
const CHUNK: usize = 4096;

/// Per-cluster sums of rows (`k × d`), chunked and added in chunk order.
fn cluster_sums(x: ArrayView2<'_, f64>, cl: &Clusters) -> Vec<f64> {
    let (k, d) = (cl.k(), x.ncols());
    let parts: Vec<Vec<f64>> = cl
        .rows
        .par_chunks(CHUNK)
        .zip(cl.ids.par_chunks(CHUNK))
        .map(|(rows, ids)| {
            let mut s = vec![0.0; k * d];
            for (&r, &c) in rows.iter().zip(ids) {
                for (acc, v) in s[c * d..(c + 1) * d].iter_mut().zip(x.row(r)) {
                    *acc += v;
                }
            }
            s
        })
        .collect();
    add_parts(parts, k * d)
}

fn add_parts(parts: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    let mut total = vec![0.0; len];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// Cluster centroids (`k × d`) of the kept points.
fn centroids(x: ArrayView2<'_, f64>, cl: &Clusters) -> Vec<f64> {
    let d = x.ncols();
    let mut c = cluster_sums(x, cl);
    for (k, &size) in cl.sizes.iter().enumerate() {
        for v in &mut c[k * d..(k + 1) * d] {
            *v /= size as f64;
        }
    }
    c
}

/// Per-cluster sums of `f(row, centroid)` over the kept points (chunked, in chunk order).
fn per_cluster<F>(x: ArrayView2<'_, f64>, cl: &Clusters, cent: &[f64], f: F) -> Vec<f64>
where
    F: Fn(&[f64], &[f64]) -> f64 + Sync,
{
    let (k, d) = (cl.k(), x.ncols());
    let parts: Vec<Vec<f64>> = cl
        .rows
        .par_chunks(CHUNK)
        .zip(cl.ids.par_chunks(CHUNK))
        .map(|(rows, ids)| {
            let mut s = vec![0.0; k];
            let mut buf = vec![0.0; d];
            for (&r, &c) in rows.iter().zip(ids) {
                for (b, v) in buf.iter_mut().zip(x.row(r)) {
                    *b = *v;
                }
                s[c] += f(&buf, &cent[c * d..(c + 1) * d]);
            }
            s
        })
        .collect();
    add_parts(parts, k)
}

/// The Davies–Bouldin index (lower is better), scikit-learn's `davies_bouldin_score` on the non-noise
/// rows: `s_k` = mean Euclidean distance of cluster `k`'s points to its centroid, `M_ij` = centroid
/// distance, `DB = mean_i max_{j≠i} (s_i + s_j) / M_ij`. As scikit-learn: 0 when every `s_k` or every
/// `M_ij` is (close to) zero; a zero centroid distance makes that ratio 0 (it counts as infinitely far).
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]];
/// let db = outflow_validate::davies_bouldin(x.view(), &[0, 0, 1, 1]).unwrap();
/// assert!((db.value - 0.2).abs() < 1e-12); // (1 + 1) / 10
/// ```
pub fn davies_bouldin(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<Score> {
    check_labelled(x, labels)?;
    let cl = Clusters::new(labels);
    cl.require_scorable()?;
    let (k, d) = (cl.k(), x.ncols());
    let cent = centroids(x, &cl);
    let s: Vec<f64> = per_cluster(x, &cl, &cent, |a, b| sq_euclidean(a, b).sqrt())
        .iter()
        .zip(&cl.sizes)
        .map(|(t, &n)| t / n as f64)
        .collect();
    let m = |i: usize, j: usize| sq_euclidean(&cent[i * d..(i + 1) * d], &cent[j * d..(j + 1) * d]).sqrt();
    // numpy's isclose(v, 0): |v| ≤ 1e-8.
    let close0 = |v: f64| v.abs() <= 1e-8;
    if s.iter().all(|&v| close0(v)) || (0..k).all(|i| (0..k).all(|j| close0(m(i, j)))) {
        return Ok(cl.score(0.0));
    }
    let mut total = 0.0;
    for i in 0..k {
        let mut worst = 0.0f64;
        for j in 0..k {
            let mij = m(i, j);
            if mij != 0.0 {
                worst = worst.max((s[i] + s[j]) / mij);
            }
        }
        total += worst;
    }
    Ok(cl.score(finite(total / k as f64)?))
}

/// The Calinski–Harabasz index (variance ratio; higher is better), scikit-learn's
/// `calinski_harabasz_score` on the non-noise rows: `[B / (k − 1)] / [W / (n − k)]` with `B` the
/// between-cluster and `W` the within-cluster sum of squares (`n`, means: non-noise points only);
/// 1.0 when `W = 0`, as scikit-learn.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0], [2.0], [10.0], [12.0]];
/// let ch = outflow_validate::calinski_harabasz(x.view(), &[0, 0, 1, 1]).unwrap();
/// assert!((ch.value - 50.0).abs() < 1e-12); // B = 100, W = 4
/// ```
pub fn calinski_harabasz(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<Score> {
    check_labelled(x, labels)?;
    let cl = Clusters::new(labels);
    cl.require_scorable()?;
    let (k, d, n) = (cl.k(), x.ncols(), cl.n());
    let sums = cluster_sums(x, &cl);
    let mut mean = vec![0.0; d];
    for c in 0..k {
        for (m, v) in mean.iter_mut().zip(&sums[c * d..(c + 1) * d]) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    let cent = centroids(x, &cl);
    let mut extra = 0.0;
    for c in 0..k {
        extra += cl.sizes[c] as f64 * sq_euclidean(&cent[c * d..(c + 1) * d], &mean);
    }
    let intra: f64 = per_cluster(x, &cl, &cent, sq_euclidean).iter().sum();
    let value = if intra == 0.0 { 1.0 } else { extra * (n - k) as f64 / (intra * (k as f64 - 1.0)) };
    Ok(cl.score(finite(value)?))
}
