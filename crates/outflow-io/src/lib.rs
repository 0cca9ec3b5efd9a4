//! # outflow-io
//!
//! Reads network flow tables into a typed, null-aware [`Table`]:
//!
//! - **CSV** with a header ([`read_csv`]): CICFlowMeter-style exports; types inferred over *all* rows,
//!   configurable null tokens, `inf`/`-inf`, quoting, separator, ragged-line policy.
//! - **Zeek ASCII logs** ([`read_zeek`]): honours `#separator`, `#set_separator`, `#empty_field`,
//!   `#unset_field`, `#fields`, `#types`; several logs concatenated; labeled captures whose last fields are
//!   separated by spaces (IoT-23).
//! - **Zeek JSON lines** ([`read_zeek_json`]): `ts` as epoch seconds or ISO 8601, dotted keys.
//! - **KDD Cup 99 / NSL-KDD** ([`read_kdd`]): built-in column names.
//! - **Parquet and Arrow IPC** (feature `arrow`, module `arrow`): read by row group / record batch, any
//!   of them written as Parquet, record batches converted both ways with Zeek's types kept.
//! - [`Format::Auto`] detection and transparent gzip for all of them ([`read_table`]).
//! - Local paths or object-store URLs (`s3://`, `gs://`, `az://`, `http(s)://`; feature `object-store`,
//!   module [`store`]): objects are read as streams, Parquet by ranged requests for the columns asked.
//! - Limits that keep hostile input from exhausting memory, each failing the read with the file and line:
//!   lines of at most [`MAX_LINE_BYTES`], at most [`MAX_FIELDS`] columns, gzip expanding at most
//!   [`MAX_GZIP_RATIO`] times.
//!
//! A malformed record is an [`IoError`] naming the file, the 1-based line and the field; no input makes
//! a reader panic (property-tested with random and mutated bytes).
//!
//! ```
//! use outflow_io::{read_input, DataType, Input, ReadOptions};
//! let log = "#separator \\x09\n#fields\tts\tproto\tduration\n#types\ttime\tenum\tinterval\n\
//!            1.0\ttcp\t0.5\n2.0\tudp\t-\n";
//! let (t, format) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
//! assert_eq!(format.name(), "zeek");
//! assert_eq!(t.column("duration").unwrap().dtype(), DataType::Interval);
//! assert!(t.column("duration").unwrap().is_null(1));
//! let x = t.to_array(&["ts"], Default::default()).unwrap();
//! assert_eq!(x.shape(), &[2, 1]);
//! ```
//!
//! Parsing is hand-written where it is the product: the number parser is exact (Clinger's fast path,
//! falling back to the standard library) and faster than `str::parse`; CSV tokenising is the `csv` crate.

#![warn(missing_docs)]

#[cfg(feature = "arrow")]
pub mod arrow;
mod csv;
mod error;
pub mod family;
mod format;
mod infer;
mod kdd;
mod source;
pub mod store;
mod summary;
mod table;
mod typed;
mod write;
mod zeek;
mod zeek_json;

pub use crate::csv::{CsvOptions, RaggedPolicy, read_csv, read_csv_batches};
pub use crate::error::{IoError, Location, Result};
pub use crate::family::{Family, FamilyColumns, FlowRoles};
pub use crate::format::{
    BatchTypes, Format, ReadOptions, detect_format, read_batches, read_batches_typed, read_input, read_table,
};
pub use crate::kdd::{KDD_DIFFICULTY, KDD_FEATURES, KDD_LABEL, read_kdd, read_kdd_batches};
pub use crate::source::{GZIP_RATIO_FROM, Input, MAX_FIELDS, MAX_GZIP_RATIO, MAX_LINE_BYTES};
pub use crate::summary::{ColumnSummary, TableSummary, TopValue, summarize};
pub use crate::table::{Categorical, Column, ColumnData, DataType, Field, NullPolicy, Schema, Table, Validity, Value};
pub use crate::write::{CsvWriter, f64_from_number_or_string, f64_or_string, opt_f64_or_string, write_csv};
pub use crate::zeek::{known_zeek_type, read_zeek, read_zeek_batches};
pub use crate::zeek_json::{read_zeek_json, read_zeek_json_batches};
