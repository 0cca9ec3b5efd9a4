//! The flow level of a run over a log too large to hold: fitted on a sample, then every flow scored and
//! written batch by batch.
//!
//! A log is read twice. The first pass keeps a seeded uniform sample of its flows ([`FlowSample`]); the
//! detector is fitted on the sample; the second pass scores each batch and hands it to a
//! [`FlowRunWriter`], which appends its lines to `scores.csv`, spills its anomalies, sorted, to a
//! temporary file, and keeps only counts. At the end the spilled anomalies are merged into
//! `anomalies.csv`, highest score first. Memory holds the sample, the fit and one batch, plus 9 bytes per
//! labelled flow when the log has a label column.
//!
//! The flows of the sample keep their fitted results, as the clustering's sample does in a fit on a whole
//! table; `clusters.json` gives each cluster's size in the whole log and its statistics on the sample.
//!
//! With host and pair fits beside the flows ([`FlowRunWriter::with_levels`]; their rows aggregated from
//! the whole log during the first pass), each batch's flows are linked to their host and pair rows as
//! they are scored, and an [`AlertBook`] keeps the anomalous flows and, per anomalous host or pair row,
//! the count and first rows of its flows: memory grows with the anomalies, not with the flows.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use outflow_core::AtomicFile;
use outflow_io::Table;

use super::evaluation::LabelTally;
use super::levels::{ALERTS, AlertBook, flow_level_scores, level_links};
use super::write::{RunInput, TableWriter, anomalies_table_at, sample_csv_at, scores_table_at, write_levels};
use super::{
    ANOMALIES, ANOMALY_COLUMNS, CLUSTERS, RunSummary, SAMPLE, SCORES, SUMMARY, SeverityCounts, TUNING, TableFormat,
};
use crate::artifact::default_model_name;
use crate::detector::{DetectorFit, FlowScore, Severity};
use crate::error::{OutflowError, Result};
use crate::stats::cluster_statistics;

/// A seeded uniform sample of at most `size` rows of a log read batch by batch, without knowing its
/// length beforehand: each row gets a pseudo-random key from the seed and its row number, and the
/// sample is the `size` rows of smallest keys. The same seed picks the same rows whatever the batch
/// sizes.
///
/// Rows that may still enter are copied out of their batch as it passes; copies pushed out by later
/// rows are dropped every time they outnumber the sample, so memory holds at most twice `size` rows and
/// a batch.
///
/// ```
/// use outflow::io::{Column, Table};
/// use outflow::run::FlowSample;
/// let batch = |from: usize| Table::new(vec![Column::from_f64("x", (from..from + 10).map(|i| i as f64).collect())]).unwrap();
/// let mut s = FlowSample::new(5, 7);
/// for b in 0..3 {
///     s.push(batch(10 * b), 10 * b, &(0..10).collect::<Vec<_>>()).unwrap();
/// }
/// let (table, rows) = s.finish().unwrap();
/// assert_eq!((table.n_rows(), rows.len()), (5, 5));
/// assert_eq!(table.column("x").unwrap().f64_at(0), Some(rows[0] as f64));
/// ```
#[derive(Debug)]
pub struct FlowSample {
    size: usize,
    seed: u64,
    pieces: Vec<Table>,
    kept: Vec<Candidate>,
    dropped: usize,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    key: u64,
    row: usize,
    piece: usize,
    at: usize,
}

impl FlowSample {
    /// An empty sample of at most `size` rows.
    pub fn new(size: usize, seed: u64) -> Self {
        FlowSample { size, seed, pieces: Vec::new(), kept: Vec::new(), dropped: 0 }
    }

    /// The key of row `row` of the log (splitmix64 of the seeded row number).
    fn key(&self, row: usize) -> u64 {
        let mut z = self.seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ (row as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D4_9BB1_33D1_11EB);
        z ^ (z >> 31)
    }

    /// Offers the rows `rows` (ascending) of `batch`, whose first row is row `base` of the log.
    pub fn push(&mut self, batch: Table, base: usize, rows: &[usize]) -> Result<()> {
        if self.size == 0 {
            return Ok(());
        }
        let bar = if self.kept.len() >= self.size { self.kept.iter().map(|c| (c.key, c.row)).max() } else { None };
        let piece = self.pieces.len();
        let mut taken = Vec::new();
        for &r in rows {
            let (key, row) = (self.key(base + r), base + r);
            if bar.is_none_or(|b| (key, row) < b) {
                self.kept.push(Candidate { key, row, piece, at: taken.len() });
                taken.push(r);
            }
        }
        if taken.is_empty() {
            return Ok(());
        }
        // A batch taken whole (the first ones) is kept as it is.
        self.pieces.push(if taken.len() == batch.n_rows() { batch } else { batch.take_rows(&taken) });
        if self.kept.len() > self.size {
            self.kept.select_nth_unstable_by_key(self.size - 1, |c| (c.key, c.row));
            self.dropped += self.kept.len() - self.size;
            self.kept.truncate(self.size);
        }
        if self.dropped > self.size {
            self.compact()?;
        }
        Ok(())
    }

    /// Copies the kept rows into one piece, in log order.
    fn compact(&mut self) -> Result<()> {
        self.kept.sort_unstable_by_key(|c| c.row);
        let mut by_piece: Vec<Vec<usize>> = vec![Vec::new(); self.pieces.len()];
        for c in &self.kept {
            by_piece[c.piece].push(c.at);
        }
        // Pieces hold rows in log order, so piece by piece is log order.
        let parts: Vec<Table> =
            self.pieces.iter().zip(&by_piece).filter(|(_, at)| !at.is_empty()).map(|(p, at)| p.take_rows(at)).collect();
        self.pieces = vec![Table::concat(&parts)?];
        for (i, c) in self.kept.iter_mut().enumerate() {
            (c.piece, c.at) = (0, i);
        }
        self.dropped = 0;
        Ok(())
    }

    /// The sample in log order, and the row of the log of each of its rows.
    pub fn finish(mut self) -> Result<(Table, Vec<usize>)> {
        self.compact()?;
        let rows = self.kept.iter().map(|c| c.row).collect();
        Ok((self.pieces.pop().unwrap_or_default(), rows))
    }
}

/// Writes the flow level of a run directory from a log scored batch by batch (module docs):
/// [`FlowRunWriter::push`] each batch in log order, then [`FlowRunWriter::finish`].
#[derive(Debug)]
pub struct FlowRunWriter<'a> {
    dir: PathBuf,
    fit: &'a DetectorFit,
    /// Host and pair fits next to the flows (`--level all`), and the alerts gathered for them.
    levels: &'a [DetectorFit],
    alerts: Option<AlertBook<'a>>,
    sample_rows: &'a [usize],
    next_sample: usize,
    format: TableFormat,
    scores: Option<TableWriter<AtomicFile>>,
    anomaly_columns: Vec<String>,
    spills: Vec<PathBuf>,
    counts: SeverityCounts,
    cluster_sizes: BTreeMap<i64, usize>,
    labels: LabelTally,
    rows_read: usize,
    rows_selected: usize,
    rows_scored: usize,
    score_seconds: f64,
    write_seconds: f64,
}

impl<'a> FlowRunWriter<'a> {
    /// A writer into `dir` (which exists) for `fit`, the fit on the sample whose rows are the log's rows
    /// `sample_rows` (ascending; [`FlowSample::finish`]); the scores and anomalies in `format`.
    pub fn new(dir: &Path, fit: &'a DetectorFit, sample_rows: &'a [usize], format: TableFormat) -> Result<Self> {
        if fit.detector.level().is_entity() {
            let why = "writes flow-level runs; host and pair rows are written by RunDir::write";
            return Err(outflow_core::InputError::param("FlowRunWriter", why).into());
        }
        let scores = TableWriter::new(AtomicFile::create(&dir.join(format.file_name(SCORES)), true)?, format)?;
        // The columns of `anomalies.csv`: what `anomalies_table` gives a table of the fitted columns.
        let mut anomaly_columns: Vec<String> = ANOMALY_COLUMNS.iter().map(|s| s.to_string()).collect();
        for f in &fit.detector.input_schema().fields {
            if !anomaly_columns.contains(&f.name) {
                anomaly_columns.push(f.name.clone());
            }
        }
        Ok(FlowRunWriter {
            dir: dir.to_owned(),
            fit,
            levels: &[],
            alerts: None,
            sample_rows,
            next_sample: 0,
            format,
            scores: Some(scores),
            anomaly_columns,
            spills: Vec::new(),
            counts: SeverityCounts::default(),
            cluster_sizes: BTreeMap::new(),
            labels: LabelTally::new(fit.detector.label_columns()),
            rows_read: 0,
            rows_selected: 0,
            rows_scored: 0,
            score_seconds: 0.0,
            write_seconds: 0.0,
        })
    }

    /// Adds host and pair fits (fitted on the whole log's host and pair rows, aggregated beforehand): the
    /// scores gain each flow's `src_host_score`, `dst_host_score` and `pair_score`, and
    /// [`FlowRunWriter::finish`] writes their tables, models and `alerts.csv`.
    pub fn with_levels(mut self, levels: &'a [DetectorFit]) -> Result<Self> {
        if let Some(f) = levels.iter().find(|f| f.entities.is_none()) {
            let why = format!("with_levels takes host and pair fits, not a {} fit", f.detector.level());
            return Err(outflow_core::InputError::param("levels", why).into());
        }
        self.levels = levels;
        self.alerts = (!levels.is_empty()).then(|| AlertBook::new(levels));
        Ok(self)
    }

    /// Scores the next batch of the log and writes it. `excluded` gives, per row, why it was left out of
    /// the selection (`None`: selected; see [`crate::RowFilter::apply`]); an empty slice selects every
    /// row.
    pub fn push(&mut self, batch: &Table, excluded: &[Option<String>]) -> Result<()> {
        let t = Instant::now();
        let base = self.rows_read;
        let n = batch.n_rows();
        let selected: Vec<usize> = (0..n).filter(|&i| excluded.get(i).is_none_or(Option::is_none)).collect();
        let mut flows: Vec<FlowScore> = (0..n)
            .map(|row| match excluded.get(row).and_then(Option::as_ref) {
                Some(why) => FlowScore { reason: Some(why.clone()), ..FlowScore::unscored(row, String::new()) },
                None => FlowScore::unscored(row, String::new()),
            })
            .collect();
        if !selected.is_empty() {
            let scored = if selected.len() == n {
                self.fit.detector.score_log(batch)?
            } else {
                self.fit.detector.score_log(&batch.take_rows(&selected))?
            };
            for (f, &row) in scored.scores.into_iter().zip(&selected) {
                flows[row] = FlowScore { row, ..f };
            }
        }
        // The sample's flows keep the results of the fit.
        while let Some(&log_row) = self.sample_rows.get(self.next_sample).filter(|&&r| r < base + n) {
            let fitted = &self.fit.flows[self.next_sample];
            flows[log_row - base] = FlowScore { row: log_row - base, ..fitted.clone() };
            self.next_sample += 1;
        }
        for f in &flows {
            match f.severity {
                Severity::Normal => self.counts.normal += 1,
                Severity::Moderate => self.counts.moderate += 1,
                Severity::Severe => self.counts.severe += 1,
                Severity::Unscored => self.counts.unscored += 1,
            }
            if let Some(c) = f.cluster {
                *self.cluster_sizes.entry(c).or_default() += 1;
            }
        }
        self.score_seconds += t.elapsed().as_secs_f64();
        let t = Instant::now();
        self.rows_scored += flows.iter().filter(|f| f.outlier_score.is_some()).count();
        self.labels.push(batch, &flows);
        let links = level_links(batch, self.levels)?;
        let level_scores = flow_level_scores(self.levels, &links);
        if let Some(alerts) = &mut self.alerts {
            alerts.push(batch, base, &flows, &anomaly_reasons(self.fit, batch, &flows)?, &links);
        }
        let scores = self.scores.as_mut().expect("a scores file until finished");
        scores.write(&scores_table_at(batch, &flows, &level_scores, base))?;
        let anomalies = anomalies_table_at(batch, &flows, base);
        if anomalies.n_rows() > 0 {
            let path = self.dir.join(format!(".anomalies-{}.{}.{}.tmp", self.spills.len(), std::process::id(), base));
            let file =
                std::fs::File::create(&path).map_err(|source| OutflowError::File { path: path.clone(), source })?;
            self.spills.push(path.clone());
            let file = std::io::BufWriter::new(file);
            let mut w = match self.format {
                TableFormat::Csv => TableWriter::csv_with_columns(file, self.anomaly_columns.clone(), false)?,
                TableFormat::Parquet => TableWriter::new(file, TableFormat::Parquet)?,
            };
            w.write(&anomalies)?;
            use std::io::Write;
            w.finish()?.flush().map_err(|source| OutflowError::File { path, source })?;
        }
        self.rows_read += n;
        self.rows_selected += selected.len();
        self.write_seconds += t.elapsed().as_secs_f64();
        Ok(())
    }

    /// Records of the log pushed so far.
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }

    /// Seconds spent in [`FlowRunWriter::push`] so far, scoring and writing (the time a caller's
    /// reading took is the rest).
    pub fn seconds(&self) -> f64 {
        self.score_seconds + self.write_seconds
    }

    /// Writes the rest of the run directory — `anomalies.csv`, `clusters.json`, `sample.csv`, the model,
    /// `tuning.csv` when tuned, and `summary.json` last — and returns the summary. `run` describes the
    /// sample the detector was fitted on (`run.table`, `run.flows`: the fit's) and the run's settings
    /// (`run.read_seconds`: both readings of the log); the counts of the log come from the batches
    /// pushed.
    pub fn finish(mut self, run: &RunInput<'_>) -> Result<RunSummary> {
        let t = Instant::now();
        let put = |name: &str, bytes: &[u8]| outflow_core::write_atomic(&self.dir.join(name), bytes, true);
        self.scores.take().expect("a scores file until finished").finish()?.commit()?;
        match self.format {
            TableFormat::Csv => self.merge_anomalies()?,
            TableFormat::Parquet => self.merge_anomaly_tables()?,
        }
        let model_file = default_model_name();
        self.fit.detector.save_signed(self.dir.join(&model_file), true, run.model_key)?;
        let sample_rows = self.sample_rows;
        put(SAMPLE, sample_csv_at(self.fit, run.seed, &|row| sample_rows[row]).as_bytes())?;
        let mut stats = cluster_statistics(run.table, run.flows);
        let scored: usize = self.cluster_sizes.values().sum();
        for s in &mut stats {
            s.size = self.cluster_sizes.get(&s.cluster).copied().unwrap_or(0);
            s.fraction = s.size as f64 / scored.max(1) as f64;
        }
        put(CLUSTERS, serde_json::to_string_pretty(&stats).expect("statistics serialise").as_bytes())?;
        if let Some(tuning) = run.tuning {
            put(TUNING, super::tuning_csv(tuning).as_bytes())?;
        }
        let levels = write_levels(&self.dir, self.levels, run)?;
        if let Some(alerts) = self.alerts.take() {
            put(ALERTS, alerts.csv().as_bytes())?;
        }
        let mut summary = super::write::summary(run, model_file);
        summary.levels = levels;
        summary.rows_read = self.rows_read;
        summary.rows_selected = self.rows_selected;
        summary.rows_kept = self.rows_scored;
        summary.rows_unscored = self.counts.unscored;
        summary.severity_counts = self.counts;
        summary.labels = std::mem::take(&mut self.labels).finish();
        summary.timings_seconds.predict += self.score_seconds;
        summary.timings_seconds.write = self.write_seconds + t.elapsed().as_secs_f64();
        summary.timings_seconds.total = run.started.elapsed().as_secs_f64();
        put(SUMMARY, serde_json::to_string_pretty(&summary).expect("a summary serialises").as_bytes())?;
        Ok(summary)
    }

    /// Merges the spilled anomalies (each file sorted) into `anomalies.csv`, highest score first, then
    /// ascending row, as [`super::anomalies_table`] orders them.
    fn merge_anomalies(&self) -> Result<()> {
        let path = self.dir.join(ANOMALIES);
        let mut out = csv::Writer::from_writer(AtomicFile::create(&path, true)?);
        let bad = |p: &Path, e: &dyn std::fmt::Display| OutflowError::Run(super::RunDirError::invalid(p, e));
        out.write_record(&self.anomaly_columns).map_err(|e| bad(&path, &e))?;
        // Each spill's reader and current record; the heap holds the records' keys.
        let mut readers = Vec::with_capacity(self.spills.len());
        let mut heap = BinaryHeap::new();
        for (i, p) in self.spills.iter().enumerate() {
            let file = std::fs::File::open(p).map_err(|source| OutflowError::File { path: p.clone(), source })?;
            let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
            let mut record = csv::ByteRecord::new();
            if let Some((score, row)) = next_anomaly(&mut r, &mut record, p)? {
                heap.push(Head { score, row, spill: i });
            }
            readers.push((r, record));
        }
        while let Some(h) = heap.pop() {
            let (r, record) = &mut readers[h.spill];
            out.write_byte_record(record).map_err(|e| bad(&path, &e))?;
            if let Some((score, row)) = next_anomaly(r, record, &self.spills[h.spill])? {
                heap.push(Head { score, row, spill: h.spill });
            }
        }
        let file = out.into_inner().map_err(|e| bad(&path, e.error()))?;
        file.commit()?;
        Ok(())
    }

    /// [`FlowRunWriter::merge_anomalies`] for Parquet spills.
    #[cfg(feature = "arrow")]
    fn merge_anomaly_tables(&self) -> Result<()> {
        let path = self.dir.join(TableFormat::Parquet.file_name(ANOMALIES));
        let mut out = outflow_io::arrow::ParquetWriter::new(AtomicFile::create(&path, true)?);
        merge_tables(&self.spills, &mut out, MERGE_ROWS)?;
        out.finish()?.commit()?;
        Ok(())
    }

    #[cfg(not(feature = "arrow"))]
    fn merge_anomaly_tables(&self) -> Result<()> {
        Err(outflow_core::InputError::param("table_format", "Parquet needs the `arrow` feature of outflow").into())
    }
}

impl Drop for FlowRunWriter<'_> {
    /// The spilled anomalies go, whether the run finished or failed; an unfinished `scores.csv` is never
    /// moved into place.
    fn drop(&mut self) {
        for s in &self.spills {
            let _ = std::fs::remove_file(s);
        }
    }
}

/// The reasons of a batch's anomalous flows (empty strings for the others).
fn anomaly_reasons(fit: &DetectorFit, batch: &Table, flows: &[FlowScore]) -> Result<Vec<String>> {
    let rows: Vec<usize> = flows.iter().filter(|f| f.severity.is_anomaly()).map(|f| f.row).collect();
    let mut reasons = vec![String::new(); batch.n_rows()];
    if rows.is_empty() {
        return Ok(reasons);
    }
    let detector = &fit.detector;
    let prepared = detector.prep().transform(&batch.take_rows(&rows))?;
    for (&row, why) in rows.iter().zip(detector.reasons(&prepared, 3)) {
        reasons[row] = why;
    }
    Ok(reasons)
}

/// Reads the next record of a spill file into `record`; its score and row (its first two fields).
fn next_anomaly(
    r: &mut csv::Reader<std::fs::File>,
    record: &mut csv::ByteRecord,
    path: &Path,
) -> Result<Option<(f64, u64)>> {
    let bad = |e: String| OutflowError::Run(super::RunDirError::invalid(path, e));
    if !r.read_byte_record(record).map_err(|e| bad(e.to_string()))? {
        return Ok(None);
    }
    let field = |i: usize| std::str::from_utf8(record.get(i).unwrap_or_default()).unwrap_or_default().to_owned();
    let row: u64 = field(0).parse().map_err(|_| bad(format!("row '{}' is not a number", field(0))))?;
    let score: f64 = field(1).parse().map_err(|_| bad(format!("score '{}' is not a number", field(1))))?;
    Ok(Some((score, row)))
}

/// Rows read from a Parquet spill at a time, and written out at a time, in the merge.
#[cfg(feature = "arrow")]
const MERGE_ROWS: usize = 8_192;

/// Merges Parquet spills of anomaly tables (each sorted) into `out`, highest score first, then ascending
/// row: tables of `rows` rows read from each spill as they are needed, written out every `rows` rows.
#[cfg(feature = "arrow")]
fn merge_tables<W: std::io::Write + Send>(
    spills: &[PathBuf],
    out: &mut outflow_io::arrow::ParquetWriter<W>,
    rows: usize,
) -> Result<()> {
    let mut sources = Vec::with_capacity(spills.len());
    // Tables read and not yet written out; `picks` are (table, row) in merged order.
    let mut live: Vec<Table> = Vec::new();
    let mut picks: Vec<(usize, usize)> = Vec::new();
    let mut heap = BinaryHeap::new();
    for (i, p) in spills.iter().enumerate() {
        let mut tables = outflow_io::arrow::parquet_tables(p, rows)?;
        let mut source = Source { tables: Box::new(std::iter::empty()), table: usize::MAX, at: 0 };
        if let Some((t, score, row)) = next_table(&mut tables, &mut live, p)? {
            heap.push(Head { score, row, spill: i });
            source.table = t;
        }
        source.tables = Box::new(tables);
        sources.push(source);
    }
    if heap.is_empty() {
        // No anomaly at all: a table of the anomaly columns without rows.
        out.write(&anomalies_table_at(&Table::default(), &[], 0))?;
    }
    while let Some(h) = heap.pop() {
        let src = &mut sources[h.spill];
        picks.push((src.table, src.at));
        src.at += 1;
        if src.at == live[src.table].n_rows() {
            src.at = 0;
            src.table = match next_table(&mut src.tables, &mut live, &spills[h.spill])? {
                Some((t, ..)) => t,
                None => usize::MAX,
            };
        }
        if src.table != usize::MAX {
            let (score, row) = score_and_row(&live[src.table], src.at);
            heap.push(Head { score, row, spill: h.spill });
        }
        if picks.len() == rows || heap.is_empty() {
            out.write(&picked(&live, &picks)?)?;
            picks.clear();
            // Only the tables the spills are still reading stay.
            let mut kept = Vec::new();
            for s in sources.iter_mut().filter(|s| s.table != usize::MAX) {
                kept.push(std::mem::take(&mut live[s.table]));
                s.table = kept.len() - 1;
            }
            live = kept;
        }
    }
    Ok(())
}

/// A Parquet spill being merged: its tables to come, its current table (an index of the merge's live
/// tables; `usize::MAX` once the spill is exhausted) and row.
#[cfg(feature = "arrow")]
struct Source {
    tables: Box<dyn Iterator<Item = outflow_io::Result<Table>>>,
    table: usize,
    at: usize,
}

/// The next table of a spill with rows, pushed onto `live`: its index, and the score and row of its
/// first line.
#[cfg(feature = "arrow")]
fn next_table(
    tables: &mut dyn Iterator<Item = outflow_io::Result<Table>>,
    live: &mut Vec<Table>,
    path: &Path,
) -> Result<Option<(usize, f64, u64)>> {
    for t in tables {
        let t = t?;
        if t.n_rows() == 0 {
            continue;
        }
        if t.column(ANOMALY_COLUMNS[0]).is_none() || t.column(ANOMALY_COLUMNS[1]).is_none() {
            return Err(OutflowError::Run(super::RunDirError::invalid(path, "a spill without row and score columns")));
        }
        let (score, row) = score_and_row(&t, 0);
        live.push(t);
        return Ok(Some((live.len() - 1, score, row)));
    }
    Ok(None)
}

/// The score and row of a line of a spilled anomaly table.
#[cfg(feature = "arrow")]
fn score_and_row(t: &Table, at: usize) -> (f64, u64) {
    let value = |name: &str| t.column(name).and_then(|c| c.f64_at(at)).unwrap_or(f64::NAN);
    (value(ANOMALY_COLUMNS[1]), value(ANOMALY_COLUMNS[0]) as u64)
}

/// The rows `picks` (table, row) of the tables `live`, in that order.
#[cfg(feature = "arrow")]
fn picked(live: &[Table], picks: &[(usize, usize)]) -> Result<Table> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); live.len()];
    let mut at = Vec::with_capacity(picks.len());
    for &(t, r) in picks {
        at.push((t, rows[t].len()));
        rows[t].push(r);
    }
    let mut offset = vec![0usize; live.len()];
    let mut parts = Vec::new();
    for (t, r) in rows.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
        offset[t] = parts.iter().map(Table::n_rows).sum();
        parts.push(live[t].take_rows(r));
    }
    let order: Vec<usize> = at.iter().map(|&(t, k)| offset[t] + k).collect();
    Ok(Table::concat(&parts)?.take_rows(&order))
}

/// The key of a spill's current record in the merge.
struct Head {
    score: f64,
    row: u64,
    spill: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    /// The heap's greatest is the next record: the highest score, then the lowest row.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score.total_cmp(&other.score).then(other.row.cmp(&self.row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outflow_io::Column;

    #[cfg(feature = "arrow")]
    #[test]
    fn parquet_spills_merge_in_score_order_across_their_tables() {
        let dir = tempfile::tempdir().unwrap();
        // Three sorted spills of (row, outlier_score, name); ties in score broken by row.
        let spill = |k: usize, lines: &[(i64, f64)]| {
            let t = Table::new(vec![
                Column::from_i64_opt("row", lines.iter().map(|l| Some(l.0))),
                Column::from_f64("outlier_score", lines.iter().map(|l| l.1).collect()),
                Column::from_str_opt("name", lines.iter().map(|l| Some(if l.0 % 2 == 0 { "even" } else { "odd" }))),
            ])
            .unwrap();
            let path = dir.path().join(format!("spill{k}"));
            std::fs::write(&path, outflow_io::arrow::parquet_bytes(&t).unwrap()).unwrap();
            path
        };
        let spills = [
            spill(0, &[(0, 0.99), (3, 0.97), (5, 0.97), (9, 0.5), (11, 0.4)]),
            spill(1, &[(20, 0.98), (21, 0.97), (22, 0.2)]),
            spill(2, &[]),
            spill(3, &[(30, 1.0), (31, 0.3), (32, 0.3), (33, 0.3), (34, 0.1)]),
        ];
        let mut out = outflow_io::arrow::ParquetWriter::new(Vec::new());
        merge_tables(&spills, &mut out, 2).unwrap();
        let bytes = out.finish().unwrap();
        let t = outflow_io::read_input(&outflow_io::Input::bytes("m.parquet", bytes), &Default::default()).unwrap().0;
        let rows: Vec<i64> = (0..t.n_rows()).map(|i| t.column("row").unwrap().f64_at(i).unwrap() as i64).collect();
        assert_eq!(rows, [30, 0, 20, 3, 5, 21, 9, 11, 31, 32, 33, 22, 34]);
        let names: Vec<&str> = (0..t.n_rows()).map(|i| t.column("name").unwrap().str_at(i).unwrap()).collect();
        assert!(rows.iter().zip(&names).all(|(r, n)| (*n == "even") == (r % 2 == 0)));
    }

    fn batch(from: usize, len: usize) -> Table {
        let x = (from..from + len).map(|i| i as f64).collect();
        let name = (from..from + len).map(|i| format!("h{i}")).collect::<Vec<_>>();
        Table::new(vec![Column::from_f64("x", x), Column::from_str_opt("name", name.iter().map(|s| Some(s.as_str())))])
            .unwrap()
    }

    /// The sample of rows `0..n` read in batches of `size`, offering the rows `offered` keeps.
    fn sample(
        n: usize,
        batch_size: usize,
        k: usize,
        seed: u64,
        offered: impl Fn(usize) -> bool,
    ) -> (Table, Vec<usize>) {
        let mut s = FlowSample::new(k, seed);
        for from in (0..n).step_by(batch_size) {
            let len = batch_size.min(n - from);
            let rows: Vec<usize> = (0..len).filter(|&r| offered(from + r)).collect();
            s.push(batch(from, len), from, &rows).unwrap();
            let held: usize = s.pieces.iter().map(Table::n_rows).sum();
            assert!(held <= 2 * k + len, "{held} rows held for a sample of {k}");
        }
        s.finish().unwrap()
    }

    #[test]
    fn the_sample_is_the_same_for_any_batch_size_and_holds_its_rows() {
        let (t, rows) = sample(10_000, 1_000, 700, 5, |r| r % 3 != 0);
        assert_eq!(rows.len(), 700);
        assert!(rows.windows(2).all(|w| w[0] < w[1]) && rows.iter().all(|r| r % 3 != 0));
        for (i, &r) in rows.iter().enumerate() {
            assert_eq!(t.column("x").unwrap().f64_at(i), Some(r as f64));
            assert_eq!(t.column("name").unwrap().str_at(i), Some(format!("h{r}").as_str()));
        }
        for size in [1, 333, 10_000] {
            assert_eq!(sample(10_000, size, 700, 5, |r| r % 3 != 0).1, rows, "batches of {size}");
        }
        assert_ne!(sample(10_000, 1_000, 700, 6, |r| r % 3 != 0).1, rows, "another seed");
        // Fewer rows than the sample: all of them.
        assert_eq!(sample(50, 7, 700, 5, |_| true).1, (0..50).collect::<Vec<_>>());
        assert_eq!(sample(50, 7, 0, 5, |_| true).0.n_rows(), 0);
    }

    #[test]
    fn every_row_is_equally_likely() {
        // 400 seeds of 10 rows of 100: each row is drawn 40 times on average (binomial, sd 6).
        let mut drawn = [0usize; 100];
        for seed in 0..400 {
            for r in sample(100, 16, 10, seed, |_| true).1 {
                drawn[r] += 1;
            }
        }
        assert!(drawn.iter().all(|&d| (15..=70).contains(&d)), "{drawn:?}");
        let first_half: usize = drawn[..50].iter().sum();
        assert!((1_800..=2_200).contains(&first_half), "{first_half} of 4000 draws in the first half");
    }
}
