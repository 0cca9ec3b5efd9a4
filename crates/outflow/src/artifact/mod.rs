//! The model file: one versioned, checksummed file holding a fitted detector and its metadata.
//!
//! Layout (two lines of JSON, readable with any JSON tool):
//! 1. a header `{"format": "outflow-model", "format_version", "outflow_version", "created",
//!    "body_bytes", "body_sha256", "metadata"}`;
//! 2. the body: the fitted preparation, the clustering with what prediction needs, the scorer and the
//!    parameters. Large numeric arrays are base64 little-endian (exact, compact).
//!
//! Loading checks the format name, refuses newer format versions, and verifies the body's length and
//! SHA-256 before parsing it. Format version 2 holds any clusterer of `outflow-cluster`; files of version
//! 1 (HDBSCAN only) are read and converted so that they score exactly as they did. Writing goes to a
//! temporary file moved into place, and never replaces an existing file unless asked to.

mod v1;

use std::path::Path;

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::detector::{Detector, FitSummary};
use crate::error::{ArtifactError, OutflowError, Result};

/// The format name in every model file.
pub const FORMAT: &str = "outflow-model";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;

/// What a model file says about itself (readable without loading the model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Input columns (names and types) of the training table.
    pub input_schema: outflow_io::Schema,
    /// Columns a table must have to be scored.
    pub required_columns: Vec<String>,
    /// Preparation preset used.
    pub preset: String,
    /// Fit figures: rows, features, clusterer, clusters, noise, DBCV, thresholds.
    pub fit: FitSummary,
    /// Signals of the anomaly score.
    pub signals: Vec<String>,
}

/// The first line of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// Always [`FORMAT`].
    pub format: String,
    /// File format version.
    pub format_version: u32,
    /// Version of Outflow that wrote it.
    pub outflow_version: String,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// Length of the body line in bytes.
    pub body_bytes: usize,
    /// SHA-256 of the body line, hex.
    pub body_sha256: String,
    /// Metadata.
    pub metadata: ModelMetadata,
}

/// A model file's default name, with a UTC timestamp (`outflow-model-20261125T210000Z.json`).
pub fn default_model_name() -> String {
    format!("outflow-model-{}.json", Utc::now().format("%Y%m%dT%H%M%SZ"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Detector {
    /// The metadata written into the model file's header.
    pub fn metadata(&self) -> ModelMetadata {
        ModelMetadata {
            input_schema: self.schema.clone(),
            required_columns: self.required_columns().iter().map(|s| s.to_string()).collect(),
            preset: self.prep.preset().name().to_string(),
            fit: self.summary.clone(),
            signals: self.scorer.params().signals.iter().map(|s| s.name().to_string()).collect(),
        }
    }

    /// Serialises the detector as a model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Every map key is a string and NaN is written as null: serialising cannot fail.
        let body = serde_json::to_vec(self).expect("a fitted detector serialises");
        let header = ModelHeader {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            outflow_version: env!("CARGO_PKG_VERSION").into(),
            created: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            body_bytes: body.len(),
            body_sha256: hex(&Sha256::digest(&body)),
            metadata: self.metadata(),
        };
        let mut out = serde_json::to_vec(&header).expect("a header serialises");
        out.push(b'\n');
        out.extend_from_slice(&body);
        out.push(b'\n');
        out
    }

    /// Writes the model file atomically; an existing file is replaced only when `overwrite` is true.
    pub fn save(&self, path: impl AsRef<Path>, overwrite: bool) -> Result<()> {
        Ok(outflow_core::write_atomic(path.as_ref(), &self.to_bytes(), overwrite)?)
    }

    /// Reads a model file, checking format, version and checksum.
    pub fn load(path: impl AsRef<Path>) -> Result<Detector> {
        let path = path.as_ref();
        let bytes = read_regular_file(path)?;
        Self::from_bytes(&bytes).map_err(|source| OutflowError::Artifact { path: path.to_owned(), source })
    }

    /// Parses a model file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Detector, ArtifactError> {
        let (header, body) = split_header(bytes)?;
        if body.len() != header.body_bytes {
            return Err(ArtifactError::Length { expected: header.body_bytes, found: body.len() });
        }
        if hex(&Sha256::digest(body)) != header.body_sha256 {
            return Err(ArtifactError::Checksum);
        }
        let body_error = |e: serde_json::Error| ArtifactError::Body(e.to_string());
        let detector: Detector = match header.format_version {
            1 => v1::detector(body).map_err(body_error)?,
            _ => serde_json::from_slice(body).map_err(body_error)?,
        };
        detector.check_fitted().map_err(ArtifactError::Body)?;
        // The checksum covers the body only: the header's metadata must say what the body holds.
        if header.format_version >= 2
            && serde_json::to_value(&header.metadata).ok() != serde_json::to_value(detector.metadata()).ok()
        {
            return Err(ArtifactError::Header("its metadata does not describe the model body (edited?)".into()));
        }
        Ok(detector)
    }

    /// Checks what a model file could get wrong and a fit cannot: the severity thresholds are scores
    /// (in [0, 1], moderate at most severe).
    fn check_fitted(&self) -> std::result::Result<(), String> {
        let t = &self.summary().thresholds;
        let score = |v: f64| (0.0..=1.0).contains(&v);
        if !(score(t.moderate) && score(t.severe) && t.moderate <= t.severe) {
            return Err(format!(
                "thresholds moderate {} and severe {} are not scores with moderate ≤ severe in [0, 1]",
                t.moderate, t.severe
            ));
        }
        self.clustering().check().map_err(|e| format!("clustering: {e}"))?;
        self.scorer().check()
    }
}

/// A file's bytes, refusing anything but a regular file (reading a FIFO or a device would block or
/// never end).
fn read_regular_file(path: &Path) -> Result<Vec<u8>> {
    let file_error = |source| OutflowError::File { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(file_error)?;
    if !meta.is_file() {
        return Err(file_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")));
    }
    std::fs::read(path).map_err(file_error)
}

/// Reads only the header of a model file (a version-1 header is converted to the current shape; its
/// `format_version` stays 1).
pub fn read_header(path: impl AsRef<Path>) -> Result<ModelHeader> {
    let path = path.as_ref();
    let bytes = read_regular_file(path)?;
    split_header(&bytes).map(|(h, _)| h).map_err(|source| OutflowError::Artifact { path: path.to_owned(), source })
}

fn split_header(bytes: &[u8]) -> std::result::Result<(ModelHeader, &[u8]), ArtifactError> {
    let nl = bytes.iter().position(|&b| b == b'\n').ok_or(ArtifactError::NotAModel("no header line"))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes[..nl]).map_err(|_| ArtifactError::NotAModel("the header is not JSON"))?;
    if value.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
        return Err(ArtifactError::NotAModel("the format is not 'outflow-model'"));
    }
    let version = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| ArtifactError::Header("no format_version".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        let by = value.get("outflow_version").and_then(|v| v.as_str()).unwrap_or("a newer version");
        return Err(ArtifactError::NewerVersion { found: version, supported: FORMAT_VERSION, written_by: by.into() });
    }
    let header = match version {
        0 => return Err(ArtifactError::Header("format_version 0 does not exist".into())),
        1 => v1::header(value),
        _ => serde_json::from_value(value),
    }
    .map_err(|e| ArtifactError::Header(e.to_string()))?;
    let mut body = &bytes[nl + 1..];
    if body.last() == Some(&b'\n') {
        body = &body[..body.len() - 1];
    }
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use outflow_io::{Column, Table};

    /// A model file whose body was edited and whose header was made to match again.
    fn rehashed(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let (_, body) = split_header(bytes).unwrap();
        let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
        let mut header: serde_json::Value = serde_json::from_slice(&bytes[..nl]).unwrap();
        let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
        edit(&mut value);
        let body = serde_json::to_vec(&value).unwrap();
        header["body_bytes"] = body.len().into();
        header["body_sha256"] = hex(&Sha256::digest(&body)).into();
        let mut out = serde_json::to_vec(&header).unwrap();
        out.push(b'\n');
        out.extend_from_slice(&body);
        out.push(b'\n');
        out
    }

    #[test]
    fn a_rehashed_body_is_still_checked() {
        let t = Table::new(vec![
            Column::from_f64("a", (0..200).map(|i| (i % 13) as f64).collect()),
            Column::from_f64("b", (0..200).map(|i| (i * 7 % 29) as f64).collect()),
        ])
        .unwrap();
        let bytes = crate::DetectorParams::default().fit(&t).unwrap().detector.to_bytes();
        assert!(Detector::from_bytes(&rehashed(&bytes, |_| {})).is_ok());
        // Thresholds that would mark every flow severe.
        let forged = rehashed(&bytes, |v| v["summary"]["thresholds"]["severe"] = (-1.0).into());
        let err = Detector::from_bytes(&forged).unwrap_err();
        assert!(matches!(err, ArtifactError::Body(ref m) if m.contains("thresholds")), "{err}");
        // An isolation tree whose split points back to the root would loop forever; a crafted depth
        // would walk far past the tree.
        let looped = rehashed(&bytes, |v| {
            let nodes = v["scorer"]["models"][0]["trees"][0]["nodes"].as_array_mut().unwrap();
            let split = (1..nodes.len()).find(|&i| nodes[i]["left"].as_u64() != Some(i as u64)).unwrap();
            nodes[split]["left"] = 0.into();
        });
        assert!(matches!(Detector::from_bytes(&looped), Err(ArtifactError::Body(ref m)) if m.contains("tree 0")));
        let deep = rehashed(&bytes, |v| v["scorer"]["models"][0]["trees"][3]["depth"] = u64::MAX.into());
        assert!(matches!(Detector::from_bytes(&deep), Err(ArtifactError::Body(ref m)) if m.contains("deep")));
        // The header is outside the checksum: metadata that does not describe the body is refused.
        let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
        let mut header: serde_json::Value = serde_json::from_slice(&bytes[..nl]).unwrap();
        header["metadata"]["preset"] = "forged".into();
        let mut forged = serde_json::to_vec(&header).unwrap();
        forged.extend_from_slice(&bytes[nl..]);
        let err = Detector::from_bytes(&forged).unwrap_err();
        assert!(matches!(err, ArtifactError::Header(ref m) if m.contains("metadata")), "{err}");
        // A crafted neighbour count would allocate that many neighbours per scored row.
        let scoring = crate::ScoringParams { signals: vec!["knn".parse().unwrap()], ..Default::default() };
        let knn = crate::DetectorParams { scoring, ..Default::default() }.fit(&t).unwrap().detector.to_bytes();
        assert!(Detector::from_bytes(&knn).is_ok());
        let huge = rehashed(&knn, |v| v["scorer"]["models"][0]["params"]["n_neighbors"] = 1_000_000_000_000u64.into());
        assert!(matches!(Detector::from_bytes(&huge), Err(ArtifactError::Body(ref m)) if m.contains("kNN")));
        let dir = tempfile::tempdir().unwrap();
        let e = Detector::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}
