//! `outflow compare`: run several clustering algorithms on the same data and compare them by internal
//! indices — clusters, noise, silhouette, Davies–Bouldin, Calinski–Harabasz, DBCV and seconds (the seed
//! notebook's algorithm-comparison table).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use ndarray::{Array2, ArrayView2};
use outflow::cluster::{
    ClusterModel, ClusterSelection, DbscanParams, Eps, Fit, HdbscanParams, KMeansParams, KnnEps, Metric, WardParams,
};
use outflow::validate::{EvaluateParams, Evaluation, evaluate, relative_validity, sample_indices};
use serde::Serialize;

use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow compare`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature (used as is: scale it first).
    pub input: PathBuf,
    /// An algorithm and its parameters, `NAME:key=value,key=value` (repeatable, at least one):
    /// `kmeans:k=K[,n_init=1,max_iter=300,seed=S]`, `ward:k=K[,sample=N,seed=S]`,
    /// `hdbscan:min_cluster_size=M[,min_samples=S,epsilon=E,selection=eom|leaf,allow_single_cluster=true,
    /// metric=euclidean]`, `dbscan:eps=E|auto[,min_samples=5,eps_k=4,metric=euclidean]`. `min_samples`
    /// counts the point itself; `seed` defaults to --seed.
    #[arg(long = "algorithm", short = 'a', required = true)]
    pub algorithms: Vec<String>,
    /// Run everything on a seeded sample of this many rows (the silhouette is O(n²) and DBCV O(Σ cluster²):
    /// sample inputs beyond a few tens of thousands of rows).
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of the sample and default seed of the algorithms.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Silhouette on a seeded sample of this many non-noise rows (default: exact, all pairs).
    #[arg(long)]
    pub silhouette_sample: Option<usize>,
    /// Distance of the silhouette and DBCV.
    #[arg(long, default_value = "euclidean", value_parser = ["euclidean", "manhattan", "chebyshev", "cosine"])]
    pub distance: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// One `NAME:key=value,...` argument.
#[derive(Debug)]
struct Spec {
    text: String,
    name: String,
    params: BTreeMap<String, String>,
}

impl Spec {
    fn parse(s: &str) -> Result<Spec> {
        let (name, rest) = s.split_once(':').unwrap_or((s, ""));
        let name = name.trim().to_ascii_lowercase();
        let mut params = BTreeMap::new();
        for kv in rest.split(',').map(str::trim).filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(|| anyhow!("'{kv}' in --algorithm {s}: expected key=value"))?;
            if params.insert(k.trim().to_ascii_lowercase(), v.trim().to_string()).is_some() {
                bail!("'{k}' given twice in --algorithm {s}");
            }
        }
        Ok(Spec { text: s.to_string(), name, params })
    }

    fn check_keys(&self, allowed: &[&str]) -> Result<()> {
        if let Some(k) = self.params.keys().find(|k| !allowed.contains(&k.as_str())) {
            bail!("{}: unknown parameter '{k}' (expected one of: {})", self.name, allowed.join(", "));
        }
        Ok(())
    }

    fn get<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.params.get(key).map(|v| v.parse::<T>().map_err(|e| anyhow!("{}: {key}={v}: {e}", self.name))).transpose()
    }

    fn required<T: std::str::FromStr>(&self, key: &str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        self.get(key)?.ok_or_else(|| anyhow!("{}: '{key}' is required ({})", self.name, self.text))
    }
}

/// Labels of one fitted algorithm, its fit time and (HDBSCAN) the relative validity of its tree.
struct Fitted {
    labels: Vec<i64>,
    seconds: f64,
    relative_validity: Option<f64>,
}

fn timed<M: ClusterModel>(f: impl FnOnce() -> outflow::cluster::Result<M>) -> Result<(M, f64)> {
    let t = Instant::now();
    let m = f()?;
    Ok((m, t.elapsed().as_secs_f64()))
}

fn run_spec(spec: &Spec, x: ArrayView2<'_, f64>, seed: u64) -> Result<Fitted> {
    let fitted = |labels: &[i64], seconds| Fitted { labels: labels.to_vec(), seconds, relative_validity: None };
    match spec.name.as_str() {
        "kmeans" | "k-means" => {
            spec.check_keys(&["k", "n_init", "max_iter", "seed", "tol"])?;
            let mut p = KMeansParams::new(spec.required("k")?).seed(spec.get("seed")?.unwrap_or(seed));
            if let Some(n) = spec.get("n_init")? {
                p = p.n_init(n);
            }
            if let Some(n) = spec.get("max_iter")? {
                p = p.max_iter(n);
            }
            if let Some(t) = spec.get("tol")? {
                p = p.tol(t);
            }
            let (m, s) = timed(|| p.fit(x))?;
            Ok(fitted(m.labels(), s))
        }
        "ward" => {
            spec.check_keys(&["k", "sample", "seed"])?;
            let mut p = WardParams::new(spec.required("k")?);
            if let Some(n) = spec.get("sample")? {
                p = p.sample(n, spec.get("seed")?.unwrap_or(seed));
            }
            let (m, s) = timed(|| p.fit(x))?;
            Ok(fitted(m.labels(), s))
        }
        "hdbscan" => {
            spec.check_keys(&[
                "min_cluster_size",
                "min_samples",
                "epsilon",
                "selection",
                "allow_single_cluster",
                "metric",
            ])?;
            let mut p = HdbscanParams::new(spec.get("min_cluster_size")?.unwrap_or(5));
            p.min_samples = spec.get("min_samples")?;
            p.cluster_selection_epsilon = spec.get("epsilon")?.unwrap_or(0.0);
            p.cluster_selection = match spec.params.get("selection").map(String::as_str) {
                None | Some("eom") => ClusterSelection::Eom,
                Some("leaf") => ClusterSelection::Leaf,
                Some(o) => bail!("hdbscan: selection={o}: expected eom or leaf"),
            };
            p.allow_single_cluster = spec.get("allow_single_cluster")?.unwrap_or(false);
            p.metric = spec.get::<Metric>("metric")?.unwrap_or_default();
            let (m, s) = timed(|| p.fit(x))?;
            let rv = relative_validity(&m).ok();
            Ok(Fitted { labels: m.labels().to_vec(), seconds: s, relative_validity: rv })
        }
        "dbscan" => {
            spec.check_keys(&["eps", "min_samples", "eps_k", "metric"])?;
            let mut eps = spec.get::<Eps>("eps")?.unwrap_or_default();
            if let (Eps::Auto(_), Some(k)) = (eps, spec.get::<usize>("eps_k")?) {
                eps = Eps::Auto(KnnEps { k, ..Default::default() });
            }
            let p = DbscanParams {
                eps,
                min_samples: spec.get("min_samples")?.unwrap_or(5),
                metric: spec.get::<Metric>("metric")?.unwrap_or_default(),
                ..Default::default()
            };
            let (m, s) = timed(|| p.fit(x))?;
            Ok(fitted(m.labels(), s))
        }
        other => bail!("unknown algorithm '{other}' (expected kmeans, ward, hdbscan or dbscan)"),
    }
}

#[derive(Serialize)]
struct Row {
    algorithm: String,
    name: String,
    fit_seconds: Option<f64>,
    clusters: Option<usize>,
    noise: Option<usize>,
    noise_fraction: Option<f64>,
    silhouette: Option<f64>,
    davies_bouldin: Option<f64>,
    calinski_harabasz: Option<f64>,
    dbcv: Option<f64>,
    /// HDBSCAN only: hdbscan's `relative_validity_` of the fitted tree.
    relative_validity: Option<f64>,
    index_seconds: Option<f64>,
    /// The algorithm failed (the indices are then absent).
    error: Option<String>,
    /// Indices that are undefined for this labelling, with the reason.
    index_errors: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Report {
    input: String,
    rows: usize,
    features: usize,
    sample: Option<Vec<usize>>,
    sample_seed: Option<u64>,
    distance: String,
    algorithms: Vec<Row>,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    let specs: Vec<Spec> = a.algorithms.iter().map(|s| Spec::parse(s)).collect::<Result<_>>()?;
    let (_, full) = numeric_csv(&a.input)?;
    let (x, sample): (Array2<f64>, Option<Vec<usize>>) = match a.sample {
        Some(0) => bail!("--sample must be at least 1"),
        Some(m) if m < full.nrows() => {
            let rows = sample_indices(full.nrows(), m, a.seed);
            (Array2::from_shape_fn((m, full.ncols()), |(i, j)| full[[rows[i], j]]), Some(rows))
        }
        _ => (full, None),
    };
    let params = EvaluateParams {
        metric: a.distance.parse::<Metric>()?,
        silhouette_sample: a.silhouette_sample,
        seed: a.seed,
        ..Default::default()
    };
    let mut rows = Vec::with_capacity(specs.len());
    for spec in &specs {
        let mut row = Row {
            algorithm: spec.text.clone(),
            name: spec.name.clone(),
            fit_seconds: None,
            clusters: None,
            noise: None,
            noise_fraction: None,
            silhouette: None,
            davies_bouldin: None,
            calinski_harabasz: None,
            dbcv: None,
            relative_validity: None,
            index_seconds: None,
            error: None,
            index_errors: BTreeMap::new(),
        };
        match run_spec(spec, x.view(), a.seed) {
            Err(e) => row.error = Some(format!("{e:#}")),
            Ok(f) => {
                let t = Instant::now();
                let e: Evaluation = evaluate(x.view(), &f.labels, &params).context("cannot evaluate")?;
                row.index_seconds = Some(t.elapsed().as_secs_f64());
                row.fit_seconds = Some(f.seconds);
                row.clusters = Some(e.n_clusters);
                row.noise = Some(e.n_noise);
                row.noise_fraction = Some(1.0 - e.coverage);
                row.silhouette = e.silhouette.map(|s| s.value);
                row.davies_bouldin = e.davies_bouldin;
                row.calinski_harabasz = e.calinski_harabasz;
                row.dbcv = e.dbcv.map(|d| d.value);
                row.relative_validity = f.relative_validity;
                row.index_errors = e.errors;
            }
        }
        rows.push(row);
    }
    if a.json {
        let report = Report {
            input: a.input.display().to_string(),
            rows: x.nrows(),
            features: x.ncols(),
            sample_seed: sample.as_ref().map(|_| a.seed),
            sample,
            distance: a.distance.clone(),
            algorithms: rows,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&rows, x.nrows(), x.ncols(), sample.is_some()));
    }
    Ok(())
}

fn table(rows: &[Row], n: usize, d: usize, sampled: bool) -> String {
    let f = |v: Option<f64>, p: usize| v.map_or("-".to_string(), |v| format!("{v:.p$}"));
    let width = rows.iter().map(|r| r.algorithm.len()).max().unwrap_or(9).max(9);
    let mut out = String::new();
    let _ = writeln!(out, "{n} rows × {d} features{}", if sampled { " (sample)" } else { "" });
    let _ = writeln!(
        out,
        "{:width$}  {:>8}  {:>6}  {:>10}  {:>8}  {:>12}  {:>7}  {:>8}",
        "algorithm", "clusters", "noise%", "silhouette", "DB", "CH", "DBCV", "seconds"
    );
    for r in rows {
        if let Some(e) = &r.error {
            let _ = writeln!(out, "{:width$}  error: {e}", r.algorithm);
            continue;
        }
        let _ = writeln!(
            out,
            "{:width$}  {:>8}  {:>6}  {:>10}  {:>8}  {:>12}  {:>7}  {:>8}",
            r.algorithm,
            r.clusters.map_or("-".into(), |c| c.to_string()),
            f(r.noise_fraction.map(|v| 100.0 * v), 1),
            f(r.silhouette, 4),
            f(r.davies_bouldin, 4),
            f(r.calinski_harabasz, 1),
            f(r.dbcv, 4),
            f(r.fit_seconds, 3),
        );
    }
    let notes: Vec<String> = rows
        .iter()
        .flat_map(|r| r.index_errors.iter().map(move |(k, v)| format!("{}: {k}: {v}", r.algorithm)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nundefined indices:");
        for n in notes {
            let _ = writeln!(out, "  {n}");
        }
    }
    let _ = writeln!(out, "\nnoise (label -1) is excluded from every index; DBCV counts it in N. seconds = fit time.");
    out
}
