//! Where alerts go: standard output, a size-rotated file, an HTTP webhook.
//!
//! Every batch of alerts is numbered; a sink reports the highest number up to which every alert is
//! *settled* (written, delivered, dropped or rejected), and the watch checkpoints the read position of
//! that batch only. The file sink is exactly-once across restarts (the checkpoint holds its length and
//! anything after it is cut); standard output and the webhook are at-least-once, with a stable
//! `event.id` for a SIEM to deduplicate on.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use outflow::Severity;

use crate::alert::Alert;
use crate::error::{Result, WatchError};

/// What a sink saves in the checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// Device and inode of the alert file.
    pub ident: Option<(u64, u64)>,
    /// Its length after the last settled batch.
    pub bytes: u64,
}

/// Counters of a sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkCounters {
    /// Alerts written or accepted by the receiver.
    pub delivered: u64,
    /// Moderate alerts dropped from a full queue.
    pub dropped: u64,
    /// Alerts the receiver refused for good (a 4xx other than 408 and 429).
    pub rejected: u64,
    /// Requests retried.
    pub retries: u64,
    /// Alerts waiting.
    pub queued: u64,
    /// Alert files rotated.
    pub rotations: u64,
}

/// A destination of alerts.
pub trait Sink: Send {
    /// Hands over the alerts of batch `seq` (batches come in increasing order, each once, empty ones
    /// too).
    fn send(&mut self, seq: u64, alerts: &[Alert]) -> Result<()>;
    /// The highest batch number whose alerts, and all before it, are settled.
    fn settled(&self) -> u64;
    /// Waits until every alert handed over is settled, at most `timeout`; false when some are not. A
    /// sink that settles as it writes has nothing to wait for.
    fn drain(&mut self, _timeout: Duration) -> bool {
        true
    }
    /// Its state for the checkpoint.
    fn file_state(&self) -> Option<FileState> {
        None
    }
    /// Its counters.
    fn counters(&self) -> SinkCounters;
    /// Its name in messages.
    fn name(&self) -> String;
}

/// The alerts as NDJSON.
fn lines(alerts: &[Alert]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(alerts.len() * 600);
    for a in alerts {
        buf.extend_from_slice(&a.to_line());
    }
    buf
}

/// Alerts to standard output, one JSON document per line.
pub struct Stdout {
    settled: u64,
    counters: SinkCounters,
}

impl Stdout {
    /// A sink writing to standard output.
    pub fn new() -> Stdout {
        Stdout { settled: 0, counters: SinkCounters::default() }
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}

impl Sink for Stdout {
    fn send(&mut self, seq: u64, alerts: &[Alert]) -> Result<()> {
        if !alerts.is_empty() {
            let mut out = std::io::stdout().lock();
            out.write_all(&lines(alerts))
                .and_then(|_| out.flush())
                .map_err(|e| WatchError::Sink(format!("cannot write alerts to standard output: {e}")))?;
            self.counters.delivered += alerts.len() as u64;
        }
        self.settled = seq;
        Ok(())
    }
    fn settled(&self) -> u64 {
        self.settled
    }
    fn counters(&self) -> SinkCounters {
        self.counters.clone()
    }
    fn name(&self) -> String {
        "standard output".into()
    }
}

/// Alerts appended to a file, rotated by size (`PATH.1` the newest of the old ones, up to `PATH.<keep>`).
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    bytes: u64,
    max_bytes: u64,
    keep: u32,
    settled: u64,
    counters: SinkCounters,
}

fn ident(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().as_ref().and_then(crate::follow::ident_of)
}

impl RotatingFile {
    /// Opens the alert file, after a restart cutting what was written after the last checkpoint (those
    /// alerts are raised again from the flows read again).
    pub fn open(
        path: &Path,
        max_bytes: u64,
        keep: u32,
        resume: Option<&FileState>,
    ) -> Result<(RotatingFile, Vec<String>)> {
        let err = |e: std::io::Error| WatchError::Sink(format!("cannot open the alert file {}: {e}", path.display()));
        let mut notes = Vec::new();
        if let Some(state) = resume.filter(|st| st.ident.is_some()) {
            // The checkpointed file is PATH, or PATH.k when it was rotated k times after the checkpoint;
            // then PATH.(k-1) … PATH.1 and PATH hold only alerts raised again after the restart.
            let names: Vec<PathBuf> =
                std::iter::once(path.to_owned()).chain((1..=keep.max(1)).map(|k| rotated_name(path, k))).collect();
            match names.iter().position(|n| ident(n) == state.ident) {
                Some(k) => {
                    let t = &names[k];
                    let f = OpenOptions::new().write(true).open(t).map_err(err)?;
                    let len = f.metadata().map_err(err)?.len();
                    if len > state.bytes {
                        f.set_len(state.bytes).map_err(err)?;
                        f.sync_all().map_err(err)?;
                        notes.push(format!(
                            "{}: {} bytes of alerts written after the last checkpoint removed (they are raised again)",
                            t.display(),
                            len - state.bytes
                        ));
                    }
                    if k > 0 {
                        for newer in &names[1..k] {
                            let _ = std::fs::remove_file(newer);
                        }
                        // The checkpointed file becomes PATH again: its alerts are the latest kept.
                        std::fs::rename(t, path).map_err(err)?;
                        notes.push(format!("{}: rotated after the last checkpoint; rotation undone", path.display()));
                    }
                }
                None if path.exists() => notes.push(format!(
                    "{} is not the alert file of the checkpoint (it was moved or replaced); appending to it",
                    path.display()
                )),
                None => {}
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(err)?;
        let bytes = file.metadata().map_err(err)?.len();
        let sink = RotatingFile {
            path: path.to_owned(),
            file,
            bytes,
            max_bytes: max_bytes.max(1),
            keep: keep.max(1),
            settled: 0,
            counters: SinkCounters::default(),
        };
        Ok((sink, notes))
    }

    fn rotate(&mut self) -> Result<()> {
        let err = |e: std::io::Error| WatchError::Sink(format!("cannot rotate the alert file: {e}"));
        let _ = std::fs::remove_file(rotated_name(&self.path, self.keep));
        for k in (1..self.keep).rev() {
            let from = rotated_name(&self.path, k);
            if from.exists() {
                std::fs::rename(&from, rotated_name(&self.path, k + 1)).map_err(err)?;
            }
        }
        std::fs::rename(&self.path, rotated_name(&self.path, 1)).map_err(err)?;
        self.file = OpenOptions::new().create(true).append(true).open(&self.path).map_err(err)?;
        self.bytes = 0;
        self.counters.rotations += 1;
        Ok(())
    }
}

fn rotated_name(path: &Path, k: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{k}"));
    PathBuf::from(name)
}

impl Sink for RotatingFile {
    fn send(&mut self, seq: u64, alerts: &[Alert]) -> Result<()> {
        if !alerts.is_empty() {
            if self.bytes >= self.max_bytes {
                self.rotate()?;
            }
            let buf = lines(alerts);
            let err =
                |e: std::io::Error| WatchError::Sink(format!("cannot write alerts to {}: {e}", self.path.display()));
            self.file.write_all(&buf).map_err(err)?;
            // On disk before the checkpoint says they are.
            self.file.sync_data().map_err(err)?;
            self.bytes += buf.len() as u64;
            self.counters.delivered += alerts.len() as u64;
        }
        self.settled = seq;
        Ok(())
    }
    fn settled(&self) -> u64 {
        self.settled
    }
    fn file_state(&self) -> Option<FileState> {
        Some(FileState { ident: ident(&self.path), bytes: self.bytes })
    }
    fn counters(&self) -> SinkCounters {
        self.counters.clone()
    }
    fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// How a webhook delivers.
#[derive(Debug, Clone)]
pub struct WebhookParams {
    /// The receiver.
    pub url: String,
    /// Extra request headers (`Authorization`, ...).
    pub headers: Vec<(String, String)>,
    /// Alerts held at most (a full queue drops the oldest moderate alert; severe ones wait).
    pub queue: usize,
    /// Alerts per request.
    pub per_request: usize,
    /// First retry delay; doubled up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest delay between retries.
    pub max_backoff: Duration,
    /// Random spread of the delays (0 to 1).
    pub jitter: f64,
    /// Time allowed for one request.
    pub timeout: Duration,
    /// Set when the watch is stopping: a full queue of severe alerts no longer holds the reader; the
    /// alerts not queued stay unsettled, so their batch is read again on the next start.
    pub stop: Option<Arc<AtomicBool>>,
}

impl WebhookParams {
    /// Defaults for `url`: 10,000 alerts queued, 500 per request, back-off 200 ms to 30 s with 20 % jitter.
    pub fn new(url: impl Into<String>) -> WebhookParams {
        WebhookParams {
            url: url.into(),
            headers: Vec::new(),
            queue: 10_000,
            per_request: 500,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            jitter: 0.2,
            timeout: Duration::from_secs(10),
            stop: None,
        }
    }
}

struct Queued {
    seq: u64,
    severity: Severity,
    line: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<Queued>,
    /// Alerts not yet settled, per batch.
    outstanding: BTreeMap<u64, usize>,
    /// Every batch up to this one is settled.
    settled: u64,
    in_flight: usize,
    counters: SinkCounters,
    closed: bool,
    last_error: Option<String>,
}

impl Shared {
    fn settle(&mut self, seq: u64, n: usize) {
        if let Some(left) = self.outstanding.get_mut(&seq) {
            *left = left.saturating_sub(n);
        }
        while let Some((&s, &left)) = self.outstanding.first_key_value() {
            if left > 0 {
                break;
            }
            self.settled = s;
            self.outstanding.pop_first();
        }
    }
}

/// Alerts POSTed to an HTTP endpoint as `application/x-ndjson`, from a bounded queue, with retries.
pub struct Webhook {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    params: WebhookParams,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Webhook {
    /// Starts the delivery thread.
    pub fn start(params: WebhookParams) -> Result<Webhook> {
        let url = reqwest::Url::parse(&params.url)
            .map_err(|e| WatchError::Param { name: "--webhook", message: format!("'{}': {e}", params.url) })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WatchError::Param {
                name: "--webhook",
                message: format!("'{}' is not an http(s) URL", params.url),
            });
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(params.timeout)
            .build()
            .map_err(|e| WatchError::Sink(format!("cannot start the webhook client: {e}")))?;
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let worker = {
            let shared = shared.clone();
            let params = params.clone();
            std::thread::Builder::new()
                .name("outflow-webhook".into())
                .spawn(move || deliver(client, url, params, shared))
                .map_err(|e| WatchError::Sink(format!("cannot start the webhook thread: {e}")))?
        };
        Ok(Webhook { shared, params, worker: Some(worker) })
    }

    /// The last delivery error, if the latest attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.shared.0.lock().expect("webhook state").last_error.clone()
    }
}

impl Sink for Webhook {
    fn send(&mut self, seq: u64, alerts: &[Alert]) -> Result<()> {
        let (lock, cvar) = &*self.shared;
        let mut s = lock.lock().expect("webhook state");
        s.outstanding.insert(seq, alerts.len());
        let stopping = || self.params.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        'alerts: for a in alerts {
            while s.queue.len() >= self.params.queue {
                // Full: the oldest moderate alert goes; with only severe ones queued, the reader waits.
                match s.queue.iter().position(|q| q.severity != Severity::Severe) {
                    Some(i) => {
                        let q = s.queue.remove(i).expect("index found");
                        s.counters.dropped += 1;
                        s.settle(q.seq, 1);
                    }
                    None if stopping() => break 'alerts,
                    None => s = cvar.wait_timeout(s, Duration::from_millis(100)).expect("webhook state").0,
                }
            }
            s.queue.push_back(Queued { seq, severity: a.severity, line: a.to_line() });
        }
        s.settle(seq, 0);
        s.counters.queued = s.queue.len() as u64;
        cvar.notify_all();
        Ok(())
    }

    fn settled(&self) -> u64 {
        self.shared.0.lock().expect("webhook state").settled
    }

    fn drain(&mut self, timeout: Duration) -> bool {
        let (lock, cvar) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut s = lock.lock().expect("webhook state");
        while !(s.queue.is_empty() && s.in_flight == 0) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            s = cvar.wait_timeout(s, deadline - now).expect("webhook state").0;
        }
        true
    }

    fn counters(&self) -> SinkCounters {
        let s = self.shared.0.lock().expect("webhook state");
        let mut c = s.counters.clone();
        c.queued = (s.queue.len() + s.in_flight) as u64;
        c
    }

    fn name(&self) -> String {
        self.params.url.clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        {
            let (lock, cvar) = &*self.shared;
            lock.lock().expect("webhook state").closed = true;
            cvar.notify_all();
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

enum Outcome {
    Delivered,
    Rejected(String),
    Retry(String, Option<Duration>),
}

fn deliver(
    client: reqwest::blocking::Client,
    url: reqwest::Url,
    params: WebhookParams,
    shared: Arc<(Mutex<Shared>, Condvar)>,
) {
    let (lock, cvar) = &*shared;
    let mut rng_state: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    loop {
        let batch: Vec<Queued> = {
            let mut s = lock.lock().expect("webhook state");
            while s.queue.is_empty() && !s.closed {
                s = cvar.wait(s).expect("webhook state");
            }
            if s.queue.is_empty() {
                return;
            }
            let n = s.queue.len().min(params.per_request);
            let batch: Vec<Queued> = s.queue.drain(..n).collect();
            s.in_flight = batch.len();
            cvar.notify_all();
            batch
        };
        let mut body = Vec::with_capacity(batch.iter().map(|q| q.line.len()).sum());
        for q in &batch {
            body.extend_from_slice(&q.line);
        }
        let mut attempt = 0u32;
        loop {
            let outcome = post(&client, &url, &params.headers, &body);
            let mut s = lock.lock().expect("webhook state");
            match outcome {
                Outcome::Delivered | Outcome::Rejected(_) => {
                    if let Outcome::Rejected(why) = &outcome {
                        s.counters.rejected += batch.len() as u64;
                        s.last_error = Some(why.clone());
                    } else {
                        s.counters.delivered += batch.len() as u64;
                        s.last_error = None;
                    }
                    for q in &batch {
                        s.settle(q.seq, 1);
                    }
                    s.in_flight = 0;
                    cvar.notify_all();
                    break;
                }
                Outcome::Retry(why, after) => {
                    s.counters.retries += 1;
                    s.last_error = Some(why);
                    let closed = s.closed;
                    drop(s);
                    if closed && attempt > 0 {
                        // Shutting down and the receiver is still away: these alerts stay unsettled, so
                        // the checkpoint keeps their flows for the next run.
                        let mut s = lock.lock().expect("webhook state");
                        s.in_flight = 0;
                        cvar.notify_all();
                        return;
                    }
                    let base = params.min_backoff.as_secs_f64() * 2f64.powi(attempt.min(16) as i32);
                    let mut delay = base.min(params.max_backoff.as_secs_f64());
                    if params.jitter > 0.0 {
                        rng_state ^= rng_state << 13;
                        rng_state ^= rng_state >> 7;
                        rng_state ^= rng_state << 17;
                        let u = (rng_state >> 11) as f64 / (1u64 << 53) as f64;
                        delay *= 1.0 + params.jitter * (2.0 * u - 1.0);
                    }
                    let delay = after.map(|a| a.min(params.max_backoff)).unwrap_or(Duration::from_secs_f64(delay));
                    // Wakes early only to shut down.
                    let s = lock.lock().expect("webhook state");
                    let _ = cvar.wait_timeout_while(s, delay, |s| !s.closed);
                    attempt += 1;
                }
            }
        }
    }
}

fn post(client: &reqwest::blocking::Client, url: &reqwest::Url, headers: &[(String, String)], body: &[u8]) -> Outcome {
    let mut req = client.post(url.clone()).header("content-type", "application/x-ndjson").body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.send() {
        Ok(resp) => {
            let status = resp.status();
            if status.is_success() {
                return Outcome::Delivered;
            }
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let why = format!("{} answered {status}", shown(url));
            if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                Outcome::Retry(why, after)
            } else {
                Outcome::Rejected(why)
            }
        }
        // A request that cannot even be built (a header the user gave) will never succeed.
        Err(e) if e.is_builder() => Outcome::Rejected(format!("{}: {}", shown(url), error_chain(&e))),
        Err(e) => Outcome::Retry(format!("{}: {}", shown(url), error_chain(&e)), None),
    }
}

/// The URL without credentials or query, for messages.
fn shown(url: &reqwest::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    // reqwest's own message names the URL with its query; ours already says where.
    text.split(" for url (").next().unwrap_or(&text).to_owned()
}
