//! Reading a run directory written by `outflow detect --out DIR`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use outflow::FittedDetector;
use serde::{Deserialize, Deserializer};

use crate::error::{ReportError, Result};

/// The part of `summary.json` the report uses (other fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct RunSummary {
    /// Name of the input.
    #[serde(default)]
    pub input: String,
    /// Input format.
    #[serde(default)]
    pub format: String,
    /// File name of the model in the run directory.
    pub model_file: String,
    /// Input records.
    pub rows_read: usize,
    /// Records scored.
    pub rows_kept: usize,
    /// Records HDBSCAN was fitted on.
    pub rows_fitted: usize,
    /// Records not scored.
    #[serde(default)]
    pub rows_unscored: usize,
    /// Features the model saw.
    pub features_kept: Vec<String>,
    /// Columns dropped by the preparation, with reasons.
    #[serde(default)]
    pub features_dropped: Vec<DroppedFeature>,
    /// Preparation preset.
    #[serde(default)]
    pub preset: String,
    /// Clusters of the fitted flows.
    pub clusters: Vec<SummaryCluster>,
    /// Share of fitted flows labelled noise, in percent.
    pub noise_percent: f64,
    /// DBCV of the clustering, when defined.
    #[serde(default)]
    pub dbcv: Option<f64>,
    /// Severity thresholds of the outlier score.
    pub thresholds: SummaryThresholds,
    /// Flows per severity.
    #[serde(default)]
    pub severity_counts: BTreeMap<String, usize>,
    /// HDBSCAN parameters, as written.
    #[serde(default)]
    pub hdbscan: serde_json::Value,
    /// Signals fused into the outlier score.
    #[serde(default)]
    pub signals: Vec<String>,
    /// Whether `--tune` chose the parameters.
    #[serde(default)]
    pub tuned: bool,
}

/// A dropped column of `summary.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct DroppedFeature {
    /// Column.
    pub name: String,
    /// Preparation step.
    #[serde(default)]
    pub step: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// A cluster of `summary.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SummaryCluster {
    /// Label.
    pub label: i64,
    /// Fitted flows in it.
    pub size: usize,
    /// HDBSCAN persistence.
    #[serde(default)]
    pub persistence: f64,
}

/// The severity thresholds of `summary.json`.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct SummaryThresholds {
    /// Moderate (the 95th percentile of the training scores by default).
    pub moderate: f64,
    /// Severe (the 99th percentile by default).
    pub severe: f64,
}

/// `sample.csv`: a seeded sample of scored flows with the scaled features the model saw.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Input record of each sampled flow.
    pub rows: Vec<usize>,
    /// Cluster (−1 noise).
    pub cluster: Vec<i64>,
    /// Membership probability.
    pub probability: Vec<f64>,
    /// Outlier score.
    pub outlier_score: Vec<f64>,
    /// Severity name.
    pub severity: Vec<String>,
    /// Feature names.
    pub features: Vec<String>,
    /// `flows × features`.
    pub x: Array2<f64>,
}

impl Sample {
    /// Number of sampled flows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the sample has no flows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether flow `i` is moderate or severe.
    pub fn is_anomaly(&self, i: usize) -> bool {
        matches!(self.severity[i].as_str(), "moderate" | "severe")
    }
}

/// Outlier scores of every scored flow (`scores.csv`).
#[derive(Debug, Clone)]
pub struct Scores {
    /// Records in the file.
    pub records: usize,
    /// Outlier score of each scored record, in file order.
    pub scores: Vec<f64>,
    /// Records per severity.
    pub severity_counts: BTreeMap<String, usize>,
}

/// One value of a categorical column with its count (`clusters.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct TopValue {
    /// Value.
    pub value: String,
    /// Flows with it.
    pub count: usize,
}

/// Statistics of a numeric column within a cluster (`clusters.json`); `NaN` when undefined.
#[derive(Debug, Clone, Deserialize)]
pub struct NumericSummary {
    /// Non-null values.
    #[serde(default)]
    pub count: usize,
    /// Mean.
    #[serde(deserialize_with = "f64_or_string")]
    pub mean: f64,
    /// Median.
    #[serde(deserialize_with = "f64_or_string")]
    pub median: f64,
    /// Standard deviation.
    #[serde(default = "nan", deserialize_with = "f64_or_string")]
    pub std: f64,
    /// Range.
    #[serde(default = "nan", deserialize_with = "f64_or_string")]
    pub range: f64,
    /// First quartile.
    #[serde(default = "nan", deserialize_with = "f64_or_string")]
    pub q1: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// Numbers are written as numbers, and non-finite ones as strings ("NaN", "inf").
fn f64_or_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        F(f64),
        S(String),
        N(()),
    }
    Ok(match Num::deserialize(d)? {
        Num::F(v) => v,
        Num::S(s) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
        Num::N(_) => f64::NAN,
    })
}

/// One cluster of `clusters.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterProfile {
    /// Label (−1 noise).
    pub cluster: i64,
    /// Scored flows in it.
    pub size: usize,
    /// Share of the scored flows.
    pub fraction: f64,
    /// Top values of categorical columns.
    #[serde(default)]
    pub categorical: BTreeMap<String, Vec<TopValue>>,
    /// Statistics of numeric columns.
    #[serde(default)]
    pub numeric: BTreeMap<String, NumericSummary>,
}

/// The first lines of `anomalies.csv`.
#[derive(Debug, Clone)]
pub struct Anomalies {
    /// Column names.
    pub header: Vec<String>,
    /// The first records (highest score first).
    pub top: Vec<Vec<String>>,
    /// Records in the file.
    pub total: usize,
}

/// Everything the report reads from a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory.
    pub dir: PathBuf,
    /// `summary.json`.
    pub summary: RunSummary,
    /// `sample.csv`.
    pub sample: Sample,
    /// `scores.csv`.
    pub scores: Scores,
    /// `clusters.json`.
    pub clusters: Vec<ClusterProfile>,
    /// `anomalies.csv` (first rows).
    pub anomalies: Anomalies,
    /// The model (`summary.model_file`).
    pub model: FittedDetector,
    /// Rows of `tuning.csv` when `--tune` was given (header first).
    pub tuning: Option<Vec<Vec<String>>>,
}

/// Rows of `anomalies.csv` kept for the report.
pub const TOP_ANOMALIES: usize = 20;

impl RunDir {
    /// Reads a run directory.
    pub fn read(dir: impl AsRef<Path>) -> Result<RunDir> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(ReportError::NotADirectory(dir));
        }
        let summary: RunSummary = read_json(&dir.join("summary.json"))?;
        let sample = read_sample(&dir.join("sample.csv"))?;
        let scores = read_scores(&dir.join("scores.csv"))?;
        let clusters: Vec<ClusterProfile> = read_json(&dir.join("clusters.json"))?;
        let anomalies = read_anomalies(&dir.join("anomalies.csv"), TOP_ANOMALIES)?;
        if summary.model_file.contains(['/', '\\']) || summary.model_file.is_empty() {
            return Err(ReportError::invalid(
                dir.join("summary.json"),
                "model_file must be a file name in the run directory",
            ));
        }
        let model_path = dir.join(&summary.model_file);
        if !model_path.is_file() {
            return Err(ReportError::MissingFile { path: model_path });
        }
        let model = FittedDetector::load(&model_path)?;
        let tuning_path = dir.join("tuning.csv");
        let tuning = if tuning_path.is_file() { Some(read_rows(&tuning_path)?) } else { None };
        if sample.features.len() != model.summary().features.len() {
            return Err(ReportError::invalid(
                dir.join("sample.csv"),
                format!(
                    "has {} feature columns, the model {} — the files are from different runs",
                    sample.features.len(),
                    model.summary().features.len()
                ),
            ));
        }
        Ok(RunDir { dir, summary, sample, scores, clusters, anomalies, model, tuning })
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ReportError::MissingFile { path: path.to_owned() }
        } else {
            ReportError::File { path: path.to_owned(), source }
        }
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let f = open(path)?;
    serde_json::from_reader(BufReader::new(f)).map_err(|e| ReportError::invalid(path, e))
}

fn csv_reader(path: &Path) -> Result<csv::Reader<BufReader<File>>> {
    Ok(csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(BufReader::new(open(path)?)))
}

fn header(path: &Path, r: &mut csv::Reader<BufReader<File>>) -> Result<Vec<String>> {
    Ok(r.headers().map_err(|e| ReportError::invalid(path, e))?.iter().map(str::to_owned).collect())
}

fn column(path: &Path, header: &[String], name: &str) -> Result<usize> {
    header.iter().position(|h| h == name).ok_or_else(|| ReportError::invalid(path, format!("no column '{name}'")))
}

fn parse<T: std::str::FromStr>(path: &Path, line: usize, name: &str, s: &str) -> Result<T> {
    s.trim().parse::<T>().map_err(|_| ReportError::invalid(path, format!("line {line}: bad {name} '{s}'")))
}

fn read_sample(path: &Path) -> Result<Sample> {
    let mut r = csv_reader(path)?;
    let h = header(path, &mut r)?;
    let fixed = ["row", "cluster", "probability", "outlier_score", "severity"];
    for (i, name) in fixed.iter().enumerate() {
        if h.get(i).map(String::as_str) != Some(*name) {
            return Err(ReportError::invalid(path, format!("expected the columns {} first", fixed.join(","))));
        }
    }
    let features: Vec<String> = h[fixed.len()..].to_vec();
    if features.is_empty() {
        return Err(ReportError::invalid(path, "no feature columns"));
    }
    let (mut rows, mut cluster, mut probability, mut score, mut severity) = (vec![], vec![], vec![], vec![], vec![]);
    let mut values: Vec<f64> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| ReportError::invalid(path, e))?;
        let line = i + 2;
        if rec.get(1).is_none_or(|c| c.is_empty()) {
            continue; // not scored
        }
        rows.push(parse(path, line, "row", &rec[0])?);
        cluster.push(parse(path, line, "cluster", &rec[1])?);
        probability.push(parse(path, line, "probability", &rec[2])?);
        score.push(parse(path, line, "outlier_score", &rec[3])?);
        severity.push(rec[4].to_owned());
        for j in 0..features.len() {
            let v: f64 = parse(path, line, &features[j], &rec[fixed.len() + j])?;
            if !v.is_finite() {
                return Err(ReportError::invalid(path, format!("line {line}: non-finite {}", features[j])));
            }
            values.push(v);
        }
    }
    let n = rows.len();
    let x = Array2::from_shape_vec((n, features.len()), values).expect("rows × features values");
    Ok(Sample { rows, cluster, probability, outlier_score: score, severity, features, x })
}

fn read_scores(path: &Path) -> Result<Scores> {
    let mut r = csv_reader(path)?;
    let h = header(path, &mut r)?;
    let js = column(path, &h, "outlier_score")?;
    let jv = column(path, &h, "severity")?;
    let mut scores = Vec::new();
    let mut severity_counts = BTreeMap::new();
    let mut records = 0;
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).map_err(|e| ReportError::invalid(path, e))? {
        records += 1;
        *severity_counts.entry(rec[jv].to_owned()).or_insert(0) += 1;
        let s = &rec[js];
        if !s.is_empty() {
            scores.push(parse(path, records + 1, "outlier_score", s)?);
        }
    }
    Ok(Scores { records, scores, severity_counts })
}

fn read_anomalies(path: &Path, keep: usize) -> Result<Anomalies> {
    let mut r = csv_reader(path)?;
    let header = header(path, &mut r)?;
    let mut top = Vec::new();
    let mut total = 0;
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).map_err(|e| ReportError::invalid(path, e))? {
        if total < keep {
            top.push(rec.iter().map(str::to_owned).collect());
        }
        total += 1;
    }
    Ok(Anomalies { header, top, total })
}

fn read_rows(path: &Path) -> Result<Vec<Vec<String>>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(BufReader::new(open(path)?));
    let mut out = Vec::new();
    for rec in r.records() {
        out.push(rec.map_err(|e| ReportError::invalid(path, e))?.iter().map(str::to_owned).collect());
    }
    Ok(out)
}
