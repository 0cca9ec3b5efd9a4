//! Read a flow log of any supported format (Zeek TSV or JSON lines, CSV, KDD; gzip or plain) into a
//! typed table, and show what was detected: the format, the log family and each column's type and nulls.
//!
//! `cargo run -p outflow-io --example read_log [FILE]`
//!
//! Without FILE, the repository's sample Zeek conn log is read.

use std::process::ExitCode;

use outflow_io::{Family, Input, NullPolicy, ReadOptions, read_input, summarize};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/ctu-mixed-008.conn.log.labeled");

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| SAMPLE.to_owned());
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // IoError names the file, the 1-based line and the field of a malformed record.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str) -> Result<(), outflow_io::IoError> {
    // read_input also reports the format it detected; read_table(path, &opts) returns the table alone.
    let input = Input::path(path)?;
    let (table, format) = read_input(&input, &ReadOptions::default())?;
    println!("file:    {}", input.name());
    println!("gzip:    {}", input.is_gzip());
    println!("format:  {format}");
    println!("family:  {}", Family::detect(&table));
    println!("rows:    {}", table.n_rows());
    println!("columns: {}\n", table.n_cols());

    let summary = summarize(&table);
    println!("{:<16} {:<12} {:<11} {:>7}  range / top values", "column", "type", "declared", "nulls");
    for c in &summary.columns {
        let detail = match (c.min, c.max) {
            (Some(lo), Some(hi)) => format!("{lo} .. {hi}"),
            _ => c.top.iter().take(3).map(|t| format!("{} ({})", t.value, t.count)).collect::<Vec<_>>().join(", "),
        };
        println!(
            "{:<16} {:<12} {:<11} {:>7}  {detail}",
            c.name,
            c.dtype.name(),
            c.source_type.as_deref().unwrap_or("-"),
            c.nulls
        );
    }

    // The numeric columns as a matrix; NullPolicy::Error (the default) would refuse null cells.
    let numeric = table.numeric_names();
    let x = table.to_array(&numeric, NullPolicy::Nan)?;
    let nan = x.iter().filter(|v| v.is_nan()).count();
    println!("\nnumeric matrix: {} rows × {} columns, {nan} NaN cells", x.nrows(), x.ncols());
    Ok(())
}
