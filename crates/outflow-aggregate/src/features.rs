//! The features of a host or pair row, from its accumulated traffic.
//!
//! Host rows (a host in a window; "out" is what it originated, "in" what it answered):
//!
//! | feature | meaning |
//! |---|---|
//! | `flows_out`, `flows_in` | connections originated, answered |
//! | `bytes_out`, `bytes_in` | payload bytes the host sent, received (both roles) |
//! | `packets_out`, `packets_in` | packets sent, received |
//! | `upload_ratio` | `bytes_out / (bytes_out + bytes_in)` (0 without bytes) |
//! | `distinct_dsts`, `distinct_srcs` | hosts it contacted, hosts that contacted it |
//! | `distinct_dst_ports` | destination ports it contacted |
//! | `new_dst_ports` | destination ports first contacted in this window (not in an earlier window of the log) |
//! | `distinct_ports_in` | its own ports others contacted |
//! | `distinct_services` | application protocols of its connections |
//! | `failed_out_fraction`, `failed_in_fraction` | share of failed or rejected connections per role |
//! | `duration_mean`, `duration_max`, `duration_total` | connection durations, seconds (summed in whole microseconds) |
//! | `new_failed_dsts` | destinations first contacted in this window (not in an earlier window of the log) and probed: failed connections, at most [`crate::AggregateParams::max_probe_attempts`] (default 2) per destination port. A scan's targets are new and tried once or twice; a monitor polling the same hosts every few minutes has none |
//! | `external_bytes_out`, `external_dsts` | bytes it sent to, and hosts it contacted, outside the network, as an inside host |
//! | `dns_long_bytes` | payload bytes its DNS queries (to port 53 or of service `dns`) sent beyond [`crate::DNS_QUERY_BYTES`] a packet: ordinary queries send none, a tunnel's long encoded names a lot (logs with ports or services) |
//! | `beacon_max` | the highest beacon score of its pairs (as originator) in the window, each divided by its `beacon_peers` (logs with timestamps) |
//! | `bytes_out_baseline_z` | robust z-score of this window's `log1p(bytes_out)` against the host's windows |
//!
//! "Earlier windows" are those of the flows given to one aggregator (a whole log for `detect` and
//! `score`) and those of the [`crate::Contacts`] it finishes after (a live watch carries the contacts of
//! the windows it closed).
//!
//! Pair rows (source = originator): `bytes_out` / `bytes_in` are the source's sent / received bytes;
//! `distinct_dst_ports`, `distinct_services`, `failed_fraction`, durations, `dns_long_bytes` and
//! `outbound_fraction` (share of inside-to-outside connections) as above; `src_distinct_dsts` and
//! `dst_distinct_srcs`, the fan-out of the source and the fan-in of the destination in the window (one probe of a scan looks like any failed
//! connection; its source's fan-out does not); the beacon statistics of [`crate::BeaconStats`]
//! (`interval_median`, `interval_mad`, `interval_skew`, `size_median`, `size_mad`, `size_skew`,
//! `beacon_score`) when the log has timestamps, with `beacon_peers`: how many destinations the source
//! reaches on this pair's schedule in the window (pairs of the source scoring at least
//! [`BEACON_SCHEDULE_SCORE`] whose median interval is within [`BEACON_SCHEDULE_TOLERANCE`] of this one's,
//! this pair included; 0 when it scores lower) — malware calls one home, a monitoring system polls many
//! hosts on one clock; and `bytes_out_baseline_z` against the pair's windows.
//!
//! A feature whose column the log lacks (no packets, no service, no state, no duration) is left out, not
//! filled with zeros. The robust z-score is `(x - median) / (1.4826 MAD)` over the entity's windows; when
//! the MAD is 0, the mean absolute deviation times 1.2533 replaces it; when both are 0 the score is 0;
//! the spread is at least [`MIN_BASELINE_SCALE`].

use crate::aggregator::{HostAcc, PairAcc};
use crate::beacon::BeaconStats;
use crate::columns::RoleColumns;

/// Which parts the log has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Available {
    pub(crate) time: bool,
    pub(crate) bytes: bool,
    pub(crate) packets: bool,
    pub(crate) ports: bool,
    pub(crate) services: bool,
    pub(crate) failures: bool,
    pub(crate) durations: bool,
    /// DNS queries can be told apart (a destination port or a service) and have bytes.
    pub(crate) dns: bool,
}

impl Available {
    pub(crate) fn of(r: &RoleColumns) -> Available {
        Available {
            time: r.timestamp.is_some(),
            bytes: r.bytes_out.is_some() || r.bytes_in.is_some(),
            packets: r.packets_out.is_some() || r.packets_in.is_some(),
            ports: r.destination_port.is_some(),
            services: r.service.is_some(),
            failures: r.state.is_some()
                || r.packets_in.is_some()
                || r.packets_total.is_some() && r.packets_out.is_some()
                || r.bytes_total.is_some() && r.bytes_out.is_some(),
            durations: r.duration.is_some(),
            dns: (r.bytes_out.is_some() || r.bytes_in.is_some())
                && (r.destination_port.is_some() || r.service.is_some()),
        }
    }

    /// Feature names of a host row, in table order (the baseline z-score last).
    pub(crate) fn host_names(&self) -> Vec<&'static str> {
        let mut v = vec!["flows_out", "flows_in"];
        if self.bytes {
            v.extend(["bytes_out", "bytes_in"]);
        }
        if self.packets {
            v.extend(["packets_out", "packets_in"]);
        }
        if self.bytes {
            v.push("upload_ratio");
        }
        v.extend(["distinct_dsts", "distinct_srcs"]);
        if self.ports {
            v.extend(["distinct_dst_ports", "distinct_ports_in", "new_dst_ports"]);
        }
        if self.services {
            v.push("distinct_services");
        }
        if self.failures {
            v.extend(["failed_out_fraction", "failed_in_fraction", NEW_FAILED_DSTS]);
        }
        if self.durations {
            v.extend(["duration_mean", "duration_max", "duration_total"]);
        }
        if self.bytes {
            v.push("external_bytes_out");
        }
        v.push("external_dsts");
        if self.dns {
            v.push("dns_long_bytes");
        }
        if self.time {
            v.push("beacon_max");
        }
        if self.bytes {
            v.push(BASELINE);
        }
        v
    }

    /// Feature names of a pair row, in table order (the baseline z-score last).
    pub(crate) fn pair_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.bytes {
            v.extend(["bytes_out", "bytes_in"]);
        }
        if self.packets {
            v.extend(["packets_out", "packets_in"]);
        }
        if self.bytes {
            v.push("upload_ratio");
        }
        if self.ports {
            v.push("distinct_dst_ports");
        }
        if self.services {
            v.push("distinct_services");
        }
        if self.failures {
            v.push("failed_fraction");
        }
        if self.durations {
            v.extend(["duration_mean", "duration_max", "duration_total"]);
        }
        if self.dns {
            v.push("dns_long_bytes");
        }
        v.extend(["outbound_fraction", SRC_DISTINCT_DSTS, DST_DISTINCT_SRCS]);
        if self.time {
            v.extend(["interval_median", "interval_mad", "interval_skew"]);
            if self.bytes {
                v.extend(["size_median", "size_mad", "size_skew"]);
            }
            v.extend(["beacon_score", BEACON_PEERS]);
        }
        if self.bytes {
            v.push(BASELINE);
        }
        v
    }
}

/// Pair rows: the hosts the source contacted in the window (its fan-out: a scanner's pairs share a large
/// one), and the hosts that contacted the destination (its fan-in).
pub(crate) const SRC_DISTINCT_DSTS: &str = "src_distinct_dsts";
pub(crate) const DST_DISTINCT_SRCS: &str = "dst_distinct_srcs";

/// Host rows: destinations first contacted in this window (no connection to them from this host in an
/// earlier window of the log) with failed connections, at most `max_probe_attempts` per port.
pub(crate) const NEW_FAILED_DSTS: &str = "new_failed_dsts";

/// Pair rows: the destinations the source reaches on this pair's schedule in the window (see the module
/// documentation).
pub(crate) const BEACON_PEERS: &str = "beacon_peers";

/// The beacon score from which a pair counts as keeping a schedule.
pub const BEACON_SCHEDULE_SCORE: f64 = 0.5;
/// Relative difference of median intervals within which two pairs share a schedule.
pub const BEACON_SCHEDULE_TOLERANCE: f64 = 0.1;

/// The baseline-deviation feature, filled in once every window of an entity is known.
pub(crate) const BASELINE: &str = "bytes_out_baseline_z";

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// What a host row takes from its pairs in the window and from its other windows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FromPairs {
    /// The highest beacon score of its pairs, each divided by its schedule peers.
    pub(crate) beacon_max: f64,
    /// See [`NEW_FAILED_DSTS`].
    pub(crate) new_failed_dsts: f64,
    /// Destination ports first contacted in this window (none of its connections in an earlier window
    /// went to them); from its own earlier windows rather than its pairs.
    pub(crate) new_dst_ports: f64,
}

/// Values of a host row in [`Available::host_names`] order (the baseline z-score as 0 for now).
pub(crate) fn host_features(h: &HostAcc, from_pairs: FromPairs, a: &Available) -> Vec<f64> {
    let (o, i) = (&h.out, &h.inn);
    // Sized once: growing it feature by feature reallocates several times per row.
    let mut v = Vec::with_capacity(ROW_CAPACITY);
    v.extend([o.flows as f64, i.flows as f64]);
    let (sent, received) = (o.sent + i.sent, o.received + i.received);
    if a.bytes {
        v.extend([sent, received]);
    }
    if a.packets {
        v.extend([o.packets_sent + i.packets_sent, o.packets_received + i.packets_received]);
    }
    if a.bytes {
        v.push(ratio(sent, sent + received));
    }
    v.extend([o.peers.len() as f64, i.peers.len() as f64]);
    if a.ports {
        v.extend([o.ports.len() as f64, i.ports.len() as f64, from_pairs.new_dst_ports]);
    }
    if a.services {
        v.push(o.services.len() as f64);
    }
    if a.failures {
        v.extend([
            ratio(o.failed as f64, o.flows as f64),
            ratio(i.failed as f64, i.flows as f64),
            from_pairs.new_failed_dsts,
        ]);
    }
    if a.durations {
        let total = (o.duration_us + i.duration_us) as f64 * 1e-6;
        v.extend([ratio(total, (o.flows + i.flows) as f64), o.duration_max.max(i.duration_max), total]);
    }
    if a.bytes {
        v.push(o.outbound_bytes);
    }
    v.push(o.outbound_peers.len() as f64);
    if a.dns {
        v.push(o.dns_long);
    }
    if a.time {
        v.push(from_pairs.beacon_max);
    }
    if a.bytes {
        v.push(0.0);
    }
    v
}

/// Values of a pair row in [`Available::pair_names`] order (the baseline z-score as 0 for now).
pub(crate) fn pair_features(p: &PairAcc, beacon: Option<&BeaconStats>, a: &Available) -> Vec<f64> {
    let t = &p.traffic;
    let mut v = Vec::with_capacity(ROW_CAPACITY);
    if a.bytes {
        v.extend([t.sent, t.received]);
    }
    if a.packets {
        v.extend([t.packets_sent, t.packets_received]);
    }
    if a.bytes {
        v.push(ratio(t.sent, t.sent + t.received));
    }
    if a.ports {
        v.push(t.ports.len() as f64);
    }
    if a.services {
        v.push(t.services.len() as f64);
    }
    if a.failures {
        v.push(ratio(t.failed as f64, t.flows as f64));
    }
    if a.durations {
        let total = t.duration_total();
        v.extend([ratio(total, t.flows as f64), t.duration_max, total]);
    }
    if a.dns {
        v.push(t.dns_long);
    }
    // The peers of each end are filled in once every pair of the window is known.
    v.extend([ratio(t.outbound_flows as f64, t.flows as f64), 0.0, 0.0]);
    if let Some(b) = beacon {
        v.extend([b.interval_median, b.interval_mad, b.interval_skew]);
        if a.bytes {
            v.extend([b.size_median, b.size_mad, b.size_skew]);
        }
        // The schedule's peers are counted once every pair of the window is known.
        v.extend([b.score, 0.0]);
    }
    if a.bytes {
        v.push(0.0);
    }
    v
}

/// Room for every feature of a row.
const ROW_CAPACITY: usize = 32;

/// The smallest spread a baseline is measured with, in `log1p(bytes)` units (a change of about 28 %).
pub const MIN_BASELINE_SCALE: f64 = 0.25;

/// Robust z-scores of values (one entity's windows); see the module documentation. Public for a
/// caller that keeps an entity's past windows itself (a live watch scores a window against the windows
/// before it).
///
/// ```
/// let z = outflow_aggregate::features::robust_z(&[1.0, 2.0, 3.0, 10.0]);
/// assert!((z[3] - 7.5 / 1.4826).abs() < 1e-12);
/// ```
pub fn robust_z(values: &[f64]) -> Vec<f64> {
    if values.len() < 2 {
        return vec![0.0; values.len()];
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = outflow_core::stats::median_sorted(&sorted);
    let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = outflow_core::stats::median_sorted(&dev);
    let scale = if mad > 0.0 { 1.4826 * mad } else { 1.2533 * dev.iter().sum::<f64>() / dev.len() as f64 };
    if scale == 0.0 {
        return vec![0.0; values.len()];
    }
    // Windows that hardly vary (a few bytes of 10 kB) would give enormous scores to tiny changes.
    let scale = scale.max(MIN_BASELINE_SCALE);
    values.iter().map(|v| (v - median) / scale).collect()
}

#[cfg(test)]
mod tests {
    use super::{MIN_BASELINE_SCALE, robust_z};

    #[test]
    fn robust_z_by_hand() {
        // median 2.5, deviations 1.5, 0.5, 0.5, 7.5 → MAD 1 → scale 1.4826.
        let z = robust_z(&[1.0, 2.0, 3.0, 10.0]);
        assert!((z[3] - 7.5 / 1.4826).abs() < 1e-12);
        // MAD 0: mean absolute deviation (0, 0, 0, 9) / 4 × 1.2533.
        let z = robust_z(&[1.0, 1.0, 1.0, 10.0]);
        assert!((z[3] - 9.0 / (1.2533 * 2.25)).abs() < 1e-12);
        // A spread below the floor is raised to it.
        let z = robust_z(&[9.0, 9.0, 9.0, 9.001]);
        assert!((z[3] - 0.001 / MIN_BASELINE_SCALE).abs() < 1e-9);
        assert_eq!(robust_z(&[5.0, 5.0]), vec![0.0, 0.0]);
        assert_eq!(robust_z(&[5.0]), vec![0.0]);
    }
}
