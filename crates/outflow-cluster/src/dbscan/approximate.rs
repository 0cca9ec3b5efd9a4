//! DBSCAN on an approximate k-nearest-neighbour graph ([`Neighbors::Approximate`](crate::Neighbors)).
//!
//! The ε-neighbourhood of a point is read from the graph: its listed neighbours and the points that
//! list it (reverse edges), within ε. A point is core when their mass with its own reaches
//! `min_samples` — exact whenever the graph holds the point's true `min_samples − 1` nearest, which a
//! list of `graph_neighbors ≥ min_samples` entries does up to the graph's recall. Cores joined by such
//! an edge are one cluster; components the graph leaves apart are joined when the closest pair found
//! between them (alternating scans, as the approximate HDBSCAN joins its components) lies within ε.
//! Border points take the smallest label among their core neighbours in the graph, clusters are
//! numbered by their smallest row, as the exact fit numbers them.
//!
//! What differs from the exact fit: a point whose ε-ball holds more than `graph_neighbors` points sees
//! only those the graph lists (enough to be core; a border point may miss a core of a smaller label),
//! and the graph's misses can leave a point just short of `min_samples`.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::grow::{AtomicUf, PointLabels, component_labels};
use crate::dedup::weighted_kth;
use crate::metric::Metric;
use crate::nndescent::{self, KnnGraph};

/// Each unique point's ε-neighbours in the graph (listed or listing it, within `eps`), as CSR offsets
/// and ids.
fn eps_neighbours(graph: &KnnGraph, n: usize, eps: f64) -> (Vec<usize>, Vec<u32>) {
    let mut pairs: Vec<(u32, u32)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            graph
                .neighbors(i)
                .filter(|&(_, d)| d <= eps)
                .flat_map(move |(j, _)| [(i as u32, j as u32), (j as u32, i as u32)])
                .collect::<Vec<_>>()
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut offsets = vec![0usize; n + 1];
    for &(i, _) in &pairs {
        offsets[i as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    (offsets, pairs.into_iter().map(|(_, j)| j).collect())
}

/// The distance to each unique point's `k`-th neighbour counting itself and copies (the ε heuristic's
/// input), read from the graph.
pub(super) fn kth_distances(graph: &KnnGraph, n: usize, weights: Option<&[u32]>, k: usize) -> Vec<f64> {
    let w = |u: usize| weights.map_or(1u32, |w| w[u]);
    (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| weighted_kth(std::iter::once((0.0, w(i))).chain(graph.neighbors(i).map(|(j, d)| (d, w(j)))), k))
        .collect()
}

/// Core flags and labels of the unique points `x` (weights: multiplicities) from their graph.
pub(super) fn graph_dbscan(
    x: ArrayView2<'_, f64>,
    metric: Metric,
    graph: &KnnGraph,
    weights: Option<&[u32]>,
    eps: f64,
    min_samples: usize,
) -> PointLabels {
    let n = x.nrows();
    let w = |u: usize| weights.map_or(1u64, |w| u64::from(w[u]));
    let (offsets, ids) = eps_neighbours(graph, n, eps);
    let near = |i: usize| ids[offsets[i]..offsets[i + 1]].iter().map(|&j| j as usize);
    let core: Vec<bool> = (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| w(i) + near(i).map(w).sum::<u64>() >= min_samples as u64)
        .collect();
    let uf = AtomicUf::new(n);
    (0..n).into_par_iter().with_min_len(1024).filter(|&i| core[i]).for_each(|i| {
        for j in near(i).filter(|&j| j > i && core[j]) {
            uf.union(i as u32, j as u32);
        }
    });
    // Components the graph left apart: joined while a closest pair found between two lies within ε.
    loop {
        let mut roots: Vec<usize> = (0..n).map(|i| uf.find(i as u32) as usize).collect();
        let members = nndescent::components(&mut roots, (0..n).filter(|&i| core[i]));
        if members.len() < 2 {
            break;
        }
        let (pairs, closest) = nndescent::closest_pairs(x, metric, &members, |_, _, d| d);
        let mut joined = false;
        for (&(ca, cb), &(_, _, d)) in pairs.iter().zip(&closest) {
            let (ra, rb) = (uf.find(members[ca][0] as u32), uf.find(members[cb][0] as u32));
            if d <= eps && ra != rb {
                uf.union(ra, rb);
                joined = true;
            }
        }
        if !joined {
            break;
        }
    }
    let labels = component_labels(&core, &uf);
    let border: Vec<i64> = (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| if core[i] { labels[i] } else { near(i).filter(|&j| core[j]).map(|j| labels[j]).min().unwrap_or(-1) })
        .collect();
    PointLabels { core, labels: border }
}
