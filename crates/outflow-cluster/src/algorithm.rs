//! [`Algorithm`]: the parameters of every clustering algorithm of the crate in one serialisable enum, and
//! [`Model`], its fitted counterpart. The commands (`cluster`, `compare`) and the detector take an
//! `Algorithm`, so they hold no list of algorithm names and no per-algorithm dispatch of their own;
//! adding an algorithm means adding a variant here.

use std::borrow::Cow;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, Predict};

use crate::dbscan::{Dbscan, DbscanParams};
use crate::error::{ClusterError, Result};
use crate::hdbscan::{Hdbscan, HdbscanParams};
use crate::kmeans::{KMeans, KMeansParams};
use crate::metric::Metric;
use crate::traits::ClusterModel;
use crate::ward::{Ward, WardParams};

/// Parameters of any clustering algorithm, serialised with its name under `kind`
/// (`{"kind": "dbscan", "eps": 0.5, ...}`).
///
/// ```
/// use outflow_cluster::{Algorithm, ClusterModel, Fit};
/// let mut a: Algorithm = "dbscan:eps=0.5,min_samples=3".parse().unwrap();
/// assert_eq!(a.name(), "dbscan");
/// a.set("min_samples", "2").unwrap();
/// assert!(a.set("k", "3").is_err()); // DBSCAN has no `k`
/// let x = ndarray::array![[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]];
/// let model = a.fit(x.view()).unwrap();
/// assert_eq!(model.labels(), &[0, 0, 0, 1, 1, -1]);
/// let json = serde_json::to_string(&a).unwrap();
/// assert!(json.starts_with(r#"{"kind":"dbscan""#));
/// assert!("optics".parse::<Algorithm>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum Algorithm {
    /// HDBSCAN.
    Hdbscan(HdbscanParams),
    /// DBSCAN.
    Dbscan(DbscanParams),
    /// k-means.
    #[serde(rename = "kmeans")]
    KMeans(KMeansParams),
    /// Ward linkage.
    Ward(WardParams),
}

impl Default for Algorithm {
    fn default() -> Self {
        Algorithm::Hdbscan(HdbscanParams::default())
    }
}

impl Algorithm {
    /// The names [`Algorithm::by_name`] and `FromStr` accept, in the order commands list them.
    pub const NAMES: &'static [&'static str] = &["hdbscan", "dbscan", "kmeans", "ward"];

    /// The algorithm's name (one of [`Algorithm::NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Hdbscan(_) => "hdbscan",
            Algorithm::Dbscan(_) => "dbscan",
            Algorithm::KMeans(_) => "kmeans",
            Algorithm::Ward(_) => "ward",
        }
    }

    /// The algorithm's name as written in prose (`HDBSCAN`, `DBSCAN`, `k-means`, `Ward`).
    pub fn title(&self) -> &'static str {
        match self {
            Algorithm::Hdbscan(_) => "HDBSCAN",
            Algorithm::Dbscan(_) => "DBSCAN",
            Algorithm::KMeans(_) => "k-means",
            Algorithm::Ward(_) => "Ward",
        }
    }

    /// The parameters a reader wants to see first, most important first (`min_cluster_size 57`,
    /// `min_samples 10`, `euclidean`).
    pub fn key_parameters(&self) -> Vec<String> {
        match self {
            Algorithm::Hdbscan(p) => vec![
                format!("min_cluster_size {}", p.min_cluster_size),
                format!("min_samples {}", p.effective_min_samples()),
                p.metric.to_string(),
            ],
            Algorithm::Dbscan(p) => {
                let eps = match p.eps {
                    crate::Eps::Value(e) => e.to_string(),
                    crate::Eps::Auto(k) => format!("auto (k = {})", k.k),
                };
                vec![format!("eps {eps}"), format!("min_samples {}", p.min_samples), p.metric.to_string()]
            }
            Algorithm::KMeans(p) => vec![format!("k {}", p.k), format!("n_init {}", p.n_init)],
            Algorithm::Ward(p) => vec![format!("k {}", p.k)],
        }
    }

    /// The default parameters of the algorithm called `name` (case-insensitive; `k-means` is accepted).
    pub fn by_name(name: &str) -> Result<Algorithm> {
        Ok(match name.trim().to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "hdbscan" => Algorithm::Hdbscan(HdbscanParams::default()),
            "dbscan" => Algorithm::Dbscan(DbscanParams::default()),
            "kmeans" => Algorithm::KMeans(KMeansParams::default()),
            "ward" => Algorithm::Ward(WardParams::default()),
            _ => {
                return Err(ClusterError::param(
                    "algorithm",
                    format!("unknown algorithm '{}' (one of: {})", name.trim(), Self::NAMES.join(", ")),
                ));
            }
        })
    }

    /// The names of the algorithm's parameters (its fields, as [`Algorithm::set`] takes them).
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m.keys().filter(|k| *k != "kind").cloned().collect(),
            _ => Vec::new(),
        };
        // Fields left out of model files at their default still take a value.
        let skipped = match self {
            Algorithm::Hdbscan(_) => HdbscanParams::FIELDS_SKIPPED_AT_DEFAULT,
            Algorithm::Dbscan(_) => DbscanParams::FIELDS_SKIPPED_AT_DEFAULT,
            Algorithm::KMeans(_) | Algorithm::Ward(_) => &[],
        };
        for f in skipped {
            if !fields.iter().any(|g| g == f) {
                fields.push((*f).to_owned());
            }
        }
        fields
    }

    /// Parameters without a default that suits most data, which a user should give (`k` for k-means and
    /// Ward).
    pub fn required(&self) -> &'static [&'static str] {
        match self {
            Algorithm::KMeans(_) | Algorithm::Ward(_) => &["k"],
            Algorithm::Hdbscan(_) | Algorithm::Dbscan(_) => &[],
        }
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        match self {
            Algorithm::Hdbscan(p) => p.validate(),
            Algorithm::Dbscan(p) => p.validate(),
            Algorithm::KMeans(p) => p.validate(),
            Algorithm::Ward(p) => p.validate(),
        }
    }

    /// The distance the algorithm clusters by (k-means and Ward: Euclidean).
    pub fn metric(&self) -> Metric {
        match self {
            Algorithm::Hdbscan(p) => p.metric,
            Algorithm::Dbscan(p) => p.metric,
            Algorithm::KMeans(_) | Algorithm::Ward(_) => Metric::Euclidean,
        }
    }

    /// The same parameters with the seed of a randomised algorithm (k-means' initialisation, Ward's
    /// sample, HDBSCAN's and DBSCAN's approximate neighbour graph) set to `seed`; the others (exact
    /// HDBSCAN and DBSCAN) have no randomness and keep their settings.
    pub fn with_seed(mut self, seed: u64) -> Algorithm {
        match &mut self {
            Algorithm::KMeans(p) => p.seed = seed,
            Algorithm::Ward(p) => p.seed = seed,
            Algorithm::Hdbscan(p) if p.neighbors != crate::Neighbors::Exact => p.seed = seed,
            Algorithm::Dbscan(p) if p.neighbors != crate::Neighbors::Exact => p.seed = seed,
            Algorithm::Hdbscan(_) | Algorithm::Dbscan(_) => {}
        }
        self
    }

    /// Sets one parameter by its field name (a dotted path for a nested one, e.g. `eps.auto.k`). The value
    /// is read as JSON when it parses as JSON (`5`, `true`, `0.5`, `[1,2]`), else as text (`leaf`,
    /// `manhattan`, `auto`). A field the algorithm does not have is an error naming the fields it has;
    /// a value out of range is found by [`Algorithm::validate`] (and by every fit).
    pub fn set(&mut self, field: &str, value: &str) -> Result<()> {
        let bad = |reason: String| ClusterError::param(field, reason);
        let mut json = serde_json::to_value(&*self).map_err(|e| bad(e.to_string()))?;
        let (path, last) = match field.rsplit_once('.') {
            Some((p, l)) => (p.split('.').collect::<Vec<_>>(), l),
            None => (Vec::new(), field),
        };
        let mut node = &mut json;
        for key in path {
            node = node
                .get_mut(key)
                .filter(|v| v.is_object())
                .ok_or_else(|| bad(format!("{} has no parameter group '{key}'", self.name())))?;
        }
        let parsed = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        node.as_object_mut().expect("a parameter group is an object").insert(last.to_owned(), parsed);
        // Types and names are checked here; ranges when fitting ([`Algorithm::validate`]), since a
        // placeholder such as the detector's `min_cluster_size` 0 ("from the data") is resolved later.
        *self = serde_json::from_value(json).map_err(|e| bad(e.to_string()))?;
        Ok(())
    }

    /// Parses `NAME` or `NAME:field=value,field=value` (the fields as in [`Algorithm::set`]) and
    /// validates the result. A few
    /// shorter names are accepted for the fields commands document: `epsilon` and `selection`
    /// (HDBSCAN's `cluster_selection_epsilon`, `cluster_selection`), `sample` (Ward's `sample_size`) and
    /// `eps_k` (DBSCAN's `eps.auto.k`).
    pub fn from_spec(spec: &str) -> Result<Algorithm> {
        let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let mut a = Algorithm::by_name(name)?;
        let mut seen = Vec::new();
        for kv in rest.split(',').map(str::trim).filter(|kv| !kv.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| ClusterError::param(kv, format!("expected field=value in '{spec}'")))?;
            let field = a.canonical_field(k.trim());
            if seen.contains(&field) {
                return Err(ClusterError::param(field, format!("given twice in '{spec}'")));
            }
            a.set(&field, v.trim())?;
            seen.push(field);
        }
        a.validate()?;
        Ok(a)
    }

    fn canonical_field(&self, field: &str) -> String {
        let f = field.to_ascii_lowercase();
        match (self, f.as_str()) {
            (Algorithm::Hdbscan(_), "epsilon") => "cluster_selection_epsilon".into(),
            (Algorithm::Hdbscan(_), "selection") => "cluster_selection".into(),
            (Algorithm::Ward(_), "sample") => "sample_size".into(),
            (Algorithm::Dbscan(_), "eps_k") => "eps.auto.k".into(),
            _ => f,
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = ClusterError;

    /// [`Algorithm::from_spec`].
    fn from_str(s: &str) -> Result<Algorithm> {
        Algorithm::from_spec(s)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Fit for Algorithm {
    type Fitted = Model;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Model> {
        Ok(match self {
            Algorithm::Hdbscan(p) => Model::Hdbscan(p.fit(x)?),
            Algorithm::Dbscan(p) => Model::Dbscan(p.fit(x)?),
            Algorithm::KMeans(p) => Model::KMeans(p.fit(x)?),
            Algorithm::Ward(p) => Model::Ward(p.fit(x)?),
        })
    }
}

/// A fitted model of any [`Algorithm`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // one model per fit
pub enum Model {
    /// HDBSCAN.
    Hdbscan(Hdbscan),
    /// DBSCAN.
    Dbscan(Dbscan),
    /// k-means.
    #[serde(rename = "kmeans")]
    KMeans(KMeans),
    /// Ward linkage.
    Ward(Ward),
}

/// Where a new point falls: its cluster (−1 noise), how strongly it belongs, and its GLOSH outlier score
/// when the model is HDBSCAN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Membership {
    /// Cluster, −1 for noise.
    pub label: i64,
    /// Membership strength in `[0, 1]`: HDBSCAN's probability; 1 inside a cluster and 0 for noise
    /// otherwise.
    pub probability: f64,
    /// HDBSCAN's GLOSH outlier score; `None` for the other algorithms.
    pub outlier_score: Option<f64>,
}

macro_rules! each_model {
    ($m:expr, $v:ident => $e:expr) => {
        match $m {
            Model::Hdbscan($v) => $e,
            Model::Dbscan($v) => $e,
            Model::KMeans($v) => $e,
            Model::Ward($v) => $e,
        }
    };
}

impl Model {
    /// Checks a model read from a file where a broken value would make prediction misbehave (see each
    /// model's `check`).
    pub fn check(&self) -> std::result::Result<(), String> {
        match self {
            Model::Hdbscan(m) => m.check(),
            Model::Dbscan(m) => m.check(),
            Model::KMeans(m) => m.check(),
            Model::Ward(m) => m.check(),
        }
    }

    /// The algorithm's name (one of [`Algorithm::NAMES`]).
    pub fn name(&self) -> &'static str {
        self.params().name()
    }

    /// The parameters it was fitted with.
    pub fn params(&self) -> Algorithm {
        match self {
            Model::Hdbscan(m) => Algorithm::Hdbscan(m.params().clone()),
            Model::Dbscan(m) => Algorithm::Dbscan(m.params().clone()),
            Model::KMeans(m) => Algorithm::KMeans(m.params().clone()),
            Model::Ward(m) => Algorithm::Ward(m.params().clone()),
        }
    }

    /// The HDBSCAN model, when it is one (for GLOSH, the condensed tree, relative validity).
    pub fn as_hdbscan(&self) -> Option<&Hdbscan> {
        match self {
            Model::Hdbscan(m) => Some(m),
            _ => None,
        }
    }

    /// Number of features it was fitted on.
    pub fn n_features(&self) -> usize {
        each_model!(self, m => m.n_features())
    }

    /// Membership strength of each training point (see [`Membership::probability`]).
    pub fn probabilities(&self) -> Cow<'_, [f64]> {
        match self {
            Model::Hdbscan(m) => Cow::Borrowed(m.probabilities()),
            _ => Cow::Owned(self.labels().iter().map(|&l| if l < 0 { 0.0 } else { 1.0 }).collect()),
        }
    }

    /// Cluster and membership of new points: HDBSCAN's `approximate_predict`; DBSCAN's nearest core
    /// point within `eps` ([`Dbscan::predict_nearest_core`]); the nearest centre for k-means and Ward.
    pub fn assign(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Membership>> {
        let hard = |labels: Vec<i64>| -> Vec<Membership> {
            labels
                .into_iter()
                .map(|label| Membership { label, probability: if label < 0 { 0.0 } else { 1.0 }, outlier_score: None })
                .collect()
        };
        Ok(match self {
            Model::Hdbscan(m) => m
                .predict_batch(x)?
                .into_iter()
                .map(|p| Membership {
                    label: p.label,
                    probability: p.probability,
                    outlier_score: Some(p.outlier_score),
                })
                .collect(),
            Model::Dbscan(m) => hard(m.predict_nearest_core_batch(x)?),
            Model::KMeans(m) => hard(m.predict(x)?),
            Model::Ward(m) => hard(m.predict(x)?),
        })
    }

    /// The per-row results of the training rows `x` worth writing out, as named columns: HDBSCAN
    /// `label, probability, outlier_score`; DBSCAN `label, core, anomaly` (1/0: a core point; a reported
    /// anomaly is noise the centroid filter did not rescue); k-means and Ward `label, distance` (Euclidean
    /// distance to the row's cluster centre).
    pub fn row_columns(&self, x: ArrayView2<'_, f64>) -> Result<Vec<(&'static str, Vec<f64>)>> {
        let labels: Vec<f64> = self.labels().iter().map(|&l| l as f64).collect();
        let flags = |b: &[bool]| b.iter().map(|&v| f64::from(u8::from(v))).collect::<Vec<f64>>();
        Ok(match self {
            Model::Hdbscan(m) => vec![
                ("label", labels),
                ("probability", m.probabilities().to_vec()),
                ("outlier_score", m.outlier_scores().to_vec()),
            ],
            Model::Dbscan(m) => {
                vec![("label", labels), ("core", flags(m.is_core())), ("anomaly", flags(m.anomalies()))]
            }
            Model::KMeans(m) => vec![("label", labels), ("distance", m.predict_with_distances(x)?.1)],
            Model::Ward(m) => vec![("label", labels), ("distance", m.distances_to_centroids(x, m.labels())?)],
        })
    }

    /// One line on the clustering: clusters and noise, and what the algorithm adds (DBSCAN's radius and
    /// anomalies, k-means' inertia and iterations).
    pub fn describe(&self) -> String {
        let base = format!("{} clusters, {:.1}% noise", self.n_clusters(), 100.0 * self.noise_fraction());
        match self {
            Model::Dbscan(m) => {
                let anomalies = m.anomalies().iter().filter(|&&b| b).count();
                let recall = m.neighbor_recall().map(|r| format!(", neighbour recall {r:.3}")).unwrap_or_default();
                format!("{base}, eps {}, {anomalies} anomalies{recall}", m.eps())
            }
            Model::KMeans(m) => {
                let k = m.centres().nrows();
                // As scikit-learn warns: fewer distinct points than k leave centres without a point.
                let short = if self.n_clusters() < k {
                    format!(
                        " (only {} distinct clusters for k = {k}: the data has fewer distinct points)",
                        self.n_clusters()
                    )
                } else {
                    String::new()
                };
                format!("{base}, inertia {}, {} iterations{short}", m.inertia(), m.n_iter())
            }
            Model::Hdbscan(m) => match m.neighbor_recall() {
                Some(r) => format!("{base}, neighbour recall {r:.3}"),
                None => base,
            },
            Model::Ward(_) => base,
        }
    }

    /// The recall of the approximate neighbour graph HDBSCAN or DBSCAN was fitted on (measured on a
    /// sample); `None` for exact fits and the other algorithms.
    pub fn neighbor_recall(&self) -> Option<f64> {
        match self {
            Model::Hdbscan(m) => m.neighbor_recall(),
            Model::Dbscan(m) => m.neighbor_recall(),
            Model::KMeans(_) | Model::Ward(_) => None,
        }
    }

    /// The model without what scoring new points does not need (see each model's `slim`).
    pub fn slim(self) -> Model {
        match self {
            Model::Hdbscan(m) => Model::Hdbscan(m.slim()),
            Model::Dbscan(m) => Model::Dbscan(m.slim()),
            Model::Ward(m) => Model::Ward(m.slim()),
            m @ Model::KMeans(_) => m,
        }
    }
}

impl ClusterModel for Model {
    fn labels(&self) -> &[i64] {
        each_model!(self, m => m.labels())
    }
}

impl Predict for Model {
    type Error = ClusterError;

    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        each_model!(self, m => m.predict(x))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn names_specs_and_round_trips() {
        for name in Algorithm::NAMES {
            let a = Algorithm::by_name(name).unwrap();
            assert_eq!(a.name(), *name);
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), a);
        }
        let a: Algorithm = "hdbscan:min_cluster_size=7,selection=leaf,epsilon=0.5,metric=manhattan".parse().unwrap();
        let Algorithm::Hdbscan(p) = &a else { panic!() };
        assert_eq!((p.min_cluster_size, p.cluster_selection_epsilon, p.metric), (7, 0.5, Metric::Manhattan));
        let Algorithm::Dbscan(p) = "dbscan:eps=auto,eps_k=6".parse::<Algorithm>().unwrap() else { panic!() };
        assert!(matches!(p.eps, crate::Eps::Auto(k) if k.k == 6));
        let Algorithm::Ward(p) = "ward:k=3,sample=100".parse::<Algorithm>().unwrap() else { panic!() };
        assert_eq!((p.k, p.sample_size), (3, Some(100)));
        assert!("kmeans:k=0".parse::<Algorithm>().is_err());
        assert!("kmeans:k=2,k=3".parse::<Algorithm>().is_err());
        assert!("kmeans:nope=1".parse::<Algorithm>().is_err());
        assert!("kmeans:k".parse::<Algorithm>().is_err());
        assert!(serde_json::from_str::<Algorithm>(r#"{"kind":"hdbscan","min_cluster_sise":5}"#).is_err());
    }

    #[test]
    fn every_model_assigns_new_points() {
        let x = array![[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1], [5.0, 5.0], [5.1, 5.0], [5.0, 5.1], [5.1, 5.1]];
        for spec in ["hdbscan:min_cluster_size=3", "dbscan:eps=0.5,min_samples=3", "kmeans:k=2,n_init=3", "ward:k=2"] {
            let m = spec.parse::<Algorithm>().unwrap().fit(x.view()).unwrap();
            let a = m.assign(array![[0.05, 0.05], [5.05, 5.05]].view()).unwrap();
            assert_eq!(a[0].label, m.labels()[0], "{spec}");
            assert_eq!(a[1].label, m.labels()[4], "{spec}");
            assert_eq!(a[0].outlier_score.is_some(), spec.starts_with("hdbscan"), "{spec}");
            assert_eq!(m.probabilities().len(), 8);
            let json = serde_json::to_string(&m.clone().slim()).unwrap();
            let back: Model = serde_json::from_str(&json).unwrap();
            assert_eq!(back.assign(array![[5.05, 5.05]].view()).unwrap()[0], a[1], "{spec}");
            assert_eq!(back.params(), m.params());
        }
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;

    /// Three well separated groups of 30 points.
    pub(crate) fn groups() -> ndarray::Array2<f64> {
        ndarray::Array2::from_shape_fn((90, 2), |(i, j)| {
            ((i % 3) * 10) as f64 + i as f64 * 0.013 + (j * (i * 7 % 5)) as f64 * 0.1
        })
    }

    #[test]
    fn every_fitted_model_passes_its_check() {
        let x = groups();
        for algorithm in [
            "hdbscan".parse::<Algorithm>().unwrap(),
            "dbscan".parse().unwrap(),
            Algorithm::KMeans(crate::KMeansParams { k: 3, ..Default::default() }),
            Algorithm::Ward(crate::WardParams { k: 3, ..Default::default() }),
        ] {
            let model = algorithm.fit(x.view()).unwrap();
            assert_eq!(model.check(), Ok(()), "{}", algorithm.name());
            assert_eq!(model.slim().check(), Ok(()), "{} slim", algorithm.name());
        }
    }
}
