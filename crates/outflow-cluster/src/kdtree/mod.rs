//! A kd-tree with run-time dimension, tuned for the queries HDBSCAN needs: all-points k-nearest
//! neighbours (core distances) and nearest-point-outside-my-component searches (Borůvka), with
//! per-node bounding boxes.
//!
//! Why our own: the HDBSCAN MST search needs per-node annotations (component membership, smallest core
//! distance) and points stored contiguously in tree order; kiddo fixes the dimension at compile time and
//! the run-time-dimension crates (kdtree, petal-neighbors) neither expose their nodes nor measure as fast.

mod build;
mod filter32;
pub(crate) mod range;
mod search;
#[cfg(test)]
mod tests;

use ndarray::ArrayView2;
use std::marker::PhantomData;

use rayon::prelude::*;

use self::build::{build_par, chunked};
use self::filter32::{Filter32, LANES32, min_lanes32, rdists32};
pub(crate) use self::search::{Balls, Stack};
use self::search::{KnnJob, LeafKnnJob, PointsKnnJob, insert_sorted, min_lanes};

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
    /// Principal-axis frame of the splits and boxes (Euclidean trees); `None`: the data's own axes.
    pub rot: Option<Rotation>,
    /// Rotated coordinates in tree order and in the `soa` layout (empty without a rotation).
    pub rdata: Vec<f64>,
    pub rsoa: Vec<f64>,
    /// How far every box was widened per coordinate for the rounding of the rotated frame (0 without
    /// a rotation); boxes built later from points of the tree widen by it too.
    pub slack: f64,
    /// The `f32` leaves that let Euclidean k-NN searches skip most points without an `f64` distance.
    pub filter: Option<Filter32>,
}

/// An orthonormal change of basis (principal axes, largest variance first) around the mean.
///
/// Why: in 16+ dimensions an axis-aligned kd-tree splits only a few coordinates and its boxes span the
/// rest, so bounds are weak; splitting along principal axes separates clusters at the top of the tree.
/// Euclidean distance is invariant under the rotation, and every distance is still computed from the
/// original coordinates (bit-identical results); only the pruning bounds use the rotated frame.
#[derive(Debug, Clone)]
pub(crate) struct Rotation {
    mean: Vec<f64>,
    /// Row j: the j-th coordinate of every axis (the basis transposed, for [`Rotation::apply`]).
    basis_t: Vec<f64>,
}

impl Rotation {
    /// The principal axes of the rows of `x`; `None` for fewer than two rows or dimensions, or if the
    /// eigendecomposition fails.
    pub fn principal(x: ArrayView2<'_, f64>) -> Option<Rotation> {
        let (n, d) = x.dim();
        if n < 2 || d < 2 {
            return None;
        }
        let mut mean = vec![0.0; d];
        for r in x.rows() {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut cov = vec![0.0; d * d];
        let mut c = vec![0.0; d];
        for r in x.rows() {
            for (cj, (v, m)) in c.iter_mut().zip(r.iter().zip(&mean)) {
                *cj = v - m;
            }
            for i in 0..d {
                for j in 0..=i {
                    cov[i * d + j] += c[i] * c[j];
                }
            }
        }
        let m = faer::Mat::<f64>::from_fn(d, d, |i, j| if i >= j { cov[i * d + j] } else { cov[j * d + i] });
        let eig = m.self_adjoint_eigen(faer::Side::Lower).ok()?;
        let u = eig.U();
        // Eigenvalues come ascending: the last column is the first axis.
        // Axis k is column d − 1 − k of U; its j-th coordinate goes to row j.
        let basis_t: Vec<f64> =
            (0..d).flat_map(|j| (0..d).map(move |k| (j, k))).map(|(j, k)| u[(j, d - 1 - k)]).collect();
        basis_t.iter().all(|v| v.is_finite()).then_some(Rotation { mean, basis_t })
    }

    /// Coordinates of `q` in the rotated frame.
    pub fn apply(&self, q: &[f64], out: &mut [f64]) {
        // Coordinate k is Σ_j axis_k[j] · (q[j] − mean[j]), summed over j in order; every k advances at
        // once (vector instructions over k), each sum in the same order as one at a time.
        let d = q.len();
        out.fill(0.0);
        for (j, col) in self.basis_t.chunks_exact(d).enumerate() {
            let c = q[j] - self.mean[j];
            for (o, &b) in out.iter_mut().zip(col) {
                *o += b * c;
            }
        }
    }
}

impl KdTree {
    /// Builds the tree; splits the widest dimension at the median until nodes hold ≤ `leaf_size` points.
    pub fn build(x: ArrayView2<'_, f64>, leaf_size: usize) -> KdTree {
        Self::build_in(x, leaf_size, None)
    }

    /// A tree split along the principal axes of `x` (Euclidean distance only; see [`Rotation`]).
    pub fn build_rotated(x: ArrayView2<'_, f64>, leaf_size: usize) -> KdTree {
        Self::build_in(x, leaf_size, Rotation::principal(x))
    }

    fn build_in(x: ArrayView2<'_, f64>, leaf_size: usize, rot: Option<Rotation>) -> KdTree {
        let (n, dim) = x.dim();
        let leaf_size = leaf_size.max(1);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        let mut nodes: Vec<Node> = Vec::with_capacity(2 * n.div_ceil(leaf_size) + 1);
        let mut bounds: Vec<f64> = Vec::with_capacity(nodes.capacity() * 2 * dim);
        // Every stage below is parallel (one serial tree build was ~12 % of an HDBSCAN fit at 8 dims).
        let rotated: Option<ndarray::Array2<f64>> = rot.as_ref().map(|r| {
            let mut out = vec![0.0; n * dim];
            out.par_chunks_mut(dim).enumerate().with_min_len(1024).for_each_init(
                || vec![0.0; dim],
                |q, (i, o)| {
                    q.iter_mut().zip(x.row(i)).for_each(|(a, &b)| *a = b);
                    r.apply(q, o);
                },
            );
            ndarray::Array2::from_shape_vec((n, dim), out).expect("n × dim values")
        });
        let frame = rotated.as_ref().map_or(x, |r| r.view());
        let row = |i: u32| frame.row(i as usize);
        (nodes, bounds) = build_par(&row, dim, &mut perm, 0, leaf_size, nodes, bounds);
        let gather = |m: ArrayView2<'_, f64>| {
            let mut v = vec![0.0; n * dim];
            v.par_chunks_mut(dim).zip(perm.par_iter()).with_min_len(1024).for_each(|(o, &i)| {
                o.iter_mut().zip(m.row(i as usize)).for_each(|(a, &b)| *a = b);
            });
            v
        };
        let data = gather(x);
        let rdata = rotated.as_ref().map_or_else(Vec::new, |r| gather(r.view()));
        let (soa, soa_off) = chunked(&nodes, &data, dim, LANES, |_, v| v);
        let rsoa = if rdata.is_empty() { Vec::new() } else { chunked(&nodes, &rdata, dim, LANES, |_, v| v).0 };
        // The rotated coordinates carry rounding errors of a few ulps of the data's extent: bounds in
        // that frame give up 1e-9 of it so that they never exceed a true distance.
        let slack = if rot.is_some() {
            let extent =
                rdata.iter().fold(0.0f64, |m, v| m.max(v.abs())) + data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            1e-9 * extent * (dim as f64).sqrt()
        } else {
            0.0
        };
        // Boxes widened by the slack in every coordinate contain the slack-ball around the box, so a
        // point-to-box bound is at most the box distance minus the slack: safe without a square root per
        // bound (which cost ~15 % of a search).
        if slack > 0.0 {
            for node in bounds.chunks_exact_mut(2 * dim) {
                let (lo, hi) = node.split_at_mut(dim);
                lo.iter_mut().for_each(|v| *v -= slack);
                hi.iter_mut().for_each(|v| *v += slack);
            }
        }
        let filter = rot.as_ref().and_then(|r| Filter32::new(&nodes, &data, dim, &r.mean));
        KdTree { dim, n, data, index: perm, nodes, bounds, soa, soa_off, rot, rdata, rsoa, slack, filter }
    }

    /// Coordinates of tree point `pos` in the frame of the boxes.
    #[inline(always)]
    pub fn bpoint(&self, pos: usize) -> &[f64] {
        if self.rdata.is_empty() { self.point(pos) } else { &self.rdata[pos * self.dim..(pos + 1) * self.dim] }
    }

    /// A query in the frame of the boxes.
    pub fn frame_of<'q>(&self, q: &'q [f64]) -> std::borrow::Cow<'q, [f64]> {
        match &self.rot {
            Some(r) => {
                let mut out = vec![0.0; q.len()];
                r.apply(q, &mut out);
                std::borrow::Cow::Owned(out)
            }
            None => std::borrow::Cow::Borrowed(q),
        }
    }

    /// The box-frame chunk columns of leaf chunk `ci` (the original ones without a rotation).
    #[inline(always)]
    pub fn bchunk(&self, leaf: usize, ci: usize) -> &[f64] {
        let off = self.soa_off[leaf] + ci * self.dim * LANES;
        let src = if self.rsoa.is_empty() { &self.soa } else { &self.rsoa };
        &src[off..off + self.dim * LANES]
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
            let w = q.len() * LANES;
            K::rdists_chunk(q, &self.soa[off..off + w], &mut out);
            off += w;
            let len = (e - c0).min(LANES);
            if len < LANES {
                out[len..].fill(f64::INFINITY);
            }
            if min_lanes(&out) < skip_at_or_above() {
                f(c0, &out[..len]);
            }
        }
    }

    /// A per-point array (`per_point` values a point, in tree order) cut into the slices of the leaves,
    /// each with its leaf's node id: for work shared out leaf by leaf.
    pub(crate) fn leaf_slices<'a, T>(&self, mut v: &'a mut [T], per_point: usize) -> Vec<(usize, &'a mut [T])> {
        let mut out = Vec::new();
        for (id, nd) in self.nodes.iter().enumerate().filter(|(_, nd)| nd.is_leaf()) {
            let (mine, rest) = v.split_at_mut((nd.end - nd.start) as usize * per_point);
            v = rest;
            out.push((id, mine));
        }
        out
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

    /// Lower bound of the reduced distance from a query (in the box frame, see [`KdTree::bpoint`]) to the
    /// points of `node`.
    #[inline(always)]
    pub fn min_rdist<K: Kernel>(&self, qb: &[f64], node: usize) -> f64 {
        let d = qb.len();
        K::min_rdist_box(qb, &self.lo(node)[..d], &self.hi(node)[..d])
    }

    /// From inner node `nd`, the child nearer to `qb` (the query in the box frame) and its bound; the other
    /// child goes on `stack` with its bound (depth-first, nearer child first).
    #[inline(always)]
    pub(crate) fn nearer_child<K: Kernel>(&self, qb: &[f64], nd: Node, stack: &mut Stack) -> (usize, f64) {
        let (l, r) = (nd.left as usize, nd.right as usize);
        let (bl, br) = (self.min_rdist::<K>(qb, l), self.min_rdist::<K>(qb, r));
        if bl <= br {
            stack.push(r, br);
            (l, bl)
        } else {
            stack.push(l, bl);
            (r, br)
        }
    }

    /// The `k` nearest tree points of `q` (reduced distances ascending, tree positions), written into
    /// `dist`/`pos` (length `k`). Ties at the k-th place keep the first point met.
    pub fn knn<K: Kernel>(&self, q: &[f64], dist: &mut [f64], pos: &mut [u32]) {
        // The query's rotated copy on the stack: one allocation per search was a tenth of a prediction's.
        let mut buf = [0.0f64; 64];
        let owned;
        let qb: &[f64] = match &self.rot {
            Some(r) if q.len() <= buf.len() => {
                r.apply(q, &mut buf[..q.len()]);
                &buf[..q.len()]
            }
            _ => {
                owned = self.frame_of(q);
                &owned
            }
        };
        crate::simd::run(KnnJob::<K> { tree: self, query: q, qb, dist, pos, _k: PhantomData })
    }

    /// Iterative depth-first search, nearer child first.
    #[inline(always)]
    pub(crate) fn knn_impl<K: Kernel>(&self, q: &[f64], qb: &[f64], dist: &mut [f64], pos: &mut [u32]) {
        if K::SQUARED_L2
            && q.len() <= MAX_FILTER_DIM
            && let Some(f) = &self.filter
        {
            return self.knn_impl32::<K>(f, q, qb, dist, pos);
        }
        dist.fill(f64::INFINITY);
        pos.fill(NONE);
        let k = dist.len();
        let mut stack = Stack::new();
        let (mut node, mut b) = (0usize, self.min_rdist::<K>(qb, 0));
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
                    (node, b) = self.nearer_child::<K>(qb, nd, &mut stack);
                    continue;
                }
            }
            match stack.pop() {
                Some(x) => (node, b) = x,
                None => break,
            }
        }
    }

    /// [`KdTree::knn_impl`] with the leaves scanned in `f32` first (see [`Filter32`]): the same results.
    #[inline(always)]
    fn knn_impl32<K: Kernel>(&self, f: &Filter32, q: &[f64], qb: &[f64], dist: &mut [f64], pos: &mut [u32]) {
        dist.fill(f64::INFINITY);
        pos.fill(NONE);
        let (k, d) = (dist.len(), q.len());
        let mut q32 = [0.0f32; MAX_FILTER_DIM];
        let q32 = &mut q32[..d];
        let qn = f.query(q, q32);
        let mut out = [0.0f32; LANES32];
        let mut outs = [[0.0f32; LANES32]; LEAF_CHUNKS];
        // The threshold and the bound it was computed for (a square root each: computed when it moves).
        let (mut thr, mut thr_at) = (f32::INFINITY, f64::INFINITY);
        let mut stack = Stack::new();
        let (mut node, mut b) = (0usize, self.min_rdist::<K>(qb, 0));
        loop {
            if b < dist[k - 1] {
                let nd = self.nodes[node];
                if nd.is_leaf() {
                    let (s, e) = (nd.start as usize, nd.end as usize);
                    if dist[k - 1] != thr_at {
                        thr_at = dist[k - 1];
                        thr = f.threshold(qn, thr_at, d);
                    }
                    // Every chunk's distances first and one horizontal minimum for the leaf: most
                    // leaves a search visits hold no point near enough.
                    let chunks = (e - s).div_ceil(LANES32);
                    'scan: {
                        if chunks <= LEAF_CHUNKS {
                            let mut low = [f32::INFINITY; LANES32];
                            for (ci, o) in outs.iter_mut().enumerate().take(chunks) {
                                rdists32(q32, f.chunk(node, ci, d), o);
                                for (m, &v) in low.iter_mut().zip(o.iter()) {
                                    *m = if v < *m { v } else { *m };
                                }
                            }
                            if min_lanes32(&low) > thr {
                                break 'scan;
                            }
                        }
                        for (ci, c0) in (s..e).step_by(LANES32).enumerate() {
                            if chunks <= LEAF_CHUNKS {
                                out = outs[ci];
                            } else {
                                rdists32(q32, f.chunk(node, ci, d), &mut out);
                            }
                            if min_lanes32(&out) > thr {
                                continue;
                            }
                            // The f64 distances of each half with a point that passed, all lanes at
                            // once: a point's sum runs over the dimensions in order, as `K::rdist`'s
                            // does, so the values are the same bit for bit (one at a time, the
                            // dependent additions of 24 dimensions cost more than the 8 lanes).
                            const { assert!(LANES32 == 2 * LANES) };
                            let mut exact = [0.0f64; LANES];
                            for h in 0..LANES32 / LANES {
                                let first = c0 + h * LANES;
                                let lanes = &out[h * LANES..(h + 1) * LANES];
                                if first >= e || !lanes.iter().any(|&v| v <= thr) {
                                    continue;
                                }
                                let w = d * LANES;
                                let off = self.soa_off[node] + (2 * ci + h) * w;
                                K::rdists_chunk(q, &self.soa[off..off + w], &mut exact);
                                for (l, (&v, &r)) in lanes.iter().zip(&exact).enumerate().take(e - first) {
                                    if v <= thr && r < dist[k - 1] {
                                        insert_sorted(dist, pos, r, (first + l) as u32);
                                    }
                                }
                            }
                            if dist[k - 1] != thr_at {
                                thr_at = dist[k - 1];
                                thr = f.threshold(qn, thr_at, d);
                            }
                        }
                    }
                } else {
                    (node, b) = self.nearer_child::<K>(qb, nd, &mut stack);
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
        let work: Vec<_> = self
            .leaf_slices(&mut dist, k)
            .into_iter()
            .zip(self.leaf_slices(&mut pos, k))
            .map(|((leaf, d), (_, p))| (leaf, d, p))
            .collect();
        let balls = Balls::new::<K>(self);
        work.into_par_iter().for_each(|(leaf, d, p)| {
            crate::simd::run(LeafKnnJob::<K> { tree: self, balls: &balls, leaf, k, dist: d, pos: p, _k: PhantomData })
        });
        (dist, pos)
    }

    /// k-NN of the points of one leaf, [`LANES`] at a time.
    #[inline(always)]
    fn knn_leaf_impl<K: Kernel>(&self, balls: &Balls, leaf: usize, k: usize, dist: &mut [f64], pos: &mut [u32]) {
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
            let q0 = self.bpoint(c0);
            let bcols = self.bchunk(leaf, ci);
            let mut stack = Stack::new();
            let mut node = 0usize;
            loop {
                K::box_from_chunk(bcols, self.lo(node), self.hi(node), &mut bounds);
                balls.tighten::<K>(self.dim, qcols, node, &mut bounds);
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
                        // Nearer child (for the chunk's first point) first.
                        node = self.nearer_child::<K>(q0, n2, &mut stack).0;
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

/// Runs `$body` with `$D` bound to `$dim`, as a literal for dimensions 2–8: queries sliced to `[..$D]`
/// then have a compile-time length, and the distance and bound loops of an inlined search unroll and
/// vectorise fully (~6 % faster at 8 dimensions).
macro_rules! with_dim {
    ($dim:expr, $D:ident => $body:expr) => {
        with_dim!(@arms $dim, $D, $body; 2, 3, 4, 5, 6, 7, 8)
    };
    (@arms $dim:expr, $D:ident, $body:expr; $($n:literal),*) => {
        match $dim {
            $($n => {
                const $D: usize = $n;
                $body
            })*
            #[allow(non_snake_case)]
            $D => $body,
        }
    };
}
pub(crate) use with_dim;

/// Queries of at most this many dimensions use the `f32` filter (its query lives on the stack).
const MAX_FILTER_DIM: usize = 64;

/// Leaves of up to this many `f32` chunks are checked as a whole before their chunks (a 64-point leaf
/// is 4).
const LEAF_CHUNKS: usize = 4;

/// Below this dimension one traversal per query point measures faster than chunked traversals.
pub(crate) const BATCH_MIN_DIM: usize = 16;
