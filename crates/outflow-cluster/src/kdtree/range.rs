//! Radius searches over the kd-tree: every point within a distance of a query (DBSCAN's neighbourhoods,
//! prediction), and the weight of such points with an early exit (DBSCAN's core test).

use crate::metric::{Chebyshev, Euclidean, Kernel, Manhattan, Metric};

use super::KdTree;

/// Box bounds a radius query needs beyond [`Kernel`]'s lower bound.
pub(crate) trait BoxBounds: Kernel {
    /// Reduced distance from `q` to the farthest corner of the box, computed with the same operations
    /// in the same order as [`Kernel::rdist`], so it is ≥ the computed reduced distance of every point
    /// in the box (rounding is monotone).
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64;
    /// Reduced diameter of the box: ≥ the computed reduced distance between any two of its points.
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64;
}

#[inline(always)]
fn far_gap(q: f64, lo: f64, hi: f64) -> f64 {
    let (a, b) = ((q - lo).abs(), (q - hi).abs());
    if a > b { a } else { b }
}

impl BoxBounds for Euclidean {
    #[inline(always)]
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s = 0.0;
        for j in 0..q.len() {
            let g = far_gap(q[j], lo[j], hi[j]);
            s += g * g;
        }
        s
    }
    #[inline(always)]
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64 {
        lo.iter().zip(hi).fold(0.0, |s, (l, h)| s + (h - l) * (h - l))
    }
}

impl BoxBounds for Manhattan {
    #[inline(always)]
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s = 0.0;
        for j in 0..q.len() {
            s += far_gap(q[j], lo[j], hi[j]);
        }
        s
    }
    #[inline(always)]
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64 {
        lo.iter().zip(hi).fold(0.0, |s, (l, h)| s + (h - l))
    }
}

impl BoxBounds for Chebyshev {
    #[inline(always)]
    fn max_rdist_box(q: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s: f64 = 0.0;
        for j in 0..q.len() {
            s = s.max(far_gap(q[j], lo[j], hi[j]));
        }
        s
    }
    #[inline(always)]
    fn diam_rdist(lo: &[f64], hi: &[f64]) -> f64 {
        lo.iter().zip(hi).fold(0.0f64, |s, (l, h)| s.max(h - l))
    }
}

/// ε as a reduced distance (scikit-learn's `_dist_to_rdist`).
pub(crate) fn reduced_radius(metric: Metric, eps: f64) -> f64 {
    if metric == Metric::Euclidean { eps * eps } else { eps }
}

/// A small fixed-capacity DFS stack of node ids (the tree is balanced: depth ≤ log2(n) + 1).
pub(crate) struct NodeStack {
    items: [u32; 128],
    len: usize,
}

impl NodeStack {
    #[inline(always)]
    pub(crate) fn new(root: usize) -> Self {
        let mut s = NodeStack { items: [0; 128], len: 1 };
        s.items[0] = root as u32;
        s
    }
    #[inline(always)]
    pub(crate) fn push(&mut self, node: u32) {
        self.items[self.len] = node;
        self.len += 1;
    }
    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<usize> {
        (self.len > 0).then(|| {
            self.len -= 1;
            self.items[self.len] as usize
        })
    }
}

/// Calls `f(pos)` for every tree point within reduced radius `r` of `q` until `f` returns false.
pub(crate) fn for_each_within<K: BoxBounds>(t: &KdTree, q: &[f64], r: f64, mut f: impl FnMut(usize) -> bool) {
    let mut stack = NodeStack::new(0);
    while let Some(node) = stack.pop() {
        if t.min_rdist::<K>(q, node) > r {
            continue;
        }
        let nd = t.nodes[node];
        if K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r {
            for p in nd.start as usize..nd.end as usize {
                if !f(p) {
                    return;
                }
            }
        } else if nd.is_leaf() {
            for p in nd.start as usize..nd.end as usize {
                if K::rdist(q, t.point(p)) <= r && !f(p) {
                    return;
                }
            }
        } else {
            stack.push(nd.right);
            stack.push(nd.left);
        }
    }
}

/// Total weight of the tree points within `r` of `q`, stopping early once it reaches `stop`.
pub(crate) fn count_within<K: BoxBounds>(t: &KdTree, cw: &[u64], q: &[f64], r: f64, stop: u64) -> u64 {
    let mut count = 0u64;
    let mut stack = NodeStack::new(0);
    while let Some(node) = stack.pop() {
        if t.min_rdist::<K>(q, node) > r {
            continue;
        }
        let nd = t.nodes[node];
        let (s, e) = (nd.start as usize, nd.end as usize);
        if K::max_rdist_box(q, t.lo(node), t.hi(node)) <= r {
            count += cw[e] - cw[s];
        } else if nd.is_leaf() {
            for p in s..e {
                if K::rdist(q, t.point(p)) <= r {
                    count += cw[p + 1] - cw[p];
                }
            }
        } else {
            stack.push(nd.right);
            stack.push(nd.left);
            continue;
        }
        if count >= stop {
            break;
        }
    }
    count
}
