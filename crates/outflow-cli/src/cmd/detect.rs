//! `outflow detect`: the main job — fit a detector on a log, score every flow, write the run directory.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use outflow::{
    ClusteringConfig, DetectorConfig, FitSummary, FlowScore, RowFilter, Severity, TuneConfig, cluster_statistics,
    default_model_name, write_atomic,
};
use serde::Serialize;

use crate::input::{FormatArgs, read};
use crate::scores::{anomalies_csv, scores_csv};

/// Arguments of `outflow detect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The log (Zeek TSV / JSON, CSV, KDD; gzip allowed). Default: the built-in labeled sample.
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Run directory (created; must be empty unless --force). Default: outflow-run-<UTC time>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Search HDBSCAN's hyper-parameters by DBCV on a sample first (writes tuning.csv).
    #[arg(long)]
    pub tune: bool,
    /// Rows sampled for --tune.
    #[arg(long, default_value_t = 20_000)]
    pub tune_sample: usize,
    /// HDBSCAN min_cluster_size (default: 1 % of the fitted flows, 10–1,000).
    #[arg(long)]
    pub min_cluster_size: Option<usize>,
    /// HDBSCAN min_samples, the point itself included (default 10).
    #[arg(long)]
    pub min_samples: Option<usize>,
    /// Signals of the anomaly score, fused by mean rank (e.g. `iforest,pca`; also `glosh`, `cluster_rarity`
    /// and every detector of `outflow benchmark`). Default: the measured best (see README).
    #[arg(long, value_delimiter = ',')]
    pub signals: Vec<String>,
    /// Keep only flows of these services (Zeek `service`; repeatable).
    #[arg(long = "service")]
    pub services: Vec<String>,
    /// Keep only flows from or to these addresses (repeatable).
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// Fit on at most this many flows (seeded sample); the others are scored by the fitted model.
    #[arg(long, default_value_t = 100_000)]
    pub max_fit_rows: usize,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write into an existing, non-empty run directory (files of the same name are replaced).
    #[arg(long)]
    pub force: bool,
    /// No progress bars and no summary on stdout.
    #[arg(long)]
    pub quiet: bool,
    /// Also write report.html and figures/*.png (as `outflow report DIR`).
    #[arg(long)]
    pub report: bool,
}

#[derive(Serialize)]
struct Summary<'a> {
    input: &'a str,
    format: &'a str,
    model_file: String,
    rows_read: usize,
    rows_selected: usize,
    rows_kept: usize,
    rows_fitted: usize,
    rows_unscored: usize,
    features_kept: &'a [String],
    features_dropped: Vec<Dropped>,
    preset: String,
    clusters: &'a [outflow::ClusterSize],
    noise_percent: f64,
    dbcv: Option<f64>,
    thresholds: outflow::Thresholds,
    severity_counts: SeverityCounts,
    hdbscan: &'a outflow::cluster::HdbscanParams,
    signals: Vec<String>,
    tuned: bool,
    timings_seconds: Timings,
}

#[derive(Serialize)]
struct Dropped {
    name: String,
    step: String,
    reason: String,
}

#[derive(Serialize, Default)]
struct SeverityCounts {
    normal: usize,
    moderate: usize,
    severe: usize,
    unscored: usize,
}

#[derive(Serialize, Default)]
struct Timings {
    read: f64,
    tune: f64,
    prepare: f64,
    cluster: f64,
    score: f64,
    predict: f64,
    write: f64,
    total: f64,
}

fn spinner(show: bool, msg: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"));
    pb.set_message(msg.to_owned());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub fn run(a: Args) -> Result<()> {
    crate::input::set_threads(a.threads)?;
    let show = !a.quiet && std::io::stderr().is_terminal();
    let t_all = Instant::now();
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("outflow-run-{}", chrono_stamp())));
    check_dir(&out, a.force)?;

    let t = Instant::now();
    let pb = spinner(show, "reading");
    let (input, table, format) = read(a.input.as_ref(), &a.format)?;
    pb.finish_and_clear();
    let read_s = t.elapsed().as_secs_f64();
    if table.n_rows() == 0 {
        bail!("{}: no flows", input.name());
    }

    // Selection before analysis: flows not selected are reported as unscored.
    let filter = RowFilter { services: a.services.clone(), hosts: a.hosts.clone() };
    let excluded = filter.apply(&table)?;
    let selected: Vec<usize> = (0..table.n_rows()).filter(|&i| excluded[i].is_none()).collect();
    if selected.is_empty() {
        bail!("no flow matches the selection (--service {:?} --host {:?})", a.services, a.hosts);
    }
    let work = if selected.len() == table.n_rows() { table.clone() } else { table.take_rows(&selected) };

    let mut config = DetectorConfig { max_fit_rows: a.max_fit_rows, seed: a.seed, ..DetectorConfig::default() };
    config.clustering =
        ClusteringConfig { min_cluster_size: a.min_cluster_size, min_samples: a.min_samples, ..config.clustering };
    if !a.signals.is_empty() {
        config.scoring.signals = a.signals.iter().map(|s| s.parse()).collect::<std::result::Result<Vec<_>, _>>()?;
    }

    let mut tune_s = 0.0;
    let mut tuning = None;
    if a.tune {
        let t = Instant::now();
        let prep = outflow::prep::PrepConfig::auto(&work).fit(&work).context("preparing features for tuning")?;
        let tc = TuneConfig { sample: a.tune_sample, seed: a.seed, ..TuneConfig::default() };
        let total = tc.min_cluster_size_fractions.len() * tc.min_samples.len() * tc.metrics.len() * tc.epsilons.len();
        let bar = if show { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
        bar.set_style(ProgressStyle::with_template("tuning {bar:30} {pos}/{len} ({elapsed})").expect("template"));
        let result = tc.run(prep.output.model_input().view(), &|done, _| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        let n_fit = prep.output.kept.len().min(a.max_fit_rows);
        let chosen = result.clustering(n_fit);
        config.clustering = ClusteringConfig {
            min_cluster_size: a.min_cluster_size.or(chosen.min_cluster_size),
            min_samples: a.min_samples.or(chosen.min_samples),
            ..chosen
        };
        create_dir(&out)?;
        write_atomic(&out.join("tuning.csv"), crate::scores::tuning_csv(&result).as_bytes(), true)?;
        tuning = Some(result);
        tune_s = t.elapsed().as_secs_f64();
    }

    let pb = spinner(show, "fitting (prepare, HDBSCAN, scores)");
    let fit = config.fit(&work)?;
    pb.finish_and_clear();

    // Back to input records: unselected flows are unscored with the reason.
    let t = Instant::now();
    let flows: Vec<FlowScore> = if selected.len() == table.n_rows() {
        fit.flows.clone()
    } else {
        let mut all: Vec<FlowScore> = (0..table.n_rows())
            .map(|row| FlowScore {
                row,
                cluster: None,
                probability: None,
                outlier_score: None,
                severity: Severity::Unscored,
                reason: excluded[row].clone(),
            })
            .collect();
        for f in &fit.flows {
            let row = selected[f.row];
            all[row] = FlowScore { row, ..f.clone() };
        }
        all
    };
    let model_name = default_model_name();
    create_dir(&out)?;
    fit.detector.save(out.join(&model_name), true)?;
    write_atomic(&out.join("scores.csv"), scores_csv(&table, &flows)?.as_bytes(), true)?;
    write_atomic(&out.join("anomalies.csv"), anomalies_csv(&table, &flows)?.as_bytes(), true)?;
    write_atomic(&out.join("sample.csv"), crate::scores::sample_csv(&fit, a.seed)?.as_bytes(), true)?;
    let stats = cluster_statistics(&table, &flows);
    write_atomic(&out.join("clusters.json"), serde_json::to_string_pretty(&stats)?.as_bytes(), true)?;
    let mut counts = SeverityCounts::default();
    for f in &flows {
        match f.severity {
            Severity::Normal => counts.normal += 1,
            Severity::Moderate => counts.moderate += 1,
            Severity::Severe => counts.severe += 1,
            Severity::Unscored => counts.unscored += 1,
        }
    }
    let s: &FitSummary = &fit.summary;
    let mut features_dropped: Vec<Dropped> = Vec::new();
    for step in &fit.prep_report.steps {
        for c in &step.columns_removed {
            features_dropped.push(Dropped {
                name: c.column.clone(),
                step: step.step.name().into(),
                reason: c.reason.clone(),
            });
        }
    }
    for p in &fit.prep_report.pruned {
        features_dropped.push(Dropped { name: p.name.clone(), step: p.rule.name().into(), reason: p.reason.clone() });
    }
    let write_s = t.elapsed().as_secs_f64();
    let summary = Summary {
        input: input.name(),
        format: format.name(),
        model_file: model_name.clone(),
        rows_read: table.n_rows(),
        rows_selected: selected.len(),
        rows_kept: s.rows_kept,
        rows_fitted: s.rows_fitted,
        rows_unscored: counts.unscored,
        features_kept: &s.features,
        features_dropped,
        preset: fit.prep_report.preset.name().into(),
        clusters: &s.clusters,
        noise_percent: 100.0 * s.noise_fraction,
        dbcv: s.dbcv,
        thresholds: s.thresholds,
        severity_counts: counts,
        hdbscan: &s.hdbscan,
        signals: fit.detector.scorer().config().signals.iter().map(|s| s.name()).collect(),
        tuned: tuning.is_some(),
        timings_seconds: Timings {
            read: read_s,
            tune: tune_s,
            prepare: fit.timings.prepare,
            cluster: fit.timings.cluster,
            score: fit.timings.score,
            predict: fit.timings.predict,
            write: write_s,
            total: t_all.elapsed().as_secs_f64(),
        },
    };
    write_atomic(&out.join("summary.json"), serde_json::to_string_pretty(&summary)?.as_bytes(), true)?;
    if !a.quiet {
        print_summary(&summary, &out);
    }
    if a.report {
        crate::cmd::report::after_detect(&out, a.seed, a.quiet)?;
    }
    Ok(())
}

fn chrono_stamp() -> String {
    let name = default_model_name();
    // outflow-model-YYYYmmddTHHMMSSZ.json → the stamp.
    name.trim_start_matches("outflow-model-").trim_end_matches(".json").to_owned()
}

/// Checks, before any work, that the run directory can be written: an existing non-empty one needs
/// `force`. It is created only when there is something to write, so a failed run leaves nothing behind.
fn check_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a directory", dir.display());
        }
        let non_empty = std::fs::read_dir(dir)?.next().is_some();
        if non_empty && !force {
            bail!(
                "{} is not empty; pass --force to write into it (files of the same name are replaced)",
                dir.display()
            );
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn print_summary(s: &Summary<'_>, out: &Path) {
    let c = &s.severity_counts;
    println!(
        "{} ({}): {} flows read, {} scored, {} unscored",
        s.input, s.format, s.rows_read, s.rows_kept, s.rows_unscored
    );
    println!(
        "features: {} kept ({} preset), {} columns dropped",
        s.features_kept.len(),
        s.preset,
        s.features_dropped.len()
    );
    println!(
        "HDBSCAN (min_cluster_size {}, min_samples {}, {}): {} clusters, {:.1}% noise, DBCV {}",
        s.hdbscan.min_cluster_size,
        s.hdbscan.effective_min_samples(),
        s.hdbscan.metric,
        s.clusters.len(),
        s.noise_percent,
        s.dbcv.map_or("n/a".into(), |d| format!("{d:.3}"))
    );
    println!(
        "anomaly score ({}): {} severe (≥ {:.3}), {} moderate (≥ {:.3}), {} normal",
        s.signals.join(" + "),
        c.severe,
        s.thresholds.severe,
        c.moderate,
        s.thresholds.moderate,
        c.normal
    );
    println!(
        "wrote {}/{{scores.csv, anomalies.csv, clusters.json, summary.json, sample.csv, {}{}}} in {:.2}s",
        out.display(),
        s.model_file,
        if s.tuned { ", tuning.csv" } else { "" },
        s.timings_seconds.total
    );
}
