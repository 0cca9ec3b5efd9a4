//! `outflow validate`: internal validation indices of a labelling (silhouette, Davies–Bouldin,
//! Calinski–Harabasz, DBCV), noise excluded, as JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::cluster::Metric;
use outflow::io::{CsvOptions, Format, ReadOptions, read_input};
use outflow::validate::{EvaluateParams, Evaluation, evaluate};
use serde::Serialize;

use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature (as `outflow cluster` reads it).
    pub input: PathBuf,
    /// CSV with a `label` column (integer cluster ids, -1 = noise), one row per INPUT row, in the same
    /// order — e.g. the output of `outflow cluster`.
    pub labels: PathBuf,
    /// Index to compute (`all`: every index; one that is undefined for this labelling is reported under
    /// `errors`; a single index that is undefined is an error).
    #[arg(long, default_value = "all",
          value_parser = ["all", "silhouette", "davies-bouldin", "calinski-harabasz", "dbcv"])]
    pub metric: String,
    /// Label column of LABELS.
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// Distance of the silhouette and DBCV (Davies–Bouldin and Calinski–Harabasz are Euclidean).
    #[arg(long, default_value = "euclidean", value_parser = crate::algorithm::metric_text)]
    pub distance: String,
    /// Silhouette on a seeded sample of this many non-noise rows, at least 2 (default: exact, all pairs).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..))]
    pub sample: Option<usize>,
    /// Seed of the silhouette sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    input: String,
    labels: String,
    features: usize,
    metric: &'a str,
    distance: &'a str,
    read_seconds: f64,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
}

/// Integer labels of `column` in a CSV (as `outflow cluster` writes them).
pub fn read_labels(path: &Path, column: &str) -> Result<Vec<i64>> {
    let input = crate::input::open_input(path).with_context(|| format!("cannot open {}", crate::input::shown(path)))?;
    let opts = ReadOptions { format: Format::Csv, csv: CsvOptions::default(), columns: None };
    let (table, _) = read_input(&input, &opts).with_context(|| format!("cannot read {}", crate::input::shown(path)))?;
    outflow::explain::labels_from_table(&table, column).with_context(|| crate::input::shown(path))
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    let t0 = Instant::now();
    let (_, x) = numeric_csv(&a.input)?;
    let labels = read_labels(&a.labels, &a.label_column)?;
    if labels.len() != x.nrows() {
        bail!(
            "{} has {} labels for the {} rows of {}",
            crate::input::shown(&a.labels),
            labels.len(),
            x.nrows(),
            crate::input::shown(&a.input)
        );
    }
    let read_seconds = t0.elapsed().as_secs_f64();
    let all = a.metric == "all";
    let params = EvaluateParams {
        silhouette: all || a.metric == "silhouette",
        davies_bouldin: all || a.metric == "davies-bouldin",
        calinski_harabasz: all || a.metric == "calinski-harabasz",
        dbcv: all || a.metric == "dbcv",
        metric: a.distance.parse::<Metric>()?,
        silhouette_sample: a.sample,
        seed: a.seed,
    };
    let evaluation = evaluate(x.view(), &labels, &params).context("cannot validate")?;
    if !all && let Some(reason) = evaluation.errors.values().next() {
        bail!("{}: {reason}", a.metric);
    }
    let report = Report {
        input: crate::input::shown(&a.input),
        labels: crate::input::shown(&a.labels),
        features: x.ncols(),
        metric: &a.metric,
        distance: &a.distance,
        read_seconds,
        evaluation: &evaluation,
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
