//! Input arguments shared by every subcommand that reads a flow log.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use clap::builder::PossibleValuesParser;
use outflow::RowFilter;
use outflow::aggregate::{AggregateParams, Aggregates, Aggregator, Entities, Level};
use outflow::io::store::Location;
use outflow::io::{CsvOptions, Format, Input, RaggedPolicy, ReadOptions, Table, read_batches, read_input};

/// The built-in sample, the default input of the main job: a day of the simulated office network with
/// every behaviour planted (`outflow simulate` with its defaults writes the same log).
pub const SAMPLE_NAME: &str = "outflow-sim-seed1.conn.log";

fn sample() -> Vec<u8> {
    outflow_sim::simulate(&outflow_sim::SimParams::default()).to_zeek().into_bytes()
}

/// Format and CSV options.
#[derive(Args, Debug, Clone)]
pub struct FormatArgs {
    /// Input format.
    #[arg(long, default_value = "auto", value_parser = PossibleValuesParser::new(Format::NAMES))]
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
        Ok(ReadOptions { format: self.format.parse::<Format>()?, csv, columns: None })
    }
}

/// A location the user gave: a path, or a URL (`s3://…`, `gs://…`, `az://…`, `http(s)://…`,
/// `file://…`).
pub fn location(path: &Path) -> Result<Location> {
    match path.to_str() {
        Some(s) => Ok(Location::parse(s)?),
        None => Ok(Location::Local(path.to_owned())),
    }
}

/// A model file, or a run directory (a path or a URL) whose `summary.json` names its model.
pub fn model_location(path: &Path) -> Result<Location> {
    let at = location(path)?;
    let summary = at.join(outflow::run::SUMMARY);
    let bytes = match at.as_local() {
        Some(p) if !p.is_dir() => return Ok(at),
        // Its summary and model may be an earlier run's, under files of the stopped one.
        Some(p) if p.join(outflow::run::INCOMPLETE).exists() => bail!(
            "{}: the run that wrote here was stopped before it finished; run detect again, or give a model file",
            p.join(outflow::run::INCOMPLETE).display()
        ),
        Some(_) => summary.read().with_context(|| format!("{at} is a directory: not a model file, nor a run"))?,
        // A model file's name: read as one, so that its own failure is the one reported.
        None if at.to_string().to_ascii_lowercase().ends_with(".json") => return Ok(at),
        // One request: an object with no summary under it is taken for a model file.
        None => match summary.read() {
            Ok(bytes) => bytes,
            Err(outflow::io::IoError::Store { kind: outflow::io::store::StoreErrorKind::NotFound, .. }) => {
                return Ok(at);
            }
            Err(e) => return Err(e.into()),
        },
    };
    let s: outflow::run::RunSummary =
        serde_json::from_slice(&bytes).with_context(|| format!("{summary}: not a run summary"))?;
    if s.model_file.is_empty() || s.model_file.contains(['/', '\\']) {
        bail!("{summary}: model_file must be a file name in the run directory");
    }
    Ok(at.join(&s.model_file))
}

/// A path or URL the user gave, as it may be printed (a URL without credentials or query).
pub fn shown(path: &Path) -> String {
    match path.to_str() {
        Some(s) => outflow::io::store::shown_url(s),
        None => path.display().to_string(),
    }
}

/// Opens a path, a URL or `-` (standard input).
pub fn open_input(path: &Path) -> Result<Input> {
    if path == Path::new("-") {
        return Ok(Input::path(path)?);
    }
    Ok(Input::location(&location(path)?)?)
}

/// Opens a path or a URL, or the built-in sample when `path` is `None`.
pub fn open(path: Option<&PathBuf>) -> Result<Input> {
    match path {
        Some(p) => open_input(p),
        None => Ok(Input::bytes(SAMPLE_NAME, sample())),
    }
}

/// Writes an output file or object whole (see `outflow::io::store`); an existing one is replaced only
/// with `force`.
pub fn write_output(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    Ok(location(path)?.write(bytes, force)?)
}

/// Fails at once when an output exists and `--force` was not given (before any work).
pub fn check_output(path: &Path, force: bool) -> Result<()> {
    let at = location(path)?;
    at.check_writable()?;
    if !force && at.exists()? {
        bail!("{} exists; pass --force to replace it", shown(path));
    }
    Ok(())
}

/// Reads a table; returns it with the format actually used.
pub fn read(path: Option<&PathBuf>, fmt: &FormatArgs) -> Result<(Input, Table, Format)> {
    let input = open(path)?;
    let (table, format) = read_input(&input, &fmt.options()?)?;
    warn_replaced_text(&input, &table);
    Ok((input, table, format))
}

/// Warns about text that was not UTF-8 in a table read from `input`.
pub fn warn_replaced_text(input: &Input, table: &Table) {
    for (column, rows) in table.replaced_text() {
        eprintln!(
            "warning: {}: column '{column}': {rows} value(s) hold bytes that are not UTF-8, read as U+FFFD",
            input.name()
        );
    }
}

/// What [`aggregate_batches`] read and built.
pub struct Aggregated {
    /// The host and pair rows.
    pub aggregates: Aggregates,
    /// The input's format.
    pub format: Format,
    /// Flows read.
    pub rows_read: usize,
    /// Flows the filter kept (all of them without one).
    pub rows_selected: usize,
}

impl Aggregated {
    /// The rows of one entity level (each can be taken once).
    pub fn take(&mut self, level: Level) -> Option<Entities> {
        match level {
            Level::Host => self.aggregates.hosts.take(),
            _ => self.aggregates.pairs.take(),
        }
    }
}

/// Reads a log in batches of `batch_rows` flows and aggregates those `filter` keeps at `levels` (host,
/// pair): memory holds one batch and the host and pair rows, not the flows.
pub fn aggregate_batches(
    input: &Input,
    fmt: &FormatArgs,
    batch_rows: u64,
    params: &AggregateParams,
    levels: &[Level],
    filter: Option<&RowFilter>,
) -> Result<Aggregated> {
    let mut aggregator = Aggregator::new(params.clone(), levels)?;
    let (mut rows_read, mut rows_selected) = (0usize, 0usize);
    let batch_rows = usize::try_from(batch_rows).unwrap_or(usize::MAX);
    let format = read_batches(input, &fmt.options()?, batch_rows, |batch: Table| -> Result<()> {
        rows_read += batch.n_rows();
        let kept: Vec<usize> = match filter {
            Some(f) => {
                let excluded = f.apply(&batch)?;
                (0..batch.n_rows()).filter(|&i| excluded[i].is_none()).collect()
            }
            None => (0..batch.n_rows()).collect(),
        };
        rows_selected += kept.len();
        if kept.len() == batch.n_rows() {
            aggregator.push(&batch)?;
        } else if !kept.is_empty() {
            aggregator.push(&batch.take_rows(&kept))?;
        }
        Ok(())
    })?;
    if rows_read == 0 {
        bail!("{}: no flows", input.name());
    }
    if rows_selected == 0 {
        let f = filter.cloned().unwrap_or_default();
        bail!("no flow matches the selection (--service {:?} --host {:?})", f.services, f.hosts);
    }
    let aggregates = aggregator.finish().with_context(|| format!("aggregating {}", input.name()))?;
    Ok(Aggregated { aggregates, format, rows_read, rows_selected })
}

/// Reads a numeric CSV (header, every column numeric, no nulls) as a matrix with its column names.
pub fn numeric_csv(path: &std::path::Path) -> Result<(Vec<String>, ndarray::Array2<f64>)> {
    numeric_csv_with(path, None)
}

/// [`numeric_csv`] where the empty cells of one column (`nullable`) read as NaN instead of failing.
pub fn numeric_csv_with(path: &std::path::Path, nullable: Option<&str>) -> Result<(Vec<String>, ndarray::Array2<f64>)> {
    let input = open_input(path).with_context(|| format!("cannot open {}", shown(path)))?;
    let opts = ReadOptions { format: Format::Csv, csv: CsvOptions::default(), columns: None };
    let (table, _) = read_input(&input, &opts)?;
    if table.n_rows() == 0 {
        bail!("{}: no data rows", shown(path));
    }
    if let Some(c) = table.columns().iter().find(|c| !c.dtype().is_numeric()) {
        bail!(
            "{}: column '{}' is not numeric ({}); this command takes numeric features only",
            shown(path),
            c.name(),
            c.dtype()
        );
    }
    let names: Vec<String> = table.names().iter().map(|s| s.to_string()).collect();
    let strict: Vec<&str> = names.iter().map(String::as_str).filter(|n| Some(*n) != nullable).collect();
    let mut x = table.to_array(&strict, outflow::io::NullPolicy::Error).with_context(|| shown(path))?;
    if let Some(col) = nullable.and_then(|n| names.iter().position(|m| m == n)) {
        let v = table.to_array(&[names[col].as_str()], outflow::io::NullPolicy::Nan).with_context(|| shown(path))?;
        x = ndarray::concatenate(
            ndarray::Axis(1),
            &[x.slice(ndarray::s![.., ..col]), v.view(), x.slice(ndarray::s![.., col..])],
        )?;
    }
    Ok((names, x))
}

/// Writes to standard output; a reader that stopped early (`| head`) ends the output quietly.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Standard output for a stream of writes that ends quietly when its reader stops early (`| head`):
/// after a broken pipe the rest is dropped and `closed` is set, so the writer can stop producing. (On
/// Unix the default SIGPIPE action, restored in `main`, ends the process first.)
pub struct QuietStdout {
    out: std::io::Stdout,
    closed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl QuietStdout {
    /// Standard output, reporting a closed pipe through `closed`.
    pub fn new(closed: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        QuietStdout { out: std::io::stdout(), closed }
    }

    fn quiet(&self, r: std::io::Result<()>) -> std::io::Result<()> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            r => r,
        }
    }
}

impl std::io::Write for QuietStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.closed.load(std::sync::atomic::Ordering::Relaxed) {
            let r = self.out.write_all(buf);
            self.quiet(r)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        let r = self.out.flush();
        self.quiet(r)
    }
}

/// The widest a column of a printed table is padded to: names past it are printed whole, unaligned
/// (format widths beyond 65,535 panic, and no terminal shows them anyway).
pub const MAX_CELL_WIDTH: usize = 60;

/// The most threads a command may ask for: more than this many per core only thrashes (and tens of
/// thousands of threads exhaust the system).
const MAX_THREADS_PER_CORE: usize = 16;

/// Checks a thread count option (0 = all cores).
pub fn check_threads(option: &str, threads: usize) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cores * MAX_THREADS_PER_CORE;
    if threads > max {
        bail!("{option} {threads} is more than {max} ({MAX_THREADS_PER_CORE} per core on {cores} cores)");
    }
    Ok(())
}

/// Sizes the global thread pool (0 = all cores). Call once, before any parallel work.
pub fn set_threads(threads: usize) -> Result<()> {
    check_threads("--threads", threads)?;
    if threads > 0 {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().context("cannot size the thread pool")?;
    }
    Ok(())
}

/// A duration such as `150ms`, `30s`, `5m`, `1h` or a number of seconds, between `min` and `max`
/// seconds (`range` says so in the error).
pub fn duration_between(s: &str, min: f64, max: f64, range: &str) -> std::result::Result<std::time::Duration, String> {
    let t = s.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("'{s}': expected a duration such as 30s, 5m or 1h")),
    };
    let seconds =
        number.trim().parse::<f64>().map_err(|_| format!("'{s}': expected a duration such as 30s, 5m or 1h"))? * scale;
    if !(min..=max).contains(&seconds) {
        return Err(format!("'{s}': the duration must be between {range}"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Calls `handler` with the signal's name each time the process receives SIGTERM, SIGINT or SIGHUP
/// (Unix; elsewhere nothing), from a thread of its own.
pub fn on_signals(handler: impl Fn(&'static str) + Send + 'static) {
    #[cfg(unix)]
    std::thread::spawn(move || {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
                (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
            else {
                return;
            };
            loop {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                    _ = hup.recv() => "SIGHUP",
                };
                handler(name);
            }
        });
    });
    #[cfg(not(unix))]
    let _ = handler;
}

/// UMAP's parameters from `umap` or `umap:key=value,...` (umap-learn's parameter names).
pub fn umap_spec(spec: &str) -> Result<outflow::embed::UmapParams> {
    use outflow::embed::{UmapInit, UmapParams};
    let (method, rest) = spec.split_once(':').unwrap_or((spec, ""));
    if method != "umap" {
        bail!("'{method}' is not an embedding a model can apply to new flows (umap; t-SNE has no transform)");
    }
    let mut p = UmapParams::default();
    for item in rest.split(',').filter(|s| !s.is_empty()) {
        let (key, value) = item.split_once('=').ok_or_else(|| anyhow::anyhow!("'{item}' is not key=value"))?;
        let number = |v: &str| v.parse::<f64>().map_err(|_| anyhow::anyhow!("{key}: '{v}' is not a number"));
        let count = |v: &str| v.parse::<usize>().map_err(|_| anyhow::anyhow!("{key}: '{v}' is not a whole number"));
        match key {
            "n_components" => p.n_components = count(value)?,
            "n_neighbors" => p.n_neighbors = count(value)?,
            "min_dist" => p.min_dist = number(value)?,
            "spread" => p.spread = number(value)?,
            "metric" => p.metric = value.parse().map_err(|e| anyhow::anyhow!("metric: {e}"))?,
            "n_epochs" => p.n_epochs = Some(count(value)?),
            "learning_rate" => p.learning_rate = number(value)?,
            "init" => {
                p.init = match value {
                    "spectral" => UmapInit::Spectral,
                    "pca" => UmapInit::Pca,
                    "random" => UmapInit::Random,
                    other => bail!("init: '{other}' is not spectral, pca or random"),
                }
            }
            "local_connectivity" => p.local_connectivity = number(value)?,
            "set_op_mix_ratio" => p.set_op_mix_ratio = number(value)?,
            "repulsion_strength" => p.repulsion_strength = number(value)?,
            "negative_sample_rate" => p.negative_sample_rate = count(value)?,
            "seed" | "random_state" => bail!("{key}: the embedding takes the detector's --seed"),
            other => bail!(
                "'{other}' is not a UMAP parameter (n_components, n_neighbors, min_dist, spread, metric, n_epochs, learning_rate, init, local_connectivity, set_op_mix_ratio, repulsion_strength, negative_sample_rate)"
            ),
        }
    }
    p.validate()?;
    Ok(p)
}
