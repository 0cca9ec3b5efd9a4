//! Write the HTML report (inline SVG figures, PNG copies) of a run directory.
//!
//! `cargo run -p outflow-report --example report_of_run [RUN_DIR]`
//!
//! With RUN_DIR (made by `outflow detect --out RUN_DIR`), its `report.html` is written. Without, a
//! detector is fitted on the repository's sample log, its run directory is written to a new directory
//! under the system's temporary directory, and the report of that.

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use outflow::io::{Input, read_input};
use outflow::run::{RunDir, RunInput};
use outflow::{DetectorParams, ReadOptions};
use outflow_report::{ReportOptions, write_report};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/ctu-mixed-008.conn.log.labeled");

fn main() -> ExitCode {
    let result = match std::env::args().nth(1) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => sample_run(),
    };
    match result.and_then(report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fits the default detector on the sample log and writes a run directory, as `outflow detect` does.
fn sample_run() -> Result<PathBuf, Box<dyn Error>> {
    let started = Instant::now();
    let (table, format) = read_input(&Input::path(SAMPLE)?, &ReadOptions::default())?;
    let read_seconds = started.elapsed().as_secs_f64();
    let params = DetectorParams::default();
    let fit = params.fit(&table)?;
    println!("fitted on {} flows: {} clusters", fit.summary.rows_read, fit.summary.clusters.len());

    // create_dir (not create_dir_all) fails if the name is taken, so nothing existing is overwritten.
    let dir = std::env::temp_dir().join(format!("outflow-report-example-{}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let run = RunInput {
        input: "ctu-mixed-008.conn.log.labeled",
        format: format.name(),
        table: &table,
        rows_read: table.n_rows(),
        flows: &fit.flows,
        rows_selected: table.n_rows(),
        fit: &fit,
        fit_rows: None,
        levels: &[],
        tuning: None,
        seed: params.seed,
        read_seconds,
        tune_seconds: 0.0,
        model_key: None,
        table_format: Default::default(),
        started,
    };
    RunDir::write(&dir, &run)?;
    println!("run directory: {}", dir.display());
    Ok(dir)
}

fn report(dir: PathBuf) -> Result<(), Box<dyn Error>> {
    // Without `overwrite`, an existing report.html is an error rather than silently replaced.
    let summary = write_report(&dir, &ReportOptions::default())?;
    println!(
        "report: {} ({} bytes, {} sampled flows)",
        summary.html.display(),
        summary.html_bytes,
        summary.sample_rows
    );
    println!("figures ({}):", summary.figures.len());
    for f in &summary.figures {
        let png = f.png.as_deref().map(|p| p.strip_prefix(&dir).unwrap_or(p));
        let png = png.map_or("-".to_owned(), |p| p.display().to_string());
        println!("  {:<18} {:<28} {png}", f.id.as_str(), f.id.title());
    }
    for (id, why) in &summary.skipped {
        println!("  skipped {id}: {why}");
    }
    Ok(())
}
