//! The clustering options shared by `cluster` and `detect`: the algorithm's name and its parameters, each
//! option mapped to the parameter it sets. Which options an algorithm takes is decided by the
//! algorithm's own parameters (`outflow::cluster::Algorithm`), not listed here.

use anyhow::{Result, bail};
use clap::Args;
use clap::builder::PossibleValuesParser;
use outflow::cluster::{Algorithm, Metric};

/// Clustering options.
#[derive(Args, Debug, Clone, Default)]
pub struct AlgorithmArgs {
    /// Clustering algorithm.
    #[arg(long, default_value = "hdbscan", value_parser = PossibleValuesParser::new(Algorithm::NAMES))]
    pub algorithm: String,
    /// HDBSCAN: smallest cluster.
    #[arg(long)]
    pub min_cluster_size: Option<usize>,
    /// The point itself included (for HDBSCAN unless --min-samples-convention hdbscan): HDBSCAN,
    /// neighbourhood size for core distances; DBSCAN, points within --eps that make a core point.
    #[arg(long)]
    pub min_samples: Option<usize>,
    /// HDBSCAN: how --min-samples counts, sklearn (the point itself included; the default) or hdbscan (not
    /// included, as the hdbscan package: its min_samples m is scikit-learn's m + 1, and unset it means
    /// min_cluster_size + 1 the scikit-learn way).
    #[arg(long, value_parser = ["sklearn", "hdbscan"])]
    pub min_samples_convention: Option<String>,
    /// HDBSCAN: the largest cluster the excess-of-mass selection returns (bigger ones are split into their
    /// selected descendants; default no limit).
    #[arg(long)]
    pub max_cluster_size: Option<usize>,
    /// HDBSCAN: cluster_selection_epsilon_max, the excess-of-mass selection returns no cluster born above
    /// this distance (its selected descendants instead; default no limit).
    #[arg(long)]
    pub epsilon_max: Option<f64>,
    /// HDBSCAN: cluster_selection_epsilon (default 0).
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// HDBSCAN: cluster selection method, eom (default) or leaf.
    #[arg(long)]
    pub selection: Option<String>,
    /// HDBSCAN: let the root be the only cluster.
    #[arg(long)]
    pub allow_single_cluster: bool,
    /// DBSCAN: neighbourhood radius, a number > 0 or `auto` (the default: from every row's distance to its
    /// --eps-k-th nearest row, itself included, median + 0.5·std).
    #[arg(long, allow_hyphen_values = true)]
    pub eps: Option<String>,
    /// DBSCAN: neighbour rank for `--eps auto`, the row itself included (default 4).
    #[arg(long)]
    pub eps_k: Option<usize>,
    /// DBSCAN: centroid false-positive filter at this percentile (0–100): noise closer to a cluster's
    /// centroid than this percentile of its members' distances is not an anomaly. Labels do not change.
    #[arg(long)]
    pub centroid_filter: Option<f64>,
    /// k-means, Ward: number of clusters (required).
    #[arg(long)]
    pub k: Option<usize>,
    /// k-means: independent k-means++ runs; the lowest inertia wins (default 1).
    #[arg(long)]
    pub n_init: Option<usize>,
    /// k-means: iterations per run (default 300).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// k-means: relative tolerance, times the mean feature variance as scikit-learn (default 1e-4).
    #[arg(long)]
    pub tol: Option<f64>,
    /// k-means: iteration algorithm, auto (default), lloyd or hamerly (identical results; hamerly skips
    /// most distance computations).
    #[arg(long)]
    pub kmeans_algorithm: Option<String>,
    /// Ward: build the tree on a seeded sample of this many rows and give the other rows the label of the
    /// nearest cluster centroid (for large inputs: Ward is O(n²) time).
    #[arg(long)]
    pub sample_size: Option<usize>,
    /// Distance metric (default euclidean; k-means and Ward: euclidean only): euclidean, manhattan,
    /// chebyshev, cosine, minkowski:P (P ≥ 1) or haversine (two columns, latitude and longitude in
    /// radians).
    #[arg(long, value_parser = metric_text)]
    pub metric: Option<String>,
    /// HDBSCAN: fast_hdbscan's cluster_selection_persistence — splits where a child cluster persists less
    /// than this (in λ = 1 / distance) are removed before the selection (default 0: off).
    #[arg(long)]
    pub persistence: Option<f64>,
    /// HDBSCAN: distance scaling of the mutual reachability, as hdbscan's and scikit-learn's `alpha`
    /// (points join at max(core a, core b, distance / alpha); default 1).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// HDBSCAN and DBSCAN: how neighbours are found — exact (the default), approximate (an NN-descent
    /// graph of max(min_samples + 5, 15) neighbours per row, `--param graph_neighbors=K` for another
    /// count, seeded by --seed; its recall, measured on a sample, is printed) or auto (approximate from
    /// 31 dimensions and 20,000 rows).
    #[arg(long, value_parser = ["exact", "approximate", "auto"])]
    pub neighbors: Option<String>,
    /// Any parameter of the algorithm as NAME=VALUE, repeatable (`--param leaf_size=40`): the
    /// parameters without an option of their own, named as in the model file.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

/// Checks a `--metric` / `--distance` value (as [`Metric`] parses it) and keeps its text.
pub fn metric_text(s: &str) -> std::result::Result<String, String> {
    s.parse::<Metric>().map(|m| m.to_string()).map_err(|e| e.to_string())
}

impl AlgorithmArgs {
    /// The options given, as (option, parameter, value).
    fn given(&self) -> Result<Vec<(String, String, String)>> {
        let mut v = Vec::new();
        let mut put = |flag: &str, field: &str, value: Option<String>| {
            if let Some(value) = value {
                v.push((flag.to_owned(), field.to_owned(), value));
            }
        };
        put("min-cluster-size", "min_cluster_size", self.min_cluster_size.map(|x| x.to_string()));
        put("min-samples", "min_samples", self.min_samples.map(|x| x.to_string()));
        put("min-samples-convention", "min_samples_convention", self.min_samples_convention.clone());
        put("max-cluster-size", "max_cluster_size", self.max_cluster_size.map(|x| x.to_string()));
        put("epsilon", "cluster_selection_epsilon", self.epsilon.map(|x| x.to_string()));
        put("epsilon-max", "cluster_selection_epsilon_max", self.epsilon_max.map(|x| x.to_string()));
        put("selection", "cluster_selection", self.selection.clone());
        put("allow-single-cluster", "allow_single_cluster", self.allow_single_cluster.then(|| "true".into()));
        put("eps", "eps", self.eps.clone());
        put("eps-k", "eps.auto.k", self.eps_k.map(|x| x.to_string()));
        put("centroid-filter", "centroid_filter", self.centroid_filter.map(|x| x.to_string()));
        put("k", "k", self.k.map(|x| x.to_string()));
        put("n-init", "n_init", self.n_init.map(|x| x.to_string()));
        put("max-iter", "max_iter", self.max_iter.map(|x| x.to_string()));
        put("tol", "tol", self.tol.map(|x| x.to_string()));
        put("kmeans-algorithm", "algorithm", self.kmeans_algorithm.clone());
        put("sample-size", "sample_size", self.sample_size.map(|x| x.to_string()));
        put("metric", "metric", self.metric.clone());
        put("alpha", "alpha", self.alpha.map(|x| x.to_string()));
        put("persistence", "cluster_selection_persistence", self.persistence.map(|x| x.to_string()));
        put("neighbors", "neighbors", self.neighbors.clone());
        for p in &self.params {
            let Some((name, value)) = p.split_once('=') else {
                bail!("--param {p}: expected NAME=VALUE");
            };
            v.push((format!("param {}", name.trim()), name.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(v)
    }

    /// The algorithm named by `--algorithm` with the given options set on `base` (its parameters when
    /// `base` is that algorithm, else the algorithm's defaults). An option the algorithm does not take,
    /// or a required one missing, is an error.
    pub fn build(&self, base: Option<Algorithm>) -> Result<Algorithm> {
        let named = Algorithm::by_name(&self.algorithm)?;
        let mut alg = base.filter(|b| b.name() == named.name()).unwrap_or(named);
        let fields = alg.fields();
        let given = self.given()?;
        for (flag, field, value) in &given {
            let (flag, field) = (flag.as_str(), field.as_str());
            let top = field.split('.').next().unwrap_or(field);
            if !fields.iter().any(|f| f == top) {
                // k-means and Ward cluster by Euclidean distance: saying so is not an error.
                if flag == "metric" && value == "euclidean" && alg.metric() == Metric::Euclidean {
                    continue;
                }
                if flag == "metric" {
                    bail!("--algorithm {} supports --metric euclidean only", alg.name());
                }
                bail!("--{flag} does not apply to --algorithm {} (its parameters: {})", alg.name(), fields.join(", "));
            }
            if field == "eps.auto.k"
                && !matches!(&alg, Algorithm::Dbscan(p) if matches!(p.eps, outflow::cluster::Eps::Auto(_)))
            {
                bail!("--eps-k applies to --eps auto only");
            }
            alg.set(field, value)?;
        }
        for req in alg.required() {
            if !given.iter().any(|(_, field, _)| field == req) {
                bail!("--algorithm {} needs --{}", alg.name(), req.replace('_', "-"));
            }
        }
        Ok(alg)
    }
}
