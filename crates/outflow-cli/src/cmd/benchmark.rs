//! `outflow benchmark`: every outlier detector on the same prepared features of a labeled flow log,
//! ranked against the labels (the logic is `outflow::outlier::benchmark`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use outflow::outlier::benchmark::{BenchmarkParams, LabelRule, benchmark, parse_detectors};
use serde::Serialize;

use crate::input::{FormatArgs, read, set_threads};

/// Arguments of `outflow benchmark`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("class").required(true).args(["positive", "negative"])))]
pub struct Args {
    /// The labeled log (CSV, Zeek TSV or JSON lines, KDD; gzip allowed). Default: the built-in sample.
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Label column (never a feature).
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// Label value of the attacks (positives); every other value is normal. Matching is exact, except
    /// that one trailing dot is ignored (KDD Cup 99 writes `normal.`).
    #[arg(long)]
    pub positive: Option<String>,
    /// Label value of normal traffic (negatives); every other value is an attack (e.g. KDD: `normal`).
    #[arg(long)]
    pub negative: Option<String>,
    /// Detectors: `all` or a comma-separated list (iforest, lof, knn, knn_mean, knn_median, cblof, ecod,
    /// copod, gmm, gmm_diag, pca, pca_mahalanobis, pca_reconstruction, glosh, cluster_rarity,
    /// fusion_rank, fusion_zscore, fusion_max).
    #[arg(long, default_value = "all")]
    pub detectors: String,
    /// Share of positives after subsampling them (seeded), in (0, 0.5]; `none` keeps every row.
    #[arg(long, default_value = "0.03")]
    pub contamination: String,
    /// Seed of the subsampling and of the randomised detectors.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Do not time scoring the rows again with each fitted model (halves the run time).
    #[arg(long)]
    pub no_score_timing: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Output<'a> {
    input: &'a str,
    format: &'a str,
    read_seconds: f64,
    #[serde(flatten)]
    report: &'a outflow::outlier::BenchmarkReport,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    let contamination = match a.contamination.trim().to_ascii_lowercase().as_str() {
        "none" | "off" => None,
        s => match s.parse::<f64>() {
            Ok(c) => Some(c),
            Err(_) => bail!("--contamination must be a number in (0, 0.5] or `none`, got '{}'", a.contamination),
        },
    };
    let label = match (&a.positive, &a.negative) {
        (Some(p), None) => LabelRule::positive(&a.label_column, p),
        (None, Some(n)) => LabelRule::negative(&a.label_column, n),
        _ => bail!("give exactly one of --positive and --negative"),
    };
    let t0 = Instant::now();
    let (input, table, format) = read(a.input.as_ref(), &a.format)?;
    let read_seconds = t0.elapsed().as_secs_f64();
    let mut config = BenchmarkParams::new(label, a.seed);
    config.contamination = contamination;
    config.detectors = parse_detectors(&a.detectors, a.seed)?;
    config.time_scoring = !a.no_score_timing;
    let report = benchmark(&table, &config)?;
    if a.json {
        let out = Output { input: input.name(), format: format.name(), read_seconds, report: &report };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}: {} ({} rows, read in {read_seconds:.2}s)", input.name(), format, table.n_rows());
        print!("{report}");
    }
    Ok(())
}
