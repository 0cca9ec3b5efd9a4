//! Neural reconstruction detectors: PyOD's `AutoEncoder` and `VAE`, with PyOD 3.6.7's defaults and
//! meaning of the score.
//!
//! Both standardise the features as PyOD does (`(x − mean) / (std + 1e-8)`, population standard
//! deviation), train on shuffled mini-batches with Adam (learning rate 1e-3, L2 weight decay 1e-5, the
//! last incomplete batch of an epoch dropped) to reconstruct their input under the mean squared error,
//! and score a row by the **Euclidean distance between the standardised row and its reconstruction**,
//! computed in evaluation mode (batch normalisation on its running statistics, no dropout). Higher is
//! more anomalous.
//!
//! - [`AutoEncoderParams`] — `features → 64 → 32 → 64 → features`: dense blocks (linear, batch
//!   normalisation, ReLU, dropout 0.2) and a linear output layer; 10 epochs of batches of 32.
//! - [`VaeParams`] — encoder `features → 128 → 64 → 32`, a 2-dimensional latent Gaussian (mean and
//!   log-variance layers, the log-variance clipped to [−30, 20]), decoder `2 → 32 → 64 → 128 → features`
//!   with an identity output; dropout 0.2, no batch normalisation, 30 epochs. The loss is PyOD's
//!   `recon + β · clamp(KL, 0, capacity)`: with the default capacity 0 the KL term is clamped to zero and
//!   the network trains on the reconstruction of a *sampled* latent point alone. Scoring decodes a sampled
//!   latent point too, as PyOD does; the draw comes from a stream seeded by the detector's seed and the
//!   row's own values, so a row's score is deterministic and does not depend on the rest of the batch.
//!
//! Where this differs from PyOD: a training set smaller than the batch size trains on one batch of all
//! rows (PyOD's loader, dropping the incomplete batch, would train no step at all), and random draws
//! come from ChaCha8 instead of PyTorch's generator, so a fit agrees with PyOD's in distribution, not
//! digit for digit (`tests/reference.rs` compares rankings).
//!
//! Why hand-written: the networks are a few dense layers on batches of 32 rows; ndarray's matrix
//! product (already a dependency) runs them, and a deep-learning crate (burn, candle, tch) would add
//! minutes of build time and megabytes of binary for no measured gain at this size. Training is one
//! sequential stream of Adam steps, so results do not depend on the thread count; scoring runs in
//! parallel over fixed blocks of rows.
//!
//! ```
//! use ndarray::Array2;
//! use outflow_outlier::{AutoEncoderParams, Fit, OutlierModel, metrics};
//!
//! // 300 rows near a plane in 4 dimensions and 3 rows off it
//! let x = Array2::from_shape_fn((303, 4), |(i, j)| {
//!     let (a, b) = ((i % 17) as f64, (i % 13) as f64);
//!     let v = [a, b, a + b, a - b][j];
//!     if i >= 300 && j == 3 { v + 25.0 } else { v }
//! });
//! let y: Vec<bool> = (0..303).map(|i| i >= 300).collect();
//! let ae = AutoEncoderParams { epochs: 40, seed: 1, ..Default::default() }.fit(x.view()).unwrap();
//! assert!(metrics::roc_auc(&y, ae.training_scores()).unwrap() > 0.95);
//! assert!(ae.loss_history.last() < ae.loss_history.first());
//! ```

mod layers;

use ndarray::{Array2, ArrayView2, Axis, s};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, ScoreSamples, check_matrix, check_query, standard_normal, stats};

pub use self::layers::{Activation, BatchNorm, Dense};
use self::layers::{Adam, DenseMoments, Init};
use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// PyOD's guard against a zero standard deviation.
const STD_EPS: f64 = 1e-8;
/// Rows per parallel scoring block.
const SCORE_BLOCK: usize = 1024;

/// The standardisation PyOD applies before training and scoring (`preprocessing=True`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardisation {
    /// Column means of the training rows.
    pub mean: Vec<f64>,
    /// Column population standard deviations of the training rows.
    pub std: Vec<f64>,
}

impl Standardisation {
    fn fit(x: ArrayView2<'_, f64>) -> Standardisation {
        let columns: Vec<Vec<f64>> = x.columns().into_iter().map(|c| c.to_vec()).collect();
        let mean = columns.iter().map(|c| stats::mean(c)).collect();
        // At least two rows reach here, so the population variance exists.
        let std = columns.iter().map(|c| stats::variance(c, 0).unwrap_or(0.0).sqrt()).collect();
        Standardisation { mean, std }
    }
}

/// The rows as the network sees them: standardised (when asked) and in single precision.
fn network_input(x: ArrayView2<'_, f64>, scaler: Option<&Standardisation>) -> Array2<f32> {
    match scaler {
        Some(s) => Array2::from_shape_fn(x.raw_dim(), |(i, j)| ((x[[i, j]] - s.mean[j]) / (s.std[j] + STD_EPS)) as f32),
        None => x.mapv(|v| v as f32),
    }
}

/// Training settings both networks share (PyOD's `BaseDeepLearningDetector`).
#[derive(Debug, Clone, Copy)]
struct Training {
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    weight_decay: f64,
}

fn check_training(t: Training, dropout_rate: f64, batch_norm: bool) -> Result<()> {
    if t.epochs == 0 {
        return Err(OutlierError::param("epochs", "must be at least 1"));
    }
    if t.batch_size == 0 || (batch_norm && t.batch_size == 1) {
        return Err(OutlierError::param(
            "batch_size",
            "must be at least 1, and at least 2 with batch normalisation (a batch's variance needs two rows)",
        ));
    }
    if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
        return Err(OutlierError::param("learning_rate", format!("{} is not a positive number", t.learning_rate)));
    }
    if !(t.weight_decay >= 0.0 && t.weight_decay.is_finite()) {
        return Err(OutlierError::param("weight_decay", format!("{} is not a number >= 0", t.weight_decay)));
    }
    if !(0.0..1.0).contains(&dropout_rate) {
        return Err(OutlierError::param("dropout_rate", format!("{dropout_rate} is not in [0, 1)")));
    }
    Ok(())
}

fn check_layers(name: &str, sizes: &[usize], may_be_empty: bool) -> Result<()> {
    if sizes.is_empty() && !may_be_empty {
        return Err(OutlierError::param(name, "needs at least one layer"));
    }
    if sizes.contains(&0) {
        return Err(OutlierError::param(name, "a layer of 0 neurons"));
    }
    Ok(())
}

/// What both fits start from: the checked rows, their standardisation (when asked) and the network's
/// input.
fn training_input(
    what: &str,
    x: ArrayView2<'_, f64>,
    preprocessing: bool,
) -> Result<(Option<Standardisation>, Array2<f32>)> {
    check_matrix(x)?;
    if x.nrows() < 2 {
        return Err(InputError::too_few_rows(what, 2, x.nrows()).into());
    }
    let scaler = preprocessing.then(|| Standardisation::fit(x));
    let z = network_input(x, scaler.as_ref());
    Ok((scaler, z))
}

/// The detector traits of a fitted network: its training scores, its input width (that of the first
/// layer of the field `$first`), and scoring new rows through its standardisation and its
/// `score_network_input`.
macro_rules! reconstruction_model {
    ($model:ty, $first:ident) => {
        impl OutlierModel for $model {
            fn training_scores(&self) -> &[f64] {
                &self.training_scores
            }

            fn n_features(&self) -> usize {
                self.$first.first().map_or(0, Dense::inputs)
            }
        }

        impl ScoreSamples for $model {
            type Error = OutlierError;

            fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
                check_query(x, self.n_features())?;
                Ok(self.score_network_input(&network_input(x, self.scaler.as_ref())))
            }
        }
    };
}

/// A network trained by [`train`].
trait Network {
    /// One Adam step on a batch; returns the batch's loss.
    fn step(&mut self, batch: Array2<f32>, adam: &mut Adam, rng: &mut ChaCha8Rng) -> f32;
}

/// Mini-batch training as PyTorch's shuffled `DataLoader` with `drop_last`: every epoch a new
/// permutation, batches of `batch_size` rows (all rows when fewer). Returns the mean batch loss of each
/// epoch.
fn train<N: Network>(
    net: &mut N,
    mut adam: Adam,
    z: &Array2<f32>,
    t: Training,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f64>> {
    let n = z.nrows();
    let batch = t.batch_size.min(n);
    let mut order: Vec<usize> = (0..n).collect();
    let mut history = Vec::with_capacity(t.epochs);
    for epoch in 0..t.epochs {
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut total = 0.0f64;
        let batches = n / batch;
        for b in 0..batches {
            let rows = &order[b * batch..(b + 1) * batch];
            let x = z.select(Axis(0), rows);
            adam.next_step();
            total += f64::from(net.step(x, &mut adam, rng));
        }
        let mean = total / batches as f64;
        if !mean.is_finite() {
            return Err(OutlierError::Numerical(format!(
                "training diverged in epoch {} (loss {mean}): lower learning_rate or scale the features",
                epoch + 1
            )));
        }
        history.push(mean);
    }
    Ok(history)
}

/// Row-wise Euclidean distance between two equally shaped batches (PyOD's
/// `pairwise_distances_no_broadcast`).
fn row_distances(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Vec<f64> {
    a.rows()
        .into_iter()
        .zip(b.rows())
        .map(|(r, s)| r.iter().zip(s).map(|(u, v)| f64::from(u - v).powi(2)).sum::<f64>().sqrt())
        .collect()
}

/// Scores every row in parallel blocks; `score` maps a block of network inputs (and the block's first row
/// index) to its scores.
fn score_blocks(z: &Array2<f32>, score: impl Fn(ArrayView2<'_, f32>) -> Vec<f64> + Sync) -> Vec<f64> {
    let starts: Vec<usize> = (0..z.nrows()).step_by(SCORE_BLOCK).collect();
    let parts: Vec<Vec<f64>> =
        starts.par_iter().map(|&s| score(z.slice(s![s..(s + SCORE_BLOCK).min(z.nrows()), ..]))).collect();
    parts.concat()
}

/// Forward through blocks in training mode, keeping the caches.
fn forward_all(layers: &mut [Dense], x: Array2<f32>, rng: &mut ChaCha8Rng) -> (Array2<f32>, Vec<layers::Cache>) {
    let mut caches = Vec::with_capacity(layers.len());
    let mut h = x;
    for l in layers.iter_mut() {
        let (out, c) = l.forward(h, rng);
        caches.push(c);
        h = out;
    }
    (h, caches)
}

/// Backward through blocks, updating each with Adam; returns the gradient at the input.
fn backward_all(
    layers: &mut [Dense],
    caches: Vec<layers::Cache>,
    moments: &mut [DenseMoments],
    d_out: Array2<f32>,
    adam: &Adam,
) -> Array2<f32> {
    let mut d = d_out;
    for ((l, c), m) in layers.iter_mut().zip(caches).zip(moments.iter_mut()).rev() {
        let (d_in, g) = l.backward(c, d);
        adam.apply(l, &g, m);
        d = d_in;
    }
    d
}

fn predict_all(layers: &[Dense], x: ArrayView2<'_, f32>) -> Array2<f32> {
    let mut h = x.to_owned();
    for l in layers {
        h = l.predict(h.view());
    }
    h
}

/// The mean squared error of a batch and its gradient with respect to the reconstruction.
fn mse(recon: &Array2<f32>, x: &Array2<f32>) -> (f32, Array2<f32>) {
    let diff = recon - x;
    let count = diff.len() as f32;
    let loss = diff.iter().map(|v| v * v).sum::<f32>() / count;
    (loss, diff * (2.0 / count))
}

fn check_chain(layers: &[Dense], inputs: usize) -> std::result::Result<usize, String> {
    layers.iter().try_fold(inputs, |w, l| l.check(w))
}

fn check_scaler(scaler: Option<&Standardisation>, width: usize) -> std::result::Result<(), String> {
    match scaler {
        Some(s) if s.mean.len() != width || s.std.len() != width => {
            Err(format!("a standardisation of {} columns for a {width}-column network", s.mean.len()))
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------------
// AutoEncoder

/// Parameters of PyOD's `AutoEncoder` (same defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoEncoderParams {
    /// Encoder widths (PyOD's `hidden_neuron_list`); the decoder mirrors them: `[64, 32]` gives
    /// `features → 64 → 32 → 64 → features`.
    pub hidden_neurons: Vec<usize>,
    /// Activation of the hidden blocks.
    pub hidden_activation: Activation,
    /// Batch normalisation in the hidden blocks.
    pub batch_norm: bool,
    /// Dropout probability of the hidden blocks, in [0, 1).
    pub dropout_rate: f64,
    /// Passes over the training rows (PyOD's `epoch_num`).
    pub epochs: usize,
    /// Rows per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate (PyOD's `lr`).
    pub learning_rate: f64,
    /// L2 weight decay added to every gradient (PyOD's `optimizer_params`).
    pub weight_decay: f64,
    /// Standardise the features first (PyOD's `preprocessing`).
    pub preprocessing: bool,
    /// Seed of the initial weights, the shuffles and the dropout masks.
    pub seed: u64,
}

impl Default for AutoEncoderParams {
    fn default() -> Self {
        AutoEncoderParams {
            hidden_neurons: vec![64, 32],
            hidden_activation: Activation::Relu,
            batch_norm: true,
            dropout_rate: 0.2,
            epochs: 10,
            batch_size: 32,
            learning_rate: 1e-3,
            weight_decay: 1e-5,
            preprocessing: true,
            seed: 0,
        }
    }
}

impl AutoEncoderParams {
    /// The detector's short name.
    pub fn name(&self) -> String {
        "autoencoder".into()
    }

    fn training(&self) -> Training {
        Training {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            weight_decay: self.weight_decay,
        }
    }

    /// Checks the layer widths and the training settings.
    pub fn validate(&self) -> Result<()> {
        check_layers("hidden_neurons", &self.hidden_neurons, false)?;
        check_training(self.training(), self.dropout_rate, self.batch_norm)
    }
}

/// A fitted [`AutoEncoderParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoEncoder {
    /// The parameters used.
    pub params: AutoEncoderParams,
    /// The standardisation (absent without `preprocessing`).
    pub scaler: Option<Standardisation>,
    /// The blocks, encoder then decoder; the last is the linear output layer.
    pub layers: Vec<Dense>,
    /// Mean training loss of each epoch.
    pub loss_history: Vec<f64>,
    training_scores: Vec<f64>,
}

struct AutoEncoderNet<'a> {
    layers: &'a mut Vec<Dense>,
    moments: Vec<DenseMoments>,
}

impl Network for AutoEncoderNet<'_> {
    fn step(&mut self, batch: Array2<f32>, adam: &mut Adam, rng: &mut ChaCha8Rng) -> f32 {
        let (recon, caches) = forward_all(self.layers, batch.clone(), rng);
        let (loss, d) = mse(&recon, &batch);
        backward_all(self.layers, caches, &mut self.moments, d, adam);
        loss
    }
}

impl Fit for AutoEncoderParams {
    type Fitted = AutoEncoder;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<AutoEncoder> {
        self.validate()?;
        let (scaler, z) = training_input("AutoEncoder", x, self.preprocessing)?;
        let d = x.ncols();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let dropout = self.dropout_rate as f32;
        let mut widths = vec![d];
        widths.extend(&self.hidden_neurons);
        widths.extend(self.hidden_neurons.iter().rev().skip(1));
        let mut layers: Vec<Dense> = widths
            .windows(2)
            .map(|w| Dense::new(w[0], w[1], self.hidden_activation, self.batch_norm, dropout, Init::Kaiming, &mut rng))
            .collect();
        let last = *widths.last().unwrap_or(&d);
        layers.push(Dense::new(last, d, Activation::Identity, false, 0.0, Init::Linear, &mut rng));
        let moments = layers.iter().map(DenseMoments::new).collect();
        let adam = Adam::new(self.learning_rate as f32, self.weight_decay as f32);
        let loss_history = {
            let mut net = AutoEncoderNet { layers: &mut layers, moments };
            train(&mut net, adam, &z, self.training(), &mut rng)?
        };
        let mut model = AutoEncoder { params: self.clone(), scaler, layers, loss_history, training_scores: Vec::new() };
        model.training_scores = model.score_network_input(&z);
        Ok(model)
    }
}

impl AutoEncoder {
    fn score_network_input(&self, z: &Array2<f32>) -> Vec<f64> {
        score_blocks(z, |b| row_distances(b, predict_all(&self.layers, b).view()))
    }

    /// Checks the shapes a model file could break.
    pub fn check(&self) -> std::result::Result<(), String> {
        let d = self.n_features();
        check_scaler(self.scaler.as_ref(), d)?;
        if check_chain(&self.layers, d)? != d || d == 0 {
            return Err("the autoencoder's output width is not its input width".into());
        }
        Ok(())
    }
}

reconstruction_model!(AutoEncoder, layers);

// ---------------------------------------------------------------------------------------------------
// VAE

/// Parameters of PyOD's `VAE` (same defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VaeParams {
    /// Encoder widths before the latent layers (PyOD's `encoder_neuron_list`).
    pub encoder_neurons: Vec<usize>,
    /// Decoder widths after the latent layer (PyOD's `decoder_neuron_list`; may be empty).
    pub decoder_neurons: Vec<usize>,
    /// Dimension of the latent space.
    pub latent_dim: usize,
    /// Activation of the hidden blocks.
    pub hidden_activation: Activation,
    /// Activation of the output layer.
    pub output_activation: Activation,
    /// Batch normalisation in the hidden blocks.
    pub batch_norm: bool,
    /// Dropout probability of the hidden blocks, in [0, 1).
    pub dropout_rate: f64,
    /// Weight of the KL divergence (β-VAE).
    pub beta: f64,
    /// Upper clamp of the KL divergence in the loss (PyOD's `capacity`; 0 removes the KL term).
    pub capacity: f64,
    /// Bounds of the latent log-variance (`None`: unclipped).
    pub logvar_clip: Option<[f64; 2]>,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per Adam step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// L2 weight decay added to every gradient.
    pub weight_decay: f64,
    /// Standardise the features first.
    pub preprocessing: bool,
    /// Seed of the initial weights, the shuffles, the dropout masks and the latent draws.
    pub seed: u64,
}

impl Default for VaeParams {
    fn default() -> Self {
        VaeParams {
            encoder_neurons: vec![128, 64, 32],
            decoder_neurons: vec![32, 64, 128],
            latent_dim: 2,
            hidden_activation: Activation::Relu,
            output_activation: Activation::Identity,
            batch_norm: false,
            dropout_rate: 0.2,
            beta: 1.0,
            capacity: 0.0,
            logvar_clip: Some([-30.0, 20.0]),
            epochs: 30,
            batch_size: 32,
            learning_rate: 1e-3,
            weight_decay: 1e-5,
            preprocessing: true,
            seed: 0,
        }
    }
}

impl VaeParams {
    /// The detector's short name.
    pub fn name(&self) -> String {
        "vae".into()
    }

    fn training(&self) -> Training {
        Training {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            weight_decay: self.weight_decay,
        }
    }

    /// Checks the layer widths, the loss weights and the training settings.
    pub fn validate(&self) -> Result<()> {
        check_layers("encoder_neurons", &self.encoder_neurons, false)?;
        check_layers("decoder_neurons", &self.decoder_neurons, true)?;
        if self.latent_dim == 0 {
            return Err(OutlierError::param("latent_dim", "must be at least 1"));
        }
        for (name, v) in [("beta", self.beta), ("capacity", self.capacity)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(OutlierError::param(name, format!("{v} is not a number >= 0")));
            }
        }
        if let Some([lo, hi]) = self.logvar_clip
            && lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less)
        {
            return Err(OutlierError::param(
                "logvar_clip",
                format!("[{lo}, {hi}]: the lower bound must be below the upper"),
            ));
        }
        check_training(self.training(), self.dropout_rate, self.batch_norm)
    }
}

/// A fitted [`VaeParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vae {
    /// The parameters used.
    pub params: VaeParams,
    /// The standardisation (absent without `preprocessing`).
    pub scaler: Option<Standardisation>,
    /// Encoder blocks.
    pub encoder: Vec<Dense>,
    /// Latent mean layer.
    pub mu: Dense,
    /// Latent log-variance layer.
    pub logvar: Dense,
    /// Decoder blocks; the last is the output layer.
    pub decoder: Vec<Dense>,
    /// Mean training loss of each epoch.
    pub loss_history: Vec<f64>,
    training_scores: Vec<f64>,
}

struct VaeNet<'a> {
    encoder: &'a mut Vec<Dense>,
    mu: &'a mut Dense,
    logvar: &'a mut Dense,
    decoder: &'a mut Vec<Dense>,
    moments: [Vec<DenseMoments>; 4],
    beta: f32,
    capacity: f32,
    clip: Option<(f32, f32)>,
}

fn clip(v: f32, c: Option<(f32, f32)>) -> f32 {
    c.map_or(v, |(lo, hi)| v.clamp(lo, hi))
}

impl Network for VaeNet<'_> {
    fn step(&mut self, batch: Array2<f32>, adam: &mut Adam, rng: &mut ChaCha8Rng) -> f32 {
        let (h, enc_caches) = forward_all(self.encoder, batch.clone(), rng);
        let (mu, mu_cache) = self.mu.forward(h.clone(), rng);
        let (lv, lv_cache) = self.logvar.forward(h, rng);
        let lvc = lv.mapv(|v| clip(v, self.clip));
        let std = lvc.mapv(|v| (0.5 * v).exp());
        let eps = Array2::from_shape_simple_fn(mu.raw_dim(), || standard_normal(rng) as f32);
        let z = &mu + &(&eps * &std);
        let (recon, dec_caches) = forward_all(self.decoder, z, rng);
        let (recon_loss, d_recon) = mse(&recon, &batch);
        let rows = mu.nrows() as f32;
        let kl = ndarray::Zip::from(&lvc).and(&mu).fold(0.0f32, |acc, &l, &m| acc - 0.5 * (1.0 + l - m * m - l.exp()))
            / rows;
        // PyOD clamps the KL term to [0, capacity]; a clamped value passes no gradient.
        let kl_grad = if (0.0..=self.capacity).contains(&kl) { self.beta } else { 0.0 };
        let loss = recon_loss + self.beta * kl.clamp(0.0, self.capacity);

        let [enc_m, mu_m, lv_m, dec_m] = &mut self.moments;
        let dz = backward_all(self.decoder, dec_caches, dec_m, d_recon, adam);
        let d_mu = &dz + &(&mu * (kl_grad / rows));
        let mut d_lv = ndarray::Zip::from(&dz)
            .and(&eps)
            .and(&std)
            .and(&lvc)
            .map_collect(|&g, &e, &s, &l| g * e * 0.5 * s + kl_grad / rows * 0.5 * (l.exp() - 1.0));
        if let Some((lo, hi)) = self.clip {
            ndarray::Zip::from(&mut d_lv).and(&lv).for_each(|g, &v| {
                if !(lo..=hi).contains(&v) {
                    *g = 0.0;
                }
            });
        }
        let (dh_mu, g_mu) = self.mu.backward(mu_cache, d_mu);
        adam.apply(self.mu, &g_mu, &mut mu_m[0]);
        let (dh_lv, g_lv) = self.logvar.backward(lv_cache, d_lv);
        adam.apply(self.logvar, &g_lv, &mut lv_m[0]);
        backward_all(self.encoder, enc_caches, enc_m, dh_mu + dh_lv, adam);
        loss
    }
}

impl Fit for VaeParams {
    type Fitted = Vae;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Vae> {
        self.validate()?;
        let (scaler, z) = training_input("VAE", x, self.preprocessing)?;
        let d = x.ncols();
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let dropout = self.dropout_rate as f32;
        let (act, bn) = (self.hidden_activation, self.batch_norm);
        let mut widths = vec![d];
        widths.extend(&self.encoder_neurons);
        let mut encoder: Vec<Dense> =
            widths.windows(2).map(|w| Dense::new(w[0], w[1], act, bn, dropout, Init::Kaiming, &mut rng)).collect();
        let h = *widths.last().unwrap_or(&d);
        let mut mu = Dense::new(h, self.latent_dim, Activation::Identity, false, 0.0, Init::Linear, &mut rng);
        let mut logvar = Dense::new(h, self.latent_dim, Activation::Identity, false, 0.0, Init::Linear, &mut rng);
        let mut widths = vec![self.latent_dim];
        widths.extend(&self.decoder_neurons);
        let mut decoder: Vec<Dense> =
            widths.windows(2).map(|w| Dense::new(w[0], w[1], act, bn, dropout, Init::Kaiming, &mut rng)).collect();
        let last = *widths.last().unwrap_or(&self.latent_dim);
        decoder.push(Dense::new(last, d, self.output_activation, false, 0.0, Init::Kaiming, &mut rng));
        let moments = [
            encoder.iter().map(DenseMoments::new).collect(),
            vec![DenseMoments::new(&mu)],
            vec![DenseMoments::new(&logvar)],
            decoder.iter().map(DenseMoments::new).collect(),
        ];
        let adam = Adam::new(self.learning_rate as f32, self.weight_decay as f32);
        let loss_history = {
            let mut net = VaeNet {
                encoder: &mut encoder,
                mu: &mut mu,
                logvar: &mut logvar,
                decoder: &mut decoder,
                moments,
                beta: self.beta as f32,
                capacity: self.capacity as f32,
                clip: self.logvar_clip.map(|[lo, hi]| (lo as f32, hi as f32)),
            };
            train(&mut net, adam, &z, self.training(), &mut rng)?
        };
        let mut model = Vae {
            params: self.clone(),
            scaler,
            encoder,
            mu,
            logvar,
            decoder,
            loss_history,
            training_scores: Vec::new(),
        };
        model.training_scores = model.score_network_input(&z);
        Ok(model)
    }
}

/// A seed for the latent draw of one row: the detector's seed mixed with the row's bits (SplitMix64
/// steps), so equal rows draw alike wherever they are scored.
fn row_seed(seed: u64, row: ndarray::ArrayView1<'_, f32>) -> u64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    row.iter().fold(mix(seed ^ 0x9e37_79b9_7f4a_7c15), |h, v| {
        mix(h ^ u64::from(v.to_bits())).wrapping_add(0x9e37_79b9_7f4a_7c15)
    })
}

impl Vae {
    fn score_network_input(&self, z: &Array2<f32>) -> Vec<f64> {
        let clip_bounds = self.params.logvar_clip.map(|[lo, hi]| (lo as f32, hi as f32));
        score_blocks(z, |b| {
            let h = predict_all(&self.encoder, b);
            let mu = self.mu.predict(h.view());
            let lv = self.logvar.predict(h.view());
            let mut latent = mu;
            for (i, mut row) in latent.rows_mut().into_iter().enumerate() {
                let mut rng = ChaCha8Rng::seed_from_u64(row_seed(self.params.seed, b.row(i)));
                for (m, &l) in row.iter_mut().zip(lv.row(i)) {
                    *m += standard_normal(&mut rng) as f32 * (0.5 * clip(l, clip_bounds)).exp();
                }
            }
            row_distances(b, predict_all(&self.decoder, latent.view()).view())
        })
    }

    /// Checks the shapes a model file could break.
    pub fn check(&self) -> std::result::Result<(), String> {
        let d = self.n_features();
        check_scaler(self.scaler.as_ref(), d)?;
        let h = check_chain(&self.encoder, d)?;
        let latent = self.mu.check(h)?;
        if self.logvar.check(h)? != latent {
            return Err("the VAE's mean and log-variance layers differ in width".into());
        }
        if check_chain(&self.decoder, latent)? != d || d == 0 {
            return Err("the VAE's output width is not its input width".into());
        }
        Ok(())
    }
}

reconstruction_model!(Vae, encoder);

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(n: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, 4), |(i, j)| {
            let (a, b) = ((i % 17) as f64, (i % 13) as f64);
            [a, b, a + b, a - b][j]
        })
    }

    #[test]
    fn the_reconstruction_error_decreases() {
        let x = plane(400);
        let ae = AutoEncoderParams { epochs: 30, seed: 3, ..Default::default() }.fit(x.view()).unwrap();
        let h = &ae.loss_history;
        assert_eq!(h.len(), 30);
        assert!(h[29] < 0.5 * h[0], "{h:?}");
        let vae = VaeParams { epochs: 30, seed: 3, ..Default::default() }.fit(x.view()).unwrap();
        let h = &vae.loss_history;
        assert!(h[29] < 0.7 * h[0], "{h:?}");
    }

    #[test]
    fn the_kl_term_trains_when_capacity_allows_it() {
        // With room for the KL term the latent code is pulled towards N(0, 1): its log-variances rise
        // from the very negative values a reconstruction-only fit drives them to.
        let x = plane(300);
        let lv_mean = |p: VaeParams| {
            let m = p.fit(x.view()).unwrap();
            let z = network_input(x.view(), m.scaler.as_ref());
            let h = predict_all(&m.encoder, z.view());
            m.logvar.predict(h.view()).mean().unwrap()
        };
        let free = lv_mean(VaeParams { epochs: 20, seed: 1, ..Default::default() });
        let kl = lv_mean(VaeParams { epochs: 20, seed: 1, capacity: 1e6, ..Default::default() });
        assert!(kl > free + 0.5, "with KL {kl}, without {free}");
    }

    #[test]
    fn bad_parameters_and_model_files_are_refused() {
        let x = plane(50);
        for p in [
            AutoEncoderParams { hidden_neurons: vec![], ..Default::default() },
            AutoEncoderParams { hidden_neurons: vec![4, 0], ..Default::default() },
            AutoEncoderParams { dropout_rate: 1.0, ..Default::default() },
            AutoEncoderParams { batch_size: 1, ..Default::default() },
            AutoEncoderParams { learning_rate: f64::NAN, ..Default::default() },
        ] {
            assert!(p.fit(x.view()).is_err(), "{p:?}");
        }
        assert!(
            AutoEncoderParams { batch_size: 1, batch_norm: false, epochs: 1, ..Default::default() }
                .fit(x.view())
                .is_ok()
        );
        for p in [
            VaeParams { latent_dim: 0, ..Default::default() },
            VaeParams { logvar_clip: Some([1.0, 1.0]), ..Default::default() },
            VaeParams { capacity: f64::INFINITY, ..Default::default() },
            VaeParams { encoder_neurons: vec![], ..Default::default() },
        ] {
            assert!(p.fit(x.view()).is_err(), "{p:?}");
        }
        assert!(VaeParams { decoder_neurons: vec![], epochs: 1, ..Default::default() }.fit(x.view()).is_ok());
        assert!(AutoEncoderParams::default().fit(x.slice(s![..1, ..])).is_err());

        let mut m = AutoEncoderParams { epochs: 1, ..Default::default() }.fit(x.view()).unwrap();
        assert!(m.check().is_ok());
        m.layers[1].bias = ndarray::Array1::zeros(3);
        assert!(m.check().is_err());
        let mut v = VaeParams { epochs: 1, ..Default::default() }.fit(x.view()).unwrap();
        assert!(v.check().is_ok());
        v.logvar = v.mu.clone();
        assert!(v.check().is_ok());
        v.decoder.pop();
        assert!(v.check().is_err());
    }

    #[test]
    fn a_row_scores_the_same_in_any_batch() {
        let x = plane(200);
        let v = VaeParams { epochs: 2, seed: 4, ..Default::default() }.fit(x.view()).unwrap();
        let all = v.score_samples(x.view()).unwrap();
        assert_eq!(all, v.training_scores());
        let some = v.score_samples(x.slice(s![150..160, ..])).unwrap();
        assert_eq!(&some[..], &all[150..160]);
    }
}
