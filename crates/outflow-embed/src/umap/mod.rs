//! UMAP with umap-learn 0.5's definition, defaults and `transform`.
//!
//! 1. **Neighbours**: the `n_neighbors − 1` exact nearest other rows of every row under `metric`, the row
//!    itself first (umap-learn searches exactly below 4,096 rows and with NN-descent above; exact search
//!    here at every size, over outflow-cluster's kd-tree or a scan for metrics without one).
//! 2. **Fuzzy graph**: per row, `rho` = distance to the nearest non-identical neighbour and a bandwidth
//!    `sigma` with `Σ exp(−(d − rho)/sigma) = log2(n_neighbors)`; memberships joined by the fuzzy union
//!    `A + Aᵀ − A∘Aᵀ` (`set_op_mix_ratio` 1).
//! 3. **Start**: spectral (the normalised Laplacian's eigenvectors; components laid out apart), PCA or
//!    uniform on ±10; scaled so the largest coordinate is 10 with 1e-4 noise, then each axis to [0, 10].
//! 4. **Layout**: `n_epochs` (500 up to 10,000 rows, else 200) of stochastic gradient descent on the fuzzy
//!    cross-entropy with the curve `1 / (1 + a·d^(2b))` fitted to `min_dist` and `spread`; edges lighter
//!    than `max / n_epochs` dropped, `negative_sample_rate` negative samples per positive one.
//!
//! **Determinism and threads.** umap-learn is deterministic only single-threaded (a `random_state` turns
//! its parallel, racy descent off). Here the descent is parallel and still deterministic: in each epoch
//! every vertex moves along its own edges against the other vertices' positions at the start of the epoch,
//! taking an edge's pull twice where umap-learn moves both ends of each of the edge's two directions, and
//! draws its negative samples from its own random stream (up to eight against one position, so their
//! powers are computed side by side; powers are polynomial, within 1e-5 of libm's). An embedding is a
//! function of the data and the seed, whatever the thread count; its trustworthiness equals umap-learn's
//! within 0.002 on the reference shapes.
//!
//! **New rows** ([`Umap::transform`]): their `n_neighbors` nearest training rows with `local_connectivity −
//! 1` (umap-learn's rule), the start at the membership-weighted mean of those rows' positions (or at an
//! identical row's; a bandwidth floored by the row's own mean distance, where umap-learn takes the
//! batch's), then `n_epochs / 3` epochs (100 by default) moving only the new row at a quarter of the
//! learning rate. Unlike umap-learn — whose epoch count and edge pruning depend on the batch — every row is
//! placed on its own with its own random stream drawn from its values, so a row's position does not depend
//! on the rest of its batch, on its place in it or on the thread count: scoring a flow alone or in a
//! million gives the same map.

mod curve;
mod graph;
mod layout;
mod spectral;

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_cluster::{Metric, NearestNeighbors};
use outflow_core::{Fit, InputError, Transform, check_matrix, check_query};

use self::graph::{Floor, fuzzy_simplicial_set, membership, smooth_knn_dist};
use self::layout::{Schedule, Sgd, VertexRng};
use crate::error::{EmbedError, Result};

pub use self::curve::find_ab_params;

/// How the layout starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UmapInit {
    /// Eigenvectors of the fuzzy graph's normalised Laplacian (umap-learn's default).
    #[default]
    Spectral,
    /// The first principal components of the input.
    Pca,
    /// Uniform draws on [−10, 10] from the seed.
    Random,
}

/// Parameters of UMAP (umap-learn's names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UmapParams {
    /// Size of the neighbourhood, the row itself included: at least 2 and below the number of rows.
    pub n_neighbors: usize,
    /// Dimensions of the embedding, at least 1.
    pub n_components: usize,
    /// Distance of the input space (any of outflow-cluster's metrics but `precomputed`).
    pub metric: Metric,
    /// Smallest distance between embedded points: in [0, `spread`].
    pub min_dist: f64,
    /// Scale of the embedded points, > 0.
    pub spread: f64,
    /// Epochs of the layout; `None`: 500 up to 10,000 rows, else 200.
    pub n_epochs: Option<usize>,
    /// Initial step of the descent, > 0.
    pub learning_rate: f64,
    /// Start of the layout.
    pub init: UmapInit,
    /// Neighbours assumed connected at full strength (≥ 0).
    pub local_connectivity: f64,
    /// Mix of fuzzy union (1) and intersection (0) when symmetrising, in [0, 1].
    pub set_op_mix_ratio: f64,
    /// Weight of the negative samples, ≥ 0.
    pub repulsion_strength: f64,
    /// Negative samples per positive sample.
    pub negative_sample_rate: usize,
    /// Seed of the start and the negative samples.
    pub seed: u64,
}

impl Default for UmapParams {
    fn default() -> Self {
        UmapParams {
            n_neighbors: 15,
            n_components: 2,
            metric: Metric::Euclidean,
            min_dist: 0.1,
            spread: 1.0,
            n_epochs: None,
            learning_rate: 1.0,
            init: UmapInit::Spectral,
            local_connectivity: 1.0,
            set_op_mix_ratio: 1.0,
            repulsion_strength: 1.0,
            negative_sample_rate: 5,
            seed: 0,
        }
    }
}

impl UmapParams {
    /// Checks the parameters alone (`n_neighbors` against the rows is checked by `fit`).
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, why: String| Err(EmbedError::from(InputError::param(name, why)));
        if self.n_neighbors < 2 {
            return bad("n_neighbors", format!("{} is below 2", self.n_neighbors));
        }
        if self.n_components < 1 {
            return bad("n_components", "must be at least 1".into());
        }
        if self.metric == Metric::Precomputed {
            return bad("metric", "precomputed distances have no coordinates to embed new rows with".into());
        }
        if !(self.spread > 0.0 && self.spread.is_finite()) {
            return bad("spread", format!("{} is not a positive number", self.spread));
        }
        if !(self.min_dist >= 0.0 && self.min_dist <= self.spread) {
            return bad("min_dist", format!("{} is not in [0, spread = {}]", self.min_dist, self.spread));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", format!("{} is not a positive number", self.learning_rate));
        }
        if !(self.local_connectivity >= 0.0 && self.local_connectivity.is_finite()) {
            return bad("local_connectivity", format!("{} is below 0", self.local_connectivity));
        }
        if !(0.0..=1.0).contains(&self.set_op_mix_ratio) {
            return bad("set_op_mix_ratio", format!("{} is not in [0, 1]", self.set_op_mix_ratio));
        }
        if !(self.repulsion_strength >= 0.0 && self.repulsion_strength.is_finite()) {
            return bad("repulsion_strength", format!("{} is below 0", self.repulsion_strength));
        }
        Ok(())
    }

    /// Epochs of the layout for `n` rows.
    pub fn epochs_for(&self, n: usize) -> usize {
        self.n_epochs.unwrap_or(if n <= 10_000 { 500 } else { 200 })
    }
}

/// UMAP's fuzzy graph of a set of rows (umap-learn's `graph_`, `_sigmas`, `_rhos`), before the edges too
/// light for the epoch count are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzyGraph {
    /// `(row, column, membership)`, rows ascending then columns ascending; symmetric.
    pub edges: Vec<(usize, usize, f32)>,
    /// Every row's bandwidth.
    pub sigmas: Vec<f32>,
    /// Every row's distance to its nearest non-identical neighbour (for `local_connectivity` 1).
    pub rhos: Vec<f32>,
}

/// A fitted UMAP: the embedding of the training rows, and what [`Transform`] needs to place new ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "UmapFile", into = "UmapFile")]
pub struct Umap {
    /// One row per training row, `n_components` columns.
    pub embedding: Array2<f64>,
    params: UmapParams,
    a: f64,
    b: f64,
    train: Array2<f64>,
    index: NearestNeighbors,
}

/// What a model file keeps of a [`Umap`]: the neighbour index is rebuilt from the training rows.
#[derive(Serialize, Deserialize)]
struct UmapFile {
    params: UmapParams,
    a: f64,
    b: f64,
    #[serde(with = "outflow_core::codec::matrix")]
    train: Array2<f64>,
    #[serde(with = "outflow_core::codec::matrix")]
    embedding: Array2<f64>,
}

impl From<Umap> for UmapFile {
    fn from(u: Umap) -> Self {
        UmapFile { params: u.params, a: u.a, b: u.b, train: u.train, embedding: u.embedding }
    }
}

impl TryFrom<UmapFile> for Umap {
    type Error = EmbedError;
    fn try_from(f: UmapFile) -> Result<Self> {
        f.params.validate()?;
        check_matrix(f.train.view())?;
        if f.embedding.nrows() != f.train.nrows() || f.embedding.ncols() != f.params.n_components {
            return Err(InputError::param(
                "embedding",
                format!(
                    "{} × {} does not match {} training rows and {} components",
                    f.embedding.nrows(),
                    f.embedding.ncols(),
                    f.train.nrows(),
                    f.params.n_components
                ),
            )
            .into());
        }
        let index = NearestNeighbors::fit(f.train.view(), f.params.metric)?;
        Ok(Umap { embedding: f.embedding, params: f.params, a: f.a, b: f.b, train: f.train, index })
    }
}

impl Umap {
    /// The parameters it was fitted with.
    pub fn params(&self) -> &UmapParams {
        &self.params
    }

    /// The fitted curve `1 / (1 + a·d^(2b))`: `(a, b)`.
    pub fn curve(&self) -> (f64, f64) {
        (self.a, self.b)
    }

    /// Number of input columns.
    pub fn n_features(&self) -> usize {
        self.train.ncols()
    }
}

/// `n × k` neighbour indices and distances (single precision), the row itself first.
fn self_neighbours(index: &NearestNeighbors, k: usize) -> Result<(Vec<u32>, Vec<f32>)> {
    let (d, i) = index.kneighbors_self(k - 1)?;
    let n = d.nrows();
    let (mut idx, mut dist) = (Vec::with_capacity(n * k), Vec::with_capacity(n * k));
    for r in 0..n {
        idx.push(r as u32);
        dist.push(0.0);
        for c in 0..k - 1 {
            idx.push(i[[r, c]] as u32);
            dist.push(d[[r, c]] as f32);
        }
    }
    Ok((idx, dist))
}

/// Scales so the largest coordinate is 10 and adds N(0, 1e-4²) noise (umap-learn's `noisy_scale_coords`).
fn noisy_scale(coords: &mut [f64], rng: &mut ChaCha8Rng) {
    let max = coords.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { 10.0 / max } else { 1.0 };
    for c in coords.iter_mut() {
        *c = f64::from((*c * scale) as f32) + 1e-4 * outflow_core::standard_normal(rng);
    }
}

impl UmapParams {
    /// The fuzzy graph of `x` under these parameters.
    pub fn fuzzy_graph(&self, x: ArrayView2<'_, f64>) -> Result<FuzzyGraph> {
        let (_, idx, dist) = self.neighbours(x)?;
        let k = self.n_neighbors;
        let g = fuzzy_simplicial_set(&idx, &dist, k, self.local_connectivity, self.set_op_mix_ratio);
        let (sigmas, rhos) = smooth_knn_dist(&dist, k, self.local_connectivity, Floor::Fit);
        let edges = (0..g.n).flat_map(|i| {
            let (c, v) = g.row(i);
            c.iter().zip(v).map(move |(&j, &w)| (i, j as usize, w)).collect::<Vec<_>>()
        });
        Ok(FuzzyGraph { edges: edges.collect(), sigmas, rhos })
    }

    /// Checks `x` against the parameters and finds every row's neighbours (itself first).
    fn neighbours(&self, x: ArrayView2<'_, f64>) -> Result<(NearestNeighbors, Vec<u32>, Vec<f32>)> {
        self.validate()?;
        check_matrix(x)?;
        let (n, dim, k) = (x.nrows(), self.n_components, self.n_neighbors);
        if k >= n {
            return Err(
                InputError::param("n_neighbors", format!("{k} must be less than the number of rows ({n})")).into()
            );
        }
        if n < dim + 2 {
            return Err(InputError::too_few_rows("UMAP", dim + 2, n).into());
        }
        let index = NearestNeighbors::fit(x, self.metric)?;
        let (idx, dist) = self_neighbours(&index, k)?;
        Ok((index, idx, dist))
    }

    /// The descent for curve `(a, b)`: the fit's (`learning_rate`, every epoch) and `transform`'s (a
    /// quarter of the rate, a third of the epochs) differ only in their step and length.
    fn sgd(&self, (a, b): (f64, f64), n_epochs: usize, alpha: f64) -> Sgd {
        Sgd {
            a: a as f32,
            b: b as f32,
            gamma: self.repulsion_strength as f32,
            initial_alpha: alpha as f32,
            negative_sample_rate: self.negative_sample_rate as f64,
            n_epochs,
        }
    }
}

impl Fit for UmapParams {
    type Fitted = Umap;
    type Error = EmbedError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Umap> {
        let (index, idx, dist) = self.neighbours(x)?;
        let (n, dim, k) = (x.nrows(), self.n_components, self.n_neighbors);
        let mut g = fuzzy_simplicial_set(&idx, &dist, k, self.local_connectivity, self.set_op_mix_ratio);
        let n_epochs = self.epochs_for(n);
        let default_epochs = if n <= 10_000 { 500 } else { 200 };
        let max_w = g.values.iter().copied().fold(0.0f32, f32::max);
        let cut = max_w / (if n_epochs > 10 { n_epochs } else { default_epochs }) as f32;
        g.retain(|v| v >= cut);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut start = match self.init {
            UmapInit::Spectral => {
                let mut s = spectral::spectral_layout(&g, dim, x, self.metric, &mut rng);
                noisy_scale(&mut s, &mut rng);
                s
            }
            UmapInit::Pca => {
                let mut s: Vec<f64> = crate::pca_start(x, dim)?.iter().copied().collect();
                noisy_scale(&mut s, &mut rng);
                s
            }
            UmapInit::Random => (0..n * dim).map(|_| rng.random_range(-10.0..10.0)).collect(),
        };
        // Each axis to [0, 10].
        for d in 0..dim {
            let (lo, hi) = (0..n)
                .map(|i| start[i * dim + d])
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
            let span = hi - lo;
            for i in 0..n {
                let v = &mut start[i * dim + d];
                *v = if span > 0.0 { 10.0 * (*v - lo) / span } else { 0.0 };
            }
        }
        let mut emb: Vec<f32> = start.iter().map(|&v| v as f32).collect();
        let (a, b) = find_ab_params(self.spread, self.min_dist);
        let max_w = g.values.iter().copied().fold(0.0f32, f32::max);
        let mut sched = Schedule::new(&g.values, max_w, n_epochs, self.negative_sample_rate as f64);
        let sgd = self.sgd((a, b), n_epochs, self.learning_rate);
        sgd.fit(&mut emb, dim, &g.indptr, &g.indices, &mut sched, rng.random());
        if emb.iter().any(|v| !v.is_finite()) {
            return Err(EmbedError::Numerical("UMAP diverged (non-finite positions): lower the learning rate".into()));
        }
        let embedding =
            Array2::from_shape_vec((n, dim), emb.iter().map(|&v| f64::from(v)).collect()).expect("n × dim positions");
        Ok(Umap { embedding, params: self.clone(), a, b, train: x.to_owned(), index })
    }
}

/// A stream seed from a row's values, so a new row's negative samples depend on the row alone.
fn row_seed(seed: u64, row: &[f64]) -> u64 {
    row.iter()
        .fold(seed ^ 0x243F_6A88_85A3_08D3, |h, v| (h ^ v.to_bits()).wrapping_mul(0x0100_0000_01B3).rotate_left(29))
}

impl Transform for Umap {
    type Error = EmbedError;

    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_query(x, self.train.ncols())?;
        let (m, dim, k) = (x.nrows(), self.params.n_components, self.params.n_neighbors);
        if m == 0 {
            return Ok(Array2::zeros((0, dim)));
        }
        let (d, i) = self.index.kneighbors(x, k)?;
        let dists: Vec<f32> = d.iter().map(|&v| v as f32).collect();
        let lc = (self.params.local_connectivity - 1.0).max(0.0);
        let (sigma, rho) = smooth_knn_dist(&dists, k, lc, Floor::PerRow);
        let n_epochs = self.params.n_epochs.map_or(100, |e| e / 3);
        let sgd = self.params.sgd((self.a, self.b), n_epochs, self.params.learning_rate / 4.0);
        let fixed: Vec<f32> = self.embedding.iter().map(|&v| v as f32).collect();
        let x = x.as_standard_layout();
        let rows: Vec<Vec<f32>> = (0..m)
            .into_par_iter()
            .with_min_len(16)
            .map(|r| {
                let mut tails = Vec::with_capacity(k);
                let mut w = Vec::with_capacity(k);
                for c in 0..k {
                    let v = membership(dists[r * k + c], rho[r], sigma[r]);
                    if v > 0.0 {
                        tails.push(i[[r, c]] as u32);
                        w.push(v);
                    }
                }
                if tails.is_empty() {
                    tails.push(i[[r, 0]] as u32);
                    w.push(1.0);
                }
                let mut point = vec![0.0f32; dim];
                if let Some(p) = w.iter().position(|&v| v == 1.0) {
                    point.copy_from_slice(&fixed[tails[p] as usize * dim..(tails[p] as usize + 1) * dim]);
                } else {
                    let total: f32 = w.iter().sum();
                    for (&t, &v) in tails.iter().zip(&w) {
                        for dd in 0..dim {
                            point[dd] += v / total * fixed[t as usize * dim + dd];
                        }
                    }
                }
                if n_epochs > 0 {
                    let max_w = w.iter().copied().fold(0.0f32, f32::max);
                    let cut = max_w / n_epochs as f32;
                    let keep: Vec<usize> = (0..w.len()).filter(|&c| w[c] >= cut).collect();
                    let tails: Vec<u32> = keep.iter().map(|&c| tails[c]).collect();
                    let w: Vec<f32> = keep.iter().map(|&c| w[c]).collect();
                    let mut sched = Schedule::new(&w, max_w, n_epochs, sgd.negative_sample_rate);
                    let mut rng = VertexRng::new(row_seed(self.params.seed, x.row(r).as_slice().expect("standard")), 0);
                    sgd.place(&mut point, &fixed, &tails, &mut sched, &mut rng);
                }
                point
            })
            .collect();
        let out: Vec<f64> = rows.iter().flatten().map(|&v| f64::from(v)).collect();
        if out.iter().any(|v| !v.is_finite()) {
            return Err(EmbedError::Numerical("UMAP transform left non-finite positions".into()));
        }
        Ok(Array2::from_shape_vec((m, dim), out).expect("m × dim positions"))
    }
}
