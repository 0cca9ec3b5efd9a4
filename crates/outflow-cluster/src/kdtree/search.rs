//! The work units and helpers of the k-nearest-neighbour searches: parallel jobs over points, leaves
//! and queries, bounding balls, the search stack.

use std::marker::PhantomData;

use crate::metric::{Kernel, LANES};
use crate::simd::Job;

use super::*;

/// k-NN of consecutive tree points, one traversal each.
pub(super) struct PointsKnnJob<'a, K> {
    pub(super) tree: &'a KdTree,
    pub(super) first: usize,
    pub(super) k: usize,
    pub(super) dist: &'a mut [f64],
    pub(super) pos: &'a mut [u32],
    pub(super) _k: PhantomData<K>,
}

impl<K: Kernel> Job for PointsKnnJob<'_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        with_dim!(self.tree.dim, D => {
            for (j, (d, p)) in self.dist.chunks_mut(self.k).zip(self.pos.chunks_mut(self.k)).enumerate() {
                let i = self.first + j;
                self.tree.knn_impl::<K>(&self.tree.point(i)[..D], &self.tree.bpoint(i)[..D], d, p);
            }
        })
    }
}

/// k-NN of every point of one leaf (see [`KdTree::knn_all`]).
pub(super) struct LeafKnnJob<'a, K> {
    pub(super) tree: &'a KdTree,
    pub(super) balls: &'a Balls,
    pub(super) leaf: usize,
    pub(super) k: usize,
    pub(super) dist: &'a mut [f64],
    pub(super) pos: &'a mut [u32],
    pub(super) _k: PhantomData<K>,
}

impl<K: Kernel> Job for LeafKnnJob<'_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.tree.knn_leaf_impl::<K>(self.balls, self.leaf, self.k, self.dist, self.pos)
    }
}

/// Bounding balls of the nodes (centroid, radius in distance units), for a metric: in high dimensions an
/// axis-aligned box spans most of every coordinate and bounds poorly, a ball around the centroid does
/// better. Leaf radii are exact; an internal node's radius is bounded through its children
/// (`max(d(c, c_child) + r_child)`), valid by the triangle inequality.
pub(crate) struct Balls {
    pub centroid: Vec<f64>,
    pub radius: Vec<f64>,
}

impl Balls {
    pub fn new<K: Kernel>(t: &KdTree) -> Balls {
        let (d, m) = (t.dim, t.nodes.len());
        let mut centroid = vec![0.0; m * d];
        let mut radius = vec![0.0; m];
        for i in (0..m).rev() {
            let nd = t.nodes[i];
            let (s, e) = (nd.start as usize, nd.end as usize);
            if nd.is_leaf() {
                let c = &mut centroid[i * d..(i + 1) * d];
                for p in s..e {
                    for (cj, &v) in c.iter_mut().zip(t.point(p)) {
                        *cj += v;
                    }
                }
                c.iter_mut().for_each(|v| *v /= (e - s) as f64);
                let c = &centroid[i * d..(i + 1) * d];
                radius[i] = (s..e).map(|p| K::to_dist(K::rdist(c, t.point(p)))).fold(0.0, f64::max);
            } else {
                let (l, r) = (nd.left as usize, nd.right as usize);
                let (nl, nr) = ((t.nodes[l].end - t.nodes[l].start) as f64, (t.nodes[r].end - t.nodes[r].start) as f64);
                let c: Vec<f64> =
                    (0..d).map(|j| (centroid[l * d + j] * nl + centroid[r * d + j] * nr) / (nl + nr)).collect();
                let via = |k: usize| K::to_dist(K::rdist(&c, &centroid[k * d..(k + 1) * d])) + radius[k];
                radius[i] = via(l).max(via(r));
                centroid[i * d..(i + 1) * d].copy_from_slice(&c);
            }
        }
        Balls { centroid, radius }
    }

    /// Per-lane lower bounds (reduced distance) from a chunk of query lanes to node `node`'s ball,
    /// combined with (maxed into) `bounds`.
    #[inline(always)]
    pub fn tighten<K: Kernel>(&self, dim: usize, qcols: &[f64], node: usize, bounds: &mut [f64; LANES]) {
        let mut cd = [0.0f64; LANES];
        K::rdists_from_chunk(qcols, &self.centroid[node * dim..(node + 1) * dim], &mut cd);
        let r = self.radius[node];
        for (b, &c) in bounds.iter_mut().zip(&cd) {
            // Shrunk a little: the bound must stay below every true distance despite rounding.
            let gap = (K::to_dist(c) - r) * (1.0 - 1e-12);
            if gap > 0.0 {
                let rd = K::to_rdist(gap);
                if rd > *b {
                    *b = rd;
                }
            }
        }
    }
}

/// k-NN of one external query.
pub(super) struct KnnJob<'a, K> {
    pub(super) tree: &'a KdTree,
    pub(super) query: &'a [f64],
    pub(super) qb: &'a [f64],
    pub(super) dist: &'a mut [f64],
    pub(super) pos: &'a mut [u32],
    pub(super) _k: PhantomData<K>,
}

impl<K: Kernel> Job for KnnJob<'_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.tree.knn_impl::<K>(self.query, self.qb, self.dist, self.pos)
    }
}

/// A fixed-capacity DFS stack of (node, lower bound); the tree is balanced, so depth ≤ log2(n) + 1.
pub(crate) struct Stack {
    pub(super) items: [(u32, f64); 96],
    pub(super) len: usize,
}

impl Stack {
    #[inline(always)]
    pub fn new() -> Self {
        Stack { items: [(0, 0.0); 96], len: 0 }
    }

    #[inline(always)]
    pub fn push(&mut self, node: usize, bound: f64) {
        self.items[self.len] = (node as u32, bound);
        self.len += 1;
    }

    #[inline(always)]
    pub fn pop(&mut self) -> Option<(usize, f64)> {
        (self.len > 0).then(|| {
            self.len -= 1;
            let (n, b) = self.items[self.len];
            (n as usize, b)
        })
    }
}

/// The smallest of a chunk's values, as a pairwise tree the compiler turns into vector minimums (a
/// sequential fold was ~10 % of a k-NN search).
#[inline(always)]
pub(super) fn min_lanes(v: &[f64; LANES]) -> f64 {
    const { assert!(LANES == 8) };
    let m = |a: f64, b: f64| if a < b { a } else { b };
    let h: [f64; 4] = std::array::from_fn(|i| m(v[i], v[i + 4]));
    m(m(h[0], h[2]), m(h[1], h[3]))
}

/// Inserts (r, p) into ascending arrays, dropping the last element.
#[inline(always)]
pub(super) fn insert_sorted(dist: &mut [f64], pos: &mut [u32], r: f64, p: u32) {
    let mut i = dist.len() - 1;
    while i > 0 && dist[i - 1] > r {
        dist[i] = dist[i - 1];
        pos[i] = pos[i - 1];
        i -= 1;
    }
    dist[i] = r;
    pos[i] = p;
}
