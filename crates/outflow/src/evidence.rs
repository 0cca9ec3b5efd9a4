//! Behaviour evidence: quantities of host and pair rows that mark the behaviours analysts hunt, joined
//! to the model's score.
//!
//! The model ranks rows by how unusual their whole feature vector is. A known behaviour is often not
//! unusual as a whole: a beacon's pair sends a few kilobytes an hour like thousands of others, only its
//! clock is regular. Each evidence is one number of a row, computed from its aggregate features:
//!
//! | evidence | pairs | hosts |
//! |---|---|---|
//! | `beacon` | `beacon_score / max(beacon_peers, 1)` | `beacon_max` (already divided by each pair's schedule peers) |
//! | `upload` | `bytes_out × upload_ratio × outbound_fraction` (a nightly backup to an inside server is not an upload out of the network) | `external_bytes_out × upload_ratio` (sent out of the network in connections it opened: serving downloads is not uploading) |
//! | `fan_out_failures` | `src_distinct_dsts × failed_fraction / flows` | `new_failed_dsts × distinct_dsts × failed_out_fraction / flows_out` |
//! | `port_failures` | `distinct_dst_ports × failed_fraction × distinct_dst_ports / flows` | `distinct_dst_ports × failed_out_fraction × distinct_dst_ports / flows_out` |
//! | `dns_upload` | `dns_long_bytes` | `dns_long_bytes` |
//!
//! Dividing the beacon score by the destinations the source reaches on the same schedule separates a
//! host calling one server home from a monitoring system polling hundreds on one clock. The failure
//! evidence counts each destination (port) once: a scan tries a target once or twice, and first contacts
//! that fail are what scan detectors count (Zeek's scan policy counts distinct targets; threshold random
//! walk, first contacts), while a monitor that sweeps the same 243 addresses every ten minutes retries
//! them; so the spread of failures is weighted by destinations (ports) per connection. A host's failed
//! destinations (ports) count only when first contacted in the window (none of its connections reached
//! them in an earlier window of the log) and, for destinations, only when probed (failed at most twice
//! per port in the window): a monitor failing to the same hosts every ten minutes is not a scan, not even
//! in its first hour. DNS carries data out in its queries: a tunnel sends thousands of queries of 200 bytes
//! (encoded names), a busy workstation hundreds of 35, a resolver many of ordinary size; so what counts is
//! the bytes DNS queries carry beyond an ordinary query's size. Each evidence is
//! turned into its rank among the training rows, like the model's score, and a row scores the highest of
//! those ranks (ties broken by how far the value lies beyond its evidence's tail, then by their mean): it
//! is as suspicious as its strongest evidence. A row is ranked among the other entities' rows (its own
//! entity's top training rows left out; not a pair's fan-out, ranked once per source and window): a behaviour that persists fills the top of its evidence's table
//! with its own windows, and ranked against them its weaker windows would fall below any other
//! entity's single top window. The model's rank is also measured against the row's own
//! earlier windows: a host unusual every hour is unusual in its first. Values below an evidence's
//! [`Evidence::floor`] count as 0. The fan-out of
//! a pair is its source's, so its rank table holds a value shared by the pairs of one source in one
//! window once (the 700 probes of one scan are one scan, not the top 10 % of the pair table). An evidence
//! whose features the rows lack (no timestamps, no connection states) is left out. A model keeps the
//! [`RULES`] it was fitted under: one fitted under rules 4 or before counts a host's failed first
//! contacts whether probed or polled (its aggregation's `max_probe_attempts` is read as `None`); one
//! fitted under rules 3 ranks a row among every training row, its
//! own entity's included; one fitted under rules 2 counts every destination and port a host
//! failed to, has no floors and no own-past measure of the model; one fitted before the rules were
//! numbered computes the failure evidence as spread × failed share.

use ndarray::{Array2, ArrayView2};
use outflow_io::Table;
use serde::{Deserialize, Serialize};

/// The evidence rules a new model follows (kept in the model: one saved under older rules computes its
/// evidence as it was fitted).
pub const RULES: u32 = 5;

/// A behaviour's evidence; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// A regular clock to a destination the source does not share with many others.
    Beacon,
    /// Bytes sent, weighted by how one-sided the traffic is.
    Upload,
    /// Failed connections spread over many destinations: a horizontal scan.
    FanOutFailures,
    /// Failed connections spread over many ports: a vertical scan.
    PortFailures,
    /// Many bytes sent in large DNS queries: a DNS tunnel.
    DnsUpload,
}

impl Evidence {
    /// Every evidence, in output order.
    pub const ALL: [Evidence; 5] =
        [Evidence::Beacon, Evidence::Upload, Evidence::FanOutFailures, Evidence::PortFailures, Evidence::DnsUpload];

    /// The name used in configuration and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Evidence::Beacon => "beacon",
            Evidence::Upload => "upload",
            Evidence::FanOutFailures => "fan_out_failures",
            Evidence::PortFailures => "port_failures",
            Evidence::DnsUpload => "dns_upload",
        }
    }

    /// Whether a pair's value is mostly its source's in the window (the fan-out), so that the pairs of one
    /// source share it.
    pub(crate) fn is_the_sources(self) -> bool {
        self == Evidence::FanOutFailures
    }

    /// The features it multiplies (a divisor marked by `/`) under `rules` ([`RULES`]; 2 for models saved
    /// before a host's failed destinations counted only first contacts, 1 before the fan-out and port
    /// evidence counted each destination or port once): the first alternative whose features are all
    /// present is used.
    fn recipes(self, rules: u32) -> &'static [&'static [&'static str]] {
        match (self, rules) {
            (Evidence::FanOutFailures, 2) => &[
                &["src_distinct_dsts", "failed_fraction", "/flows"],
                &["distinct_dsts", "distinct_dsts", "failed_out_fraction", "/flows_out"],
            ],
            (Evidence::PortFailures, 2) => &[
                &["distinct_dst_ports", "distinct_dst_ports", "failed_fraction", "/flows"],
                &["distinct_dst_ports", "distinct_dst_ports", "failed_out_fraction", "/flows_out"],
            ],
            (Evidence::FanOutFailures, ..=1) => {
                &[&["src_distinct_dsts", "failed_fraction"], &["distinct_dsts", "failed_out_fraction"]]
            }
            (Evidence::PortFailures, ..=1) => {
                &[&["distinct_dst_ports", "failed_fraction"], &["distinct_dst_ports", "failed_out_fraction"]]
            }
            _ => self.current_recipes(),
        }
    }

    fn current_recipes(self) -> &'static [&'static [&'static str]] {
        match self {
            Evidence::Beacon => &[&["beacon_score", "/beacon_peers"], &["beacon_max"]],
            Evidence::Upload => &[
                &["external_bytes_out", "upload_ratio"],
                &["bytes_out", "upload_ratio", "outbound_fraction"],
                &["bytes_out", "upload_ratio"],
            ],
            Evidence::FanOutFailures => &[
                &["src_distinct_dsts", "failed_fraction", "/flows"],
                &["new_failed_dsts", "distinct_dsts", "failed_out_fraction", "/flows_out"],
            ],
            Evidence::PortFailures => &[
                &["distinct_dst_ports", "distinct_dst_ports", "failed_fraction", "/flows"],
                &["new_dst_ports", "distinct_dst_ports", "failed_out_fraction", "/flows_out"],
            ],
            Evidence::DnsUpload => &[&["dns_long_bytes"]],
        }
    }

    /// Every feature any evidence reads, in any recipe.
    pub fn features() -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Evidence::ALL
            .iter()
            .flat_map(|e| (1..=RULES).flat_map(move |rules| e.recipes(rules).iter()))
            .flat_map(|r| r.iter().map(|f| f.trim_start_matches('/')))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The columns of `features` it is computed from, and which of them divide; `None` when a feature
    /// is missing.
    fn columns(self, features: &[String], rules: u32) -> Option<Vec<(usize, bool)>> {
        self.recipes(rules).iter().find_map(|recipe| {
            recipe
                .iter()
                .map(|f| {
                    let (name, divide) = f.strip_prefix('/').map_or((*f, false), |n| (n, true));
                    features.iter().position(|g| g == name).map(|j| (j, divide))
                })
                .collect()
        })
    }

    /// The smallest value that counts under the current rules (below it the evidence is 0): a value
    /// that any evidence-free row could reach would rank among the few rows where the evidence is
    /// positive, at the top of its rank table. Failures: five targets (destinations, ports) tried once
    /// and failed; DNS: a kilobyte beyond ordinary queries (a few dozen long names).
    pub fn floor(self) -> f64 {
        match self {
            Evidence::FanOutFailures | Evidence::PortFailures => 5.0,
            Evidence::DnsUpload => 1000.0,
            Evidence::Beacon | Evidence::Upload => 0.0,
        }
    }

    /// Its value for each row of `unscaled` (feature values in original units, columns named by
    /// `features`) under `rules` ([`RULES`] for a new model); `None` when a feature is missing.
    pub fn values(self, unscaled: ArrayView2<'_, f64>, features: &[String], rules: u32) -> Option<Vec<f64>> {
        let cols = self.columns(features, rules)?;
        let floor = if rules >= 3 { self.floor() } else { 0.0 };
        Some(
            unscaled
                .rows()
                .into_iter()
                .map(|row| {
                    let v = cols
                        .iter()
                        .fold(1.0, |acc, &(j, divide)| if divide { acc / row[j].max(1.0) } else { acc * row[j] });
                    if v < floor { 0.0 } else { v }
                })
                .collect(),
        )
    }
}

/// The evidence features of some rows of a host or pair table, in original units, read from the table
/// itself rather than from the model's input: the preparation may prune a feature for the model (a
/// beacon score that is zero on almost every row has almost no variance) that is still the evidence of
/// the rows where it is not. Missing and non-finite values read as 0; features the table lacks are left
/// out (an evidence needing them then has no value).
pub(crate) fn evidence_columns(table: &Table, rows: &[usize]) -> (Array2<f64>, Vec<String>) {
    let present: Vec<(String, &outflow_io::Column)> = Evidence::features()
        .into_iter()
        .filter_map(|name| table.column(name).filter(|c| c.dtype().is_numeric()).map(|c| (name.to_owned(), c)))
        .collect();
    let mut x = Array2::zeros((rows.len(), present.len()));
    for (j, (_, column)) in present.iter().enumerate() {
        for (i, &r) in rows.iter().enumerate() {
            x[[i, j]] = column.f64_at(r).filter(|v| v.is_finite()).unwrap_or(0.0);
        }
    }
    (x, present.into_iter().map(|(name, _)| name).collect())
}

impl std::str::FromStr for Evidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Evidence::ALL.into_iter().find(|e| e.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Evidence::ALL.iter().map(|e| e.name()).collect();
            format!("unknown evidence '{s}' ({})", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_follow_the_first_complete_recipe() {
        let pairs = names(&["beacon_score", "beacon_peers", "src_distinct_dsts", "failed_fraction", "flows"]);
        let x = array![[0.9, 3.0, 100.0, 0.5, 1.0], [0.8, 0.0, 4.0, 0.0, 1.0], [0.0, 0.0, 100.0, 0.5, 4.0]];
        assert_eq!(Evidence::Beacon.values(x.view(), &pairs, RULES).unwrap(), vec![0.3, 0.8, 0.0]);
        // A destination tried once per connection counts whole; a pair tried four times, a quarter.
        assert_eq!(Evidence::FanOutFailures.values(x.view(), &pairs, RULES).unwrap(), vec![50.0, 0.0, 12.5]);
        assert_eq!(Evidence::FanOutFailures.values(x.view(), &pairs, 1).unwrap(), vec![50.0, 0.0, 50.0]);
        assert!(Evidence::Upload.values(x.view(), &pairs, RULES).is_none());
        let hosts = names(&["beacon_max", "distinct_dsts", "new_failed_dsts", "failed_out_fraction", "flows_out"]);
        // 10 new destinations in 10 connections (a sweep), 10 destinations polled 10 times each, the same
        // 10 swept again in a later window.
        let y = array![[0.7, 10.0, 10.0, 1.0, 10.0], [0.0, 10.0, 10.0, 1.0, 100.0], [0.0, 10.0, 0.0, 1.0, 10.0]];
        assert_eq!(Evidence::Beacon.values(y.view(), &hosts, RULES).unwrap(), vec![0.7, 0.0, 0.0]);
        // The poll's 1 is below the floor of five targets.
        assert_eq!(Evidence::FanOutFailures.values(y.view(), &hosts, RULES).unwrap(), vec![10.0, 0.0, 0.0]);
        assert_eq!(Evidence::FanOutFailures.values(y.view(), &hosts, 2).unwrap(), vec![10.0, 1.0, 10.0]);
        assert_eq!(Evidence::FanOutFailures.values(y.view(), &hosts, 1).unwrap(), vec![10.0, 10.0, 10.0]);
        assert!(Evidence::PortFailures.values(y.view(), &hosts, RULES).is_none());
        let dns = names(&["dns_long_bytes"]);
        let z = array![[300_000.0], [0.0], [120.0]];
        assert_eq!(Evidence::DnsUpload.values(z.view(), &dns, RULES).unwrap(), vec![300_000.0, 0.0, 0.0]);
    }

    #[test]
    fn every_recipe_feature_is_listed() {
        let all = Evidence::features();
        for f in ["beacon_score", "beacon_peers", "beacon_max", "outbound_fraction", "failed_out_fraction", "flows"] {
            assert!(all.contains(&f), "{f}");
        }
        assert!(all.iter().all(|f| !f.starts_with('/')));
    }

    #[test]
    fn names_round_trip() {
        for e in Evidence::ALL {
            assert_eq!(e.name().parse::<Evidence>().unwrap(), e);
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{}\"", e.name()));
        }
        assert!("nope".parse::<Evidence>().is_err());
    }
}
