//! `outflow report`: plots and a self-contained HTML page of a run directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use outflow::io::store::Location;
use outflow_report::{ReportOptions, ReportSummary, write_report};

/// Arguments of `outflow report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run directory written by `outflow detect --out DIR` (a path, or a URL such as
    /// s3://bucket/runs/r1: the run is downloaded, the report uploaded next to it).
    pub run_dir: PathBuf,
    /// Seed of the point sampling, k-means and the surrogate forest.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Replace an existing report.html.
    #[arg(long)]
    pub force: bool,
    /// Points drawn in each scatter plot at most (a seeded sample).
    #[arg(long, default_value_t = 3000)]
    pub max_points: usize,
    /// Flows in the t-SNE maps at most (a seeded sample of the scatter plots' points; 0: no t-SNE maps).
    #[arg(long, default_value_t = 2000)]
    pub tsne_points: usize,
    /// Flows in the UMAP maps at most (the same seeded sample as t-SNE's; 0: no UMAP maps).
    #[arg(long, default_value_t = 2000)]
    pub umap_points: usize,
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    let opts = ReportOptions {
        seed: a.seed,
        overwrite: a.force,
        max_scatter_points: a.max_points,
        tsne_points: a.tsne_points,
        umap_points: a.umap_points,
        ..Default::default()
    };
    let at = crate::input::location(&a.run_dir)?;
    if at.is_remote() {
        return remote(&a, &at, opts);
    }
    let s = match write_report(&a.run_dir, &opts) {
        Err(outflow_report::ReportError::Exists(path)) => {
            bail!("{} exists; pass --force to replace it", path.display())
        }
        r => r.with_context(|| format!("report of {}", crate::input::shown(&a.run_dir)))?,
    };
    if !a.quiet {
        print_summary(&s, &crate::input::shown(&a.run_dir));
    }
    Ok(())
}

/// The report of a run in an object store: the run downloaded to a temporary directory, the report
/// drawn there and uploaded next to the run (`report.html` last, so its presence means the figures are
/// there too).
fn remote(a: &Args, at: &Location, opts: ReportOptions) -> Result<()> {
    if !a.force && at.join(HTML).exists()? {
        bail!("{}/{HTML} exists; pass --force to replace it", at);
    }
    let staging = tempfile::Builder::new().prefix("outflow-report-").tempdir().context("a temporary directory")?;
    let dir = staging.path().join("run");
    outflow::run::download_run(at, &dir).with_context(|| format!("report of {at}"))?;
    let s =
        write_report(&dir, &ReportOptions { overwrite: true, ..opts }).with_context(|| format!("report of {at}"))?;
    let mut names: Vec<String> =
        Location::from(dir.as_path()).list()?.into_iter().filter(|n| n.starts_with("figures/")).collect();
    names.push(HTML.to_owned());
    outflow::run::upload_files(&dir, &names, at).with_context(|| format!("uploading the report of {at}"))?;
    if !a.quiet {
        print_summary(&s, &at.to_string());
    }
    Ok(())
}

/// Writes the report of a run directory `outflow detect` has just written (replacing any old one).
pub fn after_detect(dir: &Path, seed: u64) -> Result<ReportSummary> {
    let opts = ReportOptions { seed, overwrite: true, ..Default::default() };
    write_report(dir, &opts).with_context(|| format!("report of {}", dir.display()))
}

/// The report's file name in the run directory.
const HTML: &str = "report.html";

/// Prints what a report holds; `dir` names the run where it is (a URL for a run in a store).
pub fn print_summary(s: &ReportSummary, dir: &str) {
    let drawn = s.figures.len() - s.skipped.len();
    let file = s.html.file_name().map_or(HTML.into(), |n| n.to_string_lossy().into_owned());
    println!(
        "wrote {dir}/{file} ({:.1} MB): {} figures ({} scatter points of {} sampled flows), PNG copies in {dir}/figures",
        s.html_bytes as f64 / 1e6,
        drawn,
        s.scatter_points,
        s.sample_rows,
    );
    for (id, why) in &s.skipped {
        println!("  skipped {id}: {why}");
    }
}
