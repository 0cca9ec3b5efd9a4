//! The simulator: deterministic for a seed, every behaviour on its own workstation inside the timeline,
//! a background with the mix of a real office log, and parameters checked.

use std::collections::{HashMap, HashSet};

use outflow_sim::{Behaviour, SimParams, addresses, simulate, try_simulate};
use proptest::prelude::*;

fn short(seed: u64, hours: f64) -> SimParams {
    SimParams { hours, seed, hosts: 8, ..SimParams::default() }
}

#[test]
fn a_seed_gives_one_log_and_another_seed_another() {
    let p = short(5, 4.0);
    let (a, b) = (simulate(&p), simulate(&p));
    assert_eq!(a.to_zeek(), b.to_zeek());
    assert_ne!(a.to_zeek(), simulate(&SimParams { seed: 6, ..p }).to_zeek());
}

#[test]
fn the_default_day_holds_every_behaviour_in_a_realistic_background() {
    let log = simulate(&SimParams::default());
    let background: Vec<_> = log.conns.iter().filter(|c| c.behaviour.is_none()).collect();
    assert!((10_000..40_000).contains(&background.len()), "{}", background.len());
    // Every workstation and server speaks; the resolver, mail, file and directory servers answer.
    let talkers: HashSet<&str> = background.iter().map(|c| c.orig_h.as_str()).collect();
    for k in 1..=20 {
        assert!(talkers.contains(addresses::workstation(k).as_str()), "workstation {k}");
    }
    let answered: HashSet<&str> = background.iter().map(|c| c.resp_h.as_str()).collect();
    for server in [addresses::RESOLVER, addresses::MAIL, addresses::FILE_SERVER, addresses::DC, addresses::BACKUP] {
        assert!(answered.contains(server), "{server}");
    }
    // Traffic follows the working day: the busiest hour carries many times the quietest.
    let mut per_hour = [0usize; 24];
    for c in &background {
        per_hour[((c.ts - log.conns[0].ts.div_euclid(86_400.0) * 86_400.0) / 3600.0) as usize % 24] += 1;
    }
    let (lo, hi) = (per_hour.iter().min().unwrap(), per_hour.iter().max().unwrap());
    assert!(*hi > 10 * (*lo).max(1), "{per_hour:?}");
    // Failures in the shares of real logs: a few percent of TCP connections, not none and not most.
    let tcp: Vec<_> = background.iter().filter(|c| c.proto == "tcp").collect();
    let failed = tcp.iter().filter(|c| matches!(c.conn_state.as_str(), "S0" | "REJ")).count();
    let share = failed as f64 / tcp.len() as f64;
    assert!((0.01..0.08).contains(&share), "{share}");
    // Sizes are heavy-tailed: the largest download is orders of magnitude above the median.
    let mut down: Vec<u64> = tcp.iter().filter_map(|c| c.resp_bytes).filter(|&b| b > 0).collect();
    down.sort_unstable();
    assert!(down[down.len() - 1] > 1000 * down[down.len() / 2]);
    // No background connection is labeled, and the background never touches the planted counterparts.
    for (b, host, peer) in &log.planted {
        let planted: Vec<_> = log.conns.iter().filter(|c| c.behaviour == Some(*b)).collect();
        assert!(!planted.is_empty(), "{}", b.name());
        assert!(planted.iter().all(|c| &c.orig_h == host), "{}", b.name());
        if !peer.is_empty() && peer != addresses::RESOLVER {
            assert!(background.iter().all(|c| &c.resp_h != peer), "{} counterpart {peer}", b.name());
        }
    }
}

#[test]
fn the_zeek_log_has_one_line_per_connection_and_its_labels() {
    let log = simulate(&short(2, 3.0));
    let text = log.to_zeek();
    let fields: Vec<&str> = text.lines().find(|l| l.starts_with("#fields")).unwrap().split('\t').skip(1).collect();
    let rows: Vec<Vec<&str>> = text.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), log.conns.len());
    assert!(rows.iter().all(|r| r.len() == fields.len()));
    let col = |name: &str| fields.iter().position(|f| *f == name).unwrap();
    let mut by_label: HashMap<&str, usize> = HashMap::new();
    for (r, c) in rows.iter().zip(&log.conns) {
        *by_label.entry(r[col("detailed-label")]).or_default() += 1;
        assert_eq!(r[col("label")] == "Malicious", c.behaviour.is_some());
        assert_eq!(r[col("id.orig_h")], c.orig_h);
        assert_eq!(r[col("local_orig")] == "T", c.orig_h.starts_with("10."));
    }
    for b in Behaviour::ALL {
        let n = log.conns.iter().filter(|c| c.behaviour == Some(b)).count();
        assert_eq!(by_label.get(b.name()).copied().unwrap_or(0), n, "{}", b.name());
    }
    // Connection ids are unique.
    let uids: HashSet<&str> = rows.iter().map(|r| r[col("uid")]).collect();
    assert_eq!(uids.len(), rows.len());
}

#[test]
fn parameters_out_of_range_are_refused_with_the_reason() {
    let bad = [
        SimParams { hours: 1.0, ..SimParams::default() },
        SimParams { hours: f64::NAN, ..SimParams::default() },
        SimParams { hosts: 5, ..SimParams::default() },
        SimParams { hosts: 251, ..SimParams::default() },
        SimParams { start: -1.0, ..SimParams::default() },
    ];
    for p in bad {
        let e = try_simulate(&p).unwrap_err().to_string();
        assert!(e.contains("hours") || e.contains("hosts") || e.contains("start"), "{e}");
    }
    // No behaviour: background only, one workstation is enough.
    let quiet = try_simulate(&SimParams { hosts: 1, behaviours: vec![], ..short(1, 2.0) }).unwrap();
    assert!(quiet.conns.iter().all(|c| c.behaviour.is_none()) && quiet.planted.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any seed and span: connections in time order inside the timeline, one workstation per behaviour,
    /// every behaviour present.
    #[test]
    fn every_log_is_ordered_bounded_and_planted(seed in 0u64..1_000_000, hours in 2.0f64..30.0) {
        let p = short(seed, hours);
        let log = simulate(&p);
        let end = p.start + hours * 3600.0;
        prop_assert!(log.conns.windows(2).all(|w| w[0].ts <= w[1].ts));
        prop_assert!(log.conns.iter().all(|c| c.ts >= p.start && c.ts < end));
        let hosts: HashSet<&str> = log.planted.iter().map(|(_, h, _)| h.as_str()).collect();
        prop_assert_eq!(hosts.len(), Behaviour::ALL.len());
        for b in Behaviour::ALL {
            prop_assert!(log.conns.iter().any(|c| c.behaviour == Some(b)), "{}", b.name());
        }
    }
}
