//! `outflow simulate`: write a simulated, labeled Zeek conn log of an office network with planted
//! behaviours (the built-in sample is seed 1 of the defaults).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use outflow_sim::{Behaviour, SimParams, try_simulate};

/// Arguments of `outflow simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seed of every random choice: a seed gives the same log on every machine.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Length of the timeline in hours (from Monday 2024-03-04 00:00 UTC unless --start).
    #[arg(long, default_value_t = 24.0)]
    pub hours: f64,
    /// Start of the timeline, seconds since 1970 (UTC; working hours are read in UTC).
    #[arg(long)]
    pub start: Option<f64>,
    /// Workstations (10.0.0.1 …); at least one per planted behaviour.
    #[arg(long, default_value_t = 20)]
    pub hosts: usize,
    /// Behaviours to plant, comma-separated, or `none` (default: all of slow_exfil, bulk_exfil, beacon,
    /// horizontal_scan, vertical_scan, dns_tunnel).
    #[arg(long, value_delimiter = ',')]
    pub behaviours: Vec<String>,
    /// Output file (`-`: standard output).
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    /// Overwrite OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let behaviours = match a.behaviours.as_slice() {
        [] => Behaviour::ALL.to_vec(),
        [none] if none == "none" => Vec::new(),
        names => names
            .iter()
            .map(|n| {
                Behaviour::from_name(n.trim()).ok_or_else(|| {
                    let all: Vec<&str> = Behaviour::ALL.iter().map(|b| b.name()).collect();
                    anyhow::anyhow!("--behaviours: unknown behaviour '{n}' (known: {}, or none)", all.join(", "))
                })
            })
            .collect::<Result<_>>()?,
    };
    let defaults = SimParams::default();
    let params = SimParams {
        hosts: a.hosts,
        hours: a.hours,
        start: a.start.unwrap_or(defaults.start),
        seed: a.seed,
        behaviours,
    };
    let to_stdout = a.output.as_os_str() == "-";
    if !to_stdout {
        crate::input::check_output(&a.output, a.force)?;
    }
    let log = try_simulate(&params)?;
    for (behaviour, host, peer) in &log.planted {
        let peer = if peer.is_empty() { String::new() } else { format!(" → {peer}") };
        eprintln!("planted {} on {host}{peer}", behaviour.name());
    }
    let text = log.to_zeek();
    if to_stdout {
        std::io::stdout().lock().write_all(text.as_bytes())?;
    } else {
        crate::input::write_output(&a.output, text.as_bytes(), a.force)?;
        eprintln!("wrote {} flows to {}", log.conns.len(), crate::input::shown(&a.output));
    }
    Ok(())
}
