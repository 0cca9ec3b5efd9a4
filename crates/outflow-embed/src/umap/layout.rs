//! UMAP's stochastic gradient descent on the cross-entropy between the fuzzy graph and the embedding's
//! similarities `1 / (1 + a·d^(2b))` (umap-learn's `optimize_layout_euclidean`): every edge is sampled in
//! proportion to its weight, pulls its two ends together and pushes its head away from
//! `negative_sample_rate` random vertices; steps are clipped to ±4 and the learning rate falls linearly.

use rayon::prelude::*;

/// The curve, the step and the sampling of one descent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sgd {
    pub a: f32,
    pub b: f32,
    pub gamma: f32,
    pub initial_alpha: f32,
    pub negative_sample_rate: f64,
    pub n_epochs: usize,
}

/// Edge sampling schedule: an edge of weight `w` is sampled every `n_epochs · max_w / (n_epochs · w)`
/// epochs, its negative samples `negative_sample_rate` times as often.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    edges: Vec<EdgeState>,
}

impl Schedule {
    pub fn new(weights: &[f32], max_w: f32, n_epochs: usize, negative_sample_rate: f64) -> Self {
        let edges = weights
            .iter()
            .map(|&w| {
                let samples = n_epochs as f64 * (f64::from(w) / f64::from(max_w));
                let every = if samples > 0.0 { n_epochs as f64 / samples } else { -1.0 };
                let neg_every = every / negative_sample_rate;
                EdgeState { every, next: every, neg_every, neg_next: neg_every }
            })
            .collect();
        Schedule { edges }
    }
}

/// SplitMix64: one small independent stream per head vertex, as umap-learn keeps one generator state per
/// vertex, so the negative samples of a vertex never depend on another's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VertexRng(u64);

impl VertexRng {
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = VertexRng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }

    /// A draw in `0..n` (the high half scaled by multiplication: no division in the hot loop).
    #[inline]
    pub fn below(&mut self, n: u64) -> usize {
        (((self.next() >> 32) * n) >> 32) as usize
    }

    #[inline]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The sampling state of one edge: when it is next sampled, and its negative samples.
#[derive(Debug, Clone, Copy)]
struct EdgeState {
    every: f64,
    next: f64,
    neg_every: f64,
    neg_next: f64,
}

impl EdgeState {
    /// Whether the edge is sampled in epoch `n`; if so, advances it and returns its negative samples.
    #[inline]
    fn sample(&mut self, n: f64) -> Option<usize> {
        if self.next > n {
            return None;
        }
        self.next += self.every;
        let n_neg = ((n - self.neg_next) / self.neg_every).max(0.0) as usize;
        self.neg_next += n_neg as f64 * self.neg_every;
        Some(n_neg)
    }
}

/// `x^b` for `x > 0` as `2^(b·log2 x)` with polynomial `log2` and `exp2` (relative error below 1e-5
/// over the layout's range). Inlined and free of libm: the descent spends much of its time in powers,
/// and with glibc's `powf` this loop ran slower on two threads than on one.
#[inline]
fn pow_pos(x: f32, b: f32) -> f32 {
    // log2 x = exponent + log2(mantissa), mantissa in [√½, √2) so the series argument is small.
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 / 9.0))));
    let y = (b * (e as f32 + ln_m * std::f32::consts::LOG2_E)).clamp(-126.0, 126.0);
    // 2^y = 2^i · 2^f with i = ⌊y⌋ (truncation of a positive shift: no libm call) and f in [0, 1).
    let i = (y + 127.0) as i32 - 127;
    let f = (y - i as f32) * std::f32::consts::LN_2;
    let p = 1.0
        + f * (1.0
            + f * (0.5 + f * (1.0 / 6.0 + f * (1.0 / 24.0 + f * (1.0 / 120.0 + f * (1.0 / 720.0 + f / 5040.0))))));
    p * f32::from_bits(((i + 127) as u32) << 23)
}

#[inline]
fn clip(v: f32) -> f32 {
    v.clamp(-4.0, 4.0)
}

#[inline]
fn rdist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

impl Sgd {
    #[inline]
    fn attraction(&self, d2: f32) -> f32 {
        if d2 > 0.0 {
            let pb = pow_pos(d2, self.b);
            -2.0 * self.a * self.b * (pb / d2) / (self.a * pb + 1.0)
        } else {
            0.0
        }
    }

    #[inline]
    fn repulsion(&self, d2: f32) -> f32 {
        2.0 * self.gamma * self.b / ((0.001 + d2) * (self.a * pow_pos(d2, self.b) + 1.0))
    }

    /// `count` negative samples for `cur` (vertex `me`, never its own sample) among the rows of `others`.
    /// The samples of one positive step are taken against the same position of `cur`, in groups of up
    /// to eight, so their powers are computed side by side instead of one after another.
    #[inline]
    fn repel(&self, cur: &mut [f32], others: &[f32], me: usize, count: usize, rng: &mut VertexRng, alpha: f32) {
        const GROUP: usize = 8;
        let dim = cur.len();
        let n_rows = (others.len() / dim) as u64;
        let mut left = count;
        while left > 0 {
            let m = left.min(GROUP);
            left -= m;
            let mut ks = [0usize; GROUP];
            let mut gc = [0.0f32; GROUP];
            for (slot, g) in ks[..m].iter_mut().zip(gc.iter_mut()) {
                let k = rng.below(n_rows);
                *slot = k;
                let d2 = rdist(cur, &others[k * dim..(k + 1) * dim]);
                *g = if k != me && d2 > 0.0 { self.repulsion(d2) } else { 0.0 };
            }
            for (d, c) in cur.iter_mut().enumerate() {
                let base = *c;
                let mut step = 0.0f32;
                for (&k, &g) in ks[..m].iter().zip(&gc[..m]) {
                    step += clip(g * (base - others[k * dim + d]));
                }
                *c = base + step * alpha;
            }
        }
    }

    fn alpha(&self, epoch: usize) -> f32 {
        self.initial_alpha * (1.0 - epoch as f32 / self.n_epochs as f32)
    }

    /// The fit: every vertex moves along its own edges, in parallel, against the other vertices' positions
    /// at the start of the epoch (written to a second buffer, so no vertex reads a half-updated one).
    /// umap-learn moves both ends of an edge when it samples it and lists every edge both ways; here each
    /// end takes that edge's pull twice when it samples it — the same two steps per sampling period —
    /// so the result is a function of the seed alone, whatever the thread count or order.
    pub fn fit(&self, emb: &mut [f32], dim: usize, indptr: &[usize], tails: &[u32], sched: &mut Schedule, seed: u64) {
        let n_vertices = emb.len() / dim;
        let mut rngs: Vec<VertexRng> = (0..n_vertices as u64).map(|v| VertexRng::new(seed, v)).collect();
        let mut per_vertex: Vec<&mut [EdgeState]> = Vec::with_capacity(n_vertices);
        let mut rest: &mut [EdgeState] = &mut sched.edges;
        for v in 0..n_vertices {
            let (mine, tail) = rest.split_at_mut(indptr[v + 1] - indptr[v]);
            per_vertex.push(mine);
            rest = tail;
        }
        let mut prev = emb.to_vec();
        let mut alpha = self.initial_alpha;
        for epoch in 0..self.n_epochs {
            let n = epoch as f64;
            prev.copy_from_slice(emb);
            let prev = &prev;
            emb.par_chunks_mut(dim)
                .zip(per_vertex.par_iter_mut())
                .zip(rngs.par_iter_mut())
                .enumerate()
                .with_min_len(1024)
                .for_each(|(j, ((cur, states), rng))| {
                    let my_tails = &tails[indptr[j]..indptr[j + 1]];
                    for (st, &k) in states.iter_mut().zip(my_tails) {
                        let Some(n_neg) = st.sample(n) else { continue };
                        let other = &prev[k as usize * dim..(k as usize + 1) * dim];
                        for _ in 0..2 {
                            let gc = self.attraction(rdist(cur, other));
                            for d in 0..dim {
                                cur[d] += clip(gc * (cur[d] - other[d])) * alpha;
                            }
                        }
                        self.repel(cur, prev, j, n_neg, rng, alpha);
                    }
                });
            alpha = self.alpha(epoch);
        }
    }

    /// A new point among fixed ones: only `point` moves, pulled towards `tails` (rows of `fixed`) and
    /// pushed from random rows of `fixed`.
    pub fn place(&self, point: &mut [f32], fixed: &[f32], tails: &[u32], sched: &mut Schedule, rng: &mut VertexRng) {
        let dim = point.len();
        let mut alpha = self.initial_alpha;
        for epoch in 0..self.n_epochs {
            let n = epoch as f64;
            for (st, &k) in sched.edges.iter_mut().zip(tails) {
                let Some(n_neg) = st.sample(n) else { continue };
                let other = &fixed[k as usize * dim..(k as usize + 1) * dim];
                let gc = self.attraction(rdist(point, other));
                for d in 0..dim {
                    point[d] += clip(gc * (point[d] - other[d])) * alpha;
                }
                self.repel(point, fixed, usize::MAX, n_neg, rng, alpha);
            }
            alpha = self.alpha(epoch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_power_is_accurate_over_the_layouts_range() {
        for b in [0.5f32, 0.79, 0.895, 1.0, 1.2, 1.9] {
            let mut x = 1e-12f32;
            while x < 1e12 {
                let (got, want) = (pow_pos(x, b), f64::from(x).powf(f64::from(b)));
                assert!(((f64::from(got) - want) / want).abs() < 1e-5, "{x}^{b}: {got} vs {want}");
                x *= 1.37;
            }
        }
    }
}
