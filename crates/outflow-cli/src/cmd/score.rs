//! `outflow score`: apply a saved model to new flows.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use outflow::io::{Table, read_batches};
use outflow::run::{TableFormat, TableWriter, entity_scores_table, scores_table, scores_table_at, table_bytes};
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
    /// Flows read per batch (every format but Zeek JSON): a host or pair model aggregates each
    /// batch; a flow model scores and writes each, when the output is a local file or standard output.
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
    let format = if parquet { TableFormat::Parquet } else { TableFormat::Csv };
    if let (false, Some(out)) = (detector.level().is_entity(), local_out) {
        return score_flows_in_batches(&a, &detector, out.as_deref(), format);
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
    let bytes = table_bytes(&scores, format)?;
    match &a.out {
        Some(out) => crate::input::write_output(out, &bytes, a.force)?,
        None => crate::input::write_stdout(&bytes)?,
    }
    Ok(())
}

/// Scores the flows of a log batch by batch (`--batch-rows`; formats read whole come as one batch) into
/// standard output or a local file, which appears whole when the last batch is written: memory holds
/// one batch, not the log. Standard output closed by its reader (`| head`) ends the run quietly.
fn score_flows_in_batches(a: &Args, detector: &Detector, out: Option<&Path>, format: TableFormat) -> Result<()> {
    match out {
        Some(path) => {
            let file = AtomicFile::create(path, a.force)?;
            stream_flow_scores(a, detector, file, format, &|| false)?.commit()?;
        }
        None => {
            let closed = Arc::new(AtomicBool::new(false));
            let stdout = crate::input::QuietStdout::new(Arc::clone(&closed));
            match stream_flow_scores(a, detector, stdout, format, &|| closed.load(Ordering::Relaxed)) {
                Err(e) if e.is::<ReaderGone>() => {}
                r => {
                    r?;
                }
            }
        }
    }
    Ok(())
}

/// The reader of standard output stopped: no need to score the rest.
#[derive(Debug)]
struct ReaderGone;

impl std::fmt::Display for ReaderGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for ReaderGone {}

fn stream_flow_scores<W: Write + Send>(
    a: &Args,
    detector: &Detector,
    out: W,
    format: TableFormat,
    reader_gone: &dyn Fn() -> bool,
) -> Result<W> {
    let input = crate::input::open_input(&a.input)?;
    let mut w = TableWriter::new(out, format)?;
    let mut base = 0usize;
    let batch_rows = usize::try_from(a.batch_rows).unwrap_or(usize::MAX);
    read_batches(&input, &a.format.options()?, batch_rows, |batch: Table| -> Result<()> {
        crate::input::warn_replaced_text(&input, &batch);
        let scored = detector.score_log(&batch).with_context(|| format!("scoring {}", input.name()))?;
        w.write(&scores_table_at(&batch, &scored.scores, &[], base))?;
        base += batch.n_rows();
        if reader_gone() {
            return Err(ReaderGone.into());
        }
        Ok(())
    })?;
    Ok(w.finish()?)
}
