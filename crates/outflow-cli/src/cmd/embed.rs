//! `outflow embed`: a 1- to 3-dimensional map of a numeric CSV (t-SNE, scikit-learn's definition), one
//! output row per input row.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::embed::{Fit, LearningRate, TsneInit, TsneParams, trustworthiness};

use crate::input::{numeric_csv, set_threads, shown};

/// Arguments of `outflow embed`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature (as `outflow cluster` reads it).
    pub input: PathBuf,
    /// The embedding: `tsne` (Barnes–Hut t-SNE with scikit-learn's `TSNE` defaults and schedule).
    #[arg(long, default_value = "tsne", value_parser = ["tsne"])]
    pub method: String,
    /// Dimensions of the map (1 to 3).
    #[arg(long, default_value_t = 2)]
    pub n_components: usize,
    /// t-SNE: effective number of neighbours of each row (below the number of rows).
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f64,
    /// t-SNE: factor on the affinities during the first 250 iterations.
    #[arg(long, default_value_t = 12.0)]
    pub early_exaggeration: f64,
    /// t-SNE: step size, `auto` (max(rows / early_exaggeration / 4, 50)) or a number.
    #[arg(long, default_value = "auto")]
    pub learning_rate: String,
    /// t-SNE: iterations in all (at least 250).
    #[arg(long, default_value_t = 1000)]
    pub max_iter: usize,
    /// t-SNE: Barnes–Hut angle in [0, 1] (larger: faster, coarser).
    #[arg(long, default_value_t = 0.5)]
    pub angle: f64,
    /// Start of the map: `pca` (deterministic) or `random` (from --seed).
    #[arg(long, default_value = "pca", value_parser = ["pca", "random"])]
    pub init: String,
    /// Seed of a random start.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also print the map's trustworthiness for this many neighbours (scikit-learn's
    /// `manifold.trustworthiness`; exact, O(rows²)).
    #[arg(long, value_name = "K")]
    pub trustworthiness: Option<usize>,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output CSV, one row per input row in input order, columns `x0`, `x1`, ….
    #[arg(long, short)]
    pub output: PathBuf,
    /// Overwrite OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    crate::input::check_output(&a.output, a.force)?;
    let learning_rate = match a.learning_rate.as_str() {
        "auto" => LearningRate::Auto,
        v => match v.parse::<f64>() {
            Ok(r) => LearningRate::Fixed(r),
            Err(_) => bail!("--learning-rate: '{v}' is neither `auto` nor a number"),
        },
    };
    let params = TsneParams {
        n_components: a.n_components,
        perplexity: a.perplexity,
        early_exaggeration: a.early_exaggeration,
        learning_rate,
        max_iter: a.max_iter,
        angle: a.angle,
        init: if a.init == "random" { TsneInit::Random } else { TsneInit::Pca },
        seed: a.seed,
        ..Default::default()
    };
    params.validate()?;
    let t0 = Instant::now();
    let (_, x) = numeric_csv(&a.input)?;
    let read_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let fit = params.fit(x.view()).with_context(|| shown(&a.input))?;
    let fit_s = t.elapsed().as_secs_f64();
    let mut out = String::with_capacity(x.nrows() * 12 * a.n_components);
    let header: Vec<String> = (0..a.n_components).map(|j| format!("x{j}")).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in fit.embedding.rows() {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    crate::input::write_output(&a.output, out.as_bytes(), a.force)
        .with_context(|| format!("cannot write {}", shown(&a.output)))?;
    let mut summary = format!(
        "{} rows × {} features: t-SNE to {} dimensions, KL divergence {:.4} after {} iterations (learning rate {:.1}; read {read_s:.3}s, fit {fit_s:.3}s)",
        x.nrows(),
        x.ncols(),
        a.n_components,
        fit.kl_divergence,
        fit.n_iter + 1,
        fit.learning_rate
    );
    if let Some(k) = a.trustworthiness {
        let tw = trustworthiness(x.view(), fit.embedding.view(), k).context("--trustworthiness")?;
        let _ = write!(summary, ", trustworthiness at {k} neighbours {tw:.4}");
    }
    eprintln!("{summary}");
    Ok(())
}
