//! The model file: one versioned, checksummed file holding a fitted detector and its metadata.
//!
//! Layout (two lines of JSON, readable with any JSON tool):
//! 1. a header `{"format": "outflow-model", "format_version", "outflow_version", "created",
//!    "body_bytes", "body_sha256", "metadata"}`;
//! 2. the body: the fitted preparation, the clustering with what prediction needs, the scorer and the
//!    parameters. Large numeric arrays are base64 little-endian (exact, compact).
//!
//! Loading checks the format name, refuses newer format versions, and verifies the body's length and
//! SHA-256 before parsing it. A checksum only catches accidents: anyone can edit a body and hash it
//! again. Against deliberate edits a model can be **signed** with a secret key ([`ModelKey`], HMAC-SHA256;
//! the `outflow` command takes it from `OUTFLOW_MODEL_KEY`): the header then carries
//! `"signature": "hmac-sha256:<hex>"` over the format, version, creation time and body checksum, and a
//! reader given the key refuses a file that is unsigned or signed with another key. Format version 2 holds any clusterer of `outflow-cluster`; version 3 adds the UMAP embedding a
//! clusterer may work in (written only by such detectors, so other models stay readable by version-2
//! readers); files of version
//! 1 (HDBSCAN only) are read and converted so that they score exactly as they did. Writing goes to a
//! temporary file moved into place, and never replaces an existing file unless asked to.

mod v1;

use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use outflow_io::store::Location;

use crate::detector::{Detector, FitSummary};
use crate::error::{ArtifactError, OutflowError, Result};

/// The format name in every model file.
pub const FORMAT: &str = "outflow-model";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 3;

/// The version a detector is written with: 3 when its clusterer works in an embedding (a reader of
/// version 2 would ignore the embedding and assign flows in the wrong space), else 2, which every
/// reader since version 2 loads.
fn version_of(d: &Detector) -> u32 {
    if d.embedding().is_some() { 3 } else { 2 }
}

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
    /// `hmac-sha256:<hex>` when the file was signed with a [`ModelKey`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A secret key that signs model files and verifies their signatures (HMAC-SHA256).
///
/// ```
/// use outflow::{ArtifactError, DetectorParams, ModelKey};
/// use outflow::io::{Column, Table};
/// let t = Table::new(vec![Column::from_f64("a", (0..100).map(|i| (i % 7) as f64).collect())]).unwrap();
/// let detector = DetectorParams::default().fit(&t).unwrap().detector;
/// let key = ModelKey::new(b"a secret of at least sixteen bytes".to_vec()).unwrap();
/// let signed = detector.to_bytes_signed(Some(&key));
/// assert!(outflow::Detector::from_bytes_verified(&signed, Some(&key)).is_ok());
/// // Another key, or no signature, is refused when a key is given.
/// let other = ModelKey::new(b"another secret of sixteen bytes".to_vec()).unwrap();
/// assert!(matches!(outflow::Detector::from_bytes_verified(&signed, Some(&other)), Err(ArtifactError::Signature(_))));
/// assert!(outflow::Detector::from_bytes_verified(&detector.to_bytes(), Some(&key)).is_err());
/// ```
#[derive(Clone)]
pub struct ModelKey(Vec<u8>);

impl std::fmt::Debug for ModelKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelKey({} bytes)", self.0.len())
    }
}

impl ModelKey {
    /// The environment variable the `outflow` command reads the key from.
    pub const ENV: &'static str = "OUTFLOW_MODEL_KEY";
    /// The shortest key accepted, in bytes.
    pub const MIN_BYTES: usize = 16;

    /// A key of raw bytes (at least [`ModelKey::MIN_BYTES`]: a short key can be guessed).
    pub fn new(bytes: Vec<u8>) -> std::result::Result<ModelKey, ArtifactError> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(ArtifactError::Signature(format!(
                "a signing key needs at least {} bytes, got {}",
                Self::MIN_BYTES,
                bytes.len()
            )));
        }
        Ok(ModelKey(bytes))
    }

    /// The key in [`ModelKey::ENV`] (its bytes as written), `None` when the variable is unset or empty.
    pub fn from_env() -> std::result::Result<Option<ModelKey>, ArtifactError> {
        match std::env::var_os(Self::ENV) {
            Some(v) if !v.is_empty() => {
                let bytes = v.into_encoded_bytes();
                ModelKey::new(bytes).map(Some).map_err(|e| ArtifactError::Signature(format!("{}: {e}", Self::ENV)))
            }
            _ => Ok(None),
        }
    }

    fn mac(&self, header: &ModelHeader) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        let message =
            format!("{}\n{}\n{}\n{}", header.format, header.format_version, header.created, header.body_sha256);
        mac.update(message.as_bytes());
        mac
    }

    /// The signature of a header.
    fn sign(&self, header: &ModelHeader) -> String {
        format!("{SIGNATURE_SCHEME}:{}", hex(&self.mac(header).finalize().into_bytes()))
    }

    /// Checks a header's signature (in constant time).
    fn verify(&self, header: &ModelHeader) -> std::result::Result<(), ArtifactError> {
        let Some(signature) = &header.signature else {
            return Err(ArtifactError::Signature(format!("the model is not signed and {} is set", Self::ENV)));
        };
        let digest =
            signature.strip_prefix(SIGNATURE_SCHEME).and_then(|s| s.strip_prefix(':')).and_then(unhex).ok_or_else(
                || ArtifactError::Signature(format!("'{signature}' is not an {SIGNATURE_SCHEME} signature")),
            )?;
        self.mac(header)
            .verify_slice(&digest)
            .map_err(|_| ArtifactError::Signature("signed with another key, or edited after signing".into()))
    }
}

const SIGNATURE_SCHEME: &str = "hmac-sha256";

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
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

    /// Serialises the detector as a model file's bytes (unsigned).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_signed(None)
    }

    /// Serialises the detector as a model file's bytes, signed with `key` when one is given.
    pub fn to_bytes_signed(&self, key: Option<&ModelKey>) -> Vec<u8> {
        // Every map key is a string and NaN is written as null: serialising cannot fail.
        let body = serde_json::to_vec(self).expect("a fitted detector serialises");
        let header = ModelHeader {
            format: FORMAT.into(),
            format_version: version_of(self),
            outflow_version: env!("CARGO_PKG_VERSION").into(),
            created: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            body_bytes: body.len(),
            body_sha256: hex(&Sha256::digest(&body)),
            metadata: self.metadata(),
            signature: None,
        };
        let header = ModelHeader { signature: key.map(|k| k.sign(&header)), ..header };
        let mut out = serde_json::to_vec(&header).expect("a header serialises");
        out.push(b'\n');
        out.extend_from_slice(&body);
        out.push(b'\n');
        out
    }

    /// Writes the model file atomically; an existing file is replaced only when `overwrite` is true.
    pub fn save(&self, path: impl AsRef<Path>, overwrite: bool) -> Result<()> {
        self.save_signed(path, overwrite, None)
    }

    /// Writes the model file atomically, signed with `key` when one is given.
    pub fn save_signed(&self, path: impl AsRef<Path>, overwrite: bool, key: Option<&ModelKey>) -> Result<()> {
        Ok(outflow_core::write_atomic(path.as_ref(), &self.to_bytes_signed(key), overwrite)?)
    }

    /// Reads a model file, checking format, version and checksum.
    pub fn load(path: impl AsRef<Path>) -> Result<Detector> {
        Self::load_verified(path, None)
    }

    /// Reads a model file, checking format, version and checksum, and with a key its signature: an
    /// unsigned file or one signed with another key is refused.
    pub fn load_verified(path: impl AsRef<Path>, key: Option<&ModelKey>) -> Result<Detector> {
        let path = path.as_ref();
        let bytes = read_regular_file(path)?;
        Self::from_bytes_verified(&bytes, key)
            .map_err(|source| OutflowError::Artifact { path: path.to_owned(), source })
    }

    /// Writes the model file whole to a path or an object ([`Location`]: `s3://bucket/models/m.json`,
    /// …), signed with `key` when one is given; an existing one is replaced only when `overwrite` is true.
    pub fn save_at(&self, at: &Location, overwrite: bool, key: Option<&ModelKey>) -> Result<()> {
        Ok(at.write(&self.to_bytes_signed(key), overwrite)?)
    }

    /// Reads a model file from a path or an object, checked as [`Detector::load_verified`] checks it.
    pub fn load_at(at: &Location, key: Option<&ModelKey>) -> Result<Detector> {
        Self::load_at_versioned(at, key).map(|(d, _, _)| d)
    }

    /// [`Detector::load_at`] with the file's header and its version as read ([`Location::version`]: an
    /// object's ETag), for a service that reloads it when the version changes.
    pub fn load_at_versioned(at: &Location, key: Option<&ModelKey>) -> Result<(Detector, ModelHeader, String)> {
        let (bytes, version) = match at.as_local() {
            // The version first: a file replaced in between is then read again at the next check. A FIFO
            // or a device would block or never end: regular files only.
            Some(path) => {
                let version = at.version()?;
                (read_regular_file(path)?, version)
            }
            None => at.read_versioned()?,
        };
        let artifact = |source| OutflowError::Artifact { path: PathBuf::from(at.to_string()), source };
        let detector = Self::from_bytes_verified(&bytes, key).map_err(artifact)?;
        let (header, _) = split_header(&bytes).map_err(artifact)?;
        Ok((detector, header, version))
    }

    /// Parses a model file's bytes (a signature, if any, is not checked: see
    /// [`Detector::from_bytes_verified`]).
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Detector, ArtifactError> {
        Self::from_bytes_verified(bytes, None)
    }

    /// Parses a model file's bytes; with a key, the signature is checked before anything else is read.
    pub fn from_bytes_verified(bytes: &[u8], key: Option<&ModelKey>) -> std::result::Result<Detector, ArtifactError> {
        let (header, body) = split_header(bytes)?;
        if let Some(key) = key {
            key.verify(&header)?;
        }
        if body.len() != header.body_bytes {
            return Err(ArtifactError::Length { expected: header.body_bytes, found: body.len() });
        }
        if hex(&Sha256::digest(body)) != header.body_sha256 {
            return Err(ArtifactError::Checksum);
        }
        let body_error = |e: serde_json::Error| ArtifactError::Body(e.to_string());
        let mut detector: Detector = match header.format_version {
            1 => v1::detector(body).map_err(body_error)?,
            _ => serde_json::from_slice(body).map_err(body_error)?,
        };
        detector.read_older_rules();
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
        if let Some(u) = self.embedding()
            && u.n_features() != self.summary().features.len()
        {
            return Err(format!(
                "embedding: fitted on {} features, the model prepares {}",
                u.n_features(),
                self.summary().features.len()
            ));
        }
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
    fn models_under_older_evidence_rules_count_every_failed_contact() {
        let t = Table::new(vec![
            Column::from_f64("a", (0..200).map(|i| (i % 13) as f64).collect()),
            Column::from_f64("b", (0..200).map(|i| (i * 7 % 29) as f64).collect()),
        ])
        .unwrap();
        let bytes = crate::DetectorParams::default().fit(&t).unwrap().detector.to_bytes();
        let probes = |b: &[u8]| Detector::from_bytes(b).unwrap().params().aggregation.max_probe_attempts;
        assert_eq!(probes(&bytes), Some(outflow_aggregate::MAX_PROBE_ATTEMPTS));
        let older = rehashed(&bytes, |v| v["scorer"]["evidence_rules"] = 4.into());
        assert_eq!(probes(&older), None);
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
