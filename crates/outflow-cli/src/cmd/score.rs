//! `outflow score`: apply a saved model to new flows.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use outflow::io::{CsvWriter, Table, read_batches};
use outflow::run::{TableFormat, entity_scores_table, scores_table, scores_table_at, table_bytes};
use outflow::{AtomicFile, Detector};

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
    /// Flows read per batch (Zeek ASCII, Parquet and Arrow logs): a host or pair model aggregates each
    /// batch; a flow model scores and writes each, when the output is CSV to a file or standard output.
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
    let parquet = match a.out_format.as_deref() {
        Some(f) => f == "parquet",
        None => a.out.as_ref().is_some_and(|o| o.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))),
    };
    let local_out = match &a.out {
        Some(out) => crate::input::location(out)?.as_local().map(Path::to_owned).map(Some),
        None => Some(None),
    };
    match (detector.level().is_entity(), parquet, local_out) {
        (false, false, Some(out)) => return score_flows_in_batches(&a, &detector, out.as_deref()),
        #[cfg(feature = "arrow")]
        (false, true, Some(Some(out))) => return score_flows_to_parquet(&a, &detector, &out),
        _ => {}
    }
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
    let bytes = table_bytes(&scores, if parquet { TableFormat::Parquet } else { TableFormat::Csv })?;
    match &a.out {
        Some(out) => crate::input::write_output(out, &bytes, a.force)?,
        None => crate::input::write_stdout(&bytes)?,
    }
    Ok(())
}

/// Scores the flows of a log batch by batch (`--batch-rows`; formats read whole come as one batch) into
/// CSV on standard output or a local file, which appears whole when the last batch is written: memory
/// holds one batch, not the log. (Parquet to a local file too; to standard output or a store, the
/// scores are gathered first.)
fn score_flows_in_batches(a: &Args, detector: &Detector, out: Option<&Path>) -> Result<()> {
    let input = crate::input::open_input(&a.input)?;
    let mut file = out.map(|p| AtomicFile::create(p, a.force)).transpose()?;
    let mut columns: Option<Vec<String>> = None;
    let mut base = 0usize;
    let batch_rows = usize::try_from(a.batch_rows).unwrap_or(usize::MAX);
    read_batches(&input, &a.format.options()?, batch_rows, |batch: Table| -> Result<()> {
        crate::input::warn_replaced_text(&input, &batch);
        let scored = detector.score_log(&batch).with_context(|| format!("scoring {}", input.name()))?;
        let table = scores_table_at(&batch, &scored.scores, &[], base);
        base += batch.n_rows();
        let header = columns.is_none();
        let names = columns.get_or_insert_with(|| table.names().iter().map(|n| n.to_string()).collect());
        let mut w = CsvWriter::with_columns(Vec::new(), names.clone(), header)?;
        w.write(&table)?;
        let bytes = w.into_inner()?;
        match &mut file {
            Some(f) => f.write_all(&bytes).with_context(|| format!("writing {}", f.path().display()))?,
            None => crate::input::write_stdout(&bytes)?,
        }
        Ok(())
    })?;
    if let Some(f) = file {
        f.commit()?;
    }
    Ok(())
}

/// [`score_flows_in_batches`] into a local Parquet file (row groups of 65,536 rows; the column types of
/// the first batch).
#[cfg(feature = "arrow")]
fn score_flows_to_parquet(a: &Args, detector: &Detector, out: &Path) -> Result<()> {
    let input = crate::input::open_input(&a.input)?;
    let mut w = outflow::io::arrow::ParquetWriter::new(AtomicFile::create(out, a.force)?);
    let mut base = 0usize;
    let batch_rows = usize::try_from(a.batch_rows).unwrap_or(usize::MAX);
    read_batches(&input, &a.format.options()?, batch_rows, |batch: Table| -> Result<()> {
        crate::input::warn_replaced_text(&input, &batch);
        let scored = detector.score_log(&batch).with_context(|| format!("scoring {}", input.name()))?;
        w.write(&scores_table_at(&batch, &scored.scores, &[], base))
            .with_context(|| format!("writing {}", out.display()))?;
        base += batch.n_rows();
        Ok(())
    })?;
    w.finish()?.commit()?;
    Ok(())
}
