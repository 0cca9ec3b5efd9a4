//! k-means: scikit-learn's k-means++ (greedy, `2 + ⌊ln k⌋` local trials), Lloyd's iterations with
//! scikit-learn's convergence rules, and Hamerly's bound-based acceleration producing the very same
//! iterates.
//!
//! Conventions (as scikit-learn's `KMeans`):
//! - `tol` is relative: iterations stop when the sum over centres of the squared centre shift is
//!   `≤ tol · mean(var(X, axis=0))`, or at once when no label changed ("strict convergence"); without
//!   strict convergence the labels are recomputed against the final centres;
//! - an emptied cluster is re-seeded with the point farthest from its centre (ties: lower row first);
//! - of `n_init` runs the one with the smallest inertia wins (the first one on ties);
//! - explicit initial centres imply a single run.
//!
//! Exactness and determinism: every pass works on fixed chunks of rows and adds the per-chunk sums in
//! chunk order, so results do not depend on the thread count. Hamerly's bounds only *skip* distance
//! evaluations when they prove, with a safety margin for rounding, that the assignment cannot change;
//! otherwise the point gets the same argmin as Lloyd (first smallest squared distance). Both algorithms
//! therefore produce identical labels, centres, inertia and iteration counts.
//!
//! Run `r` of `n_init` draws from its own ChaCha8 stream (`seed`, stream `r`).

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{InputError, check_matrix, check_query, check_width, sq_euclidean_unrolled};

use crate::error::{ClusterError, Result};
use crate::simd::{self, Job};
use crate::traits::{ClusterModel, Fit, Predict};

/// Rows per transposed block of the k-means++ kernels (chunks hold whole blocks).
const BLOCK: usize = 8;

/// Rows per work unit of every parallel pass (fixed, so sums do not depend on the thread count).
const CHUNK: usize = 2048;

/// How the initial centres are chosen.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KMeansInit {
    /// Greedy k-means++ as scikit-learn: each new centre is the best (lowest potential) of
    /// `2 + ⌊ln k⌋` candidates sampled with probability ∝ D².
    #[default]
    KMeansPlusPlus,
    /// `k` distinct rows drawn uniformly.
    Random,
    /// Explicit centres (`k` rows × features); implies one run.
    Centres(Array2<f64>),
}

/// The iteration algorithm. Both give identical results; they differ in speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KMeansAlgorithm {
    /// Hamerly (measured faster on flow-like data; see `benches/`).
    #[default]
    Auto,
    /// Lloyd: every point against every centre, every iteration.
    Lloyd,
    /// Hamerly (2010): one upper and one lower bound per point skip most distance evaluations.
    Hamerly,
}

/// k-means parameters.
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, Fit, KMeansParams, Predict};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [10.0, 10.0], [10.0, 11.0], [11.0, 10.0]];
/// let model = KMeansParams::new(2).seed(7).n_init(3).fit(x.view()).unwrap();
/// assert_eq!(model.labels()[0], model.labels()[2]);
/// assert_ne!(model.labels()[0], model.labels()[3]);
/// assert!((model.inertia() - 8.0 / 3.0).abs() < 1e-12);
/// assert_eq!(model.predict(array![[9.0, 9.0]].view()).unwrap()[0], model.labels()[3]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KMeansParams {
    /// Number of clusters (1 ≤ k ≤ rows).
    pub k: usize,
    /// Initialisation.
    pub init: KMeansInit,
    /// Independent runs; the lowest inertia wins (default 1, scikit-learn's `n_init="auto"` for
    /// k-means++). Forced to 1 with explicit centres.
    pub n_init: usize,
    /// Iterations per run (default 300).
    pub max_iter: usize,
    /// Relative tolerance (default 1e-4), scaled by the mean feature variance as scikit-learn does.
    pub tol: f64,
    /// Seed of the random initialisations.
    pub seed: u64,
    /// Lloyd or Hamerly.
    pub algorithm: KMeansAlgorithm,
    /// Record the inertia after every iteration of the winning run ([`KMeans::inertia_history`]);
    /// costs one extra pass per iteration.
    pub track_inertia: bool,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            k: 8,
            init: KMeansInit::KMeansPlusPlus,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            algorithm: KMeansAlgorithm::Auto,
            track_inertia: false,
        }
    }
}

impl KMeansParams {
    /// Defaults with `k` clusters.
    pub fn new(k: usize) -> Self {
        KMeansParams { k, ..Default::default() }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the number of runs.
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }

    /// Sets the iteration cap.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Sets the relative tolerance.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the initialisation.
    pub fn init(mut self, init: KMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Starts from explicit centres (one run).
    pub fn init_centres(self, c: Array2<f64>) -> Self {
        self.init(KMeansInit::Centres(c))
    }

    /// Sets the algorithm.
    pub fn algorithm(mut self, a: KMeansAlgorithm) -> Self {
        self.algorithm = a;
        self
    }

    /// Records the inertia of every iteration.
    pub fn track_inertia(mut self, yes: bool) -> Self {
        self.track_inertia = yes;
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        if self.k == 0 {
            return bad("k", "must be at least 1".into());
        }
        if self.n_init == 0 {
            return bad("n_init", "must be at least 1".into());
        }
        if self.max_iter == 0 {
            return bad("max_iter", "must be at least 1".into());
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return bad("tol", format!("must be finite and ≥ 0, got {}", self.tol));
        }
        if let KMeansInit::Centres(c) = &self.init {
            if c.nrows() != self.k {
                return bad("init", format!("{} initial centres given for k = {}", c.nrows(), self.k));
            }
            if let Some(i) = c.iter().position(|v| !v.is_finite()) {
                return bad("init", format!("initial centre {} has a non-finite value", i / c.ncols().max(1)));
            }
        }
        Ok(())
    }

    fn validate_for(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        if self.k > x.nrows() {
            return Err(InputError::too_few_rows(format!("k-means with k = {}", self.k), self.k, x.nrows()).into());
        }
        if let KMeansInit::Centres(c) = &self.init {
            check_width(c.ncols(), x.ncols())?;
        }
        Ok(())
    }
}

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeans {
    params: KMeansParams,
    #[serde(with = "outflow_core::codec::matrix")]
    centres: Array2<f64>,
    #[serde(with = "outflow_core::codec::i64s")]
    labels: Vec<i64>,
    inertia: f64,
    n_iter: usize,
    best_run: usize,
    inertia_history: Vec<f64>,
}

impl KMeans {
    /// The parameters used.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.centres.ncols()
    }

    /// Cluster centres (row = label).
    pub fn centres(&self) -> &Array2<f64> {
        &self.centres
    }

    /// Sum of squared distances of the training rows to their centres.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Iterations of the winning run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    /// Index of the winning run among the `n_init`.
    pub fn best_run(&self) -> usize {
        self.best_run
    }

    /// With [`KMeansParams::track_inertia`]: the inertia after each iteration of the winning run (labels
    /// of the iteration against the centres it produced) — non-increasing.
    pub fn inertia_history(&self) -> &[f64] {
        &self.inertia_history
    }

    /// Nearest centre of each row and the Euclidean distance to it.
    pub fn predict_with_distances(&self, x: ArrayView2<'_, f64>) -> Result<(Vec<i64>, Vec<f64>)> {
        check_query(x, self.centres.ncols())?;
        Ok(nearest_centres(x, &self.centres))
    }
}

/// Nearest row of `centres` (first on ties) for every row of `x`, with the Euclidean distance.
pub(crate) fn nearest_centres(x: ArrayView2<'_, f64>, centres: &Array2<f64>) -> (Vec<i64>, Vec<f64>) {
    let x = x.as_standard_layout();
    let c = centres.as_standard_layout();
    let d = c.ncols();
    let (xs, cs) = (x.as_slice().expect("standard layout"), c.as_slice().expect("standard layout"));
    let out: Vec<(i64, f64)> = xs
        .par_chunks(d.max(1))
        .with_min_len(256)
        .map(|row| {
            let (j, sq) = argmin(row, cs, d);
            (j as i64, sq.sqrt())
        })
        .collect();
    out.into_iter().unzip()
}

impl ClusterModel for KMeans {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}

impl Predict for KMeans {
    type Error = ClusterError;

    /// Nearest centre.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        Ok(self.predict_with_distances(x)?.0)
    }
}

/// Index of the nearest centre (first smallest squared distance) and that squared distance.
#[inline(always)]
fn argmin(row: &[f64], centres: &[f64], d: usize) -> (usize, f64) {
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
struct Data<'a> {
    x: &'a [f64],
    n: usize,
    d: usize,
    k: usize,
    /// Absolute tolerance on the summed squared centre shift.
    tol: f64,
    /// Absolute safety margin of Hamerly's bound tests.
    margin: f64,
    /// For the k-means++ kernels (empty when not needed): the rows minus their mean, in blocks of
    /// [`BLOCK`], each dimension-major (`d × BLOCK`; the last block repeats its last row) ...
    blocks: Vec<f64>,
    /// ... their squared norms ...
    norms: Vec<f64>,
    /// ... the mean ...
    mean: Vec<f64>,
    /// ... and a bound on the rounding error of a squared distance computed as ‖x‖² + ‖c‖² − 2x·c.
    d2_err: f64,
}

impl Data<'_> {
    #[inline(always)]
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    fn chunk_range(&self, c: usize) -> std::ops::Range<usize> {
        c * CHUNK..((c + 1) * CHUNK).min(self.n)
    }

    /// The transposed block holding rows `b * BLOCK ..`.
    #[inline(always)]
    fn block(&self, b: usize) -> &[f64] {
        &self.blocks[b * self.d * BLOCK..(b + 1) * self.d * BLOCK]
    }

    fn build_blocks(&mut self, mean: Vec<f64>, scale: f64) {
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
    fn centred(&self, i: usize) -> (Vec<f64>, f64) {
        let c: Vec<f64> = self.row(i).iter().zip(&self.mean).map(|(v, m)| v - m).collect();
        let norm = c.iter().map(|v| v * v).sum();
        (c, norm)
    }
}

/// Per-chunk result of an assignment pass: centre sums and counts, labels changed.
struct Partial {
    sums: Vec<f64>,
    counts: Vec<u64>,
    changed: usize,
}

/// Adds the per-chunk partials in chunk order.
fn combine(parts: Vec<Partial>, k: usize, d: usize) -> Partial {
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
struct Run {
    centres: Vec<f64>,
    labels: Vec<u32>,
    inertia: f64,
    n_iter: usize,
    history: Vec<f64>,
}

/// Position of (row `i`, run `r`) in the per-row state of a batch of `runs` runs: chunk by chunk (so one
/// pass over the rows serves every run), run-major inside a chunk (so a run's values of consecutive rows
/// are contiguous).
#[inline(always)]
fn slot(i: usize, r: usize, runs: usize, n: usize) -> usize {
    let start = i / CHUNK * CHUNK;
    start * runs + r * CHUNK.min(n - start) + (i - start)
}

/// Per-row state of a batch of runs, laid out by [`slot`]: labels, and Hamerly's bounds (empty for Lloyd) — distance to the assigned centre
/// (upper) and a lower bound on the distance to any other centre.
struct Rows {
    labels: Vec<u32>,
    upper: Vec<f64>,
    lower: Vec<f64>,
}

/// Where a run is: iterating, recomputing its labels against its final centres, or done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Iterate,
    Final,
    Done,
}

/// One run of a batch.
struct RunState {
    centres: Vec<f64>,
    /// Shift of each centre since the bounds were last valid.
    drift: Vec<f64>,
    /// Per centre: half the distance to its nearest other centre (Hamerly's `s`).
    half: Vec<f64>,
    /// Largest drift, its centre, and the largest drift of the other centres.
    m1: f64,
    a1: usize,
    m2: f64,
    stage: Stage,
    /// No valid bounds yet: the next pass computes every distance.
    first: bool,
    n_iter: usize,
    history: Vec<f64>,
    inertia: f64,
}

impl RunState {
    fn prepare(&mut self, k: usize, d: usize) {
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
struct PassJob<'a> {
    data: &'a Data<'a>,
    first_row: usize,
    runs: &'a [RunState],
    labels: &'a mut [u32],
    bounds: Option<(&'a mut [f64], &'a mut [f64])>,
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
struct InertiaJob<'a> {
    data: &'a Data<'a>,
    first_row: usize,
    runs: &'a [RunState],
    mask: &'a [bool],
    labels: &'a [u32],
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
fn inertias(data: &Data<'_>, runs: &[RunState], mask: &[bool], labels: &[u32]) -> Vec<f64> {
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
fn run_batch(
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
fn relocate_empty(
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
fn full(row: &[f64], centres: &[f64], d: usize, up: &mut f64, lo: &mut f64) -> usize {
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
fn prune(dcc: f64, c: f64) -> bool {
    dcc >= 4.0 * c * (1.0 + 1e-9) + 1e-300
}

/// State of one k-means++ initialisation. The per-row arrays of all runs live in [`PlusPlusRows`] (laid
/// out by [`slot`]), so one pass over the rows serves every run.
struct PlusPlus {
    rng: ChaCha8Rng,
    centres: Vec<f64>,
    pot: f64,
    /// Σ D² per chunk (after the pending centre is added).
    chunk_tot: Vec<f64>,
    cands: Vec<usize>,
    /// The candidates centred, with their squared norms.
    cands_c: Vec<(Vec<f64>, f64)>,
    /// Squared distances candidate × centre (`trials × centres`, exact).
    dcc: Vec<f64>,
    /// The centre chosen last, not yet applied to the rows: centred, its squared norm, and its squared
    /// distances to the centres before it (applied at the start of the next pass, which reads the rows
    /// anyway).
    pending: Option<(Vec<f64>, f64, Vec<f64>)>,
}

/// Per-row state of all runs.
struct PlusPlusRows {
    /// D²: squared distance to the nearest centre so far.
    closest: Vec<f64>,
    nearest: Vec<u32>,
    /// Squared lower bound on the distance to every other centre so far.
    lower: Vec<f64>,
}

/// Squared distances from the [`BLOCK`] rows of a centred transposed block (squared norms `nx`) to a
/// centred point `q` (squared norm `nq`), as ‖x‖² + ‖q‖² − 2x·q (scikit-learn's form; two operations per
/// coordinate instead of three), clamped at 0. Vectorised across rows (no horizontal reductions), the dot
/// products summed in four interleaved partial sums so the additions do not wait on each other. The
/// result is within [`Data::d2_err`] of the true value.
#[inline(always)]
fn block_sq_euclidean_unrolled(buf: &[f64], nx: &[f64], q: &[f64], nq: f64, out: &mut [f64; BLOCK]) {
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
fn apply_block(
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
        block_sq_euclidean_unrolled(buf, nx, cand, nq, &mut dist);
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
struct PpFirstJob<'a> {
    data: &'a Data<'a>,
    first_row: usize,
    firsts: &'a [(Vec<f64>, f64)],
    closest: &'a mut [f64],
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
                block_sq_euclidean_unrolled(buf, nx, f, *nf, &mut dist);
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
struct PpStepJob<'a> {
    data: &'a Data<'a>,
    first_row: usize,
    pp: &'a [PlusPlus],
    trials: usize,
    closest: &'a mut [f64],
    nearest: &'a mut [u32],
    lower: &'a mut [f64],
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
                        block_sq_euclidean_unrolled(buf, nx, cand, *nq, &mut dist);
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
fn add_in_order(parts: &[Vec<f64>], len: usize) -> Vec<f64> {
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
fn kmeans_plusplus(data: &Data<'_>, rngs: Vec<ChaCha8Rng>) -> (Vec<Vec<f64>>, Rows) {
    let (n, d, k) = (data.n, data.d, data.k);
    let runs = rngs.len();
    let trials = 2 + (k as f64).ln() as usize;
    let mut pp: Vec<PlusPlus> = rngs
        .into_iter()
        .map(|rng| PlusPlus {
            rng,
            centres: vec![],
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
    (pp.into_iter().map(|p| p.centres).collect(), Rows { labels: rows.nearest, upper, lower })
}

/// D² of the rows of chunk `c` for run `r`, with the run's pending centre applied exactly as the step
/// pass applies it.
fn chunk_closest(data: &Data<'_>, p: &PlusPlus, rows: &PlusPlusRows, c: usize, r: usize, runs: usize) -> Vec<f64> {
    let range = data.chunk_range(c);
    let rc = range.len();
    let at0 = range.start * runs + r * rc;
    let mut out = rows.closest[at0..at0 + rc].to_vec();
    if let Some((cand, nq, dcc)) = &p.pending {
        simd::run(ChunkClosestJob { data, first_row: range.start, cand: (cand, *nq), dcc, rows, at0, out: &mut out });
    }
    out
}

struct ChunkClosestJob<'a> {
    data: &'a Data<'a>,
    first_row: usize,
    cand: (&'a [f64], f64),
    dcc: &'a [f64],
    rows: &'a PlusPlusRows,
    at0: usize,
    out: &'a mut [f64],
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

impl Fit for KMeansParams {
    type Fitted = KMeans;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<KMeans> {
        self.validate_for(x)?;
        let x = x.as_standard_layout();
        let (n, d) = x.dim();
        let flat = x.as_slice().expect("standard layout");
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
            k: self.k,
            tol: self.tol * var_mean,
            margin: 1e-10 * scale + 1e-300,
            blocks: vec![],
            norms: vec![],
            mean: vec![],
            d2_err: 0.0,
        };
        if self.init == KMeansInit::KMeansPlusPlus {
            data.build_blocks(mean, scale);
        }
        let hamerly = self.algorithm != KMeansAlgorithm::Lloyd;
        let runs = if matches!(self.init, KMeansInit::Centres(_)) { 1 } else { self.n_init };
        let rngs: Vec<ChaCha8Rng> = (0..runs)
            .map(|r| {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(r as u64);
                rng
            })
            .collect();
        // Batches of runs in lockstep (bounded memory: ~24 bytes per row and run of state).
        let batch = (1usize << 27).div_ceil(n * 24).clamp(1, runs);
        let mut best: Option<(usize, Run)> = None;
        for (b, rngs) in rngs.chunks(batch).enumerate() {
            let (centres, seeded) = match &self.init {
                KMeansInit::Centres(c) => (vec![c.as_standard_layout().iter().copied().collect()], None),
                KMeansInit::KMeansPlusPlus => {
                    let (c, rows) = kmeans_plusplus(&data, rngs.to_vec());
                    (c, Some(rows))
                }
                KMeansInit::Random => {
                    let c = rngs
                        .iter()
                        .map(|rng| {
                            let mut rng = rng.clone();
                            rand::seq::index::sample(&mut rng, n, self.k)
                                .into_iter()
                                .flat_map(|i| data.row(i).iter().copied())
                                .collect()
                        })
                        .collect();
                    (c, None)
                }
            };
            let nr = centres.len();
            let (states, labels) = run_batch(&data, centres, seeded, self.max_iter, hamerly, self.track_inertia);
            for (r, s) in states.into_iter().enumerate() {
                if best.as_ref().is_none_or(|(_, o)| s.inertia < o.inertia) {
                    let labels = (0..n).map(|i| labels[slot(i, r, nr, n)]).collect();
                    let out =
                        Run { centres: s.centres, labels, inertia: s.inertia, n_iter: s.n_iter, history: s.history };
                    best = Some((b * batch + r, out));
                }
            }
        }
        let (best_run, out) = best.expect("at least one run");
        Ok(KMeans {
            params: self.clone(),
            centres: Array2::from_shape_vec((self.k, d), out.centres).expect("k × d centres"),
            labels: out.labels.iter().map(|&l| l as i64).collect(),
            inertia: out.inertia,
            n_iter: out.n_iter,
            best_run,
            inertia_history: out.history,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn blobs(n: usize, d: usize, k: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c: Vec<Vec<f64>> = (0..k).map(|_| (0..d).map(|_| rng.random_range(-5.0..5.0)).collect()).collect();
        Array2::from_shape_fn((n, d), |(i, j)| c[i % k][j] + rng.random_range(-2.0..2.0))
    }

    #[test]
    fn lloyd_and_hamerly_agree() {
        for (d, k, seed) in [(2, 3, 1), (5, 8, 2), (33, 8, 3), (9, 20, 4)] {
            let x = blobs(3000, d, k, seed);
            let p = KMeansParams::new(k).seed(seed).n_init(2).tol(0.0);
            let a = p.clone().algorithm(KMeansAlgorithm::Lloyd).fit(x.view()).unwrap();
            let b = p.algorithm(KMeansAlgorithm::Hamerly).fit(x.view()).unwrap();
            assert_eq!(a, KMeans { params: a.params.clone(), ..b.clone() });
            assert!(a.n_iter() > 1);
        }
    }

    #[test]
    fn seeded_bounds_survive_rounding() {
        // Duplicates, near-duplicates far from the mean and a huge spread stress the ‖x‖² + ‖c‖² − 2x·c
        // distances of k-means++ that seed Hamerly's bounds: a bound that were wrong would show as a
        // difference to Lloyd.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = Array2::from_shape_fn((5000, 6), |(i, j)| match i % 5 {
            0 => 1.0e4 + (j as f64),
            1 => 1.0e4 + (j as f64) + 1e-9 * (i % 7) as f64,
            2 => -3.0e3 + rng.random_range(0.0..1e-3),
            _ => rng.random_range(-50.0..50.0),
        });
        for k in [2, 5, 9] {
            let p = KMeansParams::new(k).seed(k as u64).n_init(3).tol(0.0);
            let a = p.clone().algorithm(KMeansAlgorithm::Lloyd).fit(x.view()).unwrap();
            let b = p.algorithm(KMeansAlgorithm::Hamerly).fit(x.view()).unwrap();
            assert_eq!(a.labels(), b.labels());
            assert_eq!(a.inertia(), b.inertia());
        }
    }

    #[test]
    fn plusplus_spreads_and_converges() {
        let x = array![[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0], [0.0, 10.0], [0.1, 10.0]];
        for seed in 0..20 {
            let m = KMeansParams::new(3).seed(seed).fit(x.view()).unwrap();
            assert!((m.inertia() - 3.0 * 0.005).abs() < 1e-12, "seed {seed}: {}", m.inertia());
        }
    }

    #[test]
    fn empty_cluster_is_relocated_to_the_farthest_point() {
        let x = array![[0.0], [1.0], [2.0], [10.0]];
        let c = array![[0.0], [100.0]];
        let m = KMeansParams::new(2).init_centres(c).fit(x.view()).unwrap();
        assert_eq!(m.labels(), &[0, 0, 0, 1]);
        assert_eq!(m.centres(), &array![[1.0], [10.0]]);
    }

    #[test]
    fn history_is_non_increasing() {
        let x = blobs(2000, 4, 6, 9);
        let m =
            KMeansParams::new(6).init(KMeansInit::Random).seed(3).track_inertia(true).tol(0.0).fit(x.view()).unwrap();
        let h = m.inertia_history();
        assert_eq!(h.len(), m.n_iter());
        for w in h.windows(2) {
            assert!(w[1] <= w[0] * (1.0 + 1e-12), "{h:?}");
        }
        assert!((h.last().unwrap() - m.inertia()).abs() <= 1e-9 * m.inertia());
    }

    #[test]
    fn bad_input() {
        let x = array![[0.0, 1.0], [1.0, 0.0]];
        assert!(KMeansParams::new(0).fit(x.view()).is_err());
        assert!(KMeansParams::new(3).fit(x.view()).is_err());
        assert!(KMeansParams::new(1).tol(f64::NAN).fit(x.view()).is_err());
        let nan = array![[0.0, 1.0], [f64::INFINITY, 0.0]];
        assert!(matches!(
            KMeansParams::new(1).fit(nan.view()),
            Err(ClusterError::Input(InputError::NonFinite { row: 1, col: 1 | 0, .. }))
        ));
        assert!(KMeansParams::new(2).init_centres(array![[0.0], [1.0]]).fit(x.view()).is_err());
        let m = KMeansParams::new(1).fit(x.view()).unwrap();
        assert!(m.predict(array![[0.0]].view()).is_err());
        assert!(m.predict(array![[f64::NAN, 0.0]].view()).is_err());
    }
}
