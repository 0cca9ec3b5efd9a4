//! k-means parameters.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use outflow_core::{InputError, check_matrix, check_width};

use crate::error::{ClusterError, Result};

/// How the initial centres are chosen.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KMeansInit {
    /// Greedy k-means++ as scikit-learn: each new centre is the best (lowest potential) of
    /// `2 + ⌊ln k⌋` candidates sampled with probability ∝ D².
    #[default]
    KMeansPlusPlus,
    /// `k` distinct rows drawn uniformly.
    Random,
    /// Explicit centres (`k` rows × features); implies one run.
    Centres(Array2<f64>),
}

/// The iteration algorithm. Both give identical results; they differ in speed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KMeansAlgorithm {
    /// Hamerly (measured faster on flow-like data; see `benches/`).
    #[default]
    Auto,
    /// Lloyd: every point against every centre, every iteration.
    Lloyd,
    /// Hamerly (2010): one upper and one lower bound per point skip most distance evaluations.
    Hamerly,
}

/// k-means parameters.
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, Fit, KMeansParams, Predict};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [10.0, 10.0], [10.0, 11.0], [11.0, 10.0]];
/// let model = KMeansParams::new(2).seed(7).n_init(3).fit(x.view()).unwrap();
/// assert_eq!(model.labels()[0], model.labels()[2]);
/// assert_ne!(model.labels()[0], model.labels()[3]);
/// assert!((model.inertia() - 8.0 / 3.0).abs() < 1e-12);
/// assert_eq!(model.predict(array![[9.0, 9.0]].view()).unwrap()[0], model.labels()[3]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KMeansParams {
    /// Number of clusters (1 ≤ k ≤ rows).
    pub k: usize,
    /// Initialisation.
    pub init: KMeansInit,
    /// Independent runs; the lowest inertia wins (default 1, scikit-learn's `n_init="auto"` for
    /// k-means++). Forced to 1 with explicit centres.
    pub n_init: usize,
    /// Iterations per run (default 300).
    pub max_iter: usize,
    /// Relative tolerance (default 1e-4), scaled by the mean feature variance as scikit-learn does.
    pub tol: f64,
    /// Seed of the random initialisations.
    pub seed: u64,
    /// Lloyd or Hamerly.
    pub algorithm: KMeansAlgorithm,
    /// Record the inertia after every iteration of the winning run ([`KMeans::inertia_history`](crate::KMeans::inertia_history));
    /// costs one extra pass per iteration.
    pub track_inertia: bool,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            k: 8,
            init: KMeansInit::KMeansPlusPlus,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            algorithm: KMeansAlgorithm::Auto,
            track_inertia: false,
        }
    }
}

impl KMeansParams {
    /// Defaults with `k` clusters.
    pub fn new(k: usize) -> Self {
        KMeansParams { k, ..Default::default() }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the number of runs.
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }

    /// Sets the iteration cap.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Sets the relative tolerance.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the initialisation.
    pub fn init(mut self, init: KMeansInit) -> Self {
        self.init = init;
        self
    }

    /// Starts from explicit centres (one run).
    pub fn init_centres(self, c: Array2<f64>) -> Self {
        self.init(KMeansInit::Centres(c))
    }

    /// Sets the algorithm.
    pub fn algorithm(mut self, a: KMeansAlgorithm) -> Self {
        self.algorithm = a;
        self
    }

    /// Records the inertia of every iteration.
    pub fn track_inertia(mut self, yes: bool) -> Self {
        self.track_inertia = yes;
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        if self.k == 0 {
            return bad("k", "must be at least 1".into());
        }
        if self.n_init == 0 {
            return bad("n_init", "must be at least 1".into());
        }
        if self.max_iter == 0 {
            return bad("max_iter", "must be at least 1".into());
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return bad("tol", format!("must be finite and ≥ 0, got {}", self.tol));
        }
        if let KMeansInit::Centres(c) = &self.init {
            if c.nrows() != self.k {
                return bad("init", format!("{} initial centres given for k = {}", c.nrows(), self.k));
            }
            if let Some(i) = c.iter().position(|v| !v.is_finite()) {
                return bad("init", format!("initial centre {} has a non-finite value", i / c.ncols().max(1)));
            }
        }
        Ok(())
    }

    pub(super) fn validate_for(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        if self.k > x.nrows() {
            return Err(InputError::too_few_rows(format!("k-means with k = {}", self.k), self.k, x.nrows()).into());
        }
        if let KMeansInit::Centres(c) = &self.init {
            check_width(c.ncols(), x.ncols())?;
        }
        Ok(())
    }
}
