//! Gaussian mixture detector: EM as scikit-learn's `GaussianMixture` runs it, score = −log-likelihood
//! (PyOD's `GMM`).
//!
//! Every EM step follows scikit-learn 1.9: E-step `log_resp = log w_k + log N(x | μ_k, Σ_k) − logsumexp`,
//! lower bound = mean log-likelihood; M-step `n_k = Σ resp + 10·ε`, `μ_k = Σ resp·x / n_k`,
//! `Σ_k = Σ resp (x − μ_k)(x − μ_k)ᵀ / n_k + reg_covar·I` (diagonal: the diagonal of that), weights
//! normalised; stop when the lower bound changes by less than `tol` or after `max_iter` steps. Full
//! covariances are factored by faer's Cholesky (`Σ = L Lᵀ`, precision factor `L⁻ᵀ`); a factorisation
//! that fails is [`OutlierError::Numerical`] (scikit-learn's "ill-defined empirical covariance").
//! Diagonal variances use the centred sum `Σ resp (x − μ)²` rather than scikit-learn's
//! `E[x²] − μ²` (same value, no cancellation).
//!
//! Initialisation: [`GmmInit::KMeansPlusPlus`] — scikit-learn's greedy k-means++ seeding (`2 + ⌊ln k⌋`
//! local trials) on a ChaCha8 stream, then every row assigned to its nearest seed and the starting
//! parameters estimated from that hard assignment (scikit-learn's default `kmeans` init without the
//! Lloyd iterations; its `k-means++` option starts from single-point components instead) — or
//! [`GmmInit::Given`] weights, means and precisions (scikit-learn's `weights_init`, `means_init`,
//! `precisions_init`, all three). Row sums run over fixed blocks in a fixed order: results do not
//! depend on the number of threads.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch};
use faer::{Mat, Par};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, ScoreSamples, check_matrix, check_query, check_width, sq_euclidean};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

const BLOCK: usize = 4096;
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Covariance structure of the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CovarianceType {
    /// One full covariance matrix per component (scikit-learn's and PyOD's default).
    #[default]
    Full,
    /// One diagonal covariance per component.
    Diag,
}

/// How EM starts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GmmInit {
    /// k-means++ seeds, nearest-seed assignment, parameters of that assignment.
    #[default]
    KMeansPlusPlus,
    /// Given starting parameters.
    Given {
        /// Mixture weights (k), summing to 1.
        weights: Vec<f64>,
        /// Means, k × d.
        means: Array2<f64>,
        /// Precision matrices: per component `d·d` values (row-major) for [`CovarianceType::Full`], `d`
        /// values for [`CovarianceType::Diag`].
        precisions: Vec<Vec<f64>>,
    },
}

/// Gaussian mixture parameters (PyOD's `GMM` defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GmmParams {
    /// Components (1).
    pub n_components: usize,
    /// Covariance structure.
    pub covariance_type: CovarianceType,
    /// Convergence threshold on the change of the mean log-likelihood (1e-3).
    pub tol: f64,
    /// Added to covariance diagonals (1e-6).
    pub reg_covar: f64,
    /// EM iterations at most (100).
    pub max_iter: usize,
    /// Initialisation.
    pub init: GmmInit,
    /// Seed of the k-means++ initialisation.
    pub seed: u64,
}

impl Default for GmmParams {
    fn default() -> Self {
        GmmParams {
            n_components: 1,
            covariance_type: CovarianceType::Full,
            tol: 1e-3,
            reg_covar: 1e-6,
            max_iter: 100,
            init: GmmInit::KMeansPlusPlus,
            seed: 0,
        }
    }
}

impl GmmParams {
    /// Checks the parameters (and a given initialisation's shapes against `n_components`).
    pub fn validate(&self) -> Result<()> {
        if self.n_components == 0 {
            return Err(OutlierError::param("n_components", "must be at least 1"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0 && self.reg_covar.is_finite() && self.reg_covar >= 0.0) {
            return Err(OutlierError::param("tol", "tol and reg_covar must be finite and >= 0"));
        }
        if let GmmInit::Given { weights, means, precisions } = &self.init {
            let k = self.n_components;
            if weights.len() != k || means.nrows() != k || precisions.len() != k {
                return Err(OutlierError::param("init", format!("the given initialisation must have {k} components")));
            }
            if !weights.iter().all(|&w| positive(w)) {
                return Err(OutlierError::param("init", "initial weights must be positive"));
            }
        }
        Ok(())
    }
}

/// One fitted component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Mixture weight.
    pub weight: f64,
    /// Mean (d).
    pub mean: Vec<f64>,
    /// Covariance: `d·d` row-major (full) or `d` (diagonal).
    pub covariance: Vec<f64>,
    /// Precision factor `P` with `P Pᵀ = Σ⁻¹`: `d·d` row-major upper triangular (full) or `d` (diagonal).
    pub precision_cholesky: Vec<f64>,
}

/// A fitted Gaussian mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gmm {
    /// The parameters used (the given initialisation is dropped).
    pub covariance_type: CovarianceType,
    /// Components.
    pub components: Vec<Component>,
    /// EM iterations run.
    pub n_iter: usize,
    /// Whether the lower bound converged within `max_iter`.
    pub converged: bool,
    /// Final mean log-likelihood of the training rows (scikit-learn's `lower_bound_`).
    pub lower_bound: f64,
    n_features: usize,
    training_scores: Vec<f64>,
}

/// Mixture state during EM.
struct State {
    cov_type: CovarianceType,
    d: usize,
    log_weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    prec_chol: Vec<Vec<f64>>,
    log_det: Vec<f64>,
    covariances: Vec<Vec<f64>>,
}

impl State {
    /// Per-row log-likelihood and, optionally, responsibilities.
    fn weighted_log_prob(&self, x: &[f64], out: &mut [f64]) {
        let d = self.d;
        let mut y = vec![0.0; d];
        for (k, o) in out.iter_mut().enumerate().take(self.means.len()) {
            let mu = &self.means[k];
            let p = &self.prec_chol[k];
            let sq = match self.cov_type {
                CovarianceType::Full => {
                    // y = (x − μ)ᵀ P with P upper triangular: y_j = Σ_{i<=j} (x−μ)_i P_ij.
                    for j in 0..d {
                        let mut s = 0.0;
                        for i in 0..=j {
                            s += (x[i] - mu[i]) * p[i * d + j];
                        }
                        y[j] = s;
                    }
                    y.iter().map(|v| v * v).sum::<f64>()
                }
                CovarianceType::Diag => (0..d).map(|j| ((x[j] - mu[j]) * p[j]).powi(2)).sum::<f64>(),
            };
            *o = -0.5 * (d as f64 * LN_2PI + sq) + self.log_det[k] + self.log_weights[k];
        }
    }

    /// E-step over all rows: (mean log-likelihood, per-row log-likelihood, responsibilities n × k).
    fn e_step(&self, data: &[f64], n: usize) -> (f64, Vec<f64>, Vec<f64>) {
        let k = self.means.len();
        let d = self.d;
        let blocks: Vec<(Vec<f64>, Vec<f64>)> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let rows = b * BLOCK..((b + 1) * BLOCK).min(n);
                let mut ll = Vec::with_capacity(rows.len());
                let mut resp = vec![0.0; rows.len() * k];
                let mut w = vec![0.0; k];
                for (r, i) in rows.enumerate() {
                    self.weighted_log_prob(&data[i * d..(i + 1) * d], &mut w);
                    let lse = logsumexp(&w);
                    ll.push(lse);
                    for c in 0..k {
                        resp[r * k + c] = (w[c] - lse).exp();
                    }
                }
                (ll, resp)
            })
            .collect();
        let mut ll = Vec::with_capacity(n);
        let mut resp = Vec::with_capacity(n * k);
        for (l, r) in blocks {
            ll.extend(l);
            resp.extend(r);
        }
        let mean = outflow_core::stats::pairwise_sum(&ll) / n as f64;
        (mean, ll, resp)
    }

    /// M-step from responsibilities.
    fn m_step(&mut self, data: &[f64], n: usize, resp: &[f64], reg: f64) -> Result<()> {
        let k = self.means.len();
        let d = self.d;
        let nb = n.div_ceil(BLOCK);
        // Σ resp and Σ resp·x, blockwise.
        let part: Vec<(Vec<f64>, Vec<f64>)> = (0..nb)
            .into_par_iter()
            .map(|b| {
                let mut nk = vec![0.0; k];
                let mut sx = vec![0.0; k * d];
                for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                    let x = &data[i * d..(i + 1) * d];
                    for c in 0..k {
                        let r = resp[i * k + c];
                        nk[c] += r;
                        for j in 0..d {
                            sx[c * d + j] += r * x[j];
                        }
                    }
                }
                (nk, sx)
            })
            .collect();
        let mut nk = vec![0.0; k];
        let mut sx = vec![0.0; k * d];
        for (a, b) in &part {
            nk.iter_mut().zip(a).for_each(|(t, v)| *t += v);
            sx.iter_mut().zip(b).for_each(|(t, v)| *t += v);
        }
        for v in nk.iter_mut() {
            *v += 10.0 * f64::EPSILON;
        }
        let means: Vec<Vec<f64>> = (0..k).map(|c| (0..d).map(|j| sx[c * d + j] / nk[c]).collect()).collect();
        let width = match self.cov_type {
            CovarianceType::Full => d * d,
            CovarianceType::Diag => d,
        };
        let cov_type = self.cov_type;
        let part: Vec<Vec<f64>> = (0..nb)
            .into_par_iter()
            .map(|b| {
                let mut acc = vec![0.0; k * width];
                let mut diff = vec![0.0; d];
                for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                    let x = &data[i * d..(i + 1) * d];
                    for c in 0..k {
                        let r = resp[i * k + c];
                        if r == 0.0 {
                            continue;
                        }
                        for j in 0..d {
                            diff[j] = x[j] - means[c][j];
                        }
                        let a = &mut acc[c * width..(c + 1) * width];
                        match cov_type {
                            CovarianceType::Full => {
                                for p in 0..d {
                                    let rp = r * diff[p];
                                    for q in p..d {
                                        a[p * d + q] += rp * diff[q];
                                    }
                                }
                            }
                            CovarianceType::Diag => {
                                for j in 0..d {
                                    a[j] += r * diff[j] * diff[j];
                                }
                            }
                        }
                    }
                }
                acc
            })
            .collect();
        let mut acc = vec![0.0; k * width];
        for p in &part {
            acc.iter_mut().zip(p).for_each(|(t, v)| *t += v);
        }
        let total: f64 = nk.iter().sum();
        self.log_weights = nk.iter().map(|v| (v / total).ln()).collect();
        self.means = means;
        self.covariances = (0..k)
            .map(|c| {
                let a = &acc[c * width..(c + 1) * width];
                match cov_type {
                    CovarianceType::Full => {
                        let mut m = vec![0.0; d * d];
                        for p in 0..d {
                            for q in p..d {
                                let v = a[p * d + q] / nk[c];
                                m[p * d + q] = v;
                                m[q * d + p] = v;
                            }
                            m[p * d + p] += reg;
                        }
                        m
                    }
                    CovarianceType::Diag => a.iter().map(|v| v / nk[c] + reg).collect(),
                }
            })
            .collect();
        self.factor_covariances()
    }

    /// Precision factors and log-determinants from the covariances.
    fn factor_covariances(&mut self) -> Result<()> {
        let d = self.d;
        self.prec_chol.clear();
        self.log_det.clear();
        for (c, cov) in self.covariances.iter().enumerate() {
            let p = match self.cov_type {
                CovarianceType::Full => precision_cholesky_full(cov, d).ok_or_else(|| ill_defined(c))?,
                CovarianceType::Diag => {
                    if !cov.iter().all(|&v| positive(v)) {
                        return Err(ill_defined(c));
                    }
                    cov.iter().map(|v| 1.0 / v.sqrt()).collect()
                }
            };
            self.log_det.push(log_det(&p, d, self.cov_type));
            self.prec_chol.push(p);
        }
        Ok(())
    }
}

/// Finite and > 0.
fn positive(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

fn ill_defined(c: usize) -> OutlierError {
    OutlierError::Numerical(format!(
        "component {c} has an ill-defined covariance (singleton or collapsed rows); use fewer components, a larger \
         reg_covar or scaled data"
    ))
}

fn log_det(p: &[f64], d: usize, t: CovarianceType) -> f64 {
    match t {
        CovarianceType::Full => (0..d).map(|j| p[j * d + j].ln()).sum(),
        CovarianceType::Diag => p.iter().map(|v| v.ln()).sum(),
    }
}

fn logsumexp(w: &[f64]) -> f64 {
    let m = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + w.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Lower Cholesky factor of a symmetric d × d matrix (row-major), by faer, sequentially.
fn cholesky_lower(a: &[f64], d: usize) -> Option<Mat<f64>> {
    let mut m = Mat::<f64>::from_fn(d, d, |i, j| a[i * d + j]);
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(d, Par::Seq, Default::default()));
    cholesky_in_place(m.as_mut(), Default::default(), Par::Seq, MemStack::new(&mut mem), Default::default()).ok()?;
    for i in 0..d {
        for j in i + 1..d {
            m[(i, j)] = 0.0;
        }
        if !positive(m[(i, i)]) {
            return None;
        }
    }
    Some(m)
}

/// `P = L⁻ᵀ` (upper triangular, row-major) for `Σ = L Lᵀ`.
fn precision_cholesky_full(cov: &[f64], d: usize) -> Option<Vec<f64>> {
    let l = cholesky_lower(cov, d)?;
    let mut inv = Mat::<f64>::identity(d, d);
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(l.as_ref(), inv.as_mut(), Par::Seq);
    // P = inv(L)ᵀ: P[i][j] = inv[j][i].
    let mut p = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            p[i * d + j] = inv[(j, i)];
        }
    }
    p.iter().all(|v| v.is_finite()).then_some(p)
}

/// From a precision matrix Λ: the upper triangular `P` with `P Pᵀ = Λ` (scikit-learn's
/// `_compute_precision_cholesky_from_precisions`: `J · chol(J Λ J) · J` with `J` the reversal), stored
/// row-major like the factors of the fit.
fn precision_cholesky_from_precision(prec: &[f64], d: usize) -> Option<Vec<f64>> {
    let flipped: Vec<f64> = (0..d * d).map(|t| prec[(d - 1 - t / d) * d + (d - 1 - t % d)]).collect();
    let l = cholesky_lower(&flipped, d)?;
    Some((0..d * d).map(|t| l[(d - 1 - t / d, d - 1 - t % d)]).collect())
}

impl GmmParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        match self.covariance_type {
            CovarianceType::Full => "gmm".into(),
            CovarianceType::Diag => "gmm_diag".into(),
        }
    }
}

impl Fit for GmmParams {
    type Fitted = Gmm;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Gmm> {
        self.validate()?;
        check_matrix(x)?;
        let (n, d) = x.dim();
        let k = self.n_components;
        if n < 2 || n < k {
            return Err(InputError::too_few_rows(format!("GMM with {k} components"), k.max(1), n).into());
        }
        let xs = x.as_standard_layout();
        let data = xs.as_slice().expect("standard layout");
        let mut st = State {
            cov_type: self.covariance_type,
            d,
            log_weights: vec![],
            means: vec![],
            prec_chol: vec![],
            log_det: vec![],
            covariances: vec![],
        };
        match &self.init {
            GmmInit::KMeansPlusPlus => {
                let seeds = outflow_cluster::kmeans_plusplus(xs.view(), k, self.seed)?;
                let resp: Vec<f64> = (0..n)
                    .into_par_iter()
                    .flat_map_iter(|i| {
                        let r = &data[i * d..(i + 1) * d];
                        let mut best = (f64::INFINITY, 0);
                        for (c, &s) in seeds.iter().enumerate() {
                            let dd = sq_euclidean(r, &data[s * d..(s + 1) * d]);
                            if dd < best.0 {
                                best = (dd, c);
                            }
                        }
                        (0..k).map(move |c| if c == best.1 { 1.0 } else { 0.0 })
                    })
                    .collect();
                st.means = vec![vec![0.0; d]; k];
                st.m_step(data, n, &resp, self.reg_covar)?;
            }
            GmmInit::Given { weights, means, precisions } => {
                check_width(means.ncols(), d)?;
                let width = if self.covariance_type == CovarianceType::Full { d * d } else { d };
                if precisions.iter().any(|p| p.len() != width) {
                    return Err(OutlierError::param("init", format!("each initial precision needs {width} values")));
                }
                st.log_weights = weights.iter().map(|w| w.ln()).collect();
                st.means = means.rows().into_iter().map(|r| r.to_vec()).collect();
                for (c, p) in precisions.iter().enumerate() {
                    let pc = match self.covariance_type {
                        CovarianceType::Full => precision_cholesky_from_precision(p, d).ok_or_else(|| {
                            OutlierError::param("init", format!("initial precision {c} is not positive definite"))
                        })?,
                        CovarianceType::Diag => {
                            if !p.iter().all(|&v| positive(v)) {
                                return Err(OutlierError::param(
                                    "init",
                                    format!("initial precision {c} is not positive"),
                                ));
                            }
                            p.iter().map(|v| v.sqrt()).collect()
                        }
                    };
                    st.log_det.push(log_det(&pc, d, self.covariance_type));
                    st.prec_chol.push(pc);
                }
            }
        }
        let mut lower = f64::NEG_INFINITY;
        let mut converged = false;
        let mut n_iter = 0;
        for it in 1..=self.max_iter {
            n_iter = it;
            let prev = lower;
            let (mean_ll, _, resp) = st.e_step(data, n);
            st.m_step(data, n, &resp, self.reg_covar)?;
            lower = mean_ll;
            if (lower - prev).abs() < self.tol {
                converged = true;
                break;
            }
        }
        let (_, ll, _) = st.e_step(data, n);
        if self.max_iter == 0 {
            lower = outflow_core::stats::pairwise_sum(&ll) / n as f64;
        }
        if ll.iter().any(|v| !v.is_finite()) {
            return Err(OutlierError::Numerical("non-finite log-likelihood".into()));
        }
        let components = (0..k)
            .map(|c| Component {
                weight: st.log_weights[c].exp(),
                mean: st.means[c].clone(),
                covariance: st.covariances.get(c).cloned().unwrap_or_default(),
                precision_cholesky: st.prec_chol[c].clone(),
            })
            .collect();
        Ok(Gmm {
            covariance_type: self.covariance_type,
            components,
            n_iter,
            converged,
            lower_bound: lower,
            n_features: d,
            training_scores: ll.iter().map(|v| -v).collect(),
        })
    }
}

impl Gmm {
    fn state(&self) -> State {
        State {
            cov_type: self.covariance_type,
            d: self.n_features,
            log_weights: self.components.iter().map(|c| c.weight.ln()).collect(),
            means: self.components.iter().map(|c| c.mean.clone()).collect(),
            prec_chol: self.components.iter().map(|c| c.precision_cholesky.clone()).collect(),
            log_det: self
                .components
                .iter()
                .map(|c| log_det(&c.precision_cholesky, self.n_features, self.covariance_type))
                .collect(),
            covariances: vec![],
        }
    }

    /// Log-likelihood of each row (scikit-learn's `score_samples`).
    pub fn log_likelihood(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features)?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let xs = x.as_standard_layout();
        let (_, ll, _) = self.state().e_step(xs.as_slice().expect("standard layout"), x.nrows());
        Ok(ll)
    }
}

impl OutlierModel for Gmm {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.n_features
    }
}

impl ScoreSamples for Gmm {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        if x.nrows() == 0 {
            check_query(x, self.n_features)?;
            return Ok(Vec::new());
        }
        Ok(self.log_likelihood(x)?.into_iter().map(|v| -v).collect())
    }
}
