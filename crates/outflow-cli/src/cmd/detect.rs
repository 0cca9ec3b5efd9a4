//! `outflow detect`: the main job — fit a detector on a log, score every flow, write the run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use outflow::aggregate::{Aggregator, Entities};
use outflow::io::Table;
use outflow::io::{BatchTypes, Format, Input, read_batches_typed};
use outflow::run::{
    FlowRunWriter, FlowSample, LabelEvaluation, RemoteRunClaim, RunClaim, RunDir, RunInput, RunSummary, TableFormat,
    claim_fresh_run_dir, claim_remote_run, claim_run_dir,
};
use outflow::{
    AggregateParams, DetectorFit, DetectorParams, FlowScore, Level, RowFilter, TuneParams, Tuning, default_model_name,
};

use crate::algorithm::AlgorithmArgs;
use crate::input::{FormatArgs, aggregate_batches};

/// Arguments of `outflow detect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The log (Zeek TSV / JSON, CSV, KDD; gzip allowed). Default: the built-in labeled sample.
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Run directory (created; must be empty unless --force), or a URL (s3://bucket/runs/r1, gs://…,
    /// az://…): the run is staged locally and uploaded when complete, summary.json last. Default:
    /// outflow-run-YYYYMMDDTHHMMSSZ (UTC).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The clusterer (default HDBSCAN with min_cluster_size 1 % of the fitted flows, 10–1,000, and
    /// min_samples 10, at most min_cluster_size; a --min-samples given is kept, at most the fitted flows).
    #[command(flatten)]
    pub clustering: AlgorithmArgs,
    /// Search HDBSCAN's hyper-parameters by DBCV on a sample first (writes tuning.csv).
    #[arg(long)]
    pub tune: bool,
    /// Rows sampled for --tune.
    #[arg(long, default_value_t = 20_000)]
    pub tune_sample: usize,
    /// Signals of the anomaly score, fused by mean rank (e.g. `iforest,pca`; also `glosh` with HDBSCAN,
    /// `cluster_rarity` and every detector of `outflow benchmark`). Default: the measured best (see README).
    #[arg(long, value_delimiter = ',')]
    pub signals: Vec<String>,
    /// Keep only flows of these services (Zeek `service`, any case; a flow Zeek tags `smb,gssapi,krb` has
    /// each of the three; repeatable).
    #[arg(long = "service")]
    pub services: Vec<String>,
    /// Keep only flows from or to these addresses or networks (`10.0.0.5`, `10.0.0.0/24`, `fd00::/8`;
    /// repeatable).
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// A label column besides the known ones (`label`, `Label`, `attack_cat`, `class`, …): carried, never a
    /// feature, and read first by the label evaluation of summary.json (repeatable; names or globs, any
    /// case).
    #[arg(long = "label-column")]
    pub label_columns: Vec<String>,
    /// A column never read as a feature: a row number, a column derived from the label (repeatable; names
    /// or globs, any case).
    #[arg(long = "drop-column")]
    pub drop_columns: Vec<String>,
    /// Fit the clustering on at most this many rows (seeded sample); the others are assigned to its
    /// clusters. Default: 100,000, at most --max-score-rows.
    #[arg(long)]
    pub max_fit_rows: Option<usize>,
    /// Fit the anomaly scorers and their rank tables on at most this many rows (a seeded sample holding
    /// the clustering's); the others are scored by the fitted model. A log longer than one batch
    /// (--batch-rows) is never held whole: the flow detector is fitted on a sample of this many flows
    /// taken while reading it (host and pair rows aggregated from every flow as it passes), and every
    /// flow is scored on a second reading.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_score_rows: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fit the clusterer on a UMAP embedding of the prepared features: `umap` (umap-learn's defaults) or
    /// `umap:n_components=5,n_neighbors=30,min_dist=0` (also spread, metric, n_epochs, learning_rate,
    /// init, local_connectivity, set_op_mix_ratio, repulsion_strength, negative_sample_rate). Saved in
    /// the model: `score` and `serve` embed new flows the same way. Scores and reasons keep the prepared
    /// features.
    #[arg(long, value_name = "SPEC")]
    pub embed: Option<String>,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write into an existing, non-empty run directory (files of the same name are replaced).
    #[arg(long)]
    pub force: bool,
    /// No progress bars and no summary on stdout.
    #[arg(long)]
    pub quiet: bool,
    /// Also write report.html and figures/*.png (as `outflow report DIR`).
    #[arg(long)]
    pub report: bool,
    /// Format of the scores, anomalies, hosts and pairs tables: csv, or parquet (the same columns,
    /// typed; `outflow report` reads either).
    #[arg(long, default_value = "csv", value_parser = ["csv", "parquet"])]
    pub out_format: String,
    /// What is analysed: `flow` (each connection), `host` (each host per window: what it sent, received,
    /// whom and which ports it contacted), `pair` (each source → destination per window, with beacon
    /// regularity), or `all` (the three, ranked together in alerts.csv). Comma lists work too.
    #[arg(long, default_value = "flow", value_delimiter = ',')]
    pub level: Vec<String>,
    /// Time window of the host and pair levels: `15m`, `1h`, `1d`, ... or `all` (the whole log).
    #[arg(long, default_value = "1h")]
    pub window: String,
    /// The inside of the monitored network, e.g. `10.0.0.0/8,192.168.0.0/16` (host and pair levels).
    /// Default: Zeek's local_orig / local_resp when set, else the private address ranges.
    #[arg(long)]
    pub internal: Option<String>,
    /// Flows read per batch (a CSV or Zeek JSON log longer than a batch is read once more first, to
    /// type its columns over every row). Host and
    /// pair levels aggregate each batch as it comes; the flow level samples, then scores and writes,
    /// batch by batch (see --max-score-rows). Memory grows with the batch and the host and pair rows,
    /// not with the flows.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
}

/// The levels asked for, flow first.
fn levels(a: &Args) -> Result<Vec<Level>> {
    let mut out = Vec::new();
    for l in &a.level {
        if l.trim().eq_ignore_ascii_case("all") {
            out.extend(Level::ALL);
        } else {
            out.push(l.parse::<Level>().map_err(|e| anyhow::anyhow!("--level: {e} (or all)"))?);
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        bail!("--level: give flow, host, pair or all");
    }
    Ok(out)
}

fn spinner(show: bool, msg: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"));
    pb.set_message(msg.to_owned());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub fn run(a: Args) -> Result<()> {
    crate::input::set_threads(a.threads)?;
    let show = !a.quiet && std::io::stderr().is_terminal();
    let started = Instant::now();
    let since = std::time::SystemTime::now();
    let mut params = params(&a)?;
    // A key in the environment signs every model file of the run (read first: a bad key fails at once).
    let model_key = outflow::ModelKey::from_env()?;
    release_runs_on_termination();
    // The directory is claimed before any work: a bad --out fails at once, and two runs never mix. A run
    // into an object store is written to a local staging directory, then published.
    let target = a.out.as_deref().map(crate::input::location).transpose()?;
    let remote = match &target {
        Some(t) if t.is_remote() => Some(claim_remote_run(t, a.force)?),
        _ => None,
    };
    let staging = match remote {
        Some(_) => Some(tempfile::Builder::new().prefix("outflow-run-").tempdir().context("a staging directory")?),
        None => None,
    };
    let claim = match (&staging, &a.out) {
        (Some(dir), _) => claim_run_dir(&dir.path().join("run"), false)?,
        (None, Some(out)) => claim_run_dir(out, a.force)?,
        (None, None) => claim_fresh_run_dir(&PathBuf::from(format!("outflow-run-{}", chrono_stamp())))?,
    };
    let out = claim.dir().to_owned();
    let shown = match &remote {
        Some(r) => r.location().to_string(),
        None => out.display().to_string(),
    };

    let levels = levels(&a)?;
    if levels[0] != Level::Flow {
        let summary = run_streamed(&a, &params, &levels, &out, show, started, model_key.as_ref())?;
        return finish_run(&a, summary, &out, remote, claim, &shown, since);
    }
    let t = Instant::now();
    let pb = spinner(show, "reading");
    let (input, table, format) = match read_or_sample(&a, &params.aggregation_with_labels(), &levels[1..])? {
        FirstPass::Whole(input, table, format) => (input, table, format),
        FirstPass::Sampled(sampled) => {
            pb.finish_and_clear();
            let summary = run_sampled(&a, params, *sampled, &out, show, started, model_key.as_ref())?;
            return finish_run(&a, summary, &out, remote, claim, &shown, since);
        }
    };
    pb.finish_and_clear();
    let read_seconds = t.elapsed().as_secs_f64();
    if table.n_rows() == 0 {
        bail!("{}: no flows", input.name());
    }
    let (selected, excluded) = select(&a, &table)?;
    let work = if selected.len() == table.n_rows() { table.clone() } else { table.take_rows(&selected) };

    let t = Instant::now();
    let tuning = if a.tune { Some(tune(&a, &work, &mut params, show)?) } else { None };
    let tune_seconds = t.elapsed().as_secs_f64();

    let entity_params = |level: Level| DetectorParams { level, ..params.clone() };
    let primary = levels[0];
    let pb = spinner(show, &format!("fitting {primary}s (prepare, {}, scores)", params.clustering.title()));
    let fit = entity_params(primary).fit(&work).with_context(|| format!("the {primary} level"))?;
    pb.finish_and_clear();
    let mut level_fits = Vec::new();
    for &level in &levels[1..] {
        let pb = spinner(show, &format!("fitting {level}s"));
        level_fits.push(entity_params(level).fit(&work).with_context(|| format!("the {level} level"))?);
        pb.finish_and_clear();
    }
    let flows = if primary == Level::Flow { with_unselected(&fit, &selected, &excluded) } else { fit.flows.clone() };
    let run = RunInput {
        input: input.name(),
        format: format.name(),
        table: &table,
        rows_read: table.n_rows(),
        flows: &flows,
        rows_selected: selected.len(),
        fit: &fit,
        fit_rows: (primary == Level::Flow && selected.len() != table.n_rows()).then_some(selected.as_slice()),
        levels: &level_fits,
        tuning: tuning.as_ref(),
        seed: a.seed,
        read_seconds,
        tune_seconds,
        model_key: model_key.as_ref(),
        table_format: table_format(&a.out_format),
        started,
    };
    let summary = RunDir::write(&out, &run)?;
    finish_run(&a, summary, &out, remote, claim, &shown, since)
}

/// Draws the report when asked, publishes a run bound for an object store, releases the directory and
/// prints the summary.
fn finish_run(
    a: &Args,
    summary: RunSummary,
    out: &Path,
    remote: Option<RemoteRunClaim>,
    claim: RunClaim,
    shown: &str,
    since: std::time::SystemTime,
) -> Result<()> {
    // Drawn before the run is published: a run in a store is complete with its report or not at all.
    let report = if a.report { Some(crate::cmd::report::after_detect(out, a.seed)?) } else { None };
    if remote.is_none() && a.force {
        let older = files_older_than(out, since);
        if !older.is_empty() {
            eprintln!(
                "outflow: {shown} also holds {} file(s) this run did not write (an earlier run's, or yours; kept): {}",
                older.len(),
                older.join(", ")
            );
        }
    }
    if let Some(r) = remote {
        r.publish(out).with_context(|| format!("publishing the run to {shown}"))?;
    }
    claim.done();
    if !a.quiet {
        print_summary(&summary, shown);
        if let Some(report) = &report {
            crate::cmd::report::print_summary(report, shown);
        }
    }
    Ok(())
}

/// The files of a directory last written before `since` (a second's margin for coarse clocks), by name.
fn files_older_than(dir: &Path, since: std::time::SystemTime) -> Vec<String> {
    let cut = since - std::time::Duration::from_secs(1);
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < cut))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Host and pair levels without the flow level: the log is aggregated batch by batch (Zeek ASCII logs
/// one batch at a time), so memory grows with the hosts and pairs, not with the flows.
fn run_streamed(
    a: &Args,
    params: &DetectorParams,
    levels: &[Level],
    out: &Path,
    show: bool,
    started: Instant,
    model_key: Option<&outflow::ModelKey>,
) -> Result<RunSummary> {
    if a.report {
        bail!("--report draws the flow level: add it (--level flow,{} or --level all)", levels[0]);
    }
    let t = Instant::now();
    let pb = spinner(show, "reading and aggregating");
    let input = crate::input::open(a.input.as_ref())?;
    let filter = RowFilter { services: a.services.clone(), hosts: a.hosts.clone() };
    let mut read =
        aggregate_batches(&input, &a.format, a.batch_rows, &params.aggregation_with_labels(), levels, Some(&filter))?;
    pb.finish_and_clear();
    let read_seconds = t.elapsed().as_secs_f64();
    let mut fits = Vec::new();
    for &level in levels {
        let entities = read.take(level).expect("aggregated for the levels asked");
        let pb = spinner(show, &format!("fitting {level}s (prepare, {}, scores)", params.clustering.title()));
        let p = DetectorParams { level, ..params.clone() };
        fits.push(p.fit_entities(entities).with_context(|| format!("the {level} level"))?);
        pb.finish_and_clear();
    }
    let empty = Table::default();
    let run = RunInput {
        input: input.name(),
        format: read.format.name(),
        table: &empty,
        rows_read: read.rows_read,
        flows: &fits[0].flows,
        rows_selected: read.rows_selected,
        fit: &fits[0],
        fit_rows: None,
        levels: &fits[1..],
        tuning: None,
        seed: a.seed,
        read_seconds,
        tune_seconds: 0.0,
        model_key,
        table_format: table_format(&a.out_format),
        started,
    };
    Ok(RunDir::write(out, &run)?)
}

/// What the first read of a flow-level run gives: the whole log when it fits in one batch, else a sample.
enum FirstPass {
    Whole(Input, Table, Format),
    Sampled(Box<Sampled>),
}

/// A log longer than one batch: the sample the detector is fitted on, and what reading it counted.
struct Sampled {
    input: Input,
    format: Format,
    table: Table,
    rows: Vec<usize>,
    rows_read: usize,
    read_seconds: f64,
    /// What the first reading learned of the columns: the second reads with it.
    types: BatchTypes,
    /// The whole log's host and pair rows (host first), for the levels asked for.
    entities: Vec<Entities>,
}

/// Reads the log batch by batch (`--batch-rows`; formats that are read whole come as one batch). A log
/// of one batch is returned whole; a longer one leaves only a seeded sample of `--max-score-rows` of the
/// selected flows, so memory never holds the log.
///
/// With host or pair `levels` (`--level all`), each batch of a longer log is also aggregated as it
/// passes, so the host and pair rows are the whole log's.
fn read_or_sample(a: &Args, aggregation: &AggregateParams, levels: &[Level]) -> Result<FirstPass> {
    let t = Instant::now();
    let input = crate::input::open(a.input.as_ref())?;
    let filter = RowFilter { services: a.services.clone(), hosts: a.hosts.clone() };
    let batch_rows = usize::try_from(a.batch_rows).unwrap_or(usize::MAX);
    let mut first: Option<Table> = None;
    let mut sample: Option<FlowSample> = None;
    let mut rows_read = 0usize;
    let mut types = BatchTypes::default();
    let mut aggregator = match levels {
        [] => None,
        levels => Some(Aggregator::new(aggregation.clone(), levels)?),
    };
    let mut offer = |sample: &mut FlowSample, batch: Table, base: usize| -> Result<()> {
        let rows = selected_rows(&filter, &batch)?;
        if let Some(agg) = aggregator.as_mut().filter(|_| !rows.is_empty()) {
            if rows.len() == batch.n_rows() { agg.push(&batch)? } else { agg.push(&batch.take_rows(&rows))? }
        }
        Ok(sample.push(batch, base, &rows)?)
    };
    let opts = a.format.options()?;
    let format = read_batches_typed(&input, &opts, batch_rows, &mut types, |batch: Table| -> Result<()> {
        crate::input::warn_replaced_text(&input, &batch);
        if first.is_none() && sample.is_none() {
            rows_read = batch.n_rows();
            first = Some(batch);
            return Ok(());
        }
        if batch.n_rows() == 0 {
            return Ok(());
        }
        let s = sample.get_or_insert_with(|| FlowSample::new(a.max_score_rows, a.seed));
        if let Some(whole) = first.take() {
            offer(s, whole, 0)?;
        }
        let n = batch.n_rows();
        offer(s, batch, rows_read)?;
        rows_read += n;
        Ok(())
    })?;
    let Some(sample) = sample else {
        return Ok(FirstPass::Whole(input, first.unwrap_or_default(), format));
    };
    let (table, rows) = sample.finish()?;
    if table.n_rows() == 0 {
        bail!("no flow matches the selection (--service {} --host {})", a.services.join(","), a.hosts.join(","));
    }
    let entities = match aggregator {
        Some(agg) => {
            let rows = agg.finish().with_context(|| format!("aggregating {}", input.name()))?;
            [rows.hosts, rows.pairs].into_iter().flatten().collect()
        }
        None => Vec::new(),
    };
    let read_seconds = t.elapsed().as_secs_f64();
    Ok(FirstPass::Sampled(Box::new(Sampled { input, format, table, rows, rows_read, read_seconds, types, entities })))
}

/// The rows of a batch that the selection (`--service`, `--host`) keeps.
fn selected_rows(filter: &RowFilter, batch: &Table) -> Result<Vec<usize>> {
    if filter.is_empty() {
        return Ok((0..batch.n_rows()).collect());
    }
    let excluded = filter.apply(batch)?;
    Ok((0..batch.n_rows()).filter(|&i| excluded[i].is_none()).collect())
}

/// The flow level of a log longer than one batch: fitted on the sample, then the log read again and
/// every flow scored and written batch by batch (`outflow::run::FlowRunWriter`).
fn run_sampled(
    a: &Args,
    mut params: DetectorParams,
    mut s: Sampled,
    out: &Path,
    show: bool,
    started: Instant,
    model_key: Option<&outflow::ModelKey>,
) -> Result<RunSummary> {
    let t = Instant::now();
    let tuning = if a.tune { Some(tune(a, &s.table, &mut params, show)?) } else { None };
    let tune_seconds = t.elapsed().as_secs_f64();
    let pb = spinner(
        show,
        &format!("fitting flows on a sample of {} (prepare, {}, scores)", s.table.n_rows(), params.clustering.title()),
    );
    let fit = DetectorParams { level: Level::Flow, ..params.clone() }.fit(&s.table).context("the flow level")?;
    pb.finish_and_clear();
    let mut level_fits = Vec::new();
    for entities in std::mem::take(&mut s.entities) {
        let level = entities.level();
        let pb = spinner(show, &format!("fitting {level}s"));
        let p = DetectorParams { level, ..params.clone() };
        level_fits.push(p.fit_entities(entities).with_context(|| format!("the {level} level"))?);
        pb.finish_and_clear();
    }
    let pb = spinner(show, "scoring and writing every flow");
    let filter = RowFilter { services: a.services.clone(), hosts: a.hosts.clone() };
    let mut writer = FlowRunWriter::new(out, &fit, &s.rows, table_format(&a.out_format))?.with_levels(&level_fits)?;
    let batch_rows = usize::try_from(a.batch_rows).unwrap_or(usize::MAX);
    let t = Instant::now();
    read_batches_typed(&s.input, &a.format.options()?, batch_rows, &mut s.types, |batch: Table| -> Result<()> {
        let excluded = if filter.is_empty() { Vec::new() } else { filter.apply(&batch)? };
        Ok(writer.push(&batch, &excluded)?)
    })
    .with_context(|| format!("reading {} again", s.input.name()))?;
    let read_again = t.elapsed().as_secs_f64() - writer.seconds();
    // The sample's rows are numbered in the first reading: a log that changed since is not the one fitted.
    if writer.rows_read() != s.rows_read {
        bail!(
            "{} changed between its two readings ({} flows, then {}): a log longer than one batch \
             (--batch-rows) is read twice; run on a copy that does not change",
            s.input.name(),
            s.rows_read,
            writer.rows_read()
        );
    }
    let run = RunInput {
        input: s.input.name(),
        format: s.format.name(),
        table: &s.table,
        rows_read: s.rows_read,
        flows: &fit.flows,
        rows_selected: s.table.n_rows(),
        fit: &fit,
        fit_rows: None,
        levels: &level_fits,
        tuning: tuning.as_ref(),
        seed: a.seed,
        read_seconds: s.read_seconds + read_again,
        tune_seconds,
        model_key,
        table_format: table_format(&a.out_format),
        started,
    };
    let summary = writer.finish(&run)?;
    pb.finish_and_clear();
    Ok(summary)
}

impl Args {
    /// `--max-fit-rows`, by default the detector's, held within `--max-score-rows` (the scorers' sample
    /// holds the clustering's).
    fn max_fit_rows(&self) -> usize {
        self.max_fit_rows.unwrap_or_else(|| DetectorParams::default().max_fit_rows.min(self.max_score_rows))
    }
}

/// The detector's parameters from the options (tuning may change the clusterer later).
fn params(a: &Args) -> Result<DetectorParams> {
    let mut params = DetectorParams {
        max_fit_rows: a.max_fit_rows(),
        max_score_rows: a.max_score_rows,
        seed: a.seed,
        labels: a.label_columns.clone(),
        drop_columns: a.drop_columns.clone(),
        ..DetectorParams::default()
    };
    params.aggregation.window = a.window.parse().map_err(|e| anyhow::anyhow!("--window: {e}"))?;
    if let Some(inside) = &a.internal {
        params.aggregation.internal = Some(inside.parse().map_err(|e| anyhow::anyhow!("--internal: {e}"))?);
        if levels(a)? == [Level::Flow] {
            bail!(
                "--internal sets the inside of the network for the host and pair levels: add --level host, pair or all"
            );
        }
    }
    if a.tune && levels(a)?[0] != Level::Flow {
        bail!("--tune searches the flow level's clustering; it needs --level flow or all");
    }
    params.clustering = a.clustering.build(Some(params.clustering.clone()))?;
    if a.tune && params.clustering.name() != "hdbscan" {
        bail!("--tune searches HDBSCAN's parameters; it needs --algorithm hdbscan");
    }
    if let Some(spec) = &a.embed {
        if a.tune {
            bail!("--tune searches the prepared features, not an embedding: use --embed or --tune");
        }
        params.embed = Some(crate::input::umap_spec(spec).context("--embed")?);
    }
    if !a.signals.is_empty() {
        params.scoring.signals = a.signals.iter().map(|s| s.parse()).collect::<std::result::Result<Vec<_>, _>>()?;
    }
    params.validate()?;
    Ok(params)
}

/// The rows selected for analysis and, per input row, why it was left out.
fn select(a: &Args, table: &Table) -> Result<(Vec<usize>, Vec<Option<String>>)> {
    let filter = RowFilter { services: a.services.clone(), hosts: a.hosts.clone() };
    let excluded = filter.apply(table)?;
    let selected: Vec<usize> = (0..table.n_rows()).filter(|&i| excluded[i].is_none()).collect();
    if selected.is_empty() {
        bail!("no flow matches the selection (--service {} --host {})", a.services.join(","), a.hosts.join(","));
    }
    Ok((selected, excluded))
}

/// Searches HDBSCAN's parameters on the prepared features and puts the choice into `params` (sizes
/// given on the command line win).
fn tune(a: &Args, work: &Table, params: &mut DetectorParams, show: bool) -> Result<Tuning> {
    let prep = params.preparation(work).fit(work).context("preparing features for tuning")?;
    let tc = TuneParams { sample: a.tune_sample, seed: a.seed, ..TuneParams::default() };
    let total = tc.min_cluster_size_fractions.len() * tc.min_samples.len() * tc.metrics.len() * tc.epsilons.len();
    let bar = if show { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
    bar.set_style(ProgressStyle::with_template("tuning {bar:30} {pos}/{len} ({elapsed})").expect("template"));
    let result = tc.run(prep.output.model_input().view(), &|done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let n_fit = prep.output.kept.len().min(a.max_fit_rows());
    let mut chosen = result.clustering(n_fit);
    if let outflow::cluster::Algorithm::Hdbscan(p) = &mut chosen {
        p.min_cluster_size = a.clustering.min_cluster_size.unwrap_or(p.min_cluster_size);
        p.min_samples = a.clustering.min_samples.or(p.min_samples);
    }
    params.clustering = chosen;
    Ok(result)
}

/// One result per input record: the selected records' from the fit, the others unscored with the reason.
fn with_unselected(fit: &DetectorFit, selected: &[usize], excluded: &[Option<String>]) -> Vec<FlowScore> {
    if selected.len() == excluded.len() {
        return fit.flows.clone();
    }
    let mut all: Vec<FlowScore> = excluded
        .iter()
        .enumerate()
        .map(|(row, why)| FlowScore { reason: why.clone(), ..FlowScore::unscored(row, String::new()) })
        .collect();
    for f in &fit.flows {
        let row = selected[f.row];
        all[row] = FlowScore { row, ..f.clone() };
    }
    all
}

fn chrono_stamp() -> String {
    let name = default_model_name();
    // outflow-model-YYYYmmddTHHMMSSZ.json → the stamp.
    name.trim_start_matches("outflow-model-").trim_end_matches(".json").to_owned()
}

fn print_summary(s: &RunSummary, out: &str) {
    if s.level == Level::Flow {
        print_flow_summary(s, out);
    }
    for l in &s.levels {
        let c = &l.severity_counts;
        println!(
            "{}s ({} windows, {} flows): {} rows, {} clusters, {} severe, {} moderate → {}/{}",
            l.level, l.window, l.flows_aggregated, l.rows, l.clusters, c.severe, c.moderate, out, l.table_file
        );
        print_labels("  ", l.labels.as_ref());
    }
    if s.levels.len() > 1 || (s.level == Level::Flow && !s.levels.is_empty()) {
        println!("alerts of every level, ranked: {}/{}", out, outflow::run::ALERTS);
    }
}

/// The scores against the log's labels, when it has them.
fn print_labels(indent: &str, labels: Option<&LabelEvaluation>) {
    let Some(l) = labels else { return };
    let severe = l
        .precision_at_severe
        .map_or(String::new(), |p| format!(", {:.1}% of the {} severe are attacks", 100.0 * p, l.severe));
    println!(
        "{indent}against the labels ({}: {} attacks of {}; never used to fit): ROC-AUC {:.3}, PR-AUC {:.3}{severe}",
        l.column, l.positives, l.rows, l.roc_auc, l.pr_auc
    );
}

fn print_flow_summary(s: &RunSummary, out: &str) {
    let c = &s.severity_counts;
    println!(
        "{} ({}): {} flows read, {} scored, {} unscored",
        s.input, s.format, s.rows_read, s.rows_kept, s.rows_unscored
    );
    println!(
        "features: {} kept ({} preset), {} columns dropped",
        s.features_kept.len(),
        s.preset,
        s.features_dropped.len()
    );
    if let Some(e) = &s.embedding {
        println!(
            "clustered on a UMAP map: {} components, {} neighbours, min_dist {} (trustworthiness {} on {} fitted rows)",
            e.params.n_components,
            e.params.n_neighbors,
            e.params.min_dist,
            e.trustworthiness.map_or("n/a".into(), |t| format!("{t:.3}")),
            e.trustworthiness_rows
        );
    }
    println!(
        "{} ({}): {} clusters, {:.1}% noise, DBCV {}{}",
        s.clustering.title(),
        s.clustering.key_parameters().join(", "),
        s.clusters.len(),
        s.noise_percent,
        s.dbcv.map_or("n/a".into(), |d| format!("{d:.3}")),
        s.neighbor_recall.map(|r| format!(", neighbour recall {r:.3}")).unwrap_or_default()
    );
    println!(
        "anomaly score ({}): {} severe (≥ {:.3}), {} moderate (≥ {:.3}), {} normal",
        s.signals.join(" + "),
        c.severe,
        s.thresholds.severe,
        c.moderate,
        s.thresholds.moderate,
        c.normal
    );
    print_labels("", s.labels.as_ref());
    let f = s.table_format;
    println!(
        "wrote {}/{{{}, {}, clusters.json, summary.json, sample.csv, {}{}}} in {:.2}s",
        out,
        f.file_name(outflow::run::SCORES),
        f.file_name(outflow::run::ANOMALIES),
        s.model_file,
        if s.tuned { ", tuning.csv" } else { "" },
        s.timings_seconds.total
    );
}

/// On SIGTERM, SIGINT or SIGHUP, releases the run directories this process holds (removed when the run
/// created them, else marked `INCOMPLETE`, temporary files removed; see
/// [`outflow::run::abandon_active_runs`]) and exits as a process killed by that signal would report.
fn release_runs_on_termination() {
    crate::input::on_signals(|name| {
        outflow::run::abandon_active_runs();
        eprintln!("outflow: stopped by {name}; the unfinished run directory was removed or marked INCOMPLETE");
        std::process::exit(match name {
            "SIGINT" => 130,
            "SIGHUP" => 129,
            _ => 143,
        });
    });
}

fn table_format(name: &str) -> TableFormat {
    if name == "parquet" { TableFormat::Parquet } else { TableFormat::Csv }
}
