//! Approximate k-nearest-neighbour graphs by NN-descent, for data of many dimensions, where a kd-tree
//! prunes little and an exact search costs close to n² distances.
//!
//! The graph starts from the leaves of random-projection trees (points that fall in one leaf are near
//! each other with good probability) and is refined by NN-descent (Dong, Charikar and Li, 2011): a
//! neighbour of a neighbour is likely a neighbour, so each round compares the members of every point's
//! neighbour list and reverse list with each other — pairs with at least one member new since the last
//! round — and keeps what comes closer. Rounds stop when fewer than `DELTA · n · k` list entries change.
//!
//! Deterministic for a seed, whatever the thread count: every random choice is a hash of the seed and
//! the ids involved, and the updates of a round are applied to each list in ascending (distance, id)
//! order. Written here rather than taken from a crate: the Rust approximate-neighbour crates build HNSW
//! indexes, whose parallel construction depends on thread timing, and the graph is all HDBSCAN needs.

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

/// The rows as the search reads them, and its distance: in single precision (the graph is approximate:
/// half the memory traffic, twice the vector lanes), squared for Euclidean (the same order). The graph's
/// final distances are recomputed in double precision.
struct Space<'a> {
    x: &'a [f64],
    x32: Vec<f32>,
    d: usize,
    metric: Metric,
}

impl<'a> Space<'a> {
    fn new(x: &'a [f64], d: usize, metric: Metric) -> Space<'a> {
        let x32 = if metric == Metric::Euclidean { x.iter().map(|&v| v as f32).collect() } else { Vec::new() };
        Space { x, x32, d, metric }
    }

    #[inline(always)]
    fn row(&self, i: u32) -> &[f64] {
        let i = i as usize;
        &self.x[i * self.d..(i + 1) * self.d]
    }

    #[inline(always)]
    fn dist(&self, i: u32, j: u32) -> f32 {
        match self.metric {
            Metric::Euclidean => {
                let (i, j) = (i as usize * self.d, j as usize * self.d);
                squared(&self.x32[i..i + self.d], &self.x32[j..j + self.d])
            }
            m => m.distance(self.row(i), self.row(j)) as f32,
        }
    }

    /// The exact distance of two rows.
    fn exact(&self, i: u32, j: u32) -> f64 {
        self.metric.distance(self.row(i), self.row(j))
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
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail
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

    /// Applies updates `(row, neighbour, distance)`: each row takes its own in ascending (distance, id)
    /// order. Returns how many entries changed.
    fn apply(&mut self, updates: Vec<(u32, u32, f32)>) -> usize {
        // Bucketed by row (a counting sort), each bucket then sorted on its own.
        let n = self.idx.len() / self.k;
        let mut start = vec![0usize; n + 1];
        for u in &updates {
            start[u.0 as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut bucketed = vec![(0u32, 0.0f32); updates.len()];
        for (row, v, d) in updates {
            bucketed[fill[row as usize]] = (v, d);
            fill[row as usize] += 1;
        }
        let k = self.k;
        let (bucketed, start) = (&bucketed, &start);
        self.idx
            .par_chunks_mut(k)
            .zip(self.dist.par_chunks_mut(k))
            .zip(self.new.par_chunks_mut(k))
            .enumerate()
            .map(|(row, ((idx, dist), new))| {
                let mut mine = bucketed[start[row]..start[row + 1]].to_vec();
                mine.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                mine.iter().filter(|u| insert(idx, dist, new, u.0, u.1)).count()
            })
            .sum()
    }
}

/// Inserts neighbour `v` at distance `d` into one row's list (kept sorted by (distance, id)); false when
/// it is there already or not nearer than the last.
fn insert(idx: &mut [u32], dist: &mut [f32], new: &mut [bool], v: u32, d: f32) -> bool {
    let k = idx.len();
    let before = |idx: &[u32], dist: &[f32], i: usize| d < dist[i] || (d == dist[i] && v < idx[i]);
    if !before(idx, dist, k - 1) || idx.contains(&v) {
        return false;
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
    true
}

/// The approximate `k`-nearest-neighbour graph of the rows of `x` (`k < rows`), seeded.
pub(crate) fn knn_graph(x: ArrayView2<'_, f64>, metric: Metric, k: usize, seed: u64) -> KnnGraph {
    let x = x.as_standard_layout();
    let (n, d) = x.dim();
    let space = Space::new(x.as_slice().expect("standard layout"), d, metric);
    let mut lists = Lists { k, idx: vec![EMPTY; n * k], dist: vec![f32::INFINITY; n * k], new: vec![true; n * k] };
    // Random-projection trees: each row compared with the other rows of its leaf.
    let leaf = k.max(16);
    let forest: Vec<Vec<Vec<u32>>> =
        (0..TREES).into_par_iter().map(|t| rp_leaves(&space, n, leaf, hash(seed, 0x7EE, t, 0))).collect();
    for leaves in forest {
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
        let thr: Vec<f32> = (0..n as u32).map(|i| lists.kth(i)).collect();
        let updates: Vec<(u32, u32, f32)> = (0..n)
            .into_par_iter()
            .with_min_len(64)
            .map(|u| simd::run(LocalJoin { space: &space, new: new_c.of(u), old: old_c.of(u), thr: &thr }))
            .flatten_iter()
            .collect();
        let changed = lists.apply(updates);
        if (changed as f64) <= DELTA * (n * k) as f64 {
            break;
        }
    }
    // Exact distances, each list sorted by them again.
    let mut indices = lists.idx;
    let mut distances = vec![f64::INFINITY; n * k];
    indices.par_chunks_mut(k).zip(distances.par_chunks_mut(k)).enumerate().for_each(|(u, (idx, dist))| {
        let mut pairs: Vec<(f64, u32)> =
            idx.iter().filter(|&&v| v != EMPTY).map(|&v| (space.exact(u as u32, v), v)).collect();
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
        let (pa, pb) = (space.row(a), space.row(b));
        let normal: Vec<f64> = pa.iter().zip(pb).map(|(x, y)| x - y).collect();
        let offset: f64 = normal.iter().zip(pa.iter().zip(pb)).map(|(w, (x, y))| w * (x + y) / 2.0).sum();
        let mut left = Vec::with_capacity(rows.len() / 2 + 1);
        let mut right = Vec::with_capacity(rows.len() / 2 + 1);
        for &r in &rows {
            let s = dot(&normal, space.row(r)) - offset;
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
    let prio = |a: u32, b: u32| hash(seed, u64::from(a.min(b)), u64::from(a.max(b)), 0);
    // Per row: the lowest-priority forward and reverse entries, new and old apart.
    let picked: Vec<([u32; MAX_CANDIDATES], u8, [u32; MAX_CANDIDATES], u8)> = (0..n)
        .into_par_iter()
        .map(|u| {
            let own =
                (0..k).filter(|&j| lists.idx[u * k + j] != EMPTY).map(|j| (lists.idx[u * k + j], lists.new[u * k + j]));
            let back = reverse[start[u]..start[u + 1]].iter().copied();
            let mut pool: Vec<(u64, u32, bool)> = own.chain(back).map(|(v, new)| (prio(u as u32, v), v, new)).collect();
            pool.sort_unstable();
            pool.dedup_by_key(|p| (p.1, p.2));
            let (mut new_ids, mut old_ids) = ([EMPTY; MAX_CANDIDATES], [EMPTY; MAX_CANDIDATES]);
            let (mut nn, mut no) = (0usize, 0usize);
            for (_, v, is_new) in pool {
                let (ids, len) = if is_new { (&mut new_ids, &mut nn) } else { (&mut old_ids, &mut no) };
                if *len < MAX_CANDIDATES && !ids[..*len].contains(&v) {
                    ids[*len] = v;
                    *len += 1;
                }
            }
            (new_ids, nn as u8, old_ids, no as u8)
        })
        .collect();
    let mut new_c = Candidates::new(n);
    let mut old_c = Candidates::new(n);
    for (u, (ni, nl, oi, ol)) in picked.into_iter().enumerate() {
        new_c.ids[u * MAX_CANDIDATES..(u + 1) * MAX_CANDIDATES].copy_from_slice(&ni);
        new_c.len[u] = nl;
        old_c.ids[u * MAX_CANDIDATES..(u + 1) * MAX_CANDIDATES].copy_from_slice(&oi);
        old_c.len[u] = ol;
    }
    // Entries sampled as new are compared this round: old from now on.
    lists.idx.par_chunks(k).zip(lists.new.par_chunks_mut(k)).enumerate().for_each(|(u, (idx, new))| {
        let sampled = new_c.of(u);
        for (v, flag) in idx.iter().zip(new.iter_mut()) {
            if *flag && sampled.contains(v) {
                *flag = false;
            }
        }
    });
    (new_c, old_c)
}

/// The local join of one row: its new candidates with each other and with its old ones; a pair is kept
/// for a row it would enter (nearer than the row's current last neighbour).
struct LocalJoin<'a> {
    space: &'a Space<'a>,
    new: &'a [u32],
    old: &'a [u32],
    thr: &'a [f32],
}

impl simd::Job for LocalJoin<'_> {
    type Output = Vec<(u32, u32, f32)>;
    #[inline(always)]
    fn run(self) -> Self::Output {
        // Plain loops, no closure: a closure is not reliably compiled with the wrapper's vector unit.
        let mut out = Vec::new();
        for (i, &p) in self.new.iter().enumerate() {
            for &q in self.new[i + 1..].iter().chain(self.old) {
                if p != q {
                    let d = self.space.dist(p, q);
                    if d < self.thr[p as usize] {
                        out.push((p, q, d));
                    }
                    if d < self.thr[q as usize] {
                        out.push((q, p, d));
                    }
                }
            }
        }
        out
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
    let space = Space::new(x.as_slice().expect("standard layout"), x.ncols(), metric);
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
        let n = (self.space.x.len() / self.space.d) as u32;
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
    }
}
