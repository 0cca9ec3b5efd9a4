//! Hyper-parameter search for HDBSCAN, scored without labels.
//!
//! The grid crosses `min_cluster_size`, `min_samples`, `metric` and `cluster_selection_epsilon` on a
//! seeded sample. The mutual-reachability MST depends only on the metric and `min_samples`, so it is
//! computed once per pair and every `min_cluster_size` × epsilon combination reuses it — the default
//! 256-point grid costs 16 MSTs instead of 256 fits. Each configuration is scored by DBCV (hdbscan's
//! `relative_validity_`), noise %, cluster count, Davies–Bouldin and Calinski–Harabasz (noise excluded);
//! the choice is the "balanced" rule: among configurations with 5–20 % noise and 2–4 clusters
//! the best DBCV, otherwise the best DBCV overall.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array2, ArrayView2, Axis};
use outflow_cluster::{Algorithm, ClusterModel, HdbscanParams, Metric, MutualReachability};
use outflow_core::{InputError, sample_indices};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::detector::auto_hdbscan;
use crate::error::Result;

/// The grid and the sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuneParams {
    /// `min_cluster_size` values as fractions of the sample (each at least 5 points).
    pub min_cluster_size_fractions: Vec<f64>,
    /// `min_samples` values (the point itself included).
    pub min_samples: Vec<usize>,
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// `cluster_selection_epsilon` values.
    pub epsilons: Vec<f64>,
    /// Rows sampled for the search (seeded).
    pub sample: usize,
    /// Seed of the sample.
    pub seed: u64,
}

impl Default for TuneParams {
    fn default() -> Self {
        // 500–3,000 of 20,000 rows, min_samples 5–20, four metrics, epsilon 0–0.3.
        TuneParams {
            min_cluster_size_fractions: vec![0.025, 0.05, 0.10, 0.15],
            min_samples: vec![5, 10, 15, 20],
            metrics: vec![Metric::Euclidean, Metric::Manhattan, Metric::Cosine, Metric::Chebyshev],
            epsilons: vec![0.0, 0.1, 0.2, 0.3],
            sample: 20_000,
            seed: 42,
        }
    }
}

/// One configuration of the grid and its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneResult {
    /// `min_cluster_size` (points of the sample).
    pub min_cluster_size: usize,
    /// `min_samples`.
    pub min_samples: usize,
    /// Metric.
    pub metric: Metric,
    /// `cluster_selection_epsilon`.
    pub epsilon: f64,
    /// Clusters found.
    pub n_clusters: usize,
    /// Share of noise.
    pub noise_fraction: f64,
    /// DBCV approximation (`relative_validity_`), higher is better.
    pub dbcv: Option<f64>,
    /// Davies–Bouldin (noise excluded), lower is better.
    pub davies_bouldin: Option<f64>,
    /// Calinski–Harabasz (noise excluded), higher is better.
    pub calinski_harabasz: Option<f64>,
}

impl TuneResult {
    fn balanced(&self) -> bool {
        (0.05..=0.20).contains(&self.noise_fraction) && (2..=4).contains(&self.n_clusters)
    }
}

/// The search outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Rows searched on.
    pub sample_rows: usize,
    /// Every configuration, in grid order.
    pub results: Vec<TuneResult>,
    /// Index of the chosen configuration.
    pub chosen: usize,
    /// Whether it met the balanced rule (else: best DBCV overall).
    pub balanced: bool,
}

impl Tuning {
    /// The chosen configuration as HDBSCAN parameters, `min_cluster_size` scaled from the sample to
    /// `n_rows` (the same fraction).
    pub fn clustering(&self, n_rows: usize) -> Algorithm {
        let r = &self.results[self.chosen];
        let scaled = (r.min_cluster_size as f64 * n_rows as f64 / self.sample_rows.max(1) as f64).round() as usize;
        Algorithm::Hdbscan(HdbscanParams {
            min_cluster_size: scaled.max(2),
            min_samples: Some(r.min_samples),
            metric: r.metric,
            cluster_selection_epsilon: r.epsilon,
            ..auto_hdbscan()
        })
    }
}

impl TuneParams {
    /// Checks the grid.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: &str| Err(InputError::param(format!("tuning.{name}"), m).into());
        if self.min_cluster_size_fractions.is_empty()
            || self.min_samples.is_empty()
            || self.metrics.is_empty()
            || self.epsilons.is_empty()
        {
            return bad("grid", "every grid axis needs at least one value");
        }
        if self.min_cluster_size_fractions.iter().any(|f| !(*f > 0.0 && *f < 1.0)) {
            return bad("min_cluster_size_fractions", "fractions must be in (0, 1)");
        }
        if self.min_samples.contains(&0) {
            return bad("min_samples", "must be at least 1");
        }
        if self.epsilons.iter().any(|e| !(e.is_finite() && *e >= 0.0)) {
            return bad("epsilons", "must be finite and ≥ 0");
        }
        if self.sample < 10 {
            return bad("sample", "the sample needs at least 10 rows");
        }
        Ok(())
    }

    /// Searches the grid on (a sample of) `x`; `progress(done, total)` is called after each configuration.
    pub fn run(&self, x: ArrayView2<'_, f64>, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Tuning> {
        self.validate()?;
        let x: Array2<f64> = x.select(Axis(0), &sample_indices(x.nrows(), self.sample, self.seed));
        let n = x.nrows();
        let sizes: Vec<usize> =
            self.min_cluster_size_fractions.iter().map(|f| ((f * n as f64).round() as usize).max(5).min(n)).collect();
        let pairs: Vec<(Metric, usize)> =
            self.metrics.iter().flat_map(|&m| self.min_samples.iter().map(move |&s| (m, s.min(n)))).collect();
        let total = pairs.len() * sizes.len() * self.epsilons.len();
        let done = AtomicUsize::new(0);
        let per_pair: Vec<Vec<TuneResult>> = pairs
            .par_iter()
            .map(|&(metric, ms)| {
                let base = HdbscanParams { min_samples: Some(ms), metric, ..HdbscanParams::new(2) };
                let mr = MutualReachability::new(x.view(), &base)?;
                let mut out = Vec::new();
                for &mcs in &sizes {
                    for &eps in &self.epsilons {
                        let p = HdbscanParams {
                            min_cluster_size: mcs.max(2),
                            cluster_selection_epsilon: eps,
                            ..base.clone()
                        };
                        let model = p.fit_from_mst(x.view(), &mr)?;
                        out.push(score(x.view(), &model, mcs, ms, metric, eps));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    }
                }
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()?;
        // Grid order: min_cluster_size, min_samples, metric, epsilon (ties in the choice go to the first).
        let mut results = Vec::with_capacity(total);
        for (si, _) in sizes.iter().enumerate() {
            for ms in &self.min_samples {
                for metric in &self.metrics {
                    let pi = pairs.iter().position(|&(m, s)| m == *metric && s == (*ms).min(n)).expect("pair");
                    for ei in 0..self.epsilons.len() {
                        results.push(per_pair[pi][si * self.epsilons.len() + ei].clone());
                    }
                }
            }
        }
        let best = |pred: &dyn Fn(&TuneResult) -> bool| {
            results
                .iter()
                .enumerate()
                .filter(|(_, r)| pred(r) && r.dbcv.is_some())
                .max_by(|a, b| a.1.dbcv.partial_cmp(&b.1.dbcv).expect("finite").then(b.0.cmp(&a.0)))
                .map(|(i, _)| i)
        };
        let (chosen, balanced) = match best(&|r| r.balanced()) {
            Some(i) => (i, true),
            None => (best(&|_| true).unwrap_or(0), false),
        };
        Ok(Tuning { sample_rows: n, results, chosen, balanced })
    }
}

fn score(
    x: ArrayView2<'_, f64>,
    model: &outflow_cluster::Hdbscan,
    mcs: usize,
    ms: usize,
    metric: Metric,
    eps: f64,
) -> TuneResult {
    let labels = model.labels();
    let dbcv = outflow_validate::relative_validity(model).ok().filter(|v| v.is_finite());
    let db = outflow_validate::davies_bouldin(x, labels).ok().map(|s| s.value).filter(|v| v.is_finite());
    let ch = outflow_validate::calinski_harabasz(x, labels).ok().map(|s| s.value).filter(|v| v.is_finite());
    TuneResult {
        min_cluster_size: mcs,
        min_samples: ms,
        metric,
        epsilon: eps,
        n_clusters: model.n_clusters(),
        noise_fraction: model.noise_fraction(),
        dbcv,
        davies_bouldin: db,
        calinski_harabasz: ch,
    }
}
