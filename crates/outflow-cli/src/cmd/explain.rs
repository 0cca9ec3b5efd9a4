//! `outflow explain`: why rows got their labels — a surrogate random forest, its fidelity, Gini and
//! permutation importances, exact TreeSHAP values, cluster profiles and normal-vs-severe feature shifts.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::explain::{
    ClassWeight, ExplainParams, ExplanationSummary, PermutationParams, ProfileColumns, RandomForestParams, Rule,
    SeverityComparison, explain, feature_matrix, labels_from_table, scores_from_table,
};
use outflow::io::{CsvOptions, Family, Format, ReadOptions, Table, read_input};
use serde::Serialize;

use crate::input::set_threads;

/// Arguments of `outflow explain`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rows' features, ideally the original (unscaled) values: a flow log (Zeek, CSV, KDD, Parquet;
    /// read as `detect` reads it) or any CSV. Every numeric column (float, int, bool, time, interval) is
    /// a feature except the log families' label and identifier columns (`label`, `attack_cat`, ports,
    /// times, row ids: never features, as in `detect`), an unset number is 0 (as in `detect`); text
    /// columns are ignored and listed.
    pub input: PathBuf,
    /// CSV with a `label` column (integer cluster ids, -1 = noise), one row per INPUT row, in the same
    /// order — e.g. the output of `outflow cluster`, or a run's scores.csv with `--label-column cluster`
    /// (rows without a label, the unscored flows, are left out and counted).
    pub labels: PathBuf,
    /// CSV with an `outlier_score` column (may be LABELS itself): adds normal (< p95) vs severe (≥ p99).
    #[arg(long)]
    pub scores: Option<PathBuf>,
    /// Label column of LABELS.
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// Score column of SCORES.
    #[arg(long, default_value = "outlier_score")]
    pub score_column: String,
    /// INPUT columns not to use as features (repeatable). When INPUT is LABELS itself, the label,
    /// `probability` and score columns are dropped automatically.
    #[arg(long = "drop")]
    pub drop: Vec<String>,
    /// Trees of the surrogate forest.
    #[arg(long, default_value_t = 100)]
    pub trees: usize,
    /// Maximum tree depth (0 = unlimited).
    #[arg(long, default_value_t = 7)]
    pub max_depth: usize,
    /// Smallest number of distinct rows in a leaf.
    #[arg(long, default_value_t = 1)]
    pub min_samples_leaf: usize,
    /// Class weights of the surrogate.
    #[arg(long, default_value = "balanced", value_parser = ["balanced", "none"])]
    pub class_weight: String,
    /// Seed of the forest and of the permutations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Shuffles per feature for permutation importance.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Payload / duration columns of the profile rules: those of a log family (`auto`: the family with
    /// the most of its columns among the features).
    #[arg(long, default_value = "auto", value_parser = family_or_auto())]
    pub profile_columns: String,
    /// JSON file with the interpretation rules (a list of {"when": ..., "label": ...}); default: noise → anomaly, median payload > 1 MB → high-volume transfer, median duration < 1 s → short flows.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Features shown per table in the text report.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Write SHAP values: `row,class,expected_value,<features...>`, one line per explained row (`row`: its
    /// place in INPUT) and class.
    #[arg(long)]
    pub shap_out: Option<PathBuf>,
    /// Write the forest as shap custom-tree JSON (`shap.TreeExplainer({"trees": [...]})`).
    #[arg(long)]
    pub export_forest: Option<PathBuf>,
    /// Overwrite output files that exist.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print JSON instead of a text report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    input: &'a str,
    labels: &'a str,
    scores: Option<&'a str>,
    ignored_columns: &'a [String],
    /// Rows without a label (a run's unscored flows), not explained.
    rows_without_label: usize,
    seconds: f64,
    #[serde(flatten)]
    summary: &'a ExplanationSummary,
}

fn read_csv_table(path: &Path) -> Result<Table> {
    let input = crate::input::open_input(path).with_context(|| format!("cannot open {}", crate::input::shown(path)))?;
    let opts = ReadOptions { format: Format::Csv, csv: CsvOptions::default(), columns: None };
    let (table, _) = read_input(&input, &opts).with_context(|| format!("cannot read {}", crate::input::shown(path)))?;
    Ok(table)
}

/// INPUT in any format `detect` reads (Zeek ASCII or JSON, CSV, KDD, Parquet, gzip).
fn read_table_any(path: &Path) -> Result<Table> {
    let input = crate::input::open_input(path).with_context(|| format!("cannot open {}", crate::input::shown(path)))?;
    let (table, _) = read_input(&input, &ReadOptions::default())
        .with_context(|| format!("cannot read {}", crate::input::shown(path)))?;
    Ok(table)
}

/// A log's unset numbers (Zeek's `-` where nothing was sent or measured) read as 0, as detection reads
/// them.
fn unset_as_zero(table: Table) -> Result<Table> {
    if table.columns().iter().all(|c| !c.dtype().is_numeric() || c.null_count() == 0) {
        return Ok(table);
    }
    let n = table.n_rows();
    let columns = table
        .columns()
        .iter()
        .map(|c| {
            if c.dtype().is_numeric() && c.null_count() > 0 {
                outflow::io::Column::from_f64_opt(c.name(), (0..n).map(|i| Some(c.f64_at(i).unwrap_or(0.0))))
            } else {
                c.clone()
            }
        })
        .collect();
    Ok(Table::new(columns)?)
}

/// A label or identifier column of a known log family (names compared trimmed, in any case).
fn is_label_or_identifier(name: &str) -> bool {
    let same = |n: &&str| outflow::io::family::same_name(name, n);
    Family::union(|c| c.labels).iter().any(same) || Family::union(|c| c.identifiers).iter().any(same)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    for out in [&a.shap_out, &a.export_forest].into_iter().flatten() {
        crate::input::check_output(out, a.force)?;
    }
    let t0 = Instant::now();
    let table = unset_as_zero(read_table_any(&a.input)?)?;
    let label_table = if same_file(&a.input, &a.labels) { table.clone() } else { read_csv_table(&a.labels)? };
    if label_table.n_rows() != table.n_rows() {
        bail!(
            "{} has {} rows and {} has {}: LABELS needs one row per INPUT row, in the same order",
            crate::input::shown(&a.labels),
            label_table.n_rows(),
            crate::input::shown(&a.input),
            table.n_rows()
        );
    }
    // Rows without a label (a run's unscored flows) are not explained.
    let labelled: Vec<usize> = match label_table.column(&a.label_column) {
        Some(c) => (0..c.len()).filter(|&i| !c.is_null(i)).collect(),
        None => (0..label_table.n_rows()).collect(),
    };
    let left_out = table.n_rows() - labelled.len();
    let (table, label_table) = if left_out > 0 {
        (table.take_rows(&labelled), label_table.take_rows(&labelled))
    } else {
        (table, label_table)
    };
    let labels = labels_from_table(&label_table, &a.label_column).with_context(|| crate::input::shown(&a.labels))?;
    let scores = match &a.scores {
        None => None,
        Some(p) => {
            let t = if same_file(p, &a.labels) { label_table.clone() } else { read_csv_table(p)?.take_rows(&labelled) };
            Some(scores_from_table(&t, &a.score_column).with_context(|| crate::input::shown(p))?)
        }
    };
    let mut drop: Vec<&str> = a.drop.iter().map(String::as_str).collect();
    if same_file(&a.input, &a.labels) {
        drop.extend([a.label_column.as_str(), "probability", a.score_column.as_str()]);
        drop.retain(|c| table.column(c).is_some());
    }
    // The log families' labels and identifiers are never features (a 0 / 1 label explains clusters too
    // well); they are listed with the ignored columns.
    let never: Vec<&str> = table
        .columns()
        .iter()
        .map(|c| c.name())
        .filter(|name| !drop.contains(name) && is_label_or_identifier(name))
        .collect();
    drop.extend(never.iter().copied());
    let mut features = feature_matrix(&table, &drop).with_context(|| crate::input::shown(&a.input))?;
    features.ignored.extend(never.iter().map(|s| s.to_string()));

    let mut params = ExplainParams {
        forest: RandomForestParams {
            n_estimators: a.trees,
            max_depth: (a.max_depth > 0).then_some(a.max_depth),
            min_samples_leaf: a.min_samples_leaf,
            class_weight: if a.class_weight == "none" { ClassWeight::Uniform } else { ClassWeight::Balanced },
            seed: a.seed,
            ..RandomForestParams::surrogate()
        },
        permutation: PermutationParams { n_repeats: a.repeats, seed: a.seed },
        ..Default::default()
    };
    params.profile.columns = match a.profile_columns.as_str() {
        "auto" => None,
        family => Some(ProfileColumns::of(family.parse::<Family>()?)),
    };
    if let Some(path) = &a.rules {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        params.profile.rules =
            serde_json::from_str::<Vec<Rule>>(&text).with_context(|| format!("{}: invalid rules", path.display()))?;
    }

    let e = explain(features.x.view(), &features.names, &labels, scores.as_deref(), &params)?;
    let summary = e.summary();
    if let Some(path) = &a.shap_out {
        write_streamed(path, |w| e.shap.write_csv_rows(w, &labelled))
            .with_context(|| format!("cannot write {}", crate::input::shown(path)))?;
    }
    if let Some(path) = &a.export_forest {
        let json = e.forest.to_shap_json(Some(&features.names))?;
        crate::input::write_output(path, json.as_bytes(), a.force)
            .with_context(|| format!("cannot write {}", crate::input::shown(path)))?;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let input = crate::input::shown(&a.input);
    let labels_name = crate::input::shown(&a.labels);
    let scores_name = a.scores.as_ref().map(|p| crate::input::shown(p));
    let report = Report {
        input: &input,
        labels: &labels_name,
        scores: scores_name.as_deref(),
        ignored_columns: &features.ignored,
        rows_without_label: left_out,
        seconds,
        summary: &summary,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, a.top);
    }
    Ok(())
}

/// Writes through a buffered temporary file next to `path`, renamed over it at the end.
fn write_streamed(path: &Path, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    if crate::input::location(path)?.is_remote() {
        let mut bytes = Vec::new();
        f(&mut bytes)?;
        return crate::input::write_output(path, &bytes, true);
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
        f(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}

fn num(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn print_text(r: &Report<'_>, top: usize) {
    let mut lines = Vec::new();
    surrogate_lines(&mut lines, r);
    importance_lines(&mut lines, r.summary, top);
    profile_lines(&mut lines, r.summary, top);
    if let Some(sev) = &r.summary.severity {
        severity_lines(&mut lines, sev);
    }
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

/// The input, the surrogate and its fidelity.
fn surrogate_lines(out: &mut Vec<String>, r: &Report<'_>) {
    let s = r.summary;
    let mut p = |line: String| out.push(line);
    p(format!(
        "{}: {} rows{}, {} features{}; labels {}: {} classes ({})",
        r.input,
        s.rows,
        if r.rows_without_label > 0 {
            format!(" ({} without a label left out)", r.rows_without_label)
        } else {
            String::new()
        },
        s.features.len(),
        if r.ignored_columns.is_empty() {
            String::new()
        } else {
            format!(" (not features: {})", r.ignored_columns.join(", "))
        },
        r.labels,
        s.classes.len(),
        s.classes.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    ));
    let f = &s.forest;
    p(format!(
        "surrogate: random forest, {} trees, max depth {}, {} class weights, seed {} ({:.2}s in total)",
        f.n_estimators,
        f.max_depth.map_or("unlimited".into(), |d| d.to_string()),
        if f.class_weight == ClassWeight::Balanced { "balanced" } else { "uniform" },
        f.seed,
        r.seconds
    ));
    p(format!(
        "fidelity (accuracy on the labels): {:.4}{}",
        s.fidelity.accuracy,
        if s.fidelity.accuracy > 0.9 { "" } else { "  — below 0.90: read the explanations with care" }
    ));
    p(String::new());
    p(s.fidelity.to_string());
}

/// Gini, permutation and mean |SHAP| per feature, most important first.
fn importance_lines(out: &mut Vec<String>, s: &ExplanationSummary, top: usize) {
    let mut p = |line: String| out.push(line);
    let w = s
        .features
        .iter()
        .take(top)
        .map(|f| f.feature.chars().count())
        .max()
        .unwrap_or(7)
        .clamp(7, crate::input::MAX_CELL_WIDTH);
    let classes: Vec<String> = s.classes.iter().map(|c| format!("|SHAP| {c}")).collect();
    let cw = classes.iter().map(String::len).max().unwrap_or(8).max(10);
    p(format!("feature importance (top {} of {} by Gini):", top.min(s.features.len()), s.features.len()));
    p(format!(
        "{:<w$}  {:>8}  {:>18}  {}",
        "feature",
        "gini",
        "permutation ± std",
        classes.iter().map(|c| format!("{c:>cw$}")).collect::<Vec<_>>().join("  ")
    ));
    for fs in s.features.iter().take(top) {
        p(format!(
            "{:<w$}  {:>8.4}  {:>18}  {}",
            fs.feature,
            fs.gini,
            format!("{:.4} ± {:.4}", fs.permutation_mean, fs.permutation_std),
            fs.mean_abs_shap.iter().map(|v| format!("{v:>cw$.4}")).collect::<Vec<_>>().join("  ")
        ));
    }
    p(format!(
        "SHAP expected values: {}",
        s.classes.iter().zip(&s.expected_value).map(|(c, v)| format!("{c}: {v:.4}")).collect::<Vec<_>>().join(", ")
    ));
    p(String::new());
}

/// Each cluster's size, payload, duration and interpretation, and the medians of the top features.
fn profile_lines(out: &mut Vec<String>, s: &ExplanationSummary, top: usize) {
    let mut p = |line: String| out.push(line);
    let prof = &s.profiles;
    let cols = &prof.columns;
    p(format!(
        "cluster profiles (medians of the features as given; payload = {}, duration = {}):",
        if cols.payload.is_empty() { "n/a".into() } else { cols.payload.join(" + ") },
        cols.duration.as_deref().unwrap_or("n/a")
    ));
    p(format!("{:>8}  {:>8}  {:>7}  {:>14}  {:>14}  interpretation", "label", "count", "share", "payload", "duration"));
    for c in &prof.clusters {
        p(format!(
            "{:>8}  {:>8}  {:>6.2}%  {:>14}  {:>14}  {}",
            c.label,
            c.count,
            100.0 * c.fraction,
            c.median_payload.map_or("-".into(), num),
            c.median_duration.map_or("-".into(), num),
            c.interpretation
        ));
    }
    let shown: Vec<usize> = s
        .features
        .iter()
        .take(top.min(7))
        .filter_map(|f| prof.feature_names.iter().position(|n| *n == f.feature))
        .collect();
    if !shown.is_empty() {
        p(format!("medians of the top {} features by Gini:", shown.len()));
        let lw = prof.clusters.iter().map(|c| c.label.to_string().len()).max().unwrap_or(1).max(12);
        let names: Vec<&str> = shown.iter().map(|&j| prof.feature_names[j].as_str()).collect();
        let nw = names.iter().map(|n| n.chars().count()).max().unwrap_or(7).max(7);
        p(format!(
            "{:<nw$}  {}",
            "feature",
            prof.clusters.iter().map(|c| format!("{:>lw$}", c.label)).collect::<Vec<_>>().join("  ")
        ));
        for (&j, name) in shown.iter().zip(&names) {
            p(format!(
                "{name:<nw$}  {}",
                prof.clusters.iter().map(|c| format!("{:>lw$}", num(c.medians[j]))).collect::<Vec<_>>().join("  ")
            ));
        }
    }
}

/// The features that differ most between normal and severe flows.
fn severity_lines(out: &mut Vec<String>, sev: &SeverityComparison) {
    let mut p = |line: String| out.push(line);
    p(String::new());
    p(format!(
        "normal (score < {}) vs severe (score ≥ {}): {} normal, {} moderate, {} severe",
        num(sev.normal_threshold),
        num(sev.severe_threshold),
        sev.n_normal,
        sev.n_moderate,
        sev.n_severe
    ));
    if sev.top.is_empty() {
        p("(one of the groups is empty: no comparison)".into());
    } else {
        let w =
            sev.top.iter().map(|t| t.feature.chars().count()).max().unwrap_or(7).clamp(7, crate::input::MAX_CELL_WIDTH);
        p(format!("{:<w$}  {:>14}  {:>14}  {:>14}  {:>8}", "feature", "normal mean", "severe mean", "Δ", "Δ/sd"));
        for t in &sev.top {
            p(format!(
                "{:<w$}  {:>14}  {:>14}  {:>14}  {:>8.2}",
                t.feature,
                num(t.normal_mean),
                num(t.severe_mean),
                num(t.difference),
                t.standardized
            ));
        }
    }
}

/// `auto` or a log family's name.
pub(crate) fn family_or_auto() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(std::iter::once("auto").chain(Family::NAMES.iter().copied()))
}
