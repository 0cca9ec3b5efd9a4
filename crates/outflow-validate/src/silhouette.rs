//! The silhouette coefficient, scikit-learn's definition, noise removed first; the all-pairs kernels.

use ndarray::ArrayView2;
use outflow_cluster::Metric;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use outflow_core::sample_indices;

use crate::labels::{Clusters, Score, check_labelled, finite, sum};
use crate::simd;

/// Options of [`silhouette`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SilhouetteParams {
    /// Distance metric (Euclidean has the fast kernel).
    pub metric: Metric,
    /// Score a seeded sample of this many non-noise points instead of all (scikit-learn's
    /// `silhouette_score(sample_size=…, random_state=…)`): the points are drawn without replacement
    /// among the *non-noise* rows with [`sample_indices`](outflow_core::sample_indices), and the silhouette
    /// is then computed exactly on the sample alone. `None` or ≥ the non-noise rows: every point.
    pub sample_size: Option<usize>,
    /// Seed of the sample.
    pub seed: u64,
}

impl Default for SilhouetteParams {
    fn default() -> Self {
        SilhouetteParams { metric: Metric::Euclidean, sample_size: None, seed: 0 }
    }
}

impl SilhouetteParams {
    /// Exact, Euclidean.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the metric.
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }

    /// Scores a seeded sample of `n` non-noise points.
    pub fn sample(mut self, n: usize, seed: u64) -> Self {
        self.sample_size = Some(n);
        self.seed = seed;
        self
    }
}

/// Mean silhouette of one cluster.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterSilhouette {
    /// The cluster's label.
    pub label: i64,
    /// Its scored points.
    pub size: usize,
    /// Mean silhouette of those points.
    pub mean: f64,
}

/// The result of [`silhouette`]: the mean, every scored point's value (for silhouette plots) and the
/// per-cluster means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silhouette {
    /// Mean silhouette of the scored points, in `[−1, 1]`.
    pub score: f64,
    /// Clusters (noise excluded).
    pub n_clusters: usize,
    /// Noise rows of the whole labelling.
    pub n_noise: usize,
    /// Fraction of rows that are not noise.
    pub coverage: f64,
    /// Scored rows, ascending (every non-noise row, or the sample).
    pub rows: Vec<usize>,
    /// Silhouette of each scored row (parallel to `rows`).
    pub values: Vec<f64>,
    /// Label of each scored row (parallel to `rows`).
    pub labels: Vec<i64>,
    /// Per cluster, ascending label.
    pub clusters: Vec<ClusterSilhouette>,
}

impl Silhouette {
    /// One entry per input row (`n_rows` of them): the value, or `None` for noise and unsampled rows.
    pub fn per_row(&self, n_rows: usize) -> Vec<Option<f64>> {
        let mut out = vec![None; n_rows];
        for (&r, &v) in self.rows.iter().zip(&self.values) {
            if r < n_rows {
                out[r] = Some(v);
            }
        }
        out
    }

    /// The mean as a [`Score`].
    pub fn as_score(&self) -> Score {
        Score {
            value: self.score,
            n_clusters: self.n_clusters,
            n_points: self.rows.len(),
            n_noise: self.n_noise,
            coverage: self.coverage,
        }
    }
}

/// The mean silhouette, exact and Euclidean, noise excluded — scikit-learn's `silhouette_score` on
/// the non-noise rows.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0, 0.0], [0.0, 1.0], [5.0, 0.0], [5.0, 1.0], [2.5, 9.0]];
/// let s = outflow_validate::silhouette_score(x.view(), &[0, 0, 1, 1, -1]).unwrap();
/// // a = 1, b = (5 + √26) / 2 for every point
/// let b = (5.0 + 26f64.sqrt()) / 2.0;
/// assert!((s - (b - 1.0) / b).abs() < 1e-12);
/// ```
pub fn silhouette_score(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<f64> {
    Ok(silhouette(x, labels, &SilhouetteParams::default())?.score)
}

/// Per-row silhouettes (`None` for noise), exact and Euclidean — scikit-learn's `silhouette_samples`
/// on the non-noise rows.
pub fn silhouette_samples(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<Vec<Option<f64>>> {
    Ok(silhouette(x, labels, &SilhouetteParams::default())?.per_row(x.nrows()))
}

/// The silhouette with options (metric, seeded sample).
///
/// For a point `i` of cluster `A`: `a(i)` is the mean distance to the *other* points of `A` (divided by
/// `|A| − 1`), `b(i)` the smallest mean distance to the points of another cluster, and
/// `s(i) = (b − a) / max(a, b)`; a point alone in its cluster scores 0 (as does `max(a, b) = 0`).
///
/// **The Euclidean kernel.** Points are sorted by cluster and centred on their mean (the distance is
/// translation invariant; centring shrinks the norms that the rounding error of `‖x‖² + ‖y‖² − 2x·y` is
/// proportional to), then packed dimension-major in chunks of 8 points that never straddle two clusters.
/// The micro-kernel computes an 8 × 8 tile of dot products in vector registers (fused multiply–adds),
/// turns it into distances and adds them to per-cluster sums, so the n × n distance matrix is never
/// stored. With AVX-512 every unordered pair of chunks is visited once: panels of 32 chunks are paired in
/// rounds of disjoint pairs (a round-robin schedule), a task adds row sums to one panel and column sums to
/// the other, and square roots use `rsqrt14` with two Newton steps (~4e-16 relative). With AVX2 + FMA, or
/// when `points × clusters` sums would exceed 1 GiB, each task owns a panel of rows and sweeps
/// cache-sized blocks of columns (every pair twice); a portable version covers other CPUs. Any tile entry
/// whose squared distance is at most `10⁻⁴·(‖x‖² + ‖y‖²)` — where cancellation could cost more than ~1e-10
/// relative — is recomputed directly from the original coordinates, so duplicates get exactly 0 (scikit-
/// learn's GEMM-based distances give ~1e-8 there). Every sum is accumulated in an order fixed by
/// constants, never by the scheduler: results do not depend on the number of threads.
///
/// Other metrics use a direct (scalar) all-pairs loop with the same per-cluster accumulation.
///
/// Errors: mismatched lengths, NaN / infinity, fewer than 2 clusters or as many clusters as scored
/// points (scikit-learn's `2 ≤ k ≤ n − 1`).
pub fn silhouette(x: ArrayView2<'_, f64>, labels: &[i64], params: &SilhouetteParams) -> Result<Silhouette> {
    check_labelled(x, labels)?;
    let all = Clusters::new(labels);
    let cl = match params.sample_size {
        Some(m) if m < all.n() => {
            let pick = sample_indices(all.n(), m, params.seed);
            Clusters::of_rows(labels, pick.into_iter().map(|i| all.rows[i]).collect())
        }
        _ => all,
    };
    cl.require_scorable()?;
    let prep = Prepared::new(x, &cl);
    let sums = match params.metric {
        Metric::Euclidean => prep.euclidean_sums(),
        m => prep.generic_sums(m),
    };
    // Silhouette per sorted position, then back to the kept-row order.
    let k = cl.k();
    let sizes = &cl.sizes;
    let mut values = vec![0.0; cl.n()];
    for (p, &i) in prep.order.iter().enumerate() {
        let own = cl.ids[i];
        let s = &sums[p * k..(p + 1) * k];
        values[i] = if sizes[own] <= 1 {
            0.0
        } else {
            let a = s[own] / (sizes[own] - 1) as f64;
            let mut b = f64::INFINITY;
            for c in 0..k {
                if c != own {
                    b = b.min(s[c] / sizes[c] as f64);
                }
            }
            let m = a.max(b);
            if m > 0.0 { (b - a) / m } else { 0.0 }
        };
    }
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); k];
    for (i, &v) in values.iter().enumerate() {
        per[cl.ids[i]].push(v);
    }
    let clusters = per
        .iter()
        .enumerate()
        .map(|(c, v)| ClusterSilhouette { label: cl.labels[c], size: v.len(), mean: sum(v) / v.len() as f64 })
        .collect();
    Ok(Silhouette {
        score: finite(sum(&values) / values.len() as f64)?,
        n_clusters: k,
        n_noise: cl.n_noise,
        coverage: cl.coverage(),
        labels: cl.ids.iter().map(|&c| cl.labels[c]).collect(),
        rows: cl.rows,
        values,
        clusters,
    })
}

/// Lanes per column chunk.
const L: usize = 8;
/// Rows per micro-kernel tile.
const R: usize = 8;
/// Rows per parallel task (a multiple of `R`).
const PANEL: usize = 128;
/// Column chunks per cache block (`BLOCK · L · d` doubles: 256 KiB at 32 features).
const BLOCK: usize = 128;
/// Column chunks per panel of the symmetric kernel (256 points).
const PANEL_CHUNKS: usize = 32;
/// The symmetric kernel keeps `points × clusters` sums in memory: at most this many (1 GiB).
const SYMMETRIC_MAX_SUMS: usize = 1 << 27;
/// Squared distances below this fraction of `‖x‖² + ‖y‖²` are recomputed directly.
const EXACT_BELOW: f64 = 1e-4;

/// Scored points sorted by cluster, in the layouts the kernels read.
struct Prepared {
    n: usize,
    d: usize,
    k: usize,
    /// Kept index (into `Clusters::rows`) of each sorted position.
    order: Vec<usize>,
    /// Cluster of each sorted position.
    cluster: Vec<usize>,
    /// Original coordinates, sorted, row-major.
    xo: Vec<f64>,
    /// Centred coordinates, sorted, row-major (Euclidean only).
    xc: Vec<f64>,
    /// Squared norms of `xc` rows.
    nr: Vec<f64>,
    /// Column chunks: chunk `c` holds `d × L` centred coordinates, `[j · L + l]`.
    chunks: Vec<f64>,
    /// Squared norms per chunk lane (0 on padding lanes).
    cnorm: Vec<f64>,
    /// Sorted position of lane 0 of each chunk.
    cstart: Vec<usize>,
    /// Valid lanes of each chunk.
    cvalid: Vec<usize>,
    /// Cluster of each chunk.
    ccluster: Vec<usize>,
}

impl Prepared {
    fn new(x: ArrayView2<'_, f64>, cl: &Clusters) -> Self {
        let (n, d, k) = (cl.n(), x.ncols(), cl.k());
        // Counting sort of the kept points by cluster (stable: rows ascending within a cluster).
        let mut start = vec![0usize; k + 1];
        for &c in &cl.ids {
            start[c + 1] += 1;
        }
        for c in 0..k {
            start[c + 1] += start[c];
        }
        let mut next = start.clone();
        let mut order = vec![0usize; n];
        for (i, &c) in cl.ids.iter().enumerate() {
            order[next[c]] = i;
            next[c] += 1;
        }
        let cluster: Vec<usize> = order.iter().map(|&i| cl.ids[i]).collect();
        let mut xo = Vec::with_capacity(n * d);
        for &i in &order {
            xo.extend(x.row(cl.rows[i]).iter().copied());
        }
        Prepared {
            n,
            d,
            k,
            order,
            cluster,
            xo,
            xc: Vec::new(),
            nr: Vec::new(),
            chunks: Vec::new(),
            cnorm: Vec::new(),
            cstart: Vec::new(),
            cvalid: Vec::new(),
            ccluster: Vec::new(),
        }
        .with_segments(start)
    }

    fn with_segments(mut self, start: Vec<usize>) -> Self {
        let (n, d) = (self.n, self.d);
        // Centre on the mean (computed in row order, so deterministic).
        let mut mean = vec![0.0; d];
        for row in self.xo.chunks_exact(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n as f64;
        }
        self.xc = self.xo.chunks_exact(d).flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v - m)).collect();
        self.nr = self.xc.chunks_exact(d).map(|r| r.iter().map(|v| v * v).sum()).collect();
        // Chunks of L columns inside each cluster's run.
        for c in 0..self.k {
            let mut p = start[c];
            while p < start[c + 1] {
                let valid = (start[c + 1] - p).min(L);
                let base = self.chunks.len();
                self.chunks.resize(base + d * L, 0.0);
                let mut norms = [0.0; L];
                for (l, norm) in norms.iter_mut().enumerate().take(valid) {
                    let row = &self.xc[(p + l) * d..(p + l + 1) * d];
                    for (j, &v) in row.iter().enumerate() {
                        self.chunks[base + j * L + l] = v;
                    }
                    *norm = self.nr[p + l];
                }
                self.cnorm.extend_from_slice(&norms);
                self.cstart.push(p);
                self.cvalid.push(valid);
                self.ccluster.push(c);
                p += valid;
            }
        }
        self
    }

    /// Per sorted position and cluster: the sum of Euclidean distances (`n × k`, row-major).
    fn euclidean_sums(&self) -> Vec<f64> {
        let isa = simd::isa();
        let symmetric = self.cstart.len() * L * self.k <= SYMMETRIC_MAX_SUMS;
        self.euclidean_sums_with(isa, symmetric)
    }

    /// [`Prepared::euclidean_sums`] with a given kernel (the symmetric one exists for AVX-512 only).
    fn euclidean_sums_with(&self, isa: simd::Isa, symmetric: bool) -> Vec<f64> {
        #[cfg(target_arch = "x86_64")]
        if isa == simd::Isa::Avx512 && symmetric {
            return self.symmetric_sums();
        }
        let _ = symmetric;
        let panels: Vec<Vec<f64>> = (0..self.n.div_ceil(PANEL))
            .into_par_iter()
            .map(|t| panel_sums(self, t * PANEL, ((t + 1) * PANEL).min(self.n), isa))
            .collect();
        panels.concat()
    }

    /// Per sorted position and cluster: the sum of `metric` distances, direct.
    fn generic_sums(&self, metric: Metric) -> Vec<f64> {
        let (d, k) = (self.d, self.k);
        let panels: Vec<Vec<f64>> = (0..self.n)
            .into_par_iter()
            .with_min_len(16)
            .map(|p| {
                let a = &self.xo[p * d..(p + 1) * d];
                let mut out = vec![0.0; k];
                for (q, b) in self.xo.chunks_exact(d).enumerate() {
                    if q != p {
                        out[self.cluster[q]] += metric.distance(a, b);
                    }
                }
                out
            })
            .collect();
        panels.concat()
    }
}

/// Per-cluster distance sums of the rows `p0..p1` (sorted positions) against every column.
fn panel_sums(pr: &Prepared, p0: usize, p1: usize, isa: simd::Isa) -> Vec<f64> {
    let (d, k) = (pr.d, pr.k);
    let rows = p1 - p0;
    let groups = rows.div_ceil(R);
    // Row tiles, dimension-major: tile g holds [j · R + r]; short tiles repeat their last row.
    let mut rp = vec![0.0; groups * d * R];
    let mut rn = vec![0.0; groups * R];
    let mut rpos = vec![0usize; groups * R];
    for g in 0..groups {
        for r in 0..R {
            let p = (p0 + g * R + r).min(p1 - 1);
            rpos[g * R + r] = p;
            rn[g * R + r] = pr.nr[p];
            for j in 0..d {
                rp[g * d * R + j * R + r] = pr.xc[p * d + j];
            }
        }
    }
    let mut out = vec![0.0; rows * k];
    let n_chunks = pr.cstart.len();
    let mut cb = 0;
    while cb < n_chunks {
        let ce = (cb + BLOCK).min(n_chunks);
        for g in 0..groups {
            let t = Tile {
                rows: &rp[g * d * R..(g + 1) * d * R],
                norms: rn[g * R..(g + 1) * R].try_into().expect("R norms"),
                pos: rpos[g * R..(g + 1) * R].try_into().expect("R positions"),
            };
            let out_rows = &mut out[g * R * k..((g + 1) * R).min(rows) * k];
            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: AVX-512F was detected at run time.
                simd::Isa::Avx512 => unsafe { block_avx512(pr, &t, cb, ce, out_rows) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: AVX2 and FMA were detected at run time.
                simd::Isa::Avx2Fma => unsafe { block_avx2(pr, &t, cb, ce, out_rows) },
                simd::Isa::Base => block_portable(pr, &t, cb, ce, out_rows),
            }
        }
        cb = ce;
    }
    out
}

/// `R` rows of a panel, packed for the micro-kernels.
struct Tile<'a> {
    /// Centred coordinates, dimension-major (`[j · R + r]`).
    rows: &'a [f64],
    /// Squared norms.
    norms: &'a [f64; R],
    /// Sorted positions (for the exact fix-ups).
    pos: &'a [usize; R],
}

/// Adds the lane sums of a row tile to cluster `c` of its rows (`out` holds ≤ `R` rows × `k`).
#[inline(always)]
fn flush(acc: &mut [[f64; L]; R], out: &mut [f64], k: usize, c: usize) {
    for (r, a) in acc.iter_mut().enumerate() {
        if let Some(o) = out.get_mut(r * k + c) {
            *o += ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
        }
        *a = [0.0; L];
    }
}

/// The exact distance between sorted positions `p` and `q`, from the original coordinates.
#[inline(always)]
fn direct(pr: &Prepared, p: usize, q: usize) -> f64 {
    let d = pr.d;
    let (a, b) = (&pr.xo[p * d..(p + 1) * d], &pr.xo[q * d..(q + 1) * d]);
    let mut s = 0.0;
    for (u, v) in a.iter().zip(b) {
        s += (u - v) * (u - v);
    }
    s.sqrt()
}

/// Adds the exact distances of the flagged tile entries (bit `r · L + l` of `small`).
#[inline(always)]
fn fix_up(pr: &Prepared, t: &Tile<'_>, c: usize, mut small: u64, acc: &mut [[f64; L]; R]) {
    while small != 0 {
        let bit = small.trailing_zeros() as usize;
        small &= small - 1;
        let (r, l) = (bit / L, bit % L);
        acc[r][l] += direct(pr, t.pos[r], pr.cstart[c] + l);
    }
}

/// Chunks `cb..ce` against one row tile: portable code (no vector unit assumed).
fn block_portable(pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    let (d, k) = (pr.d, pr.k);
    let mut acc = [[0.0f64; L]; R];
    let mut cur = pr.ccluster[cb];
    for c in cb..ce {
        if pr.ccluster[c] != cur {
            flush(&mut acc, out, k, cur);
            cur = pr.ccluster[c];
        }
        let chunk = &pr.chunks[c * d * L..(c + 1) * d * L];
        let cn = &pr.cnorm[c * L..(c + 1) * L];
        let mut dot = [[0.0f64; L]; R];
        for (rk, ck) in t.rows.chunks_exact(R).zip(chunk.chunks_exact(L)) {
            for r in 0..R {
                for l in 0..L {
                    dot[r][l] += rk[r] * ck[l];
                }
            }
        }
        let mut small = 0u64;
        for r in 0..R {
            for l in 0..pr.cvalid[c] {
                let s = t.norms[r] + cn[l];
                let d2 = s - 2.0 * dot[r][l];
                if d2 <= EXACT_BELOW * s {
                    small |= 1 << (r * L + l);
                } else {
                    acc[r][l] += d2.sqrt();
                }
            }
        }
        fix_up(pr, t, c, small, &mut acc);
    }
    flush(&mut acc, out, k, cur);
}

/// `√x` for `x > 0` (other lanes: garbage, masked by the callers): `rsqrt14` refined by two
/// Newton–Raphson steps (2⁻¹⁴ → ~2⁻²⁸ → a few ulps), then `x · x^(−1/2)` — about three times the
/// throughput of `vsqrtpd`, within ~4e-16 relative of the correctly rounded root.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn sqrt_positive(x: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    let half_x = _mm512_mul_pd(x, _mm512_set1_pd(0.5));
    let three_halves = _mm512_set1_pd(1.5);
    let mut y = _mm512_rsqrt14_pd(x);
    for _ in 0..2 {
        let t = _mm512_mul_pd(_mm512_mul_pd(half_x, y), y);
        y = _mm512_mul_pd(y, _mm512_sub_pd(three_halves, t));
    }
    _mm512_mul_pd(x, y)
}

/// Chunks `cb..ce` against one row tile with AVX-512: an 8 × 8 tile of dot products in eight `zmm`
/// accumulators, then distances, masked to the chunk's valid lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn block_avx512(pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    use std::arch::x86_64::*;
    let (d, k) = (pr.d, pr.k);
    let mut acc = [[0.0f64; L]; R];
    let mut cur = pr.ccluster[cb];
    let zero = _mm512_setzero_pd();
    let two = _mm512_set1_pd(2.0);
    let thr = _mm512_set1_pd(EXACT_BELOW);
    for c in cb..ce {
        if pr.ccluster[c] != cur {
            flush(&mut acc, out, k, cur);
            cur = pr.ccluster[c];
        }
        let chunk = &pr.chunks[c * d * L..(c + 1) * d * L];
        let mut dot = [zero; R];
        for (rk, ck) in t.rows.chunks_exact(R).zip(chunk.chunks_exact(L)) {
            // SAFETY: `ck` holds L = 8 doubles.
            let cv = unsafe { _mm512_loadu_pd(ck.as_ptr()) };
            for r in 0..R {
                dot[r] = _mm512_fmadd_pd(_mm512_set1_pd(rk[r]), cv, dot[r]);
            }
        }
        // SAFETY: the chunk's L norms.
        let cn = unsafe { _mm512_loadu_pd(pr.cnorm.as_ptr().add(c * L)) };
        let valid: __mmask8 = if pr.cvalid[c] == L { 0xff } else { ((1u16 << pr.cvalid[c]) - 1) as u8 };
        let mut small = 0u64;
        for r in 0..R {
            let s = _mm512_add_pd(_mm512_set1_pd(t.norms[r]), cn);
            let d2 = _mm512_fnmadd_pd(two, dot[r], s);
            let tiny = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(valid, d2, _mm512_mul_pd(thr, s));
            let dist = sqrt_positive(d2);
            // SAFETY: acc[r] holds L = 8 doubles.
            unsafe {
                let a = _mm512_loadu_pd(acc[r].as_ptr());
                _mm512_storeu_pd(acc[r].as_mut_ptr(), _mm512_mask_add_pd(a, valid & !tiny, a, dist));
            }
            small |= (tiny as u64) << (r * L);
        }
        if small != 0 {
            fix_up(pr, t, c, small, &mut acc);
        }
    }
    flush(&mut acc, out, k, cur);
}

/// Chunks `cb..ce` against one row tile with AVX2 + FMA: two passes of 4 rows × 8 lanes (2 `ymm`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // fixed-size register tiles read best with indices
unsafe fn block_avx2(pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    use std::arch::x86_64::*;
    let (d, k) = (pr.d, pr.k);
    let mut acc = [[0.0f64; L]; R];
    let mut cur = pr.ccluster[cb];
    let zero = _mm256_setzero_pd();
    let two = _mm256_set1_pd(2.0);
    let thr = _mm256_set1_pd(EXACT_BELOW);
    let lane_lo = _mm256_set_epi64x(3, 2, 1, 0);
    let lane_hi = _mm256_set_epi64x(7, 6, 5, 4);
    for c in cb..ce {
        if pr.ccluster[c] != cur {
            flush(&mut acc, out, k, cur);
            cur = pr.ccluster[c];
        }
        let chunk = &pr.chunks[c * d * L..(c + 1) * d * L];
        let nv = _mm256_set1_epi64x(pr.cvalid[c] as i64);
        let valid = [
            _mm256_castsi256_pd(_mm256_cmpgt_epi64(nv, lane_lo)),
            _mm256_castsi256_pd(_mm256_cmpgt_epi64(nv, lane_hi)),
        ];
        // SAFETY: the chunk's L norms.
        let cn = unsafe {
            [_mm256_loadu_pd(pr.cnorm.as_ptr().add(c * L)), _mm256_loadu_pd(pr.cnorm.as_ptr().add(c * L + 4))]
        };
        let mut small = 0u64;
        for half in 0..2 {
            let mut dot = [[zero; 2]; 4];
            for (rk, ck) in t.rows.chunks_exact(R).zip(chunk.chunks_exact(L)) {
                // SAFETY: `ck` holds L = 8 doubles.
                let cv = unsafe { [_mm256_loadu_pd(ck.as_ptr()), _mm256_loadu_pd(ck.as_ptr().add(4))] };
                for r in 0..4 {
                    let b = _mm256_set1_pd(rk[half * 4 + r]);
                    dot[r][0] = _mm256_fmadd_pd(b, cv[0], dot[r][0]);
                    dot[r][1] = _mm256_fmadd_pd(b, cv[1], dot[r][1]);
                }
            }
            for r in 0..4 {
                let row = half * 4 + r;
                for h in 0..2 {
                    let s = _mm256_add_pd(_mm256_set1_pd(t.norms[row]), cn[h]);
                    let d2 = _mm256_fnmadd_pd(two, dot[r][h], s);
                    let tiny = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(d2, _mm256_mul_pd(thr, s)), valid[h]);
                    let keep = _mm256_andnot_pd(tiny, valid[h]);
                    let dist = _mm256_and_pd(_mm256_sqrt_pd(_mm256_max_pd(d2, zero)), keep);
                    // SAFETY: acc[row] holds L = 8 doubles.
                    unsafe {
                        let p = acc[row].as_mut_ptr().add(h * 4);
                        _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), dist));
                    }
                    small |= (_mm256_movemask_pd(tiny) as u64) << (row * L + h * 4);
                }
            }
        }
        if small != 0 {
            fix_up(pr, t, c, small, &mut acc);
        }
    }
    flush(&mut acc, out, k, cur);
}

/// The pairs of panels `0..p` in rounds where no panel appears twice (the circle method: panel `p − 1`,
/// or a dummy when `p` is odd, stays put while the others rotate). Every pair appears exactly once.
fn round_robin(p: usize) -> Vec<Vec<(usize, usize)>> {
    let m = p + p % 2;
    (0..m.saturating_sub(1))
        .map(|r| {
            let mut round = vec![(r, m - 1)];
            for i in 1..m / 2 {
                round.push(((r + i) % (m - 1), (r + m - 1 - i) % (m - 1)));
            }
            round.into_iter().filter(|&(a, b)| a < p && b < p).map(|(a, b)| (a.min(b), a.max(b))).collect()
        })
        .collect()
}

#[cfg(target_arch = "x86_64")]
impl Prepared {
    /// Per sorted position and cluster: the sum of Euclidean distances, each pair computed once.
    ///
    /// Chunks are grouped into panels; a task handles one pair of panels (or one panel with itself),
    /// adding row sums to the first panel's points and column sums to the second's. Tasks run in
    /// rounds of disjoint panel pairs ([`round_robin`]), so no two tasks touch the same sums at once and
    /// every sum is accumulated in the same order whatever the number of threads.
    fn symmetric_sums(&self) -> Vec<f64> {
        use std::sync::Mutex;
        let (k, nc) = (self.k, self.cstart.len());
        let panels: Vec<(usize, usize)> =
            (0..nc.div_ceil(PANEL_CHUNKS)).map(|i| (i * PANEL_CHUNKS, ((i + 1) * PANEL_CHUNKS).min(nc))).collect();
        let sums: Vec<Mutex<Vec<f64>>> =
            panels.iter().map(|&(c0, c1)| Mutex::new(vec![0.0; (c1 - c0) * L * k])).collect();
        // Each panel with itself.
        panels.par_iter().zip(&sums).for_each(|(&pa, sa)| {
            let mut sa = sa.lock().expect("panel sums");
            let mut cols = vec![0.0; sa.len()];
            // SAFETY: AVX-512F was detected at run time (the caller checks).
            unsafe { pair_block_avx512(self, pa, pa, &mut sa, &mut cols, true) };
            for (s, c) in sa.iter_mut().zip(&cols) {
                *s += c;
            }
        });
        for round in round_robin(panels.len()) {
            round.par_iter().for_each(|&(u, v)| {
                let mut su = sums[u].lock().expect("panel sums");
                let mut sv = sums[v].lock().expect("panel sums");
                // SAFETY: AVX-512F was detected at run time (the caller checks).
                unsafe { pair_block_avx512(self, panels[u], panels[v], &mut su, &mut sv, false) };
            });
        }
        let mut out = vec![0.0; self.n * k];
        for (&(c0, c1), s) in panels.iter().zip(sums) {
            let s = s.into_inner().expect("panel sums");
            for c in c0..c1 {
                for l in 0..self.cvalid[c] {
                    let p = self.cstart[c] + l;
                    let src = ((c - c0) * L + l) * k;
                    out[p * k..(p + 1) * k].copy_from_slice(&s[src..src + k]);
                }
            }
        }
        out
    }
}

/// Distances between the chunks of panel `pa` (rows) and panel `pb` (columns), each unordered pair of
/// chunks once: row sums go to `sa` (panel `pa`'s points × clusters), column sums to `sb` (panel `pb`'s).
/// With `diag` the two panels are the same and only chunk pairs `a ≤ b` are visited (`a = b`: rows
/// only, the tile already holds both orders).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pair_block_avx512(
    pr: &Prepared,
    pa: (usize, usize),
    pb: (usize, usize),
    sa: &mut [f64],
    sb: &mut [f64],
    diag: bool,
) {
    use std::arch::x86_64::*;
    let (d, k) = (pr.d, pr.k);
    let zero = _mm512_setzero_pd();
    let two = _mm512_set1_pd(2.0);
    let thr = _mm512_set1_pd(EXACT_BELOW);
    let nb = pb.1 - pb.0;
    let mut cols = vec![[0.0f64; L]; nb];
    let mut cur_a = pr.ccluster[pa.0];
    let lane_mask =
        |c: usize| -> __mmask8 { if pr.cvalid[c] == L { 0xff } else { ((1u16 << pr.cvalid[c]) - 1) as u8 } };
    let flush_cols = |cols: &mut [[f64; L]], sb: &mut [f64], c: usize| {
        for (i, col) in cols.iter_mut().enumerate() {
            let b = pb.0 + i;
            for (l, v) in col.iter().enumerate().take(pr.cvalid[b]) {
                sb[(i * L + l) * k + c] += v;
            }
            *col = [0.0; L];
        }
    };
    for a in pa.0..pa.1 {
        if pr.ccluster[a] != cur_a {
            flush_cols(&mut cols, sb, cur_a);
            cur_a = pr.ccluster[a];
        }
        let ta = &pr.chunks[a * d * L..(a + 1) * d * L];
        // SAFETY: the chunk's L norms.
        let na = unsafe { _mm512_loadu_pd(pr.cnorm.as_ptr().add(a * L)) };
        let mut na_r = [0.0f64; L];
        // SAFETY: L doubles.
        unsafe { _mm512_storeu_pd(na_r.as_mut_ptr(), na) };
        let valid_a = pr.cvalid[a];
        let mut rows = [[0.0f64; L]; R];
        let b0 = if diag { a } else { pb.0 };
        let mut cur_b = pr.ccluster[b0];
        for b in b0..pb.1 {
            if pr.ccluster[b] != cur_b {
                flush(&mut rows, &mut sa[(a - pa.0) * L * k..((a - pa.0) * L + valid_a) * k], k, cur_b);
                cur_b = pr.ccluster[b];
            }
            let tb = &pr.chunks[b * d * L..(b + 1) * d * L];
            let mut dot = [zero; R];
            for (rk, ck) in ta.chunks_exact(R).zip(tb.chunks_exact(L)) {
                // SAFETY: `ck` holds L = 8 doubles.
                let cv = unsafe { _mm512_loadu_pd(ck.as_ptr()) };
                for r in 0..R {
                    dot[r] = _mm512_fmadd_pd(_mm512_set1_pd(rk[r]), cv, dot[r]);
                }
            }
            // SAFETY: the chunk's L norms.
            let nbv = unsafe { _mm512_loadu_pd(pr.cnorm.as_ptr().add(b * L)) };
            let valid = lane_mask(b);
            let with_cols = !(diag && a == b);
            let mut small = 0u64;
            let mut colsum = zero;
            for r in 0..valid_a {
                let s = _mm512_add_pd(_mm512_set1_pd(na_r[r]), nbv);
                let d2 = _mm512_fnmadd_pd(two, dot[r], s);
                let tiny = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(valid, d2, _mm512_mul_pd(thr, s));
                let dist = _mm512_maskz_mov_pd(valid & !tiny, sqrt_positive(d2));
                // SAFETY: rows[r] holds L = 8 doubles.
                unsafe {
                    let acc = _mm512_loadu_pd(rows[r].as_ptr());
                    _mm512_storeu_pd(rows[r].as_mut_ptr(), _mm512_add_pd(acc, dist));
                }
                colsum = _mm512_add_pd(colsum, dist);
                small |= (tiny as u64) << (r * L);
            }
            if with_cols {
                let col = &mut cols[b - pb.0];
                // SAFETY: L doubles.
                unsafe { _mm512_storeu_pd(col.as_mut_ptr(), _mm512_add_pd(_mm512_loadu_pd(col.as_ptr()), colsum)) };
            }
            while small != 0 {
                let bit = small.trailing_zeros() as usize;
                small &= small - 1;
                let (r, l) = (bit / L, bit % L);
                let v = direct(pr, pr.cstart[a] + r, pr.cstart[b] + l);
                rows[r][l] += v;
                if with_cols {
                    cols[b - pb.0][l] += v;
                }
            }
        }
        flush(&mut rows, &mut sa[(a - pa.0) * L * k..((a - pa.0) * L + valid_a) * k], k, cur_b);
    }
    flush_cols(&mut cols, sb, cur_a);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};

    /// Every kernel this CPU can run agrees with a direct O(n²) sum, with awkward cluster sizes
    /// (1, 7, 8, 9 … points), duplicates and a large offset.
    #[test]
    fn kernels_match_direct_sums() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let sizes = [1usize, 7, 8, 9, 17, 2, 300, 5];
        let n: usize = sizes.iter().sum();
        let d = 13;
        let mut labels = Vec::new();
        for (c, &s) in sizes.iter().enumerate() {
            labels.extend(std::iter::repeat_n(c as i64 * 3, s));
        }
        // shuffle the labels so clusters are interleaved in row order
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            labels.swap(i, j);
        }
        let mut x =
            Array2::from_shape_fn((n, d), |(i, j)| 1e4 + labels[i] as f64 * 0.5 + (j as f64) + rng.random::<f64>());
        for i in 0..20 {
            let src = x.row(i * 7).to_owned();
            x.row_mut(i * 7 + 1).assign(&src);
            labels[i * 7 + 1] = labels[i * 7];
        }
        let cl = Clusters::new(&labels);
        let pr = Prepared::new(x.view(), &cl);
        let direct_sums: Vec<f64> = (0..pr.n)
            .flat_map(|p| {
                let mut s = vec![0.0; pr.k];
                for q in 0..pr.n {
                    s[pr.cluster[q]] += direct(&pr, p, q);
                }
                s
            })
            .collect();
        let mut isas = vec![(simd::Isa::Base, false)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                isas.push((simd::Isa::Avx2Fma, false));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                isas.push((simd::Isa::Avx512, false));
                isas.push((simd::Isa::Avx512, true));
            }
        }
        for (isa, sym) in isas {
            let got = pr.euclidean_sums_with(isa, sym);
            for (i, (a, b)) in got.iter().zip(&direct_sums).enumerate() {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{isa:?} sym {sym}: entry {i}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn round_robin_covers_every_pair_once() {
        for p in 1..12 {
            let rounds = round_robin(p);
            let mut seen = std::collections::BTreeSet::new();
            for r in &rounds {
                let mut used = std::collections::BTreeSet::new();
                for &(a, b) in r {
                    assert!(a < b && b < p);
                    assert!(used.insert(a) && used.insert(b), "panel twice in a round");
                    assert!(seen.insert((a, b)), "pair twice");
                }
            }
            assert_eq!(seen.len(), p * (p - 1) / 2);
        }
    }
}
