//! `outflow tendency`: is there cluster structure, and how many clusters? Hopkins statistic, pairwise
//! distance summary, and per k the k-means inertia, silhouette and gap statistic with the k each rule
//! picks — as JSON.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use outflow::validate::{DistanceSummary, Hopkins, KRow, TendencyParams, tendency};
use serde::Serialize;

use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow tendency`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature.
    pub input: PathBuf,
    /// Smallest k (≥ 1; 1 lets the gap statistic say "no clusters").
    #[arg(long, default_value_t = 2)]
    pub k_min: usize,
    /// Largest k.
    #[arg(long, default_value_t = 15)]
    pub k_max: usize,
    /// Uniform reference sets of the gap statistic (B).
    #[arg(long, default_value_t = 5)]
    pub refs: usize,
    /// Seed of every random choice (samples, reference sets, k-means).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// k-means runs per fit (the lowest inertia wins).
    #[arg(long, default_value_t = 3)]
    pub n_init: usize,
    /// Hopkins sample (default: min(10 % of the rows, 500)).
    #[arg(long)]
    pub hopkins_sample: Option<usize>,
    /// Silhouette per k on a seeded sample of this many rows (0 = exact, O(n²) per k).
    #[arg(long, default_value_t = 10_000)]
    pub silhouette_sample: usize,
    /// Rows sampled for the pairwise-distance summary.
    #[arg(long, default_value_t = 1000)]
    pub distance_sample: usize,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Serialize)]
struct ChosenK {
    gap: Option<usize>,
    elbow: Option<usize>,
    silhouette: Option<usize>,
}

#[derive(Serialize)]
struct Report {
    input: String,
    rows: usize,
    features: usize,
    params: TendencyParams,
    hopkins: Hopkins,
    distances: DistanceSummary,
    k: Vec<KRow>,
    chosen_k: ChosenK,
    seconds: f64,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    let (_, x) = numeric_csv(&a.input)?;
    let params = TendencyParams {
        k_min: a.k_min,
        k_max: a.k_max,
        n_refs: a.refs,
        seed: a.seed,
        n_init: a.n_init,
        hopkins_sample: a.hopkins_sample,
        silhouette_sample: (a.silhouette_sample > 0).then_some(a.silhouette_sample),
        distance_sample: a.distance_sample,
    };
    let t0 = Instant::now();
    let t = tendency(x.view(), &params).with_context(|| crate::input::shown(&a.input))?;
    let report = Report {
        input: crate::input::shown(&a.input),
        rows: t.n_rows,
        features: t.n_features,
        params,
        hopkins: t.hopkins,
        distances: t.distances,
        chosen_k: ChosenK { gap: t.table.k_gap, elbow: t.table.k_elbow, silhouette: t.table.k_silhouette },
        k: t.table.rows,
        seconds: t0.elapsed().as_secs_f64(),
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
