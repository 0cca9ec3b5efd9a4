//! CBLOF (He, Xu & Deng 2003) as PyOD computes it, on outflow-cluster's k-means.
//!
//! Clusters sorted by size, descending (ties: lower label first — numpy's unstable `argsort` leaves
//! that order unspecified). With `α` (0.9) and `β` (5): boundary `b` is the smallest `i ∈ 1..K` that
//! satisfies both rules — the `i` largest clusters hold at least `α·n` rows, and
//! `|C_(i)| / |C_(i+1)| ≥ β` — else the smallest satisfying the α rule, else the β rule (PyOD's
//! `_set_small_large_clusters`; no `b` at all is an error). The first `b` clusters are *large*. A row in
//! a large cluster scores its distance to its own centre; a row in a small cluster its distance to the
//! nearest large-cluster centre. With `use_weights` the score is multiplied by the size of the row's
//! cluster. New rows are assigned to their nearest centre first (PyOD's `clustering_estimator_.predict`).

use ndarray::{Array2, ArrayView2};
use outflow_cluster::{ClusterModel, KMeansParams};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, ScoreSamples, check_len, check_matrix, check_query, check_width};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// CBLOF parameters (PyOD's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CblofParams {
    /// k-means clusters (8).
    pub n_clusters: usize,
    /// Share of the rows the large clusters must hold, in (0, 1) (0.9).
    pub alpha: f64,
    /// Size ratio between the last large and the first small cluster, > 1 (5).
    pub beta: f64,
    /// Multiply scores by the size of the row's cluster.
    pub use_weights: bool,
    /// Seed of the k-means++ initialisation.
    pub seed: u64,
}

impl Default for CblofParams {
    fn default() -> Self {
        CblofParams { n_clusters: 8, alpha: 0.9, beta: 5.0, use_weights: false, seed: 0 }
    }
}

impl CblofParams {
    /// Checks `n_clusters >= 2`, `0 < α < 1`, `β > 1` (PyOD's `check_parameter`).
    pub fn validate(&self) -> Result<()> {
        if self.n_clusters < 2 {
            return Err(OutlierError::param("n_clusters", "CBLOF needs at least 2 clusters"));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(OutlierError::param("alpha", format!("{} is not in (0, 1)", self.alpha)));
        }
        if !(self.beta.is_finite() && self.beta > 1.0) {
            return Err(OutlierError::param("beta", format!("{} is not > 1", self.beta)));
        }
        Ok(())
    }

    /// CBLOF on a given clustering: one label per row in `0..K` and `K × d` centres (e.g. scikit-learn's
    /// `labels_` and `cluster_centers_`). New rows are assigned to their nearest centre.
    pub fn fit_clustering(&self, x: ArrayView2<'_, f64>, labels: &[usize], centres: Array2<f64>) -> Result<Cblof> {
        self.validate()?;
        check_matrix(x)?;
        let n = x.nrows();
        check_len("cluster labels", n, labels.len())?;
        check_width(centres.ncols(), x.ncols())?;
        let k = labels.iter().copied().max().map_or(0, |m| m + 1);
        if k > centres.nrows() {
            return Err(OutlierError::param("labels", format!("label {} has no centre", k - 1)));
        }
        let mut sizes = vec![0usize; k];
        for &l in labels {
            sizes[l] += 1;
        }
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
        let (mut alpha_list, mut beta_list) = (Vec::new(), Vec::new());
        let mut cum = 0usize;
        for i in 1..k {
            cum += sizes[order[i - 1]];
            if cum as f64 >= n as f64 * self.alpha {
                alpha_list.push(i);
            }
            let ratio = sizes[order[i - 1]] as f64 / sizes[order[i]] as f64;
            if ratio >= self.beta {
                beta_list.push(i);
            }
        }
        let boundary = alpha_list
            .iter()
            .find(|i| beta_list.contains(i))
            .or(alpha_list.first())
            .or(beta_list.first())
            .copied()
            .ok_or_else(|| {
                OutlierError::Numerical(
                    "CBLOF could not separate large and small clusters; change n_clusters, alpha or beta".into(),
                )
            })?;
        let mut large = vec![false; centres.nrows()];
        for &c in &order[..boundary] {
            large[c] = true;
        }
        sizes.resize(centres.nrows(), 0);
        let mut model = Cblof {
            params: self.clone(),
            centres,
            sizes,
            large,
            large_order: order[..boundary].to_vec(),
            training_scores: Vec::new(),
        };
        model.training_scores = model.score_labelled(x, labels);
        Ok(model)
    }
}

/// A fitted CBLOF model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cblof {
    /// The parameters used.
    pub params: CblofParams,
    /// Cluster centres (row = cluster).
    pub centres: Array2<f64>,
    /// Training rows per cluster.
    pub sizes: Vec<usize>,
    /// Whether each cluster is large.
    pub large: Vec<bool>,
    /// The large clusters, largest first.
    pub large_order: Vec<usize>,
    training_scores: Vec<f64>,
}

fn dist(a: &[f64], b: ndarray::ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

impl Cblof {
    fn nearest(&self, row: &[f64]) -> usize {
        let mut best = (f64::INFINITY, 0);
        for c in 0..self.centres.nrows() {
            let d = dist(row, self.centres.row(c));
            if d < best.0 {
                best = (d, c);
            }
        }
        best.1
    }

    fn score_labelled(&self, x: ArrayView2<'_, f64>, labels: &[usize]) -> Vec<f64> {
        let xs = x.as_standard_layout();
        (0..x.nrows())
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let row = xs.row(i);
                let row = row.as_slice().expect("standard layout");
                let l = labels[i];
                let s = if self.large[l] {
                    dist(row, self.centres.row(l))
                } else {
                    self.large_order.iter().map(|&c| dist(row, self.centres.row(c))).fold(f64::INFINITY, f64::min)
                };
                if self.params.use_weights { s * self.sizes[l] as f64 } else { s }
            })
            .collect()
    }
}

impl CblofParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        "cblof".into()
    }
}

impl Fit for CblofParams {
    type Fitted = Cblof;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Cblof> {
        self.validate()?;
        check_matrix(x)?;
        if x.nrows() < self.n_clusters {
            return Err(InputError::too_few_rows(
                format!("CBLOF with {} clusters", self.n_clusters),
                self.n_clusters,
                x.nrows(),
            )
            .into());
        }
        let km = KMeansParams::new(self.n_clusters).seed(self.seed).fit(x)?;
        let labels: Vec<usize> = km.labels().iter().map(|&l| l.max(0) as usize).collect();
        self.fit_clustering(x, &labels, km.centres().clone())
    }
}

impl OutlierModel for Cblof {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.centres.ncols()
    }
}

impl ScoreSamples for Cblof {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        let xs = x.as_standard_layout();
        let labels: Vec<usize> = (0..x.nrows())
            .into_par_iter()
            .with_min_len(256)
            .map(|i| self.nearest(xs.row(i).as_slice().expect("standard layout")))
            .collect();
        Ok(self.score_labelled(x, &labels))
    }
}
