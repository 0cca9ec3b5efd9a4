//! Writing a run directory.

use std::path::Path;
use std::time::Instant;

use outflow_core::{sample_indices, write_atomic};
use outflow_io::{Family, Table};

use super::levels::{ALERTS, alerts_csv, entity_csv, flow_level_scores, level_links, level_summary};
use super::{
    ANOMALIES, ANOMALY_COLUMNS, CLUSTERS, DroppedFeature, RunDirError, RunSummary, RunTimings, SAMPLE, SAMPLE_COLUMNS,
    SAMPLE_ROWS, SCORE_COLUMNS, SCORES, SUMMARY, SeverityCounts, TUNING,
};
use crate::artifact::default_model_name;
use crate::detector::{DetectorFit, FlowScore, Severity};
use crate::error::{OutflowError, Result};
use crate::stats::cluster_statistics;
use crate::tune::Tuning;

/// Everything a run directory is written from.
#[derive(Debug, Clone, Copy)]
pub struct RunInput<'a> {
    /// Name of the input (a path, or the built-in sample's name).
    pub input: &'a str,
    /// Its format.
    pub format: &'a str,
    /// Every input record (empty for a host or pair run that streamed its input).
    pub table: &'a Table,
    /// Records read.
    pub rows_read: usize,
    /// One result per record of `table` (records left out of the selection unscored, with the reason).
    pub flows: &'a [FlowScore],
    /// Records selected for analysis.
    pub rows_selected: usize,
    /// The fit on the selected records: at the flow level, or the one host or pair level asked for.
    pub fit: &'a DetectorFit,
    /// Host and pair fits next to a flow-level `fit` (`--level all`): their tables, models and
    /// `alerts.csv` are written too.
    pub levels: &'a [DetectorFit],
    /// The hyper-parameter search, when there was one.
    pub tuning: Option<&'a Tuning>,
    /// Seed of the sample written to `sample.csv`.
    pub seed: u64,
    /// Seconds spent reading the input.
    pub read_seconds: f64,
    /// Seconds spent tuning.
    pub tune_seconds: f64,
    /// When the run started (for the total time).
    pub started: Instant,
}

/// Checks, before any work, that a run directory can be written: an existing non-empty one needs
/// `force`. Nothing is created: a run that fails leaves nothing behind.
pub fn check_run_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(RunDirError::invalid(dir, "exists and is not a directory").into());
        }
        let mut entries = std::fs::read_dir(dir).map_err(|source| OutflowError::File { path: dir.into(), source })?;
        if entries.next().is_some() && !force {
            return Err(RunDirError::NotEmpty(dir.to_owned()).into());
        }
    }
    Ok(())
}

impl super::RunDir {
    /// Writes a run directory (created when absent; files of the same name are replaced) and returns
    /// its summary. `summary.json` is written last.
    pub fn write(dir: &Path, run: &RunInput<'_>) -> Result<RunSummary> {
        let t = Instant::now();
        std::fs::create_dir_all(dir).map_err(|source| OutflowError::File { path: dir.to_owned(), source })?;
        let put = |name: &str, bytes: &[u8]| write_atomic(&dir.join(name), bytes, true);
        let mut levels = Vec::new();
        for fit in run.fit.entities.is_some().then_some(run.fit).into_iter().chain(run.levels) {
            let level = fit.detector.level();
            let model_file = default_model_name().replacen("outflow-model", &format!("outflow-{level}-model"), 1);
            fit.detector.save(dir.join(&model_file), true)?;
            put(level.table_name(), entity_csv(fit).as_bytes())?;
            levels.push(level_summary(fit, &model_file));
        }
        let model_file = if run.fit.entities.is_some() {
            levels[0].model_file.clone()
        } else {
            let model_file = default_model_name();
            run.fit.detector.save(dir.join(&model_file), true)?;
            let links = level_links(run.table, run.levels)?;
            let level_scores = flow_level_scores(run.levels, &links);
            put(SCORES, scores_csv_with(run.table, run.flows, &level_scores).as_bytes())?;
            put(ANOMALIES, anomalies_csv(run.table, run.flows).as_bytes())?;
            put(SAMPLE, sample_csv(run.fit, run.seed).as_bytes())?;
            let stats = cluster_statistics(run.table, run.flows);
            put(CLUSTERS, serde_json::to_string_pretty(&stats).expect("statistics serialise").as_bytes())?;
            if !run.levels.is_empty() {
                let reasons = with_unselected_reasons(run)?;
                put(ALERTS, alerts_csv(run.table, run.flows, &reasons, run.levels, &links).as_bytes())?;
            }
            model_file
        };
        if let Some(tuning) = run.tuning {
            put(TUNING, tuning_csv(tuning).as_bytes())?;
        }
        let mut summary = summary(run, model_file);
        summary.level = run.fit.detector.level();
        summary.levels = levels;
        summary.timings_seconds.write = t.elapsed().as_secs_f64();
        summary.timings_seconds.total = run.started.elapsed().as_secs_f64();
        put(SUMMARY, serde_json::to_string_pretty(&summary).expect("a summary serialises").as_bytes())?;
        Ok(summary)
    }
}

/// Reasons per input record of the flow fit (records outside a selection are prepared again for it).
fn with_unselected_reasons(run: &RunInput<'_>) -> Result<Vec<String>> {
    let fitted = run.fit.reasons(3);
    if fitted.len() == run.flows.len() {
        return Ok(fitted);
    }
    let prepared = run.fit.detector.prep().transform(run.table)?;
    Ok(run.fit.detector.reasons(&prepared, 3))
}

fn summary(run: &RunInput<'_>, model_file: String) -> RunSummary {
    let fit = run.fit;
    let s = &fit.summary;
    let mut counts = SeverityCounts::default();
    for f in run.flows {
        match f.severity {
            Severity::Normal => counts.normal += 1,
            Severity::Moderate => counts.moderate += 1,
            Severity::Severe => counts.severe += 1,
            Severity::Unscored => counts.unscored += 1,
        }
    }
    let mut features_dropped: Vec<DroppedFeature> = Vec::new();
    for step in &fit.prep_report.steps {
        for c in &step.columns_removed {
            features_dropped.push(DroppedFeature {
                name: c.column.clone(),
                step: step.step.name().into(),
                reason: c.reason.clone(),
            });
        }
    }
    for p in &fit.prep_report.pruned {
        features_dropped.push(DroppedFeature {
            name: p.name.clone(),
            step: p.rule.name().into(),
            reason: p.reason.clone(),
        });
    }
    RunSummary {
        input: run.input.to_owned(),
        format: run.format.to_owned(),
        model_file,
        rows_read: run.rows_read,
        rows_selected: run.rows_selected,
        rows_kept: s.rows_kept,
        rows_fitted: s.rows_fitted,
        rows_unscored: counts.unscored,
        features_kept: s.features.clone(),
        features_dropped,
        preset: fit.prep_report.preset.name().into(),
        clusters: s.clusters.clone(),
        noise_percent: 100.0 * s.noise_fraction,
        dbcv: s.dbcv,
        thresholds: s.thresholds,
        severity_counts: counts,
        clustering: s.clustering.clone(),
        signals: fit.detector.scorer().params().signals.iter().map(|s| s.name()).collect(),
        tuned: run.tuning.is_some(),
        timings_seconds: RunTimings {
            read: run.read_seconds,
            tune: run.tune_seconds,
            prepare: fit.timings.prepare,
            cluster: fit.timings.cluster,
            score: fit.timings.score,
            predict: fit.timings.predict,
            write: 0.0,
            total: 0.0,
        },
        level: outflow_aggregate::Level::Flow,
        levels: Vec::new(),
        labels: match &fit.entities {
            Some(e) => super::label_evaluation(e.table(), run.flows),
            None => super::label_evaluation(run.table, run.flows),
        },
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

pub(crate) fn csv_text(rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("records of text")
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// `scores.csv`: `row,cluster,probability,outlier_score,severity,reason,<identifying columns>` for every
/// record (the columns every log family shows next to a score — `outflow_io::Family::shown_columns` —
/// that the table has).
pub fn scores_csv(table: &Table, flows: &[FlowScore]) -> String {
    scores_csv_with(table, flows, &[])
}

/// [`scores_csv`] with further numeric columns after the score columns (the host and pair scores of
/// each flow in a `--level all` run).
pub fn scores_csv_with(table: &Table, flows: &[FlowScore], extra: &[(String, Vec<Option<f64>>)]) -> String {
    let ids: Vec<&str> = Family::shown_columns().into_iter().filter(|c| table.column(c).is_some()).collect();
    let header = strings(&SCORE_COLUMNS).into_iter().chain(extra.iter().map(|(n, _)| n.clone())).chain(strings(&ids));
    let records = flows.iter().map(|f| {
        let mut rec = vec![
            f.row.to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
            opt(f.outlier_score),
            f.severity.name().to_string(),
            f.reason.clone().unwrap_or_default(),
        ];
        rec.extend(extra.iter().map(|(_, v)| opt(v[f.row])));
        rec.extend(ids.iter().map(|c| table.column(c).expect("present").value(f.row).to_string()));
        rec
    });
    csv_text(std::iter::once(header.collect()).chain(records))
}

/// `anomalies.csv`: the moderate and severe records with every original column, highest score first.
pub fn anomalies_csv(table: &Table, flows: &[FlowScore]) -> String {
    let mut hits: Vec<&FlowScore> = flows.iter().filter(|f| f.severity.is_anomaly()).collect();
    hits.sort_by(|a, b| b.outlier_score.partial_cmp(&a.outlier_score).expect("finite").then(a.row.cmp(&b.row)));
    let header: Vec<String> =
        strings(&ANOMALY_COLUMNS).into_iter().chain(table.names().iter().map(|s| s.to_string())).collect();
    let records = hits.into_iter().map(|f| {
        let mut rec = vec![
            f.row.to_string(),
            opt(f.outlier_score),
            f.severity.name().to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
        ];
        rec.extend(table.columns().iter().map(|c| c.value(f.row).to_string()));
        rec
    });
    csv_text(std::iter::once(header).chain(records))
}

/// `sample.csv`: a seeded sample (≤ [`SAMPLE_ROWS`]) of the scored records with the features the model
/// saw, `row,cluster,probability,outlier_score,severity,<model input columns>`, ascending row.
pub fn sample_csv(fit: &DetectorFit, seed: u64) -> String {
    let prepared = &fit.prepared;
    let x = prepared.model_input();
    let header: Vec<String> = strings(&SAMPLE_COLUMNS).into_iter().chain(prepared.model_input_names()).collect();
    let records = sample_indices(x.nrows(), SAMPLE_ROWS, seed).into_iter().map(|k| {
        let row = prepared.kept[k];
        let f = &fit.flows[row];
        let mut rec = vec![
            row.to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
            opt(f.outlier_score),
            f.severity.name().to_string(),
        ];
        rec.extend(x.row(k).iter().map(|v| v.to_string()));
        rec
    });
    csv_text(std::iter::once(header).chain(records))
}

/// `tuning.csv`: the grid with its scores; `chosen` marks the selected configuration.
pub fn tuning_csv(t: &Tuning) -> String {
    let mut s = String::from(
        "min_cluster_size,min_samples,metric,cluster_selection_epsilon,n_clusters,noise_percent,dbcv,davies_bouldin,calinski_harabasz,chosen\n",
    );
    for (i, r) in t.results.iter().enumerate() {
        s.push_str(&format!(
            "{},{},{},{},{},{:.4},{},{},{},{}\n",
            r.min_cluster_size,
            r.min_samples,
            r.metric,
            r.epsilon,
            r.n_clusters,
            100.0 * r.noise_fraction,
            opt(r.dbcv),
            opt(r.davies_bouldin),
            opt(r.calinski_harabasz),
            i == t.chosen
        ));
    }
    s
}
