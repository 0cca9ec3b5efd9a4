//! Input arguments shared by every subcommand that reads a flow log.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use outflow::io::{CsvOptions, Format, Input, RaggedPolicy, ReadOptions, Table, read_input};

/// The sample log built into the binary: the default input of the main job.
pub const SAMPLE_NAME: &str = "ctu-mixed-008.conn.log.labeled";
const SAMPLE: &[u8] = include_bytes!("../../../examples/data/ctu-mixed-008.conn.log.labeled");

/// Format and CSV options.
#[derive(Args, Debug, Clone)]
pub struct FormatArgs {
    /// Input format.
    #[arg(long, default_value = "auto", value_parser = ["auto", "csv", "zeek", "zeek-json", "kdd"])]
    pub format: String,
    /// CSV field separator (one character; default: sniffed from the header).
    #[arg(long)]
    pub separator: Option<char>,
    /// CSV null token (repeatable; replaces the defaults: empty, NaN, nan, -, (empty), null).
    #[arg(long = "null")]
    pub nulls: Vec<String>,
    /// CSV records with a wrong field count: fail (error) or drop extra / fill missing (truncate).
    #[arg(long, default_value = "error", value_parser = ["error", "truncate"])]
    pub ragged: String,
}

impl FormatArgs {
    pub fn options(&self) -> Result<ReadOptions> {
        let mut csv = CsvOptions::default();
        if let Some(c) = self.separator {
            if !c.is_ascii() {
                bail!("--separator must be one ASCII character, got {c:?}");
            }
            csv.delimiter = Some(c as u8);
        }
        if !self.nulls.is_empty() {
            csv.null_tokens = self.nulls.clone();
        }
        csv.ragged = if self.ragged == "truncate" { RaggedPolicy::Truncate } else { RaggedPolicy::Error };
        Ok(ReadOptions { format: self.format.parse::<Format>()?, csv })
    }
}

/// Opens a path, or the built-in sample when `path` is `None`.
pub fn open(path: Option<&PathBuf>) -> Result<Input> {
    match path {
        Some(p) => Input::path(p).with_context(|| format!("cannot open {}", p.display())),
        None => Ok(Input::bytes(SAMPLE_NAME, SAMPLE.to_vec())),
    }
}

/// Reads a table; returns it with the format actually used.
pub fn read(path: Option<&PathBuf>, fmt: &FormatArgs) -> Result<(Input, Table, Format)> {
    let input = open(path)?;
    let (table, format) = read_input(&input, &fmt.options()?)?;
    Ok((input, table, format))
}
