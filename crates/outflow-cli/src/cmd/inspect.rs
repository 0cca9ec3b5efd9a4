//! `outflow inspect`: what is in a flow log.

use std::path::PathBuf;

use anyhow::Result;
use outflow::io::{ColumnSummary, summarize};
use serde::Serialize;

use crate::input::{FormatArgs, read};

/// Arguments of `outflow inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The log (CSV, Zeek TSV or JSON lines, KDD; gzip allowed). Default: the built-in sample.
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    input: &'a str,
    format: &'a str,
    rows: usize,
    columns: &'a [ColumnSummary],
}

pub fn run(args: Args) -> Result<()> {
    let (input, table, format) = read(args.input.as_ref(), &args.format)?;
    let summary = summarize(&table);
    let report = Report { input: input.name(), format: format.name(), rows: summary.rows, columns: &summary.columns };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: {} ({}), {} rows, {} columns",
        report.input,
        format,
        if input.is_gzip() { "gzip" } else { "plain" },
        report.rows,
        report.columns.len()
    );
    let ty = |c: &ColumnSummary| match &c.source_type {
        Some(s) => format!("{} ({s})", c.dtype),
        None => c.dtype.to_string(),
    };
    let w =
        report.columns.iter().map(|c| c.name.chars().count()).max().unwrap_or(4).clamp(6, crate::input::MAX_CELL_WIDTH);
    let tw = report.columns.iter().map(|c| ty(c).len()).max().unwrap_or(4).clamp(4, crate::input::MAX_CELL_WIDTH);
    println!("{:<w$}  {:<tw$}  {:>8}  summary", "column", "type", "nulls");
    for c in report.columns {
        let detail = if c.dtype.is_numeric() {
            match (c.min, c.median, c.max) {
                (Some(a), Some(m), Some(b)) => format!("min {} | median {} | max {}", num(a), num(m), num(b)),
                _ => "all null".to_owned(),
            }
        } else {
            let top: Vec<String> = c.top.iter().map(|t| format!("{} ({})", shorten(&t.value), t.count)).collect();
            format!("{} distinct: {}", c.distinct.unwrap_or(0), top.join(", "))
        };
        println!("{:<w$}  {:<tw$}  {:>8}  {detail}", c.name, ty(c), c.nulls);
    }
    Ok(())
}

fn num(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { format!("{x:.6}") }
}

fn shorten(s: &str) -> String {
    let s = if s.is_empty() { "\"\"" } else { s };
    if s.chars().count() > 28 { format!("{}…", s.chars().take(27).collect::<String>()) } else { s.to_owned() }
}
