//! # outflow-aggregate
//!
//! Flow logs to behaviour tables. Exfiltration, command-and-control and scanning are behaviours of
//! hosts over time that no single flow shows; this crate turns a flow table into one row per **host**
//! or per **(source, destination) pair** and **time window**, with direction-aware features: traffic
//! out and in, fan-out to peers, ports and services, failed connections, durations, traffic leaving the
//! network, the regularity of a pair's connections (beacons) and each entity's deviation from its own
//! other windows. The rows are a [`outflow_io::Table`], so the rest of Outflow (preparation,
//! clustering, scoring, explanations) runs on them unchanged.
//!
//! - [`Window`]: tumbling windows aligned on the epoch (`15m`, `1h`, `1d`) or the whole log (`all`).
//! - [`Level`]: flow, host or pair.
//! - [`Aggregator`]: batches of flows in, [`Entities`] out; memory grows with the hosts and pairs per
//!   window, not with the flows.
//! - [`Contacts`]: the destinations and ports each host reached in earlier windows, carried from one
//!   aggregator to the next (a live watch aggregates each window alone).
//! - [`Networks`]: which addresses are inside (`--internal`), else Zeek's `local_orig` / `local_resp`,
//!   else the private ranges.
//!
//! Which column is the source, the destination, the timestamp, the bytes each way, ... is the log
//! family's knowledge (`outflow_io::FlowRoles`): Zeek conn logs (TSV and JSON) and CICFlowMeter CSVs with
//! their address and timestamp columns work; a log without addresses (KDD) gets an error naming what is
//! missing.
//!
//! ```
//! use outflow_aggregate::{AggregateParams, Level, aggregate};
//! use outflow_io::{Input, ReadOptions, read_input};
//! let mut log = String::from("#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\t\
//!                             conn_state\torig_bytes\tresp_bytes\n#types\ttime\taddr\taddr\tport\tenum\tstring\tcount\tcount\n");
//! for port in 1..=100 {
//!     // 10.0.0.66 tries 100 ports of 10.0.0.9: none answers.
//!     log.push_str(&format!("{}.0\t10.0.0.66\t10.0.0.9\t{port}\ttcp\tS0\t0\t0\n", 1000 + port));
//! }
//! let (flows, _) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
//! let hosts = aggregate(&flows, &AggregateParams::default(), Level::Host).unwrap();
//! let scanner = hosts.row_of("10.0.0.66", None, 1001.0).unwrap();
//! assert_eq!(hosts.value("distinct_dst_ports", scanner), Some(100.0));
//! assert_eq!(hosts.value("failed_out_fraction", scanner), Some(1.0));
//! let target = hosts.row_of("10.0.0.9", None, 1001.0).unwrap();
//! assert_eq!(hosts.value("distinct_ports_in", target), Some(100.0));
//! ```

#![warn(missing_docs)]

mod aggregator;
mod beacon;
mod columns;
mod contacts;
mod entities;
mod error;
pub mod features;
mod level;
mod network;
mod params;
mod time;
mod traffic;
mod window;

pub use crate::aggregator::{Aggregates, Aggregator, Stats, aggregate};
pub use crate::beacon::{BeaconStats, MIN_CONNECTIONS};
pub use crate::contacts::Contacts;
pub use crate::entities::{ENTITY_COLUMNS, Entities};
pub use crate::error::{AggregateError, Result};
pub use crate::level::Level;
pub use crate::network::{Network, Networks};
pub use crate::params::{AggregateParams, Locality, MAX_PROBE_ATTEMPTS};
pub use crate::time::{epoch_seconds, parse_timestamp, seconds_at};
pub use crate::traffic::DNS_QUERY_BYTES;
pub use crate::window::Window;
