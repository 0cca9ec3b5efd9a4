//! Barnes–Hut t-SNE with scikit-learn 1.9's `TSNE(method="barnes_hut")` definition and defaults.
//!
//! 1. **Affinities**: the `k = min(n − 1, ⌊3·perplexity + 1⌋)` exact nearest neighbours of every row
//!    (Euclidean); a Gaussian per row over their squared distances whose precision is bisected until its
//!    perplexity is the asked one; `P = (C + Cᵀ) / Σ`.
//! 2. **Start**: the first `n_components` principal components scaled so the first has standard deviation
//!    1e-4 (`init="pca"`), or 1e-4 · N(0, 1) draws (`init="random"`).
//! 3. **Descent** on the Kullback–Leibler divergence with a Student-t kernel of `max(n_components − 1, 1)`
//!    degrees of freedom: 250 iterations with `P` multiplied by `early_exaggeration` and momentum 0.5, then
//!    up to `max_iter` in all with momentum 0.8; per-coordinate gains (+0.2 when the step changes sign,
//!    ×0.8 otherwise, at least 0.01); learning rate `max(n / early_exaggeration / 4, 50)` when `auto`.
//!    Every 50 iterations the divergence is checked: the run stops when it has not improved for
//!    `n_iter_without_progress` iterations or the gradient norm is at most `min_grad_norm`.
//! 4. **Gradient**: attraction over the sparse `P`, repulsion from a quadtree (octree in 3-D) whose cells
//!    stand for their points when `width² / distance² < angle²`.
//!
//! Positions, `P` and forces are single precision as in scikit-learn; sums of the kernel are double.
//! Every point's forces are computed in parallel and every sum runs in a fixed order, so an embedding does
//! not depend on the thread count. t-SNE has no mapping for new rows (scikit-learn's `TSNE` has no
//! `transform`): [`Tsne`] holds the embedding of the fitted rows.

mod affinities;
mod tree;

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, check_matrix};

use self::affinities::{SparseP, joint_probabilities};
use self::tree::SpaceTree;
use crate::error::{EmbedError, Result};

/// Iterations of the exaggerated first stage, and between convergence checks (scikit-learn's constants).
const EXPLORATION_ITER: usize = 250;
const CHECK_EVERY: usize = 50;
const MIN_GAIN: f32 = 0.01;

/// The learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LearningRate {
    /// `max(n / early_exaggeration / 4, 50)` (Belkina et al. 2019; scikit-learn's `"auto"`).
    #[default]
    Auto,
    /// A fixed rate, > 0.
    Fixed(f64),
}

/// How the embedding starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TsneInit {
    /// Principal components scaled to a standard deviation of 1e-4 (deterministic).
    #[default]
    Pca,
    /// 1e-4 times standard normal draws from the seed.
    Random,
}

/// Parameters of t-SNE (scikit-learn's `TSNE` names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TsneParams {
    /// Dimensions of the embedding: 1 to 3 (Barnes–Hut).
    pub n_components: usize,
    /// Effective number of neighbours of every row's Gaussian; below the number of rows.
    pub perplexity: f64,
    /// Factor on `P` during the first 250 iterations; at least 1.
    pub early_exaggeration: f64,
    /// Step size.
    pub learning_rate: LearningRate,
    /// Iterations in all, at least 250.
    pub max_iter: usize,
    /// Iterations without a lower divergence before stopping (checked every 50).
    pub n_iter_without_progress: usize,
    /// Gradient norm at which the descent stops.
    pub min_grad_norm: f64,
    /// Start of the embedding.
    pub init: TsneInit,
    /// Barnes–Hut angle θ in [0, 1]: larger is faster and coarser.
    pub angle: f64,
    /// Seed of the random start.
    pub seed: u64,
}

impl Default for TsneParams {
    fn default() -> Self {
        TsneParams {
            n_components: 2,
            perplexity: 30.0,
            early_exaggeration: 12.0,
            learning_rate: LearningRate::Auto,
            max_iter: 1000,
            n_iter_without_progress: 300,
            min_grad_norm: 1e-7,
            init: TsneInit::Pca,
            angle: 0.5,
            seed: 0,
        }
    }
}

/// A fitted t-SNE: the embedding of the rows it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tsne {
    /// One row per input row, `n_components` columns.
    pub embedding: Array2<f64>,
    /// The Kullback–Leibler divergence after the last iteration (scikit-learn's `kl_divergence_`).
    pub kl_divergence: f64,
    /// Index of the last iteration run (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// The learning rate used (scikit-learn's `learning_rate_`).
    pub learning_rate: f64,
}

impl TsneParams {
    /// Checks the parameters alone (the perplexity against the rows is checked by `fit`).
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, why: String| Err(EmbedError::from(InputError::param(name, why)));
        if !(1..=3).contains(&self.n_components) {
            return bad("n_components", format!("{} is not 1, 2 or 3 (Barnes–Hut t-SNE)", self.n_components));
        }
        if !(self.perplexity > 0.0 && self.perplexity.is_finite()) {
            return bad("perplexity", format!("{} is not a positive number", self.perplexity));
        }
        if !(self.early_exaggeration >= 1.0 && self.early_exaggeration.is_finite()) {
            return bad("early_exaggeration", format!("{} is below 1", self.early_exaggeration));
        }
        if let LearningRate::Fixed(r) = self.learning_rate
            && !(r > 0.0 && r.is_finite())
        {
            return bad("learning_rate", format!("{r} is not a positive number"));
        }
        if self.max_iter < EXPLORATION_ITER {
            return bad("max_iter", format!("{} is below {EXPLORATION_ITER}", self.max_iter));
        }
        if self.min_grad_norm.is_nan() || self.min_grad_norm < 0.0 {
            return bad("min_grad_norm", format!("{} is below 0", self.min_grad_norm));
        }
        if !(0.0..=1.0).contains(&self.angle) {
            return bad("angle", format!("{} is not in [0, 1]", self.angle));
        }
        Ok(())
    }
}

impl Fit for TsneParams {
    type Fitted = Tsne;
    type Error = EmbedError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Tsne> {
        self.validate()?;
        check_matrix(x)?;
        let n = x.nrows();
        if self.perplexity >= n as f64 {
            return Err(InputError::param(
                "perplexity",
                format!("{} must be less than the number of rows ({n})", self.perplexity),
            )
            .into());
        }
        if n < 2 {
            return Err(InputError::too_few_rows("t-SNE", 2, n).into());
        }
        let k = (n - 1).min((3.0 * self.perplexity + 1.0) as usize).max(1);
        let p = joint_probabilities(x, self.perplexity, k)?;
        let dim = self.n_components;
        let y0 = self.start(x)?;
        let learning_rate = match self.learning_rate {
            LearningRate::Auto => (n as f64 / self.early_exaggeration / 4.0).max(50.0),
            LearningRate::Fixed(r) => r,
        };
        let dof = (dim.saturating_sub(1)).max(1) as f32;
        let mut opt =
            Descent { p, dim, dof, angle: self.angle as f32, learning_rate, min_grad_norm: self.min_grad_norm };
        let mut y = y0;
        let exaggeration = self.early_exaggeration as f32;
        opt.p.values.iter_mut().for_each(|v| *v *= exaggeration);
        let (_, last) = opt.run(&mut y, 0, EXPLORATION_ITER, 0.5, EXPLORATION_ITER);
        opt.p.values.iter_mut().for_each(|v| *v /= exaggeration);
        let (kl, last) = if last < EXPLORATION_ITER || self.max_iter > EXPLORATION_ITER {
            opt.run(&mut y, last + 1, self.max_iter, 0.8, self.n_iter_without_progress)
        } else {
            (f64::NAN, last)
        };
        if y.iter().any(|v| !v.is_finite()) {
            return Err(EmbedError::Numerical("t-SNE diverged (non-finite positions): lower the learning rate".into()));
        }
        let embedding =
            Array2::from_shape_vec((n, dim), y.iter().map(|&v| f64::from(v)).collect()).expect("n × dim positions");
        Ok(Tsne { embedding, kl_divergence: kl, n_iter: last, learning_rate })
    }
}

impl TsneParams {
    /// The starting positions, flat `n × n_components`, single precision.
    fn start(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f32>> {
        let (n, dim) = (x.nrows(), self.n_components);
        match self.init {
            TsneInit::Pca => {
                let z = crate::pca_start(x, dim)?;
                let y: Vec<f32> = z.iter().map(|&v| v as f32).collect();
                let first: Vec<f64> = (0..n).map(|i| f64::from(y[i * dim])).collect();
                let sd = outflow_core::stats::variance(&first, 0).unwrap_or(0.0).sqrt() as f32;
                if sd.is_nan() || sd <= 0.0 {
                    // Every row the same along the first axis: a PCA start is all zeros.
                    return Ok(vec![0.0; n * dim]);
                }
                Ok(y.iter().map(|v| v / sd * 1e-4).collect())
            }
            TsneInit::Random => {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                Ok((0..n * dim).map(|_| 1e-4 * outflow_core::standard_normal(&mut rng) as f32).collect())
            }
        }
    }
}

/// The gradient descent of one run: `P`, the kernel and the step settings.
struct Descent {
    p: SparseP,
    dim: usize,
    dof: f32,
    angle: f32,
    learning_rate: f64,
    min_grad_norm: f64,
}

impl Descent {
    /// Iterations `start..max_iter` from positions `y`; returns the last divergence computed and the
    /// last iteration's index (scikit-learn's `_gradient_descent`).
    fn run(
        &self,
        y: &mut [f32],
        start: usize,
        max_iter: usize,
        momentum: f64,
        without_progress: usize,
    ) -> (f64, usize) {
        let mut update = vec![0.0f64; y.len()];
        let mut gains = vec![1.0f32; y.len()];
        let mut grad = vec![0.0f32; y.len()];
        let (mut error, mut best_error, mut best_iter) = (f64::MAX, f64::MAX, start);
        let mut i = start;
        for it in start..max_iter {
            i = it;
            let check = (it + 1) % CHECK_EVERY == 0;
            let e = self.gradient(y, &mut grad, check || it == max_iter - 1);
            if let Some(e) = e {
                error = e;
            }
            for ((g, u), (gain, p)) in grad.iter_mut().zip(update.iter_mut()).zip(gains.iter_mut().zip(y.iter_mut())) {
                if *u * f64::from(*g) < 0.0 {
                    *gain += 0.2;
                } else {
                    *gain *= 0.8;
                }
                *gain = gain.max(MIN_GAIN);
                *g *= *gain;
                *u = momentum * *u - self.learning_rate * f64::from(*g);
                *p += *u as f32;
            }
            if check {
                let norm = grad.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt();
                if error < best_error {
                    best_error = error;
                    best_iter = it;
                } else if it - best_iter > without_progress {
                    break;
                }
                if norm <= self.min_grad_norm {
                    break;
                }
            }
        }
        (error, i)
    }

    /// The gradient of the divergence at `y` into `grad`; the divergence itself when asked.
    fn gradient(&self, y: &[f32], grad: &mut [f32], with_error: bool) -> Option<f64> {
        let dim = self.dim;
        let n = y.len() / dim;
        let tree = SpaceTree::build(y, dim);
        let theta2 = self.angle * self.angle;
        let mut neg = vec![0.0f32; y.len()];
        let qs: Vec<f64> = neg
            .par_chunks_mut(dim)
            .enumerate()
            .with_min_len(256)
            .map(|(i, f)| tree.negative_force(&y[i * dim..(i + 1) * dim], theta2, self.dof, f))
            .collect();
        let sum_q = outflow_core::stats::pairwise_sum(&qs).max(f64::EPSILON);
        let exponent = (self.dof + 1.0) / 2.0;
        let c = 2.0 * (self.dof + 1.0) / self.dof;
        let p = &self.p;
        let errors: Vec<f64> = grad
            .par_chunks_mut(dim)
            .zip(neg.par_chunks(dim))
            .enumerate()
            .with_min_len(256)
            .map(|(i, (g, nf))| {
                let mut pos = [0.0f32; 3];
                let mut err = 0.0f32;
                let yi = &y[i * dim..(i + 1) * dim];
                for k in p.indptr[i]..p.indptr[i + 1] {
                    let j = p.indices[k] as usize;
                    let yj = &y[j * dim..(j + 1) * dim];
                    let mut buf = [0.0f32; 3];
                    let mut d = 0.0f32;
                    for a in 0..dim {
                        buf[a] = yi[a] - yj[a];
                        d += buf[a] * buf[a];
                    }
                    let mut q = self.dof / (self.dof + d);
                    if self.dof != 1.0 {
                        q = q.powf(exponent);
                    }
                    let pij = p.values[k];
                    if with_error {
                        let qn = (f64::from(q) / sum_q) as f32;
                        err += pij * (pij.max(f32::MIN_POSITIVE) / qn.max(f32::MIN_POSITIVE)).ln();
                    }
                    let w = pij * q;
                    for a in 0..dim {
                        pos[a] += w * buf[a];
                    }
                }
                for a in 0..dim {
                    g[a] = (pos[a] - (f64::from(nf[a]) / sum_q) as f32) * c;
                }
                f64::from(err)
            })
            .collect();
        debug_assert_eq!(errors.len(), n);
        with_error.then(|| errors.iter().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_inputs_are_checked() {
        let x = Array2::from_shape_fn((20, 3), |(i, j)| (i * 3 + j) as f64);
        for p in [
            TsneParams { n_components: 4, ..Default::default() },
            TsneParams { perplexity: 0.0, ..Default::default() },
            TsneParams { perplexity: 20.0, ..Default::default() },
            TsneParams { early_exaggeration: 0.5, ..Default::default() },
            TsneParams { learning_rate: LearningRate::Fixed(-1.0), ..Default::default() },
            TsneParams { max_iter: 100, ..Default::default() },
            TsneParams { angle: 1.5, ..Default::default() },
        ] {
            let e = p.fit(x.view()).unwrap_err();
            assert!(matches!(e, EmbedError::Input(InputError::InvalidParameter { .. })), "{p:?}: {e}");
        }
        let mut bad = x.clone();
        bad[[3, 1]] = f64::NAN;
        assert!(matches!(
            TsneParams { perplexity: 5.0, ..Default::default() }.fit(bad.view()),
            Err(EmbedError::Input(InputError::NonFinite { row: 3, col: 1, .. }))
        ));
    }
}

#[cfg(test)]
mod reference {
    //! Parity with scikit-learn's pieces on `tests/fixtures/tsne_gradient.json`
    //! (`tools/reference/embed_reference.py`).
    use super::*;
    use serde_json::Value;

    fn fixture() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tsne_gradient.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .flat_map(|r| match r.as_array() {
                Some(row) => row.iter().map(|x| x.as_f64().unwrap()).collect(),
                None => vec![r.as_f64().unwrap()],
            })
            .collect()
    }

    fn matrix(v: &Value) -> Array2<f64> {
        let rows = v.as_array().unwrap().len();
        let flat = floats(v);
        Array2::from_shape_vec((rows, flat.len() / rows), flat).unwrap()
    }

    fn sklearn_p(f: &Value, n: usize) -> SparseP {
        let rows: Vec<usize> = f["rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        let cols: Vec<u32> = f["cols"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let mut indptr = vec![0usize; n + 1];
        for &r in &rows {
            indptr[r + 1] += 1;
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        SparseP { indptr, indices: cols, values: floats(&f["values"]).iter().map(|&v| v as f32).collect() }
    }

    #[test]
    fn joint_probabilities_equal_sklearn() {
        let f = fixture();
        let x = matrix(&f["x"]);
        let ours = joint_probabilities(x.view(), f["perplexity"].as_f64().unwrap(), 31).unwrap();
        let theirs = sklearn_p(&f, x.nrows());
        assert_eq!(ours.indptr, theirs.indptr);
        assert_eq!(ours.indices, theirs.indices);
        for (a, b) in ours.values.iter().zip(&theirs.values) {
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{a} vs {b}");
        }
    }

    #[test]
    fn pca_start_and_barnes_hut_gradient_equal_sklearn() {
        let f = fixture();
        let x = matrix(&f["x"]);
        let n = x.nrows();
        for case in f["cases"].as_array().unwrap() {
            let dim = case["n_components"].as_u64().unwrap() as usize;
            let start = TsneParams { n_components: dim, ..Default::default() }.start(x.view()).unwrap();
            for (a, b) in start.iter().zip(floats(&case["pca_start"])) {
                assert!((f64::from(*a) - b).abs() <= 1e-5 * 1e-4, "{dim}-D start: {a} vs {b}");
            }
            let opt = Descent {
                p: sklearn_p(&f, n),
                dim,
                dof: dim.saturating_sub(1).max(1) as f32,
                angle: 0.5,
                learning_rate: 1.0,
                min_grad_norm: 0.0,
            };
            for e in case["evaluations"].as_array().unwrap() {
                let y: Vec<f32> = floats(&e["positions"]).iter().map(|&v| v as f32).collect();
                let mut grad = vec![0.0f32; y.len()];
                let err = opt.gradient(&y, &mut grad, true).unwrap();
                let want = floats(&e["gradient"]);
                let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                for (g, w) in grad.iter().zip(&want) {
                    assert!((f64::from(*g) - w).abs() <= 1e-4 * scale, "{dim}-D {}: {g} vs {w}", e["name"]);
                }
                let want_err = e["error"].as_f64().unwrap();
                assert!((err - want_err).abs() <= 1e-4 * want_err.abs(), "{dim}-D {}: {err} vs {want_err}", e["name"]);
            }
        }
    }
}
