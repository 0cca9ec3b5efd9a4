//! `outflow embed`: a low-dimensional map of a numeric CSV (UMAP with umap-learn's definition, or t-SNE
//! with scikit-learn's), one output row per input row.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ndarray::Array2;
use outflow::embed::{Fit, LearningRate, Metric, TsneInit, TsneParams, UmapInit, UmapParams, trustworthiness};

use crate::input::{numeric_csv, set_threads, shown};

/// Arguments of `outflow embed`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature (as `outflow cluster` reads it).
    pub input: PathBuf,
    /// The embedding: `umap` (umap-learn's `UMAP` defaults) or `tsne` (Barnes–Hut t-SNE with
    /// scikit-learn's `TSNE` defaults and schedule).
    #[arg(long, default_value = "tsne", value_parser = ["tsne", "umap"])]
    pub method: String,
    /// Dimensions of the map (t-SNE: 1 to 3; UMAP: at least 1).
    #[arg(long, default_value_t = 2)]
    pub n_components: usize,
    /// UMAP: neighbourhood size, the row itself included (2 to rows − 1).
    #[arg(long, default_value_t = 15)]
    pub n_neighbors: usize,
    /// UMAP: smallest distance between mapped points, in [0, --spread].
    #[arg(long, default_value_t = 0.1)]
    pub min_dist: f64,
    /// UMAP: scale of the mapped points.
    #[arg(long, default_value_t = 1.0)]
    pub spread: f64,
    /// UMAP: distance of the input space (euclidean, manhattan, chebyshev, cosine, minkowski:P).
    #[arg(long, default_value = "euclidean")]
    pub metric: String,
    /// UMAP: epochs of the layout (default 500 up to 10,000 rows, else 200).
    #[arg(long)]
    pub n_epochs: Option<usize>,
    /// t-SNE: effective number of neighbours of each row (below the number of rows).
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f64,
    /// t-SNE: factor on the affinities during the first 250 iterations.
    #[arg(long, default_value_t = 12.0)]
    pub early_exaggeration: f64,
    /// Step size. t-SNE: `auto` (max(rows / early_exaggeration / 4, 50), the default) or a number;
    /// UMAP: a number (default 1).
    #[arg(long)]
    pub learning_rate: Option<String>,
    /// t-SNE: iterations in all (at least 250).
    #[arg(long, default_value_t = 1000)]
    pub max_iter: usize,
    /// t-SNE: Barnes–Hut angle in [0, 1] (larger: faster, coarser).
    #[arg(long, default_value_t = 0.5)]
    pub angle: f64,
    /// Start of the map: `pca`, `random` (from --seed) or, UMAP only, `spectral`. Default: `pca` for
    /// t-SNE, `spectral` for UMAP.
    #[arg(long, value_parser = ["pca", "random", "spectral"])]
    pub init: Option<String>,
    /// Seed of a random start (and of UMAP's negative samples).
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
    let method = Method::from_args(&a)?;
    let t0 = Instant::now();
    let (_, x) = numeric_csv(&a.input)?;
    let read_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let (embedding, what) = match &method {
        Method::Tsne(params) => {
            let fit = params.fit(x.view()).with_context(|| shown(&a.input))?;
            let what = format!(
                "t-SNE to {} dimensions, KL divergence {:.4} after {} iterations (learning rate {:.1}; ",
                a.n_components,
                fit.kl_divergence,
                fit.n_iter + 1,
                fit.learning_rate
            );
            (fit.embedding, what)
        }
        Method::Umap(params) => {
            let fit = params.fit(x.view()).with_context(|| shown(&a.input))?;
            let what = format!(
                "UMAP to {} dimensions, {} neighbours, {} epochs (",
                a.n_components,
                params.n_neighbors,
                params.epochs_for(x.nrows())
            );
            (fit.embedding, what)
        }
    };
    let fit_s = t.elapsed().as_secs_f64();
    write_map(&a, &embedding)?;
    let mut summary = format!("{} rows × {} features: {what}read {read_s:.3}s, fit {fit_s:.3}s)", x.nrows(), x.ncols());
    if let Some(k) = a.trustworthiness {
        let tw = trustworthiness(x.view(), embedding.view(), k).context("--trustworthiness")?;
        let _ = write!(summary, ", trustworthiness at {k} neighbours {tw:.4}");
    }
    eprintln!("{summary}");
    Ok(())
}

/// The embedding asked for, its parameters checked before the input is read.
enum Method {
    Tsne(TsneParams),
    Umap(UmapParams),
}

impl Method {
    fn from_args(a: &Args) -> Result<Self> {
        if a.method == "umap" {
            let learning_rate = match a.learning_rate.as_deref() {
                None => 1.0,
                Some(v) => {
                    v.parse::<f64>().map_err(|_| anyhow::anyhow!("--learning-rate: '{v}' is not a number (UMAP)"))?
                }
            };
            let init = match a.init.as_deref() {
                None | Some("spectral") => UmapInit::Spectral,
                Some("pca") => UmapInit::Pca,
                _ => UmapInit::Random,
            };
            let metric: Metric = a.metric.parse().map_err(|e| anyhow::anyhow!("--metric: {e}"))?;
            let params = UmapParams {
                n_neighbors: a.n_neighbors,
                n_components: a.n_components,
                metric,
                min_dist: a.min_dist,
                spread: a.spread,
                n_epochs: a.n_epochs,
                learning_rate,
                init,
                seed: a.seed,
                ..Default::default()
            };
            params.validate()?;
            return Ok(Method::Umap(params));
        }
        let learning_rate = match a.learning_rate.as_deref() {
            None | Some("auto") => LearningRate::Auto,
            Some(v) => match v.parse::<f64>() {
                Ok(r) => LearningRate::Fixed(r),
                Err(_) => bail!("--learning-rate: '{v}' is neither `auto` nor a number"),
            },
        };
        let init = match a.init.as_deref() {
            None | Some("pca") => TsneInit::Pca,
            Some("random") => TsneInit::Random,
            Some(other) => bail!("--init {other} is UMAP's; t-SNE starts from `pca` or `random`"),
        };
        let params = TsneParams {
            n_components: a.n_components,
            perplexity: a.perplexity,
            early_exaggeration: a.early_exaggeration,
            learning_rate,
            max_iter: a.max_iter,
            angle: a.angle,
            init,
            seed: a.seed,
            ..Default::default()
        };
        params.validate()?;
        Ok(Method::Tsne(params))
    }
}

/// Writes the map, columns `x0`, `x1`, …, one row per input row.
fn write_map(a: &Args, embedding: &Array2<f64>) -> Result<()> {
    let mut out = String::with_capacity(embedding.nrows() * 12 * embedding.ncols());
    let header: Vec<String> = (0..embedding.ncols()).map(|j| format!("x{j}")).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in embedding.rows() {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    crate::input::write_output(&a.output, out.as_bytes(), a.force)
        .with_context(|| format!("cannot write {}", shown(&a.output)))
}
