//! The silhouette coefficient, scikit-learn's definition, noise removed first. The all-pairs distance
//! sums are in [`kernel`] (portable) and `x86` (AVX-512, AVX2 + FMA).

use ndarray::ArrayView2;
use outflow_cluster::Metric;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use outflow_core::sample_indices;

use crate::labels::{Clusters, Score, check_labelled, finite, sum};

mod kernel;
#[cfg(target_arch = "x86_64")]
mod x86;

use kernel::Prepared;

/// Options of [`silhouette`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
    params.metric.validate(x.ncols())?;
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
