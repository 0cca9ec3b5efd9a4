//! Writing a run directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use outflow_core::{AtomicFile, sample_indices, write_atomic};
use outflow_io::{Column, Family, Table};

use super::levels::{
    ALERTS, LevelSummary, WRITE_ROWS, alerts_csv, entity_table_pieces, flow_level_scores, level_links, level_summary,
};
use super::{
    ANOMALIES, ANOMALY_COLUMNS, CLUSTERS, DroppedFeature, RunDirError, RunSummary, RunTimings, SAMPLE, SAMPLE_COLUMNS,
    SAMPLE_ROWS, SCORE_COLUMNS, SCORES, SUMMARY, SeverityCounts, TUNING, TableFormat,
};
use crate::artifact::{ModelKey, default_model_name};
use crate::detector::{DetectorFit, FlowScore, Severity};
use crate::error::{OutflowError, Result};
use crate::stats::cluster_statistics;
use crate::tune::Tuning;

/// Everything a run directory is written from.
#[derive(Debug, Clone, Copy)]
pub struct RunInput<'a> {
    /// Name of the input (a path, or the built-in sample's name).
    pub input: &'a str,
    /// Its format.
    pub format: &'a str,
    /// Every input record (empty for a host or pair run that streamed its input).
    pub table: &'a Table,
    /// Records read.
    pub rows_read: usize,
    /// One result per record of `table` (records left out of the selection unscored, with the reason).
    pub flows: &'a [FlowScore],
    /// Records selected for analysis.
    pub rows_selected: usize,
    /// The fit on the selected records: at the flow level, or the one host or pair level asked for.
    pub fit: &'a DetectorFit,
    /// The record of `table` of each row `fit` was fitted on, when it was fitted on a selection of them
    /// (`None`: row for row the same records).
    pub fit_rows: Option<&'a [usize]>,
    /// Host and pair fits next to a flow-level `fit` (`--level all`): their tables, models and
    /// `alerts.csv` are written too.
    pub levels: &'a [DetectorFit],
    /// The hyper-parameter search, when there was one.
    pub tuning: Option<&'a Tuning>,
    /// Seed of the sample written to `sample.csv`.
    pub seed: u64,
    /// Seconds spent reading the input.
    pub read_seconds: f64,
    /// Seconds spent tuning.
    pub tune_seconds: f64,
    /// The key that signs the model files (unsigned without one).
    pub model_key: Option<&'a ModelKey>,
    /// The format of the scores, anomalies, hosts and pairs tables.
    pub table_format: TableFormat,
    /// When the run started (for the total time).
    pub started: Instant,
}

/// Checks, before any work, that a run directory can be written: an existing non-empty one needs
/// `force`. Nothing is created: a run that fails leaves nothing behind.
pub fn check_run_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(RunDirError::invalid(dir, "exists and is not a directory").into());
        }
        let entries = std::fs::read_dir(dir).map_err(|source| OutflowError::File { path: dir.into(), source })?;
        let mut entries = entries.filter(|e| e.as_ref().map_or(true, |e| e.file_name() != LOCK));
        if entries.next().is_some() && !force {
            return Err(RunDirError::NotEmpty(dir.to_owned()).into());
        }
    }
    Ok(())
}

/// The lock file of a run directory being written.
pub const LOCK: &str = ".outflow.lock";

/// A run directory held by one run: created (or checked, with `force`) before any work and locked
/// against other runs. Dropped before [`RunClaim::done`] — the run failed — it removes the directory if
/// the claim created it, so a failed run leaves nothing behind; the lock goes either way.
#[derive(Debug)]
pub struct RunClaim {
    dir: PathBuf,
    created: bool,
    done: bool,
}

impl RunClaim {
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The run finished: the directory stays, the lock goes.
    pub fn done(mut self) {
        self.done = true;
    }
}

impl Drop for RunClaim {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        active.retain(|(d, _)| d != &self.dir);
        let _ = std::fs::remove_file(self.dir.join(LOCK));
        if self.done {
            let _ = std::fs::remove_file(self.dir.join(INCOMPLETE));
        } else if self.created {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The run directories this process has claimed and not yet released, and whether it created them.
static ACTIVE: std::sync::Mutex<Vec<(PathBuf, bool)>> = std::sync::Mutex::new(Vec::new());

/// The file an interrupted run leaves in a directory it did not create; a run that finishes there
/// removes it.
pub const INCOMPLETE: &str = "INCOMPLETE";

/// Releases every run directory this process holds when it is being stopped (SIGTERM, SIGINT): a
/// directory the run created is removed; in one it was given (`--force`), its temporary files and lock
/// go and an [`INCOMPLETE`] file says the run did not finish — its other files are partial. Call it from
/// a signal handler's thread just before exiting; no claim is released twice.
pub fn abandon_active_runs() {
    super::remote::abandon_remote_runs();
    let claims = std::mem::take(&mut *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()));
    let temporary = format!(".{}.", std::process::id());
    for (dir, created) in claims {
        if created {
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        }
        let note = "This run was stopped before it finished: the files here are partial. summary.json is \
                    written last, by a run that finishes.\n";
        let _ = std::fs::write(dir.join(INCOMPLETE), note);
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(&temporary) && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let _ = std::fs::remove_file(dir.join(LOCK));
    }
}

/// Claims `dir` for a run before any work: created when absent; an existing one must be a directory,
/// empty unless `force`; another run writing into it (its lock file present) is refused.
pub fn claim_run_dir(dir: &Path, force: bool) -> Result<RunClaim> {
    claim(dir, force, false)?.ok_or_else(|| RunDirError::NotEmpty(dir.to_owned()).into())
}

/// Claims a new directory `base`, or `base-2`, `base-3`, … when that name is taken (two runs started in
/// the same second get the same default name).
pub fn claim_fresh_run_dir(base: &Path) -> Result<RunClaim> {
    for k in 1..10_000u32 {
        let dir = if k == 1 { base.to_owned() } else { PathBuf::from(format!("{}-{k}", base.display())) };
        if let Some(c) = claim(&dir, false, true)? {
            return Ok(c);
        }
    }
    Err(RunDirError::NotEmpty(base.to_owned()).into())
}

/// The claim of `dir`; `None` when it exists and cannot be taken (`fresh`: it exists at all).
fn claim(dir: &Path, force: bool, fresh: bool) -> Result<Option<RunClaim>> {
    let file_error = |source| OutflowError::File { path: dir.to_owned(), source };
    let created = match std::fs::create_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if fresh {
                return Ok(None);
            }
            if dir.join(LOCK).exists() {
                return Err(RunDirError::Busy(dir.to_owned()).into());
            }
            check_run_dir(dir, force)?;
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(file_error)?;
            return claim(dir, force, fresh);
        }
        Err(e) => return Err(file_error(e)),
    };
    let claim = RunClaim { dir: dir.to_owned(), created, done: false };
    match std::fs::OpenOptions::new().write(true).create_new(true).open(dir.join(LOCK)) {
        Ok(mut f) => {
            use std::io::Write;
            let _ = writeln!(f, "{}", std::process::id());
            ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).push((dir.to_owned(), created));
            Ok(Some(claim))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Not ours: neither the lock nor the directory may be removed.
            std::mem::forget(claim);
            Err(RunDirError::Busy(dir.to_owned()).into())
        }
        Err(e) => Err(file_error(e)),
    }
}

impl super::RunDir {
    /// Writes a run directory (created when absent; files of the same name are replaced) and returns
    /// its summary. `summary.json` is written last.
    pub fn write(dir: &Path, run: &RunInput<'_>) -> Result<RunSummary> {
        let t = Instant::now();
        std::fs::create_dir_all(dir).map_err(|source| OutflowError::File { path: dir.to_owned(), source })?;
        let put = |name: &str, bytes: &[u8]| write_atomic(&dir.join(name), bytes, true);
        let levels =
            write_levels(dir, run.fit.entities.is_some().then_some(run.fit).into_iter().chain(run.levels), run)?;
        let model_file = if run.fit.entities.is_some() {
            levels[0].model_file.clone()
        } else {
            let model_file = default_model_name();
            run.fit.detector.save_signed(dir.join(&model_file), true, run.model_key)?;
            let links = level_links(run.table, run.levels)?;
            let level_scores = flow_level_scores(run.levels, &links);
            let (format, scores) = (run.table_format, scores_table(run.table, run.flows, &level_scores));
            put(&format.file_name(SCORES), &table_bytes(&scores, format)?)?;
            put(&format.file_name(ANOMALIES), &table_bytes(&anomalies_table(run.table, run.flows), format)?)?;
            let record = |row: usize| run.fit_rows.map_or(row, |rows| rows[row]);
            put(SAMPLE, sample_csv_at(run.fit, run.seed, &record).as_bytes())?;
            let stats = cluster_statistics(run.table, run.flows);
            put(CLUSTERS, serde_json::to_string_pretty(&stats).expect("statistics serialise").as_bytes())?;
            if !run.levels.is_empty() {
                let reasons = with_unselected_reasons(run)?;
                put(ALERTS, alerts_csv(run.table, run.flows, &reasons, run.levels, &links).as_bytes())?;
            }
            model_file
        };
        if let Some(tuning) = run.tuning {
            put(TUNING, tuning_csv(tuning).as_bytes())?;
        }
        let mut summary = summary(run, model_file);
        summary.level = run.fit.detector.level();
        summary.levels = levels;
        summary.timings_seconds.write = t.elapsed().as_secs_f64();
        summary.timings_seconds.total = run.started.elapsed().as_secs_f64();
        put(SUMMARY, serde_json::to_string_pretty(&summary).expect("a summary serialises").as_bytes())?;
        Ok(summary)
    }
}

/// Writes each host or pair fit's table and model into `dir` and returns their summaries.
pub(crate) fn write_levels<'f>(
    dir: &Path,
    fits: impl IntoIterator<Item = &'f DetectorFit>,
    run: &RunInput<'_>,
) -> Result<Vec<LevelSummary>> {
    let mut levels = Vec::new();
    for fit in fits {
        let level = fit.detector.level();
        let model_file = default_model_name().replacen("outflow-model", &format!("outflow-{level}-model"), 1);
        fit.detector.save_signed(dir.join(&model_file), true, run.model_key)?;
        let file = run.table_format.file_name(level.table_name());
        // Written piece by piece as it is encoded: millions of pair rows are neither copied whole nor
        // held as text.
        let mut w = TableWriter::new(AtomicFile::create(&dir.join(&file), true)?, run.table_format)?;
        entity_table_pieces(fit, WRITE_ROWS, |piece| w.write(piece))?;
        w.finish()?.commit()?;
        levels.push(LevelSummary { table_file: file, ..level_summary(fit, &model_file) });
    }
    Ok(levels)
}

/// Reasons per input record of the flow fit (records outside a selection are prepared again for it).
fn with_unselected_reasons(run: &RunInput<'_>) -> Result<Vec<String>> {
    let fitted = run.fit.reasons(3);
    if fitted.len() == run.flows.len() {
        return Ok(fitted);
    }
    let prepared = run.fit.detector.prep().transform(run.table)?;
    Ok(run.fit.detector.reasons(&prepared, 3))
}

pub(crate) fn summary(run: &RunInput<'_>, model_file: String) -> RunSummary {
    let fit = run.fit;
    let s = &fit.summary;
    let mut counts = SeverityCounts::default();
    for f in run.flows {
        match f.severity {
            Severity::Normal => counts.normal += 1,
            Severity::Moderate => counts.moderate += 1,
            Severity::Severe => counts.severe += 1,
            Severity::Unscored => counts.unscored += 1,
        }
    }
    let mut features_dropped: Vec<DroppedFeature> = Vec::new();
    for step in &fit.prep_report.steps {
        for c in &step.columns_removed {
            features_dropped.push(DroppedFeature {
                name: c.column.clone(),
                step: step.step.name().into(),
                reason: c.reason.clone(),
            });
        }
    }
    // Pruned features are also a step's removed columns: each is listed once.
    for p in &fit.prep_report.pruned {
        if features_dropped.iter().any(|d| d.name == p.name) {
            continue;
        }
        features_dropped.push(DroppedFeature {
            name: p.name.clone(),
            step: p.rule.name().into(),
            reason: p.reason.clone(),
        });
    }
    RunSummary {
        input: run.input.to_owned(),
        format: run.format.to_owned(),
        model_file,
        rows_read: run.rows_read,
        rows_selected: run.rows_selected,
        rows_kept: s.rows_kept,
        rows_fitted: s.rows_fitted,
        rows_fitted_scorers: s.rows_fitted_scorers,
        rows_unscored: counts.unscored,
        features_kept: s.features.clone(),
        features_dropped,
        preset: fit.prep_report.preset.name().into(),
        clusters: s.clusters.clone(),
        noise_percent: 100.0 * s.noise_fraction,
        dbcv: s.dbcv,
        neighbor_recall: s.neighbor_recall,
        thresholds: s.thresholds,
        severity_counts: counts,
        clustering: s.clustering.clone(),
        signals: fit.detector.scorer().params().signals.iter().map(|s| s.name()).collect(),
        defaults: s.defaults.clone(),
        embedding: s.embedding.clone(),
        tuned: run.tuning.is_some(),
        timings_seconds: RunTimings {
            read: run.read_seconds,
            tune: run.tune_seconds,
            prepare: fit.timings.prepare,
            cluster: fit.timings.cluster,
            score: fit.timings.score,
            predict: fit.timings.predict,
            write: 0.0,
            total: 0.0,
        },
        level: outflow_aggregate::Level::Flow,
        levels: Vec::new(),
        table_format: run.table_format,
        labels: match &fit.entities {
            Some(e) => super::label_evaluation(e.table(), run.flows, fit.detector.label_columns()),
            None => super::label_evaluation(run.table, run.flows, fit.detector.label_columns()),
        },
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

pub(crate) fn csv_text(rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("records of text")
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// `scores.csv`: `row,cluster,probability,outlier_score,severity,reason,<identifying columns>` for every
/// record (the columns every log family shows next to a score — `outflow_io::Family::shown_columns` —
/// that the table has).
pub fn scores_csv(table: &Table, flows: &[FlowScore]) -> String {
    table_csv(&scores_table(table, flows, &[]))
}

/// [`scores_csv`] with further numeric columns after the score columns (the host and pair scores of
/// each flow in a `--level all` run).
pub fn scores_csv_with(table: &Table, flows: &[FlowScore], extra: &[(String, Vec<Option<f64>>)]) -> String {
    table_csv(&scores_table(table, flows, extra))
}

/// The table of [`scores_csv_with`], typed (what Parquet output writes): the score columns, `extra`,
/// then the identifying columns with their types from the log. An identifying column named like a
/// score column is left out.
pub fn scores_table(table: &Table, flows: &[FlowScore], extra: &[(String, Vec<Option<f64>>)]) -> Table {
    scores_table_at(table, flows, extra, 0)
}

/// [`scores_table`] of one batch of a log whose first record is record `base` of the log: `row` counts
/// in the whole log.
pub fn scores_table_at(table: &Table, flows: &[FlowScore], extra: &[(String, Vec<Option<f64>>)], base: usize) -> Table {
    let rows: Vec<usize> = flows.iter().map(|f| f.row).collect();
    let mut columns = vec![
        Column::from_i64_opt(SCORE_COLUMNS[0], flows.iter().map(|f| Some((base + f.row) as i64))),
        Column::from_i64_opt(SCORE_COLUMNS[1], flows.iter().map(|f| f.cluster)),
        Column::from_f64_opt(SCORE_COLUMNS[2], flows.iter().map(|f| f.probability)),
        Column::from_f64_opt(SCORE_COLUMNS[3], flows.iter().map(|f| f.outlier_score)),
        Column::from_str_opt(SCORE_COLUMNS[4], flows.iter().map(|f| Some(f.severity.name()))),
        Column::from_str_opt(SCORE_COLUMNS[5], flows.iter().map(|f| f.reason.as_deref())),
    ];
    columns.extend(extra.iter().map(|(name, v)| Column::from_f64_opt(name.as_str(), rows.iter().map(|&r| v[r]))));
    let names = table.names();
    let ids = Family::shown_of(&names).into_iter().map(|j| &table.columns()[j]);
    append_unique(&mut columns, ids.map(|c| c.take(&rows)));
    Table::new(columns).expect("columns of one length and distinct names")
}

/// Appends the columns whose names are not taken yet.
pub(crate) fn append_unique(columns: &mut Vec<Column>, more: impl IntoIterator<Item = Column>) {
    for c in more {
        if columns.iter().all(|o| o.name() != c.name()) {
            columns.push(c);
        }
    }
}

/// A table as CSV text: a header, nulls as empty fields, floats in their shortest round-trip form.
pub(crate) fn table_csv(table: &Table) -> String {
    let mut out = Vec::new();
    outflow_io::write_csv(table, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("records of text")
}

/// `anomalies.csv`: the moderate and severe records with every original column, highest score first.
pub fn anomalies_csv(table: &Table, flows: &[FlowScore]) -> String {
    table_csv(&anomalies_table(table, flows))
}

/// The table of [`anomalies_csv`], typed. A column of the log named like a score column is left out.
pub fn anomalies_table(table: &Table, flows: &[FlowScore]) -> Table {
    anomalies_table_at(table, flows, 0)
}

/// [`anomalies_table`] of one batch whose first record is record `base` of the log.
pub(crate) fn anomalies_table_at(table: &Table, flows: &[FlowScore], base: usize) -> Table {
    let mut hits: Vec<&FlowScore> = flows.iter().filter(|f| f.severity.is_anomaly()).collect();
    hits.sort_by(|a, b| b.outlier_score.partial_cmp(&a.outlier_score).expect("finite").then(a.row.cmp(&b.row)));
    let rows: Vec<usize> = hits.iter().map(|f| f.row).collect();
    let mut columns = vec![
        Column::from_i64_opt(ANOMALY_COLUMNS[0], hits.iter().map(|f| Some((base + f.row) as i64))),
        Column::from_f64_opt(ANOMALY_COLUMNS[1], hits.iter().map(|f| f.outlier_score)),
        Column::from_str_opt(ANOMALY_COLUMNS[2], hits.iter().map(|f| Some(f.severity.name()))),
        Column::from_i64_opt(ANOMALY_COLUMNS[3], hits.iter().map(|f| f.cluster)),
        Column::from_f64_opt(ANOMALY_COLUMNS[4], hits.iter().map(|f| f.probability)),
    ];
    append_unique(&mut columns, table.columns().iter().map(|c| c.take(&rows)));
    Table::new(columns).expect("columns of one length and distinct names")
}

/// A table's file contents in `format` (what the run directory and `outflow score` write): a
/// [`TableWriter`] of one table.
pub fn table_bytes(table: &Table, format: TableFormat) -> Result<Vec<u8>> {
    let mut w = TableWriter::new(Vec::new(), format)?;
    w.write(table)?;
    w.finish()
}

/// A table written batch by batch in a [`TableFormat`] — how streamed runs and `outflow score` write
/// scores and anomalies: CSV with the first batch's columns (a later batch's missing column is empty,
/// an extra one left out), or Parquet with its schema (feature `arrow`; a missing column is null, one
/// needing another Arrow type is an error naming it).
pub struct TableWriter<W: std::io::Write + Send>(TableSink<W>);

enum TableSink<W: std::io::Write + Send> {
    Csv(outflow_io::CsvWriter<W>),
    #[cfg(feature = "arrow")]
    Parquet(outflow_io::arrow::ParquetWriter<W>),
}

impl<W: std::io::Write + Send> std::fmt::Debug for TableWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            TableSink::Csv(_) => "TableWriter(csv)",
            #[cfg(feature = "arrow")]
            TableSink::Parquet(_) => "TableWriter(parquet)",
        })
    }
}

impl<W: std::io::Write + Send> TableWriter<W> {
    /// A writer into `out` (CSV with a header line).
    pub fn new(out: W, format: TableFormat) -> Result<Self> {
        match format {
            TableFormat::Csv => Ok(TableWriter(TableSink::Csv(outflow_io::CsvWriter::new(out, true)))),
            #[cfg(feature = "arrow")]
            TableFormat::Parquet => Ok(TableWriter(TableSink::Parquet(outflow_io::arrow::ParquetWriter::new(out)))),
            #[cfg(not(feature = "arrow"))]
            TableFormat::Parquet => {
                Err(outflow_core::InputError::param("table_format", "Parquet needs the `arrow` feature of outflow")
                    .into())
            }
        }
    }

    /// A CSV writer whose columns are `names` rather than the first table's; `header` writes them first.
    pub fn csv_with_columns(out: W, names: Vec<String>, header: bool) -> Result<Self> {
        Ok(TableWriter(TableSink::Csv(outflow_io::CsvWriter::with_columns(out, names, header)?)))
    }

    /// Appends the rows of `table`.
    pub fn write(&mut self, table: &Table) -> Result<()> {
        match &mut self.0 {
            TableSink::Csv(w) => Ok(w.write(table)?),
            #[cfg(feature = "arrow")]
            TableSink::Parquet(w) => Ok(w.write(table)?),
        }
    }

    /// Ends the table (Parquet's footer; with no table written, a CSV with no line and a Parquet file
    /// of no rows and no columns) and hands back the output.
    pub fn finish(self) -> Result<W> {
        match self.0 {
            TableSink::Csv(w) => Ok(w.into_inner()?),
            #[cfg(feature = "arrow")]
            TableSink::Parquet(w) => Ok(w.finish()?),
        }
    }
}

/// `sample.csv`: a seeded sample (≤ [`SAMPLE_ROWS`]) of the scored records with the features the model
/// saw, `row,cluster,probability,outlier_score,severity,<model input columns>`, ascending row.
pub fn sample_csv(fit: &DetectorFit, seed: u64) -> String {
    sample_csv_at(fit, seed, &|row| row)
}

/// [`sample_csv`] of a fit on some records of a log: `log_row` gives the record of the log of each row
/// of the table fitted.
pub(crate) fn sample_csv_at(fit: &DetectorFit, seed: u64, log_row: &dyn Fn(usize) -> usize) -> String {
    let prepared = &fit.prepared;
    let x = prepared.model_input();
    let header: Vec<String> = strings(&SAMPLE_COLUMNS).into_iter().chain(prepared.model_input_names()).collect();
    let records = sample_indices(x.nrows(), SAMPLE_ROWS, seed).into_iter().map(|k| {
        let row = prepared.kept[k];
        let f = &fit.flows[row];
        let mut rec = vec![
            log_row(row).to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
            opt(f.outlier_score),
            f.severity.name().to_string(),
        ];
        rec.extend(x.row(k).iter().map(|v| v.to_string()));
        rec
    });
    csv_text(std::iter::once(header).chain(records))
}

/// `tuning.csv`: the grid with its scores; `chosen` marks the selected configuration.
pub fn tuning_csv(t: &Tuning) -> String {
    let mut s = String::from(
        "min_cluster_size,min_samples,metric,cluster_selection_epsilon,n_clusters,noise_percent,dbcv,davies_bouldin,calinski_harabasz,chosen\n",
    );
    for (i, r) in t.results.iter().enumerate() {
        s.push_str(&format!(
            "{},{},{},{},{},{:.4},{},{},{},{}\n",
            r.min_cluster_size,
            r.min_samples,
            r.metric,
            r.epsilon,
            r.n_clusters,
            100.0 * r.noise_fraction,
            opt(r.dbcv),
            opt(r.davies_bouldin),
            opt(r.calinski_harabasz),
            i == t.chosen
        ));
    }
    s
}

#[cfg(test)]
mod claim_tests {
    use super::*;

    #[test]
    fn claims_lock_out_other_runs_and_failed_runs_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("run");
        let a = claim_run_dir(&dir, false).unwrap();
        assert!(dir.join(LOCK).exists());
        // A second run, even with --force, is refused while the first holds the directory.
        let e = claim_run_dir(&dir, true).unwrap_err();
        assert!(e.to_string().contains("another run is writing"), "{e}");
        assert!(dir.join(LOCK).exists(), "the refused claim must not remove the holder's lock");
        // The first run fails: the directory it created goes.
        drop(a);
        assert!(!dir.exists());
        // A finished run keeps it, without the lock; another needs --force.
        let b = claim_run_dir(&dir, false).unwrap();
        std::fs::write(dir.join("summary.json"), "{}").unwrap();
        b.done();
        assert!(dir.join("summary.json").exists() && !dir.join(LOCK).exists());
        assert!(matches!(claim_run_dir(&dir, false), Err(OutflowError::Run(RunDirError::NotEmpty(_)))));
        let c = claim_run_dir(&dir, true).unwrap();
        drop(c);
        assert!(dir.join("summary.json").exists(), "a directory the run did not create stays");
        // Default names taken in the same second get a suffix.
        let base = tmp.path().join("outflow-run-x");
        let (d1, d2) = (claim_fresh_run_dir(&base).unwrap(), claim_fresh_run_dir(&base).unwrap());
        assert_eq!((d1.dir(), d2.dir()), (base.as_path(), tmp.path().join("outflow-run-x-2").as_path()));
    }
}
