//! A seeded simulator of a monitored network: real benign Zeek traffic from several captures, mapped onto
//! one set of internal hosts and one timeline, with planted behaviours that no single flow shows.
//!
//! The log it writes is a Zeek conn log (TSV, the usual `conn.log` fields) with two label columns:
//! `label` (`Benign` / `Malicious`) and `detailed-label` (the behaviour's name, `-` for background), so
//! the truth per host, pair and window follows from the flows. The behaviours are `outflow-sim`'s
//! ([`Behaviour`], planted by [`plant_all`], each on its own internal host; the crate's documentation
//! describes them).
//!
//! Background: every flow of each capture whose label (when it has one) is not malicious, its inside
//! originators (private addresses) mapped to the simulated hosts `10.0.0.1`–`10.0.0.N` (round robin per
//! capture, so hosts mix traffic of several captures), its times shifted to a seeded start in the
//! timeline and the capture repeated until the timeline is covered. Outputs are deterministic for a seed. `outflow-sim` generates a background of
//! its own instead (the built-in sample); this one measures the behaviour levels on real traffic.

use outflow::aggregate::Networks;
use outflow::io::Table;
use outflow_sim::plant_all;
pub use outflow_sim::{Behaviour, Conn, Rng, SimParams, Simulated};

/// The parameters the behaviour measurements use: twelve hosts, one day, seed 1, every behaviour.
pub fn bench_params(seed: u64) -> SimParams {
    SimParams { hosts: 12, seed, ..SimParams::default() }
}

fn text(t: &Table, col: &str, i: usize) -> Option<String> {
    t.column(col).filter(|c| !c.is_null(i)).map(|c| c.value(i).to_string())
}

fn number(t: &Table, col: &str, i: usize) -> Option<f64> {
    t.column(col).and_then(|c| c.f64_at(i)).filter(|v| v.is_finite())
}

fn benign(t: &Table, i: usize) -> bool {
    ["label", "detailed-label", "detailedlabel"]
        .iter()
        .all(|c| text(t, c, i).is_none_or(|v| !v.to_ascii_lowercase().contains("malicious")))
}

/// The background connections of one capture, as read (times and addresses not yet mapped).
fn capture(t: &Table) -> Vec<Conn> {
    (0..t.n_rows())
        .filter(|&i| benign(t, i))
        .filter_map(|i| {
            Some(Conn {
                ts: number(t, "ts", i)?,
                orig_h: text(t, "id.orig_h", i)?,
                orig_p: number(t, "id.orig_p", i).unwrap_or(0.0) as u32,
                resp_h: text(t, "id.resp_h", i)?,
                resp_p: number(t, "id.resp_p", i).unwrap_or(0.0) as u32,
                proto: text(t, "proto", i).unwrap_or_else(|| "tcp".into()),
                service: text(t, "service", i).filter(|s| !s.is_empty()).unwrap_or_else(|| "-".into()),
                duration: number(t, "duration", i),
                orig_bytes: number(t, "orig_bytes", i).map(|v| v as u64),
                resp_bytes: number(t, "resp_bytes", i).map(|v| v as u64),
                conn_state: text(t, "conn_state", i).unwrap_or_else(|| "OTH".into()),
                orig_pkts: number(t, "orig_pkts", i).unwrap_or(0.0) as u64,
                resp_pkts: number(t, "resp_pkts", i).unwrap_or(0.0) as u64,
                history: Some(text(t, "history", i).unwrap_or_else(|| "-".into())),
                behaviour: None,
            })
        })
        .collect()
}

/// Simulates a log from background captures (Zeek conn tables): `p.hosts` simulated hosts (at least one
/// per behaviour), the behaviours planted as in [`outflow_sim::simulate`].
pub fn simulate(captures: &[Table], p: &SimParams) -> Simulated {
    let mut rng = Rng::new(p.seed);
    let inside = Networks::private();
    let hosts: Vec<String> = (1..=p.hosts.max(Behaviour::ALL.len())).map(|k| format!("10.0.0.{k}")).collect();
    let span = p.hours * 3600.0;
    let end = p.start + span;
    let mut conns: Vec<Conn> = Vec::new();
    let mut next_host = 0usize;
    for t in captures {
        let mut flows = capture(t);
        if flows.is_empty() {
            continue;
        }
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let (first, last) = (flows[0].ts, flows[flows.len() - 1].ts);
        let length = (last - first).max(60.0);
        // Inside originators of this capture → simulated hosts, round robin from a seeded start.
        let mut map: Vec<(String, String)> = Vec::new();
        next_host += rng.int(0, hosts.len() as u64 - 1) as usize;
        let mut place = |addr: &str, map: &mut Vec<(String, String)>| -> Option<String> {
            if !inside.contains_str(addr) || addr.starts_with("fe80") || addr.starts_with("ff") {
                return None;
            }
            if let Some((_, to)) = map.iter().find(|(from, _)| from == addr) {
                return Some(to.clone());
            }
            let to = hosts[next_host % hosts.len()].clone();
            next_host += 1;
            map.push((addr.to_owned(), to.clone()));
            Some(to)
        };
        let mut offset = p.start - first + rng.uniform(0.0, length.min(span));
        offset -= ((offset + first - p.start) / length).ceil() * length; // start the tiling before the timeline
        while first + offset < end {
            for f in &flows {
                let ts = f.ts + offset;
                if ts < p.start || ts >= end {
                    continue;
                }
                let (Some(orig), resp) = (place(&f.orig_h, &mut map), place(&f.resp_h, &mut map)) else {
                    continue;
                };
                conns.push(Conn { ts, orig_h: orig, resp_h: resp.unwrap_or_else(|| f.resp_h.clone()), ..f.clone() });
            }
            offset += length + rng.uniform(60.0, 600.0);
        }
    }
    let planted = plant_all(p, &hosts, &mut rng, &mut conns);
    conns.sort_by(|a, b| a.ts.total_cmp(&b.ts).then_with(|| a.orig_h.cmp(&b.orig_h)));
    Simulated { conns, planted, seed: p.seed }
}
