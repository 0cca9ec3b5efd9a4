//! The run directory that `outflow detect` writes and `outflow report`, the service and library users
//! read: its files, their columns and the schema of `summary.json`, written and read in one place.
//!
//! | file | what |
//! |---|---|
//! | [`SCORES`] | one line per input record: `row,cluster,probability,outlier_score,severity,reason` and the identifying columns the log has |
//! | [`ANOMALIES`] | the moderate and severe records with every original column, highest score first |
//! | [`CLUSTERS`] | per cluster: size, top values of categorical columns, statistics of numeric ones |
//! | [`SAMPLE`] | a seeded sample (≤ [`SAMPLE_ROWS`]) of scored records with the features the model saw |
//! | [`TUNING`] | the hyper-parameter grid and its scores, when tuned |
//! | `hosts.csv`, `pairs.csv` | host / pair level: one row per host or pair and window, highest score first: identity, window, `flows`, [`ENTITY_SCORE_COLUMNS`], every aggregate feature |
//! | [`ALERTS`] | with host or pair levels next to flows: [`ALERT_COLUMNS`], every level's anomalies ranked together |
//! | the model file | named in `summary.json` (`outflow-model-<UTC>.json`) |
//! | [`SUMMARY`] | [`RunSummary`]: counts, features, clusterer, clusters, thresholds, timings; written last |
//!
//! With [`TableFormat::Parquet`] (`outflow detect --out-format parquet`) the scores, the anomalies and the
//! host and pair tables are `scores.parquet`, `anomalies.parquet`, `hosts.parquet`, `pairs.parquet`: the
//! same columns, typed (the log's columns keep their types). `summary.json` records the format.
//!
//! [`RunDir::write`] writes a directory from a fit; `summary.json` comes last, so a directory without it
//! is an interrupted run, never mistaken for a complete one. [`RunDir::read`] reads one back, checking
//! that its files belong together.
//!
//! A log too large to hold is written by a [`FlowRunWriter`] instead: fitted on a [`FlowSample`] taken
//! while reading it, then scored and written batch by batch, with the same files.
//!
//! In an object store (`s3://bucket/runs/r1`, …) a run is written to a local staging directory, then
//! published by a [`RemoteRunClaim`]: every file uploaded whole, `summary.json` last; [`download_run`]
//! fetches a finished one back.
//!
//! ```no_run
//! use outflow::run::RunDir;
//! let run = RunDir::read("outflow-run-20261202T101500Z")?;
//! println!("{} flows, {} severe", run.summary.rows_read, run.summary.severity_counts.severe);
//! # Ok::<(), outflow::OutflowError>(())
//! ```

mod evaluation;
mod levels;
mod read;
mod remote;
mod stream;
mod write;

use std::path::PathBuf;

use outflow_aggregate::Level;
use outflow_cluster::Algorithm;
use serde::{Deserialize, Serialize};

use crate::detector::{ClusterSize, Thresholds};

pub use crate::run::evaluation::{LabelEvaluation, label_evaluation};
pub use crate::run::levels::{
    ALERT_COLUMNS, ALERTS, AlertBook, ENTITY_SCORE_COLUMNS, FlowLinks, LevelSummary, MAX_FLOW_ROWS, alerts_csv,
    entity_csv, entity_scores_csv, entity_scores_table, entity_table, flow_level_scores, level_links, level_summary,
};
pub use crate::run::read::{Anomalies, RunDir, Sample, Scores, TOP_ANOMALIES};
pub use crate::run::remote::{RemoteRunClaim, claim_remote_run, download_run, upload_files};
pub use crate::run::stream::{FlowRunWriter, FlowSample};
pub use crate::run::write::{
    INCOMPLETE, LOCK, RunClaim, RunInput, TableWriter, abandon_active_runs, anomalies_csv, anomalies_table,
    check_run_dir, claim_fresh_run_dir, claim_run_dir, sample_csv, scores_csv, scores_csv_with, scores_table,
    scores_table_at, table_bytes, tuning_csv,
};

/// `summary.json`.
pub const SUMMARY: &str = "summary.json";
/// `scores.csv`.
pub const SCORES: &str = "scores.csv";
/// `anomalies.csv`.
pub const ANOMALIES: &str = "anomalies.csv";
/// `clusters.json`.
pub const CLUSTERS: &str = "clusters.json";
/// `sample.csv`.
pub const SAMPLE: &str = "sample.csv";
/// `tuning.csv`.
pub const TUNING: &str = "tuning.csv";
/// Records of the prepared feature matrix kept in [`SAMPLE`] at most (a seeded sample).
pub const SAMPLE_ROWS: usize = 5_000;
/// The columns every scores file starts with.
pub const SCORE_COLUMNS: [&str; 6] = ["row", "cluster", "probability", "outlier_score", "severity", "reason"];
/// The format of a run directory's tables of scores, anomalies, hosts and pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// CSV (the default).
    #[default]
    Csv,
    /// Parquet, typed (feature `arrow`).
    Parquet,
}

impl TableFormat {
    /// The file of a table named for CSV (`scores.csv`) in this format (`scores.parquet`).
    pub fn file_name(self, csv_name: &str) -> String {
        match self {
            TableFormat::Csv => csv_name.to_owned(),
            TableFormat::Parquet => format!("{}.parquet", csv_name.strip_suffix(".csv").unwrap_or(csv_name)),
        }
    }
}

/// The columns [`SAMPLE`] starts with; the model's features follow.
pub const SAMPLE_COLUMNS: [&str; 5] = ["row", "cluster", "probability", "outlier_score", "severity"];
/// The columns [`ANOMALIES`] starts with; every column of the input follows.
pub const ANOMALY_COLUMNS: [&str; 5] = ["row", "outlier_score", "severity", "cluster", "probability"];

/// What `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Name of the input.
    pub input: String,
    /// Input format.
    pub format: String,
    /// File name of the model in the run directory.
    pub model_file: String,
    /// Input records.
    pub rows_read: usize,
    /// Records selected for analysis (`--service`, `--host`); the others are unscored.
    pub rows_selected: usize,
    /// Records scored.
    pub rows_kept: usize,
    /// Records the clustering was fitted on.
    pub rows_fitted: usize,
    /// Records the scorers and their rank tables were fitted on.
    #[serde(default)]
    pub rows_fitted_scorers: usize,
    /// Records not scored.
    pub rows_unscored: usize,
    /// Features the model saw.
    pub features_kept: Vec<String>,
    /// Columns dropped by the preparation, with reasons.
    pub features_dropped: Vec<DroppedFeature>,
    /// Preparation preset.
    pub preset: String,
    /// Clusters of the fitted flows.
    pub clusters: Vec<ClusterSize>,
    /// Share of fitted flows labelled noise, in percent.
    pub noise_percent: f64,
    /// DBCV of the clustering (HDBSCAN), when defined.
    pub dbcv: Option<f64>,
    /// Recall of the approximate neighbour graph the clustering was fitted on, measured on a sample;
    /// absent for exact fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbor_recall: Option<f64>,
    /// Severity thresholds of the outlier score.
    pub thresholds: Thresholds,
    /// Records per severity.
    pub severity_counts: SeverityCounts,
    /// The clusterer and the parameters used.
    pub clustering: Algorithm,
    /// Signals fused into the outlier score.
    pub signals: Vec<String>,
    /// Which of the preparation and the signals are the defaults of the log family the columns name
    /// (measured per family); absent when both were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<crate::FamilyDefaults>,
    /// The UMAP embedding the clusterer was fitted on (`--embed`), with its trustworthiness on a sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<crate::EmbeddingSummary>,
    /// Whether `--tune` chose the parameters.
    pub tuned: bool,
    /// Seconds per stage.
    pub timings_seconds: RunTimings,
    /// The level of the run's main fit (the figures above): `flow`, or `host` / `pair` when only that
    /// level was asked for.
    #[serde(default)]
    pub level: Level,
    /// The host and pair analyses of the run, when there are any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<LevelSummary>,
    /// The format of the scores, anomalies, hosts and pairs tables.
    #[serde(default)]
    pub table_format: TableFormat,
    /// How the main fit's scores rank the log's own labels, when it has a label column (read after the
    /// fit, never for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelEvaluation>,
}

/// A column the preparation dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedFeature {
    /// Column.
    pub name: String,
    /// Preparation step.
    pub step: String,
    /// Why.
    pub reason: String,
}

/// Records per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    /// Below the moderate threshold.
    pub normal: usize,
    /// Moderate.
    pub moderate: usize,
    /// Severe.
    pub severe: usize,
    /// Not scored.
    pub unscored: usize,
}

/// Seconds per stage of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTimings {
    /// Reading the input.
    pub read: f64,
    /// Searching hyper-parameters.
    pub tune: f64,
    /// Preparing features.
    pub prepare: f64,
    /// Clustering.
    pub cluster: f64,
    /// Fitting the scorers.
    pub score: f64,
    /// Scoring the rows that were not fitted.
    pub predict: f64,
    /// Writing the run directory.
    pub write: f64,
    /// The whole run.
    pub total: f64,
}

/// What is wrong with a run directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunDirError {
    /// The directory does not exist or is not a directory.
    #[error("{0}: not a run directory (no such directory)")]
    NotADirectory(PathBuf),
    /// A file of the run is missing (`summary.json` missing: the run did not finish).
    #[error("{0}: missing; is this a run directory written by `outflow detect` that finished?")]
    MissingFile(PathBuf),
    /// A file is there but cannot be used.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when there is one.
        message: String,
    },
    /// The directory exists and is not empty, and writing into it was not asked for.
    #[error("{0} is not empty; pass --force to write into it (files of the same name are replaced)")]
    NotEmpty(PathBuf),
    /// Another run is writing into the directory.
    #[error("another run is writing into {0} (its lock is {0}/{LOCK}; delete that file if no run is)")]
    Busy(PathBuf),
}

impl RunDirError {
    pub(crate) fn invalid(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        RunDirError::Invalid { path: path.into(), message: message.to_string() }
    }
}
