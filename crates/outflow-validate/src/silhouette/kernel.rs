//! The all-pairs Euclidean distance sums behind the silhouette: points sorted by cluster and packed in
//! column chunks of [`L`] lanes, row tiles of [`R`] rows, `‖x‖² + ‖y‖² − 2x·y` on centred data with
//! the rare cancellation-prone pairs recomputed directly; the portable kernel and the dispatch to the
//! vector kernels of `x86`.

use ndarray::ArrayView2;
use outflow_cluster::Metric;
use rayon::prelude::*;

use crate::labels::Clusters;
#[cfg(target_arch = "x86_64")]
use crate::simd::Avx512;
use crate::simd::{Isa, Level};

#[cfg(target_arch = "x86_64")]
use super::x86;

/// Lanes per column chunk.
pub(super) const L: usize = 8;
/// Rows per micro-kernel tile.
pub(super) const R: usize = 8;
/// Rows per parallel task (a multiple of `R`).
const PANEL: usize = 128;
/// Column chunks per cache block (`BLOCK · L · d` doubles: 256 KiB at 32 features).
const BLOCK: usize = 128;
/// Column chunks per panel of the symmetric kernel (256 points).
pub(super) const PANEL_CHUNKS: usize = 32;
/// The symmetric kernel keeps `points × clusters` sums in memory: at most this many (1 GiB).
const SYMMETRIC_MAX_SUMS: usize = 1 << 27;
/// Squared distances below this fraction of `‖x‖² + ‖y‖²` are recomputed directly.
pub(super) const EXACT_BELOW: f64 = 1e-4;

/// Scored points sorted by cluster, in the layouts the kernels read.
pub(super) struct Prepared {
    pub(super) n: usize,
    pub(super) d: usize,
    pub(super) k: usize,
    /// Kept index (into `Clusters::rows`) of each sorted position.
    pub(super) order: Vec<usize>,
    /// Cluster of each sorted position.
    pub(super) cluster: Vec<usize>,
    /// Original coordinates, sorted, row-major.
    pub(super) xo: Vec<f64>,
    /// Centred coordinates, sorted, row-major (Euclidean only).
    pub(super) xc: Vec<f64>,
    /// Squared norms of `xc` rows.
    pub(super) nr: Vec<f64>,
    /// Column chunks: chunk `c` holds `d × L` centred coordinates, `[j · L + l]`.
    pub(super) chunks: Vec<f64>,
    /// Squared norms per chunk lane (0 on padding lanes).
    pub(super) cnorm: Vec<f64>,
    /// Sorted position of lane 0 of each chunk.
    pub(super) cstart: Vec<usize>,
    /// Valid lanes of each chunk.
    pub(super) cvalid: Vec<usize>,
    /// Cluster of each chunk.
    pub(super) ccluster: Vec<usize>,
}

impl Prepared {
    pub(super) fn new(x: ArrayView2<'_, f64>, cl: &Clusters) -> Self {
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
    pub(super) fn euclidean_sums(&self) -> Vec<f64> {
        let isa = Isa::detect();
        let symmetric = self.cstart.len() * L * self.k <= SYMMETRIC_MAX_SUMS;
        self.euclidean_sums_with(isa, symmetric)
    }

    /// [`Prepared::euclidean_sums`] with a given kernel (the symmetric one exists for AVX-512 only).
    fn euclidean_sums_with(&self, isa: Isa, symmetric: bool) -> Vec<f64> {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx512) = isa.avx512().filter(|_| symmetric) {
            return self.symmetric_sums(avx512);
        }
        let _ = symmetric;
        let panels: Vec<Vec<f64>> = (0..self.n.div_ceil(PANEL))
            .into_par_iter()
            .map(|t| panel_sums(self, t * PANEL, ((t + 1) * PANEL).min(self.n), isa))
            .collect();
        panels.concat()
    }

    /// Per sorted position and cluster: the sum of `metric` distances, direct.
    pub(super) fn generic_sums(&self, metric: Metric) -> Vec<f64> {
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
fn panel_sums(pr: &Prepared, p0: usize, p1: usize, isa: Isa) -> Vec<f64> {
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
            match isa.level() {
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 => x86::block_avx512(isa.avx512().expect("AVX-512 level"), pr, &t, cb, ce, out_rows),
                #[cfg(target_arch = "x86_64")]
                Level::Avx2Fma => x86::block_avx2(isa.avx2_fma().expect("AVX2 level"), pr, &t, cb, ce, out_rows),
                Level::Base => block_portable(pr, &t, cb, ce, out_rows),
            }
        }
        cb = ce;
    }
    out
}

/// `R` rows of a panel, packed for the micro-kernels.
pub(super) struct Tile<'a> {
    /// Centred coordinates, dimension-major (`[j · R + r]`).
    pub(super) rows: &'a [f64],
    /// Squared norms.
    pub(super) norms: &'a [f64; R],
    /// Sorted positions (for the exact fix-ups).
    pub(super) pos: &'a [usize; R],
}

/// Adds the lane sums of a row tile to cluster `c` of its rows (`out` holds ≤ `R` rows × `k`).
#[inline(always)]
pub(super) fn flush(acc: &mut [[f64; L]; R], out: &mut [f64], k: usize, c: usize) {
    for (r, a) in acc.iter_mut().enumerate() {
        if let Some(o) = out.get_mut(r * k + c) {
            *o += ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
        }
        *a = [0.0; L];
    }
}

/// The exact distance between sorted positions `p` and `q`, from the original coordinates.
#[inline(always)]
pub(super) fn direct(pr: &Prepared, p: usize, q: usize) -> f64 {
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
pub(super) fn fix_up(pr: &Prepared, t: &Tile<'_>, c: usize, mut small: u64, acc: &mut [[f64; L]; R]) {
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
    fn symmetric_sums(&self, avx512: Avx512) -> Vec<f64> {
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
            x86::pair_block_avx512(avx512, self, pa, pa, &mut sa, &mut cols, true);
            for (s, c) in sa.iter_mut().zip(&cols) {
                *s += c;
            }
        });
        for round in round_robin(panels.len()) {
            round.par_iter().for_each(|&(u, v)| {
                let mut su = sums[u].lock().expect("panel sums");
                let mut sv = sums[v].lock().expect("panel sums");
                x86::pair_block_avx512(avx512, self, panels[u], panels[v], &mut su, &mut sv, false);
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
        let mut isas = Vec::new();
        for isa in Isa::supported() {
            isas.push((isa, false));
            if isa.avx512().is_some() {
                isas.push((isa, true));
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
