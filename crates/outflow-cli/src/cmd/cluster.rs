//! `outflow cluster`: cluster a numeric CSV as is (no preprocessing) and write one label per row.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::cluster::{ClusterModel, ClusterSelection, Fit, HdbscanParams, Metric};

use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow cluster`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature.
    pub input: PathBuf,
    /// Clustering algorithm.
    #[arg(long, default_value = "hdbscan", value_parser = ["hdbscan"])]
    pub algorithm: String,
    /// HDBSCAN: smallest cluster.
    #[arg(long, default_value_t = 5)]
    pub min_cluster_size: usize,
    /// Neighbourhood size for core distances, the point itself included (default: min cluster size).
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
    /// Distance metric.
    #[arg(long, default_value = "euclidean", value_parser = ["euclidean", "manhattan", "chebyshev", "cosine"])]
    pub metric: String,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output CSV: `label,probability,outlier_score`, one row per input row, in input order.
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
    let params = HdbscanParams {
        min_cluster_size: a.min_cluster_size,
        min_samples: a.min_samples,
        cluster_selection_epsilon: a.epsilon,
        cluster_selection: if a.selection == "leaf" { ClusterSelection::Leaf } else { ClusterSelection::Eom },
        allow_single_cluster: a.allow_single_cluster,
        metric: a.metric.parse::<Metric>()?,
        ..Default::default()
    };
    let t1 = Instant::now();
    let model = params.fit(x.view())?;
    let fit_s = t1.elapsed().as_secs_f64();
    let mut out = String::with_capacity(x.nrows() * 24);
    out.push_str("label,probability,outlier_score\n");
    for i in 0..x.nrows() {
        use std::fmt::Write as _;
        let _ = writeln!(out, "{},{},{}", model.labels()[i], model.probabilities()[i], model.outlier_scores()[i]);
    }
    crate::output::write_atomic(&a.output, out.as_bytes())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "{} rows × {} features: {} clusters, {:.1}% noise (read {read_s:.3}s, fit {fit_s:.3}s)",
        x.nrows(),
        x.ncols(),
        model.n_clusters(),
        100.0 * model.noise_fraction()
    );
    Ok(())
}
