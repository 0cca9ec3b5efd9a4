//! Format names, detection and the one entry point that reads any supported input.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::csv::{CsvOptions, read_csv};
use crate::error::{IoError, Result};
use crate::kdd::{looks_like_kdd, read_kdd};
use crate::source::Input;
use crate::table::Table;
use crate::zeek::read_zeek;
use crate::zeek_json::read_zeek_json;

/// A supported input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Detect from the first bytes (after gzip).
    #[default]
    Auto,
    /// CSV with a header line.
    Csv,
    /// Zeek ASCII (TSV with `#fields`).
    Zeek,
    /// Zeek JSON lines.
    ZeekJson,
    /// KDD Cup 99 / NSL-KDD.
    Kdd,
    /// Apache Parquet (feature `arrow`).
    Parquet,
    /// Arrow IPC, file or stream format (feature `arrow`).
    Arrow,
}

impl Format {
    /// The names [`Format::from_str`](std::str::FromStr) accepts (besides a few aliases), as the command
    /// lists them.
    pub const NAMES: &'static [&'static str] = &["auto", "csv", "zeek", "zeek-json", "kdd", "parquet", "arrow"];

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Csv => "csv",
            Format::Zeek => "zeek",
            Format::ZeekJson => "zeek-json",
            Format::Kdd => "kdd",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = IoError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "csv" => Format::Csv,
            "zeek" | "zeek-tsv" | "bro" => Format::Zeek,
            "zeek-json" | "json" | "ndjson" => Format::ZeekJson,
            "kdd" | "nsl-kdd" | "kdd99" => Format::Kdd,
            "parquet" => Format::Parquet,
            "arrow" | "arrow-ipc" | "feather" => Format::Arrow,
            other => {
                return Err(IoError::UnknownFormat(format!(
                    "'{other}' (expected auto, csv, zeek, zeek-json, kdd, parquet or arrow)"
                )));
            }
        })
    }
}

/// Options for [`read_input`] and [`read_table`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadOptions {
    /// The format, or [`Format::Auto`].
    pub format: Format,
    /// CSV settings (also used for delimiter sniffing).
    pub csv: CsvOptions,
    /// Read only these columns, in this order; `None` reads every column. Parquet decodes only their
    /// column chunks (the others are never read from disk); Arrow IPC and the text formats drop the
    /// others after decoding. A name the input lacks is an error naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

/// Detects the format from the first decompressed bytes: `PAR1` → Parquet, `ARROW1` or an IPC
/// continuation marker → Arrow, `#separator`/`#fields` → Zeek, `{` → Zeek JSON, 42–43 comma-separated
/// fields with a protocol in the second → KDD, otherwise CSV. Binary content (an image, an archive, other
/// compression than gzip, any NUL byte) is an error saying what it is.
pub fn detect_format(input: &Input) -> Result<Format> {
    let head = input.head(1 << 16)?;
    if head.starts_with(b"PAR1") {
        return Ok(Format::Parquet);
    }
    if head.starts_with(b"ARROW1") || head.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
        return Ok(Format::Arrow);
    }
    if let Some(what) = binary_kind(&head) {
        return Err(IoError::UnknownFormat(format!(
            "{}: {what}, not a flow log: expected a Zeek log (TSV or JSON lines), CSV, KDD, Parquet or Arrow IPC, plain or gzip",
            input.name()
        )));
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let first = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())
        .ok_or_else(|| IoError::Empty { file: input.name().to_owned(), message: "the input is empty".into() })?;
    Ok(if first.starts_with(b"#separator") || first.starts_with(b"#fields") {
        Format::Zeek
    } else if first.starts_with(b"{") {
        Format::ZeekJson
    } else if looks_like_kdd(first) {
        Format::Kdd
    } else if first.starts_with(b"#") {
        return Err(IoError::UnknownFormat(format!(
            "{}: starts with a '#' line that is not a Zeek header",
            input.name()
        )));
    } else {
        Format::Csv
    })
}

/// What a binary input is, when its first bytes say so: a known file type, or any NUL byte (no text log
/// holds one; UTF-16 text is not read either).
fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 7] = [
        (b"\x89PNG", "a PNG image"),
        (b"%PDF-", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\xfd7zXZ\x00", "xz-compressed data (only gzip is read)"),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed data (only gzip is read)"),
        (b"\x7fELF", "an executable"),
        (b"\xff\xd8\xff", "a JPEG image"),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Some(what);
    }
    if head.len() > 3 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        return Some("bzip2-compressed data (only gzip is read)");
    }
    head.iter().take(1 << 12).any(|&b| b == 0).then_some("binary data")
}

/// Reads an input in the given (or detected) format; returns the table and the format used.
pub fn read_input(input: &Input, opts: &ReadOptions) -> Result<(Table, Format)> {
    let format = match opts.format {
        Format::Auto => detect_format(input)?,
        f => f,
    };
    let table = match format {
        Format::Csv => read_csv(input, &opts.csv)?,
        Format::Zeek => read_zeek(input)?,
        Format::ZeekJson => read_zeek_json(input)?,
        Format::Kdd => read_kdd(input)?,
        Format::Parquet | Format::Arrow => return Ok((read_columnar(input, format, opts.columns.as_deref())?, format)),
        Format::Auto => unreachable!("resolved above"),
    };
    Ok((project(input, table, opts.columns.as_deref())?, format))
}

/// The table a batch reader hands over when its batches are unbounded: the whole input.
pub(crate) fn one_batch(read: impl FnOnce(&mut dyn FnMut(Table) -> Result<()>) -> Result<()>) -> Result<Table> {
    let mut whole = None;
    read(&mut |t| {
        whole = Some(t);
        Ok(())
    })?;
    Ok(whole.expect("a batch reader hands over at least one table"))
}

/// The requested columns of a table read whole.
fn project(input: &Input, table: Table, columns: Option<&[String]>) -> Result<Table> {
    let Some(names) = columns else { return Ok(table) };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    table.select(&names).map_err(|e| IoError::invalid(format!("{}: {e}", input.name())))
}

#[cfg(feature = "arrow")]
fn read_columnar(input: &Input, format: Format, columns: Option<&[String]>) -> Result<Table> {
    crate::arrow::read_whole(input, format == Format::Parquet, columns)
}

#[cfg(not(feature = "arrow"))]
fn read_columnar(input: &Input, format: Format, _: Option<&[String]>) -> Result<Table> {
    Err(without_arrow(input, format))
}

#[cfg(not(feature = "arrow"))]
fn without_arrow(input: &Input, format: Format) -> IoError {
    IoError::UnknownFormat(format!(
        "{}: a {format} file, and this build reads none (outflow-io's `arrow` feature is off)",
        input.name()
    ))
}

/// Reads an input in tables of at most `max_rows` records, handing each to `f` (see
/// [`read_zeek_batches`](crate::read_zeek_batches)); returns the format used. Every format is read one
/// batch at a time, so memory holds one batch: Zeek ASCII logs and KDD files as they come, Parquet files
/// by row group, Arrow IPC files by record batch, CSV files and Zeek JSON logs longer than a batch after
/// a first reading that follows each column's type over every row without keeping the values
/// ([`read_csv_batches`](crate::read_csv_batches), [`read_zeek_json_batches`](crate::read_zeek_json_batches)).
///
/// ```
/// use outflow_io::{Input, ReadOptions, read_batches};
/// let log = "#separator \\x09\n#fields\tts\tid.orig_h\n#types\ttime\taddr\n1.0\t10.0.0.1\n2.0\t10.0.0.2\n";
/// let mut sizes = Vec::new();
/// read_batches(&Input::bytes("conn.log", log), &ReadOptions::default(), 1, |t| {
///     sizes.push(t.n_rows());
///     Ok::<(), outflow_io::IoError>(())
/// })
/// .unwrap();
/// assert_eq!(sizes, [1, 1]);
/// ```
pub fn read_batches<E: From<IoError>>(
    input: &Input,
    opts: &ReadOptions,
    max_rows: usize,
    f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<Format, E> {
    read_batches_typed(input, opts, max_rows, &mut BatchTypes::default(), f)
}

/// The column types a batch reading of a CSV file or Zeek JSON log longer than a batch learned in its
/// typing pass ([`read_batches_typed`]): handed to a later reading of the same input with the same
/// options, they spare it that pass. Empty for other inputs, which need no such pass.
#[derive(Debug, Clone, Default)]
pub struct BatchTypes {
    csv: Option<Vec<crate::infer::Inferred>>,
    json: Option<crate::zeek_json::JsonColumns>,
}

impl BatchTypes {
    /// Whether a reading has learned types to hand on.
    pub fn is_learned(&self) -> bool {
        self.csv.is_some() || self.json.is_some()
    }
}

/// [`read_batches`] that reads with the column types in `types` when a reading of the same input
/// learned them, else learns them there: a caller that reads a long CSV or Zeek JSON log twice (a
/// sample, then every row) reads it three times instead of four. A value that does not fit the types
/// given (the input changed since) is an error.
///
/// ```
/// use outflow_io::{BatchTypes, Input, ReadOptions, read_batches_typed};
/// let csv = Input::bytes("flows.csv", "bytes,proto\n10,tcp\n20,udp\n30,tcp\n");
/// let (mut types, mut rows) = (BatchTypes::default(), Vec::new());
/// for _ in 0..2 {
///     read_batches_typed(&csv, &ReadOptions::default(), 2, &mut types, |t| {
///         rows.push(t.n_rows());
///         Ok::<(), outflow_io::IoError>(())
///     })
///     .unwrap();
///     assert!(types.is_learned());
/// }
/// assert_eq!(rows, [2, 1, 2, 1]);
/// ```
pub fn read_batches_typed<E: From<IoError>>(
    input: &Input,
    opts: &ReadOptions,
    max_rows: usize,
    types: &mut BatchTypes,
    mut f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<Format, E> {
    let format = match opts.format {
        Format::Auto => detect_format(input)?,
        other => other,
    };
    let columns = opts.columns.as_deref();
    let project = |t| project(input, t, columns);
    match format {
        Format::Zeek => crate::zeek::read_zeek_batches(input, max_rows, |t| f(project(t)?))?,
        Format::ZeekJson => {
            crate::zeek_json::read_zeek_json_batches_typed(input, max_rows, &mut types.json, |t| f(project(t)?))?
        }
        Format::Kdd => crate::kdd::read_kdd_batches(input, max_rows, |t| f(project(t)?))?,
        Format::Csv => {
            crate::csv::read_csv_batches_typed(input, &opts.csv, max_rows, &mut types.csv, |t| f(project(t)?))?
        }
        #[cfg(feature = "arrow")]
        Format::Parquet | Format::Arrow => {
            crate::arrow::read_columnar_batches(input, format == Format::Parquet, max_rows, columns, f)?
        }
        #[cfg(not(feature = "arrow"))]
        Format::Parquet | Format::Arrow => return Err(without_arrow(input, format).into()),
        Format::Auto => unreachable!("resolved above"),
    }
    Ok(format)
}

/// Reads a file (gzip or plain) in the given (or detected) format.
///
/// ```no_run
/// use outflow_io::{read_table, ReadOptions};
/// let t = read_table("conn.log", &ReadOptions::default()).unwrap();
/// println!("{} flows, {} columns", t.n_rows(), t.n_cols());
/// ```
pub fn read_table(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Table> {
    read_input(&Input::path(path)?, opts).map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        let d = |s: &str| detect_format(&Input::bytes("x", s.as_bytes().to_vec()));
        assert_eq!(d("#separator \\x09\n").unwrap(), Format::Zeek);
        assert_eq!(d("\n{\"ts\":1}\n").unwrap(), Format::ZeekJson);
        assert_eq!(d("a,b\n1,2\n").unwrap(), Format::Csv);
        assert!(matches!(d(""), Err(IoError::Empty { .. })));
        assert!(matches!(d("#hello\n"), Err(IoError::UnknownFormat(_))));
        assert!("orc".parse::<Format>().is_err());
        assert_eq!("parquet".parse::<Format>().unwrap(), Format::Parquet);
        assert_eq!(d("PAR1\x15\x04").unwrap(), Format::Parquet);
        assert_eq!("zeek-json".parse::<Format>().unwrap(), Format::ZeekJson);
    }

    #[test]
    fn binary_content_is_named() {
        let d = |b: &[u8]| detect_format(&Input::bytes("s3://b/k", b.to_vec())).unwrap_err().to_string();
        let e = d(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
        assert!(e.contains("s3://b/k: a PNG image, not a flow log") && e.contains("Zeek"), "{e}");
        assert!(d(b"BZh91AY&SY").contains("bzip2"));
        assert!(d(b"ts,duration\n1,\x002\n").contains("binary data"));
        // A gzip input is judged by what it holds.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"%PDF-1.7\n").unwrap();
        assert!(d(&gz.finish().unwrap()).contains("a PDF document"));
        assert_eq!(detect_format(&Input::bytes("x", b"BZh,b\n1,2\n".to_vec())).unwrap(), Format::Csv);
    }

    /// A second reading with the types the first learned gives the same batches without the typing
    /// pass: given another file's types, a value that does not fit them is an error, not a new type.
    #[test]
    fn learned_types_are_read_with_not_learned_again() {
        let csv = |last: &str| format!("a,b\n{}{last},x\n", (0..9).map(|i| format!("{i},x\n")).collect::<String>());
        let json = |last: &str| {
            let lines: String = (0..9).map(|i| format!("{{\"a\":{i},\"b\":\"x\"}}\n")).collect();
            format!("{lines}{{\"a\":{last},\"late\":true}}\n")
        };
        let read = |text: &str, max_rows: usize, types: &mut BatchTypes| {
            let mut parts = Vec::new();
            let input = Input::bytes("t", text.as_bytes().to_vec());
            read_batches_typed(&input, &ReadOptions::default(), max_rows, types, |t| {
                parts.push(t);
                Ok::<(), IoError>(())
            })
            .map(|_| Table::concat(&parts).unwrap())
        };
        for (ints, floats) in [(csv("9"), csv("9.5")), (json("9"), json("9.5"))] {
            let mut types = BatchTypes::default();
            let first = read(&ints, 4, &mut types).unwrap();
            assert!(types.is_learned());
            assert!(read(&ints, 4, &mut types).unwrap() == first);
            let widened = read(&floats, 4, &mut BatchTypes::default()).unwrap();
            assert_eq!(widened.column("a").unwrap().dtype(), crate::DataType::Float);
            let err = read(&floats, 4, &mut types).unwrap_err().to_string();
            assert!(err.contains("input changed"), "{err}");
            // A key the learned columns do not have is an error at its line.
            if ints.starts_with('{') {
                let err = read(&format!("{ints}{{\"new\":1}}\n"), 4, &mut types.clone()).unwrap_err().to_string();
                assert!(err.contains("t:11") && err.contains("'new' is new"), "{err}");
            }
            // A file of one batch has nothing to learn.
            let mut types = BatchTypes::default();
            assert!(read(&ints, 100, &mut types).unwrap() == first && !types.is_learned());
        }
    }
}
