//! `outflow report`: plots and a self-contained HTML page of a run directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use outflow_report::{ReportOptions, ReportSummary, write_report};

/// Arguments of `outflow report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run directory written by `outflow detect --out DIR`.
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
    /// Print nothing on success.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    let opts =
        ReportOptions { seed: a.seed, overwrite: a.force, max_scatter_points: a.max_points, ..Default::default() };
    let s = write_report(&a.run_dir, &opts).with_context(|| format!("report of {}", a.run_dir.display()))?;
    if !a.quiet {
        print_summary(&s, &a.run_dir);
    }
    Ok(())
}

/// Writes the report of a run directory `outflow detect` has just written (replacing any old one).
pub fn after_detect(dir: &Path, seed: u64, quiet: bool) -> Result<()> {
    let opts = ReportOptions { seed, overwrite: true, ..Default::default() };
    let s = write_report(dir, &opts).with_context(|| format!("report of {}", dir.display()))?;
    if !quiet {
        print_summary(&s, dir);
    }
    Ok(())
}

fn print_summary(s: &ReportSummary, dir: &Path) {
    let drawn = s.figures.len() - s.skipped.len();
    println!(
        "wrote {} ({:.1} MB): {} figures ({} scatter points of {} sampled flows), PNG copies in {}",
        s.html.display(),
        s.html_bytes as f64 / 1e6,
        drawn,
        s.scatter_points,
        s.sample_rows,
        dir.join("figures").display()
    );
    for (id, why) in &s.skipped {
        println!("  skipped {id}: {why}");
    }
}
