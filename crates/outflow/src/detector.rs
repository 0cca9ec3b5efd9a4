//! The main job: from a flow table to a clustering, an anomaly score and a severity per flow, and a
//! fitted [`Detector`] that scores tomorrow's flows exactly the same way.

use std::time::Instant;

use ndarray::{Array2, ArrayView2, Axis};
use outflow_aggregate::{AggregateParams, Entities, Level, aggregate};
use outflow_cluster::{
    Algorithm, ClusterModel, Fit, HdbscanParams, Membership, MinSamplesConvention, Model as Clustering,
};
use outflow_core::{InputError, sample_indices, stats, unique_rows};
use outflow_embed::{Transform as _, Umap, UmapParams};
use outflow_io::{Schema, Table};
use outflow_outlier::glosh::cluster_rarity;
use outflow_prep::{FitReport, Prep, PrepFit, PrepParams, Prepared, RowStatus};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::evidence::{Evidence, evidence_columns};
use crate::scoring::{EntityContext, EntityRows, OwnPast, RawSignals, Scorer, ScoringParams, Signal};

/// Everything a detector is fitted with.
///
/// The clusterer is any [`Algorithm`] of `outflow-cluster`. HDBSCAN (the default) is sized from the data
/// when its `min_cluster_size` is 0: 1 % of the fitted flows, between 10 and 1,000; in every case
/// `min_cluster_size` and `min_samples` are at most the fitted flows, and an unset `min_samples` is 10
/// at most `min_cluster_size` (in the scikit-learn convention; in hdbscan's, `min_cluster_size` + 1 as
/// there). The randomised algorithms (k-means, Ward's sample) take [`DetectorParams::seed`].
///
/// ```no_run
/// use outflow::{DetectorParams, Severity, read_table, ReadOptions};
/// use outflow::cluster::{Algorithm, DbscanParams};
/// let flows = read_table("conn.log", &ReadOptions::default()).unwrap();
/// let params = DetectorParams { clustering: Algorithm::Dbscan(DbscanParams::default()), ..Default::default() };
/// let fit = params.fit(&flows).unwrap();
/// let severe = fit.flows.iter().filter(|f| f.severity == Severity::Severe).count();
/// println!("{severe} severe flows, {} clusters", fit.summary.clusters.len());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorParams {
    /// Feature preparation; `None` picks the log family's detection preparation from the table's columns
    /// ([`PrepParams::detection`]).
    pub prep: Option<PrepParams>,
    /// The clusterer.
    pub clustering: Algorithm,
    /// Anomaly score and severity thresholds.
    pub scoring: ScoringParams,
    /// The clustering is fitted on at most this many rows (a seeded sample); the others are assigned to
    /// its clusters like new flows.
    pub max_fit_rows: usize,
    /// The scorers and their rank tables are fitted on at most this many rows (a seeded sample holding
    /// the clustering's); the others are scored like new flows. Fitting a forest or a PCA costs little
    /// beside scoring the rows, and a rank table drawn from every row keeps the top of a large log
    /// apart: fitted on a 100,000-row sample, the rarest 0.4 % of a 567,000-row log share their top
    /// ranks (ODDS http: PR-AUC 0.81 against 0.89 fitted on every row, seeds 1–6).
    pub max_score_rows: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// What one row is: a flow (default), or a host or a pair in a time window. At the host and pair
    /// levels the log is aggregated first ([`outflow_aggregate`]) and the whole pipeline runs on the
    /// aggregated rows.
    pub level: Level,
    /// How flows become host and pair rows (host and pair levels).
    pub aggregation: AggregateParams,
    /// A UMAP embedding of the prepared features for the clusterer to be fitted on (the reference
    /// notebooks cluster a UMAP map of the flows; density is easier to find in a few dimensions than in
    /// thirty). Its seed is [`DetectorParams::seed`]. The scorers and the reasons keep the prepared
    /// features; new flows are embedded by [`Umap`]'s `transform`, each on its own. `None`: the clusterer
    /// sees the prepared features.
    pub embed: Option<UmapParams>,
    /// Label columns besides the log families' (`label`, `Label`, `attack_cat`, …; names or globs, any
    /// case): carried with the rows, never features, joined per host and pair, and the first the run's
    /// label evaluation reads when present. Added to the preparation's [`PrepParams::labels`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Columns never read as features besides the preparation's identifiers (names or globs, any case):
    /// a row number, a column derived from the label. Added to [`PrepParams::drop_columns`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drop_columns: Vec<String>,
}

/// `to` with the names of `extra` not in it, `extra`'s first.
fn joined(extra: &[String], to: &[String]) -> Vec<String> {
    let mut v = extra.to_vec();
    v.extend(to.iter().filter(|n| !extra.contains(n)).cloned());
    v
}

impl Default for DetectorParams {
    fn default() -> Self {
        DetectorParams {
            prep: None,
            clustering: Algorithm::Hdbscan(auto_hdbscan()),
            scoring: ScoringParams::default(),
            max_fit_rows: 100_000,
            max_score_rows: 1_000_000,
            seed: 42,
            level: Level::Flow,
            aggregation: AggregateParams::default(),
            embed: None,
            labels: Vec::new(),
            drop_columns: Vec::new(),
        }
    }
}

/// The preparation of host and pair rows: counts, byte totals, durations and intervals compressed with
/// `log1p` before robust scaling (they span orders of magnitude: one host's thousand peers must not
/// flatten the difference between one and ten), and no correlation pruning: each aggregate is a
/// behaviour of its own (a scan target's distinct sources and ports rise with its flows in, yet they are
/// what explains it).
pub fn entity_prep() -> PrepParams {
    let log1p = [
        "flows*",
        "bytes_*",
        "packets_*",
        "distinct_*",
        "src_distinct_*",
        "dst_distinct_*",
        "duration_*",
        "external_*",
        "interval_median",
        "interval_mad",
        "size_median",
        "size_mad",
        "beacon_peers",
    ];
    let mut p = PrepParams { log1p: log1p.iter().map(|s| s.to_string()).collect(), ..PrepParams::default() };
    p.selection.correlation = None;
    p
}

/// The detector's `min_samples` when none is given (at most `min_cluster_size`).
pub const DEFAULT_MIN_SAMPLES: usize = 10;

/// The detector's default HDBSCAN: sized from the data, `min_samples` unset ([`DEFAULT_MIN_SAMPLES`]).
pub fn auto_hdbscan() -> HdbscanParams {
    HdbscanParams { min_cluster_size: 0, min_samples: None, ..HdbscanParams::default() }
}

/// How anomalous a flow is, from the training score percentiles frozen at fit time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Below the moderate threshold.
    Normal,
    /// At or above the moderate threshold (95th percentile by default).
    Moderate,
    /// At or above the severe threshold (99th percentile by default).
    Severe,
    /// The flow could not be scored (see its reason).
    Unscored,
}

impl Severity {
    /// The name written in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
            Severity::Unscored => "unscored",
        }
    }

    /// Moderate or severe.
    pub fn is_anomaly(self) -> bool {
        matches!(self, Severity::Moderate | Severity::Severe)
    }
}

/// The score thresholds frozen at fit time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Score at the moderate percentile of the training flows.
    pub moderate: f64,
    /// Score at the severe percentile.
    pub severe: f64,
}

impl Thresholds {
    /// The severity of a score.
    pub fn severity(&self, score: f64) -> Severity {
        if score >= self.severe {
            Severity::Severe
        } else if score >= self.moderate {
            Severity::Moderate
        } else {
            Severity::Normal
        }
    }
}

/// The result for one input flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowScore {
    /// 0-based index of the record in the input.
    pub row: usize,
    /// Cluster (−1 noise); `None` when unscored.
    pub cluster: Option<i64>,
    /// Membership strength in [0, 1].
    pub probability: Option<f64>,
    /// Fused anomaly score in [0, 1] (higher = more anomalous).
    pub outlier_score: Option<f64>,
    /// Severity.
    pub severity: Severity,
    /// Why the flow was not scored.
    pub reason: Option<String>,
    /// For a moderate or severe host or pair row: the behaviour evidence it stands out in (a positive
    /// value in the top 1 % of the other entities' training rows), strongest first (see
    /// [`crate::evidence`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

impl FlowScore {
    /// A flow that was not scored, with the reason.
    pub fn unscored(row: usize, reason: String) -> FlowScore {
        FlowScore {
            row,
            cluster: None,
            probability: None,
            outlier_score: None,
            severity: Severity::Unscored,
            reason: Some(reason),
            evidence: Vec::new(),
        }
    }
}

/// Size and share of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSize {
    /// Label.
    pub label: i64,
    /// Training flows in it.
    pub size: usize,
    /// Persistence (hdbscan's `cluster_persistence_`; HDBSCAN only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<f64>,
}

/// Figures of a fit, kept in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    /// Input records.
    pub rows_read: usize,
    /// Records the preparation could score.
    pub rows_kept: usize,
    /// Records the clustering was fitted on.
    pub rows_fitted: usize,
    /// Records the scorers and their rank tables were fitted on (files written before this figure:
    /// the clustering's).
    #[serde(default)]
    pub rows_fitted_scorers: usize,
    /// Feature names.
    pub features: Vec<String>,
    /// The clusterer with the parameters used (HDBSCAN's sizes and DBSCAN's radius resolved).
    pub clustering: Algorithm,
    /// Clusters of the fitted flows.
    pub clusters: Vec<ClusterSize>,
    /// Share of fitted flows labelled noise.
    pub noise_fraction: f64,
    /// DBCV approximation of the clustering (hdbscan's `relative_validity_`; HDBSCAN only), when defined.
    pub dbcv: Option<f64>,
    /// Recall of the approximate neighbour graph the clustering was fitted on (`neighbors` approximate),
    /// measured on a sample; absent for exact fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbor_recall: Option<f64>,
    /// Severity thresholds.
    pub thresholds: Thresholds,
    /// What was chosen from the table's columns rather than given; `None` when everything was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<FamilyDefaults>,
    /// The embedding the clusterer was fitted on, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingSummary>,
}

/// The UMAP embedding a clusterer was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingSummary {
    /// Its parameters (the seed is the detector's).
    pub params: UmapParams,
    /// scikit-learn's trustworthiness of the map at 5 neighbours, over a seeded sample of the fitted rows
    /// (1 keeps every row's 5 nearest neighbours; umap-learn's maps of the reference shapes: 0.96–1.0).
    pub trustworthiness: Option<f64>,
    /// The rows of that sample.
    pub trustworthiness_rows: usize,
}

/// Rows of the sample the embedding's trustworthiness is measured on (exact: quadratic in the sample).
const TRUSTWORTHINESS_SAMPLE: usize = 2000;

/// The parts of a detector chosen for the log family its columns name: a preparation or signals left
/// unset in [`DetectorParams`] are the family's, as measured for detection (see
/// [`PrepParams::detection`] and [`crate::scoring::default_signals`]). Host and pair rows have one
/// preparation and one set of signals whatever the family ([`entity_prep`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyDefaults {
    /// The family the defaults are for (`generic` when the columns name none).
    pub family: outflow_io::Family,
    /// Whether the preparation is the family's.
    pub preparation: bool,
    /// Whether the signals fused into the score are the family's.
    pub signals: bool,
}

/// A fitted detector: preparation, clustering, scorer and thresholds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detector {
    pub(crate) params: DetectorParams,
    pub(crate) schema: Schema,
    pub(crate) prep: Prep,
    pub(crate) clustering: Clustering,
    pub(crate) scorer: Scorer,
    pub(crate) summary: FitSummary,
    /// Median of each unscaled feature over the training rows: the "typical value" reasons compare to.
    #[serde(default)]
    pub(crate) typical: Vec<f64>,
    /// The embedding the clusterer works in, when [`DetectorParams::embed`] asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) embedding: Option<Umap>,
}

/// Seconds spent in each stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Cleaning, encoding, selection, scaling.
    pub prepare: f64,
    /// The clustering.
    pub cluster: f64,
    /// Scorers and thresholds.
    pub score: f64,
    /// Scoring the rows that were not fitted.
    pub predict: f64,
}

/// The outcome of [`DetectorParams::fit`].
#[derive(Debug, Clone)]
pub struct DetectorFit {
    /// The fitted detector.
    pub detector: Detector,
    /// One result per input record.
    pub flows: Vec<FlowScore>,
    /// Figures of the fit.
    pub summary: FitSummary,
    /// What the preparation did.
    pub prep_report: FitReport,
    /// The prepared training table (feature matrices, kept rows, carried label columns).
    pub prepared: Prepared,
    /// Time per stage.
    pub timings: Timings,
    /// The host or pair rows the detector was fitted on (host and pair levels).
    pub entities: Option<Entities>,
}

/// Cluster, membership, fused score and the evidence it stands out in, of one prepared row.
type RowScore = (i64, f64, f64, Vec<Evidence>);
/// The [`RowScore`] of each prepared row.
type RowScores = Vec<RowScore>;

impl DetectorParams {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if let Some(p) = &self.prep {
            p.validate()?;
        }
        self.scoring.validate()?;
        self.aggregation.validate()?;
        if self.max_fit_rows < 2 {
            return Err(InputError::param("max_fit_rows", "must be at least 2").into());
        }
        if self.max_score_rows < self.max_fit_rows {
            let why = format!("must be at least max_fit_rows ({}), got {}", self.max_fit_rows, self.max_score_rows);
            return Err(InputError::param("max_score_rows", why).into());
        }
        if !matches!(self.clustering, Algorithm::Hdbscan(_)) && self.scoring.signals.contains(&Signal::Glosh) {
            return Err(InputError::param(
                "scoring.signals",
                format!("the glosh signal needs the hdbscan clusterer (this detector uses {})", self.clustering.name()),
            )
            .into());
        }
        // `resolve` raises a size below 2 to 2; a 1 given by the user is an error, not a silent change.
        if let Algorithm::Hdbscan(p) = &self.clustering
            && p.min_cluster_size == 1
        {
            return Err(InputError::param("min_cluster_size", "must be at least 2 (or 0: from the data), got 1").into());
        }
        self.resolve(self.max_fit_rows).validate()?;
        Ok(())
    }

    /// The clusterer's parameters for `n` fitted rows: HDBSCAN's sizes resolved (see
    /// [`DetectorParams`]), the seed of the randomised algorithms set.
    pub fn resolve(&self, n: usize) -> Algorithm {
        match &self.clustering {
            Algorithm::Hdbscan(p) => {
                let auto = ((n as f64 * 0.01).round() as usize).clamp(10, 1000);
                let mcs = if p.min_cluster_size == 0 { auto } else { p.min_cluster_size };
                let mcs = mcs.min(n).max(2);
                // Unset, `min_samples` is the detector's 10, at most `min_cluster_size`; a value given is
                // kept (hdbscan and scikit-learn take one above `min_cluster_size`), at most the rows.
                let unset = p.min_samples.is_none() && p.min_samples_convention == MinSamplesConvention::Sklearn;
                let min_samples = if unset { Some(DEFAULT_MIN_SAMPLES.min(mcs)) } else { p.min_samples };
                let p = HdbscanParams { min_cluster_size: mcs, min_samples, ..p.clone() }.in_sklearn_convention();
                let ms = p.effective_min_samples().min(n);
                // Exact fits have no randomness: their settings stay without a seed.
                let seed = if p.neighbors == outflow_cluster::Neighbors::Exact { p.seed } else { self.seed };
                Algorithm::Hdbscan(HdbscanParams { min_samples: Some(ms), seed, ..p })
            }
            other => other.clone().with_seed(self.seed),
        }
    }

    /// Fits on a flow table and scores every record of it (at the host and pair levels: every row of its
    /// aggregation, kept in [`DetectorFit::entities`]).
    pub fn fit(&self, table: &Table) -> Result<DetectorFit> {
        self.validate()?;
        if self.level.is_entity() {
            return self.fit_entities(aggregate(table, &self.aggregation_with_labels(), self.level)?);
        }
        self.fit_rows(table)
    }

    /// Fits on host or pair rows aggregated beforehand — e.g. by an [`outflow_aggregate::Aggregator`] fed
    /// a log batch by batch, so that its flows are never in memory together. The rows must be at the
    /// detector's level and aggregated with its [`DetectorParams::aggregation_with_labels`] (a saved
    /// model aggregates new logs that way).
    pub fn fit_entities(&self, entities: Entities) -> Result<DetectorFit> {
        self.validate()?;
        if entities.level() != self.level {
            let why = format!("the rows are {} rows; the detector's level is {}", entities.level(), self.level);
            return Err(InputError::param("level", why).into());
        }
        if entities.params() != &self.aggregation_with_labels() {
            let why = "the rows were aggregated with other settings than the detector's".to_owned();
            return Err(InputError::param("aggregation", why).into());
        }
        let mut fit = self.fit_rows(entities.table())?;
        fit.entities = Some(entities);
        Ok(fit)
    }

    /// Fits on the rows of a table as they are.
    fn fit_rows(&self, table: &Table) -> Result<DetectorFit> {
        if table.n_rows() == 0 {
            return Err(InputError::Empty { rows: 0, cols: table.n_cols() }.into());
        }
        let t0 = Instant::now();
        let (prep_params, pf) = self.prepare(table)?;
        let x = pf.output.model_input();
        // The clustering's sample is drawn inside the scorers' so that its rows keep their fitted
        // memberships.
        let score_rows = sample_indices(x.nrows(), self.max_score_rows, self.seed);
        let fit_rows: Vec<usize> =
            sample_indices(score_rows.len(), self.max_fit_rows, self.seed).into_iter().map(|i| score_rows[i]).collect();
        let x_fit: Array2<f64> = x.select(Axis(0), &fit_rows);
        let x_score: Option<Array2<f64>> = (score_rows.len() < x.nrows()).then(|| x.select(Axis(0), &score_rows));
        let x_score = x_score.as_ref().map_or(x.view(), |m| m.view());
        let prepare = t0.elapsed().as_secs_f64();

        let t1 = Instant::now();
        let embedding = match &self.embed {
            Some(p) => Some(UmapParams { seed: self.seed, ..p.clone() }.fit(x_fit.view())?),
            None => None,
        };
        let (algorithm, model, dbcv) = self.cluster(embedding.as_ref().map_or(x_fit.view(), |u| u.embedding.view()))?;
        let memberships = memberships_of(&model, embedding.as_ref(), x_score, &score_rows, &fit_rows)?;
        let embedding_summary = embedding.as_ref().map(|u| self.embedding_summary(u, x_fit.view()));
        let cluster = t1.elapsed().as_secs_f64();

        let t2 = Instant::now();
        let entities = if self.level.is_entity() {
            let rows = table_rows(&pf.output.rows, &score_rows);
            let (values, features) = evidence_columns(table, &rows);
            let evidence = self
                .scoring
                .evidence
                .iter()
                .filter_map(|e| e.values(values.view(), &features, crate::evidence::RULES).map(|v| (*e, v)))
                .collect();
            EntityContext {
                evidence,
                groups: source_windows(table, &rows, self.level),
                rows: entity_windows(table, &rows),
            }
        } else {
            EntityContext::default()
        };
        let scoring = self.scoring.resolved(self.level, prep_params.preset);
        let rarity = cluster_rarity(model.labels());
        let (scorer, fused) = Scorer::fit(&scoring, x_score, &memberships, rarity, self.seed, entities)?;
        let scores: Vec<f64> = fused.iter().map(|f| f.0).collect();
        let thresholds = Thresholds {
            moderate: stats::percentile(&scores, scoring.moderate_percentile),
            severe: stats::percentile(&scores, scoring.severe_percentile),
        };
        let score = t2.elapsed().as_secs_f64();

        let summary = FitSummary {
            rows_read: table.n_rows(),
            rows_kept: x.nrows(),
            rows_fitted: fit_rows.len(),
            rows_fitted_scorers: score_rows.len(),
            features: pf.output.model_input_names(),
            clustering: algorithm,
            clusters: cluster_sizes(&model),
            noise_fraction: model.noise_fraction(),
            dbcv,
            neighbor_recall: model.neighbor_recall(),
            thresholds,
            defaults: (self.prep.is_none() || self.scoring.signals.is_empty()).then_some(FamilyDefaults {
                family: prep_params.preset,
                preparation: self.prep.is_none(),
                signals: self.scoring.signals.is_empty(),
            }),
            embedding: embedding_summary,
        };
        let t3 = Instant::now();
        let fitted: RowScores =
            fused.into_iter().zip(&memberships).map(|((s, e), m)| (m.label, m.probability, s, e)).collect();
        let detector = Detector {
            params: DetectorParams {
                prep: Some(prep_params),
                scoring,
                aggregation: self.aggregation_with_labels(),
                ..self.clone()
            },
            schema: table.schema(),
            prep: pf.prep.clone(),
            clustering: model.slim(),
            scorer,
            summary: summary.clone(),
            typical: crate::reasons::typical_values(&pf.output.unscaled),
            embedding,
        };
        let per_kept = detector.complete(table, &pf.output, &score_rows, fitted)?;
        let predict = t3.elapsed().as_secs_f64();
        let flows = assemble(&pf.output.rows, &per_kept, &summary.thresholds);
        Ok(DetectorFit {
            detector,
            flows,
            summary,
            prep_report: pf.report,
            prepared: pf.output,
            timings: Timings { prepare, cluster, score, predict },
            entities: None,
        })
    }

    /// The aggregation with [`DetectorParams::labels`] joined per host and pair: how the detector's
    /// host and pair rows are made.
    pub fn aggregation_with_labels(&self) -> AggregateParams {
        AggregateParams { labels: joined(&self.labels, &self.aggregation.labels), ..self.aggregation.clone() }
    }

    /// The preparation a fit on `table` uses: [`DetectorParams::prep`], else the family's detection
    /// preparation picked from the columns (at the host and pair levels [`entity_prep`]), with
    /// [`DetectorParams::labels`] and [`DetectorParams::drop_columns`] added.
    pub fn preparation(&self, table: &Table) -> PrepParams {
        let mut params = self.prep.clone().unwrap_or_else(|| match self.level {
            Level::Flow => PrepParams::auto_detection(table),
            _ => entity_prep(),
        });
        params.labels = joined(&self.labels, &params.labels);
        params.drop_columns = joined(&self.drop_columns, &params.drop_columns);
        params
    }

    /// Fits the preparation ([`DetectorParams::preparation`]).
    fn prepare(&self, table: &Table) -> Result<(PrepParams, PrepFit)> {
        let params = self.preparation(table);
        let pf = params.fit(table)?;
        let n_kept = pf.output.kept.len();
        if n_kept < 2 {
            let what =
                format!("a detector ({n_kept} of {} {} rows survive preparation)", table.n_rows(), self.level.name());
            return Err(InputError::too_few_rows(what, 2, n_kept).into());
        }
        Ok((params, pf))
    }

    /// The embedding's parameters and its trustworthiness on a sample of the fitted rows `x`.
    fn embedding_summary(&self, u: &Umap, x: ArrayView2<'_, f64>) -> EmbeddingSummary {
        let rows = sample_indices(x.nrows(), TRUSTWORTHINESS_SAMPLE, self.seed);
        let (xs, zs) = (x.select(Axis(0), &rows), u.embedding.select(Axis(0), &rows));
        let k = 5.min(rows.len().saturating_sub(1) / 2);
        let trustworthiness = (k > 0).then(|| outflow_embed::trustworthiness(xs.view(), zs.view(), k).ok()).flatten();
        EmbeddingSummary { params: u.params().clone(), trustworthiness, trustworthiness_rows: rows.len() }
    }

    /// Fits the clusterer on the sampled rows; with HDBSCAN also its relative validity. The parameters
    /// returned are those used, DBSCAN's automatic radius included.
    fn cluster(&self, x: ArrayView2<'_, f64>) -> Result<(Algorithm, Clustering, Option<f64>)> {
        let mut algorithm = self.resolve(x.nrows());
        let model = algorithm.fit(x)?;
        if let (Algorithm::Dbscan(p), Clustering::Dbscan(m)) = (&mut algorithm, &model) {
            p.eps = outflow_cluster::Eps::Value(m.eps());
        }
        // Without a cluster there is nothing to validate: not a score of 0.
        let any_cluster = model.labels().iter().any(|&l| l >= 0);
        let dbcv = model
            .as_hdbscan()
            .filter(|_| any_cluster)
            .and_then(|h| outflow_validate::relative_validity(h).ok())
            .filter(|v| v.is_finite());
        Ok((algorithm, model, dbcv))
    }
}

/// The memberships of the rows `score_rows` (ascending, holding the clustering's `fit_rows`) whose
/// features are `x`: the fitted rows' from the fit, the others assigned like new flows.
fn memberships_of(
    model: &Clustering,
    embedding: Option<&Umap>,
    x: ArrayView2<'_, f64>,
    score_rows: &[usize],
    fit_rows: &[usize],
) -> Result<Vec<Membership>> {
    let labels = model.labels();
    let probabilities = model.probabilities();
    let glosh = model.as_hdbscan().map(|h| h.outlier_scores());
    let mut out: Vec<Option<Membership>> = vec![None; score_rows.len()];
    let mut at = 0;
    for (j, &r) in fit_rows.iter().enumerate() {
        at += score_rows[at..].partition_point(|&s| s < r);
        out[at] =
            Some(Membership { label: labels[j], probability: probabilities[j], outlier_score: glosh.map(|g| g[j]) });
    }
    let rest: Vec<usize> = (0..out.len()).filter(|&i| out[i].is_none()).collect();
    if !rest.is_empty() {
        let rows = x.select(Axis(0), &rest);
        let assigned = match embedding {
            Some(u) => model.assign(u.transform(rows.view())?.view())?,
            None => model.assign(rows.view())?,
        };
        for (i, m) in rest.into_iter().zip(assigned) {
            out[i] = Some(m);
        }
    }
    Ok(out.into_iter().map(|m| m.expect("every row has a membership")).collect())
}

/// Sizes (and HDBSCAN persistences) of the clusters of the fitted rows.
fn cluster_sizes(model: &Clustering) -> Vec<ClusterSize> {
    let mut sizes = vec![0usize; model.n_clusters()];
    for &l in model.labels().iter().filter(|&&l| l >= 0) {
        sizes[l as usize] += 1;
    }
    let persistence = model.as_hdbscan().map(|h| h.persistence());
    sizes
        .iter()
        .enumerate()
        .map(|(k, &size)| ClusterSize { label: k as i64, size, persistence: persistence.map(|p| p[k]) })
        .collect()
}

impl DetectorFit {
    /// Why each input row scored as it did (see [`Detector::reasons`]).
    pub fn reasons(&self, k: usize) -> Vec<String> {
        self.detector.reasons(&self.prepared, k)
    }

    /// Explains the clustering of the scored training flows: a surrogate random forest on the cluster
    /// labels (fidelity, Gini and permutation importance, TreeSHAP), per-cluster profiles on the
    /// unscaled features, and normal-vs-severe feature differences.
    pub fn explain(&self, params: &outflow_explain::ExplainParams) -> Result<outflow_explain::Explanation> {
        let kept = &self.prepared.kept;
        let labels: Vec<i64> = kept.iter().map(|&r| self.flows[r].cluster.expect("kept rows are scored")).collect();
        let scores: Vec<f64> = kept.iter().map(|&r| self.flows[r].outlier_score.expect("scored")).collect();
        Ok(outflow_explain::explain(
            self.prepared.unscaled.view(),
            &self.prepared.features,
            &labels,
            Some(&scores),
            params,
        )?)
    }
}

/// One result per input row: kept rows from their scores, the others unscored with the reason.
/// The table rows of some prepared (kept) rows.
/// For pair rows, the source and window of each of `rows` as a group number (empty for other levels).
fn source_windows(table: &Table, rows: &[usize], level: Level) -> Vec<usize> {
    let (Level::Pair, Some(src), Some(window)) = (level, table.column("src"), table.column("window_start")) else {
        return Vec::new();
    };
    let mut ids = std::collections::HashMap::new();
    rows.iter()
        .map(|&r| {
            let n = ids.len();
            *ids.entry((src.value(r).to_string(), window.value(r).to_string())).or_insert(n)
        })
        .collect()
}

/// The entity (host, or source and destination) and window start of some rows of a host or pair table,
/// against which the model's rank is also measured (`beyond_own_past` in `scoring.rs`) and by which the
/// evidence ranks leave a row's own entity out (`OwnTop`); empty without the key columns.
fn entity_windows(table: &Table, rows: &[usize]) -> EntityRows {
    let (Some(src), Some(window)) = (table.column("src"), table.column("window_start")) else {
        return EntityRows::default();
    };
    let dst = table.column("dst");
    let mut ids = std::collections::HashMap::new();
    let mut keys = Vec::new();
    let windows = rows
        .iter()
        .map(|&r| {
            let key = match dst {
                Some(d) => format!("{} {}", src.value(r), d.value(r)),
                None => src.value(r).to_string(),
            };
            let id = match ids.get(&key) {
                Some(&id) => id,
                None => {
                    ids.insert(key.clone(), keys.len());
                    keys.push(key);
                    keys.len() - 1
                }
            };
            (id, window.f64_at(r).unwrap_or(f64::NAN))
        })
        .collect();
    EntityRows { windows, keys, prior: Vec::new() }
}

fn table_rows(status: &[RowStatus], kept: &[usize]) -> Vec<usize> {
    let mut row_of = vec![0; status.len()];
    for (row, st) in status.iter().enumerate() {
        if let RowStatus::Kept(k) = st {
            row_of[*k] = row;
        }
    }
    kept.iter().map(|&k| row_of[k]).collect()
}

fn assemble(rows: &[RowStatus], per_kept: &[RowScore], th: &Thresholds) -> Vec<FlowScore> {
    use rayon::prelude::*;
    rows.par_iter()
        .with_min_len(4096)
        .enumerate()
        .map(|(row, st)| match st {
            RowStatus::Kept(k) => {
                let (cluster, probability, score, ref evidence) = per_kept[*k];
                let severity = th.severity(score);
                FlowScore {
                    row,
                    cluster: Some(cluster),
                    probability: Some(probability),
                    outlier_score: Some(score),
                    severity,
                    reason: None,
                    evidence: if severity.is_anomaly() { evidence.clone() } else { Vec::new() },
                }
            }
            RowStatus::Rejected(r) => FlowScore::unscored(row, r.to_string()),
        })
        .collect()
}

/// The value of each row's distinct row (`of_row`, as [`unique_rows`] maps them).
fn expand<T: Clone>(of_row: &[u32], distinct: &[T]) -> Vec<T> {
    of_row.iter().map(|k| distinct[*k as usize].clone()).collect()
}

/// What [`Detector::score_log`] returns.
#[derive(Debug, Clone)]
pub struct ScoredLog {
    /// The host or pair rows of the log (host and pair levels).
    pub entities: Option<Entities>,
    /// One result per row: per flow at the flow level, else per row of `entities`.
    pub scores: Vec<FlowScore>,
    /// Why each host or pair row scored as it did (see [`Detector::reasons`]; empty strings for unscored
    /// rows); empty at the flow level, where [`Detector::reasons`] gives them on demand.
    pub reasons: Vec<String>,
    /// The model's upper-tail probability of each host or pair row by entity and window, for scoring
    /// later windows after them ([`Detector::score_entities_after`]); empty for flows and for models
    /// that measure no own past.
    pub past: OwnPast,
}

/// Scores, reasons and model tails of a table's rows ([`Detector::score_rows`]).
type ScoredRows = (Vec<FlowScore>, Vec<String>, OwnPast);

impl Detector {
    /// Scores a flow log at the detector's level: flows directly, or the log's hosts or pairs after
    /// aggregating it as at fit time.
    pub fn score_log(&self, flows: &Table) -> Result<ScoredLog> {
        match self.params.level {
            Level::Flow => {
                let (scores, _, _) = self.score_rows(flows, false, None)?;
                Ok(ScoredLog { entities: None, scores, reasons: Vec::new(), past: OwnPast::new() })
            }
            level => self.score_entities(aggregate(flows, &self.params.aggregation, level)?),
        }
    }

    /// Scores host or pair rows aggregated beforehand (e.g. by an [`outflow_aggregate::Aggregator`] fed a
    /// log batch by batch), at the detector's level and with its aggregation settings.
    pub fn score_entities(&self, entities: Entities) -> Result<ScoredLog> {
        self.score_entities_with(entities, None)
    }

    /// Scores host or pair rows as [`Detector::score_entities`] does, measuring each row's model rank
    /// against the windows of its entity in `past` as well as those in `entities`: for rows scored one
    /// window at a time (a live watch), which have no earlier windows of their own. Carry
    /// [`ScoredLog::past`] into the next call.
    ///
    /// ```no_run
    /// use outflow::{Detector, OwnPast, read_table, ReadOptions};
    /// use outflow::aggregate::aggregate;
    /// let detector = Detector::load("hosts-model.json")?;
    /// let mut past = OwnPast::new();
    /// for hour in ["hour-00.log", "hour-01.log"] {
    ///     let flows = read_table(hour, &ReadOptions::default())?;
    ///     let rows = aggregate(&flows, &detector.params().aggregation, detector.level())?;
    ///     let scored = detector.score_entities_after(rows, &past)?;
    ///     past.absorb(scored.past);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn score_entities_after(&self, entities: Entities, past: &OwnPast) -> Result<ScoredLog> {
        self.score_entities_with(entities, Some(past))
    }

    fn score_entities_with(&self, entities: Entities, past: Option<&OwnPast>) -> Result<ScoredLog> {
        if entities.level() != self.params.level {
            let why = format!("the rows are {} rows; the model's level is {}", entities.level(), self.params.level);
            return Err(InputError::param("level", why).into());
        }
        if entities.params() != &self.params.aggregation {
            let why = "the rows were aggregated with other settings than the model's".to_owned();
            return Err(InputError::param("aggregation", why).into());
        }
        let (scores, reasons, past) = self.score_rows(entities.table(), true, past)?;
        Ok(ScoredLog { entities: Some(entities), scores, reasons, past })
    }

    /// Scores of a table's rows, with their reasons when asked (flow logs can be long and their outputs
    /// do not show reasons: those are computed on demand).
    fn score_rows(&self, rows: &Table, with_reasons: bool, past: Option<&OwnPast>) -> Result<ScoredRows> {
        let prepared = self.prep.transform(rows)?;
        let (scored, tails) = self.score_prepared(rows, &prepared, None, past)?;
        let scores = assemble(&prepared.rows, &scored, &self.summary.thresholds);
        let reasons = if with_reasons { self.reasons(&prepared, 3) } else { Vec::new() };
        Ok((scores, reasons, tails))
    }

    /// The level a row is at.
    pub fn level(&self) -> Level {
        self.params.level
    }

    /// For each input row of a prepared table, the `k` features farthest from their typical (median
    /// training) value on the scale the model saw, as `name=value (typical t)` joined by `; ` — empty
    /// for rows that were not scored or for a model saved before typical values were kept.
    pub fn reasons(&self, prepared: &Prepared, k: usize) -> Vec<String> {
        crate::reasons::reasons(prepared, &self.typical, k)
    }

    /// Scores the rows of a table as they are: flows for a flow-level detector, host or pair rows (as
    /// [`outflow_aggregate`] writes them) for the other levels. Columns are matched by name, as at fit
    /// time; extra columns are ignored.
    pub fn score(&self, table: &Table) -> Result<Vec<FlowScore>> {
        let prepared = self.prep.transform(table)?;
        let (scored, _) = self.score_prepared(table, &prepared, None, None)?;
        Ok(assemble(&prepared.rows, &scored, &self.summary.thresholds))
    }

    /// Scores rows this detector's preparation has already transformed (`detector.prep().transform(&t)`),
    /// as [`Detector::score`] does after that step: the in-memory part of batch scoring, for callers that
    /// prepare once and score several times or keep prepared batches. Models without evidence (every
    /// flow model): host and pair models read evidence columns of the table (use [`Detector::score`]).
    ///
    /// ```no_run
    /// use outflow::{Detector, ReadOptions, read_table};
    /// let detector = Detector::load("model.json")?;
    /// let prepared = detector.prep().transform(&read_table("conn.log", &ReadOptions::default())?)?;
    /// let scores = detector.score_prepared_rows(&prepared)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn score_prepared_rows(&self, prepared: &Prepared) -> Result<Vec<FlowScore>> {
        if !self.scorer.evidence().is_empty() {
            return Err(InputError::param(
                "level",
                "host and pair models read evidence columns of the table: score the table with Detector::score",
            )
            .into());
        }
        let none = Table::new(Vec::new())?;
        let (scored, _) = self.score_prepared(&none, prepared, None, None)?;
        Ok(assemble(&prepared.rows, &scored, &self.summary.thresholds))
    }

    /// Cluster, membership and fused score of the prepared rows of `table`: all of them, or those of
    /// `only`; host and pair rows measured against `past` as well as each other, and their model tails
    /// returned for later windows.
    pub(crate) fn score_prepared(
        &self,
        table: &Table,
        prepared: &Prepared,
        only: Option<&[usize]>,
        past: Option<&OwnPast>,
    ) -> Result<(RowScores, OwnPast)> {
        let pick = |m: &Array2<f64>| only.map(|rows| m.select(Axis(0), rows));
        let x = pick(prepared.model_input());
        let x = x.as_ref().unwrap_or(prepared.model_input()).view();
        if x.nrows() == 0 {
            return Ok((Vec::new(), OwnPast::new()));
        }
        let (memberships, raw, of_row) = self.memberships_and_signals(x)?;
        if self.scorer.evidence().is_empty() {
            // Flow models have no evidence and no entity history: a row's fused score is a function of
            // its signals alone, so distinct rows are fused once.
            let fused = self.scorer.fuse(&raw, &[], &EntityRows::default());
            let fused = match &of_row {
                Some(of_row) => expand(of_row, &fused),
                None => fused,
            };
            return Ok((
                memberships.iter().zip(fused).map(|(m, (s, e))| (m.label, m.probability, s, e)).collect(),
                OwnPast::new(),
            ));
        }
        let raw = match &of_row {
            Some(of_row) => raw.iter().map(|col| expand(of_row, col)).collect(),
            None => raw,
        };
        // The table rows are looked up only for host and pair models.
        let (values, features, history) = {
            let rows = match only {
                Some(rows) => table_rows(&prepared.rows, rows),
                None => table_rows(&prepared.rows, &(0..x.nrows()).collect::<Vec<_>>()),
            };
            let (values, features) = evidence_columns(table, &rows);
            let windows = entity_windows(table, &rows);
            (
                values,
                features,
                match past {
                    Some(past) => windows.after(past),
                    None => windows,
                },
            )
        };
        let evidence = self
            .scorer
            .evidence()
            .iter()
            .map(|e| {
                e.values(values.view(), &features, self.scorer.evidence_rules()).ok_or_else(|| {
                    InputError::param("evidence", format!("the rows lack the features of the {} evidence", e.name()))
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let fused = self.scorer.fuse(&raw, &evidence, &history);
        let tails = self.scorer.model_tails(&raw, &history);
        Ok((memberships.iter().zip(fused).map(|(m, (s, e))| (m.label, m.probability, s, e)).collect(), tails))
    }

    /// Cluster memberships (one per row) and raw signals of prepared rows. A membership depends on the
    /// row's values alone, so repeated rows (scans, retries: two thirds of KDD Cup 99's rows repeat
    /// another) are assigned once; so are the signals, unless one depends on the whole batch (ECOD,
    /// COPOD). Signals computed once per distinct row come with the distinct row of each row.
    fn memberships_and_signals(
        &self,
        x: ArrayView2<'_, f64>,
    ) -> Result<(Vec<Membership>, RawSignals, Option<Vec<u32>>)> {
        let score = |x: ArrayView2<'_, f64>| -> Result<(Vec<Membership>, RawSignals, Option<Vec<u32>>)> {
            let memberships = self.assign(x)?;
            let raw = self.scorer.raw_new(x, &memberships)?;
            Ok((memberships, raw, None))
        };
        let Some(unique) = unique_rows(x) else { return score(x) };
        let (u, of_row) = (unique.points.view(), &unique.of_row);
        // Errors would name rows of the unique matrix: every row is scored again for one naming the input's.
        let Ok(distinct) = self.assign(u) else { return score(x) };
        let memberships = expand(of_row, &distinct);
        if self.scorer.row_local() {
            let Ok(raw) = self.scorer.raw_new(u, &distinct) else { return score(x) };
            Ok((memberships, raw, Some(unique.of_row)))
        } else {
            let raw = self.scorer.raw_new(x, &memberships)?;
            Ok((memberships, raw, None))
        }
    }

    /// The clusters of prepared rows, through the embedding when the clusterer works in one.
    fn assign(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Membership>> {
        Ok(match &self.embedding {
            Some(u) => self.clustering.assign(u.transform(x)?.view())?,
            None => self.clustering.assign(x)?,
        })
    }

    /// The embedding the clusterer works in, when it has one.
    pub fn embedding(&self) -> Option<&Umap> {
        self.embedding.as_ref()
    }

    /// The scores of every prepared row: the scorers' training rows (`fit_rows`, ascending) from the fit, the
    /// others scored like new flows.
    fn complete(&self, table: &Table, prepared: &Prepared, fit_rows: &[usize], fitted: RowScores) -> Result<RowScores> {
        let n = prepared.model_input().nrows();
        if fit_rows.len() == n {
            return Ok(fitted);
        }
        let mut per_row: Vec<Option<RowScore>> = vec![None; n];
        for (&r, s) in fit_rows.iter().zip(fitted) {
            per_row[r] = Some(s);
        }
        let rest: Vec<usize> = (0..n).filter(|r| per_row[*r].is_none()).collect();
        let (scored, _) = self.score_prepared(table, prepared, Some(&rest), None)?;
        for (r, s) in rest.into_iter().zip(scored) {
            per_row[r] = Some(s);
        }
        Ok(per_row.into_iter().map(|s| s.expect("every row is scored")).collect())
    }

    /// Figures of the fit.
    pub fn summary(&self) -> &FitSummary {
        &self.summary
    }

    /// A model read from a file saved under evidence rules before 5 counted every failed first
    /// contact of a host (probed or polled): it aggregates new logs so.
    pub(crate) fn read_older_rules(&mut self) {
        if self.scorer.evidence_rules() < 5 {
            self.params.aggregation.max_probe_attempts = None;
        }
    }

    /// The parameters it was fitted with (the preparation resolved).
    pub fn params(&self) -> &DetectorParams {
        &self.params
    }

    /// The label columns its preparation carries (names or globs; never features): what a run's label
    /// evaluation reads.
    pub fn label_columns(&self) -> &[String] {
        self.params.prep.as_ref().map_or(&[], |p| &p.labels)
    }

    /// Names and types of the columns of the training table.
    pub fn input_schema(&self) -> &Schema {
        &self.schema
    }

    /// The columns a table must have to be scored.
    pub fn required_columns(&self) -> Vec<&str> {
        self.prep.required_columns()
    }

    /// The fitted preparation.
    pub fn prep(&self) -> &Prep {
        &self.prep
    }

    /// The fitted clustering (HDBSCAN without its MST and single-linkage tree; DBSCAN without its
    /// per-row diagnostics).
    pub fn clustering(&self) -> &Clustering {
        &self.clustering
    }

    /// The fitted scorer.
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outflow_io::{ReadOptions, read_table};

    /// Scoring the distinct rows once gives every row what scoring all of them gives, also for signals
    /// whose scores depend on the whole batch (ECOD, COPOD).
    #[test]
    fn repeated_rows_score_as_when_scored_one_by_one() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled");
        let table = read_table(path, &ReadOptions::default()).unwrap();
        for signals in ["iforest,pca", "ecod", "copod,iforest", "glosh,cluster_rarity"] {
            let signals = signals.split(',').map(|s| s.parse().unwrap()).collect();
            let params =
                DetectorParams { scoring: ScoringParams { signals, ..Default::default() }, ..Default::default() };
            let detector = params.fit(&table).unwrap().detector;
            let prepared = detector.prep.transform(&table).unwrap();
            let x = prepared.model_input().view();
            assert!(unique_rows(x).is_some(), "the sample repeats rows");
            let memberships = detector.clustering.assign(x).unwrap();
            let raw = detector.scorer.raw_new(x, &memberships).unwrap();
            let (m, r, of_row) = detector.memberships_and_signals(x).unwrap();
            let r: RawSignals = match of_row {
                Some(of_row) => r.iter().map(|col| expand(&of_row, col)).collect(),
                None => r,
            };
            assert_eq!((m, r), (memberships, raw.clone()), "{:?}", detector.scorer.params().signals);
            // Fused once per distinct row, as when every row is fused.
            let every_row = detector.scorer.fuse(&raw, &[], &EntityRows::default());
            let none = Table::new(Vec::new()).unwrap();
            let (scored, _) = detector.score_prepared(&none, &prepared, None, None).unwrap();
            assert!(scored.iter().zip(&every_row).all(|(s, f)| s.2 == f.0), "{:?}", detector.scorer.params().signals);
        }
    }
}
