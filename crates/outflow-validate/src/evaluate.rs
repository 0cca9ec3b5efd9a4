//! Several indices of one labelling at once (what `outflow validate` and `outflow compare` print).

use std::collections::BTreeMap;
use std::time::Instant;

use ndarray::ArrayView2;
use outflow_cluster::Metric;
use serde::{Deserialize, Serialize};

use crate::dbcv::{DbcvCluster, dbcv};
use crate::error::Result;
use crate::labels::{Clusters, check_labelled};
use crate::scores::{calinski_harabasz, davies_bouldin};
use crate::silhouette::{ClusterSilhouette, SilhouetteParams, silhouette};

/// Which indices [`evaluate`] computes, and how.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluateParams {
    /// Compute the silhouette.
    pub silhouette: bool,
    /// Compute Davies–Bouldin.
    pub davies_bouldin: bool,
    /// Compute Calinski–Harabasz.
    pub calinski_harabasz: bool,
    /// Compute DBCV.
    pub dbcv: bool,
    /// Distance of the silhouette and DBCV (Davies–Bouldin and Calinski–Harabasz are Euclidean by
    /// definition).
    pub metric: Metric,
    /// Silhouette on a seeded sample of this many non-noise points (`None`: exact).
    pub silhouette_sample: Option<usize>,
    /// Seed of the silhouette sample.
    pub seed: u64,
}

impl Default for EvaluateParams {
    fn default() -> Self {
        EvaluateParams {
            silhouette: true,
            davies_bouldin: true,
            calinski_harabasz: true,
            dbcv: true,
            metric: Metric::Euclidean,
            silhouette_sample: None,
            seed: 0,
        }
    }
}

/// The silhouette part of an [`Evaluation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilhouetteSummary {
    /// Mean silhouette.
    pub value: f64,
    /// Points scored (noise excluded; the sample size when sampled).
    pub n_points: usize,
    /// Whether a sample was scored.
    pub sampled: bool,
    /// Per-cluster means.
    pub clusters: Vec<ClusterSilhouette>,
}

/// The DBCV part of an [`Evaluation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbcvSummary {
    /// The index.
    pub value: f64,
    /// Per-cluster terms.
    pub clusters: Vec<DbcvCluster>,
}

/// Indices of one labelling. An index that cannot be computed (e.g. fewer than 2 clusters, or a one-point
/// cluster for DBCV) is `None`, with the reason in `errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rows.
    pub n_rows: usize,
    /// Clusters (noise excluded).
    pub n_clusters: usize,
    /// Noise rows (negative labels).
    pub n_noise: usize,
    /// Fraction of rows that are not noise.
    pub coverage: f64,
    /// Silhouette.
    pub silhouette: Option<SilhouetteSummary>,
    /// Davies–Bouldin.
    pub davies_bouldin: Option<f64>,
    /// Calinski–Harabasz.
    pub calinski_harabasz: Option<f64>,
    /// DBCV.
    pub dbcv: Option<DbcvSummary>,
    /// Why an index is missing, by index name (`silhouette`, `davies_bouldin`, …).
    pub errors: BTreeMap<String, String>,
    /// Wall time of each index, by name.
    pub seconds: BTreeMap<String, f64>,
}

/// Computes the selected indices of `labels` on `x`. Fails only on bad input (lengths, NaN, empty);
/// an index that is undefined for this labelling is reported in [`Evaluation::errors`].
///
/// ```
/// use ndarray::array;
/// use outflow_validate::{EvaluateParams, evaluate};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [9.0, 9.0], [9.0, 10.0], [9.0, 30.0]];
/// let e = evaluate(x.view(), &[0, 0, 1, 1, 2], &EvaluateParams::default()).unwrap();
/// assert!(e.silhouette.is_some() && e.davies_bouldin.is_some());
/// assert!(e.dbcv.is_none()); // cluster 2 has one point
/// assert!(e.errors["dbcv"].contains("single point"));
/// ```
pub fn evaluate(x: ArrayView2<'_, f64>, labels: &[i64], params: &EvaluateParams) -> Result<Evaluation> {
    check_labelled(x, labels)?;
    let cl = Clusters::new(labels);
    let mut e = Evaluation {
        n_rows: labels.len(),
        n_clusters: cl.k(),
        n_noise: cl.n_noise,
        coverage: cl.coverage(),
        silhouette: None,
        davies_bouldin: None,
        calinski_harabasz: None,
        dbcv: None,
        errors: BTreeMap::new(),
        seconds: BTreeMap::new(),
    };
    let timed = |name: &str, e: &mut Evaluation, f: &mut dyn FnMut(&mut Evaluation) -> Result<()>| {
        let t = Instant::now();
        if let Err(err) = f(e) {
            e.errors.insert(name.to_string(), err.to_string());
        }
        e.seconds.insert(name.to_string(), t.elapsed().as_secs_f64());
    };
    if params.silhouette {
        timed("silhouette", &mut e, &mut |e| {
            let p =
                SilhouetteParams { metric: params.metric, sample_size: params.silhouette_sample, seed: params.seed };
            let s = silhouette(x, labels, &p)?;
            e.silhouette = Some(SilhouetteSummary {
                value: s.score,
                n_points: s.rows.len(),
                sampled: s.rows.len() < cl.n(),
                clusters: s.clusters,
            });
            Ok(())
        });
    }
    if params.davies_bouldin {
        timed("davies_bouldin", &mut e, &mut |e| {
            e.davies_bouldin = Some(davies_bouldin(x, labels)?.value);
            Ok(())
        });
    }
    if params.calinski_harabasz {
        timed("calinski_harabasz", &mut e, &mut |e| {
            e.calinski_harabasz = Some(calinski_harabasz(x, labels)?.value);
            Ok(())
        });
    }
    if params.dbcv {
        timed("dbcv", &mut e, &mut |e| {
            let d = dbcv(x, labels, params.metric)?;
            e.dbcv = Some(DbcvSummary { value: d.value, clusters: d.clusters });
            Ok(())
        });
    }
    Ok(e)
}
