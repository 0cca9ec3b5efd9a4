//! The pieces of a fully connected network on single-precision batches (rows × features): a dense
//! block (linear map, optional batch normalisation, activation, dropout — PyTorch's order in PyOD's
//! `LinearBlock`), its backward pass, and Adam.

use ndarray::{Array1, Array2, ArrayView2, Axis, Zip};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// An activation function (PyOD's `hidden_activation_name` / `output_activation_name`, PyTorch's
/// definitions and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)`.
    #[default]
    Relu,
    /// `x` for `x > 0`, else `0.01 x`.
    LeakyRelu,
    /// `x` for `x > 0`, else `eˣ − 1`.
    Elu,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// `ln(1 + eˣ)`, linear above 20 as in PyTorch.
    Softplus,
    /// `x`.
    Identity,
}

impl Activation {
    fn apply(self, y: f32) -> f32 {
        match self {
            Activation::Relu => y.max(0.0),
            Activation::LeakyRelu => {
                if y > 0.0 {
                    y
                } else {
                    0.01 * y
                }
            }
            Activation::Elu => {
                if y > 0.0 {
                    y
                } else {
                    y.exp_m1()
                }
            }
            Activation::Tanh => y.tanh(),
            Activation::Sigmoid => sigmoid(y),
            Activation::Softplus => {
                if y > 20.0 {
                    y
                } else {
                    y.exp().ln_1p()
                }
            }
            Activation::Identity => y,
        }
    }

    /// The derivative at pre-activation `y` whose output is `a`.
    fn derivative(self, y: f32, a: f32) -> f32 {
        match self {
            Activation::Relu => f32::from(u8::from(y > 0.0)),
            Activation::LeakyRelu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.01
                }
            }
            Activation::Elu => {
                if y > 0.0 {
                    1.0
                } else {
                    a + 1.0
                }
            }
            Activation::Tanh => 1.0 - a * a,
            Activation::Sigmoid => a * (1.0 - a),
            Activation::Softplus => {
                if y > 20.0 {
                    1.0
                } else {
                    sigmoid(y)
                }
            }
            Activation::Identity => 1.0,
        }
    }
}

fn sigmoid(y: f32) -> f32 {
    1.0 / (1.0 + (-y).exp())
}

/// Batch normalisation of a block's outputs (PyTorch's `BatchNorm1d`: ε 1e-5, momentum 0.1, affine,
/// running statistics; the running variance is the unbiased batch variance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNorm {
    /// Scale.
    pub gamma: Array1<f32>,
    /// Shift.
    pub beta: Array1<f32>,
    /// Running mean, used when scoring.
    pub running_mean: Array1<f32>,
    /// Running variance, used when scoring.
    pub running_var: Array1<f32>,
}

const BN_EPS: f32 = 1e-5;
const BN_MOMENTUM: f32 = 0.1;

/// How a block's weights start.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init {
    /// PyOD's `LinearBlock`: Kaiming uniform for ReLU-like units, bound `√(6 / fan_in)`.
    Kaiming,
    /// PyTorch's plain `nn.Linear`: bound `1 / √fan_in`.
    Linear,
}

/// One dense block: `activation(norm(x W + b))`, then dropout while training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Weights, inputs × outputs.
    pub weight: Array2<f32>,
    /// Biases, one per output.
    pub bias: Array1<f32>,
    /// Batch normalisation of the linear outputs.
    pub norm: Option<BatchNorm>,
    /// Activation.
    pub activation: Activation,
    /// Probability of zeroing an output while training.
    pub dropout: f32,
}

/// What a training forward pass keeps for the backward pass.
pub(crate) struct Cache {
    input: Array2<f32>,
    /// Normalised linear outputs and the inverse standard deviation per output.
    normalised: Option<(Array2<f32>, Array1<f32>)>,
    pre: Array2<f32>,
    /// The activation's output, before dropout.
    act: Array2<f32>,
    mask: Option<Array2<f32>>,
}

/// Gradients of one block's parameters.
pub(crate) struct Grads {
    weight: Array2<f32>,
    bias: Array1<f32>,
    gamma_beta: Option<(Array1<f32>, Array1<f32>)>,
}

impl Dense {
    pub(crate) fn new(
        inputs: usize,
        outputs: usize,
        activation: Activation,
        batch_norm: bool,
        dropout: f32,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Dense {
        let fan_in = inputs as f32;
        let bound = match init {
            Init::Kaiming => (6.0 / fan_in).sqrt(),
            Init::Linear => 1.0 / fan_in.sqrt(),
        };
        let bias_bound = 1.0 / fan_in.sqrt();
        let weight = Array2::from_shape_simple_fn((inputs, outputs), || (2.0 * rng.random::<f32>() - 1.0) * bound);
        let bias = Array1::from_shape_simple_fn(outputs, || (2.0 * rng.random::<f32>() - 1.0) * bias_bound);
        let norm = batch_norm.then(|| BatchNorm {
            gamma: Array1::ones(outputs),
            beta: Array1::zeros(outputs),
            running_mean: Array1::zeros(outputs),
            running_var: Array1::ones(outputs),
        });
        Dense { weight, bias, norm, activation, dropout }
    }

    pub(crate) fn inputs(&self) -> usize {
        self.weight.nrows()
    }

    pub(crate) fn outputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Checks the shapes a model file could break.
    pub(crate) fn check(&self, inputs: usize) -> Result<usize, String> {
        let out = self.outputs();
        if self.inputs() != inputs || self.bias.len() != out {
            return Err(format!(
                "a dense layer of {}x{} weights and {} biases follows {inputs} values",
                self.inputs(),
                out,
                self.bias.len()
            ));
        }
        if let Some(n) = &self.norm
            && [n.gamma.len(), n.beta.len(), n.running_mean.len(), n.running_var.len()].iter().any(|&l| l != out)
        {
            return Err(format!("a batch normalisation of a {out}-wide layer has parameters of another width"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout {} is not in [0, 1)", self.dropout));
        }
        Ok(out)
    }

    /// The scoring pass: running statistics, no dropout.
    pub(crate) fn predict(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut y = x.dot(&self.weight) + &self.bias;
        if let Some(n) = &self.norm {
            let scale = Zip::from(&n.gamma).and(&n.running_var).map_collect(|g, v| g / (v + BN_EPS).sqrt());
            let shift = Zip::from(&n.beta).and(&n.running_mean).and(&scale).map_collect(|b, m, s| b - m * s);
            y = y * &scale + &shift;
        }
        let act = self.activation;
        y.mapv_inplace(|v| act.apply(v));
        y
    }

    /// The training pass: batch statistics (the running ones updated), dropout drawn from `rng`.
    pub(crate) fn forward(&mut self, x: Array2<f32>, rng: &mut ChaCha8Rng) -> (Array2<f32>, Cache) {
        let mut pre = x.dot(&self.weight) + &self.bias;
        let rows = pre.nrows() as f32;
        let normalised = match &mut self.norm {
            None => None,
            Some(n) => {
                let mean = pre.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(pre.ncols()));
                let centred = &pre - &mean;
                let var = centred.mapv(|v| v * v).sum_axis(Axis(0)) / rows;
                let inv_std = var.mapv(|v| 1.0 / (v + BN_EPS).sqrt());
                let xhat = centred * &inv_std;
                pre = &xhat * &n.gamma + &n.beta;
                let unbiased = if rows > 1.0 { rows / (rows - 1.0) } else { 1.0 };
                Zip::from(&mut n.running_mean)
                    .and(&mean)
                    .for_each(|r, &m| *r = (1.0 - BN_MOMENTUM) * *r + BN_MOMENTUM * m);
                Zip::from(&mut n.running_var)
                    .and(&var)
                    .for_each(|r, &v| *r = (1.0 - BN_MOMENTUM) * *r + BN_MOMENTUM * v * unbiased);
                Some((xhat, inv_std))
            }
        };
        let f = self.activation;
        let act = pre.mapv(|v| f.apply(v));
        let mask = (self.dropout > 0.0).then(|| {
            let keep = 1.0 - self.dropout;
            Array2::from_shape_simple_fn(act.raw_dim(), || if rng.random::<f32>() < keep { 1.0 / keep } else { 0.0 })
        });
        let out = match &mask {
            Some(m) => &act * m,
            None => act.clone(),
        };
        (out, Cache { input: x, normalised, pre, act, mask })
    }

    /// The backward pass: the gradient of the loss with respect to the block's input and its parameters.
    pub(crate) fn backward(&self, cache: Cache, d_out: Array2<f32>) -> (Array2<f32>, Grads) {
        let Cache { input, normalised, pre, act, mask } = cache;
        let mut d = d_out;
        if let Some(m) = &mask {
            d *= m;
        }
        let f = self.activation;
        Zip::from(&mut d).and(&pre).and(&act).for_each(|g, &y, &a| *g *= f.derivative(y, a));
        let (d_lin, gamma_beta) = match (&self.norm, normalised) {
            (Some(n), Some((xhat, inv_std))) => {
                let d_gamma = (&d * &xhat).sum_axis(Axis(0));
                let d_beta = d.sum_axis(Axis(0));
                let d_xhat = d * &n.gamma;
                let rows = d_xhat.nrows() as f32;
                let sum = d_xhat.sum_axis(Axis(0));
                let sum_x = (&d_xhat * &xhat).sum_axis(Axis(0));
                let mut d_lin = d_xhat * rows - &sum - &(xhat * &sum_x);
                d_lin *= &(inv_std / rows);
                (d_lin, Some((d_gamma, d_beta)))
            }
            _ => (d, None),
        };
        let weight = input.t().dot(&d_lin);
        let bias = d_lin.sum_axis(Axis(0));
        let d_input = d_lin.dot(&self.weight.t());
        (d_input, Grads { weight, bias, gamma_beta })
    }
}

/// First and second moments of one parameter array.
#[derive(Debug, Clone)]
struct Moments<D: ndarray::Dimension> {
    m: ndarray::Array<f32, D>,
    v: ndarray::Array<f32, D>,
}

impl<D: ndarray::Dimension> Moments<D> {
    fn like(a: &ndarray::Array<f32, D>) -> Self {
        Moments { m: ndarray::Array::zeros(a.raw_dim()), v: ndarray::Array::zeros(a.raw_dim()) }
    }
}

/// Adam's state for one block.
pub(crate) struct DenseMoments {
    weight: Moments<ndarray::Ix2>,
    bias: Moments<ndarray::Ix1>,
    gamma_beta: Option<(Moments<ndarray::Ix1>, Moments<ndarray::Ix1>)>,
}

impl DenseMoments {
    pub(crate) fn new(d: &Dense) -> Self {
        DenseMoments {
            weight: Moments::like(&d.weight),
            bias: Moments::like(&d.bias),
            gamma_beta: d.norm.as_ref().map(|n| (Moments::like(&n.gamma), Moments::like(&n.beta))),
        }
    }
}

/// PyTorch's Adam (β 0.9 / 0.999, ε 1e-8) with its L2 weight decay (added to the gradient).
pub(crate) struct Adam {
    pub(crate) learning_rate: f32,
    pub(crate) weight_decay: f32,
    step: i32,
}

impl Adam {
    pub(crate) fn new(learning_rate: f32, weight_decay: f32) -> Self {
        Adam { learning_rate, weight_decay, step: 0 }
    }

    /// Starts a step: every parameter updated until the next call shares its bias correction.
    pub(crate) fn next_step(&mut self) {
        self.step += 1;
    }

    fn update<D: ndarray::Dimension>(
        &self,
        p: &mut ndarray::Array<f32, D>,
        g: &ndarray::Array<f32, D>,
        mo: &mut Moments<D>,
    ) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        const EPS: f32 = 1e-8;
        let bc1 = 1.0 - B1.powi(self.step);
        let bc2_sqrt = (1.0 - B2.powi(self.step)).sqrt();
        let step_size = self.learning_rate / bc1;
        let wd = self.weight_decay;
        Zip::from(p).and(g).and(&mut mo.m).and(&mut mo.v).for_each(|p, &g, m, v| {
            let g = g + wd * *p;
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= step_size * *m / (v.sqrt() / bc2_sqrt + EPS);
        });
    }

    pub(crate) fn apply(&self, d: &mut Dense, g: &Grads, mo: &mut DenseMoments) {
        self.update(&mut d.weight, &g.weight, &mut mo.weight);
        self.update(&mut d.bias, &g.bias, &mut mo.bias);
        if let (Some(n), Some((gg, gb)), Some((mg, mb))) = (&mut d.norm, &g.gamma_beta, &mut mo.gamma_beta) {
            self.update(&mut n.gamma, gg, mg);
            self.update(&mut n.beta, gb, mb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The loss ½‖block(x)‖² and its gradient, for a finite-difference check.
    fn loss(d: &mut Dense, x: &Array2<f32>) -> f32 {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (y, _) = d.forward(x.clone(), &mut rng);
        0.5 * y.mapv(|v| v * v).sum()
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = Array2::from_shape_fn((6, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 5.0 - 1.0);
        for (act, bn, dropout) in [
            (Activation::Tanh, true, 0.0),
            (Activation::Sigmoid, false, 0.3),
            (Activation::Elu, true, 0.25),
            (Activation::Softplus, false, 0.0),
            (Activation::Identity, true, 0.0),
        ] {
            let d0 = Dense::new(4, 3, act, bn, dropout, Init::Kaiming, &mut rng);
            let mut d = d0.clone();
            let mut frng = ChaCha8Rng::seed_from_u64(9);
            let (y, cache) = d.forward(x.clone(), &mut frng);
            let (dx, g) = d0.backward(cache, y);
            let h = 1e-2f32;
            for (i, j) in [(0, 0), (2, 1), (3, 2)] {
                let (mut a, mut b) = (d0.clone(), d0.clone());
                a.weight[[i, j]] += h;
                b.weight[[i, j]] -= h;
                let num = (loss(&mut a, &x) - loss(&mut b, &x)) / (2.0 * h);
                assert!(
                    (num - g.weight[[i, j]]).abs() < 2e-2 * num.abs().max(1.0),
                    "{act:?} w {num} {}",
                    g.weight[[i, j]]
                );
            }
            for (i, j) in [(0, 1), (5, 3)] {
                let (mut xa, mut xb) = (x.clone(), x.clone());
                xa[[i, j]] += h;
                xb[[i, j]] -= h;
                let num = (loss(&mut d0.clone(), &xa) - loss(&mut d0.clone(), &xb)) / (2.0 * h);
                assert!((num - dx[[i, j]]).abs() < 2e-2 * num.abs().max(1.0), "{act:?} x {num} {}", dx[[i, j]]);
            }
            if bn {
                let (mut a, mut b) = (d0.clone(), d0.clone());
                a.norm.as_mut().unwrap().gamma[1] += h;
                b.norm.as_mut().unwrap().gamma[1] -= h;
                let num = (loss(&mut a, &x) - loss(&mut b, &x)) / (2.0 * h);
                let an = g.gamma_beta.as_ref().unwrap().0[1];
                assert!((num - an).abs() < 2e-2 * num.abs().max(1.0), "{act:?} gamma {num} {an}");
            }
        }
    }

    #[test]
    fn scoring_uses_running_statistics() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut d = Dense::new(2, 2, Activation::Identity, true, 0.0, Init::Linear, &mut rng);
        let x = Array2::from_shape_fn((8, 2), |(i, j)| (i + j) as f32);
        for _ in 0..200 {
            d.forward(x.clone(), &mut rng);
        }
        // After many identical batches the running statistics are the batch's (variance unbiased).
        let (train, _) = d.forward(x.clone(), &mut rng);
        let scored = d.predict(x.view());
        let ratio = (7.0f32 / 8.0).sqrt();
        for (t, s) in train.iter().zip(&scored) {
            assert!((t * ratio - s).abs() < 1e-3, "{t} {s}");
        }
    }
}
