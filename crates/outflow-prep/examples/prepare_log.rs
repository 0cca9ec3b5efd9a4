//! Turn a flow log into a feature matrix with the preset for its log family, see what every cleaning
//! and selection step removed, and reuse the fitted pipeline on flows read later.
//!
//! `cargo run -p outflow-prep --example prepare_log [FILE]`
//!
//! Without FILE, the repository's sample Zeek conn log is read.

use std::error::Error;
use std::process::ExitCode;

use outflow_io::{ReadOptions, read_table};
use outflow_prep::{PrepParams, Step};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/ctu-mixed-008.conn.log.labeled");

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| SAMPLE.to_owned());
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str) -> Result<(), Box<dyn Error>> {
    let table = read_table(path, &ReadOptions::default())?;
    // The preset follows the columns: Zeek, CICFlowMeter, KDD, RT-IoT or generic.
    let params = PrepParams::auto(&table);
    let fit = params.fit(&table)?;
    let report = &fit.report;
    println!("preset {}: {} of {} rows kept", report.preset, report.rows, report.input_rows);

    // Selection steps are listed with their reasons in `pruned`, below.
    let selection = [Step::Correlation, Step::LowVariance, Step::Leakage];
    println!("\ncleaning steps:");
    for s in report.steps.iter().filter(|s| !s.is_noop() && !selection.contains(&s.step)) {
        println!("  {:<13} rows removed: {}", s.step.name(), s.rows_removed);
        for c in &s.columns_removed {
            println!("      - {:<16} {}", c.column, c.reason);
        }
        if !s.columns_added.is_empty() {
            println!("      + {}", s.columns_added.join(", "));
        }
        for i in &s.imputed {
            println!("      {} nulls in {} set to {}", i.count, i.column, i.value);
        }
        if !s.converted.is_empty() {
            println!("      to 0/1: {}", s.converted.join(", "));
        }
    }

    println!("\nselection pruned {} of {} candidates:", report.pruned.len(), report.candidates.len());
    for p in &report.pruned {
        println!("  {:<16} [{}] {}", p.name, p.rule, p.reason);
    }
    println!("\nfeatures kept ({}), scaler {}:", report.features.len(), report.scaler);
    println!("  {}", report.features.join(", "));
    for w in &report.warnings {
        println!("warning: {w}");
    }

    // The fitted Prep reads new flows by column name; here the same table stands in for tomorrow's log.
    let again = fit.prep.transform(&table)?;
    let x = again.model_input();
    println!("\ntransform: {} rows × {} features, {} rows rejected", x.nrows(), x.ncols(), again.n_rejected());
    if let Some((row, why)) = again.rows.iter().enumerate().find_map(|(i, r)| r.rejection().map(|why| (i, why))) {
        println!("  e.g. input row {row}: {why}");
    }
    println!("  same as the training output: {}", again.scaled == fit.output.scaled);
    Ok(())
}
