//! The watch loop: follow, batch, score, alert, checkpoint.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use outflow::{Detector, Severity};

use crate::alert::{Alert, FlowAlert, FlowColumns, ModelInfo, flow_alert};
use crate::allow::AllowList;
use crate::batch::{Added, Batcher, LogKind, Parsed};
use crate::checkpoint::{CHECKPOINT_VERSION, Checkpoint};
use crate::error::{Result, WatchError};
use crate::follow::{FollowCounters, FollowState, Follower, Source, Start};
use crate::live::{LiveState, LiveWindows};
use crate::sink::{Sink, SinkCounters};

/// Loads the model (at the start and on a reload).
pub type ModelLoader = Box<dyn FnMut() -> std::result::Result<(Detector, ModelInfo), String> + Send>;

/// How a watch runs.
#[derive(Debug, Clone)]
pub struct WatchParams {
    /// What is followed.
    pub source: Source,
    /// Where to start without a checkpoint.
    pub start: Start,
    /// The checkpoint file (none: no resume).
    pub checkpoint: Option<PathBuf>,
    /// The lowest severity alerted.
    pub min_severity: Severity,
    /// Known-good peers.
    pub allow: AllowList,
    /// Flows per batch at most.
    pub batch_rows: usize,
    /// A batch is scored at most this long after its first line was read.
    pub batch_wait: Duration,
    /// Pause between looks at a source with nothing new.
    pub poll: Duration,
    /// Progress to standard error this often.
    pub progress_every: Duration,
    /// Counters written to this JSON file (atomically, at most once a second and at the end).
    pub metrics: Option<PathBuf>,
    /// On a stop, how long undelivered alerts may take.
    pub drain_timeout: Duration,
    /// Host and pair models: how late a flow may arrive for its window (Zeek logs a connection when it
    /// ends, with the time it started).
    pub lateness: Duration,
    /// Host and pair models: open windows are scored this often for early alerts.
    pub early_every: Duration,
}

impl WatchParams {
    /// Defaults for a source: from its beginning, moderate and severe alerts, batches of 8,192 flows or
    /// 150 ms, 5 minutes of lateness, early alerts every 10 s.
    pub fn new(source: Source) -> WatchParams {
        WatchParams {
            source,
            start: Start::Beginning,
            checkpoint: None,
            min_severity: Severity::Moderate,
            allow: AllowList::default(),
            batch_rows: 8192,
            batch_wait: Duration::from_millis(150),
            poll: Duration::from_millis(50),
            progress_every: Duration::from_secs(60),
            metrics: None,
            drain_timeout: Duration::from_secs(10),
            lateness: Duration::from_secs(300),
            early_every: Duration::from_secs(10),
        }
    }
}

/// Flags set from outside (signal handlers): stop after the current batch, reload the model.
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// Finish the batch, deliver, checkpoint and return.
    pub stop: Arc<AtomicBool>,
    /// Load the model again (a failed load keeps the old one).
    pub reload: Arc<AtomicBool>,
}

/// What a watch counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Lines read (records and directives).
    pub lines_read: u64,
    /// Flows parsed.
    pub flows_read: u64,
    /// Flows scored.
    pub flows_scored: u64,
    /// Flows the model could not score (missing values it cannot fill, ...).
    pub flows_unscored: u64,
    /// Malformed lines skipped.
    pub lines_skipped: u64,
    /// Batches scored.
    pub batches: u64,
    /// Batches the model refused whole (reported; their flows are skipped).
    pub batches_failed: u64,
    /// Moderate alerts raised (after filters).
    pub alerts_moderate: u64,
    /// Severe alerts raised.
    pub alerts_severe: u64,
    /// Alerts below `--min-severity`.
    pub below_min_severity: u64,
    /// Alerts suppressed by the allow-list.
    pub allowed: u64,
    /// Host and pair models: flows that came after their window was closed.
    pub late_flows: u64,
    /// Host and pair models: flows stamped later than the clock allows (skipped).
    #[serde(default)]
    pub future_flows: u64,
    /// Host and pair models: windows closed and scored.
    pub windows_closed: u64,
    /// Model reloads that took effect.
    pub reloads: u64,
    /// Model reloads refused (the old model kept).
    pub reloads_failed: u64,
}

/// Everything reported: the counters, the files' and the sinks'.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics<'a> {
    /// When written.
    pub time: String,
    /// Seconds since the start.
    pub uptime_seconds: f64,
    /// The source.
    pub source: String,
    /// The model.
    pub model: &'a str,
    /// The watch's counters.
    #[serde(flatten)]
    pub counters: &'a Counters,
    /// The follower's.
    pub files: &'a FollowCounters,
    /// Per sink.
    pub sinks: Vec<(String, SinkCounters)>,
}

/// Where a batch's checkpoint waits for its alerts to settle.
struct Pending {
    seq: u64,
    follow: FollowState,
    header: String,
    live: Option<LiveState>,
    /// The alert file as this batch left it (a later batch may be written before this one settles
    /// everywhere).
    alerts_file: Option<crate::sink::FileState>,
    counters: Counters,
}

struct Model {
    detector: Detector,
    info: ModelInfo,
}

/// Skipped lines shown per reason; the rest are counted only.
const SHOWN_PER_REASON: u64 = 10;

/// Runs a watch until the source ends (standard input) or `control.stop` is set. Messages for the
/// user (malformed lines, rotations, progress) go to `log`.
pub fn watch(
    params: WatchParams,
    mut load: ModelLoader,
    mut sinks: Vec<Box<dyn Sink>>,
    control: Control,
    log: &mut dyn FnMut(&str),
) -> Result<Counters> {
    if sinks.is_empty() {
        return Err(WatchError::Param { name: "sinks", message: "no destination for alerts".into() });
    }
    let (detector, info) = load().map_err(|m| WatchError::Param { name: "MODEL", message: m })?;
    if !detector.level().is_entity() {
        zeek_flow_model(&detector).map_err(|m| WatchError::Param { name: "MODEL", message: m })?;
    }
    let mut model = Model { detector, info };
    let resume = match &params.checkpoint {
        Some(p) => Checkpoint::load(p)?,
        None => None,
    };
    let source_name = params.source.describe();
    if let Some(c) = &resume
        && c.source != source_name
    {
        return Err(WatchError::Checkpoint {
            path: params.checkpoint.as_ref().expect("loaded").display().to_string(),
            message: format!("it was written while following {}, not {source_name}", c.source),
        });
    }
    let mut counters = resume.as_ref().map(|c| c.counters.clone()).unwrap_or_default();
    let follow_state = resume.as_ref().map(|c| c.follow.clone()).unwrap_or_default();
    let mut live = if model.detector.level().is_entity() {
        let history = params.checkpoint.as_ref().map(|p| {
            let mut name = p.as_os_str().to_owned();
            name.push(".baseline.json");
            PathBuf::from(name)
        });
        let header = resume.as_ref().map(|c| c.header.clone()).unwrap_or_default();
        Some(LiveWindows::new(
            &model.detector,
            resume.as_ref().and_then(|c| c.live.clone()),
            params.lateness,
            history.as_deref(),
            (follow_state.clone(), header),
        )?)
    } else {
        None
    };
    // Once a checkpoint exists, its position decides where reading starts, whatever --from says.
    let start = if resume.is_some() { Start::Beginning } else { params.start };
    let mut follower = Follower::new(params.source.clone(), follow_state, start)?;
    let mut batcher = Batcher::new();
    if let Some(c) = &resume {
        batcher.restore_header(c.header.as_bytes());
    }
    let mut allow = params.allow.clone();
    for failed in allow.resolve() {
        log(&format!("allow-list: cannot resolve {failed}"));
    }
    // A first checkpoint before anything is written: a crash before the first batch settles must not
    // leave an alert file that a restart would append to again.
    if resume.is_none() && params.checkpoint.is_some() {
        let first = Pending {
            seq: 0,
            follow: follower.state(),
            header: String::new(),
            live: live.as_ref().map(LiveWindows::state),
            alerts_file: sinks.iter().find_map(|s| s.file_state()),
            counters: counters.clone(),
        };
        let mut pending = VecDeque::from([first]);
        checkpoint_settled(&params, &source_name, &mut pending, &sinks, &model)?;
    }
    let abort_after: Option<u64> = std::env::var("OUTFLOW_WATCH_ABORT_AFTER_BATCHES").ok().and_then(|v| v.parse().ok());
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut last_metrics: Option<Instant> = None;
    let mut last_early = Instant::now();
    let mut seq: u64 = 0;
    // Messages said once per run (a log without the model's columns: each of its batches is refused).
    let mut told: HashSet<String> = HashSet::new();
    let mut skipped_for: HashMap<String, u64> = HashMap::new();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut batch_started: Option<Instant> = None;
    let mut stopping = false;

    loop {
        if control.reload.swap(false, Ordering::SeqCst) {
            match load() {
                Ok((d, i)) => match live.as_ref().map(|l| l.accepts(&d)).unwrap_or_else(|| check_flow_model(&d)) {
                    Ok(()) => {
                        log(&format!("model reloaded: {} ({})", i.name, &i.sha256[..12.min(i.sha256.len())]));
                        if let Some(l) = live.as_mut() {
                            l.model_changed();
                        }
                        model = Model { detector: d, info: i };
                        counters.reloads += 1;
                    }
                    Err(why) => {
                        log(&format!("model reload refused ({why}); the old model stays"));
                        counters.reloads_failed += 1;
                    }
                },
                Err(why) => {
                    log(&format!("model reload failed ({why}); the old model stays"));
                    counters.reloads_failed += 1;
                }
            }
            for failed in allow.resolve() {
                log(&format!("allow-list: cannot resolve {failed}"));
            }
        }
        if control.stop.load(Ordering::SeqCst) {
            stopping = true;
        }

        // Read until the batch is full, its time is up, or nothing more is written.
        let mut flush = false;
        let mut idle = false;
        if !stopping {
            loop {
                if batcher.len() >= params.batch_rows || batch_started.is_some_and(|t| t.elapsed() >= params.batch_wait)
                {
                    flush = true;
                    break;
                }
                match follower.next_line()? {
                    Some(line) => {
                        counters.lines_read += 1;
                        if batcher.push(line) == Added::HeaderChange {
                            flush = true;
                            break;
                        }
                        if batch_started.is_none() && !batcher.is_empty() {
                            batch_started = Some(Instant::now());
                        }
                    }
                    None => {
                        idle = true;
                        break;
                    }
                }
            }
        }
        for n in follower.take_notices() {
            log(&n);
        }
        let ended = follower.finished();
        let closing_all = ended || stopping;
        // With nothing read, a host or pair model still has work when a window is due to close (the
        // clock moves the watermark) or early alerts are due; otherwise no empty batch (and no
        // checkpoint) every poll.
        let early_due = last_early.elapsed() >= params.early_every;
        let live_due = live
            .as_ref()
            .is_some_and(|l| l.has_open() && (closing_all || (idle && (early_due || l.closes_any(l.watermark(true))))));
        if flush || idle || closing_all {
            let has_lines = !batcher.is_empty() || batcher.has_rejected();
            if has_lines || flush || live_due || (closing_all && live.is_some()) {
                seq += 1;
                let (parsed, bad) = batcher.take(model.detector.input_schema());
                let header_after = batcher.header_text();
                for m in &bad {
                    // A log of another kind fails every line for one reason: a few are shown, all counted.
                    let seen = skipped_for.entry(m.message.clone()).or_insert(0);
                    *seen += 1;
                    if *seen <= SHOWN_PER_REASON {
                        log(&format!("{}:{}: {}; line skipped", m.at.file, m.at.line, m.message));
                    } else if *seen == SHOWN_PER_REASON + 1 {
                        log(&format!(
                            "{}:{}: {}; line skipped, and further lines skipped for this reason are counted \
                             (lines_skipped), not shown",
                            m.at.file, m.at.line, m.message
                        ));
                    }
                }
                counters.lines_skipped += bad.len() as u64;
                let mut alerts = Vec::new();
                match &mut live {
                    None => {
                        if let Some(p) = parsed {
                            let lacking = lacking_columns(&model.detector, &p);
                            warn_unset_everywhere(&model.detector, &p, &mut told, &mut *log);
                            if lacking.is_empty() {
                                alerts = score_flows(&model, &p, &params, &mut counters, &allow, &mut *log);
                            } else {
                                refuse_lacking(&p, &lacking, &mut counters, &mut told, &mut *log);
                            }
                        }
                    }
                    Some(l) => {
                        if let Some(p) = &parsed {
                            counters.flows_read += p.table.n_rows() as u64;
                            counters.flows_scored += p.table.n_rows() as u64;
                            l.push(&p.table, &mut counters)?;
                        }
                        let now_closed = if closing_all && ended { f64::INFINITY } else { l.watermark(idle) };
                        let raised = l.close(&model.detector, &model.info, now_closed, &mut counters, &mut *log);
                        alerts.extend(raised);
                        if early_due {
                            last_early = Instant::now();
                            alerts.extend(l.early(&model.detector, &model.info, &mut counters, &mut *log));
                        }
                        alerts = filter(alerts, &params, &allow, &mut counters);
                    }
                }
                counters.batches += 1;
                for s in sinks.iter_mut() {
                    s.send(seq, &alerts)?;
                }
                let (follow, header) = match &mut live {
                    Some(l) => l.replay_from((follower.state(), header_after)),
                    None => (follower.state(), header_after),
                };
                pending.push_back(Pending {
                    seq,
                    follow,
                    header,
                    live: live.as_ref().map(LiveWindows::state),
                    alerts_file: sinks.iter().find_map(|s| s.file_state()),
                    counters: counters.clone(),
                });
                batch_started = None;
                if abort_after.is_some_and(|n| counters.batches >= n) {
                    // For tests of a crash between delivery and checkpoint.
                    std::process::abort();
                }
            }
        }

        checkpoint_settled(&params, &source_name, &mut pending, &sinks, &model)?;

        if last_progress.elapsed() >= params.progress_every {
            last_progress = Instant::now();
            log(&progress(&counters, &sinks, resume.is_some()));
        }
        if let Some(m) = &params.metrics
            && last_metrics.is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            last_metrics = Some(Instant::now());
            write_metrics(m, &counters, &follower, &sinks, &source_name, &model.info, started)?;
        }

        if closing_all && batcher.is_empty() && !batcher.has_rejected() {
            break;
        }
        if idle && follower.waits() {
            // Standard input: the read waited already.
        } else if idle && batcher.is_empty() {
            std::thread::sleep(params.poll);
        } else if idle {
            // Lines waiting for their batch's time: a short pause, not a whole poll.
            std::thread::sleep(params.poll.min(Duration::from_millis(5)));
        }
    }

    // Everything handed over is delivered (or the time is up), then the last checkpoint.
    let mut undelivered = Vec::new();
    for s in sinks.iter_mut() {
        if !s.drain(params.drain_timeout) {
            undelivered.push(s.name());
        }
    }
    checkpoint_settled(&params, &source_name, &mut pending, &sinks, &model)?;
    if let Some(m) = &params.metrics {
        write_metrics(m, &counters, &follower, &sinks, &source_name, &model.info, started)?;
    }
    log(&progress(&counters, &sinks, resume.is_some()));
    if !undelivered.is_empty() {
        // A watch that could not deliver its alerts has failed, even when it read everything.
        let again = match &params.checkpoint {
            Some(cp) => format!("the next start from the checkpoint {} raises them again", cp.display()),
            None => "they are lost: without --checkpoint nothing raises them again".to_owned(),
        };
        return Err(WatchError::Sink(format!("{}: alerts still undelivered at exit; {again}", undelivered.join(", "))));
    }
    // Lines came and none was scored: the log is not one the model can score (the messages above say why).
    if counters.flows_scored == 0 && (counters.flows_read > 0 || counters.lines_skipped > 0) {
        return Err(WatchError::Source(format!(
            "{source_name}: no flow was scored ({} flows read, {} lines skipped)",
            counters.flows_read, counters.lines_skipped
        )));
    }
    Ok(counters)
}

fn check_flow_model(d: &Detector) -> std::result::Result<(), String> {
    if d.level().is_entity() {
        return Err(format!("it is a {} model and the watch runs a flow model", d.level()));
    }
    zeek_flow_model(d)
}

/// A flow model the watch can feed: not fitted on a CICFlowMeter or KDD log, whose columns no Zeek log
/// has (the watch reads Zeek ASCII and JSON logs only). A model of other columns is checked against
/// each log's fields as they come.
fn zeek_flow_model(d: &Detector) -> std::result::Result<(), String> {
    use outflow::io::Family;
    let names: Vec<&str> = d.input_schema().fields.iter().map(|f| f.name.as_str()).collect();
    match Family::detect_names(&names, false) {
        family @ (Family::Cic | Family::Kdd) => Err(format!(
            "its columns are not a Zeek conn log's (log family: {family}) and the watch follows Zeek conn logs \
             (ASCII or JSON); score such logs with `outflow score`"
        )),
        _ => Ok(()),
    }
}

/// Saves the checkpoint of the latest batch whose alerts every sink has settled.
fn checkpoint_settled(
    params: &WatchParams,
    source: &str,
    pending: &mut VecDeque<Pending>,
    sinks: &[Box<dyn Sink>],
    model: &Model,
) -> Result<()> {
    let settled = sinks.iter().map(|s| s.settled()).min().unwrap_or(u64::MAX);
    let mut ready = None;
    while pending.front().is_some_and(|p| p.seq <= settled) {
        ready = pending.pop_front();
    }
    let (Some(p), Some(path)) = (ready, &params.checkpoint) else { return Ok(()) };
    Checkpoint {
        version: CHECKPOINT_VERSION,
        source: source.to_owned(),
        follow: p.follow,
        header: p.header,
        alerts_file: p.alerts_file,
        model_sha256: model.info.sha256.clone(),
        counters: p.counters,
        live: p.live,
        written_at: crate::alert::now_rfc3339(),
    }
    .save(path)
}

/// The counters in one line; `resumed`: they count from the checkpoint's first start, not this one.
fn progress(c: &Counters, sinks: &[Box<dyn Sink>], resumed: bool) -> String {
    let mut line = String::from(if resumed { "since the checkpoint's first start: " } else { "" });
    line.push_str(&format!(
        "{} flows read, {} scored, alerts: {} severe, {} moderate; {} allowed, {} lines skipped",
        c.flows_read, c.flows_scored, c.alerts_severe, c.alerts_moderate, c.allowed, c.lines_skipped
    ));
    // Flows that came after their window closed are in no window's figures.
    if c.late_flows + c.future_flows > 0 {
        line.push_str(&format!(
            "; {} flows too late for their window (--lateness), {} stamped later than the clock allows",
            c.late_flows, c.future_flows
        ));
    }
    for s in sinks {
        let k = s.counters();
        if k.dropped + k.rejected + k.queued > 0 {
            line.push_str(&format!(
                "; {}: {} queued, {} dropped, {} rejected",
                s.name(),
                k.queued,
                k.dropped,
                k.rejected
            ));
        }
    }
    line
}

fn write_metrics(
    path: &std::path::Path,
    counters: &Counters,
    follower: &Follower,
    sinks: &[Box<dyn Sink>],
    source: &str,
    model: &ModelInfo,
    started: Instant,
) -> Result<()> {
    let m = Metrics {
        time: crate::alert::now_rfc3339(),
        uptime_seconds: started.elapsed().as_secs_f64(),
        source: source.to_owned(),
        model: &model.name,
        counters,
        files: follower.counters(),
        sinks: sinks.iter().map(|s| (s.name(), s.counters())).collect(),
    };
    let bytes = serde_json::to_vec_pretty(&m).expect("metrics serialise");
    outflow::write_atomic(path, &bytes, true).map_err(|e| WatchError::Sink(format!("metrics: {e}")))
}

/// The columns the flow model reads that the batch's log does not write: any missing from a Zeek
/// ASCII section's `#fields`; in Zeek JSON, which leaves unset fields out, a number or flag in no line
/// of the batch that is not a count Zeek leaves unset when nothing was sent (`duration`, bytes). Filled
/// with zeros they would make every flow an outlier (a model reading `local_resp` on a log without it).
fn lacking_columns(detector: &Detector, p: &Parsed) -> Vec<String> {
    let required = detector.required_columns();
    let unset_is_zero = outflow::io::Family::Zeek.columns().zero_when_unset;
    let schema = detector.input_schema();
    p.absent
        .iter()
        .filter(|name| required.contains(&name.as_str()))
        .filter(|name| {
            p.kind == LogKind::ZeekTsv
                || !unset_is_zero.contains(&name.as_str())
                    && schema.fields.iter().any(|f| &f.name == *name && f.dtype != outflow::io::DataType::Categorical)
        })
        .cloned()
        .collect()
}

/// Lines of a Zeek JSON batch from which a missing field says the log never writes it, not that it was
/// unset in each.
const UNSET_EVERYWHERE_LINES: usize = 20;

/// Warns, once per file and columns, when no line of a long Zeek JSON batch has a number the model reads
/// that Zeek leaves out when unset (`local_resp` without `Site::local_nets`): read as 0 as the model
/// reads an unset value, but a model fitted where the log sets it finds every such flow unusual.
fn warn_unset_everywhere(detector: &Detector, p: &Parsed, told: &mut HashSet<String>, log: &mut dyn FnMut(&str)) {
    if p.kind != LogKind::ZeekJson || p.table.n_rows() < UNSET_EVERYWHERE_LINES {
        return;
    }
    let required = detector.required_columns();
    let unset_is_zero = outflow::io::Family::Zeek.columns().zero_when_unset;
    let unset: Vec<String> = p
        .absent
        .iter()
        .filter(|n| required.contains(&n.as_str()) && unset_is_zero.contains(&n.as_str()))
        .map(|n| format!("'{n}'"))
        .collect();
    if unset.is_empty() {
        return;
    }
    let message = format!(
        "{}: no line of a batch of {UNSET_EVERYWHERE_LINES} or more has {} (the model reads it): read as unset, \
         0; a model fitted on logs that set it finds such flows unusual",
        p.origins[0].file,
        unset.join(", ")
    );
    if told.insert(message.clone()) {
        log(&message);
    }
}

/// Skips a batch of a log without the model's columns, saying so once per file and columns.
fn refuse_lacking(
    p: &Parsed,
    lacking: &[String],
    counters: &mut Counters,
    told: &mut HashSet<String>,
    log: &mut dyn FnMut(&str),
) {
    let n = p.table.n_rows() as u64;
    counters.flows_read += n;
    counters.flows_unscored += n;
    counters.batches_failed += 1;
    let file = &p.origins[0].file;
    let message = format!(
        "{file}: the log has no {} (the model was fitted on logs with {}): its flows are not scored",
        lacking.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "),
        if lacking.len() == 1 { "it" } else { "them" }
    );
    if told.insert(message.clone()) {
        log(&message);
    }
}

/// Scores a batch of flows and returns its alerts (filtered by severity and allow-list).
fn score_flows(
    model: &Model,
    p: &Parsed,
    params: &WatchParams,
    counters: &mut Counters,
    allow: &AllowList,
    log: &mut dyn FnMut(&str),
) -> Vec<Alert> {
    let n = p.table.n_rows();
    counters.flows_read += n as u64;
    let scored = match model.detector.score_log(&p.table) {
        Ok(s) => s,
        Err(e) => {
            let first = &p.origins[0];
            log(&format!(
                "{}:{}–{}: the model refused these {n} flows ({e}); skipped",
                first.file,
                first.line,
                p.origins.last().map(|o| o.line).unwrap_or(first.line)
            ));
            counters.batches_failed += 1;
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    for s in &scored.scores {
        if s.severity == Severity::Unscored {
            counters.flows_unscored += 1;
            continue;
        }
        counters.flows_scored += 1;
        if s.severity.is_anomaly() {
            if s.severity < params.min_severity {
                counters.below_min_severity += 1;
            } else {
                rows.push(s.row);
            }
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    // Reasons only for the flows alerted.
    let subset = p.table.take_rows(&rows);
    let reasons = match model.detector.prep().transform(&subset) {
        Ok(prepared) => model.detector.reasons(&prepared, 3),
        Err(_) => vec![String::new(); rows.len()],
    };
    let cols = FlowColumns::new(&p.table);
    let alerts: Vec<Alert> = rows
        .iter()
        .zip(&reasons)
        .map(|(&row, reasons)| {
            let s = &scored.scores[row];
            let at = &p.origins[row];
            flow_alert(
                &cols,
                &FlowAlert {
                    row,
                    score: s.outlier_score.unwrap_or(0.0),
                    severity: s.severity,
                    cluster: s.cluster.unwrap_or(-1),
                    reasons,
                    file: &at.file,
                    line: at.line,
                },
                &model.info,
            )
        })
        .collect();
    filter(alerts, params, allow, counters)
}

/// Alerts at or above the minimum severity and not about an allowed peer, counted.
fn filter(alerts: Vec<Alert>, params: &WatchParams, allow: &AllowList, counters: &mut Counters) -> Vec<Alert> {
    let mut kept = Vec::with_capacity(alerts.len());
    for a in alerts {
        if a.severity < params.min_severity {
            counters.below_min_severity += 1;
        } else if !allow.is_empty() && allow.allows(&a.addresses) {
            counters.allowed += 1;
        } else {
            match a.severity {
                Severity::Severe => counters.alerts_severe += 1,
                _ => counters.alerts_moderate += 1,
            }
            kept.push(a);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_when_flows_missed_their_window() {
        let c = Counters { flows_read: 10, flows_scored: 10, ..Counters::default() };
        assert!(!progress(&c, &[], false).contains("too late"));
        assert!(progress(&c, &[], true).starts_with("since the checkpoint's first start: 10 flows read"));
        let c = Counters { late_flows: 4, ..c };
        assert!(
            progress(&c, &[], false)
                .ends_with("; 4 flows too late for their window (--lateness), 0 stamped later than the clock allows")
        );
    }
}
