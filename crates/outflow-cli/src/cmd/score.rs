//! `outflow score`: apply a saved model to new flows.

use std::path::PathBuf;

use anyhow::{Context, Result};
use outflow::Detector;
use outflow::run::{TableFormat, entity_scores_table, scores_table, table_bytes};

use crate::input::{FormatArgs, aggregate_batches, read};

/// Arguments of `outflow score`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A model file written by `outflow detect`, or its run directory (the model its summary.json
    /// names); a path or a URL (s3://, gs://, az://, http(s)://).
    pub model: PathBuf,
    /// The flows to score (same kind of log as the training one; a path or a URL). A host or pair model
    /// aggregates them as at training time and writes host or pair rows (as hosts.csv / pairs.csv).
    pub input: PathBuf,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Output file or object URL (default: standard output).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Output format: csv, or parquet (the same columns, typed; default: parquet when OUT ends in
    /// `.parquet`, else csv).
    #[arg(long, value_parser = ["csv", "parquet"])]
    pub out_format: Option<String>,
    /// Replace OUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Flows read per batch by a host or pair model (a Zeek ASCII log is aggregated batch by batch).
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
}

pub fn run(a: Args) -> Result<()> {
    crate::input::set_threads(a.threads)?;
    if let Some(out) = &a.out {
        crate::input::check_output(out, a.force)?;
    }
    let model = crate::input::model_location(&a.model)?;
    let detector = Detector::load_at(&model, outflow::ModelKey::from_env()?.as_ref())?;
    // Flow models write one line per flow; host and pair models their rows, highest score first.
    let scores = if detector.level().is_entity() {
        let level = detector.level();
        let input = crate::input::open_input(&a.input)?;
        let aggregation = &detector.params().aggregation;
        let mut read = aggregate_batches(&input, &a.format, a.batch_rows, aggregation, &[level], None)?;
        let entities = read.take(level);
        let scored = detector
            .score_entities(entities.expect("aggregated at the model's level"))
            .with_context(|| format!("scoring {}", crate::input::shown(&a.input)))?;
        entity_scores_table(scored.entities.as_ref().expect("entity rows"), &scored.scores, &scored.reasons)
    } else {
        let (_, table, _) = read(Some(&a.input), &a.format)?;
        let scored =
            detector.score_log(&table).with_context(|| format!("scoring {}", crate::input::shown(&a.input)))?;
        scores_table(&table, &scored.scores, &[])
    };
    let parquet = match a.out_format.as_deref() {
        Some(f) => f == "parquet",
        None => a.out.as_ref().is_some_and(|o| o.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))),
    };
    let bytes = table_bytes(&scores, if parquet { TableFormat::Parquet } else { TableFormat::Csv })?;
    match &a.out {
        Some(out) => crate::input::write_output(out, &bytes, a.force)?,
        None => crate::input::write_stdout(&bytes)?,
    }
    Ok(())
}
