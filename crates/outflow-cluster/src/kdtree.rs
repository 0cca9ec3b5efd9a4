//! A kd-tree with run-time dimension, tuned for the queries HDBSCAN needs: all-points k-nearest
//! neighbours (core distances) and nearest-point-outside-my-component searches (Borůvka), with
//! per-node bounding boxes.
//!
//! Why our own: the HDBSCAN MST search needs per-node annotations (component membership, smallest core
//! distance) and points stored contiguously in tree order; kiddo fixes the dimension at compile time and
//! the run-time-dimension crates (kdtree, petal-neighbors) neither expose their nodes nor measure as fast.

use ndarray::ArrayView2;
use std::marker::PhantomData;

use rayon::prelude::*;

use crate::simd::Job;

use crate::metric::{Kernel, LANES};

pub(crate) const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub start: u32,
    pub end: u32,
    pub left: u32,
    pub right: u32,
}

impl Node {
    #[inline(always)]
    pub fn is_leaf(&self) -> bool {
        self.left == NONE
    }
}

/// Points reordered so that every node owns a contiguous range.
#[derive(Debug, Clone)]
pub(crate) struct KdTree {
    pub dim: usize,
    pub n: usize,
    /// Coordinates in tree order, `n * dim`.
    pub data: Vec<f64>,
    /// Tree position → original row.
    pub index: Vec<u32>,
    /// Nodes in pre-order (children after their parent).
    pub nodes: Vec<Node>,
    /// Per node: `dim` lower bounds then `dim` upper bounds.
    pub bounds: Vec<f64>,
    /// Coordinates again for vectorised leaf scans: each leaf as chunks of [`LANES`] points, each chunk
    /// dimension-major (`dim * LANES` values); the last chunk of a leaf is padded with zeros.
    pub soa: Vec<f64>,
    /// Per node (leaves only): offset of the leaf's first chunk in `soa`.
    pub soa_off: Vec<usize>,
}

impl KdTree {
    /// Builds the tree; splits the widest dimension at the median until nodes hold ≤ `leaf_size` points.
    pub fn build(x: ArrayView2<'_, f64>, leaf_size: usize) -> KdTree {
        let (n, dim) = x.dim();
        let leaf_size = leaf_size.max(1);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        let mut nodes = Vec::with_capacity(2 * n.div_ceil(leaf_size) + 1);
        let mut bounds = Vec::with_capacity(nodes.capacity() * 2 * dim);
        let row = |i: u32| x.row(i as usize);
        build_node(&row, dim, &mut perm, 0, leaf_size, &mut nodes, &mut bounds);
        let mut data = Vec::with_capacity(n * dim);
        for &i in &perm {
            data.extend(x.row(i as usize).iter().copied());
        }
        let mut soa = Vec::with_capacity((n + LANES * nodes.len()) * dim);
        let mut soa_off = vec![0usize; nodes.len()];
        for (id, nd) in nodes.iter().enumerate().filter(|(_, nd)| nd.is_leaf()) {
            soa_off[id] = soa.len();
            let (s, e) = (nd.start as usize, nd.end as usize);
            for c0 in (s..e).step_by(LANES) {
                let base = soa.len();
                soa.resize(base + dim * LANES, 0.0);
                for p in c0..(c0 + LANES).min(e) {
                    for j in 0..dim {
                        soa[base + j * LANES + (p - c0)] = data[p * dim + j];
                    }
                }
            }
        }
        KdTree { dim, n, data, index: perm, nodes, bounds, soa, soa_off }
    }

    /// Calls `f(first_position, rdists)` for each chunk of up to [`LANES`] points of leaf `node`, skipping
    /// chunks whose every distance is ≥ `skip_at_or_above()` (read before each chunk).
    #[inline(always)]
    pub fn scan_leaf<K: Kernel>(
        &self,
        q: &[f64],
        node: usize,
        skip_at_or_above: impl Fn() -> f64,
        mut f: impl FnMut(usize, &[f64]),
    ) {
        let nd = self.nodes[node];
        let (s, e) = (nd.start as usize, nd.end as usize);
        let mut off = self.soa_off[node];
        let mut out = [0.0f64; LANES];
        for c0 in (s..e).step_by(LANES) {
            K::rdists_chunk(q, &self.soa[off..off + self.dim * LANES], &mut out);
            off += self.dim * LANES;
            let len = (e - c0).min(LANES);
            let min = out[..len].iter().fold(f64::INFINITY, |m, &x| if x < m { x } else { m });
            if min < skip_at_or_above() {
                f(c0, &out[..len]);
            }
        }
    }

    #[inline(always)]
    pub fn point(&self, pos: usize) -> &[f64] {
        &self.data[pos * self.dim..(pos + 1) * self.dim]
    }

    #[inline(always)]
    pub fn lo(&self, node: usize) -> &[f64] {
        let b = node * 2 * self.dim;
        &self.bounds[b..b + self.dim]
    }

    #[inline(always)]
    pub fn hi(&self, node: usize) -> &[f64] {
        let b = node * 2 * self.dim;
        &self.bounds[b + self.dim..b + 2 * self.dim]
    }

    #[inline(always)]
    pub fn min_rdist<K: Kernel>(&self, q: &[f64], node: usize) -> f64 {
        K::min_rdist_box(q, self.lo(node), self.hi(node))
    }

    /// The `k` nearest tree points of `q` (reduced distances ascending, tree positions), written into
    /// `dist`/`pos` (length `k`). Ties at the k-th place keep the first point met.
    pub fn knn<K: Kernel>(&self, q: &[f64], dist: &mut [f64], pos: &mut [u32]) {
        crate::simd::run(KnnJob::<K> { tree: self, query: q, dist, pos, _k: PhantomData })
    }

    /// Iterative depth-first search, nearer child first.
    #[inline(always)]
    pub(crate) fn knn_impl<K: Kernel>(&self, q: &[f64], dist: &mut [f64], pos: &mut [u32]) {
        dist.fill(f64::INFINITY);
        pos.fill(NONE);
        let k = dist.len();
        let mut stack = Stack::new();
        let (mut node, mut b) = (0usize, self.min_rdist::<K>(q, 0));
        loop {
            if b < dist[k - 1] {
                let nd = self.nodes[node];
                if nd.is_leaf() {
                    let worst = std::cell::Cell::new(dist[k - 1]);
                    self.scan_leaf::<K>(
                        q,
                        node,
                        || worst.get(),
                        |first, rd| {
                            for (i, &r) in rd.iter().enumerate() {
                                if r < dist[k - 1] {
                                    insert_sorted(dist, pos, r, (first + i) as u32);
                                }
                            }
                            worst.set(dist[k - 1]);
                        },
                    );
                } else {
                    let (l, r) = (nd.left as usize, nd.right as usize);
                    let (bl, br) = (self.min_rdist::<K>(q, l), self.min_rdist::<K>(q, r));
                    if bl <= br {
                        stack.push(r, br);
                        (node, b) = (l, bl);
                    } else {
                        stack.push(l, bl);
                        (node, b) = (r, br);
                    }
                    continue;
                }
            }
            match stack.pop() {
                Some(x) => (node, b) = x,
                None => break,
            }
        }
    }

    /// k nearest neighbours of every tree point (itself included), in tree order: `n * k` reduced
    /// distances and positions. Queries go in chunks of [`LANES`] points of a leaf that share one
    /// traversal, with per-lane bounds. Parallel; the result does not depend on the number of threads.
    pub fn knn_all<K: Kernel>(&self, k: usize) -> (Vec<f64>, Vec<u32>) {
        let mut dist = vec![0.0; self.n * k];
        let mut pos = vec![0u32; self.n * k];
        if self.dim < BATCH_MIN_DIM {
            dist.par_chunks_mut(k * 64).zip(pos.par_chunks_mut(k * 64)).enumerate().for_each(|(chunk, (d, p))| {
                crate::simd::run(PointsKnnJob::<K> {
                    tree: self,
                    first: chunk * 64,
                    k,
                    dist: d,
                    pos: p,
                    _k: PhantomData,
                })
            });
            return (dist, pos);
        }
        let mut work = Vec::new();
        let (mut dr, mut pr) = (&mut dist[..], &mut pos[..]);
        for (id, nd) in self.nodes.iter().enumerate().filter(|(_, nd)| nd.is_leaf()) {
            let len = (nd.end - nd.start) as usize * k;
            let (d, rest_d) = dr.split_at_mut(len);
            let (p, rest_p) = pr.split_at_mut(len);
            (dr, pr) = (rest_d, rest_p);
            work.push((id, d, p));
        }
        work.into_par_iter().for_each(|(leaf, d, p)| {
            crate::simd::run(LeafKnnJob::<K> { tree: self, leaf, k, dist: d, pos: p, _k: PhantomData })
        });
        (dist, pos)
    }

    /// k-NN of the points of one leaf, [`LANES`] at a time.
    #[inline(always)]
    fn knn_leaf_impl<K: Kernel>(&self, leaf: usize, k: usize, dist: &mut [f64], pos: &mut [u32]) {
        dist.fill(f64::INFINITY);
        pos.fill(NONE);
        let nd = self.nodes[leaf];
        let (s, e) = (nd.start as usize, nd.end as usize);
        let chunk_len = self.dim * LANES;
        let mut bounds = [0.0f64; LANES];
        let mut dl = [0.0f64; LANES];
        for (ci, c0) in (s..e).step_by(LANES).enumerate() {
            let qcols = &self.soa[self.soa_off[leaf] + ci * chunk_len..][..chunk_len];
            let lanes = (e - c0).min(LANES);
            let base = (c0 - s) * k;
            let (dist, pos) = (&mut dist[base..base + lanes * k], &mut pos[base..base + lanes * k]);
            let mut worst = [f64::NEG_INFINITY; LANES];
            worst[..lanes].fill(f64::INFINITY);
            let q0 = self.point(c0);
            let mut stack = Stack::new();
            let mut node = 0usize;
            loop {
                K::box_from_chunk(qcols, self.lo(node), self.hi(node), &mut bounds);
                if bounds.iter().zip(&worst).any(|(b, w)| b < w) {
                    let n2 = self.nodes[node];
                    if n2.is_leaf() {
                        for r in n2.start as usize..n2.end as usize {
                            K::rdists_from_chunk(qcols, self.point(r), &mut dl);
                            for l in 0..lanes {
                                if dl[l] < worst[l] {
                                    let (d, p) = (&mut dist[l * k..(l + 1) * k], &mut pos[l * k..(l + 1) * k]);
                                    insert_sorted(d, p, dl[l], r as u32);
                                    worst[l] = d[k - 1];
                                }
                            }
                        }
                    } else {
                        let (l, r) = (n2.left as usize, n2.right as usize);
                        // Nearer child (for the chunk's first point) first.
                        if self.min_rdist::<K>(q0, l) <= self.min_rdist::<K>(q0, r) {
                            stack.push(r, 0.0);
                            node = l;
                        } else {
                            stack.push(l, 0.0);
                            node = r;
                        }
                        continue;
                    }
                }
                match stack.pop() {
                    Some((n2, _)) => node = n2,
                    None => break,
                }
            }
        }
    }
}

/// Below this dimension one traversal per query point measures faster than chunked traversals.
const BATCH_MIN_DIM: usize = 16;

/// k-NN of consecutive tree points, one traversal each.
struct PointsKnnJob<'a, K> {
    tree: &'a KdTree,
    first: usize,
    k: usize,
    dist: &'a mut [f64],
    pos: &'a mut [u32],
    _k: PhantomData<K>,
}

impl<K: Kernel> Job for PointsKnnJob<'_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for (j, (d, p)) in self.dist.chunks_mut(self.k).zip(self.pos.chunks_mut(self.k)).enumerate() {
            self.tree.knn_impl::<K>(self.tree.point(self.first + j), d, p);
        }
    }
}

/// k-NN of every point of one leaf (see [`KdTree::knn_all`]).
struct LeafKnnJob<'a, K> {
    tree: &'a KdTree,
    leaf: usize,
    k: usize,
    dist: &'a mut [f64],
    pos: &'a mut [u32],
    _k: PhantomData<K>,
}

impl<K: Kernel> Job for LeafKnnJob<'_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.tree.knn_leaf_impl::<K>(self.leaf, self.k, self.dist, self.pos)
    }
}

/// k-NN of one external query.
struct KnnJob<'a, K> {
    tree: &'a KdTree,
    query: &'a [f64],
    dist: &'a mut [f64],
    pos: &'a mut [u32],
    _k: PhantomData<K>,
}

impl<K: Kernel> Job for KnnJob<'_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.tree.knn_impl::<K>(self.query, self.dist, self.pos)
    }
}

/// A fixed-capacity DFS stack of (node, lower bound); the tree is balanced, so depth ≤ log2(n) + 1.
pub(crate) struct Stack {
    items: [(u32, f64); 96],
    len: usize,
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

/// Inserts (r, p) into ascending arrays, dropping the last element.
#[inline(always)]
fn insert_sorted(dist: &mut [f64], pos: &mut [u32], r: f64, p: u32) {
    let mut i = dist.len() - 1;
    while i > 0 && dist[i - 1] > r {
        dist[i] = dist[i - 1];
        pos[i] = pos[i - 1];
        i -= 1;
    }
    dist[i] = r;
    pos[i] = p;
}

fn build_node<'a, F>(
    row: &F,
    dim: usize,
    perm: &mut [u32],
    offset: usize,
    leaf_size: usize,
    nodes: &mut Vec<Node>,
    bounds: &mut Vec<f64>,
) -> u32
where
    F: Fn(u32) -> ndarray::ArrayView1<'a, f64>,
{
    let id = nodes.len();
    nodes.push(Node { start: offset as u32, end: (offset + perm.len()) as u32, left: NONE, right: NONE });
    let b = bounds.len();
    bounds.resize(b + 2 * dim, 0.0);
    {
        let (lo, hi) = bounds[b..].split_at_mut(dim);
        lo.fill(f64::INFINITY);
        hi.fill(f64::NEG_INFINITY);
        for &i in perm.iter() {
            for (j, &v) in row(i).iter().enumerate() {
                lo[j] = lo[j].min(v);
                hi[j] = hi[j].max(v);
            }
        }
    }
    if perm.len() <= leaf_size {
        return id as u32;
    }
    let (split_dim, spread) = (0..dim)
        .map(|j| (j, bounds[b + dim + j] - bounds[b + j]))
        .fold((0, f64::NEG_INFINITY), |acc, (j, s)| if s > acc.1 { (j, s) } else { acc });
    if spread <= 0.0 {
        // All points identical: splitting cannot separate them.
        return id as u32;
    }
    let mid = perm.len() / 2;
    perm.select_nth_unstable_by(mid, |&a, &c| row(a)[split_dim].total_cmp(&row(c)[split_dim]).then(a.cmp(&c)));
    let (left, right) = perm.split_at_mut(mid);
    let l = build_node(row, dim, left, offset, leaf_size, nodes, bounds);
    let r = build_node(row, dim, right, offset + mid, leaf_size, nodes, bounds);
    nodes[id].left = l;
    nodes[id].right = r;
    id as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::{Chebyshev, Euclidean, Manhattan};
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};

    fn random(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| (rng.random_range(0..20) as f64) * 0.5)
    }

    fn check<K: Kernel>(x: &Array2<f64>, k: usize) {
        let t = KdTree::build(x.view(), 5);
        let (dist, _) = t.knn_all::<K>(k);
        for p in 0..t.n {
            let mut all: Vec<f64> = (0..t.n).map(|q| K::rdist(t.point(p), t.point(q))).collect();
            all.sort_by(f64::total_cmp);
            assert_eq!(&dist[p * k..(p + 1) * k], &all[..k]);
        }
    }

    #[test]
    fn knn_matches_brute_force_with_ties() {
        let x = random(300, 3, 1);
        check::<Euclidean>(&x, 7);
        check::<Manhattan>(&x, 4);
        check::<Chebyshev>(&x, 10);
        let dup = Array2::from_elem((50, 2), 1.0);
        check::<Euclidean>(&dup, 5);
    }

    #[test]
    fn tree_covers_all_points() {
        let x = random(1000, 5, 2);
        let t = KdTree::build(x.view(), 16);
        let mut seen = t.index.clone();
        seen.sort();
        assert_eq!(seen, (0..1000).collect::<Vec<u32>>());
        for (i, nd) in t.nodes.iter().enumerate() {
            if !nd.is_leaf() {
                assert!(nd.left as usize > i && nd.right as usize > i);
            }
            for p in nd.start..nd.end {
                for (j, v) in t.point(p as usize).iter().enumerate() {
                    assert!(t.lo(i)[j] <= *v && *v <= t.hi(i)[j]);
                }
            }
        }
    }
}
