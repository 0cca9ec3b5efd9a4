//! Distance metrics and the per-metric kernels used by the spatial index.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ClusterError;

/// A distance between feature vectors.
///
/// Euclidean, Manhattan and Chebyshev distances are searched with the kd-tree; the others
/// ([`Metric::has_tree`] false) by exact O(n²) brute force over the unique rows.
///
/// In parameters and model files a metric is its text form (`euclidean`, `minkowski:3`, ...; see
/// [`Metric::NAMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Metric {
    /// L2.
    #[default]
    Euclidean,
    /// L1 (city block).
    Manhattan,
    /// L∞.
    Chebyshev,
    /// 1 − cos(a, b), as scikit-learn: a zero vector is at distance 1 from everything else.
    Cosine,
    /// (Σ |aᵢ − bᵢ|ᵖ)^(1/p) for a finite p ≥ 1 (scikit-learn's `minkowski`; build it with
    /// [`Metric::minkowski`], which names p = 1, 2 by their kd-tree metrics).
    Minkowski {
        /// The exponent.
        p: f64,
    },
    /// Great-circle distance on the unit sphere between (latitude, longitude) pairs in radians, as
    /// scikit-learn's `haversine` (multiply by the Earth's radius, 6,371 km, for kilometres). Two columns.
    Haversine,
    /// The input is a square matrix of distances between the rows (scikit-learn's `precomputed`):
    /// HDBSCAN only, which then predicts a new point from its row of distances to the training rows.
    Precomputed,
}

impl Metric {
    /// The names `FromStr` accepts (besides aliases such as `l1`, `l2`).
    pub const NAMES: &'static [&'static str] =
        &["euclidean", "manhattan", "chebyshev", "cosine", "minkowski:P", "haversine", "precomputed"];

    /// The Minkowski distance of exponent `p` (finite, ≥ 1): p = 1 is [`Metric::Manhattan`], p = 2
    /// [`Metric::Euclidean`] (kd-tree searches), p = ∞ [`Metric::Chebyshev`].
    pub fn minkowski(p: f64) -> Result<Metric, ClusterError> {
        match p {
            1.0 => Ok(Metric::Manhattan),
            2.0 => Ok(Metric::Euclidean),
            f64::INFINITY => Ok(Metric::Chebyshev),
            p if p.is_finite() && p >= 1.0 => Ok(Metric::Minkowski { p }),
            p => Err(ClusterError::param(
                "metric",
                format!("the Minkowski exponent p must be ≥ 1 (below 1 it is not a distance), got {p}"),
            )),
        }
    }

    /// Whether searches use the kd-tree (else exact brute force).
    pub fn has_tree(self) -> bool {
        matches!(self, Metric::Euclidean | Metric::Manhattan | Metric::Chebyshev)
    }

    /// Checks the metric's own parameter and that it applies to vectors of `n_features` columns
    /// ([`Metric::Precomputed`] holds no vectors: an error here; HDBSCAN checks its matrix instead).
    pub fn validate(self, n_features: usize) -> Result<(), ClusterError> {
        match self {
            Metric::Precomputed => Err(ClusterError::param(
                "metric",
                "precomputed distances are taken by HDBSCAN only (here the rows must be vectors)",
            )),
            Metric::Minkowski { p } => Metric::minkowski(p).map(|_| ()),
            Metric::Haversine if n_features != 2 => Err(ClusterError::param(
                "metric",
                format!("haversine takes two columns (latitude, longitude in radians), got {n_features}"),
            )),
            _ => Ok(()),
        }
    }

    /// The name used on the command line and in artifacts.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Euclidean => "euclidean",
            Metric::Manhattan => "manhattan",
            Metric::Chebyshev => "chebyshev",
            Metric::Cosine => "cosine",
            Metric::Minkowski { .. } => "minkowski",
            Metric::Haversine => "haversine",
            Metric::Precomputed => "precomputed",
        }
    }

    /// The distance between two vectors of equal length ([`Metric::Precomputed`], which has no vectors:
    /// NaN; [`Metric::validate`] refuses it wherever vectors are compared).
    pub fn distance(self, a: &[f64], b: &[f64]) -> f64 {
        match self {
            Metric::Euclidean => Euclidean::rdist(a, b).sqrt(),
            Metric::Manhattan => Manhattan::rdist(a, b),
            Metric::Chebyshev => Chebyshev::rdist(a, b),
            Metric::Cosine => cosine(a, b),
            Metric::Minkowski { p } => minkowski(a, b, p),
            Metric::Haversine => haversine(a, b),
            Metric::Precomputed => f64::NAN,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Minkowski { p } => write!(f, "minkowski:{p}"),
            m => f.write_str(m.name()),
        }
    }
}

impl From<Metric> for String {
    fn from(m: Metric) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for Metric {
    type Error = ClusterError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl FromStr for Metric {
    type Err = ClusterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "euclidean" | "l2" => Ok(Metric::Euclidean),
            "manhattan" | "cityblock" | "l1" => Ok(Metric::Manhattan),
            "chebyshev" | "infinity" | "linf" => Ok(Metric::Chebyshev),
            "cosine" => Ok(Metric::Cosine),
            "haversine" => Ok(Metric::Haversine),
            "precomputed" => Ok(Metric::Precomputed),
            other => match other.strip_prefix("minkowski") {
                Some(rest) => {
                    let p = rest.trim_start_matches([':', '=']).trim_start_matches("p=");
                    let p = p.parse::<f64>().map_err(|_| {
                        ClusterError::param("metric", format!("'{s}': expected minkowski:P with a number P ≥ 1"))
                    })?;
                    Metric::minkowski(p)
                }
                None => Err(ClusterError::param(
                    "metric",
                    format!(
                        "unknown metric '{other}' (expected euclidean, manhattan, chebyshev, cosine, minkowski:P, \
                         haversine or precomputed)"
                    ),
                )),
            },
        }
    }
}

/// Cosine distance as scikit-learn computes it (zero vectors: similarity 0).
pub(crate) fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 1.0;
    }
    (1.0 - ab / (aa.sqrt() * bb.sqrt())).clamp(0.0, 2.0)
}

/// Minkowski distance, summed in index order as scikit-learn's `DistanceMetric`.
fn minkowski(a: &[f64], b: &[f64], p: f64) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += (x - y).abs().powf(p);
    }
    s.powf(1.0 / p)
}

/// Haversine distance between (latitude, longitude) in radians, as scikit-learn computes it.
fn haversine(a: &[f64], b: &[f64]) -> f64 {
    let s_lat = ((a[0] - b[0]) / 2.0).sin();
    let s_lon = ((a[1] - b[1]) / 2.0).sin();
    2.0 * (s_lat * s_lat + a[0].cos() * b[0].cos() * s_lon * s_lon).sqrt().asin()
}

/// A metric usable by the kd-tree: a monotone "reduced distance" that is cheap to compute (squared
/// Euclidean for L2) and a lower bound of the reduced distance from a point to a bounding box.
pub(crate) trait Kernel: Copy + Send + Sync + 'static {
    /// Whether the reduced distance is the squared Euclidean one (searches may then filter in `f32`).
    const SQUARED_L2: bool = false;
    /// Reduced distance between two vectors.
    fn rdist(a: &[f64], b: &[f64]) -> f64;
    /// Lower bound of the reduced distance from `x` to any point in the box `[lo, hi]`.
    fn min_rdist_box(x: &[f64], lo: &[f64], hi: &[f64]) -> f64;
    /// Reduced distance → distance.
    fn to_dist(r: f64) -> f64;
    /// Distance → reduced distance.
    fn to_rdist(d: f64) -> f64;
    /// Reduced distances from `q` to a chunk of [`LANES`] points stored dimension-major
    /// (`cols[j * LANES + l]` is coordinate `j` of point `l`). Accumulates over dimensions in index
    /// order, so each value equals [`Kernel::rdist`] bit for bit; vectorises over the lanes.
    fn rdists_chunk(q: &[f64], cols: &[f64], out: &mut [f64; LANES]);
    /// Reduced distances from a chunk of [`LANES`] query points (dimension-major, as in
    /// [`Kernel::rdists_chunk`]) to one point `r`; bit-identical to [`Kernel::rdist`].
    fn rdists_from_chunk(qcols: &[f64], r: &[f64], out: &mut [f64; LANES]);
    /// Lower bounds of the reduced distance from each of [`LANES`] query points to the box `[lo, hi]`,
    /// summed in the same order as the distances (so never above a true distance).
    fn box_from_chunk(qcols: &[f64], lo: &[f64], hi: &[f64], out: &mut [f64; LANES]);
    /// The dual norm of `u`, so that `|u·v| ≤ dual_norm(u) · ‖v‖` (Hölder): L2 for L2, L∞ for L1, L1 for
    /// L∞.
    fn dual_norm(u: &[f64]) -> f64;
}

#[derive(Clone, Copy)]
pub(crate) struct Euclidean;
#[derive(Clone, Copy)]
pub(crate) struct Manhattan;
#[derive(Clone, Copy)]
pub(crate) struct Chebyshev;

/// Σ f(gap) over dimensions with four independent accumulators (so it vectorises), shrunk by a few
/// ulps: the summation order differs from [`Kernel::rdist`], and a bound must never exceed a true
/// distance, or a search could prune a node holding an exact tie. Each term is at most the
/// distance's own term (rounding is monotone), the sum here errs by at most `(n/4 + 2) u` and the
/// sequential one of `rdist` by `(n − 1) u` (`u = ε/2`): the shrink covers both and the rounding of
/// the product.
#[inline(always)]
fn lanes_sum(x: &[f64], lo: &[f64], hi: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let n = x.len();
    let chunks = n / 4;
    // Each chunk adds into a fresh array, which compiles to vector instructions (accumulated in place,
    // the loop stayed scalar); every lane sums as before, so the bounds are the same bit for bit.
    for c in 0..chunks {
        let at = |v: &[f64]| -> [f64; 4] { v[c * 4..c * 4 + 4].try_into().expect("4 values") };
        let (xs, ls, hs) = (at(x), at(lo), at(hi));
        let mut next = [0.0f64; 4];
        for l in 0..4 {
            next[l] = acc[l] + f(gap(xs[l], ls[l], hs[l]));
        }
        acc = next;
    }
    for i in chunks * 4..n {
        acc[i % 4] += f(gap(x[i], lo[i], hi[i]));
    }
    // 8ε covers up to 8 dimensions (5.5ε needed); beyond, 0.625 n ε + 3ε.
    let ulps = if n <= 8 { 8.0 } else { 0.625 * n as f64 + 3.0 };
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) * (1.0 - ulps * f64::EPSILON)
}

/// `max` without NaN handling (inputs are finite): compiles to one instruction.
#[inline(always)]
pub(crate) fn fmax(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

#[inline(always)]
fn gap(x: f64, lo: f64, hi: f64) -> f64 {
    // Distance from x to the interval [lo, hi] (0 inside).
    fmax(fmax(lo - x, x - hi), 0.0)
}

/// Points per vectorised distance chunk.
pub(crate) const LANES: usize = 8;

/// Shared body of the chunk kernels: `acc[l] = op(acc[l], c[l] - q[j])` over dimensions in order.
#[inline(always)]
fn chunk(q: &[f64], cols: &[f64], out: &mut [f64; LANES], op: impl Fn(f64, f64) -> f64) {
    *out = [0.0; LANES];
    for (j, &qj) in q.iter().enumerate() {
        let c: &[f64; LANES] = cols[j * LANES..(j + 1) * LANES].try_into().expect("chunk of LANES values");
        for (o, &cl) in out.iter_mut().zip(c) {
            *o = op(*o, cl - qj);
        }
    }
}

/// `acc[l] = op(acc[l], term(j, q_l[j]))` over dimensions in order, for a chunk of query lanes.
#[inline(always)]
fn lanes(
    qcols: &[f64],
    dim: usize,
    out: &mut [f64; LANES],
    term: impl Fn(usize, f64) -> f64,
    op: impl Fn(f64, f64) -> f64,
) {
    *out = [0.0; LANES];
    for j in 0..dim {
        let c: &[f64; LANES] = qcols[j * LANES..(j + 1) * LANES].try_into().expect("chunk of LANES values");
        for (o, &ql) in out.iter_mut().zip(c) {
            *o = op(*o, term(j, ql));
        }
    }
}

impl Kernel for Euclidean {
    const SQUARED_L2: bool = true;
    #[inline(always)]
    fn rdists_from_chunk(qcols: &[f64], r: &[f64], out: &mut [f64; LANES]) {
        lanes(
            qcols,
            r.len(),
            out,
            |j, q| {
                let t = q - r[j];
                t * t
            },
            |a, t| a + t,
        )
    }
    #[inline(always)]
    fn box_from_chunk(qcols: &[f64], lo: &[f64], hi: &[f64], out: &mut [f64; LANES]) {
        lanes(
            qcols,
            lo.len(),
            out,
            |j, q| {
                let g = gap(q, lo[j], hi[j]);
                g * g
            },
            |a, t| a + t,
        )
    }
    #[inline(always)]
    fn rdists_chunk(q: &[f64], cols: &[f64], out: &mut [f64; LANES]) {
        chunk(q, cols, out, |a, t| a + t * t)
    }
    #[inline(always)]
    fn rdist(a: &[f64], b: &[f64]) -> f64 {
        // Summed in index order, like scikit-learn's DistanceMetric, so distances agree to the last bit.
        let mut s = 0.0;
        for (x, y) in a.iter().zip(b) {
            let d = x - y;
            s += d * d;
        }
        s
    }
    #[inline(always)]
    fn min_rdist_box(x: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        lanes_sum(x, lo, hi, |g| g * g)
    }
    #[inline(always)]
    fn to_dist(r: f64) -> f64 {
        r.sqrt()
    }
    #[inline(always)]
    fn to_rdist(d: f64) -> f64 {
        d * d
    }
    fn dual_norm(u: &[f64]) -> f64 {
        u.iter().map(|x| x * x).sum::<f64>().sqrt()
    }
}

impl Kernel for Manhattan {
    #[inline(always)]
    fn rdists_from_chunk(qcols: &[f64], r: &[f64], out: &mut [f64; LANES]) {
        lanes(qcols, r.len(), out, |j, q| (q - r[j]).abs(), |a, t| a + t)
    }
    #[inline(always)]
    fn box_from_chunk(qcols: &[f64], lo: &[f64], hi: &[f64], out: &mut [f64; LANES]) {
        lanes(qcols, lo.len(), out, |j, q| gap(q, lo[j], hi[j]), |a, t| a + t)
    }
    #[inline(always)]
    fn rdists_chunk(q: &[f64], cols: &[f64], out: &mut [f64; LANES]) {
        chunk(q, cols, out, |a, t| a + t.abs())
    }
    #[inline(always)]
    fn rdist(a: &[f64], b: &[f64]) -> f64 {
        let mut s = 0.0;
        for (x, y) in a.iter().zip(b) {
            s += (x - y).abs();
        }
        s
    }
    #[inline(always)]
    fn min_rdist_box(x: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        lanes_sum(x, lo, hi, |g| g)
    }
    #[inline(always)]
    fn to_dist(r: f64) -> f64 {
        r
    }
    #[inline(always)]
    fn to_rdist(d: f64) -> f64 {
        d
    }
    fn dual_norm(u: &[f64]) -> f64 {
        u.iter().fold(0.0, |m, x| m.max(x.abs()))
    }
}

impl Kernel for Chebyshev {
    #[inline(always)]
    fn rdists_from_chunk(qcols: &[f64], r: &[f64], out: &mut [f64; LANES]) {
        lanes(qcols, r.len(), out, |j, q| (q - r[j]).abs(), fmax)
    }
    #[inline(always)]
    fn box_from_chunk(qcols: &[f64], lo: &[f64], hi: &[f64], out: &mut [f64; LANES]) {
        lanes(qcols, lo.len(), out, |j, q| gap(q, lo[j], hi[j]), fmax)
    }
    #[inline(always)]
    fn rdists_chunk(q: &[f64], cols: &[f64], out: &mut [f64; LANES]) {
        chunk(q, cols, out, |a, t| fmax(a, t.abs()))
    }
    #[inline(always)]
    fn rdist(a: &[f64], b: &[f64]) -> f64 {
        let mut s: f64 = 0.0;
        for (x, y) in a.iter().zip(b) {
            s = fmax(s, (x - y).abs());
        }
        s
    }
    #[inline(always)]
    fn min_rdist_box(x: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
        let mut s: f64 = 0.0;
        for i in 0..x.len() {
            s = fmax(s, gap(x[i], lo[i], hi[i]));
        }
        s
    }
    #[inline(always)]
    fn to_dist(r: f64) -> f64 {
        r
    }
    #[inline(always)]
    fn to_rdist(d: f64) -> f64 {
        d
    }
    fn dual_norm(u: &[f64]) -> f64 {
        u.iter().map(|x| x.abs()).sum()
    }
}

/// Calls a generic function with `$K` bound to the kd-tree kernel of a metric (one with
/// [`Metric::has_tree`]).
macro_rules! dispatch_tree {
    ($metric:expr, $K:ident => $call:expr) => {
        match $metric {
            $crate::metric::Metric::Euclidean => {
                type $K = $crate::metric::Euclidean;
                $call
            }
            $crate::metric::Metric::Manhattan => {
                type $K = $crate::metric::Manhattan;
                $call
            }
            $crate::metric::Metric::Chebyshev => {
                type $K = $crate::metric::Chebyshev;
                $call
            }
            m => unreachable!("{m} has no kd-tree"),
        }
    };
}
pub(crate) use dispatch_tree;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let a = [0.0, 3.0];
        let b = [4.0, 0.0];
        assert_eq!(Metric::Euclidean.distance(&a, &b), 5.0);
        assert_eq!(Metric::Manhattan.distance(&a, &b), 7.0);
        assert_eq!(Metric::Chebyshev.distance(&a, &b), 4.0);
        assert!((Metric::Cosine.distance(&a, &b) - 1.0).abs() < 1e-15);
        assert_eq!(Metric::Cosine.distance(&[0.0, 0.0], &[0.0, 0.0]), 1.0);
        assert!(Metric::Cosine.distance(&[1.0, 1.0], &[2.0, 2.0]).abs() < 1e-15);
        assert_eq!("L1".parse::<Metric>().unwrap(), Metric::Manhattan);
        assert!("mahalanobis".parse::<Metric>().is_err());
        assert_eq!("minkowski:3".parse::<Metric>().unwrap(), Metric::Minkowski { p: 3.0 });
        assert_eq!("minkowski:p=2".parse::<Metric>().unwrap(), Metric::Euclidean);
        assert!("minkowski:0.5".parse::<Metric>().is_err());
        assert!("minkowski".parse::<Metric>().is_err());
        let m3 = Metric::Minkowski { p: 3.0 };
        assert!((m3.distance(&a, &b) - 91f64.powf(1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(m3.to_string().parse::<Metric>().unwrap(), m3);
        // A quarter of the equator, and the pole from the equator.
        let q = std::f64::consts::FRAC_PI_2;
        assert!((Metric::Haversine.distance(&[0.0, 0.0], &[0.0, q]) - q).abs() < 1e-15);
        assert!((Metric::Haversine.distance(&[0.0, 1.0], &[q, 0.3]) - q).abs() < 1e-15);
        assert!(Metric::Haversine.validate(3).is_err());
    }

    #[test]
    fn box_bounds_are_lower_bounds() {
        let lo = [0.0, 0.0];
        let hi = [1.0, 2.0];
        let x = [3.0, -1.0];
        let close = |a: f64, b: f64| a <= b && a >= b * (1.0 - 1e-14);
        assert!(close(Euclidean::min_rdist_box(&x, &lo, &hi), 5.0));
        assert!(close(Manhattan::min_rdist_box(&x, &lo, &hi), 3.0));
        assert_eq!(Chebyshev::min_rdist_box(&x, &lo, &hi), 2.0);
        assert_eq!(Euclidean::min_rdist_box(&[0.5, 1.0], &lo, &hi), 0.0);
    }
}
