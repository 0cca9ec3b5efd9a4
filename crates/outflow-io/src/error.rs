//! Typed errors of the readers and the table.

use std::path::PathBuf;

use crate::table::DataType;

/// Result alias of this crate.
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// Where a bad value was found: file, 1-based line and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File name as given (or `<memory>`).
    pub file: String,
    /// 1-based physical line number.
    pub line: u64,
    /// Column name, when known.
    pub field: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        Ok(())
    }
}

/// Errors of `outflow-io`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Decompression failed (corrupt or truncated gzip).
    #[error("{}: corrupt or truncated gzip stream{}: {message}", path.display(), after_line(*line))]
    Decompress {
        /// The path.
        path: PathBuf,
        /// Lines read before the failure (0 when the reader does not count them).
        line: u64,
        /// What the decoder said.
        message: String,
    },
    /// A value did not parse as the column's type.
    #[error("{at}: expected {expected}, found {found:?}")]
    Parse {
        /// Where.
        at: Location,
        /// What the column needs.
        expected: String,
        /// The offending text (shortened).
        found: String,
    },
    /// A record has the wrong number of fields.
    #[error("{at}: expected {expected} fields, found {found}")]
    Ragged {
        /// Where.
        at: Location,
        /// Fields in the header.
        expected: usize,
        /// Fields in this record.
        found: usize,
    },
    /// A header or directive is missing or malformed.
    #[error("{at}: {message}")]
    Header {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// The input holds no header, or nothing at all.
    #[error("{file}: {message}")]
    Empty {
        /// File name.
        file: String,
        /// What is missing.
        message: String,
    },
    /// The format could not be recognised, or was not a known name.
    #[error("unknown format: {0}")]
    UnknownFormat(String),
    /// A named column does not exist.
    #[error("no column named '{name}'")]
    MissingColumn {
        /// The name asked for.
        name: String,
    },
    /// A column has a type that the operation cannot use.
    #[error("column '{name}' is {found}, expected {expected}")]
    WrongType {
        /// Column name.
        name: String,
        /// What was needed.
        expected: String,
        /// What it is.
        found: DataType,
    },
    /// A null cell where a value is required.
    #[error("column '{name}' is null at row {row}")]
    NullValue {
        /// Column name.
        name: String,
        /// 0-based row.
        row: usize,
    },
    /// A table could not be built as asked.
    #[error("invalid table: {0}")]
    Invalid(String),
    /// Writing output failed.
    #[error("cannot write: {0}")]
    Write(String),
    /// A location given as a URL could not be used: a malformed or unknown URL, or an object store
    /// refused or failed the request. The URL is shown without credentials.
    #[error("{url}: {message}")]
    Store {
        /// The URL (no user, password or query).
        url: String,
        /// What kind of failure.
        kind: crate::store::StoreErrorKind,
        /// What went wrong, and what was expected.
        message: String,
    },
    /// A Parquet or Arrow input is corrupt, or holds what a flow table cannot (the message says which
    /// column and type).
    #[error("{file}: {message}")]
    Columnar {
        /// File name.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl IoError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        IoError::Invalid(msg.into())
    }
}

/// Shortens a field for an error message (at most 60 characters).
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(57).collect();
        t.push_str("...");
        t
    } else {
        s.into_owned()
    }
}

/// Where in a stream a failure came, from the lines read before it (0: not known, as for a CSV reader).
fn after_line(line: u64) -> String {
    if line == 0 { String::new() } else { format!(" after line {line}") }
}
