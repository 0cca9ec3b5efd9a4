//! k-means: scikit-learn's k-means++ (greedy, `2 + ⌊ln k⌋` local trials), Lloyd's iterations with
//! scikit-learn's convergence rules, and Hamerly's bound-based acceleration producing the very same
//! iterates.
//!
//! Conventions (as scikit-learn's `KMeans`):
//! - `tol` is relative: iterations stop when the sum over centres of the squared centre shift is
//!   `≤ tol · mean(var(X, axis=0))`, or at once when no label changed ("strict convergence"); without
//!   strict convergence the labels are recomputed against the final centres;
//! - an emptied cluster is re-seeded with the point farthest from its centre (ties: lower row first);
//! - of `n_init` runs the one with the smallest inertia wins (the first one on ties);
//! - explicit initial centres imply a single run.
//!
//! Exactness and determinism: every pass works on fixed chunks of rows and adds the per-chunk sums in
//! chunk order, so results do not depend on the thread count. Hamerly's bounds only *skip* distance
//! evaluations when they prove, with a safety margin for rounding, that the assignment cannot change;
//! otherwise the point gets the same argmin as Lloyd (first smallest squared distance). Both algorithms
//! therefore produce identical labels, centres, inertia and iteration counts.
//!
//! Run `r` of `n_init` draws from its own ChaCha8 stream (`seed`, stream `r`).

mod iterate;
mod model;
mod params;
mod plusplus;
#[cfg(test)]
mod tests;

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{ClusterError, Result};
use crate::traits::Fit;

use self::iterate::{Data, Run, run_batch, slot};
pub use self::model::KMeans;
pub(crate) use self::model::nearest_centres;
pub use self::params::{KMeansAlgorithm, KMeansInit, KMeansParams};
use self::plusplus::kmeans_plusplus as plus_plus_runs;

/// scikit-learn's greedy k-means++ seeding (`sklearn.cluster.kmeans_plusplus`) of one run seeded with
/// `seed`: the `k` rows chosen as initial centres, in the order chosen. The same rows [`KMeansParams`]
/// starts its first run from; other algorithms that start from k-means++ seeds (Gaussian mixtures) use it.
///
/// ```
/// let x = ndarray::array![[0.0], [0.1], [10.0], [10.1], [20.0]];
/// let rows = outflow_cluster::kmeans_plusplus(x.view(), 3, 7).unwrap();
/// assert_eq!(rows.len(), 3);
/// assert!(rows.iter().all(|&r| r < 5));
/// ```
pub fn kmeans_plusplus(x: ArrayView2<'_, f64>, k: usize, seed: u64) -> Result<Vec<usize>> {
    KMeansParams::new(k).seed(seed).validate_for(x)?;
    let x = x.as_standard_layout();
    let (n, d) = x.dim();
    let data = Data::new(x.as_slice().expect("standard layout"), n, d, k, 0.0, true);
    let (mut runs, _) = plusplus::kmeans_plusplus(&data, vec![ChaCha8Rng::seed_from_u64(seed)]);
    Ok(runs.swap_remove(0).1)
}

/// Rows per transposed block of the k-means++ kernels (chunks hold whole blocks).
pub(super) const BLOCK: usize = 8;
/// Rows per work unit of every parallel pass (fixed, so sums do not depend on the thread count).
pub(super) const CHUNK: usize = 2048;

impl Fit for KMeansParams {
    type Fitted = KMeans;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<KMeans> {
        self.validate_for(x)?;
        let x = x.as_standard_layout();
        let (n, d) = x.dim();
        let flat = x.as_slice().expect("standard layout");
        let data = Data::new(flat, n, d, self.k, self.tol, self.init == KMeansInit::KMeansPlusPlus);
        let hamerly = self.algorithm != KMeansAlgorithm::Lloyd;
        let runs = if matches!(self.init, KMeansInit::Centres(_)) { 1 } else { self.n_init };
        let rngs: Vec<ChaCha8Rng> = (0..runs)
            .map(|r| {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(r as u64);
                rng
            })
            .collect();
        // Batches of runs in lockstep (bounded memory: ~24 bytes per row and run of state).
        let batch = (1usize << 27).div_ceil(n * 24).clamp(1, runs);
        let mut best: Option<(usize, Run)> = None;
        for (b, rngs) in rngs.chunks(batch).enumerate() {
            let (centres, seeded) = match &self.init {
                KMeansInit::Centres(c) => (vec![c.as_standard_layout().iter().copied().collect()], None),
                KMeansInit::KMeansPlusPlus => {
                    let (c, rows) = plus_plus_runs(&data, rngs.to_vec());
                    (c.into_iter().map(|(centres, _)| centres).collect(), Some(rows))
                }
                KMeansInit::Random => {
                    let c = rngs
                        .iter()
                        .map(|rng| {
                            let mut rng = rng.clone();
                            rand::seq::index::sample(&mut rng, n, self.k)
                                .into_iter()
                                .flat_map(|i| data.row(i).iter().copied())
                                .collect()
                        })
                        .collect();
                    (c, None)
                }
            };
            let nr = centres.len();
            let (states, labels) = run_batch(&data, centres, seeded, self.max_iter, hamerly, self.track_inertia);
            for (r, s) in states.into_iter().enumerate() {
                if best.as_ref().is_none_or(|(_, o)| s.inertia < o.inertia) {
                    let labels = (0..n).map(|i| labels[slot(i, r, nr, n)]).collect();
                    let out =
                        Run { centres: s.centres, labels, inertia: s.inertia, n_iter: s.n_iter, history: s.history };
                    best = Some((b * batch + r, out));
                }
            }
        }
        let (best_run, out) = best.expect("at least one run");
        Ok(KMeans {
            params: self.clone(),
            centres: Array2::from_shape_vec((self.k, d), out.centres).expect("k × d centres"),
            labels: out.labels.iter().map(|&l| l as i64).collect(),
            inertia: out.inertia,
            n_iter: out.n_iter,
            best_run,
            inertia_history: out.history,
        })
    }
}
