//! Reading model files of format version 1 (Outflow 0.1 before the detector took any clusterer): the
//! shapes that version wrote, and their conversion to the current [`Detector`]. The conversion keeps every
//! fitted number, so a version-1 model scores exactly as it did when it was written.

use outflow_cluster::{Algorithm, ClusterSelection, Hdbscan, HdbscanParams, Metric, Model as Clustering};
use outflow_core::Ecdf;
use outflow_io::Schema;
use outflow_outlier::{FusionMethod, MemberStats, Model as OutlierModelAny, ScoreFusion};
use outflow_prep::{Prep, PrepParams};
use serde::Deserialize;

use super::{ModelHeader, ModelMetadata};
use crate::detector::{ClusterSize, Detector, DetectorParams, FitSummary, Thresholds};
use crate::scoring::{Scorer, ScoringParams, Signal};

#[derive(Deserialize)]
struct Body {
    config: Config,
    schema: Schema,
    prep: Prep,
    model: Hdbscan,
    scorer: ScorerV1,
    summary: Summary,
}

#[derive(Deserialize)]
struct Config {
    prep: Option<PrepParams>,
    clustering: ClusteringV1,
    scoring: ScoringV1,
    max_fit_rows: usize,
    seed: u64,
}

/// Version 1's HDBSCAN settings; `None` sizes were chosen from the data.
#[derive(Deserialize)]
struct ClusteringV1 {
    min_cluster_size: Option<usize>,
    min_samples: Option<usize>,
    metric: Metric,
    selection: ClusterSelection,
    epsilon: f64,
    allow_single_cluster: bool,
}

#[derive(Deserialize)]
struct ScoringV1 {
    signals: Vec<Signal>,
    fusion: FusionV1,
    moderate_percentile: f64,
    severe_percentile: f64,
}

/// Version 1's fusion of ranks: their mean or their maximum.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FusionV1 {
    Mean,
    Max,
}

#[derive(Deserialize)]
struct ScorerV1 {
    config: ScoringV1,
    /// Training flows per cluster label.
    cluster_sizes: Vec<usize>,
    n_train: usize,
    models: Vec<Option<OutlierModelAny>>,
    ecdfs: Vec<Ecdf>,
}

#[derive(Deserialize)]
struct Summary {
    rows_read: usize,
    rows_kept: usize,
    rows_fitted: usize,
    features: Vec<String>,
    hdbscan: HdbscanParams,
    clusters: Vec<ClusterSizeV1>,
    noise_fraction: f64,
    dbcv: Option<f64>,
    thresholds: Thresholds,
}

#[derive(Deserialize)]
struct ClusterSizeV1 {
    label: i64,
    size: usize,
    persistence: f64,
}

#[derive(Deserialize)]
struct Metadata {
    input_schema: Schema,
    required_columns: Vec<String>,
    preset: String,
    fit: Summary,
    signals: Vec<String>,
}

#[derive(Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    outflow_version: String,
    created: String,
    body_bytes: usize,
    body_sha256: String,
    metadata: Metadata,
}

impl FusionV1 {
    fn method(&self) -> FusionMethod {
        match self {
            FusionV1::Mean => FusionMethod::Rank,
            FusionV1::Max => FusionMethod::MaxRank,
        }
    }
}

impl ScoringV1 {
    fn params(self) -> ScoringParams {
        ScoringParams {
            signals: self.signals,
            fusion: self.fusion.method(),
            evidence: Vec::new(),
            moderate_percentile: self.moderate_percentile,
            severe_percentile: self.severe_percentile,
        }
    }
}

impl Summary {
    fn current(self) -> FitSummary {
        FitSummary {
            rows_read: self.rows_read,
            rows_kept: self.rows_kept,
            rows_fitted: self.rows_fitted,
            rows_fitted_scorers: self.rows_fitted,
            defaults: None,
            embedding: None,
            features: self.features,
            clustering: Algorithm::Hdbscan(self.hdbscan),
            clusters: self
                .clusters
                .into_iter()
                .map(|c| ClusterSize { label: c.label, size: c.size, persistence: Some(c.persistence) })
                .collect(),
            noise_fraction: self.noise_fraction,
            dbcv: self.dbcv,
            neighbor_recall: None,
            thresholds: self.thresholds,
        }
    }
}

impl ScorerV1 {
    /// Version 1 computed cluster rarity as `1 − size / training flows` and kept one ECDF per signal;
    /// both are carried over as they are, so the ranks (and the scores) do not change.
    fn current(self) -> Scorer {
        let n = self.n_train.max(1) as f64;
        let rarity = self.cluster_sizes.iter().map(|&s| 1.0 - s as f64 / n).collect();
        let method = self.config.fusion.method();
        let stats = self.ecdfs.into_iter().map(|ecdf| MemberStats { mean: 0.0, sd: 1.0, ecdf }).collect();
        Scorer::from_parts(self.config.params(), rarity, self.models, ScoreFusion { method, stats })
    }
}

/// A version-1 body as the current detector.
pub(super) fn detector(body: &[u8]) -> serde_json::Result<Detector> {
    let b: Body = serde_json::from_slice(body)?;
    let c = b.config.clustering;
    let hdbscan = HdbscanParams {
        min_cluster_size: c.min_cluster_size.unwrap_or(0),
        min_samples: Some(c.min_samples.unwrap_or(10)),
        cluster_selection_epsilon: c.epsilon,
        cluster_selection: c.selection,
        allow_single_cluster: c.allow_single_cluster,
        metric: c.metric,
        ..HdbscanParams::default()
    };
    let params = DetectorParams {
        prep: b.config.prep,
        clustering: Algorithm::Hdbscan(hdbscan),
        scoring: b.config.scoring.params(),
        max_fit_rows: b.config.max_fit_rows,
        // Version 1 fitted its scorers on the clustering's sample.
        max_score_rows: b.config.max_fit_rows,
        seed: b.config.seed,
        ..DetectorParams::default()
    };
    Ok(Detector {
        params,
        schema: b.schema,
        prep: b.prep,
        clustering: Clustering::Hdbscan(b.model),
        scorer: b.scorer.current(),
        summary: b.summary.current(),
        typical: Vec::new(),
        embedding: None,
    })
}

/// A version-1 header in the current shape (its `format_version` stays 1).
pub(super) fn header(value: serde_json::Value) -> serde_json::Result<ModelHeader> {
    let h: Header = serde_json::from_value(value)?;
    Ok(ModelHeader {
        format: h.format,
        format_version: h.format_version,
        outflow_version: h.outflow_version,
        created: h.created,
        body_bytes: h.body_bytes,
        body_sha256: h.body_sha256,
        metadata: ModelMetadata {
            input_schema: h.metadata.input_schema,
            required_columns: h.metadata.required_columns,
            preset: h.metadata.preset,
            fit: h.metadata.fit.current(),
            signals: h.metadata.signals,
        },
        signature: None,
    })
}
