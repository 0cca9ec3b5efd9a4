//! `outflow watch`: follow a live Zeek log and send alerts.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use outflow::{Detector, Severity};
use outflow_watch::{
    AllowList, Control, ModelInfo, RotatingFile, Sink, Source, Start, Stdout, WatchParams, Webhook, WebhookParams,
};

/// Arguments of `outflow watch`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A model file written by `outflow detect` (flow, host or pair level), or its run directory; a path
    /// or a URL (s3://, gs://, az://, http(s)://). SIGHUP loads it again (a failed load keeps the old one).
    pub model: PathBuf,
    /// A growing Zeek conn log (TSV or JSON lines) followed like `tail -F`, a Zeek log directory
    /// (rotated `conn.*.log[.gz]` files, in dated subdirectories or not, in order, then
    /// `current/conn.log`), or `-` for standard input.
    pub source: PathBuf,
    /// Where alerts go: a file (appended, rotated by size; exactly-once with --checkpoint) or `-` for
    /// standard output (the default unless --webhook is given).
    #[arg(long)]
    pub alerts: Option<PathBuf>,
    /// Rotate the alert file when it reaches this many MiB.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub alerts_max_mib: u64,
    /// Rotated alert files kept (FILE.1 the newest).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..1000))]
    pub alerts_keep: u32,
    /// POST alerts to this URL as NDJSON (application/x-ndjson), retried with back-off.
    #[arg(long)]
    pub webhook: Option<String>,
    /// A request header for the webhook, `Name: value` (repeatable), e.g. an Authorization token.
    #[arg(long = "webhook-header", value_name = "HEADER")]
    pub webhook_headers: Vec<String>,
    /// Alerts the webhook queue holds; when full the oldest moderate alert is dropped (counted), and
    /// with only severe ones left reading pauses.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub queue: u64,
    /// The first retry delay of the webhook (doubled up to 30 s).
    #[arg(long, default_value = "200ms", value_parser = parse_duration, hide = true)]
    pub webhook_backoff: Duration,
    /// Save the read position here after each batch's alerts are delivered, and resume from it.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The lowest severity alerted.
    #[arg(long, default_value = "moderate", value_parser = ["moderate", "severe"])]
    pub min_severity: String,
    /// Known-good peers: addresses, CIDR networks or host names (comma-separated, repeatable); alerts
    /// about them are suppressed and counted.
    #[arg(long)]
    pub allow: Vec<String>,
    /// A file of allowed peers, one per line (`#` comments).
    #[arg(long)]
    pub allow_file: Vec<PathBuf>,
    /// Without a checkpoint, start at the `beginning` of what is there or at its `end` (new lines only).
    #[arg(long, default_value = "beginning", value_parser = ["beginning", "end"])]
    pub from: String,
    /// Host and pair models: how late a flow may be logged after its window ends (Zeek logs a
    /// connection when it closes, with its start time).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub lateness: Duration,
    /// Host and pair models: how often open windows are scored for an early alert.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub early_every: Duration,
    /// Write the counters to this JSON file (every second and at exit).
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// How often progress is printed to standard error.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub progress_every: Duration,
    /// Flows per micro-batch at most.
    #[arg(long, default_value_t = 8192, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
    /// A batch is scored at most this long after its first line (when lines keep coming).
    #[arg(long, default_value = "150ms", value_parser = parse_duration)]
    pub batch_wait: Duration,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(a: Args) -> Result<()> {
    crate::input::set_threads(a.threads)?;
    let key = outflow::ModelKey::from_env()?;
    let location = crate::input::model_location(&a.model)?;
    let name = crate::input::shown(&a.model);
    let loader_name = name.clone();
    let load: outflow_watch::ModelLoader = Box::new(move || {
        let (d, header, _) =
            Detector::load_at_versioned(&location, key.as_ref()).map_err(|e| format!("{loader_name}: {e}"))?;
        Ok((d, ModelInfo { name: loader_name.clone(), sha256: header.body_sha256 }))
    });

    let source = Source::from_arg(&a.source);
    if source == Source::Stdin && a.checkpoint.is_some() {
        bail!("--checkpoint needs a file or a directory to resume in; standard input cannot be read again");
    }
    // A file that does not exist yet is waited for (as `tail -F` does); a missing directory is a typo.
    if let Source::File(p) = &source
        && !p.exists()
        && p.parent().is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        bail!("{}: no such file or directory", p.display());
    }
    let mut params = WatchParams::new(source);
    params.start = if a.from == "end" { Start::End } else { Start::Beginning };
    params.checkpoint = a.checkpoint.clone();
    params.min_severity = if a.min_severity == "severe" { Severity::Severe } else { Severity::Moderate };
    params.allow = AllowList::new(&a.allow, &a.allow_file)?;
    params.batch_rows = a.batch_rows as usize;
    params.batch_wait = a.batch_wait;
    params.progress_every = a.progress_every;
    params.metrics = a.metrics.clone();
    params.lateness = a.lateness;
    params.early_every = a.early_every;

    let control = Control::default();
    on_signals(&control);
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let resume = match &a.checkpoint {
        Some(p) => outflow_watch::Checkpoint::load(p)?,
        None => None,
    };
    match a.alerts.as_deref() {
        Some(p) if p.as_os_str() == "-" => sinks.push(Box::new(Stdout::new())),
        Some(p) => {
            let state = resume.as_ref().and_then(|c| c.alerts_file.as_ref());
            let (sink, notes) = RotatingFile::open(p, a.alerts_max_mib << 20, a.alerts_keep, state)?;
            for n in notes {
                eprintln!("outflow watch: {n}");
            }
            sinks.push(Box::new(sink));
        }
        None if a.webhook.is_none() => sinks.push(Box::new(Stdout::new())),
        None => {}
    }
    if let Some(url) = &a.webhook {
        let mut w = WebhookParams::new(url.clone());
        w.queue = a.queue as usize;
        w.min_backoff = a.webhook_backoff;
        w.stop = Some(control.stop.clone());
        if a.webhook_backoff < Duration::from_millis(100) {
            // Tests shorten the back-off; without jitter their timing is reproducible.
            w.jitter = 0.0;
        }
        for h in &a.webhook_headers {
            let Some((k, v)) = h.split_once(':') else { bail!("--webhook-header '{h}': expected 'Name: value'") };
            let (k, v) = (k.trim(), v.trim());
            // What HTTP allows: a token for the name, visible characters, spaces and tabs for the value.
            let name_ok =
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            let value_ok = v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
            if !name_ok || !value_ok {
                bail!("--webhook-header '{k}': not a valid HTTP header name and value");
            }
            w.headers.push((k.to_owned(), v.to_owned()));
        }
        sinks.push(Box::new(Webhook::start(w)?));
    }

    let counters = outflow_watch::watch(params, load, sinks, control, &mut |m| eprintln!("outflow watch: {m}"))
        .with_context(|| format!("watching {}", a.source.display()))?;
    let _ = counters;
    Ok(())
}

/// SIGTERM and SIGINT: finish the batch, deliver, checkpoint and exit 0. SIGHUP: reload the model.
fn on_signals(control: &Control) {
    let control = control.clone();
    crate::input::on_signals(move |name| {
        let flag = if name == "SIGHUP" { &control.reload } else { &control.stop };
        flag.store(true, Ordering::SeqCst);
    });
}

/// `150ms`, `30s`, `5m`, `1h` or a number of seconds, up to a week.
fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    crate::input::duration_between(s, 0.0, 7.0 * 86_400.0, "0 and a week")
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("150ms").unwrap().as_millis(), 150);
        assert_eq!(super::parse_duration("5m").unwrap().as_secs(), 300);
        assert!(super::parse_duration("-1s").is_err());
        assert!(super::parse_duration("soon").is_err());
    }
}
