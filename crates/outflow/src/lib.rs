//! # Outflow
//!
//! Find data exfiltration and other anomalous flows in network logs with exact, explainable,
//! density-based clustering — from a raw log to a saved, servable model in one call.
//!
//! [`DetectorParams::fit`] prepares the flows ([`prep`]), clusters them ([`cluster`]: HDBSCAN by
//! default, or DBSCAN, k-means, Ward), scores every flow with a fused anomaly score (see [`scoring`]) and
//! grades it `normal` / `moderate` (≥ 95th percentile of the training scores) / `severe` (≥ 99th); the
//! fitted [`Detector`] scores new flows the same way — same cluster, score and severity for a flow seen
//! at fit time; the membership probability of a flow scored later is HDBSCAN's prediction (as hdbscan's
//! `approximate_predict`), which can differ from the fit's own — and is saved as one versioned,
//! checksummed model file ([`artifact`]).
//!
//! ```
//! use outflow::{Detector, DetectorParams, Severity};
//! use outflow::io::{Input, ReadOptions, read_input};
//! let mut log = String::from("#separator \\x09\n#fields\tts\tproto\tduration\torig_bytes\tresp_bytes\tconn_state\n\
//!                             #types\ttime\tenum\tinterval\tcount\tcount\tstring\n");
//! for i in 0..300 {
//!     let (d, o, r) = (0.1 + (i % 7) as f64 * 0.01, 300 + i % 11, 1200 + i % 13);
//!     log.push_str(&format!("{i}.0\ttcp\t{d}\t{o}\t{r}\tSF\n"));
//! }
//! log.push_str("301.0\ttcp\t3600.0\t90000000\t12\tSF\n"); // a long, heavy upload
//! let (flows, _) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
//! let fit = DetectorParams::default().fit(&flows).unwrap();
//! assert_eq!(fit.flows.len(), 301);
//! assert_eq!(fit.flows[300].severity, Severity::Severe);
//! let bytes = fit.detector.to_bytes();
//! let again = Detector::from_bytes(&bytes).unwrap();
//! assert_eq!(again.score(&flows).unwrap()[300].severity, Severity::Severe);
//! ```
//!
//! Errors are typed end to end ([`OutflowError`]): each lower crate's error keeps its own variant, and bad
//! input anywhere is an [`InputError`].
//!
//! Features: `arrow` (score Arrow record batches, Parquet in and out) and `object-store` (logs, models and
//! run directories in S3, GCS, Azure or over HTTP: [`io::store::Location`] wherever a path is taken —
//! [`Detector::load_at`], [`Detector::save_at`], [`run::RunDir::read_at`], [`run::claim_remote_run`]).

#![warn(missing_docs)]

pub mod artifact;
#[cfg(feature = "arrow")]
mod columnar;
mod detector;
mod error;
pub mod evidence;
mod reasons;
pub mod run;
pub mod scoring;
mod stats;
pub mod tune;

pub use crate::artifact::{FORMAT_VERSION, ModelHeader, ModelKey, ModelMetadata, default_model_name, read_header};
/// The columns [`Detector::score_batch`] appends (feature `arrow`).
#[cfg(feature = "arrow")]
pub use crate::columnar::SCORE_COLUMNS as BATCH_SCORE_COLUMNS;
pub use crate::detector::{
    ClusterSize, DEFAULT_MIN_SAMPLES, Detector, DetectorFit, DetectorParams, EmbeddingSummary, FamilyDefaults,
    FitSummary, FlowScore, ScoredLog, Severity, Thresholds, Timings, auto_hdbscan, entity_prep,
};
pub use crate::error::{ArtifactError, OutflowError, Result};
pub use crate::evidence::Evidence;
pub use crate::scoring::{OwnPast, Scorer, ScoringParams, Signal};
pub use crate::stats::{ClusterStats, NumericStats, RowFilter, cluster_statistics};
pub use crate::tune::{TuneParams, TuneResult, Tuning};
pub use outflow_aggregate as aggregate;
pub use outflow_aggregate::{AggregateParams, Entities, Level, Window};
pub use outflow_cluster as cluster;
pub use outflow_core::{
    AtomicFile, Fit, FitSupervised, InputError, Predict, ScoreSamples, Transform, WriteError, sample_indices,
    stats as numeric, write_atomic,
};
pub use outflow_embed as embed;
pub use outflow_explain as explain;
pub use outflow_io as io;
pub use outflow_io::{Format, ReadOptions, Table, read_table};
pub use outflow_outlier as outlier;
pub use outflow_prep as prep;
pub use outflow_validate as validate;
