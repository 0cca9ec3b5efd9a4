//! `outflow cluster`: cluster a numeric CSV as is (no preprocessing) and write one label per row, with
//! HDBSCAN (default), DBSCAN, k-means or Ward.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::cluster::{
    ClusterModel, ClusterSelection, DbscanParams, Eps, Fit, HdbscanParams, KMeansAlgorithm, KMeansParams, KnnEps,
    Metric, WardParams,
};

use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow cluster`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature.
    pub input: PathBuf,
    /// Clustering algorithm (the columns of OUTPUT depend on it: see --output).
    #[arg(long, default_value = "hdbscan", value_parser = ["hdbscan", "dbscan", "kmeans", "ward"])]
    pub algorithm: String,
    /// HDBSCAN: smallest cluster.
    #[arg(long, default_value_t = 5)]
    pub min_cluster_size: usize,
    /// The point itself included: HDBSCAN, neighbourhood size for core distances (default: min cluster
    /// size); DBSCAN, points within --eps that make a core point (default 5).
    #[arg(long)]
    pub min_samples: Option<usize>,
    /// HDBSCAN: cluster_selection_epsilon.
    #[arg(long, default_value_t = 0.0)]
    pub epsilon: f64,
    /// HDBSCAN: cluster selection method.
    #[arg(long, default_value = "eom", value_parser = ["eom", "leaf"])]
    pub selection: String,
    /// HDBSCAN: let the root be the only cluster.
    #[arg(long)]
    pub allow_single_cluster: bool,
    /// DBSCAN: neighbourhood radius, a number > 0 or `auto` (from every row's distance to its --eps-k-th
    /// nearest row, itself included: median + 0.5·std, as the DBSCAN seed).
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    pub eps: String,
    /// DBSCAN: neighbour rank for `--eps auto`, the row itself included.
    #[arg(long, default_value_t = 4)]
    pub eps_k: usize,
    /// DBSCAN: centroid false-positive filter at this percentile (0–100): noise closer to a cluster's
    /// centroid than this percentile of its members' distances is not an anomaly. Labels do not change.
    #[arg(long)]
    pub centroid_filter: Option<f64>,
    /// k-means, Ward: number of clusters (required).
    #[arg(long)]
    pub k: Option<usize>,
    /// k-means: seed of the initialisation; Ward: seed of the --sample-size sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// k-means: independent k-means++ runs; the lowest inertia wins.
    #[arg(long, default_value_t = 1)]
    pub n_init: usize,
    /// k-means: iterations per run.
    #[arg(long, default_value_t = 300)]
    pub max_iter: usize,
    /// k-means: relative tolerance (times the mean feature variance, as scikit-learn).
    #[arg(long, default_value_t = 1e-4)]
    pub tol: f64,
    /// k-means: iteration algorithm (identical results; hamerly skips most distance computations).
    #[arg(long, default_value = "auto", value_parser = ["auto", "lloyd", "hamerly"])]
    pub kmeans_algorithm: String,
    /// Ward: build the tree on a seeded sample of this many rows and give the other rows the label of the
    /// nearest cluster centroid (for large inputs: Ward is O(n²) time).
    #[arg(long)]
    pub sample_size: Option<usize>,
    /// Ward: also write the merge tree as JSON (SciPy linkage rows `[a, b, distance, size]`).
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// Distance metric (k-means and Ward: euclidean only).
    #[arg(long, default_value = "euclidean", value_parser = ["euclidean", "manhattan", "chebyshev", "cosine"])]
    pub metric: String,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output CSV, one row per input row, in input order; label −1 is noise. Columns: hdbscan
    /// `label,probability,outlier_score`; dbscan `label,core,anomaly` (1/0: core point; reported anomaly =
    /// noise not rescued by --centroid-filter); kmeans `label,distance` and ward `label,distance`
    /// (Euclidean distance to the row's cluster centre / centroid). Membership probabilities and GLOSH
    /// scores have no counterpart in DBSCAN, k-means or Ward, so those columns are left out.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Overwrite OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    if a.output.exists() && !a.force {
        bail!("{} exists; pass --force to overwrite it", a.output.display());
    }
    let t0 = Instant::now();
    let (_, x) = numeric_csv(&a.input)?;
    let read_s = t0.elapsed().as_secs_f64();
    let metric = a.metric.parse::<Metric>()?;
    let (out, summary, fit_s) = match a.algorithm.as_str() {
        "dbscan" => dbscan(&a, x.view(), metric)?,
        "kmeans" => kmeans(&a, x.view(), metric)?,
        "ward" => ward(&a, x.view(), metric)?,
        _ => hdbscan(&a, x.view(), metric)?,
    };
    crate::output::write_atomic(&a.output, out.as_bytes())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    let mut err = std::io::stderr();
    let _ =
        writeln!(err, "{} rows × {} features: {summary} (read {read_s:.3}s, fit {fit_s:.3}s)", x.nrows(), x.ncols(),);
    Ok(())
}

type View<'a> = ndarray::ArrayView2<'a, f64>;

fn summary(model: &impl ClusterModel) -> String {
    format!("{} clusters, {:.1}% noise", model.n_clusters(), 100.0 * model.noise_fraction())
}

fn hdbscan(a: &Args, x: View<'_>, metric: Metric) -> Result<(String, String, f64)> {
    let params = HdbscanParams {
        min_cluster_size: a.min_cluster_size,
        min_samples: a.min_samples,
        cluster_selection_epsilon: a.epsilon,
        cluster_selection: if a.selection == "leaf" { ClusterSelection::Leaf } else { ClusterSelection::Eom },
        allow_single_cluster: a.allow_single_cluster,
        metric,
        ..Default::default()
    };
    let t = Instant::now();
    let model = params.fit(x)?;
    let fit_s = t.elapsed().as_secs_f64();
    let mut out = String::with_capacity(x.nrows() * 24);
    out.push_str("label,probability,outlier_score\n");
    for i in 0..x.nrows() {
        use std::fmt::Write as _;
        let _ = writeln!(out, "{},{},{}", model.labels()[i], model.probabilities()[i], model.outlier_scores()[i]);
    }
    Ok((out, summary(&model), fit_s))
}

fn dbscan(a: &Args, x: View<'_>, metric: Metric) -> Result<(String, String, f64)> {
    let eps = match a.eps.parse::<Eps>()? {
        Eps::Auto(k) => Eps::Auto(KnnEps { k: a.eps_k, ..k }),
        e => e,
    };
    let params = DbscanParams {
        eps,
        min_samples: a.min_samples.unwrap_or(5),
        metric,
        centroid_filter: a.centroid_filter,
        ..Default::default()
    };
    let t = Instant::now();
    let model = params.fit(x)?;
    let fit_s = t.elapsed().as_secs_f64();
    let mut out = String::with_capacity(x.nrows() * 8);
    out.push_str("label,core,anomaly\n");
    for i in 0..x.nrows() {
        use std::fmt::Write as _;
        let _ = writeln!(out, "{},{},{}", model.labels()[i], model.is_core()[i] as u8, model.anomalies()[i] as u8);
    }
    let anomalies = model.anomalies().iter().filter(|&&b| b).count();
    Ok((out, format!("{}, eps {}, {anomalies} anomalies", summary(&model), model.eps()), fit_s))
}

fn need_k(a: &Args, metric: Metric) -> Result<usize> {
    if metric != Metric::Euclidean {
        bail!("--algorithm {} supports --metric euclidean only", a.algorithm);
    }
    a.k.with_context(|| format!("--algorithm {} needs --k", a.algorithm))
}

fn kmeans(a: &Args, x: View<'_>, metric: Metric) -> Result<(String, String, f64)> {
    let params = KMeansParams {
        k: need_k(a, metric)?,
        n_init: a.n_init,
        max_iter: a.max_iter,
        tol: a.tol,
        seed: a.seed,
        algorithm: match a.kmeans_algorithm.as_str() {
            "lloyd" => KMeansAlgorithm::Lloyd,
            "hamerly" => KMeansAlgorithm::Hamerly,
            _ => KMeansAlgorithm::Auto,
        },
        ..Default::default()
    };
    let t = Instant::now();
    let model = params.fit(x)?;
    let fit_s = t.elapsed().as_secs_f64();
    let (_, dist) = model.predict_with_distances(x)?;
    Ok((
        label_distance(model.labels(), &dist),
        format!("{}, inertia {}, {} iterations", summary(&model), model.inertia(), model.n_iter()),
        fit_s,
    ))
}

fn ward(a: &Args, x: View<'_>, metric: Metric) -> Result<(String, String, f64)> {
    let params = WardParams { k: need_k(a, metric)?, sample_size: a.sample_size, seed: a.seed };
    let t = Instant::now();
    let model = params.fit(x)?;
    let fit_s = t.elapsed().as_secs_f64();
    let dist = model.distances_to_centroids(x, model.labels())?;
    if let Some(path) = &a.tree {
        let tree = serde_json::json!({
            "n_leaves": model.linkage().len() + 1,
            "sample_rows": model.sample_rows(),
            "linkage": model.linkage().iter().map(|s| (s.a, s.b, s.distance, s.size)).collect::<Vec<_>>(),
        });
        crate::output::write_atomic(path, serde_json::to_string(&tree)?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok((label_distance(model.labels(), &dist), summary(&model), fit_s))
}

fn label_distance(labels: &[i64], dist: &[f64]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(labels.len() * 24);
    out.push_str("label,distance\n");
    for (l, d) in labels.iter().zip(dist) {
        let _ = writeln!(out, "{l},{d}");
    }
    out
}
