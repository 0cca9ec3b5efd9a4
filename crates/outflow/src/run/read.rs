//! Reading a run directory back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::{
    ANOMALIES, CLUSTERS, RunDirError, RunSummary, SAMPLE, SAMPLE_COLUMNS, SCORES, SUMMARY, TUNING, TableFormat,
};
use crate::detector::Detector;
use crate::error::{OutflowError, Result};
use crate::stats::ClusterStats;

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

/// A run directory, read back.
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
    pub clusters: Vec<ClusterStats>,
    /// `anomalies.csv` (first rows).
    pub anomalies: Anomalies,
    /// The model (`summary.model_file`).
    pub model: Detector,
    /// Rows of `tuning.csv` when `--tune` was given (header first).
    pub tuning: Option<Vec<Vec<String>>>,
}

/// Records of `anomalies.csv` kept when reading (the file's first, highest-scored ones).
pub const TOP_ANOMALIES: usize = 20;

impl RunDir {
    /// Reads a run directory.
    pub fn read(dir: impl AsRef<Path>) -> Result<RunDir> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(RunDirError::NotADirectory(dir).into());
        }
        if dir.join(super::INCOMPLETE).exists() {
            let message = "the run that wrote here was stopped before it finished; its files are partial";
            return Err(RunDirError::invalid(dir.join(super::INCOMPLETE), message).into());
        }
        let summary: RunSummary = read_json(&dir.join(SUMMARY))?;
        if summary.level != outflow_aggregate::Level::Flow {
            let message = format!(
                "a {}-level run: its results are {}; reports read runs with the flow level (--level all)",
                summary.level,
                summary.level.table_name()
            );
            return Err(RunDirError::invalid(dir.join(SUMMARY), message).into());
        }
        let sample = read_sample(&dir.join(SAMPLE))?;
        let format = summary.table_format;
        let scores_path = dir.join(format.file_name(SCORES));
        let anomalies_path = dir.join(format.file_name(ANOMALIES));
        let (scores, anomalies) = match format {
            TableFormat::Csv => (read_scores(&scores_path)?, read_anomalies(&anomalies_path, TOP_ANOMALIES)?),
            TableFormat::Parquet => parquet::read(&scores_path, &anomalies_path, TOP_ANOMALIES)?,
        };
        // The scores file has one line per record read: fewer is a truncated or foreign file.
        if scores.records != summary.rows_read {
            let message = format!(
                "has {} records, summary.json says {} were read — truncated?",
                scores.records, summary.rows_read
            );
            return Err(RunDirError::invalid(scores_path, message).into());
        }
        let clusters: Vec<ClusterStats> = read_json(&dir.join(CLUSTERS))?;
        if summary.model_file.contains(['/', '\\']) || summary.model_file.is_empty() {
            return Err(
                RunDirError::invalid(dir.join(SUMMARY), "model_file must be a file name in the run directory").into()
            );
        }
        let model_path = dir.join(&summary.model_file);
        if !model_path.is_file() {
            return Err(RunDirError::MissingFile(model_path).into());
        }
        let model = Detector::load(&model_path)?;
        let tuning_path = dir.join(TUNING);
        let tuning = if tuning_path.is_file() { Some(read_rows(&tuning_path)?) } else { None };
        if sample.features.len() != model.summary().features.len() {
            return Err(RunDirError::invalid(
                dir.join(SAMPLE),
                format!(
                    "has {} feature columns, the model {} — the files are from different runs",
                    sample.features.len(),
                    model.summary().features.len()
                ),
            )
            .into());
        }
        Ok(RunDir { dir, summary, sample, scores, clusters, anomalies, model, tuning })
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            RunDirError::MissingFile(path.to_owned()).into()
        } else {
            OutflowError::File { path: path.to_owned(), source }
        }
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let f = open(path)?;
    Ok(serde_json::from_reader(BufReader::new(f)).map_err(|e| RunDirError::invalid(path, e))?)
}

fn csv_reader(path: &Path) -> Result<csv::Reader<BufReader<File>>> {
    Ok(csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(BufReader::new(open(path)?)))
}

fn header(path: &Path, r: &mut csv::Reader<BufReader<File>>) -> Result<Vec<String>> {
    Ok(r.headers().map_err(|e| RunDirError::invalid(path, e))?.iter().map(str::to_owned).collect())
}

fn column(path: &Path, header: &[String], name: &str) -> Result<usize> {
    Ok(header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| RunDirError::invalid(path, format!("no column '{name}'")))?)
}

fn parse<T: std::str::FromStr>(path: &Path, line: usize, name: &str, s: &str) -> Result<T> {
    Ok(s.trim().parse::<T>().map_err(|_| RunDirError::invalid(path, format!("line {line}: bad {name} '{s}'")))?)
}

fn read_sample(path: &Path) -> Result<Sample> {
    let mut r = csv_reader(path)?;
    let h = header(path, &mut r)?;
    let fixed = SAMPLE_COLUMNS;
    for (i, name) in fixed.iter().enumerate() {
        if h.get(i).map(String::as_str) != Some(*name) {
            return Err(RunDirError::invalid(path, format!("expected the columns {} first", fixed.join(","))).into());
        }
    }
    let features: Vec<String> = h[fixed.len()..].to_vec();
    if features.is_empty() {
        return Err(RunDirError::invalid(path, "no feature columns").into());
    }
    let (mut rows, mut cluster, mut probability, mut score, mut severity) = (vec![], vec![], vec![], vec![], vec![]);
    let mut values: Vec<f64> = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| RunDirError::invalid(path, e))?;
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
                return Err(RunDirError::invalid(path, format!("line {line}: non-finite {}", features[j])).into());
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
    while r.read_record(&mut rec).map_err(|e| RunDirError::invalid(path, e))? {
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
    while r.read_record(&mut rec).map_err(|e| RunDirError::invalid(path, e))? {
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
        out.push(rec.map_err(|e| RunDirError::invalid(path, e))?.iter().map(str::to_owned).collect());
    }
    Ok(out)
}

/// The scores and anomalies tables of a run written with `--out-format parquet`.
mod parquet {
    use std::path::Path;

    use super::{Anomalies, Scores};
    use crate::error::Result;

    #[cfg(feature = "arrow")]
    pub(super) fn read(scores: &Path, anomalies: &Path, keep: usize) -> Result<(Scores, Anomalies)> {
        use std::collections::BTreeMap;

        use crate::run::RunDirError;
        use outflow_io::{Format, ReadOptions, read_table};

        let table = |path: &Path| {
            if !path.is_file() {
                return Err(RunDirError::MissingFile(path.to_owned()).into());
            }
            read_table(path, &ReadOptions { format: Format::Parquet, ..Default::default() })
                .map_err(crate::OutflowError::from)
        };
        let t = table(scores)?;
        let column =
            |name: &str| t.column(name).ok_or_else(|| RunDirError::invalid(scores, format!("has no column '{name}'")));
        let (score, severity) = (column("outlier_score")?, column("severity")?);
        let mut severity_counts = BTreeMap::new();
        for i in 0..t.n_rows() {
            *severity_counts.entry(severity.value(i).to_string()).or_insert(0) += 1;
        }
        let values = (0..t.n_rows()).filter_map(|i| score.f64_at(i)).collect();
        let scores = Scores { records: t.n_rows(), scores: values, severity_counts };
        let a = table(anomalies)?;
        let top =
            (0..a.n_rows().min(keep)).map(|i| a.columns().iter().map(|c| c.value(i).to_string()).collect()).collect();
        let header = a.names().iter().map(|s| s.to_string()).collect();
        Ok((scores, Anomalies { header, top, total: a.n_rows() }))
    }

    #[cfg(not(feature = "arrow"))]
    pub(super) fn read(scores: &Path, _: &Path, _: usize) -> Result<(Scores, Anomalies)> {
        let why = "the run's tables are Parquet, and this build reads no Parquet (feature `arrow` of outflow)";
        Err(crate::run::RunDirError::invalid(scores, why).into())
    }
}
