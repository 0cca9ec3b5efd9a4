//! The main job: from a flow table to a clustering, an anomaly score and a severity per flow, and a
//! fitted detector that scores tomorrow's flows exactly the same way.

use std::time::Instant;

use ndarray::{Array2, ArrayView2, Axis};
use outflow_cluster::{ClusterModel, ClusterSelection, Fit, Hdbscan, HdbscanParams, Metric, Prediction};
use outflow_io::{Schema, Table};
use outflow_prep::{FitReport, FittedPrep, PrepConfig, Prepared, RowStatus};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{OutflowError, Result};
use crate::scoring::{FittedScorer, ScoringConfig, percentile};

/// HDBSCAN settings of a detector. Sizes left `None` are chosen from the number of rows fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusteringConfig {
    /// Smallest cluster; `None`: 1 % of the fitted rows, between 10 and 1,000.
    pub min_cluster_size: Option<usize>,
    /// Core-distance neighbourhood, the point included; `None`: 10 (at most the cluster size).
    pub min_samples: Option<usize>,
    /// Distance metric.
    pub metric: Metric,
    /// Excess of mass or leaf.
    pub selection: ClusterSelection,
    /// `cluster_selection_epsilon`.
    pub epsilon: f64,
    /// Whether one cluster may hold everything.
    pub allow_single_cluster: bool,
}

impl Default for ClusteringConfig {
    fn default() -> Self {
        ClusteringConfig {
            min_cluster_size: None,
            min_samples: None,
            metric: Metric::Euclidean,
            selection: ClusterSelection::Eom,
            epsilon: 0.0,
            allow_single_cluster: false,
        }
    }
}

impl ClusteringConfig {
    /// The HDBSCAN parameters for `n` fitted rows.
    pub fn params(&self, n: usize) -> HdbscanParams {
        let mcs = self.min_cluster_size.unwrap_or_else(|| ((n as f64 * 0.01).round() as usize).clamp(10, 1000));
        let mcs = mcs.min(n).max(2);
        let ms = self.min_samples.unwrap_or(10).min(mcs).min(n).max(1);
        HdbscanParams {
            min_cluster_size: mcs,
            min_samples: Some(ms),
            cluster_selection_epsilon: self.epsilon,
            cluster_selection: self.selection,
            allow_single_cluster: self.allow_single_cluster,
            metric: self.metric,
            ..HdbscanParams::default()
        }
    }
}

/// Everything a detector is fitted with.
///
/// ```no_run
/// use outflow::{DetectorConfig, read_table, ReadOptions};
/// let flows = read_table("conn.log", &ReadOptions::default()).unwrap();
/// let fit = DetectorConfig::default().fit(&flows).unwrap();
/// let severe = fit.flows.iter().filter(|f| f.severity == outflow::Severity::Severe).count();
/// println!("{severe} severe flows, {} clusters", fit.summary.clusters.len());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Feature preparation; `None` picks the preset from the table's columns.
    pub prep: Option<PrepConfig>,
    /// Clustering.
    pub clustering: ClusteringConfig,
    /// Anomaly score and severity thresholds.
    pub scoring: ScoringConfig,
    /// HDBSCAN and the scorers are fitted on at most this many flows (a seeded sample); the others are
    /// scored like new flows.
    pub max_fit_rows: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            prep: None,
            clustering: ClusteringConfig::default(),
            scoring: ScoringConfig::default(),
            max_fit_rows: 100_000,
            seed: 42,
        }
    }
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
    /// HDBSCAN cluster (−1 noise); `None` when unscored.
    pub cluster: Option<i64>,
    /// Membership strength in [0, 1].
    pub probability: Option<f64>,
    /// Fused anomaly score in [0, 1] (higher = more anomalous).
    pub outlier_score: Option<f64>,
    /// Severity.
    pub severity: Severity,
    /// Why the flow was not scored.
    pub reason: Option<String>,
}

impl FlowScore {
    fn unscored(row: usize, reason: String) -> FlowScore {
        FlowScore {
            row,
            cluster: None,
            probability: None,
            outlier_score: None,
            severity: Severity::Unscored,
            reason: Some(reason),
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
    /// Persistence (hdbscan's `cluster_persistence_`).
    pub persistence: f64,
}

/// Figures of a fit, kept in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    /// Input records.
    pub rows_read: usize,
    /// Records the preparation could score.
    pub rows_kept: usize,
    /// Records HDBSCAN and the scorers were fitted on.
    pub rows_fitted: usize,
    /// Feature names.
    pub features: Vec<String>,
    /// HDBSCAN parameters used.
    pub hdbscan: HdbscanParams,
    /// Clusters of the fitted flows.
    pub clusters: Vec<ClusterSize>,
    /// Share of fitted flows labelled noise.
    pub noise_fraction: f64,
    /// DBCV approximation of the clustering (hdbscan's `relative_validity_`), when defined.
    pub dbcv: Option<f64>,
    /// Severity thresholds.
    pub thresholds: Thresholds,
}

/// A fitted detector: preparation, clustering, scorer and thresholds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedDetector {
    pub(crate) config: DetectorConfig,
    pub(crate) schema: Schema,
    pub(crate) prep: FittedPrep,
    pub(crate) model: Hdbscan,
    pub(crate) scorer: FittedScorer,
    pub(crate) summary: FitSummary,
}

/// Seconds spent in each stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Cleaning, encoding, selection, scaling.
    pub prepare: f64,
    /// HDBSCAN.
    pub cluster: f64,
    /// Scorers and thresholds.
    pub score: f64,
    /// Scoring the rows that were not fitted.
    pub predict: f64,
}

/// The outcome of [`DetectorConfig::fit`].
#[derive(Debug, Clone)]
pub struct DetectorFit {
    /// The fitted detector.
    pub detector: FittedDetector,
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
}

impl DetectorConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if let Some(p) = &self.prep {
            p.validate()?;
        }
        self.scoring.validate()?;
        if self.max_fit_rows < 2 {
            return Err(OutflowError::Config("max_fit_rows must be at least 2".into()));
        }
        HdbscanParams {
            min_cluster_size: self.clustering.min_cluster_size.unwrap_or(2),
            ..self.clustering.params(1000)
        }
        .validate()?;
        Ok(())
    }

    /// Fits on a flow table and scores every record of it.
    pub fn fit(&self, table: &Table) -> Result<DetectorFit> {
        self.validate()?;
        if table.n_rows() == 0 {
            return Err(OutflowError::Empty("the table has no rows".into()));
        }
        let t0 = Instant::now();
        let prep_config = self.prep.clone().unwrap_or_else(|| PrepConfig::auto(table));
        let pf = prep_config.fit(table)?;
        let x = pf.output.model_input();
        let n_kept = x.nrows();
        if n_kept < 2 {
            return Err(OutflowError::Empty(format!("only {n_kept} of {} flows survive preparation", table.n_rows())));
        }
        let fit_rows: Vec<usize> = if n_kept > self.max_fit_rows {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            let mut s = sample(&mut rng, n_kept, self.max_fit_rows).into_vec();
            s.sort_unstable();
            s
        } else {
            (0..n_kept).collect()
        };
        let x_fit: Array2<f64> = x.select(Axis(0), &fit_rows);
        let prepare = t0.elapsed().as_secs_f64();

        let t1 = Instant::now();
        let params = self.clustering.params(fit_rows.len());
        let model = params.fit(x_fit.view())?;
        let dbcv = outflow_validate::relative_validity(&model).ok().filter(|v| v.is_finite());
        let cluster = t1.elapsed().as_secs_f64();

        let t2 = Instant::now();
        let (scorer, fused) = FittedScorer::fit(&self.scoring, x_fit.view(), &model, self.seed)?;
        let thresholds = Thresholds {
            moderate: percentile(&fused, self.scoring.moderate_percentile),
            severe: percentile(&fused, self.scoring.severe_percentile),
        };
        let score = t2.elapsed().as_secs_f64();

        let labels = model.labels();
        let mut sizes = vec![0usize; model.n_clusters()];
        for &l in labels.iter().filter(|&&l| l >= 0) {
            sizes[l as usize] += 1;
        }
        let clusters = sizes
            .iter()
            .enumerate()
            .map(|(k, &size)| ClusterSize { label: k as i64, size, persistence: model.persistence()[k] })
            .collect();
        let summary = FitSummary {
            rows_read: table.n_rows(),
            rows_kept: n_kept,
            rows_fitted: fit_rows.len(),
            features: pf.output.model_input_names(),
            hdbscan: params,
            clusters,
            noise_fraction: model.noise_fraction(),
            dbcv,
            thresholds,
        };

        // Results: fitted rows from the fit itself, the others predicted.
        let t3 = Instant::now();
        let mut per_kept: Vec<Option<(i64, f64, f64)>> = vec![None; n_kept];
        for (j, &r) in fit_rows.iter().enumerate() {
            per_kept[r] = Some((labels[j], model.probabilities()[j], fused[j]));
        }
        let detector = FittedDetector {
            config: DetectorConfig { prep: Some(prep_config), ..self.clone() },
            schema: table.schema(),
            prep: pf.prep.clone(),
            model: model.slim(),
            scorer,
            summary: summary.clone(),
        };
        if fit_rows.len() < n_kept {
            let rest: Vec<usize> = (0..n_kept).filter(|r| per_kept[*r].is_none()).collect();
            let x_rest = x.select(Axis(0), &rest);
            let scored = detector.score_matrix(x_rest.view())?;
            for (r, s) in rest.into_iter().zip(scored) {
                per_kept[r] = Some(s);
            }
        }
        let predict = t3.elapsed().as_secs_f64();
        let flows = assemble(&pf.output.rows, &per_kept, &detector.summary.thresholds);
        Ok(DetectorFit {
            detector,
            flows,
            summary,
            prep_report: pf.report,
            prepared: pf.output,
            timings: Timings { prepare, cluster, score, predict },
        })
    }
}

impl DetectorFit {
    /// Explains the clustering of the scored training flows: a surrogate random forest on the cluster
    /// labels (fidelity, Gini and permutation importance, TreeSHAP), per-cluster profiles on the
    /// unscaled features, and normal-vs-severe feature differences.
    pub fn explain(&self, params: &outflow_explain::ExplainParams) -> Result<outflow_explain::Explanation> {
        let kept = &self.prepared.kept;
        let labels: Vec<i64> = kept.iter().map(|&r| self.flows[r].cluster.expect("kept rows are scored")).collect();
        let scores: Vec<f64> = kept.iter().map(|&r| self.flows[r].outlier_score.expect("scored")).collect();
        outflow_explain::explain(self.prepared.unscaled.view(), &self.prepared.features, &labels, Some(&scores), params)
            .map_err(|e| OutflowError::Model(format!("explanation: {e}")))
    }
}

fn assemble(rows: &[RowStatus], per_kept: &[Option<(i64, f64, f64)>], th: &Thresholds) -> Vec<FlowScore> {
    rows.iter()
        .enumerate()
        .map(|(row, st)| match st {
            RowStatus::Kept(k) => {
                let (cluster, probability, score) = per_kept[*k].expect("every kept row is scored");
                FlowScore {
                    row,
                    cluster: Some(cluster),
                    probability: Some(probability),
                    outlier_score: Some(score),
                    severity: th.severity(score),
                    reason: None,
                }
            }
            RowStatus::Rejected(r) => FlowScore::unscored(row, r.to_string()),
        })
        .collect()
}

impl FittedDetector {
    /// Scores new flows (columns are matched by name, as at fit time; extra columns are ignored).
    pub fn score(&self, table: &Table) -> Result<Vec<FlowScore>> {
        let prepared = self.prep.transform(table)?;
        let x = prepared.model_input();
        let scored = if x.nrows() > 0 { self.score_matrix(x.view())? } else { Vec::new() };
        let per_kept: Vec<Option<(i64, f64, f64)>> = scored.into_iter().map(Some).collect();
        Ok(assemble(&prepared.rows, &per_kept, &self.summary.thresholds))
    }

    /// Cluster, probability and fused score of prepared feature rows.
    pub(crate) fn score_matrix(&self, x: ArrayView2<'_, f64>) -> Result<Vec<(i64, f64, f64)>> {
        let pred: Vec<Prediction> = self.model.predict_batch(x)?;
        let raw = self.scorer.raw_new(x, &pred)?;
        let fused = self.scorer.fuse(&raw);
        Ok(pred.iter().zip(fused).map(|(p, s)| (p.label, p.probability, s)).collect())
    }

    /// Figures of the fit.
    pub fn summary(&self) -> &FitSummary {
        &self.summary
    }

    /// The configuration it was fitted with (the preparation resolved).
    pub fn config(&self) -> &DetectorConfig {
        &self.config
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
    pub fn prep(&self) -> &FittedPrep {
        &self.prep
    }

    /// The fitted HDBSCAN model (without its MST and single-linkage tree).
    pub fn clustering(&self) -> &Hdbscan {
        &self.model
    }

    /// The fitted scorer.
    pub fn scorer(&self) -> &FittedScorer {
        &self.scorer
    }
}
