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

/// Components joined pairwise at most; above, each component is joined to its nearest by centroid.
const ALL_PAIRS: usize = 64;
/// Nearest components by centroid tried per component above [`ALL_PAIRS`].
const NEAREST_COMPONENTS: usize = 8;
/// Rows on which the graph's recall is measured.
const RECALL_SAMPLE: usize = 128;

/// MST edges between points (ascending), their core distances and the graph's measured recall.
pub(super) fn mst(pts: &Points, params: &HdbscanParams) -> (Vec<MstEdge>, Vec<f64>, f64) {
    let x = pts.view();
    let n = x.nrows();
    let metric = params.metric;
    let m = params.effective_min_samples();
    let k = params.graph_k(n);
    let graph = nndescent::knn_graph(x, metric, k, params.seed);
    let recall = nndescent::recall(x, metric, &graph, RECALL_SAMPLE, params.seed);
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
    let mut comp_of_root = std::collections::HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        let r = tree::find(&mut uf, i);
        let c = *comp_of_root.entry(r).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[c].push(i);
    }
    let c = members.len();
    let d = x.ncols();
    let centroids: Vec<Vec<f64>> = members
        .par_iter()
        .map(|rows| {
            let mut s = vec![0.0; d];
            for &r in rows {
                s.iter_mut().zip(x.row(r)).for_each(|(a, v)| *a += v);
            }
            s.iter_mut().for_each(|a| *a /= rows.len() as f64);
            s
        })
        .collect();
    let xs = x.as_slice().expect("points in standard layout");
    let row = |i: usize| &xs[i * d..(i + 1) * d];
    let dist = |a: &[f64], b: &[f64]| metric.distance(a, b);
    let pairs: Vec<(usize, usize)> = if c <= ALL_PAIRS {
        (0..c).flat_map(|a| (a + 1..c).map(move |b| (a, b))).collect()
    } else {
        let mut p: Vec<(usize, usize)> = (0..c)
            .into_par_iter()
            .flat_map_iter(|a| {
                let mut near: Vec<(f64, usize)> =
                    (0..c).filter(|&b| b != a).map(|b| (dist(&centroids[a], &centroids[b]), b)).collect();
                let keep = NEAREST_COMPONENTS.min(near.len());
                near.select_nth_unstable_by(keep - 1, |u, v| u.0.total_cmp(&v.0).then(u.1.cmp(&v.1)));
                near.truncate(keep);
                near.into_iter().map(move |(_, b)| (a.min(b), a.max(b))).collect::<Vec<_>>()
            })
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let reach = |i: usize, j: usize| core[i].max(core[j]).max(dist(row(i), row(j)) / alpha);
    // The row of `among` closest to `from` in mutual reachability (ties by row).
    let best_of = |from: usize, among: &[usize]| -> (usize, f64) {
        among
            .iter()
            .map(|&j| (j, reach(from, j)))
            .min_by(|u, v| u.1.total_cmp(&v.1).then(u.0.cmp(&v.0)))
            .expect("a component has rows")
    };
    let closest: Vec<(usize, usize, f64)> = pairs
        .par_iter()
        .map(|&(ca, cb)| {
            let (a_rows, b_rows) = (&members[ca], &members[cb]);
            // From the member of A nearest B's centroid, alternate: the closest of B, then of A.
            let toward = |i: usize| dist(row(i), &centroids[cb]);
            let mut a = *a_rows
                .iter()
                .min_by(|&&i, &&j| toward(i).total_cmp(&toward(j)).then(i.cmp(&j)))
                .expect("a component has rows");
            let (mut b, mut w) = best_of(a, b_rows);
            for _ in 0..3 {
                let (na, _) = best_of(b, a_rows);
                let (nb, wb) = best_of(na, b_rows);
                if wb >= w {
                    break;
                }
                (a, b, w) = (na, nb, wb);
            }
            (a, b, w)
        })
        .collect();
    // Kruskal over the components, lightest join first (ties by components).
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by(|&i, &j| closest[i].2.total_cmp(&closest[j].2).then(pairs[i].cmp(&pairs[j])));
    let mut cuf: Vec<usize> = (0..c).collect();
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
