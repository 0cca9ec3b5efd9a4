//! `outflow score`: apply a saved model to new flows.

use std::path::PathBuf;

use anyhow::{Context, Result};
use outflow::Detector;
use outflow::run::{entity_scores_csv, scores_csv};

use crate::input::{FormatArgs, read};

/// Arguments of `outflow score`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A model file written by `outflow detect`.
    pub model: PathBuf,
    /// The flows to score (same kind of log as the training one). A host or pair model aggregates them
    /// as at training time and writes host or pair rows (as hosts.csv / pairs.csv).
    pub input: PathBuf,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Output CSV (default: standard output).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace OUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(a: Args) -> Result<()> {
    crate::input::set_threads(a.threads)?;
    if let Some(out) = &a.out
        && out.exists()
        && !a.force
    {
        anyhow::bail!("{} exists; pass --force to replace it", out.display());
    }
    let detector = Detector::load(&a.model)?;
    let (_, table, _) = read(Some(&a.input), &a.format)?;
    let scored = detector.score_log(&table).with_context(|| format!("scoring {}", a.input.display()))?;
    // Flow models write one line per flow; host and pair models their rows, highest score first.
    let csv = match &scored.entities {
        None => scores_csv(&table, &scored.scores),
        Some(e) => entity_scores_csv(e, &scored.scores, &scored.reasons),
    };
    match &a.out {
        Some(out) => outflow::write_atomic(out, csv.as_bytes(), a.force)?,
        None => crate::input::write_stdout(csv.as_bytes())?,
    }
    Ok(())
}
