//! The model file: one versioned, checksummed file holding a fitted detector and its metadata.
//!
//! Layout (two lines of JSON, readable with any JSON tool):
//! 1. a header `{"format": "outflow-model", "format_version", "outflow_version", "created",
//!    "body_bytes", "body_sha256", "metadata"}`;
//! 2. the body: the fitted preparation, the HDBSCAN model with its prediction data, the scorer and the
//!    configuration. Large numeric arrays are base64 little-endian (exact, compact).
//!
//! Loading checks the format name, refuses newer format versions, and verifies the body's length and
//! SHA-256 before parsing it. Writing goes to a temporary file renamed into place, and never replaces an
//! existing file unless asked to.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::detector::{FitSummary, FittedDetector};
use crate::error::{OutflowError, Result};

/// The format name in every model file.
pub const FORMAT: &str = "outflow-model";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a model file says about itself (readable without loading the model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Input columns (names and types) of the training table.
    pub input_schema: outflow_io::Schema,
    /// Columns a table must have to be scored.
    pub required_columns: Vec<String>,
    /// Preparation preset used.
    pub preset: String,
    /// Fit figures: rows, features, HDBSCAN parameters, clusters, noise, DBCV, thresholds.
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

/// A model file's default name, with a UTC timestamp as the seed notebook's (`outflow-model-20261125T210000Z.json`).
pub fn default_model_name() -> String {
    format!("outflow-model-{}.json", Utc::now().format("%Y%m%dT%H%M%SZ"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FittedDetector {
    /// The metadata written into the model file's header.
    pub fn metadata(&self) -> ModelMetadata {
        ModelMetadata {
            input_schema: self.schema.clone(),
            required_columns: self.required_columns().iter().map(|s| s.to_string()).collect(),
            preset: self.prep.preset().name().to_string(),
            fit: self.summary.clone(),
            signals: self.scorer.config().signals.iter().map(|s| s.name().to_string()).collect(),
        }
    }

    /// Serialises the detector as a model file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let body = serde_json::to_vec(self).map_err(|e| OutflowError::Model(format!("cannot serialise: {e}")))?;
        let header = ModelHeader {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            outflow_version: env!("CARGO_PKG_VERSION").into(),
            created: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            body_bytes: body.len(),
            body_sha256: hex(&Sha256::digest(&body)),
            metadata: self.metadata(),
        };
        let mut out = serde_json::to_vec(&header).map_err(|e| OutflowError::Model(e.to_string()))?;
        out.push(b'\n');
        out.extend_from_slice(&body);
        out.push(b'\n');
        Ok(out)
    }

    /// Writes the model file atomically; an existing file is replaced only when `overwrite` is true.
    pub fn save(&self, path: impl AsRef<Path>, overwrite: bool) -> Result<()> {
        write_atomic(path.as_ref(), &self.to_bytes()?, overwrite)
    }

    /// Reads a model file, checking format, version and checksum.
    pub fn load(path: impl AsRef<Path>) -> Result<FittedDetector> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| OutflowError::File { path: path.to_owned(), source })?;
        Self::from_bytes(&bytes).map_err(|message| OutflowError::Artifact { path: path.to_owned(), message })
    }

    /// Parses a model file's bytes; the error says what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<FittedDetector, String> {
        let (header, body) = split_header(bytes)?;
        if header.format_version > FORMAT_VERSION {
            return Err(format!(
                "model format version {} was written by Outflow {}; this build reads up to version {FORMAT_VERSION}",
                header.format_version, header.outflow_version
            ));
        }
        if body.len() != header.body_bytes {
            return Err(format!(
                "truncated or altered: body has {} bytes, header says {}",
                body.len(),
                header.body_bytes
            ));
        }
        if hex(&Sha256::digest(body)) != header.body_sha256 {
            return Err("corrupted: the body's SHA-256 does not match the header".into());
        }
        serde_json::from_slice(body).map_err(|e| format!("cannot read the model body: {e}"))
    }
}

/// Reads only the header of a model file.
pub fn read_header(path: impl AsRef<Path>) -> Result<ModelHeader> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| OutflowError::File { path: path.to_owned(), source })?;
    split_header(&bytes).map(|(h, _)| h).map_err(|message| OutflowError::Artifact { path: path.to_owned(), message })
}

fn split_header(bytes: &[u8]) -> std::result::Result<(ModelHeader, &[u8]), String> {
    let nl = bytes.iter().position(|&b| b == b'\n').ok_or("not an Outflow model file (no header line)")?;
    let value: serde_json::Value = serde_json::from_slice(&bytes[..nl])
        .map_err(|_| "not an Outflow model file (header is not JSON)".to_string())?;
    if value.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
        return Err(format!("not an Outflow model file (format is not '{FORMAT}')"));
    }
    let version = value.get("format_version").and_then(|v| v.as_u64()).ok_or("header has no format_version")?;
    if version > u64::from(FORMAT_VERSION) {
        let by = value.get("outflow_version").and_then(|v| v.as_str()).unwrap_or("a newer version");
        return Err(format!(
            "model format version {version} was written by Outflow {by}; this build reads up to version {FORMAT_VERSION}"
        ));
    }
    let header: ModelHeader = serde_json::from_value(value).map_err(|e| format!("unreadable header: {e}"))?;
    let mut body = &bytes[nl + 1..];
    if body.last() == Some(&b'\n') {
        body = &body[..body.len() - 1];
    }
    Ok((header, body))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a reader
/// never sees a half-written file; refuses to replace an existing file unless `overwrite`.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    if path.exists() && !overwrite {
        return Err(OutflowError::Exists(path.to_owned()));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file_err = |source| OutflowError::File { path: tmp.clone(), source };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(file_err)?;
        f.write_all(bytes).map_err(file_err)?;
        f.sync_all().map_err(file_err)?;
        std::fs::rename(&tmp, path).map_err(|source| OutflowError::File { path: path.to_owned(), source })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
