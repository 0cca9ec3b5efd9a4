//! DBSCAN's parameters: the radius (given, or from the k-nearest-neighbour heuristic) and the core-point count.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::stats::{self, quantile_sorted};
use outflow_core::{InputError, check_matrix};

use crate::error::{ClusterError, Result};
use crate::hdbscan::{Neighbors, graph_k};
use crate::metric::Metric;

/// How [`Eps::Auto`] turns the k-th neighbour distances `d₁ … dₙ` (one per row) into ε.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EpsRule {
    /// `median(d) + std_factor · std(d)` (population standard deviation, NumPy's `std`); the default
    /// `std_factor` is 0.5.
    MedianStd {
        /// Weight of the standard deviation.
        std_factor: f64,
    },
    /// `mean(d) + std_factor · std(d)`.
    MeanStd {
        /// Weight of the standard deviation.
        std_factor: f64,
    },
    /// The `q`-quantile of `d` (`0 ≤ q ≤ 1`, linear interpolation as NumPy's default).
    Quantile {
        /// Quantile in `[0, 1]`.
        q: f64,
    },
}

impl Default for EpsRule {
    fn default() -> Self {
        EpsRule::MedianStd { std_factor: 0.5 }
    }
}

/// The k-nearest-neighbour ε heuristic: ε from the distribution of every row's distance to its `k`-th
/// nearest row.
///
/// `k` **counts the row itself**, as `NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)[0][:, k-1]`
/// does in scikit-learn (the query set is the training set, so each row is its own first neighbour at
/// distance 0) — so the default k = 4 gives the distance to the 3rd other row, which matches
/// `min_samples` counting the point itself. Duplicated rows count as separate neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnEps {
    /// Neighbour rank, the row itself included (default 4).
    pub k: usize,
    /// The formula (default median + 0.5·std).
    pub rule: EpsRule,
}

impl Default for KnnEps {
    fn default() -> Self {
        KnnEps { k: 4, rule: EpsRule::default() }
    }
}

impl KnnEps {
    /// Applies the rule to the k-th neighbour distances.
    pub fn eps_from(&self, d: &[f64]) -> f64 {
        let mut s = d.to_vec();
        s.sort_by(f64::total_cmp);
        // numpy's mean and population std (pairwise sums), as `np.median(d) + 0.5 * np.std(d)`.
        let mean = stats::mean(&s);
        let std = stats::variance(&s, 0).unwrap_or(f64::NAN).sqrt();
        match self.rule {
            EpsRule::MedianStd { std_factor } => quantile_sorted(&s, 0.5) + std_factor * std,
            EpsRule::MeanStd { std_factor } => mean + std_factor * std,
            EpsRule::Quantile { q } => quantile_sorted(&s, q),
        }
    }
}

/// The neighbourhood radius. Serialised as `{"value": 0.5}` or `{"auto": {"k": 4, "rule": ...}}`; a
/// bare number or `"auto"` (the default heuristic) are read too.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "EpsRepr")]
pub enum Eps {
    /// A given radius (> 0).
    Value(f64),
    /// Chosen from the data by the kNN heuristic.
    Auto(KnnEps),
}

/// Every form an [`Eps`] is read from.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum EpsRepr {
    Number(f64),
    Text(String),
    Tagged(EpsTagged),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum EpsTagged {
    Value(f64),
    Auto(KnnEps),
}

impl TryFrom<EpsRepr> for Eps {
    type Error = String;

    fn try_from(r: EpsRepr) -> std::result::Result<Eps, String> {
        Ok(match r {
            EpsRepr::Number(v) => Eps::Value(v),
            EpsRepr::Text(s) if s.eq_ignore_ascii_case("auto") => Eps::Auto(KnnEps::default()),
            EpsRepr::Text(s) => Eps::Value(s.parse().map_err(|_| format!("must be a number or 'auto', got '{s}'"))?),
            EpsRepr::Tagged(EpsTagged::Value(v)) => Eps::Value(v),
            EpsRepr::Tagged(EpsTagged::Auto(k)) => Eps::Auto(k),
        })
    }
}

impl Default for Eps {
    fn default() -> Self {
        Eps::Auto(KnnEps::default())
    }
}

impl std::str::FromStr for Eps {
    type Err = ClusterError;
    /// `auto` (the default heuristic) or a number.
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Eps::Auto(KnnEps::default()));
        }
        s.parse::<f64>()
            .map(Eps::Value)
            .map_err(|_| ClusterError::param("eps", format!("must be a number or 'auto', got '{s}'")))
    }
}

/// DBSCAN parameters.
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, DbscanParams, Fit};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [10.0, 10.0], [10.0, 11.0], [11.0, 10.0], [50.0, 50.0]];
/// let model = DbscanParams::new(1.5, 3).fit(x.view()).unwrap();
/// assert_eq!(model.labels(), &[0, 0, 0, 1, 1, 1, -1]);
/// assert!(model.is_core()[0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbscanParams {
    /// Neighbourhood radius, given or automatic (default: automatic, k = 4, median + 0.5·std).
    pub eps: Eps,
    /// Points within `eps` (the point itself included) that make a core point (default 5, as
    /// scikit-learn).
    pub min_samples: usize,
    /// Distance metric.
    pub metric: Metric,
    /// Points per kd-tree leaf.
    pub leaf_size: usize,
    /// Centroid false-positive filter: `Some(p)` with `0 ≤ p ≤ 100` — a noise point closer to some
    /// cluster's centroid than the `p`-th percentile of that cluster's member-to-centroid distances is
    /// not reported as an anomaly (see [`Dbscan::anomalies`](crate::Dbscan::anomalies)). Labels are not changed.
    pub centroid_filter: Option<f64>,
    /// Exact radius searches over the kd-tree (the default) or an approximate neighbour graph
    /// ([`Neighbors`]; `auto`: approximate from 31 dimensions and 20,000 rows): ε-neighbourhoods read
    /// from an NN-descent graph, seeded by [`DbscanParams::seed`], its recall measured on a sample
    /// ([`Dbscan::neighbor_recall`](crate::Dbscan::neighbor_recall)). For many dimensions, where radius
    /// searches prune little; a point sees at most `graph_neighbors` of its ε-neighbours.
    #[serde(skip_serializing_if = "Neighbors::is_exact")]
    pub neighbors: Neighbors,
    /// Neighbours per point in the approximate graph; 0 (the default) = `max(min_samples + 5, 15)`, and
    /// never fewer than the ε heuristic's `k`.
    #[serde(skip_serializing_if = "crate::hdbscan::is_zero")]
    pub graph_neighbors: usize,
    /// Seed of the approximate graph (no effect on exact fits).
    #[serde(skip_serializing_if = "crate::hdbscan::is_zero_u64")]
    pub seed: u64,
}

impl Default for DbscanParams {
    fn default() -> Self {
        DbscanParams {
            eps: Eps::default(),
            min_samples: 5,
            metric: Metric::Euclidean,
            leaf_size: 24,
            centroid_filter: None,
            neighbors: Neighbors::Exact,
            graph_neighbors: 0,
            seed: 0,
        }
    }
}

impl DbscanParams {
    /// The fields a model file leaves out at their default (so that older builds read it).
    pub const FIELDS_SKIPPED_AT_DEFAULT: &'static [&'static str] = &["neighbors", "graph_neighbors", "seed"];

    /// A given `eps` and `min_samples`.
    pub fn new(eps: f64, min_samples: usize) -> Self {
        DbscanParams { eps: Eps::Value(eps), min_samples, ..Default::default() }
    }

    /// ε from the kNN heuristic (default k = 4, median + 0.5·std) and `min_samples`.
    pub fn auto(min_samples: usize) -> Self {
        DbscanParams { eps: Eps::Auto(KnnEps::default()), min_samples, ..Default::default() }
    }

    /// Sets the radius.
    pub fn eps(mut self, eps: Eps) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the metric.
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }

    /// Sets how neighbours are found ([`Neighbors`]).
    pub fn neighbors(mut self, n: Neighbors) -> Self {
        self.neighbors = n;
        self
    }

    /// Sets the seed of the approximate neighbour graph.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether a fit of `n` unique points in `dim` dimensions reads neighbourhoods from the approximate
    /// graph (it needs two points).
    pub(super) fn use_approximate(&self, n: usize, dim: usize) -> bool {
        n >= 2 && self.neighbors.approximate_for(self.metric, n, dim)
    }

    /// Neighbours per point in the approximate graph of `n` points: enough for the ε heuristic too.
    pub(super) fn graph_k(&self, n: usize) -> usize {
        let eps_k = match self.eps {
            Eps::Auto(k) => k.k.saturating_sub(1),
            Eps::Value(_) => 0,
        };
        graph_k(self.graph_neighbors, self.min_samples, eps_k, n)
    }

    /// Turns the centroid filter on at percentile `p`.
    pub fn centroid_filter(mut self, p: f64) -> Self {
        self.centroid_filter = Some(p);
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        match self.eps {
            Eps::Value(e) if !(e > 0.0 && e.is_finite()) => {
                return bad("eps", format!("must be finite and > 0, got {e}"));
            }
            Eps::Auto(k) => {
                if k.k == 0 {
                    return bad("eps.k", "the kNN eps heuristic needs k ≥ 1".into());
                }
                match k.rule {
                    EpsRule::MedianStd { std_factor: f } | EpsRule::MeanStd { std_factor: f } if !f.is_finite() => {
                        return bad("eps.rule.std_factor", format!("must be finite, got {f}"));
                    }
                    EpsRule::Quantile { q } if !(0.0..=1.0).contains(&q) => {
                        return bad("eps.rule.q", format!("the eps quantile must be in [0, 1], got {q}"));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        if self.min_samples == 0 {
            return bad("min_samples", "must be at least 1".into());
        }
        if self.leaf_size == 0 {
            return bad("leaf_size", "must be at least 1".into());
        }
        if self.neighbors == Neighbors::Approximate && self.metric == Metric::Precomputed {
            return bad(
                "neighbors",
                "approximate neighbours search points; a precomputed distance matrix is searched exactly".into(),
            );
        }
        if self.graph_neighbors != 0 && self.graph_neighbors < self.min_samples.saturating_sub(1) {
            return bad(
                "graph_neighbors",
                format!(
                    "{} neighbours cannot hold the min_samples − 1 = {} a core point needs",
                    self.graph_neighbors,
                    self.min_samples - 1
                ),
            );
        }
        if let Some(p) = self.centroid_filter
            && !(0.0..=100.0).contains(&p)
        {
            return bad("centroid_filter", format!("the percentile must be in [0, 100], got {p}"));
        }
        Ok(())
    }

    pub(super) fn validate_for(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        self.metric.validate(x.ncols())?;
        if self.neighbors.approximate_for(self.metric, x.nrows(), x.ncols()) {
            Neighbors::check_single_precision(x)?;
        }
        if let Eps::Auto(k) = self.eps
            && k.k > x.nrows()
        {
            return Err(InputError::too_few_rows(format!("the kNN eps heuristic (k = {})", k.k), k.k, x.nrows()).into());
        }
        Ok(())
    }
}
