//! Clustering tendency and the choice of k: the Hopkins statistic ([`hopkins`]), the per-k table
//! ([`k_table`]: k-means inertia — the elbow table —, silhouette and the gap statistic, with the k each
//! rule picks) and a pairwise-distance summary ([`distance_summary`]); [`tendency`] runs all three.
//!
//! Conventions (they differ between references; these are Outflow's):
//! - **Hopkins** `H = Σu^d / (Σu^d + Σw^d)`, `d` = the number of features (Hopkins & Skellam's exponent,
//!   which makes `H ~ Beta(m, m)` for uniformly random data): `u` = Euclidean distance from a point drawn
//!   uniformly in the data's bounding box to its nearest row, `w` = from a sampled row to its nearest
//!   *other* row. ≈ 0.5 for uniform data, → 1 for clustered data, → 0 for regularly spaced data. The
//!   exponent-1 variant (what many libraries compute) is reported alongside as
//!   `statistic_linear`; pyclustertend and R's clustertend report `1 − H`. The powers are computed
//!   relative to the largest distance, so 50 dimensions do not overflow.
//! - **Gap statistic** (Tibshirani, Walther & Hastie 2001): `W_k` = k-means inertia (the pooled
//!   within-cluster sum of squares `Σ_r D_r / 2n_r`), `B` reference sets drawn uniformly over each
//!   feature's range (the bounding box), `Gap(k) = mean_b log W*_kb − log W_k`,
//!   `s_k = sd_k · √(1 + 1/B)` with `sd_k` the population standard deviation over the `B` references,
//!   and k̂ = the smallest `k` with `Gap(k) ≥ Gap(k+1) − s_{k+1}` (none in the range: `None`).
//! - **Elbow**: on the `log W_k` curve rescaled to the unit square, the `k` farthest from the chord
//!   joining its first and last points (the "kneedle" idea; needs ≥ 3 values of k). **Silhouette rule**:
//!   the `k` with the largest mean silhouette.
//!
//! Every random choice uses `ChaCha8Rng` seeded from the `seed` parameter (separate streams for the
//! sample, the uniform points and each reference set); k-means is `outflow_cluster::KMeansParams`
//! (k-means++, `n_init` runs, seeded).

use ndarray::{Array2, ArrayView2};
use outflow_cluster::{ClusterModel, Fit, KMeansParams, Metric, NearestNeighbors};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, ValidateError};
use outflow_core::{InputError, check_matrix as check_data, sample_indices};

use crate::labels::finite;
use crate::silhouette::{SilhouetteParams, silhouette};

/// Options of [`hopkins`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HopkinsParams {
    /// Points sampled (and uniform points drawn); `None` = `min(⌊n/10⌋, 500)`, at least 1.
    pub sample_size: Option<usize>,
    /// Seed.
    pub seed: u64,
}

/// The result of [`hopkins`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hopkins {
    /// `H` with exponent `d` (≈ 0.5 uniform, → 1 clustered).
    pub statistic: f64,
    /// `H` with exponent 1 (`Σu / (Σu + Σw)`), for comparison with other tools.
    pub statistic_linear: f64,
    /// The exponent `d` (number of features).
    pub exponent: usize,
    /// Points sampled.
    pub sample_size: usize,
    /// Mean distance from a uniform point to its nearest row.
    pub mean_u: f64,
    /// Mean distance from a sampled row to its nearest other row.
    pub mean_w: f64,
}

fn bounding_box(x: ArrayView2<'_, f64>) -> (Vec<f64>, Vec<f64>) {
    let d = x.ncols();
    let (mut lo, mut hi) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
    for row in x.rows() {
        for j in 0..d {
            lo[j] = lo[j].min(row[j]);
            hi[j] = hi[j].max(row[j]);
        }
    }
    (lo, hi)
}

/// `n` points uniform in the box `[lo, hi]` (row-major), from `ChaCha8Rng(seed)` on `stream`.
fn uniform_in_box(lo: &[f64], hi: &[f64], n: usize, seed: u64, stream: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let d = lo.len();
    Array2::from_shape_fn((n, d), |(_, j)| lo[j] + (hi[j] - lo[j]) * rng.random::<f64>())
}

/// `x^e` by repeated squaring.
fn powi(mut x: f64, mut e: usize) -> f64 {
    let mut r = 1.0;
    while e > 0 {
        if e & 1 == 1 {
            r *= x;
        }
        x *= x;
        e >>= 1;
    }
    r
}

/// The Hopkins statistic `H = Σu^d / (Σu^d + Σw^d)` with the exact [`NearestNeighbors`] index.
///
/// `m` rows are sampled ([`HopkinsParams::sample_size`], default `min(⌊n/10⌋, 500)`) and `m` points drawn
/// uniformly in the data's bounding box; `w` = Euclidean distance from a sampled row to its nearest
/// *other* row, `u` = from a uniform point to its nearest row, `d` = the number of features (Hopkins &
/// Skellam's exponent: `H ~ Beta(m, m)` for uniformly random data). Convention: ≈ 0.5 for uniform data,
/// → 1 for clustered data, → 0 for regularly spaced data (pyclustertend and R's clustertend report
/// `1 − H`). The exponent-1 variant is returned as `statistic_linear`. Powers are
/// taken relative to the largest distance, so 50 dimensions neither overflow nor underflow to a wrong
/// value. Seeded: `ChaCha8Rng(seed)` for the sample ([`sample_indices`](outflow_core::sample_indices)), stream 1
/// for the uniform points.
///
/// ```
/// use ndarray::Array2;
/// use outflow_validate::{HopkinsParams, hopkins};
/// // two tight blobs far apart: strongly clustered
/// let x = Array2::from_shape_fn((400, 2), |(i, j)| (i % 2) as f64 * 100.0 + ((i * 7 + j * 3) % 11) as f64 * 0.01);
/// let h = hopkins(x.view(), &HopkinsParams { seed: 1, ..Default::default() }).unwrap();
/// assert!(h.statistic > 0.9);
/// ```
pub fn hopkins(x: ArrayView2<'_, f64>, params: &HopkinsParams) -> Result<Hopkins> {
    check_data(x)?;
    let (n, d) = (x.nrows(), x.ncols());
    if n < 2 {
        return Err(InputError::too_few_rows("the Hopkins statistic", 2, n).into());
    }
    let m = match params.sample_size {
        Some(m) if m == 0 || m > n => {
            return Err(ValidateError::param("sample_size", format!("must be in 1..={n}, got {m}")));
        }
        Some(m) => m,
        None => (n / 10).clamp(1, 500),
    };
    let nn = NearestNeighbors::fit(x, Metric::Euclidean)?;
    let rows = sample_indices(n, m, params.seed);
    let q = Array2::from_shape_fn((m, d), |(i, j)| x[[rows[i], j]]);
    let (wd, wi) = nn.kneighbors(q.view(), 2)?;
    // The nearest *other* row: skip the sampled row itself (a duplicate may come first: distance 0).
    let w: Vec<f64> = (0..m).map(|i| if wi[[i, 0]] == rows[i] { wd[[i, 1]] } else { wd[[i, 0]] }).collect();
    let (lo, hi) = bounding_box(x);
    let uq = uniform_in_box(&lo, &hi, m, params.seed, 1);
    let (ud, _) = nn.kneighbors(uq.view(), 1)?;
    let u: Vec<f64> = ud.column(0).to_vec();
    let top = u.iter().chain(&w).copied().fold(0.0, f64::max);
    if top == 0.0 {
        return Err(ValidateError::Degenerate("every row is identical: the Hopkins statistic is undefined".into()));
    }
    let su: f64 = u.iter().map(|&v| powi(v / top, d)).sum();
    let sw: f64 = w.iter().map(|&v| powi(v / top, d)).sum();
    let (lu, lw): (f64, f64) = (u.iter().sum(), w.iter().sum());
    let statistic = finite(if su + sw > 0.0 { su / (su + sw) } else { 0.5 })?;
    Ok(Hopkins {
        statistic,
        statistic_linear: lu / (lu + lw),
        exponent: d,
        sample_size: m,
        mean_u: lu / m as f64,
        mean_w: lw / m as f64,
    })
}

/// Options of [`tendency`] and [`k_table`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TendencyParams {
    /// Smallest k (≥ 1).
    pub k_min: usize,
    /// Largest k (≤ rows).
    pub k_max: usize,
    /// Reference sets `B` of the gap statistic (≥ 1).
    pub n_refs: usize,
    /// Seed of everything random (samples, references, k-means).
    pub seed: u64,
    /// k-means runs per fit (the best inertia wins).
    pub n_init: usize,
    /// Hopkins sample (`None`: `min(⌊n/10⌋, 500)`).
    pub hopkins_sample: Option<usize>,
    /// Silhouette per k on a seeded sample of this many rows (`None`: exact, O(n²)).
    pub silhouette_sample: Option<usize>,
    /// Rows sampled for the pairwise-distance summary.
    pub distance_sample: usize,
}

impl Default for TendencyParams {
    fn default() -> Self {
        TendencyParams {
            k_min: 2,
            k_max: 15,
            n_refs: 5,
            seed: 0,
            n_init: 3,
            hopkins_sample: None,
            silhouette_sample: Some(10_000),
            distance_sample: 1000,
        }
    }
}

impl TendencyParams {
    fn check(&self, n: usize) -> Result<()> {
        let bad = |name: &str, m: String| Err(ValidateError::param(name, m));
        if self.k_min == 0 || self.k_min > self.k_max {
            return bad("k_min", format!("need 1 ≤ k_min ≤ k_max, got k_min = {}, k_max = {}", self.k_min, self.k_max));
        }
        if self.k_max > n {
            return Err(InputError::too_few_rows(format!("k_max = {}", self.k_max), self.k_max, n).into());
        }
        if self.n_refs == 0 {
            return bad("n_refs", "must be at least 1".into());
        }
        if self.n_init == 0 {
            return bad("n_init", "must be at least 1".into());
        }
        Ok(())
    }
}

/// One value of k in the [`Tendency`] table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KRow {
    /// Number of clusters.
    pub k: usize,
    /// k-means inertia `W_k` on the data.
    pub inertia: f64,
    /// Mean silhouette of the k-means labels (`None` for k = 1 or when undefined).
    pub silhouette: Option<f64>,
    /// `log W_k`.
    pub log_w: f64,
    /// `mean_b log W*_kb` over the references.
    pub ref_log_w: f64,
    /// `Gap(k)`.
    pub gap: f64,
    /// Population standard deviation of `log W*_kb`.
    pub sd: f64,
    /// `s_k = sd · √(1 + 1/B)`.
    pub s_k: f64,
}

/// The per-k table with the k chosen by each rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KTable {
    /// One row per k, ascending.
    pub rows: Vec<KRow>,
    /// Reference sets used.
    pub n_refs: usize,
    /// Gap rule: smallest k with `Gap(k) ≥ Gap(k+1) − s_{k+1}`.
    pub k_gap: Option<usize>,
    /// Elbow of the `log W_k` curve (max distance to the chord, both axes rescaled to `[0, 1]`).
    pub k_elbow: Option<usize>,
    /// Largest mean silhouette.
    pub k_silhouette: Option<usize>,
}

/// The result of [`tendency`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tendency {
    /// Rows of the data.
    pub n_rows: usize,
    /// Features.
    pub n_features: usize,
    /// Hopkins statistic.
    pub hopkins: Hopkins,
    /// Pairwise distances on a sample.
    pub distances: DistanceSummary,
    /// Inertia, silhouette and gap per k, and the chosen k.
    pub table: KTable,
}

/// Inertia of a k-means fit of `x` (k = 1: the total sum of squares, no fit needed).
fn fit_kmeans(x: ArrayView2<'_, f64>, k: usize, seed: u64, n_init: usize) -> Result<(f64, Option<Vec<i64>>)> {
    let model = KMeansParams::new(k).seed(seed).n_init(n_init).fit(x)?;
    Ok((model.inertia(), if k > 1 { Some(model.labels().to_vec()) } else { None }))
}

fn ln_w(w: f64, k: usize, what: &str) -> Result<f64> {
    if w > 0.0 {
        Ok(w.ln())
    } else {
        Err(ValidateError::Degenerate(format!(
            "k = {k}: the {what} has zero within-cluster dispersion (k ≥ distinct rows); lower k_max"
        )))
    }
}

/// The per-k table: k-means (`outflow_cluster::KMeansParams`, k-means++, `n_init` seeded runs) for every
/// k in `k_min..=k_max` on the data — inertia (the elbow table) and the mean silhouette of its labels — and
/// on `n_refs` reference sets (the gap statistic), with the k each rule picks:
///
/// - **gap** (Tibshirani, Walther & Hastie 2001): `W_k` = k-means inertia (the pooled within-cluster sum
///   of squares `Σ_r D_r / 2n_r`); `B = n_refs` reference sets of `n` points uniform over each feature's
///   range (the bounding box; set `b` from `ChaCha8Rng(seed)` stream `2 + b`);
///   `Gap(k) = mean_b log W*_kb − log W_k`; `s_k = sd_k · √(1 + 1/B)` with `sd_k` the population standard
///   deviation over the references; k̂ = the smallest k with `Gap(k) ≥ Gap(k+1) − s_{k+1}` (`None` when no
///   k of the range qualifies — widen it);
/// - **elbow**: [`elbow_point`] of the `log W_k` curve (the log of the inertia, as the gap statistic plots
///   it: inertia falls by factors, and on the raw scale the first drop, from k = 1, hides the elbow);
/// - **silhouette**: the largest mean silhouette (on a seeded sample when `silhouette_sample` is set).
///
/// k = 1 is allowed (its inertia is the total sum of squares; no silhouette). A zero inertia (k ≥ the
/// number of distinct rows) is an error, as `log 0` is.
pub fn k_table(x: ArrayView2<'_, f64>, params: &TendencyParams) -> Result<KTable> {
    check_data(x)?;
    params.check(x.nrows())?;
    let ks: Vec<usize> = (params.k_min..=params.k_max).collect();
    let (lo, hi) = bounding_box(x);
    // Data fits.
    let fits: Vec<(f64, Option<Vec<i64>>)> =
        ks.iter().map(|&k| fit_kmeans(x, k, params.seed, params.n_init)).collect::<Result<_>>()?;
    let sil_params =
        SilhouetteParams { metric: Metric::Euclidean, sample_size: params.silhouette_sample, seed: params.seed };
    let sils: Vec<Option<f64>> = fits
        .iter()
        .map(|(_, labels)| labels.as_ref().and_then(|l| silhouette(x, l, &sil_params).ok().map(|s| s.score)))
        .collect();
    // Reference fits: B sets, each on its own stream; every k on each.
    let refs: Vec<Vec<f64>> = (0..params.n_refs)
        .into_par_iter()
        .map(|b| {
            let r = uniform_in_box(&lo, &hi, x.nrows(), params.seed, 2 + b as u64);
            ks.iter()
                .map(|&k| ln_w(fit_kmeans(r.view(), k, params.seed, params.n_init)?.0, k, "reference set"))
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<_>>()?;
    let bf = params.n_refs as f64;
    let mut rows = Vec::with_capacity(ks.len());
    for (i, &k) in ks.iter().enumerate() {
        let log_w = ln_w(fits[i].0, k, "data")?;
        let vals: Vec<f64> = refs.iter().map(|r| r[i]).collect();
        let mean = vals.iter().sum::<f64>() / bf;
        let sd = (vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / bf).sqrt();
        rows.push(KRow {
            k,
            inertia: fits[i].0,
            silhouette: sils[i],
            log_w,
            ref_log_w: mean,
            gap: mean - log_w,
            sd,
            s_k: sd * (1.0 + 1.0 / bf).sqrt(),
        });
    }
    let k_gap = rows.windows(2).find(|w| w[0].gap >= w[1].gap - w[1].s_k).map(|w| w[0].k);
    let k_elbow = elbow_point(&ks, &rows.iter().map(|r| r.log_w).collect::<Vec<_>>());
    let k_silhouette = rows
        .iter()
        .filter_map(|r| r.silhouette.map(|s| (r.k, s)))
        .fold(None, |best: Option<(usize, f64)>, (k, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((k, s)),
        })
        .map(|(k, _)| k);
    Ok(KTable { rows, n_refs: params.n_refs, k_gap, k_elbow, k_silhouette })
}

/// The elbow of a curve `y(k)` (e.g. inertia): rescale both axes to `[0, 1]` and return the `k`
/// farthest from the chord joining the first and last points (`None` with fewer than 3 points or a
/// flat curve).
///
/// ```
/// let k = outflow_validate::elbow_point(&[1, 2, 3, 4, 5, 6], &[100.0, 40.0, 10.0, 8.0, 7.0, 6.0]);
/// assert_eq!(k, Some(3));
/// ```
pub fn elbow_point(ks: &[usize], y: &[f64]) -> Option<usize> {
    if ks.len() < 3 || ks.len() != y.len() {
        return None;
    }
    let (k0, k1) = (ks[0] as f64, ks[ks.len() - 1] as f64);
    let (ymin, ymax) = y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if ymax <= ymin || k1 <= k0 {
        return None;
    }
    let px: Vec<f64> = ks.iter().map(|&k| (k as f64 - k0) / (k1 - k0)).collect();
    let py: Vec<f64> = y.iter().map(|&v| (v - ymin) / (ymax - ymin)).collect();
    let (ax, ay, bx, by) = (px[0], py[0], px[px.len() - 1], py[py.len() - 1]);
    let len = ((bx - ax).powi(2) + (by - ay).powi(2)).sqrt();
    let mut best: Option<(usize, f64)> = None;
    for i in 1..ks.len() - 1 {
        let dist = ((by - ay) * px[i] - (bx - ax) * py[i] + bx * ay - by * ax).abs() / len;
        if best.is_none_or(|(_, b)| dist > b) {
            best = Some((ks[i], dist));
        }
    }
    best.map(|(k, _)| k)
}

/// Hopkins, the distance summary and the per-k table in one call (what `outflow tendency` prints).
pub fn tendency(x: ArrayView2<'_, f64>, params: &TendencyParams) -> Result<Tendency> {
    check_data(x)?;
    params.check(x.nrows())?;
    let hopkins = hopkins(x, &HopkinsParams { sample_size: params.hopkins_sample, seed: params.seed })?;
    let distances = distance_summary(x, params.distance_sample, params.seed)?;
    let table = k_table(x, params)?;
    Ok(Tendency { n_rows: x.nrows(), n_features: x.ncols(), hopkins, distances, table })
}

/// Summary of the Euclidean distances between all pairs of a seeded sample of rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DistanceSummary {
    /// Rows sampled.
    pub sample_size: usize,
    /// Pairs summarised (`m(m − 1)/2`).
    pub pairs: usize,
    /// Smallest distance.
    pub min: f64,
    /// 1st percentile (linear interpolation, as numpy's default).
    pub p01: f64,
    /// 5th percentile.
    pub p05: f64,
    /// First quartile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest distance.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// `std / mean`: small values mean distances concentrate (neighbourhoods lose contrast).
    pub cv: f64,
    /// Fraction of pairs at distance 0 (duplicate rows).
    pub zero_fraction: f64,
}

/// Distances between all pairs of `sample_size` rows drawn with [`sample_indices`](outflow_core::sample_indices)
/// (all rows if fewer), summarised.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]];
/// let s = outflow_validate::distance_summary(x.view(), 10, 0).unwrap();
/// assert_eq!((s.pairs, s.min, s.max), (3, 0.0, 5.0));
/// assert!((s.zero_fraction - 1.0 / 3.0).abs() < 1e-12);
/// ```
pub fn distance_summary(x: ArrayView2<'_, f64>, sample_size: usize, seed: u64) -> Result<DistanceSummary> {
    check_data(x)?;
    if x.nrows() < 2 || sample_size < 2 {
        return Err(InputError::too_few_rows("the distance summary", 2, x.nrows().min(sample_size)).into());
    }
    let rows = sample_indices(x.nrows(), sample_size, seed);
    let m = rows.len();
    let pts: Vec<Vec<f64>> = rows.iter().map(|&r| x.row(r).to_vec()).collect();
    let mut dist: Vec<f64> = (0..m)
        .into_par_iter()
        .flat_map_iter(|i| {
            let pts = &pts;
            (i + 1..m).map(move |j| Metric::Euclidean.distance(&pts[i], &pts[j]))
        })
        .collect();
    let pairs = dist.len();
    let mean = crate::labels::sum(&dist) / pairs as f64;
    let var = dist.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / pairs as f64;
    let zeros = dist.iter().filter(|&&v| v == 0.0).count();
    dist.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (pairs - 1) as f64;
        let (i, f) = (pos.floor() as usize, pos - pos.floor());
        if i + 1 < pairs { dist[i] + (dist[i + 1] - dist[i]) * f } else { dist[i] }
    };
    Ok(DistanceSummary {
        sample_size: m,
        pairs,
        min: dist[0],
        p01: q(0.01),
        p05: q(0.05),
        p25: q(0.25),
        median: q(0.5),
        p75: q(0.75),
        p95: q(0.95),
        p99: q(0.99),
        max: dist[pairs - 1],
        mean,
        std: var.sqrt(),
        cv: if mean > 0.0 { var.sqrt() / mean } else { 0.0 },
        zero_fraction: zeros as f64 / pairs as f64,
    })
}
