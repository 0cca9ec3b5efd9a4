//! `outflow compare`: run several clustering algorithms on the same data and compare them by internal
//! indices — clusters, noise, silhouette, Davies–Bouldin, Calinski–Harabasz, DBCV and seconds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ndarray::{Array2, ArrayView2};
use outflow::cluster::{Algorithm, ClusterModel, Fit, Metric};
use outflow::sample_indices;
use outflow::validate::{EvaluateParams, Evaluation, evaluate, relative_validity};
use serde::Serialize;

use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow compare`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature (used as is: scale it first).
    pub input: PathBuf,
    /// An algorithm and its parameters, `NAME:key=value,key=value` (repeatable, at least one); the keys
    /// are the algorithm's parameters: `kmeans:k=K[,n_init=1,max_iter=300,seed=S]`,
    /// `ward:k=K[,sample=N,seed=S]`, `hdbscan:min_cluster_size=M[,min_samples=S,epsilon=E,
    /// selection=eom|leaf,allow_single_cluster=true,metric=euclidean]`,
    /// `dbscan:eps=E|auto[,min_samples=5,eps_k=4,metric=euclidean]`. `min_samples` counts the point itself;
    /// `seed` defaults to --seed.
    #[arg(long = "algorithm", short = 'a', required = true)]
    pub algorithms: Vec<String>,
    /// Run everything on a seeded sample of this many rows (the silhouette is O(n²) and DBCV O(Σ cluster²):
    /// sample inputs beyond a few tens of thousands of rows).
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of the sample and default seed of the algorithms.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Silhouette on a seeded sample of this many non-noise rows, at least 2 (default: exact, all pairs).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..))]
    pub silhouette_sample: Option<usize>,
    /// Distance of the silhouette and DBCV.
    #[arg(long, default_value = "euclidean", value_parser = crate::algorithm::metric_text)]
    pub distance: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Labels of one fitted algorithm, its fit time and (HDBSCAN) the relative validity of its tree.
struct Fitted {
    labels: Vec<i64>,
    seconds: f64,
    relative_validity: Option<f64>,
}

/// An `--algorithm NAME:key=value,...` argument: the algorithm, seeded with `seed` unless it sets its own.
fn parse_spec(spec: &str, seed: u64) -> Result<Algorithm> {
    let a = Algorithm::from_spec(spec)?;
    a.validate()?;
    let own_seed = spec.split_once(':').is_some_and(|(_, rest)| {
        rest.split(',').any(|kv| kv.split_once('=').is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("seed")))
    });
    Ok(if own_seed { a } else { a.with_seed(seed) })
}

fn run_spec(algorithm: &Algorithm, x: ArrayView2<'_, f64>) -> Result<Fitted> {
    let t = Instant::now();
    let model = algorithm.fit(x)?;
    let seconds = t.elapsed().as_secs_f64();
    let relative_validity = model.as_hdbscan().and_then(|h| relative_validity(h).ok());
    Ok(Fitted { labels: model.labels().to_vec(), seconds, relative_validity })
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
    // A spec that does not parse is a usage error, found before anything runs; an algorithm that fails
    // on the data is reported in its row.
    let specs: Vec<(String, Algorithm)> = a
        .algorithms
        .iter()
        .map(|s| parse_spec(s, a.seed).with_context(|| format!("--algorithm {s}")).map(|alg| (s.clone(), alg)))
        .collect::<Result<_>>()?;
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
    for (text, alg) in &specs {
        let mut row = Row {
            algorithm: text.clone(),
            name: alg.name().to_owned(),
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
        match run_spec(alg, x.view()) {
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
    let none = rows.iter().all(|r| r.error.is_some());
    if a.json {
        let report = Report {
            input: crate::input::shown(&a.input),
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
    if none {
        bail!("no algorithm produced a clustering (each one's error is in its row)");
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
