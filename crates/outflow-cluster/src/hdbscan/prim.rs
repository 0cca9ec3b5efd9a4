//! Exact O(n²) fallbacks that need no spatial index: k-th neighbour distances and Prim's MST with
//! distances computed on the fly (O(n) memory) or read from a precomputed matrix. Used for the metrics
//! without a kd-tree (cosine, general Minkowski, haversine, precomputed) and where measurement shows the
//! tree no longer prunes (high dimensions).

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::dedup::{kth_of_mass, weighted_kth};
use crate::metric::Metric;

/// Distance from each row to its `k`-th nearest row, the row itself included (k = 1 → 0); rows may carry
/// a mass (`mass`: multiplicities, or sample weights), and the distance is then the one at which the
/// cumulative mass of the nearest rows reaches `k`.
pub(crate) fn kth_distances(x: ArrayView2<'_, f64>, metric: Metric, k: usize, mass: Option<&[f64]>) -> Vec<f64> {
    let n = x.nrows();
    let kk = k.min(n);
    (0..n)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(n),
            |buf: &mut Vec<(f64, f64)>, i| {
                buf.clear();
                let w = |j: usize| mass.map_or(1.0, |w| w[j]);
                buf.extend((0..n).map(|j| (if i == j { 0.0 } else { between(x, metric, i, j) }, w(j))));
                // With masses of at least 1 the k nearest rows hold mass ≥ k: sort just those and walk
                // them. Lighter rows (sample weights below 1) may need more: then all rows are sorted.
                buf.select_nth_unstable_by(kk - 1, |a, b| a.0.total_cmp(&b.0));
                let head = &mut buf[..kk];
                head.sort_by(|a, b| a.0.total_cmp(&b.0));
                kth_of_mass(head.iter().copied(), k).unwrap_or_else(|| {
                    buf.sort_by(|a, b| a.0.total_cmp(&b.0));
                    weighted_kth(buf.iter().copied(), k)
                })
            },
        )
        .collect()
}

/// The distance between rows `i` and `j`: of the vectors, or read from a precomputed matrix.
#[inline(always)]
fn between(x: ArrayView2<'_, f64>, metric: Metric, i: usize, j: usize) -> f64 {
    if metric == Metric::Precomputed { row(x, i)[j] } else { metric.distance(row(x, i), row(x, j)) }
}

#[inline(always)]
fn row<'a>(x: ArrayView2<'a, f64>, i: usize) -> &'a [f64] {
    let n = x.ncols();
    &x.to_slice().expect("standard layout")[i * n..(i + 1) * n]
}

/// Prim's algorithm on the mutual-reachability graph; returns `(a, b, weight)` edges in the order added.
/// Ties go to the smallest index.
pub(crate) fn prim_mst(x: ArrayView2<'_, f64>, metric: Metric, core: &[f64]) -> Vec<(u32, u32, f64)> {
    let n = x.nrows();
    let mut edges = Vec::with_capacity(n.saturating_sub(1));
    if n < 2 {
        return edges;
    }
    let mut in_tree = vec![false; n];
    let mut best = vec![f64::INFINITY; n];
    let mut from = vec![0u32; n];
    let mut current = 0usize;
    in_tree[0] = true;
    for _ in 1..n {
        let cc = core[current];
        best.par_iter_mut().zip(from.par_iter_mut()).enumerate().with_min_len(512).for_each(|(v, (b, f))| {
            if !in_tree[v] {
                let w = cc.max(core[v]).max(between(x, metric, current, v));
                if w < *b {
                    *b = w;
                    *f = current as u32;
                }
            }
        });
        let (next, w) = best
            .par_iter()
            .enumerate()
            .with_min_len(4096)
            .filter(|(v, _)| !in_tree[*v])
            .map(|(v, &w)| (v, w))
            .reduce(|| (usize::MAX, f64::INFINITY), |a, b| if (b.1, b.0) < (a.1, a.0) { b } else { a });
        in_tree[next] = true;
        edges.push((from[next], next as u32, w));
        current = next;
    }
    edges
}
