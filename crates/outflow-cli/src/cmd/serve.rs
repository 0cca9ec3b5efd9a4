//! `outflow serve`: the HTTP scoring service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use outflow_serve::{AppState, Limits};

/// Arguments of `outflow serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A model file written by `outflow detect`, or its run directory (the model its summary.json
    /// names); a path or a URL (s3://, gs://, az://, http(s)://).
    pub model: PathBuf,
    /// Check the model file's version (an object's ETag, a file's size and time) at this interval and
    /// reload it when it changed (e.g. `30s`, `5m`); a file that fails to load leaves the old model
    /// served. SIGHUP and `POST /v1/model/reload` reload it at any time.
    #[arg(long, value_parser = parse_interval)]
    pub watch_model: Option<Duration>,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    pub body_limit: usize,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Most flows per batch.
    #[arg(long, default_value_t = 100_000)]
    pub max_batch: usize,
}

/// The longest request timeout accepted (a day): longer is no timeout at all.
const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

pub fn run(a: Args) -> Result<()> {
    if !(a.timeout > 0.0 && a.timeout <= MAX_TIMEOUT_SECONDS) {
        anyhow::bail!("--timeout must be a number of seconds in (0, {MAX_TIMEOUT_SECONDS}], got {}", a.timeout);
    }
    crate::input::check_threads("--workers", a.workers)?;
    let key = outflow::ModelKey::from_env()?;
    let model = crate::input::model_location(&a.model)?;
    let state =
        AppState::open_at(model, key).with_context(|| format!("cannot serve {}", crate::input::shown(&a.model)))?;
    let limits =
        Limits { body_bytes: a.body_limit, timeout: Duration::from_secs_f64(a.timeout), max_batch: a.max_batch.max(1) };
    outflow_serve::run(a.addr, state, limits, a.workers, a.watch_model).context("the server stopped")?;
    eprintln!("outflow serve: stopped");
    Ok(())
}

/// `30s`, `5m`, `1h` or a number of seconds; at least a second, at most a day.
fn parse_interval(s: &str) -> std::result::Result<Duration, String> {
    crate::input::duration_between(s, 1.0, MAX_TIMEOUT_SECONDS, "1 s and a day")
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals() {
        assert_eq!(super::parse_interval("30s").unwrap().as_secs(), 30);
        assert_eq!(super::parse_interval("5m").unwrap().as_secs(), 300);
        assert_eq!(super::parse_interval("2").unwrap().as_secs(), 2);
        assert!(super::parse_interval("10ms").unwrap_err().contains("between"));
        assert!(super::parse_interval("soon").unwrap_err().contains("30s"));
        assert!(super::parse_interval("2d").is_err());
    }
}
