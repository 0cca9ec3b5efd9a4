//! # outflow-watch
//!
//! Continuous monitoring: follows a live Zeek conn log (TSV or JSON lines) like `tail -F` — across
//! renames, truncations and headers written again — or a Zeek log directory (the rotated, possibly
//! gzip-compressed files in order, then `current/`), or standard input; scores the flows in
//! micro-batches with a saved [`outflow::Detector`] (host and pair models: windows updated live, an
//! alert when a window closes or, earlier, when its score already crosses the threshold); and sends
//! alerts in the Elastic Common Schema to standard output, a size-rotated file or an HTTP webhook.
//!
//! - **No loss, no duplicates across restarts.** After each batch's alerts are settled the read
//!   position (a fingerprint of the file's first bytes and the offset) is checkpointed atomically; a
//!   restart reads on from there. The alert file's length is in the checkpoint too and anything written
//!   after it is cut on restart, so the file sink is exactly-once even after `kill -9`; standard output
//!   and the webhook are at-least-once with a stable `event.id`.
//! - **Bad lines do not stop it**: a malformed line is reported with its file and line number and
//!   skipped.
//! - **Back-pressure**: the webhook queue is bounded; when full the oldest moderate alert is dropped
//!   (counted), a severe one never — the reader waits instead.
//!
//! Files are polled (every 50 ms when idle), not watched with inotify: the cost is negligible and it
//! works the same on every platform and network filesystem. The webhook client is reqwest, which the
//! object-store support already builds.
//!
//! ```no_run
//! use outflow_watch::{Control, Source, Stdout, WatchParams, watch};
//! let params = WatchParams::new(Source::File("/opt/zeek/logs/current/conn.log".into()));
//! let load = Box::new(|| {
//!     let d = outflow::Detector::load("model.json").map_err(|e| e.to_string())?;
//!     Ok((d, outflow_watch::ModelInfo { name: "model.json".into(), sha256: String::new() }))
//! });
//! let counters = watch(params, load, vec![Box::new(Stdout::new())], Control::default(), &mut |m| eprintln!("{m}"))
//!     .unwrap();
//! println!("{} flows scored", counters.flows_scored);
//! ```

#![warn(missing_docs)]

pub mod alert;
pub mod allow;
pub mod batch;
pub mod checkpoint;
mod error;
pub mod follow;
pub mod live;
pub mod sink;
mod watch;

pub use crate::alert::{Alert, ModelInfo};
pub use crate::allow::AllowList;
pub use crate::checkpoint::Checkpoint;
pub use crate::error::{Result, WatchError};
pub use crate::follow::{Follower, Source, Start};
pub use crate::sink::{RotatingFile, Sink, Stdout, Webhook, WebhookParams};
pub use crate::watch::{Control, Counters, ModelLoader, WatchParams, watch};
