//! A single-precision copy of the leaves, used to skip points in the Euclidean k-NN searches.
//!
//! Why: at 8 dimensions a k-NN search scans about a hundred 64-point leaves per query at a million
//! rows (more as the rows grow: 62 at 100,000, 173 at 3 million). In `f32` a leaf is half the bytes
//! and a vector register holds twice the lanes: the core distances of HDBSCAN took 1.2–1.25× less
//! time at 1–3 million rows. Nothing is decided in `f32`: a point whose `f32` distance is above a
//! threshold that provably exceeds every `f32` rendering of a distance below the search's current
//! bound is skipped; every other point is measured again in `f64`, in the order the `f64` scan would
//! have met it. The results are therefore the `f64` search's, bit for bit (ties included).

use rayon::prelude::*;

use super::Node;
use super::build::chunked;

/// Points per `f32` chunk: one AVX-512 register, two AVX2 ones.
pub(crate) const LANES32: usize = 16;

/// The unit roundoff of `f32` (2⁻²⁴).
const U: f64 = f32::EPSILON as f64 / 2.0;

/// Above this coordinate magnitude (after centring) `f32` could overflow: no filter is built.
const MAX_MAGNITUDE: f64 = 1e30;

/// The `f32` leaves of a tree: coordinates centred on the data's mean, each leaf as chunks of
/// [`LANES32`] points, dimension-major, the last chunk padded with zeros (padded lanes are masked).
#[derive(Debug, Clone)]
pub(crate) struct Filter32 {
    centre: Vec<f64>,
    cols: Vec<f32>,
    /// Per node (leaves only): offset of the leaf's first chunk in `cols`.
    off: Vec<usize>,
    /// The largest distance of a point from `centre`.
    radius: f64,
}

impl Filter32 {
    /// The filter of the points `data` (tree order, `dim` values each) in the leaves of `nodes`, centred
    /// on `centre` (the data's mean, which the tree's rotation already holds); `None` if a centred
    /// coordinate is too large for `f32`.
    pub fn new(nodes: &[Node], data: &[f64], dim: usize, centre: &[f64]) -> Option<Filter32> {
        if data.is_empty() || dim == 0 {
            return None;
        }
        let centre = centre.to_vec();
        let (radius, largest) = data
            .par_chunks(dim)
            .with_min_len(4096)
            .map(|p| {
                let (mut sq, mut largest) = (0.0f64, 0.0f64);
                for (&v, &c) in p.iter().zip(&centre) {
                    sq += (v - c) * (v - c);
                    largest = largest.max((v - c).abs());
                }
                (sq.sqrt(), largest)
            })
            .reduce(|| (0.0, 0.0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        if largest >= MAX_MAGNITUDE {
            return None;
        }
        let (cols, off) = chunked(nodes, data, dim, LANES32, |j, v| (v - centre[j]) as f32);
        Some(Filter32 { centre, cols, off, radius })
    }

    /// Writes `q − centre` in `f32` into `out` (length `q.len()`) and returns its `f64` norm.
    #[inline(always)]
    pub fn query(&self, q: &[f64], out: &mut [f32]) -> f64 {
        let mut sq = 0.0;
        for ((o, &v), &c) in out.iter_mut().zip(q).zip(&self.centre) {
            let a = v - c;
            sq += a * a;
            *o = a as f32;
        }
        sq.sqrt()
    }

    /// The `f32` threshold: any point at squared distance below `worst` from the query
    /// (centred norm `qn`) has an `f32` squared distance at or below it.
    ///
    /// With `a = q − c`, `b = p − c` and `δ = q − p`, rounding `a`, `b` and their difference to `f32`
    /// moves each coordinate by at most `1.02 u (|a_j| + |b_j|) + u |δ_j|`, so the `f32` difference `t`
    /// has `‖t‖ ≤ ‖δ‖ + 2u (‖a‖ + ‖b‖ + ‖δ‖)`; summing `dim` squares in `f32` adds at most a factor
    /// `1 + (dim + 1) u (1 + …)`. The absolute terms cover subnormal coordinates and squares.
    #[inline(always)]
    pub fn threshold(&self, qn: f64, worst: f64, dim: usize) -> f32 {
        if !worst.is_finite() {
            return f32::INFINITY;
        }
        let w = worst.sqrt();
        let e = 2.0 * U * (qn + self.radius + w) + 1e-37;
        let t = (w + e) * (w + e) * (1.0 + 2.0 * (dim as f64 + 3.0) * U) + 1e-36;
        // `as f32` rounds to nearest (relative error ≤ u): widened first so that it stays above `t`.
        (t * (1.0 + 4.0 * U)) as f32
    }

    /// The `f32` columns of chunk `ci` of leaf `leaf`.
    #[inline(always)]
    pub fn chunk(&self, leaf: usize, ci: usize, dim: usize) -> &[f32] {
        let o = self.off[leaf] + ci * dim * LANES32;
        &self.cols[o..o + dim * LANES32]
    }
}

/// Squared `f32` distances from `q` to a chunk of [`LANES32`] points (dimension-major); vectorises
/// over the lanes. Each dimension adds into a fresh array: accumulated in place, the loop compiled to
/// scalar code.
#[inline(always)]
pub(crate) fn rdists32(q: &[f32], cols: &[f32], out: &mut [f32; LANES32]) {
    let mut acc = [0.0f32; LANES32];
    for (j, &qj) in q.iter().enumerate() {
        let c: &[f32; LANES32] = cols[j * LANES32..(j + 1) * LANES32].try_into().expect("chunk of LANES32 values");
        let mut next = [0.0f32; LANES32];
        for l in 0..LANES32 {
            let t = qj - c[l];
            next[l] = acc[l] + t * t;
        }
        acc = next;
    }
    *out = acc;
}

/// The smallest of a chunk's values, as a pairwise tree the compiler turns into vector minimums.
#[inline(always)]
pub(crate) fn min_lanes32(v: &[f32; LANES32]) -> f32 {
    let m = |a: f32, b: f32| if a < b { a } else { b };
    let h: [f32; 8] = std::array::from_fn(|i| m(v[i], v[i + 8]));
    let h: [f32; 4] = std::array::from_fn(|i| m(h[i], h[i + 4]));
    m(m(h[0], h[2]), m(h[1], h[3]))
}
