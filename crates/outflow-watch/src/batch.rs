//! Lines gathered into micro-batches and parsed into flow tables with the batch readers of `outflow-io`:
//! a Zeek ASCII section's header is kept and put before each batch, so the reader sees a whole log.
//! A malformed line is taken out with its file and line number and the rest of the batch parsed again.

use std::sync::Arc;

use outflow::io::{Column, DataType, Input, IoError, Schema, Table, read_zeek, read_zeek_json};

use crate::follow::Line;

/// The kind of log seen in the first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// Zeek ASCII: `#` directives, then tab-separated records.
    ZeekTsv,
    /// Zeek JSON lines.
    ZeekJson,
}

/// Where a row of a batch came from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file as shown.
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u64,
}

/// A line that could not be read, for the log.
#[derive(Debug, Clone)]
pub struct Malformed {
    /// Where.
    pub at: Origin,
    /// Why.
    pub message: String,
}

/// A parsed batch: a table with one row per origin.
#[derive(Debug)]
pub struct Parsed {
    /// The flows.
    pub table: Table,
    /// Where each row came from.
    pub origins: Vec<Origin>,
    /// The kind of log they were read from.
    pub kind: LogKind,
    /// The model's input columns the batch did not have (added as nulls): not in the Zeek ASCII
    /// section's `#fields`, or in no JSON line of the batch.
    pub absent: Vec<String>,
}

/// Gathers lines into a batch and parses it.
#[derive(Debug, Default)]
pub struct Batcher {
    kind: Option<LogKind>,
    header: Vec<u8>,
    header_lines: usize,
    /// A line that starts a new header after records of this batch: applied once the batch is parsed.
    deferred: Option<(Vec<u8>, Origin)>,
    records: Vec<Vec<u8>>,
    origins: Vec<Origin>,
    /// Lines that are neither records nor directives (wrong kind, no header yet).
    rejected: Vec<Malformed>,
}

/// Whether the batch must be parsed before more lines are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Keep adding.
    More,
    /// A new header starts: parse the batch first ([`Batcher::take`]) — the line is kept for after.
    HeaderChange,
}

impl Batcher {
    /// An empty batcher.
    pub fn new() -> Batcher {
        Batcher::default()
    }

    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Adds a line.
    pub fn push(&mut self, line: Line) -> Added {
        let mut bytes = line.bytes;
        // A UTF-8 byte-order mark (an editor's save, at a file's start) is not data.
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Added::More;
        }
        let at = Origin { file: line.file, line: line.number };
        let starts_header = bytes.first() == Some(&b'#') && !bytes.starts_with(b"#close");
        if !self.records.is_empty()
            && ((line.new_file && self.kind == Some(LogKind::ZeekTsv))
                || (starts_header && self.kind == Some(LogKind::ZeekTsv)))
        {
            // The records so far are parsed with the header they were written under.
            self.deferred = Some((bytes, at));
            return Added::HeaderChange;
        }
        self.add(bytes, at)
    }

    fn add(&mut self, bytes: Vec<u8>, at: Origin) -> Added {
        let kind =
            *self.kind.get_or_insert(if bytes.first() == Some(&b'{') { LogKind::ZeekJson } else { LogKind::ZeekTsv });
        match (kind, bytes.first()) {
            (LogKind::ZeekTsv, Some(b'#')) => {
                if bytes.starts_with(b"#close") {
                    return Added::More;
                }
                if bytes.starts_with(b"#separator") {
                    self.header.clear();
                    self.header_lines = 0;
                }
                self.header.extend_from_slice(&bytes);
                self.header.push(b'\n');
                self.header_lines += 1;
            }
            (LogKind::ZeekTsv, _) if !self.header.windows(7).any(|w| w == b"#fields") => {
                self.rejected.push(Malformed { at, message: "a record before any #fields header".into() });
            }
            (LogKind::ZeekJson, first) if first != Some(&b'{') => {
                self.rejected.push(Malformed { at, message: "not a JSON object (the log is Zeek JSON)".into() });
            }
            _ => {
                self.records.push(bytes);
                self.origins.push(at);
            }
        }
        Added::More
    }

    /// Whether lines were rejected before parsing (reported by the next [`Batcher::take`]).
    pub fn has_rejected(&self) -> bool {
        !self.rejected.is_empty()
    }

    /// The Zeek ASCII header in force (empty for JSON or before any), for a checkpoint.
    pub fn header_text(&self) -> String {
        String::from_utf8_lossy(&self.header).into_owned()
    }

    /// Restores the header of a checkpoint: the lines after its position are records of that section.
    pub fn restore_header(&mut self, header: &[u8]) {
        if header.is_empty() {
            return;
        }
        self.kind = Some(LogKind::ZeekTsv);
        self.header = header.to_vec();
        self.header_lines = header.iter().filter(|b| **b == b'\n').count();
    }

    /// Lines rejected before parsing, since the last call.
    pub fn take_rejected(&mut self) -> Vec<Malformed> {
        std::mem::take(&mut self.rejected)
    }

    /// Parses the batch (empty afterwards) and applies a header change that ended it. Malformed records
    /// are returned with their origin; the rest is parsed.
    pub fn take(&mut self, schema: &Schema) -> (Option<Parsed>, Vec<Malformed>) {
        let records = std::mem::take(&mut self.records);
        let origins = std::mem::take(&mut self.origins);
        let mut bad = std::mem::take(&mut self.rejected);
        let parsed = if records.is_empty() {
            None
        } else {
            self.parse(records, origins, &mut bad).map(|mut p| {
                p.absent = conform(&mut p.table, schema);
                p
            })
        };
        if let Some((bytes, at)) = self.deferred.take() {
            self.add(bytes, at);
        }
        (parsed, bad)
    }

    fn parse(
        &mut self,
        mut records: Vec<Vec<u8>>,
        mut origins: Vec<Origin>,
        bad: &mut Vec<Malformed>,
    ) -> Option<Parsed> {
        let kind = self.kind?;
        // Each failure names one line: it is taken out and the rest parsed again. After a few, every
        // record is tried alone, so a batch of bad lines costs one parse per line, not per line squared.
        for _ in 0..8 {
            if records.is_empty() {
                return None;
            }
            match self.parse_all(kind, &records) {
                Ok(table) if table.n_rows() == records.len() => {
                    return Some(Parsed { table, origins, kind, absent: Vec::new() });
                }
                Ok(_) => break,
                Err(e) => match self.record_of(&e, records.len()) {
                    Some(i) => {
                        let at = origins.remove(i);
                        records.remove(i);
                        bad.push(Malformed { message: message_at(&e, &at), at });
                    }
                    None => break,
                },
            }
        }
        let mut keep_records = Vec::with_capacity(records.len());
        let mut keep_origins = Vec::with_capacity(records.len());
        for (r, at) in records.into_iter().zip(origins) {
            match self.parse_all(kind, std::slice::from_ref(&r)) {
                Ok(t) if t.n_rows() == 1 => {
                    keep_records.push(r);
                    keep_origins.push(at);
                }
                Ok(_) => bad.push(Malformed { at, message: "not a record".into() }),
                Err(e) => bad.push(Malformed { message: message_at(&e, &at), at }),
            }
        }
        if keep_records.is_empty() {
            return None;
        }
        match self.parse_all(kind, &keep_records) {
            Ok(table) if table.n_rows() == keep_records.len() => {
                Some(Parsed { table, origins: keep_origins, kind, absent: Vec::new() })
            }
            Ok(_) | Err(_) => {
                // Lines that parse alone but not together (a JSON key whose type changes between lines):
                // the batch is reported whole.
                for at in keep_origins {
                    bad.push(Malformed {
                        at,
                        message: "its values do not fit the types of the batch around it".into(),
                    });
                }
                None
            }
        }
    }

    fn parse_all(&self, kind: LogKind, records: &[Vec<u8>]) -> Result<Table, IoError> {
        let mut text = Vec::with_capacity(self.header.len() + records.iter().map(|r| r.len() + 1).sum::<usize>());
        if kind == LogKind::ZeekTsv {
            text.extend_from_slice(&self.header);
        }
        for r in records {
            text.extend_from_slice(r);
            text.push(b'\n');
        }
        let input = Input::bytes(BATCH_NAME, text);
        match kind {
            LogKind::ZeekTsv => read_zeek(&input),
            LogKind::ZeekJson => read_zeek_json(&input),
        }
    }

    /// The record an error points at (its line in the text handed to the reader, past the header).
    fn record_of(&self, e: &IoError, n: usize) -> Option<usize> {
        let line = error_line(e)?;
        let skip = if self.kind == Some(LogKind::ZeekTsv) { self.header_lines as u64 } else { 0 };
        let i = line.checked_sub(skip + 1)? as usize;
        (i < n).then_some(i)
    }
}

const BATCH_NAME: &str = "<batch>";

fn error_line(e: &IoError) -> Option<u64> {
    match e {
        IoError::Parse { at, .. } | IoError::Ragged { at, .. } | IoError::Header { at, .. } => Some(at.line),
        _ => None,
    }
}

/// The reader's message with the batch's location replaced by the line's own.
fn message_at(e: &IoError, at: &Origin) -> String {
    let text = e.to_string();
    match error_line(e) {
        Some(line) => {
            let prefix = format!("{BATCH_NAME}:{line}");
            text.strip_prefix(&prefix).map(|rest| rest.trim_start_matches([':', ',', ' ']).to_owned()).unwrap_or(text)
        }
        None => text.replace(BATCH_NAME, &at.file),
    }
}

/// Gives a batch every column of the model's input with the model's type: a Zeek JSON line leaves out
/// the fields that are unset, so a batch may lack a column or hold only nulls in it, typed otherwise.
/// Returns the columns the batch lacked.
fn conform(table: &mut Table, schema: &Schema) -> Vec<String> {
    let n = table.n_rows();
    let mut absent = Vec::new();
    for field in &schema.fields {
        let replace = match table.column(&field.name) {
            None => {
                absent.push(field.name.clone());
                true
            }
            Some(c) => c.dtype() != field.dtype && c.null_count() == n,
        };
        if replace {
            let _ = table.set_column(null_column(&field.name, field.dtype, n));
        }
    }
    absent
}

fn null_column(name: &str, dtype: DataType, n: usize) -> Column {
    match dtype {
        DataType::Float => Column::from_f64_opt(name, std::iter::repeat_n(None, n)),
        DataType::Int => Column::from_i64_opt(name, std::iter::repeat_n(None, n)),
        DataType::Bool => Column::from_bool_opt(name, std::iter::repeat_n(None, n)),
        DataType::Categorical => Column::from_str_opt(name, std::iter::repeat_n(None, n)),
        DataType::Time => Column::from_time_opt(name, std::iter::repeat_n(None, n)),
        DataType::Interval => Column::from_interval_opt(name, std::iter::repeat_n(None, n)),
    }
}
