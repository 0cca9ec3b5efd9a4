//! scikit-learn's greedy k-means++ seeding, several runs in one pass over the rows per centre.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use outflow_core::sq_euclidean_unrolled;

use super::iterate::{Data, Rows, prune};
use super::{BLOCK, CHUNK};
use crate::simd::{self, Job};

/// One run's k-means++ seeds: the centres (`k × d`, row-major) and the rows chosen, in order.
pub(super) type Seeding = (Vec<f64>, Vec<usize>);

/// State of one k-means++ initialisation. The per-row arrays of all runs live in [`PlusPlusRows`] (laid
/// out by [`slot`]), so one pass over the rows serves every run.
pub(super) struct PlusPlus {
    pub(super) rng: ChaCha8Rng,
    pub(super) centres: Vec<f64>,
    /// The rows chosen as centres, in order.
    pub(super) picks: Vec<usize>,
    pub(super) pot: f64,
    /// Σ D² per chunk (after the pending centre is added).
    pub(super) chunk_tot: Vec<f64>,
    pub(super) cands: Vec<usize>,
    /// The candidates centred, with their squared norms.
    pub(super) cands_c: Vec<(Vec<f64>, f64)>,
    /// Squared distances candidate × centre (`trials × centres`, exact).
    pub(super) dcc: Vec<f64>,
    /// The centre chosen last, not yet applied to the rows: centred, its squared norm, and its squared
    /// distances to the centres before it (applied at the start of the next pass, which reads the rows
    /// anyway).
    pub(super) pending: Option<(Vec<f64>, f64, Vec<f64>)>,
}

/// Per-row state of all runs.
pub(super) struct PlusPlusRows {
    /// D²: squared distance to the nearest centre so far.
    pub(super) closest: Vec<f64>,
    pub(super) nearest: Vec<u32>,
    /// Squared lower bound on the distance to every other centre so far.
    pub(super) lower: Vec<f64>,
}

/// Squared distances from the [`BLOCK`] rows of a centred transposed block (squared norms `nx`) to a
/// centred point `q` (squared norm `nq`), as ‖x‖² + ‖q‖² − 2x·q (scikit-learn's form; two operations per
/// coordinate instead of three), clamped at 0. Vectorised across rows (no horizontal reductions), the dot
/// products summed in four interleaved partial sums so the additions do not wait on each other. The
/// result is within [`Data::d2_err`] of the true value.
#[inline(always)]
pub(super) fn block_sqdist(buf: &[f64], nx: &[f64], q: &[f64], nq: f64, out: &mut [f64; BLOCK]) {
    let col = |j: usize| -> &[f64; BLOCK] { buf[j * BLOCK..(j + 1) * BLOCK].try_into().expect("block column") };
    let (mut a0, mut a1, mut a2, mut a3) = ([0.0f64; BLOCK], [0.0f64; BLOCK], [0.0f64; BLOCK], [0.0f64; BLOCK]);
    let d = q.len();
    let mut j = 0;
    while j + 4 <= d {
        let (c0, c1, c2, c3) = (col(j), col(j + 1), col(j + 2), col(j + 3));
        for l in 0..BLOCK {
            a0[l] += c0[l] * q[j];
            a1[l] += c1[l] * q[j + 1];
            a2[l] += c2[l] * q[j + 2];
            a3[l] += c3[l] * q[j + 3];
        }
        j += 4;
    }
    while j < d {
        let c = col(j);
        for l in 0..BLOCK {
            a0[l] += c[l] * q[j];
        }
        j += 1;
    }
    for l in 0..BLOCK {
        let dot = (a0[l] + a1[l]) + (a2[l] + a3[l]);
        out[l] = (nx[l] + nq - 2.0 * dot).max(0.0);
    }
}

/// Adds the pending centre (centred `cand`, squared norm `nq`, index `m`, exact squared distances `dcc`
/// to the earlier centres) to one block of one run's rows (squared norms `nx`): new D², nearest centre
/// and squared lower bound on the distance to the other centres. `cl`, `ne`, `lo` hold the block's
/// values (lanes past `count` are ignored). D² may be off by `err` (see [`block_sqdist`]); the bounds
/// allow for it.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn apply_block(
    buf: &[f64],
    nx: &[f64],
    (cand, nq): (&[f64], f64),
    dcc: &[f64],
    err: f64,
    count: usize,
    cl: &mut [f64; BLOCK],
    ne: &mut [u32; BLOCK],
    lo: &mut [f64; BLOCK],
) {
    let m = dcc.len();
    let mut pruned = [true; BLOCK];
    let mut dc = [0.0; BLOCK];
    for l in 0..count {
        dc[l] = dcc[ne[l] as usize];
        pruned[l] = prune(dc[l], cl[l]);
    }
    let mut dist = *cl;
    if !pruned[..count].iter().all(|&p| p) {
        block_sqdist(buf, nx, cand, nq, &mut dist);
    }
    // Branch-free per lane (vectorises). The bound on the centre that is not (or no longer) the nearest
    // one: the computed distance less its error, or for a skipped row the triangle inequality
    // (√dc − D)² = dc + D² − 2√(dc·D²) with D² at its largest, shrunk a little for rounding.
    for l in 0..BLOCK {
        let (dcl, c) = (dc[l] * (1.0 - 1e-12), cl[l] + err);
        let tri = if dcl > c { (dcl + c - 2.0 * (dcl * c).sqrt()) * (1.0 - 1e-12) } else { 0.0 };
        let nearer = !pruned[l] && dist[l] < cl[l];
        let bound = if pruned[l] {
            tri
        } else if nearer {
            (cl[l] - err).max(0.0)
        } else {
            (dist[l] - err).max(0.0)
        };
        lo[l] = lo[l].min(bound);
        if nearer {
            cl[l] = dist[l];
            ne[l] = m as u32;
        }
    }
}

/// First pass: D² to each run's first centre; returns per-run Σ D² of the chunk.
pub(super) struct PpFirstJob<'a> {
    pub(super) data: &'a Data<'a>,
    pub(super) first_row: usize,
    pub(super) firsts: &'a [(Vec<f64>, f64)],
    pub(super) closest: &'a mut [f64],
}

impl Job for PpFirstJob<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let runs = self.firsts.len();
        let mut tot = vec![0.0; runs];
        let rows = self.closest.len() / runs;
        let mut dist = [0.0; BLOCK];
        for b in (0..rows).step_by(BLOCK) {
            let count = (rows - b).min(BLOCK);
            let buf = self.data.block((self.first_row + b) / BLOCK);
            let nx = &self.data.norms[self.first_row + b..self.first_row + b + BLOCK];
            for (r, (f, nf)) in self.firsts.iter().enumerate() {
                block_sqdist(buf, nx, f, *nf, &mut dist);
                for (l, &v) in dist.iter().take(count).enumerate() {
                    self.closest[r * rows + b + l] = v;
                    tot[r] += v;
                }
            }
        }
        tot
    }
}

/// One pass of a k-means++ step over a chunk: applies each run's pending centre to the rows, then (with
/// `trials > 0`) sums min(D², d²(row, candidate)) per run and candidate.
pub(super) struct PpStepJob<'a> {
    pub(super) data: &'a Data<'a>,
    pub(super) first_row: usize,
    pub(super) pp: &'a [PlusPlus],
    pub(super) trials: usize,
    pub(super) closest: &'a mut [f64],
    pub(super) nearest: &'a mut [u32],
    pub(super) lower: &'a mut [f64],
}

impl Job for PpStepJob<'_> {
    type Output = Vec<f64>;
    #[inline(always)]
    fn run(self) -> Vec<f64> {
        let (runs, t_n, d) = (self.pp.len(), self.trials, self.data.d);
        let mut pots = vec![0.0; runs * t_n];
        let rows = self.closest.len() / runs;
        let mut dist = [0.0; BLOCK];
        for b in (0..rows).step_by(BLOCK) {
            let count = (rows - b).min(BLOCK);
            let buf = self.data.block((self.first_row + b) / BLOCK);
            let nx = &self.data.norms[self.first_row + b..self.first_row + b + BLOCK];
            for (r, pp) in self.pp.iter().enumerate() {
                let at = r * rows + b;
                let (mut cl, mut ne, mut lo) = ([0.0; BLOCK], [0u32; BLOCK], [0.0; BLOCK]);
                cl[..count].copy_from_slice(&self.closest[at..at + count]);
                ne[..count].copy_from_slice(&self.nearest[at..at + count]);
                if let Some((cand, nq, dcc)) = &pp.pending {
                    lo[..count].copy_from_slice(&self.lower[at..at + count]);
                    let err = self.data.d2_err;
                    apply_block(buf, nx, (cand, *nq), dcc, err, count, &mut cl, &mut ne, &mut lo);
                    self.closest[at..at + count].copy_from_slice(&cl[..count]);
                    self.nearest[at..at + count].copy_from_slice(&ne[..count]);
                    self.lower[at..at + count].copy_from_slice(&lo[..count]);
                }
                let m = pp.centres.len() / d;
                for (t, (cand, nq)) in pp.cands_c.iter().enumerate().take(t_n) {
                    let dcc = &pp.dcc[t * m..(t + 1) * m];
                    let mut pruned = [true; BLOCK];
                    for l in 0..count {
                        pruned[l] = prune(dcc[ne[l] as usize], cl[l]);
                    }
                    if !pruned[..count].iter().all(|&p| p) {
                        block_sqdist(buf, nx, cand, *nq, &mut dist);
                    }
                    let p = &mut pots[r * t_n + t];
                    for l in 0..count {
                        *p += if pruned[l] { cl[l] } else { dist[l].min(cl[l]) };
                    }
                }
            }
        }
        pots
    }
}

/// Adds per-chunk per-run vectors in chunk order.
pub(super) fn add_in_order(parts: &[Vec<f64>], len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    for p in parts {
        for (a, b) in out.iter_mut().zip(p) {
            *a += b;
        }
    }
    out
}

/// scikit-learn's greedy k-means++ for several independent runs at once (each with its own random
/// stream; the result of a run does not depend on the others), one pass over the rows per centre.
///
/// The triangle inequality skips distance evaluations: a row whose nearest centre `a` satisfies
/// `d(a, candidate)² ≥ 4·D²(row)` (with a rounding margin) cannot get nearer to the candidate than to
/// `a`, so `min(D², d²)` is `D²` without computing `d`. Each step's chosen centre is applied to the rows
/// during the next step's pass (the per-chunk potential of the chosen candidate is already the chunk's
/// new Σ D², which is all the next draw needs besides the rows of the one chunk it lands in). Along the
/// way each row keeps its nearest centre (first on ties), D² and a lower bound on the distance to every
/// other centre — the state Hamerly's iterations start from.
/// Returns each run's [`Seeding`] and the row state.
pub(super) fn kmeans_plusplus(data: &Data<'_>, rngs: Vec<ChaCha8Rng>) -> (Vec<Seeding>, Rows) {
    let (n, d, k) = (data.n, data.d, data.k);
    let runs = rngs.len();
    let trials = 2 + (k as f64).ln() as usize;
    let mut pp: Vec<PlusPlus> = rngs
        .into_iter()
        .map(|rng| PlusPlus {
            rng,
            centres: vec![],
            picks: vec![],
            pot: 0.0,
            chunk_tot: vec![],
            cands: vec![],
            cands_c: vec![],
            dcc: vec![],
            pending: None,
        })
        .collect();
    let firsts: Vec<usize> = pp.iter_mut().map(|p| p.rng.random_range(0..n)).collect();
    for (p, &f) in pp.iter_mut().zip(&firsts) {
        p.centres.extend_from_slice(data.row(f));
        p.picks.push(f);
    }
    let firsts: Vec<(Vec<f64>, f64)> = firsts.iter().map(|&f| data.centred(f)).collect();
    let mut rows =
        PlusPlusRows { closest: vec![0.0; n * runs], nearest: vec![0; n * runs], lower: vec![f64::INFINITY; n * runs] };
    let tots: Vec<Vec<f64>> = rows
        .closest
        .par_chunks_mut(CHUNK * runs)
        .enumerate()
        .map(|(c, closest)| simd::run(PpFirstJob { data, first_row: c * CHUNK, firsts: &firsts, closest }))
        .collect();
    for (r, p) in pp.iter_mut().enumerate() {
        p.chunk_tot = tots.iter().map(|t| t[r]).collect();
        p.pot = p.chunk_tot.iter().sum();
    }
    let step = |pp: &[PlusPlus], rows: &mut PlusPlusRows, trials: usize| -> Vec<Vec<f64>> {
        rows.closest
            .par_chunks_mut(CHUNK * runs)
            .zip(rows.nearest.par_chunks_mut(CHUNK * runs))
            .zip(rows.lower.par_chunks_mut(CHUNK * runs))
            .enumerate()
            .map(|(c, ((closest, nearest), lower))| {
                simd::run(PpStepJob { data, first_row: c * CHUNK, pp, trials, closest, nearest, lower })
            })
            .collect()
    };
    for _ in 1..k {
        for (r, p) in pp.iter_mut().enumerate() {
            // Candidates: inverse CDF of the D² weights (first row whose cumulative weight reaches the
            // draw), D² already including the pending centre.
            let mut cands = Vec::with_capacity(trials);
            for _ in 0..trials {
                let v = p.rng.random::<f64>() * p.pot;
                let mut acc = 0.0;
                let mut pick = n - 1;
                for (c, &t) in p.chunk_tot.iter().enumerate() {
                    if acc + t >= v || c + 1 == p.chunk_tot.len() {
                        let dc = chunk_closest(data, p, &rows, c, r, runs);
                        let range = data.chunk_range(c);
                        pick = range.end - 1;
                        for (o, &w) in dc.iter().enumerate() {
                            acc += w;
                            if acc >= v {
                                pick = range.start + o;
                                break;
                            }
                        }
                        break;
                    }
                    acc += t;
                }
                cands.push(pick);
            }
            let m = p.centres.len() / d;
            p.dcc = cands
                .iter()
                .flat_map(|&ci| (0..m).map(move |j| (ci, j)))
                .map(|(ci, j)| sq_euclidean_unrolled(data.row(ci), &p.centres[j * d..(j + 1) * d]))
                .collect();
            p.cands_c = cands.iter().map(|&c| data.centred(c)).collect();
            p.cands = cands;
        }
        let parts = step(&pp, &mut rows, trials);
        for (r, p) in pp.iter_mut().enumerate() {
            let tot: Vec<f64> =
                (0..trials).map(|t| parts.iter().map(|part| part[r * trials + t]).sum::<f64>()).collect();
            let best = (1..trials).fold(0, |b, i| if tot[i] < tot[b] { i } else { b });
            p.pot = tot[best];
            p.chunk_tot = parts.iter().map(|part| part[r * trials + best]).collect();
            let m = p.centres.len() / d;
            let cb = p.cands[best];
            let (cc, nc) = p.cands_c[best].clone();
            p.pending = Some((cc, nc, p.dcc[best * m..(best + 1) * m].to_vec()));
            p.centres.extend_from_slice(data.row(cb));
            p.picks.push(cb);
        }
    }
    // Apply the last centres.
    for p in pp.iter_mut() {
        p.cands.clear();
        p.cands_c.clear();
    }
    step(&pp, &mut rows, 0);
    let err = data.d2_err;
    let upper = rows.closest.par_iter().with_min_len(CHUNK).map(|c| (c + err).sqrt()).collect();
    let lower = rows.lower.par_iter().with_min_len(CHUNK).map(|c| c.sqrt()).collect();
    (pp.into_iter().map(|p| (p.centres, p.picks)).collect(), Rows { labels: rows.nearest, upper, lower })
}

/// D² of the rows of chunk `c` for run `r`, with the run's pending centre applied exactly as the step
/// pass applies it.
pub(super) fn chunk_closest(
    data: &Data<'_>,
    p: &PlusPlus,
    rows: &PlusPlusRows,
    c: usize,
    r: usize,
    runs: usize,
) -> Vec<f64> {
    let range = data.chunk_range(c);
    let rc = range.len();
    let at0 = range.start * runs + r * rc;
    let mut out = rows.closest[at0..at0 + rc].to_vec();
    if let Some((cand, nq, dcc)) = &p.pending {
        simd::run(ChunkClosestJob { data, first_row: range.start, cand: (cand, *nq), dcc, rows, at0, out: &mut out });
    }
    out
}

pub(super) struct ChunkClosestJob<'a> {
    pub(super) data: &'a Data<'a>,
    pub(super) first_row: usize,
    pub(super) cand: (&'a [f64], f64),
    pub(super) dcc: &'a [f64],
    pub(super) rows: &'a PlusPlusRows,
    pub(super) at0: usize,
    pub(super) out: &'a mut [f64],
}

impl Job for ChunkClosestJob<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let rc = self.out.len();
        for b in (0..rc).step_by(BLOCK) {
            let count = (rc - b).min(BLOCK);
            let buf = self.data.block((self.first_row + b) / BLOCK);
            let (mut cl, mut ne, mut lo) = ([0.0; BLOCK], [0u32; BLOCK], [0.0; BLOCK]);
            cl[..count].copy_from_slice(&self.out[b..b + count]);
            ne[..count].copy_from_slice(&self.rows.nearest[self.at0 + b..self.at0 + b + count]);
            let nx = &self.data.norms[self.first_row + b..self.first_row + b + BLOCK];
            apply_block(buf, nx, self.cand, self.dcc, self.data.d2_err, count, &mut cl, &mut ne, &mut lo);
            self.out[b..b + count].copy_from_slice(&cl[..count]);
        }
    }
}
