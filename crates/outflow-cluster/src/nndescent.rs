//! Approximate k-nearest-neighbour graphs by NN-descent, for data of many dimensions, where a kd-tree
//! prunes little and an exact search costs close to n² distances.
//!
//! The graph starts from the leaves of random-projection trees (points that fall in one leaf are near
//! each other with good probability) and is refined by NN-descent (Dong, Charikar and Li, 2011): a
//! neighbour of a neighbour is likely a neighbour, so each round compares the members of every point's
//! neighbour list and reverse list with each other — pairs with at least one member new since the last
//! round — and keeps what comes closer. Rounds stop when fewer than `DELTA · n · k` list entries change.
//! The search numbers the rows in the leaf order of its first tree, so that rows near each other in
//! space are near in memory.
//!
//! Deterministic for a seed, whatever the thread count: every random choice is a hash of the seed and
//! the ids involved, a pair has one distance whichever row asks, and a list keeps the `k` smallest
//! distinct (distance, id) it was offered, which does not depend on the order of the offers; a round's
//! change is counted as the entries not in a list before it. Written here rather than taken from a
//! crate: the Rust approximate-neighbour crates build HNSW indexes, whose parallel construction depends
//! on thread timing, and the graph is all HDBSCAN needs.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::metric::Metric;
use crate::simd;

/// A round changing fewer than this share of the `n · k` list entries ends the descent.
const DELTA: f64 = 0.001;
/// Rounds at most.
const MAX_ROUNDS: usize = 12;
/// Random-projection trees of the initial graph.
const TREES: u64 = 5;
/// Neighbours sampled per point and round, new and old each (pynndescent's `max_candidates`).
const MAX_CANDIDATES: usize = 20;
/// Rows on which a graph's recall is measured ([`recall`]).
pub(crate) const RECALL_SAMPLE: usize = 128;
/// Destination blocks of a round's updates (each applied by one task).
const BLOCKS: usize = 256;
/// An empty list slot.
const EMPTY: u32 = u32::MAX;

/// The `k` nearest neighbours found for every row, the row itself left out.
#[derive(Debug, Clone)]
pub(crate) struct KnnGraph {
    pub(crate) k: usize,
    /// Row `i`'s neighbours at `i·k .. (i+1)·k`, nearest first (ties by id).
    pub(crate) indices: Vec<u32>,
    /// Their distances.
    pub(crate) distances: Vec<f64>,
}

impl KnnGraph {
    pub(crate) fn neighbors(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = i * self.k..(i + 1) * self.k;
        self.indices[r.clone()]
            .iter()
            .zip(&self.distances[r])
            .filter(|(j, _)| **j != EMPTY)
            .map(|(&j, &d)| (j as usize, d))
    }
}

/// The rows as the search reads them, and its distance: in single precision for Euclidean (the graph is
/// approximate: half the memory traffic, twice the vector lanes), squared (the same order); the graph's
/// final distances are recomputed in double precision. Rows are numbered in the search's own order
/// (`order[i]` is the input row of search row `i`): the leaf order of a random-projection tree, so that
/// rows near in space are near in memory.
struct Space<'a> {
    x: &'a [f64],
    /// The rows in search order in single precision (Euclidean only).
    x32: Vec<f32>,
    /// The rows in search order (the other metrics, when there is an order).
    x64: Vec<f64>,
    order: Option<Vec<u32>>,
    d: usize,
    metric: Metric,
}

impl<'a> Space<'a> {
    fn new(x: &'a [f64], d: usize, metric: Metric, order: Option<Vec<u32>>) -> Space<'a> {
        let rows = |o: &[u32]| -> Vec<f64> {
            let mut v = Vec::with_capacity(o.len() * d);
            o.iter().for_each(|&r| v.extend_from_slice(&x[r as usize * d..(r as usize + 1) * d]));
            v
        };
        let (x32, x64) = match (&order, metric == Metric::Euclidean) {
            (Some(o), true) => (rows(o).into_iter().map(|v| v as f32).collect(), Vec::new()),
            (None, true) => (x.iter().map(|&v| v as f32).collect(), Vec::new()),
            (Some(o), false) => (Vec::new(), rows(o)),
            (None, false) => (Vec::new(), Vec::new()),
        };
        Space { x, x32, x64, order, d, metric }
    }

    fn rows(&self) -> usize {
        self.x.len() / self.d
    }

    /// The input row of search row `i`.
    #[inline(always)]
    fn input(&self, i: u32) -> u32 {
        self.order.as_ref().map_or(i, |o| o[i as usize])
    }

    /// Search row `i` in double precision (the other metrics' distance).
    #[inline(always)]
    fn row(&self, i: u32) -> &[f64] {
        let (i, d) = (i as usize, self.d);
        if self.x64.is_empty() { &self.x[i * d..(i + 1) * d] } else { &self.x64[i * d..(i + 1) * d] }
    }

    /// Search row `i` as `f64` values, from the copy the search reads.
    fn coords(&self, i: u32) -> Vec<f64> {
        let (i, d) = (i as usize, self.d);
        if self.x32.is_empty() {
            self.row(i as u32).to_vec()
        } else {
            self.x32[i * d..(i + 1) * d].iter().map(|&v| f64::from(v)).collect()
        }
    }

    /// The dot product of `w` with search row `i`.
    #[inline(always)]
    fn dot(&self, w: &[f64], i: u32) -> f64 {
        let (i, d) = (i as usize, self.d);
        if self.x32.is_empty() { dot(w, self.row(i as u32)) } else { dot32(w, &self.x32[i * d..(i + 1) * d]) }
    }

    #[inline(always)]
    fn dist(&self, i: u32, j: u32) -> f32 {
        match self.metric {
            Metric::Euclidean => {
                let (i, j) = (i as usize * self.d, j as usize * self.d);
                squared(&self.x32[i..i + self.d], &self.x32[j..j + self.d])
            }
            // In one order of the two, so that the pair has one distance.
            m => m.distance(self.row(i.min(j)), self.row(i.max(j))) as f32,
        }
    }

    /// The exact distance of two search rows, from the input.
    fn exact(&self, i: u32, j: u32) -> f64 {
        let row = |r: u32| &self.x[r as usize * self.d..(r as usize + 1) * self.d];
        self.metric.distance(row(self.input(i)), row(self.input(j)))
    }
}

/// Squared Euclidean distance, eight partial sums (vectorised inside [`simd::run`]).
#[inline(always)]
fn squared(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let t = x[l] - y[l];
            s[l] += t * t;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    // Halves added lane-wise, as a vector unit reduces (keeps the loop's eight sums in one register).
    let h = [s[0] + s[4], s[1] + s[5], s[2] + s[6], s[3] + s[7]];
    ((h[0] + h[2]) + (h[1] + h[3])) + tail
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash(seed: u64, a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(seed ^ a).wrapping_add(b)).wrapping_add(c))
}

/// Neighbour lists, `k` slots per row, nearest first, each entry flagged new until sampled.
struct Lists {
    k: usize,
    idx: Vec<u32>,
    dist: Vec<f32>,
    new: Vec<bool>,
}

impl Lists {
    fn kth(&self, i: u32) -> f32 {
        self.dist[i as usize * self.k + self.k - 1]
    }

    /// One round of the local join: every row's candidates compared, the pairs that would enter a list
    /// gathered by the block of rows they go to, then each block applied on its own (no locks, no sort:
    /// the outcome does not depend on the order). Returns how many entries are new in the lists.
    fn join(&mut self, space: &Space<'_>, new_c: &Candidates, old_c: &Candidates) -> usize {
        let (n, k) = (self.idx.len() / self.k, self.k);
        let block = n.div_ceil(BLOCKS).max(64);
        let blocks = n.div_ceil(block);
        let thr: Vec<f32> = (0..n as u32).map(|i| self.kth(i)).collect();
        // Per chunk of source rows, the updates `(row, neighbour, distance)` for each destination block.
        let found: Vec<Vec<Vec<(u32, u32, f32)>>> = (0..n)
            .into_par_iter()
            .chunks(block)
            .map(|rows| {
                let (mut out, mut scratch, mut hits) = (vec![Vec::new(); blocks], Vec::new(), Vec::new());
                for u in rows {
                    let (new, old) = (new_c.of(u), old_c.of(u));
                    let (scratch, hits, out) = (&mut scratch, &mut hits, &mut out);
                    simd::run(LocalJoin { space, new, old, thr: &thr, scratch, hits, out, block });
                }
                out
            })
            .collect();
        let found = &found;
        self.idx
            .par_chunks_mut(block * k)
            .zip(self.dist.par_chunks_mut(block * k))
            .zip(self.new.par_chunks_mut(block * k))
            .enumerate()
            .map(|(b, ((idx, dist), new))| {
                let before = idx.to_vec();
                let first = b * block;
                for &(r, v, d) in found.iter().flat_map(|chunk| &chunk[b]) {
                    let r = (r as usize - first) * k..(r as usize - first + 1) * k;
                    insert(&mut idx[r.clone()], &mut dist[r.clone()], &mut new[r], v, d);
                }
                // Entries that were not in the list before the round.
                idx.chunks(k)
                    .zip(before.chunks(k))
                    .map(|(now, was)| now.iter().filter(|&&v| v != EMPTY && !was.contains(&v)).count())
                    .sum::<usize>()
            })
            .sum()
    }
}

/// Offers neighbour `v` at distance `d` to one row's list (kept sorted by (distance, id)): it enters
/// unless it is there already or not nearer than the last.
fn insert(idx: &mut [u32], dist: &mut [f32], new: &mut [bool], v: u32, d: f32) {
    let k = idx.len();
    let before = |idx: &[u32], dist: &[f32], i: usize| d < dist[i] || (d == dist[i] && v < idx[i]);
    if !before(idx, dist, k - 1) || idx.contains(&v) {
        return;
    }
    let mut pos = k - 1;
    while pos > 0 && before(idx, dist, pos - 1) {
        idx[pos] = idx[pos - 1];
        dist[pos] = dist[pos - 1];
        new[pos] = new[pos - 1];
        pos -= 1;
    }
    idx[pos] = v;
    dist[pos] = d;
    new[pos] = true;
}

/// The approximate `k`-nearest-neighbour graph of the rows of `x` (`k < rows`), seeded.
pub(crate) fn knn_graph(x: ArrayView2<'_, f64>, metric: Metric, k: usize, seed: u64) -> KnnGraph {
    let x = x.as_standard_layout();
    let (n, d) = x.dim();
    let xs = x.as_slice().expect("standard layout");
    let leaf = k.max(16);
    // The first tree's leaves, in order, number the rows of the search.
    let first = rp_leaves(&Space::new(xs, d, metric, None), n, leaf, hash(seed, 0x7EE, 0, 0));
    let order: Vec<u32> = first.iter().flatten().copied().collect();
    let space = Space::new(xs, d, metric, Some(order));
    let mut at = 0u32;
    let first: Vec<Vec<u32>> = first
        .iter()
        .map(|l| {
            at += l.len() as u32;
            (at - l.len() as u32..at).collect()
        })
        .collect();
    let mut lists = Lists { k, idx: vec![EMPTY; n * k], dist: vec![f32::INFINITY; n * k], new: vec![true; n * k] };
    // Random-projection trees: each row compared with the other rows of its leaf.
    let rest: Vec<Vec<Vec<u32>>> =
        (1..TREES).into_par_iter().map(|t| rp_leaves(&space, n, leaf, hash(seed, 0x7EE, t, 0))).collect();
    for leaves in std::iter::once(first).chain(rest) {
        let mut leaf_of = vec![0u32; n];
        for (l, members) in leaves.iter().enumerate() {
            for &r in members {
                leaf_of[r as usize] = l as u32;
            }
        }
        lists
            .idx
            .par_chunks_mut(k)
            .zip(lists.dist.par_chunks_mut(k))
            .zip(lists.new.par_chunks_mut(k))
            .enumerate()
            .for_each(|(row, ((idx, dist), new))| {
                let mates = &leaves[leaf_of[row] as usize];
                simd::run(LeafMates { space: &space, row: row as u32, mates, idx, dist, new });
            });
    }
    for round in 0..MAX_ROUNDS as u64 {
        let (new_c, old_c) = candidates(&mut lists, n, hash(seed, 0xCA4D, round, 0));
        let changed = lists.join(&space, &new_c, &old_c);
        if (changed as f64) <= DELTA * (n * k) as f64 {
            break;
        }
    }
    // Input rows' lists, in input ids, sorted by exact distances.
    let mut indices = vec![EMPTY; n * k];
    let mut distances = vec![f64::INFINITY; n * k];
    let mut rank = vec![0u32; n];
    for i in 0..n as u32 {
        rank[space.input(i) as usize] = i;
    }
    indices.par_chunks_mut(k).zip(distances.par_chunks_mut(k)).enumerate().for_each(|(r, (idx, dist))| {
        let u = rank[r];
        let mut pairs: Vec<(f64, u32)> = lists.idx[u as usize * k..(u as usize + 1) * k]
            .iter()
            .filter(|&&v| v != EMPTY)
            .map(|&v| (space.exact(u, v), space.input(v)))
            .collect();
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (j, (d, v)) in pairs.into_iter().enumerate() {
            idx[j] = v;
            dist[j] = d;
        }
    });
    KnnGraph { k, indices, distances }
}

/// The leaves of one random-projection tree: each node splits its rows by the hyperplane halfway between
/// two of them (chosen by hash); rows on the plane, or a split leaving one side empty (duplicates), go by
/// hash.
fn rp_leaves(space: &Space<'_>, n: usize, leaf: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<u32>, u64)> = vec![((0..n as u32).collect(), 1)];
    while let Some((rows, node)) = stack.pop() {
        if rows.len() <= leaf {
            out.push(rows);
            continue;
        }
        let pick = |salt: u64| rows[(hash(seed, node, salt, 0) % rows.len() as u64) as usize];
        let (a, mut b) = (pick(1), pick(2));
        if a == b {
            b = rows[(rows.iter().position(|&r| r == a).expect("picked from rows") + 1) % rows.len()];
        }
        let (pa, pb) = (space.coords(a), space.coords(b));
        let normal: Vec<f64> = pa.iter().zip(&pb).map(|(x, y)| x - y).collect();
        let offset: f64 = normal.iter().zip(pa.iter().zip(&pb)).map(|(w, (x, y))| w * (x + y) / 2.0).sum();
        let mut left = Vec::with_capacity(rows.len() / 2 + 1);
        let mut right = Vec::with_capacity(rows.len() / 2 + 1);
        for &r in &rows {
            let s = space.dot(&normal, r) - offset;
            let goes_left = if s == 0.0 { hash(seed, node, u64::from(r), 3) & 1 == 1 } else { s > 0.0 };
            if goes_left { left.push(r) } else { right.push(r) }
        }
        if left.is_empty() || right.is_empty() {
            (left, right) = rows.iter().partition(|&&r| hash(seed, node, u64::from(r), 4) & 1 == 1);
        }
        stack.push((left, 2 * node));
        stack.push((right, 2 * node + 1));
    }
    out
}

/// The dot product with a single-precision row, four partial sums.
fn dot32(a: &[f64], b: &[f32]) -> f64 {
    let mut s = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * f64::from(*y)).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            s[l] += x[l] * f64::from(y[l]);
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// The dot product, four partial sums.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            s[l] += x[l] * y[l];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// One row's list offered the other rows of its leaf.
struct LeafMates<'a> {
    space: &'a Space<'a>,
    row: u32,
    mates: &'a [u32],
    idx: &'a mut [u32],
    dist: &'a mut [f32],
    new: &'a mut [bool],
}

impl simd::Job for LeafMates<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for &q in self.mates {
            if q != self.row {
                let d = self.space.dist(self.row, q);
                insert(self.idx, self.dist, self.new, q, d);
            }
        }
    }
}

/// Candidate lists of one round, `MAX_CANDIDATES` slots per row.
struct Candidates {
    ids: Vec<u32>,
    len: Vec<u8>,
}

impl Candidates {
    fn new(n: usize) -> Candidates {
        Candidates { ids: vec![EMPTY; n * MAX_CANDIDATES], len: vec![0; n] }
    }

    fn of(&self, u: usize) -> &[u32] {
        &self.ids[u * MAX_CANDIDATES..u * MAX_CANDIDATES + self.len[u] as usize]
    }
}

/// Keeps the `lim` smallest distinct keys of `keys`, ascending; returns the largest kept (every key at
/// most it was kept).
fn lowest(keys: &mut Vec<u64>, lim: usize) -> u64 {
    keys.sort_unstable();
    keys.dedup();
    keys.truncate(lim);
    if keys.len() < lim { u64::MAX } else { keys[lim - 1] }
}

/// Samples each row's new and old candidates — its own neighbours and the rows that hold it as one —
/// keeping the `MAX_CANDIDATES` of lowest hash priority, and marks the sampled new entries old.
fn candidates(lists: &mut Lists, n: usize, seed: u64) -> (Candidates, Candidates) {
    let k = lists.k;
    // Reverse entries bucketed by the row they point to (a counting sort): (holder, flagged new).
    let mut start = vec![0usize; n + 1];
    for &v in lists.idx.iter().filter(|&&v| v != EMPTY) {
        start[v as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut reverse = vec![(0u32, false); start[n]];
    for (e, &v) in lists.idx.iter().enumerate() {
        if v != EMPTY {
            reverse[fill[v as usize]] = ((e / k) as u32, lists.new[e]);
            fill[v as usize] += 1;
        }
    }
    drop(fill);
    // The pair's priority (symmetric), above the id offered.
    let key =
        |u: u32, v: u32| mix(seed ^ (u64::from(u.min(v)) << 32 | u64::from(u.max(v)))) & !0xFFFF_FFFF | u64::from(v);
    // Per row, in place: the lowest-priority forward and reverse entries, new and old apart; the row's
    // own new entries that were sampled turn old (they are compared this round).
    let mut new_c = Candidates::new(n);
    let mut old_c = Candidates::new(n);
    let (reverse, start) = (&reverse, &start);
    new_c
        .ids
        .par_chunks_mut(MAX_CANDIDATES)
        .zip(new_c.len.par_iter_mut())
        .zip(old_c.ids.par_chunks_mut(MAX_CANDIDATES).zip(old_c.len.par_iter_mut()))
        .zip(lists.idx.par_chunks(k).zip(lists.new.par_chunks_mut(k)))
        .enumerate()
        .with_min_len(256)
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(new_keys, old_keys), (u, (((new_ids, new_len), (old_ids, old_len)), (idx, flags)))| {
                let back = &reverse[start[u]..start[u + 1]];
                // No new entry either way: no pair to compare (old with old was compared before).
                if !flags.iter().zip(idx).any(|(&f, &v)| f && v != EMPTY) && !back.iter().any(|e| e.1) {
                    (*new_len, *old_len) = (0, 0);
                    return;
                }
                new_keys.clear();
                old_keys.clear();
                let own = idx.iter().copied().zip(flags.iter().copied()).filter(|e| e.0 != EMPTY);
                for (v, is_new) in own.chain(back.iter().copied()) {
                    if is_new { new_keys.push(key(u as u32, v)) } else { old_keys.push(key(u as u32, v)) }
                }
                let last_new = lowest(new_keys, MAX_CANDIDATES);
                lowest(old_keys, MAX_CANDIDATES);
                for (&v, flag) in idx.iter().zip(flags.iter_mut()) {
                    if *flag && v != EMPTY && key(u as u32, v) <= last_new {
                        *flag = false;
                    }
                }
                for (keys, ids, len) in [(&*new_keys, new_ids, new_len), (&*old_keys, old_ids, old_len)] {
                    ids.iter_mut().zip(keys).for_each(|(i, &key)| *i = key as u32);
                    *len = keys.len() as u8;
                }
            },
        );
    (new_c, old_c)
}

/// The local join of one row: its new candidates with each other and with its old ones; a pair is kept
/// for a row it would enter (nearer than its last neighbour at the start of the round), in the bucket of
/// that row's block. For Euclidean the candidates' rows are first copied side by side (`scratch`), so
/// the pairs read them from the nearest cache; the pairs kept are collected in `hits` first (reused
/// between rows).
struct LocalJoin<'a> {
    space: &'a Space<'a>,
    new: &'a [u32],
    old: &'a [u32],
    thr: &'a [f32],
    scratch: &'a mut Vec<f32>,
    hits: &'a mut Vec<(u32, u32, f32)>,
    out: &'a mut [Vec<(u32, u32, f32)>],
    block: usize,
}

impl simd::Job for LocalJoin<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        // Plain loops, no closure: a closure is not reliably compiled with the wrapper's vector unit.
        let (space, d) = (self.space, self.space.d);
        let (nn, m) = (self.new.len(), self.new.len() + self.old.len());
        let mut ids = [EMPTY; 2 * MAX_CANDIDATES];
        let mut thr = [0.0f32; 2 * MAX_CANDIDATES];
        for (j, &v) in self.new.iter().chain(self.old).enumerate() {
            ids[j] = v;
            thr[j] = self.thr[v as usize];
        }
        let gathered = !space.x32.is_empty();
        if gathered {
            self.scratch.clear();
            for &v in &ids[..m] {
                self.scratch.extend_from_slice(&space.x32[v as usize * d..(v as usize + 1) * d]);
            }
        }
        // Every pair written, kept by moving the end past it: no branch to mispredict on a coin-flip test.
        let hits = &mut *self.hits;
        hits.resize(2 * nn * m + 1, (0, 0, 0.0));
        let mut len = 0;
        for i in 0..nn {
            let (p, tp) = (ids[i], thr[i]);
            for j in i + 1..m {
                let q = ids[j];
                let dist = if gathered {
                    squared(&self.scratch[i * d..(i + 1) * d], &self.scratch[j * d..(j + 1) * d])
                } else {
                    space.dist(p, q)
                };
                let other = p != q;
                hits[len] = (p, q, dist);
                len += usize::from(other && dist < tp);
                hits[len] = (q, p, dist);
                len += usize::from(other && dist < thr[j]);
            }
        }
        for &e in &hits[..len] {
            self.out[e.0 as usize / self.block].push(e);
        }
    }
}

/// Components compared pairwise at most by [`closest_pairs`]; above, each with its nearest by centroid.
const ALL_PAIRS: usize = 64;
/// Nearest components by centroid tried per component above [`ALL_PAIRS`].
const NEAREST_COMPONENTS: usize = 8;

/// The members of each set of the union-find forest `uf` among `rows`, ascending, sets in order of
/// their first member.
pub(crate) fn components(uf: &mut [usize], rows: impl Iterator<Item = usize>) -> Vec<Vec<usize>> {
    let mut comp_of_root = std::collections::HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in rows {
        let r = crate::hdbscan::tree::find(uf, i);
        let c = *comp_of_root.entry(r).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[c].push(i);
    }
    members
}

/// For the components a neighbour graph left apart (`members`: rows of each), candidate pairs of
/// components — every pair when there are few, else each with its nearest by centroid — and for each
/// pair the closest rows found under `cost(i, j, distance)` (a pair's cost, symmetric) by alternating
/// scans: from the member of A nearest B's centroid, the closest member of B, then of A, and so on.
/// Returns the pairs `(a, b)` (a < b) and their `(row of a, row of b, cost)`.
#[allow(clippy::type_complexity)]
pub(crate) fn closest_pairs(
    x: ArrayView2<'_, f64>,
    metric: Metric,
    members: &[Vec<usize>],
    cost: impl Fn(usize, usize, f64) -> f64 + Sync,
) -> (Vec<(usize, usize)>, Vec<(usize, usize, f64)>) {
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
    // The row of `among` closest to `from` (ties by row).
    let best_of = |from: usize, among: &[usize]| -> (usize, f64) {
        among
            .iter()
            .map(|&j| (j, cost(from, j, dist(row(from), row(j)))))
            .min_by(|u, v| u.1.total_cmp(&v.1).then(u.0.cmp(&v.0)))
            .expect("a component has rows")
    };
    let closest: Vec<(usize, usize, f64)> = pairs
        .par_iter()
        .map(|&(ca, cb)| {
            let (a_rows, b_rows) = (&members[ca], &members[cb]);
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
    (pairs, closest)
}

/// The share of true `k` nearest neighbours the graph holds, measured on up to `sample` rows chosen by
/// hash against an exact scan: a neighbour counts when it is no farther than the true `k`-th (ties are
/// not misses).
pub(crate) fn recall(x: ArrayView2<'_, f64>, metric: Metric, graph: &KnnGraph, sample: usize, seed: u64) -> f64 {
    let n = x.nrows();
    let k = graph.k;
    if n <= 1 || k == 0 {
        return 1.0;
    }
    let mut rows: Vec<usize> = (0..n).collect();
    rows.sort_by_key(|&i| hash(seed, 0x5EC, i as u64, 0));
    rows.truncate(sample.min(n));
    let x = x.as_standard_layout();
    let space = Space::new(x.as_slice().expect("standard layout"), x.ncols(), metric, None);
    let found: usize = rows
        .par_iter()
        .map(|&i| {
            let mut all = simd::run(Scan { space: &space, row: i as u32 });
            let kk = k.min(all.len());
            all.select_nth_unstable_by(kk - 1, |a, b| a.0.total_cmp(&b.0));
            // The k-th in single precision, then exactly among the rows within its rounding.
            let near = f64::from(all[kk - 1].0) * (1.0 + 1e-5) + 1e-30;
            let mut exact: Vec<f64> =
                all.iter().filter(|(d, _)| f64::from(*d) <= near).map(|&(_, j)| space.exact(i as u32, j)).collect();
            exact.sort_unstable_by(f64::total_cmp);
            let Some(&kth) = exact.get(kk - 1) else { return 0 };
            graph.neighbors(i).filter(|&(_, d)| d <= kth * (1.0 + 1e-12)).count().min(kk)
        })
        .sum();
    found as f64 / (rows.len() * k.min(n - 1)) as f64
}

/// One row's distance to every other row.
struct Scan<'a> {
    space: &'a Space<'a>,
    row: u32,
}

impl simd::Job for Scan<'_> {
    type Output = Vec<(f32, u32)>;
    #[inline(always)]
    fn run(self) -> Vec<(f32, u32)> {
        let n = self.space.rows() as u32;
        let mut out = Vec::with_capacity(n as usize);
        for j in 0..n {
            if j != self.row {
                out.push((self.space.dist(self.row, j), j));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn blobs(n: usize, d: usize, seed: u64) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            let centre = (i % 5) as f64 * 10.0;
            let u = (hash(seed, i as u64, j as u64, 9) >> 11) as f64 / (1u64 << 53) as f64;
            centre + (u - 0.5) * 4.0
        })
    }

    #[test]
    fn finds_most_neighbours_and_is_deterministic_across_threads() {
        let x = blobs(3000, 16, 7);
        let g = knn_graph(x.view(), Metric::Euclidean, 15, 1);
        let r = recall(x.view(), Metric::Euclidean, &g, 300, 2);
        assert!(r > 0.95, "recall {r}");
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let h = one.install(|| knn_graph(x.view(), Metric::Euclidean, 15, 1));
        assert_eq!((g.indices.clone(), g.distances.clone()), (h.indices, h.distances));
        // Lists are sorted and exclude the row itself; distances are true distances.
        for i in [0, 17, 2999] {
            let nb: Vec<(usize, f64)> = g.neighbors(i).collect();
            assert_eq!(nb.len(), 15);
            assert!(nb.windows(2).all(|w| w[0].1 <= w[1].1));
            assert!(nb.iter().all(|&(j, d)| j != i
                && (d - Metric::Euclidean.distance(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap())).abs()
                    < 1e-9));
        }
        // Another seed, another (still good) graph.
        let other = knn_graph(x.view(), Metric::Euclidean, 15, 99);
        assert!(recall(x.view(), Metric::Euclidean, &other, 300, 2) > 0.95);
    }

    #[test]
    fn other_metrics_and_duplicates() {
        let mut x = blobs(800, 6, 3);
        for i in 0..50 {
            let r = x.row(0).to_owned();
            x.row_mut(i).assign(&r);
        }
        let g = knn_graph(x.view(), Metric::Manhattan, 10, 5);
        assert!(recall(x.view(), Metric::Manhattan, &g, 200, 2) > 0.9);
        assert!(g.neighbors(3).all(|(j, _)| j != 3));
        // The same graph on one thread and on three (another split of the rounds' work).
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let h = pool.install(|| knn_graph(x.view(), Metric::Manhattan, 10, 5));
            assert_eq!((&g.indices, &g.distances), (&h.indices, &h.distances), "{threads} threads");
        }
    }
}
