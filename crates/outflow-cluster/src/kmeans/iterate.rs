//! Lloyd's and Hamerly's iterations, several runs in lockstep over fixed chunks of rows.

use rayon::prelude::*;

use outflow_core::sq_euclidean_unrolled;

use super::plusplus::add_in_order;
use super::{BLOCK, CHUNK};
use crate::simd::{self, Job};

/// Index of the nearest centre (first smallest squared distance) and that squared distance.
#[inline(always)]
pub(super) fn argmin(row: &[f64], centres: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centres.chunks_exact(d.max(1)).enumerate() {
        let s = sq_euclidean_unrolled(row, c);
        if s < best.1 {
            best = (j, s);
        }
    }
    best
}

/// The rows, shape and tolerance shared by every run.
pub(super) struct Data<'a> {
    pub(super) x: &'a [f64],
    pub(super) n: usize,
    pub(super) d: usize,
    pub(super) k: usize,
    /// Absolute tolerance on the summed squared centre shift.
    pub(super) tol: f64,
    /// Absolute safety margin of Hamerly's bound tests.
    pub(super) margin: f64,
    /// For the k-means++ kernels (empty when not needed): the rows minus their mean, in blocks of
    /// [`BLOCK`], each dimension-major (`d × BLOCK`; the last block repeats its last row) ...
    pub(super) blocks: Vec<f64>,
    /// ... their squared norms ...
    pub(super) norms: Vec<f64>,
    /// ... the mean ...
    pub(super) mean: Vec<f64>,
    /// ... and a bound on the rounding error of a squared distance computed as ‖x‖² + ‖c‖² − 2x·c.
    pub(super) d2_err: f64,
}

impl<'a> Data<'a> {
    /// The rows (`n × d`, row-major) with what every run needs: the tolerance scikit-learn derives from
    /// `tol` (`tol ×` the mean per-feature variance), Hamerly's rounding margin, and with `plus_plus` the
    /// centred blocks k-means++ reads.
    pub(super) fn new(flat: &'a [f64], n: usize, d: usize, k: usize, tol: f64, plus_plus: bool) -> Data<'a> {
        // scikit-learn's `_tolerance`: tol × mean of the per-feature variances.
        let col_sums = |centre: Option<&[f64]>| -> Vec<f64> {
            let parts: Vec<Vec<f64>> = flat
                .par_chunks(CHUNK * d)
                .map(|rows| {
                    let mut s = vec![0.0; d];
                    for r in rows.chunks_exact(d) {
                        match centre {
                            None => s.iter_mut().zip(r).for_each(|(a, v)| *a += v),
                            Some(m) => s.iter_mut().zip(r).zip(m).for_each(|((a, v), m)| *a += (v - m) * (v - m)),
                        }
                    }
                    s
                })
                .collect();
            (0..d).map(|j| parts.iter().map(|p| p[j]).sum::<f64>()).collect()
        };
        let mean: Vec<f64> = col_sums(None).into_iter().map(|s| s / n as f64).collect();
        let var_mean = col_sums(Some(&mean)).iter().map(|s| s / n as f64).sum::<f64>() / d as f64;
        let scale = flat.par_chunks(d).map(|r| sq_euclidean_unrolled(r, &mean)).reduce(|| 0.0, f64::max).sqrt();
        let mut data = Data {
            x: flat,
            n,
            d,
            k,
            tol: tol * var_mean,
            margin: 1e-10 * scale + 1e-300,
            blocks: vec![],
            norms: vec![],
            mean: vec![],
            d2_err: 0.0,
        };
        if plus_plus {
            data.build_blocks(mean, scale);
        }
        data
    }
}

impl Data<'_> {
    #[inline(always)]
    pub(super) fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    pub(super) fn chunk_range(&self, c: usize) -> std::ops::Range<usize> {
        c * CHUNK..((c + 1) * CHUNK).min(self.n)
    }

    /// The transposed block holding rows `b * BLOCK ..`.
    #[inline(always)]
    pub(super) fn block(&self, b: usize) -> &[f64] {
        &self.blocks[b * self.d * BLOCK..(b + 1) * self.d * BLOCK]
    }

    pub(super) fn build_blocks(&mut self, mean: Vec<f64>, scale: f64) {
        let (n, d) = (self.n, self.d);
        let mut blocks = vec![0.0; n.div_ceil(BLOCK) * d * BLOCK];
        let mut norms = vec![0.0; n.div_ceil(BLOCK) * BLOCK];
        blocks.par_chunks_mut(d * BLOCK).zip(norms.par_chunks_mut(BLOCK)).enumerate().for_each(|(b, (out, nr))| {
            for l in 0..BLOCK {
                let i = (b * BLOCK + l).min(n - 1);
                let mut s = 0.0;
                for (j, (&v, &m)) in self.x[i * d..(i + 1) * d].iter().zip(&mean).enumerate() {
                    let c = v - m;
                    out[j * BLOCK + l] = c;
                    s += c * c;
                }
                nr[l] = s;
            }
        });
        self.blocks = blocks;
        self.norms = norms;
        self.mean = mean;
        // Each of ‖x‖², ‖c‖², x·c is off by at most ~(d + 2)·ε·‖x‖‖c‖-ish, with norms ≤ scale (plus the
        // centring itself): a generous common bound.
        self.d2_err = (4.0 * d as f64 + 16.0) * f64::EPSILON * 4.0 * scale * scale;
    }

    /// A row minus the mean, and its squared norm (the form the k-means++ kernels take a centre in).
    pub(super) fn centred(&self, i: usize) -> (Vec<f64>, f64) {
        let c: Vec<f64> = self.row(i).iter().zip(&self.mean).map(|(v, m)| v - m).collect();
        let norm = c.iter().map(|v| v * v).sum();
        (c, norm)
    }
}

/// Per-chunk result of an assignment pass: centre sums and counts, labels changed.
pub(super) struct Partial {
    pub(super) sums: Vec<f64>,
    pub(super) counts: Vec<u64>,
    pub(super) changed: usize,
}

/// Adds the per-chunk partials in chunk order.
pub(super) fn combine(parts: Vec<Partial>, k: usize, d: usize) -> Partial {
    let mut out = Partial { sums: vec![0.0; k * d], counts: vec![0; k], changed: 0 };
    for p in parts {
        for (a, b) in out.sums.iter_mut().zip(&p.sums) {
            *a += b;
        }
        for (a, b) in out.counts.iter_mut().zip(&p.counts) {
            *a += b;
        }
        out.changed += p.changed;
    }
    out
}

/// The winning run.
pub(super) struct Run {
    pub(super) centres: Vec<f64>,
    pub(super) labels: Vec<u32>,
    pub(super) inertia: f64,
    pub(super) n_iter: usize,
    pub(super) history: Vec<f64>,
}

/// Position of (row `i`, run `r`) in the per-row state of a batch of `runs` runs: chunk by chunk (so one
/// pass over the rows serves every run), run-major inside a chunk (so a run's values of consecutive rows
/// are contiguous).
#[inline(always)]
pub(super) fn slot(i: usize, r: usize, runs: usize, n: usize) -> usize {
    let start = i / CHUNK * CHUNK;
    start * runs + r * CHUNK.min(n - start) + (i - start)
}

/// Per-row state of a batch of runs, laid out by [`slot`]: labels, and Hamerly's bounds (empty for Lloyd) — distance to the assigned centre
/// (upper) and a lower bound on the distance to any other centre.
pub(super) struct Rows {
    pub(super) labels: Vec<u32>,
    pub(super) upper: Vec<f64>,
    pub(super) lower: Vec<f64>,
}

/// Where a run is: iterating, recomputing its labels against its final centres, or done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Iterate,
    Final,
    Done,
}

/// One run of a batch.
pub(super) struct RunState {
    pub(super) centres: Vec<f64>,
    /// Shift of each centre since the bounds were last valid.
    pub(super) drift: Vec<f64>,
    /// Per centre: half the distance to its nearest other centre (Hamerly's `s`).
    pub(super) half: Vec<f64>,
    /// Largest drift, its centre, and the largest drift of the other centres.
    pub(super) m1: f64,
    pub(super) a1: usize,
    pub(super) m2: f64,
    pub(super) stage: Stage,
    /// No valid bounds yet: the next pass computes every distance.
    pub(super) first: bool,
    pub(super) n_iter: usize,
    pub(super) history: Vec<f64>,
    pub(super) inertia: f64,
}

impl RunState {
    pub(super) fn prepare(&mut self, k: usize, d: usize) {
        let c = &self.centres;
        self.half = (0..k)
            .map(|j| {
                (0..k)
                    .filter(|&o| o != j)
                    .map(|o| sq_euclidean_unrolled(&c[j * d..(j + 1) * d], &c[o * d..(o + 1) * d]))
                    .fold(f64::INFINITY, f64::min)
                    .sqrt()
                    * 0.5
            })
            .collect();
        (self.m1, self.a1, self.m2) = (0.0, usize::MAX, 0.0);
        for (j, &v) in self.drift.iter().enumerate() {
            if v > self.m1 {
                self.m2 = self.m1;
                self.m1 = v;
                self.a1 = j;
            } else if v > self.m2 {
                self.m2 = v;
            }
        }
    }
}

/// One chunk of rows of an assignment pass, for every run of the batch that is not done: labels (and
/// bounds), and for iterating runs the per-cluster sums and counts of the chunk.
pub(super) struct PassJob<'a> {
    pub(super) data: &'a Data<'a>,
    pub(super) first_row: usize,
    pub(super) runs: &'a [RunState],
    pub(super) labels: &'a mut [u32],
    pub(super) bounds: Option<(&'a mut [f64], &'a mut [f64])>,
}

impl Job for PassJob<'_> {
    type Output = Vec<Partial>;
    #[inline(always)]
    fn run(self) -> Vec<Partial> {
        let (d, k, nr) = (self.data.d, self.data.k, self.runs.len());
        let margin = self.data.margin;
        let mut parts: Vec<Partial> = self
            .runs
            .iter()
            .map(|s| Partial {
                sums: vec![0.0; if s.stage == Stage::Iterate { k * d } else { 0 }],
                counts: vec![0; k],
                changed: 0,
            })
            .collect();
        let mut bounds = self.bounds;
        let rows_c = self.labels.len() / nr;
        for o in 0..rows_c {
            let row = self.data.row(self.first_row + o);
            for (r, s) in self.runs.iter().enumerate() {
                if s.stage == Stage::Done {
                    continue;
                }
                let i = r * rows_c + o;
                let centres = &s.centres[..];
                let j = match bounds.as_mut() {
                    None => argmin(row, centres, d).0,
                    Some((up, lo)) if s.first => full(row, centres, d, &mut up[i], &mut lo[i]),
                    Some((up, lo)) => {
                        let a = self.labels[i] as usize;
                        up[i] += s.drift[a];
                        lo[i] -= if a == s.a1 { s.m2 } else { s.m1 };
                        let m = s.half[a].max(lo[i]);
                        // Strict, with a margin for rounding: ties are settled by a full scan.
                        if up[i] + margin + 1e-12 * up[i] < m {
                            a
                        } else {
                            up[i] = sq_euclidean_unrolled(row, &centres[a * d..(a + 1) * d]).sqrt();
                            if up[i] + margin + 1e-12 * up[i] < m {
                                a
                            } else {
                                full(row, centres, d, &mut up[i], &mut lo[i])
                            }
                        }
                    }
                };
                let p = &mut parts[r];
                p.changed += (self.labels[i] != j as u32) as usize;
                self.labels[i] = j as u32;
                p.counts[j] += 1;
                if s.stage == Stage::Iterate {
                    for (a, v) in p.sums[j * d..(j + 1) * d].iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
        }
        parts
    }
}

/// Per run of the batch (where `mask` holds): Σ squared distance of each row to its centre in one chunk.
pub(super) struct InertiaJob<'a> {
    pub(super) data: &'a Data<'a>,
    pub(super) first_row: usize,
    pub(super) runs: &'a [RunState],
    pub(super) mask: &'a [bool],
    pub(super) labels: &'a [u32],
}

impl Job for InertiaJob<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let (d, nr) = (self.data.d, self.runs.len());
        let mut s = vec![0.0; nr];
        let rows_c = self.labels.len() / nr;
        for o in 0..rows_c {
            let row = self.data.row(self.first_row + o);
            for (r, st) in self.runs.iter().enumerate() {
                if self.mask[r] {
                    let j = self.labels[r * rows_c + o] as usize;
                    s[r] += sq_euclidean_unrolled(row, &st.centres[j * d..(j + 1) * d]);
                }
            }
        }
        s
    }
}

/// Inertia of the masked runs (per-chunk sums added in chunk order); 0 for the others.
pub(super) fn inertias(data: &Data<'_>, runs: &[RunState], mask: &[bool], labels: &[u32]) -> Vec<f64> {
    let nr = runs.len();
    let parts: Vec<Vec<f64>> = labels
        .par_chunks(CHUNK * nr)
        .enumerate()
        .map(|(c, labels)| simd::run(InertiaJob { data, first_row: c * CHUNK, runs, mask, labels }))
        .collect();
    add_in_order(&parts, nr)
}

/// A batch of runs from their initial centres (and, after k-means++, the row state they imply), in
/// lockstep: every pass over the rows advances every unfinished run by one iteration. Returns the runs
/// and the interleaved labels.
pub(super) fn run_batch(
    data: &Data<'_>,
    centres: Vec<Vec<f64>>,
    seeded: Option<Rows>,
    max_iter: usize,
    hamerly: bool,
    track: bool,
) -> (Vec<RunState>, Vec<u32>) {
    let (n, d, k, nr) = (data.n, data.d, data.k, centres.len());
    let (mut rows, first) = match (hamerly, seeded) {
        (true, Some(r)) => (r, false),
        (true, None) => {
            (Rows { labels: vec![u32::MAX; n * nr], upper: vec![0.0; n * nr], lower: vec![0.0; n * nr] }, true)
        }
        (false, _) => (Rows { labels: vec![u32::MAX; n * nr], upper: vec![], lower: vec![] }, true),
    };
    let mut runs: Vec<RunState> = centres
        .into_iter()
        .map(|centres| RunState {
            centres,
            drift: vec![0.0; k],
            half: vec![],
            m1: 0.0,
            a1: 0,
            m2: 0.0,
            stage: Stage::Iterate,
            first,
            n_iter: 0,
            history: vec![],
            inertia: 0.0,
        })
        .collect();
    while runs.iter().any(|s| s.stage != Stage::Done) {
        for s in runs.iter_mut().filter(|s| s.stage != Stage::Done) {
            s.prepare(k, d);
        }
        let parts: Vec<Vec<Partial>> = {
            let runs = &runs[..];
            let job = |c: usize, labels: &'_ mut [u32], bounds| {
                simd::run(PassJob { data, first_row: c * CHUNK, runs, labels, bounds })
            };
            if hamerly {
                rows.labels
                    .par_chunks_mut(CHUNK * nr)
                    .zip(rows.upper.par_chunks_mut(CHUNK * nr))
                    .zip(rows.lower.par_chunks_mut(CHUNK * nr))
                    .enumerate()
                    .map(|(c, ((l, u), lo))| job(c, l, Some((u, lo))))
                    .collect()
            } else {
                rows.labels.par_chunks_mut(CHUNK * nr).enumerate().map(|(c, l)| job(c, l, None)).collect()
            }
        };
        let mut parts: Vec<std::vec::IntoIter<Partial>> = parts.into_iter().map(|p| p.into_iter()).collect();
        let mut iterated = vec![false; nr];
        for (r, s) in runs.iter_mut().enumerate() {
            let mine: Vec<Partial> = parts.iter_mut().map(|p| p.next().expect("one partial per run")).collect();
            match s.stage {
                Stage::Done => {}
                Stage::Final => s.stage = Stage::Done,
                Stage::Iterate => {
                    let part = combine(mine, k, d);
                    let (mut sums, mut counts) = (part.sums, part.counts);
                    if counts.contains(&0) {
                        let labels = &rows.labels;
                        relocate_empty(data, &s.centres, |i| labels[slot(i, r, nr, n)], &mut sums, &mut counts);
                    }
                    for j in 0..k {
                        if counts[j] > 0 {
                            let alpha = 1.0 / counts[j] as f64;
                            for v in &mut sums[j * d..(j + 1) * d] {
                                *v *= alpha;
                            }
                        }
                    }
                    let mut shift_tot = 0.0;
                    for j in 0..k {
                        s.drift[j] =
                            sq_euclidean_unrolled(&sums[j * d..(j + 1) * d], &s.centres[j * d..(j + 1) * d]).sqrt();
                        shift_tot += s.drift[j] * s.drift[j];
                    }
                    s.centres = sums;
                    s.first = false;
                    s.n_iter += 1;
                    iterated[r] = true;
                    // As scikit-learn, the first iteration compares with "no labels yet": never strict;
                    // a strict stop keeps its labels, any other stop recomputes them (stage Final).
                    s.stage = if part.changed == 0 && s.n_iter > 1 {
                        Stage::Done
                    } else if shift_tot <= data.tol || s.n_iter >= max_iter {
                        Stage::Final
                    } else {
                        Stage::Iterate
                    };
                }
            }
        }
        if track {
            let inert = inertias(data, &runs, &iterated, &rows.labels);
            for (r, s) in runs.iter_mut().enumerate() {
                if iterated[r] {
                    s.history.push(inert[r]);
                }
            }
        }
    }
    let inert = inertias(data, &runs, &vec![true; nr], &rows.labels);
    for (s, v) in runs.iter_mut().zip(inert) {
        s.inertia = v;
    }
    (runs, rows.labels)
}

/// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes the point farthest from its
/// (previous) centre, moved out of its old cluster's sums (labels are left as they are).
pub(super) fn relocate_empty(
    data: &Data<'_>,
    centres: &[f64],
    label: impl Fn(usize) -> u32 + Sync,
    sums: &mut [f64],
    counts: &mut [u64],
) {
    let d = data.d;
    let empty: Vec<usize> = (0..data.k).filter(|&j| counts[j] == 0).collect();
    let dist: Vec<f64> = (0..data.n)
        .into_par_iter()
        .with_min_len(CHUNK)
        .map(|i| {
            let j = label(i) as usize;
            sq_euclidean_unrolled(data.row(i), &centres[j * d..(j + 1) * d])
        })
        .collect();
    let mut order: Vec<usize> = (0..data.n).collect();
    let m = empty.len().min(data.n);
    order.select_nth_unstable_by(m - 1, |&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    order.truncate(m);
    order.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    for (&new, &far) in empty.iter().zip(&order) {
        let old = label(far) as usize;
        let row = data.row(far);
        for t in 0..d {
            sums[old * d + t] -= row[t];
            sums[new * d + t] = row[t];
        }
        counts[new] = 1;
        counts[old] -= 1;
    }
}

/// All distances of one row: nearest centre (first on ties), exact upper bound, second-nearest distance.
#[inline(always)]
pub(super) fn full(row: &[f64], centres: &[f64], d: usize, up: &mut f64, lo: &mut f64) -> usize {
    let (mut b1, mut j1, mut b2) = (f64::INFINITY, 0usize, f64::INFINITY);
    for (j, c) in centres.chunks_exact(d.max(1)).enumerate() {
        let s = sq_euclidean_unrolled(row, c);
        if s < b1 {
            b2 = b1;
            b1 = s;
            j1 = j;
        } else if s < b2 {
            b2 = s;
        }
    }
    *up = b1.sqrt();
    *lo = b2.sqrt();
    j1
}

/// Whether a row whose squared distance to its nearest centre is `c` is provably no nearer to a
/// candidate at squared distance `dcc` from that centre (`d(x, cand) ≥ √dcc − √c ≥ √c`), with a margin.
#[inline(always)]
pub(super) fn prune(dcc: f64, c: f64) -> bool {
    dcc >= 4.0 * c * (1.0 + 1e-9) + 1e-300
}
