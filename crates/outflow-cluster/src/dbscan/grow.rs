//! Core points, their components and the border points: over a kd-tree of the unique points, or by brute force for the cosine metric.

use std::sync::atomic::{AtomicU32, Ordering};

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::dedup::weighted_kth;
use crate::kdtree::KdTree;
use crate::kdtree::range::{BoxBounds, NodeStack, count_within};
use crate::metric::{Kernel, Metric, dispatch_tree};

/// Lock-free union–find; a root is always the smallest element of its set, whatever the order of the
/// unions, so the final partition and roots do not depend on scheduling.
pub(super) struct AtomicUf {
    pub(super) parent: Vec<AtomicU32>,
}

impl AtomicUf {
    pub(super) fn new(n: usize) -> Self {
        AtomicUf { parent: (0..n as u32).map(AtomicU32::new).collect() }
    }

    #[inline]
    pub(super) fn find(&self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize].load(Ordering::Acquire);
            if p == x {
                return x;
            }
            let g = self.parent[p as usize].load(Ordering::Acquire);
            if g != p {
                // Path halving; losing the race is harmless.
                let _ = self.parent[x as usize].compare_exchange_weak(p, g, Ordering::AcqRel, Ordering::Relaxed);
            }
            x = g;
        }
    }

    #[inline]
    pub(super) fn union(&self, a: u32, b: u32) {
        let (mut a, mut b) = (a, b);
        loop {
            a = self.find(a);
            b = self.find(b);
            if a == b {
                return;
            }
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            if self.parent[hi as usize].compare_exchange(hi, lo, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return;
            }
        }
    }
}

/// Labels of the core points' components (−1 for the other points), ranked by their smallest id — the
/// union-find's root, so the same labels whatever the order of the unions.
pub(super) fn component_labels(core: &[bool], uf: &AtomicUf) -> Vec<i64> {
    let mut labels = vec![-1i64; core.len()];
    let mut next = 0i64;
    for u in 0..core.len() {
        if core[u] {
            let root = uf.find(u as u32) as usize;
            if root == u {
                labels[u] = next;
                next += 1;
            } else {
                labels[u] = labels[root];
            }
        }
    }
    labels
}

/// The clustering of unique points: core flags and labels (−1 noise), indexed by unique point.
pub(super) struct PointLabels {
    pub(super) core: Vec<bool>,
    pub(super) labels: Vec<i64>,
}

/// Core points, components and border labels over a kd-tree of the unique points.
pub(super) fn tree_dbscan<K: BoxBounds>(
    t: &KdTree,
    weights: Option<&[u32]>,
    r: f64,
    min_samples: usize,
) -> PointLabels {
    let n = t.n;
    // Prefix sums of weights in tree order.
    let mut cw = vec![0u64; n + 1];
    for p in 0..n {
        cw[p + 1] = cw[p] + weights.map_or(1, |w| w[t.index[p] as usize] as u64);
    }
    let stop = min_samples as u64;
    // 1. core flags (tree order).
    let core_pos: Vec<bool> = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|p| count_within::<K>(t, &cw, t.point(p), r, stop) >= stop)
        .collect();
    // Per node: every point core and the whole box within ε of itself → its cores are one component.
    let mut ncore = vec![0u32; n + 1];
    for p in 0..n {
        ncore[p + 1] = ncore[p] + core_pos[p] as u32;
    }
    let clique: Vec<bool> = (0..t.nodes.len())
        .map(|i| {
            let nd = t.nodes[i];
            ncore[nd.end as usize] - ncore[nd.start as usize] == nd.end - nd.start
                && K::diam_rdist(t.lo(i), t.hi(i)) <= r
        })
        .collect();
    // 2. components over unique-point ids (original first-occurrence order).
    let uf = AtomicUf::new(n);
    let id = |p: usize| t.index[p];
    {
        let mut stack = NodeStack::new(0);
        while let Some(node) = stack.pop() {
            let nd = t.nodes[node];
            if clique[node] {
                let rep = id(nd.start as usize);
                for p in nd.start as usize + 1..nd.end as usize {
                    uf.union(rep, id(p));
                }
            } else if !nd.is_leaf() {
                stack.push(nd.right);
                stack.push(nd.left);
            }
        }
    }
    (0..n).into_par_iter().with_min_len(64).filter(|&p| core_pos[p]).for_each(|p| {
        let q = t.point(p);
        let me = id(p);
        let mut stack = NodeStack::new(0);
        while let Some(node) = stack.pop() {
            let nd = t.nodes[node];
            let (s, e) = (nd.start as usize, nd.end as usize);
            // A pair is linked from its smaller tree position: nodes wholly at or below `p` are skipped.
            if e <= p + 1 {
                continue;
            }
            if t.min_rdist::<K>(q, node) > r {
                continue;
            }
            if clique[node] {
                let rep = id(s);
                if uf.find(rep) == uf.find(me) {
                    continue;
                }
                if K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r {
                    uf.union(me, rep);
                } else if nd.is_leaf() {
                    if (s..e).any(|o| K::rdist(q, t.point(o)) <= r) {
                        uf.union(me, rep);
                    }
                } else {
                    stack.push(nd.right);
                    stack.push(nd.left);
                }
            } else if nd.is_leaf() {
                let inside = K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r;
                for (o, &c) in core_pos.iter().enumerate().take(e).skip(s.max(p + 1)) {
                    if c && (inside || K::rdist(q, t.point(o)) <= r) {
                        uf.union(me, id(o));
                    }
                }
            } else {
                stack.push(nd.right);
                stack.push(nd.left);
            }
        }
    });
    // 3. labels: components ranked by their smallest unique id (= smallest original row).
    let mut core = vec![false; n];
    for p in 0..n {
        core[id(p) as usize] = core_pos[p];
    }
    let mut labels = component_labels(&core, &uf);
    // 4. non-core points: the smallest label among their core neighbours.
    let border: Vec<(usize, i64)> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .filter(|&p| !core_pos[p])
        .filter_map(|p| {
            let q = t.point(p);
            let mut best = i64::MAX;
            let mut stack = NodeStack::new(0);
            while let Some(node) = stack.pop() {
                if t.min_rdist::<K>(q, node) > r {
                    continue;
                }
                let nd = t.nodes[node];
                let (s, e) = (nd.start as usize, nd.end as usize);
                let inside = K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r;
                if clique[node] {
                    let l = labels[id(s) as usize];
                    if l < best && (inside || (s..e).any(|o| K::rdist(q, t.point(o)) <= r)) {
                        best = l;
                    }
                } else if nd.is_leaf() || inside {
                    for o in s..e {
                        if core_pos[o] {
                            let l = labels[id(o) as usize];
                            if l < best && (inside || K::rdist(q, t.point(o)) <= r) {
                                best = l;
                            }
                        }
                    }
                } else {
                    stack.push(nd.right);
                    stack.push(nd.left);
                }
            }
            (best != i64::MAX).then(|| (id(p) as usize, best))
        })
        .collect();
    for (u, l) in border {
        labels[u] = l;
    }
    PointLabels { core, labels }
}

/// The same without an index (cosine): O(n²) distance evaluations, parallel.
pub(super) fn brute_dbscan(
    x: ArrayView2<'_, f64>,
    weights: Option<&[u32]>,
    metric: Metric,
    eps: f64,
    min_samples: usize,
) -> PointLabels {
    let n = x.nrows();
    let d = x.ncols();
    let flat = x.as_slice().expect("standard layout");
    let row = |i: usize| &flat[i * d..(i + 1) * d];
    let w = |i: usize| weights.map_or(1u64, |w| w[i] as u64);
    let near = |i: usize, j: usize| metric.distance(row(i), row(j)) <= eps;
    let core: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut c = 0u64;
            for j in 0..n {
                if near(i, j) {
                    c += w(j);
                    if c >= min_samples as u64 {
                        return true;
                    }
                }
            }
            false
        })
        .collect();
    let uf = AtomicUf::new(n);
    (0..n).into_par_iter().filter(|&i| core[i]).for_each(|i| {
        for (j, &cj) in core.iter().enumerate().skip(i + 1) {
            if cj && uf.find(i as u32) != uf.find(j as u32) && near(i, j) {
                uf.union(i as u32, j as u32);
            }
        }
    });
    let mut labels = vec![-1i64; n];
    let mut next = 0;
    for u in 0..n {
        if core[u] {
            let root = uf.find(u as u32) as usize;
            labels[u] = if root == u {
                next += 1;
                next - 1
            } else {
                labels[root]
            };
        }
    }
    let border: Vec<(usize, i64)> = (0..n)
        .into_par_iter()
        .filter(|&i| !core[i])
        .filter_map(|i| (0..n).filter(|&j| core[j] && near(i, j)).map(|j| labels[j]).min().map(|l| (i, l)))
        .collect();
    for (u, l) in border {
        labels[u] = l;
    }
    PointLabels { core, labels }
}

/// Distance from every unique point to its `k`-th nearest row (itself and duplicates included).
pub(super) fn kth_distances(
    x: ArrayView2<'_, f64>,
    tree: Option<&KdTree>,
    weights: Option<&[u32]>,
    metric: Metric,
    k: usize,
) -> Vec<f64> {
    let n = x.nrows();
    let kk = k.min(n);
    let w = |u: usize| weights.map_or(1u32, |w| w[u]);
    match tree {
        Some(t) => {
            let mut out = vec![0.0; n];
            // The tree's own all-points kNN (vectorised leaf scans); positions and reduced distances
            // in tree order, k unique points per query (their weights reach k).
            let per_pos: Vec<f64> = dispatch_tree!(metric, K => {
                let (dist, pos) = t.knn_all::<K>(kk);
                (0..n).into_par_iter().with_min_len(1024).map(|p| {
                    let near = (p * kk..(p + 1) * kk).map(|i| (dist[i], w(t.index[pos[i] as usize] as usize)));
                    K::to_dist(weighted_kth(near, k))
                }).collect()
            });
            for (p, v) in per_pos.into_iter().enumerate() {
                out[t.index[p] as usize] = v;
            }
            out
        }
        None => {
            let d = x.ncols();
            let flat = x.as_slice().expect("standard layout");
            let row = |i: usize| &flat[i * d..(i + 1) * d];
            (0..n)
                .into_par_iter()
                .map(|i| {
                    let mut all: Vec<(f64, u32)> =
                        (0..n).map(|j| (if i == j { 0.0 } else { metric.distance(row(i), row(j)) }, w(j))).collect();
                    all.select_nth_unstable_by(kk - 1, |a, b| a.0.total_cmp(&b.0));
                    all.truncate(kk);
                    all.sort_by(|a, b| a.0.total_cmp(&b.0));
                    weighted_kth(all.into_iter(), k)
                })
                .collect()
        }
    }
}
