//! `outflow serve`: the HTTP scoring service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use outflow_serve::{AppState, Limits};

/// Arguments of `outflow serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A model file written by `outflow detect`.
    pub model: PathBuf,
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
    let state =
        AppState::open_verified(&a.model, key).with_context(|| format!("cannot serve {}", a.model.display()))?;
    let limits =
        Limits { body_bytes: a.body_limit, timeout: Duration::from_secs_f64(a.timeout), max_batch: a.max_batch.max(1) };
    outflow_serve::run(a.addr, state, limits, a.workers).context("the server stopped")?;
    eprintln!("outflow serve: stopped");
    Ok(())
}
