//! # outflow-sim
//!
//! A seeded simulator of a monitored office network. It writes what a Zeek sensor would log — one
//! [`Conn`] per connection, or a Zeek conn log ([`Simulated::to_zeek`]) — for a span of time: synthetic
//! background traffic of workstations and servers, and planted behaviours that no single flow shows
//! ([`Behaviour`]), each on its own workstation:
//!
//! | behaviour | what the host does |
//! |---|---|
//! | `slow_exfil` | uploads 2–5 MB to one outside host every 10–20 minutes, all day |
//! | `bulk_exfil` | one upload of 2–4 GB to an outside host, 30–60 minutes long |
//! | `beacon` | small TLS connections to one outside host every 60 s ± 10 %, all day |
//! | `horizontal_scan` | port 445 on 256–1,024 inside addresses within 15 minutes, unanswered or rejected |
//! | `vertical_scan` | ports 1–1,024 of one inside server within 10 minutes |
//! | `dns_tunnel` | 3,000 DNS queries with 180–250-byte requests to the resolver over two hours |
//!
//! Every connection is labeled (`label`: `Benign` / `Malicious`; `detailed-label`: the behaviour), so
//! the truth per flow, host, pair and window follows from the log. It is the built-in sample of the
//! `outflow` command and the test bed of the behaviour levels: a seed gives the same log on every
//! platform, and other seeds give other logs of the same kind.
//!
//! The background traffic is generated, not replayed: no captured data is
//! inside, so the logs carry the code's licence. What it holds is described in the `background`
//! module's source: per-host working hours and habits, heavy-tailed sizes, Zipf-distributed web
//! destinations, periodic clock, directory, mail and update traffic, failed connections in the shares
//! real logs show, a nightly backup and the internet's background probes of an exposed server.
//!
//! ```
//! use outflow_sim::{Behaviour, SimParams, simulate};
//! let log = simulate(&SimParams { hours: 3.0, behaviours: vec![Behaviour::Beacon], ..SimParams::default() });
//! let (host, peer) = log.planted(Behaviour::Beacon).unwrap();
//! let beacons = log.conns.iter().filter(|c| c.behaviour == Some(Behaviour::Beacon)).count();
//! assert!((160..=200).contains(&beacons)); // one a minute for three hours
//! assert!(log.conns.iter().any(|c| c.orig_h == host && c.resp_h == peer));
//! assert!(log.to_zeek().lines().any(|l| l.ends_with("\tMalicious\tbeacon")));
//! ```

mod background;
mod behaviour;
mod rng;
mod zeek;

pub use crate::behaviour::{Behaviour, Conn, plant};
pub use crate::rng::Rng;

/// The simulated network's fixed inside addresses. Workstations are `10.0.0.1`, `10.0.0.2`, …
/// ([`workstation`](addresses::workstation)).
pub mod addresses {
    /// The resolver every workstation asks (and the DNS tunnel's counterpart).
    pub const RESOLVER: &str = "10.0.0.53";
    /// The file server (SMB).
    pub const FILE_SERVER: &str = "10.0.1.10";
    /// Where the file server backs up to every night.
    pub const BACKUP: &str = "10.0.1.11";
    /// The domain controller (Kerberos, LDAP).
    pub const DC: &str = "10.0.1.20";
    /// The mail server (IMAP over TLS, SMTP submission).
    pub const MAIL: &str = "10.0.1.25";
    /// The web server: the intranet, and exposed to the internet's probes.
    pub const WEB_SERVER: &str = "10.0.1.80";
    /// The printer.
    pub const PRINTER: &str = "10.0.1.90";
    /// The most workstations a simulation has.
    pub const MAX_WORKSTATIONS: usize = 250;

    /// The address of workstation `k` (1-based; the resolver's `.53` is skipped).
    pub fn workstation(k: usize) -> String {
        let octet = if k >= 53 { k + 1 } else { k };
        format!("10.0.0.{octet}")
    }
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimParams {
    /// Workstations (`10.0.0.1` … ; at least one per planted behaviour, at most
    /// [`addresses::MAX_WORKSTATIONS`]).
    pub hosts: usize,
    /// Length of the timeline in hours.
    pub hours: f64,
    /// Start of the timeline, seconds since the epoch (working hours are read in UTC).
    pub start: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// The behaviours planted, one workstation each.
    pub behaviours: Vec<Behaviour>,
}

impl Default for SimParams {
    /// Twenty workstations over one day (Monday 2024-03-04, UTC), seed 1, every behaviour.
    fn default() -> Self {
        SimParams { hosts: 20, hours: 24.0, start: 1_709_510_400.0, seed: 1, behaviours: Behaviour::ALL.to_vec() }
    }
}

/// Why parameters cannot be simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidParams(pub String);

impl std::fmt::Display for InvalidParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidParams {}

impl SimParams {
    /// Checks the parameters: a positive, finite span of at most a year (the behaviours need an hour,
    /// the bulk upload and DNS tunnel two), a finite start, and workstations for every behaviour.
    pub fn check(&self) -> Result<(), InvalidParams> {
        if !(self.hours.is_finite() && (2.0..=24.0 * 366.0).contains(&self.hours)) {
            return Err(InvalidParams(format!("hours must be between 2 and 8784, got {}", self.hours)));
        }
        if !(self.start.is_finite() && (0.0..1e11).contains(&self.start)) {
            return Err(InvalidParams(format!("start must be seconds since 1970, got {}", self.start)));
        }
        let need = self.behaviours.len().max(1);
        if self.hosts < need || self.hosts > addresses::MAX_WORKSTATIONS {
            return Err(InvalidParams(format!(
                "hosts must be between {need} (one per planted behaviour) and {}, got {}",
                addresses::MAX_WORKSTATIONS,
                self.hosts
            )));
        }
        Ok(())
    }
}

/// A simulated log.
#[derive(Debug, Clone)]
pub struct Simulated {
    /// Connections, in time order.
    pub conns: Vec<Conn>,
    /// Each planted behaviour, the workstation it was planted on and its counterpart (outside host,
    /// resolver, scanned server; empty for a horizontal scan).
    pub planted: Vec<(Behaviour, String, String)>,
    /// The seed it was drawn with (the Zeek log's connection ids follow from it).
    pub seed: u64,
}

impl Simulated {
    /// The workstation and counterpart of a planted behaviour.
    pub fn planted(&self, b: Behaviour) -> Option<(&str, &str)> {
        self.planted.iter().find(|(p, _, _)| *p == b).map(|(_, h, c)| (h.as_str(), c.as_str()))
    }
}

/// Simulates a log. Panics on parameters [`SimParams::check`] refuses; see [`try_simulate`].
pub fn simulate(p: &SimParams) -> Simulated {
    try_simulate(p).unwrap_or_else(|e| panic!("invalid simulation parameters: {e}"))
}

/// Simulates a log: the background of `p.hosts` workstations, then each behaviour on its own
/// workstation (a seeded shuffle decides which).
pub fn try_simulate(p: &SimParams) -> Result<Simulated, InvalidParams> {
    p.check()?;
    let mut rng = Rng::new(p.seed);
    let hosts: Vec<String> = (1..=p.hosts).map(addresses::workstation).collect();
    let mut conns = background::background(p, &hosts, &mut rng);
    let planted = plant_all(p, &hosts, &mut rng, &mut conns);
    conns.sort_by(|a, b| a.ts.total_cmp(&b.ts).then_with(|| a.orig_h.cmp(&b.orig_h)));
    Ok(Simulated { conns, planted, seed: p.seed })
}

/// Plants every behaviour of `p` on its own host of `hosts`, in a seeded order; returns what was planted
/// where. For background traffic of one's own (the benchmarks replay real captures).
pub fn plant_all(
    p: &SimParams,
    hosts: &[String],
    rng: &mut Rng,
    conns: &mut Vec<Conn>,
) -> Vec<(Behaviour, String, String)> {
    let mut order: Vec<usize> = (0..hosts.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.int(0, i as u64) as usize);
    }
    let mut planted = Vec::new();
    for (k, &b) in p.behaviours.iter().enumerate() {
        let host = hosts[order[k % order.len()]].clone();
        let peer = plant(b, &host, p, rng, conns);
        planted.push((b, host, peer));
    }
    planted
}
