//! The mutual-reachability MST from an approximate k-nearest-neighbour graph ([`Neighbors::Approximate`]).
//!
//! Core distances are read from the graph (by cumulative mass, as the exact searches count them); the
//! spanning forest is Kruskal's over the graph's edges weighted by mutual reachability; the components
//! the graph leaves apart (clusters with no neighbour across) are joined by the closest pair found
//! between each two of them by alternating scans — from the point of one nearest the other's centroid,
//! the point of the other closest to it in mutual reachability, then back — between every two
//! components when there are few, else between each and its nearest by centroid, until one is left.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::tree;
use super::{HdbscanParams, MstEdge, Points};
use crate::dedup::kth_of_mass;
use crate::metric::Metric;
use crate::nndescent;

/// MST edges between points (ascending), their core distances and the graph's measured recall.
pub(super) fn mst(pts: &Points, params: &HdbscanParams) -> (Vec<MstEdge>, Vec<f64>, f64) {
    let x = pts.view();
    let n = x.nrows();
    let metric = params.metric;
    let m = params.effective_min_samples();
    let k = params.graph_k(n);
    let graph = nndescent::knn_graph(x, metric, k, params.seed);
    let recall = nndescent::recall(x, metric, &graph, nndescent::RECALL_SAMPLE, params.seed);
    let mass = pts.masses();
    let mass_of = |i: usize| mass.as_ref().map_or(1.0, |w| w[i]);
    let core: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let near = std::iter::once((0.0, mass_of(i))).chain(graph.neighbors(i).map(|(j, d)| (d, mass_of(j))));
            // The graph holds less mass than min_samples only with weights below 1: its farthest then.
            kth_of_mass(near, m).unwrap_or_else(|| graph.neighbors(i).last().map_or(0.0, |(_, d)| d))
        })
        .collect();
    let alpha = params.alpha;
    let reach = |a: usize, b: usize, d: f64| core[a].max(core[b]).max(d / alpha);
    let edges: Vec<(usize, usize, f64)> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| graph.neighbors(i).map(move |(j, d)| (i.min(j), i.max(j), d)).collect::<Vec<_>>())
        .map(|(a, b, d)| (a, b, reach(a, b, d)))
        .collect();
    let mut forest = tree::spanning_forest(n, edges);
    while forest.len() + 1 < n {
        let joins = join_components(x, metric, &core, alpha, n, &forest);
        forest.extend(joins);
    }
    forest.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let edges = forest.into_iter().map(|(a, b, distance)| MstEdge { a, b, distance }).collect();
    (edges, core, recall)
}

/// Edges joining the components of `forest`: the spanning forest of the closest pairs found between
/// candidate components (at least halves their number).
fn join_components(
    x: ArrayView2<'_, f64>,
    metric: Metric,
    core: &[f64],
    alpha: f64,
    n: usize,
    forest: &[(usize, usize, f64)],
) -> Vec<(usize, usize, f64)> {
    let mut uf: Vec<usize> = (0..n).collect();
    for &(a, b, _) in forest {
        let (ra, rb) = (tree::find(&mut uf, a), tree::find(&mut uf, b));
        uf[rb] = ra;
    }
    let members = nndescent::components(&mut uf, 0..n);
    let reach = |i: usize, j: usize, d: f64| core[i].max(core[j]).max(d / alpha);
    let (pairs, closest) = nndescent::closest_pairs(x, metric, &members, reach);
    // Kruskal over the components, lightest join first (ties by components).
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by(|&i, &j| closest[i].2.total_cmp(&closest[j].2).then(pairs[i].cmp(&pairs[j])));
    let mut cuf: Vec<usize> = (0..members.len()).collect();
    let mut joins = Vec::new();
    for i in order {
        let (ca, cb) = pairs[i];
        let (ra, rb) = (tree::find(&mut cuf, ca), tree::find(&mut cuf, cb));
        if ra != rb {
            cuf[rb] = ra;
            let (a, b, w) = closest[i];
            joins.push((a.min(b), a.max(b), w));
        }
    }
    joins
}
