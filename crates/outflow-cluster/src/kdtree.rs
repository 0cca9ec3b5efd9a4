//! A kd-tree with run-time dimension, tuned for the queries HDBSCAN needs: all-points k-nearest
//! neighbours (core distances) and nearest-point-outside-my-component searches (Borůvka), with
//! per-node bounding boxes.
//!
//! Why our own: the HDBSCAN MST search needs per-node annotations (component membership, smallest core
//! distance) and points stored contiguously in tree order; kiddo fixes the dimension at compile time and
//! the run-time-dimension crates (kdtree, petal-neighbors) neither expose their nodes nor measure as fast.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::metric::Kernel;

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
        KdTree { dim, n, data, index: perm, nodes, bounds }
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
        dist.fill(f64::INFINITY);
        pos.fill(NONE);
        let root_bound = self.min_rdist::<K>(q, 0);
        self.knn_rec::<K>(0, root_bound, q, dist, pos);
    }

    fn knn_rec<K: Kernel>(&self, node: usize, bound: f64, q: &[f64], dist: &mut [f64], pos: &mut [u32]) {
        let k = dist.len();
        if bound >= dist[k - 1] && dist[k - 1].is_finite() {
            return;
        }
        let nd = self.nodes[node];
        if nd.is_leaf() {
            for p in nd.start as usize..nd.end as usize {
                let r = K::rdist(q, self.point(p));
                if r < dist[k - 1] {
                    insert_sorted(dist, pos, r, p as u32);
                }
            }
            return;
        }
        let (l, r) = (nd.left as usize, nd.right as usize);
        let bl = self.min_rdist::<K>(q, l);
        let br = self.min_rdist::<K>(q, r);
        if bl <= br {
            self.knn_rec::<K>(l, bl, q, dist, pos);
            self.knn_rec::<K>(r, br, q, dist, pos);
        } else {
            self.knn_rec::<K>(r, br, q, dist, pos);
            self.knn_rec::<K>(l, bl, q, dist, pos);
        }
    }

    /// k nearest neighbours of every tree point (itself included), in tree order: `n * k` reduced
    /// distances and positions. Parallel; the result does not depend on the number of threads.
    pub fn knn_all<K: Kernel>(&self, k: usize) -> (Vec<f64>, Vec<u32>) {
        let mut dist = vec![0.0; self.n * k];
        let mut pos = vec![0u32; self.n * k];
        dist.par_chunks_mut(k * 64).zip(pos.par_chunks_mut(k * 64)).enumerate().for_each(|(chunk, (d, p))| {
            for (j, (dd, pp)) in d.chunks_mut(k).zip(p.chunks_mut(k)).enumerate() {
                let i = chunk * 64 + j;
                self.knn::<K>(self.point(i), dd, pp);
            }
        });
        (dist, pos)
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
