//! Zeek JSON-lines logs (`LogAscii::use_json=T`): one object per line, dotted keys such as `id.orig_h`,
//! `ts` as epoch seconds or ISO 8601.

use std::io::BufRead;

use serde_json::{Map, Value as Json};

use crate::error::{IoError, Location, Result, excerpt};
use crate::infer::parse_iso8601;
use crate::source::Input;
use crate::table::{Column, Table};
use crate::zeek::known_zeek_type;

#[derive(Debug, Clone)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// Reads a Zeek JSON-lines log. Nested objects are flattened with dots; arrays (Zeek sets and vectors)
/// become their elements joined by `,`; keys absent from a line are null.
pub fn read_zeek_json(input: &Input) -> Result<Table> {
    crate::format::one_batch(|f| read_zeek_json_batches(input, usize::MAX, f))
}

/// [`read_zeek_json`] in tables of at most `max_rows` records, handed to `f` in file order. A log of one
/// batch is read as `read_zeek_json` reads it; for a longer one that reading goes on to the end to learn
/// every key and follow its type over every record (no value kept), then the log is read again batch
/// by batch with those columns and types: the batches are `read_zeek_json`'s table cut into pieces
/// (a key that appears late is a null column in the batches before it), and memory holds one batch.
pub fn read_zeek_json_batches<E: From<IoError>>(
    input: &Input,
    max_rows: usize,
    f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    read_zeek_json_batches_typed(input, max_rows, &mut None, f)
}

/// The keys of a Zeek JSON log in order of first appearance and each one's type over the whole log.
pub(crate) type JsonColumns = (Vec<String>, Vec<Decided>);

/// [`read_zeek_json_batches`] that keeps the columns a log longer than a batch needed a pass to learn
/// (`learned`), and reads with them instead of that pass when they are given.
pub(crate) fn read_zeek_json_batches_typed<E: From<IoError>>(
    input: &Input,
    max_rows: usize,
    learned: &mut Option<JsonColumns>,
    mut f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let max_rows = max_rows.max(1);
    let mut flat = Vec::new();
    // The records the typing pass counted (none when the columns were given).
    let (names, decided, rows) = match learned {
        Some((names, decided)) => (names.clone(), decided.clone(), None),
        None => match learn_columns(input, max_rows, &mut flat)? {
            Learned::Whole(table) => return f(table),
            Learned::Longer { names, decided, rows } => {
                *learned = Some((names.clone(), decided.clone()));
                (names, decided, Some(rows))
            }
        },
    };
    let index: rustc_hash::FxHashMap<String, usize> = names.iter().enumerate().map(|(j, n)| (n.clone(), j)).collect();
    let mut lines = Lines::open(input)?;
    let empty = || Batch {
        cols: names.iter().map(|n| Col { name: n.clone(), cells: Vec::new() }).collect(),
        index: index.clone(),
        rows: 0,
        closed: true,
    };
    let (mut batch, mut read) = (empty(), 0usize);
    loop {
        let more = lines.next(&mut flat)?;
        if more {
            batch.push(&mut flat, &lines)?;
            read += 1;
        }
        if batch.rows == max_rows || (!more && batch.rows > 0) {
            let full = std::mem::replace(&mut batch, empty());
            let columns = full.cols.into_iter().zip(&decided).map(|(c, &d)| {
                let fits = Kind::of(&c.name, &c.cells).fits(d);
                fits.then(|| build(c, d))
            });
            let Some(columns) = columns.collect::<Option<Vec<Column>>>() else {
                let message = format!("{}: input changed while reading (a value of another type)", lines.file);
                return Err(IoError::invalid(message).into());
            };
            f(Table::new(columns)?)?;
        }
        if !more {
            break;
        }
    }
    if let Some(rows) = rows
        && read != rows
    {
        let message = format!("{}: input changed while reading ({read} of {rows} records)", lines.file);
        return Err(IoError::invalid(message).into());
    }
    Ok(())
}

/// What the first reading of a Zeek JSON log found.
enum Learned {
    /// A log of one batch, read whole.
    Whole(Table),
    /// A longer log: its columns and types over every record, and how many records it has.
    Longer { names: Vec<String>, decided: Vec<Decided>, rows: usize },
}

/// Reads the first `max_rows` records; a log with more goes on to the end to learn every key and
/// follow its type without keeping a value.
fn learn_columns(input: &Input, max_rows: usize, flat: &mut Vec<(String, Cell)>) -> Result<Learned> {
    let mut lines = Lines::open(input)?;
    let mut batch = Batch::default();
    while batch.rows < max_rows && lines.next(flat)? {
        batch.push(flat, &lines)?;
    }
    if batch.rows == 0 {
        return Err(IoError::Empty { file: lines.file, message: "no JSON records".into() });
    }
    if !lines.next(flat)? {
        let columns = batch.cols.into_iter().map(|c| {
            let kind = Kind::of(&c.name, &c.cells);
            build(c, kind.decide())
        });
        return Ok(Learned::Whole(Table::new(columns.collect())?));
    }
    // Longer than a batch: the types over the whole log.
    let mut kinds: Vec<Kind> = batch.cols.iter().map(|c| Kind::of(&c.name, &c.cells)).collect();
    let mut index = batch.index;
    let mut names: Vec<String> = batch.cols.into_iter().map(|c| c.name).collect();
    let mut rows = batch.rows;
    loop {
        for (key, cell) in flat.drain(..) {
            let j = match index.get(&key) {
                Some(&j) => j,
                None => {
                    lines.check_width(names.len(), &key)?;
                    kinds.push(Kind::new(&key));
                    names.push(key.clone());
                    index.insert(key, names.len() - 1);
                    names.len() - 1
                }
            };
            kinds[j].follow(&cell);
        }
        rows += 1;
        if !lines.next(flat)? {
            break;
        }
    }
    let decided = kinds.iter().map(Kind::decide).collect();
    Ok(Learned::Longer { names, decided, rows })
}

/// An open log, read record by record.
struct Lines<'a> {
    input: &'a Input,
    reader: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line: u64,
    file: String,
}

impl<'a> Lines<'a> {
    fn open(input: &'a Input) -> Result<Lines<'a>> {
        Ok(Lines {
            input,
            reader: input.open()?,
            buf: Vec::with_capacity(4096),
            line: 0,
            file: input.name().to_owned(),
        })
    }

    fn at(&self) -> Location {
        Location { file: self.file.clone(), line: self.line, field: None }
    }

    /// The next record's flattened keys and values into `flat`; false at the end of the log.
    fn next(&mut self, flat: &mut Vec<(String, Cell)>) -> Result<bool> {
        flat.clear();
        let line = loop {
            self.buf.clear();
            let n = self.reader.read_until(b'\n', &mut self.buf).map_err(|e| self.input.read_error(self.line, e))?;
            if n == 0 {
                return Ok(false);
            }
            self.line += 1;
            // A UTF-8 byte-order mark before the first record (an editor's save) is not data.
            if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            if !self.buf.trim_ascii().is_empty() {
                break self.buf.trim_ascii();
            }
        };
        let obj: Map<String, Json> = match serde_json::from_slice::<Json>(line) {
            Ok(Json::Object(m)) => m,
            Ok(_) => {
                return Err(IoError::Parse { at: self.at(), expected: "a JSON object".into(), found: excerpt(line) });
            }
            Err(e) => {
                let expected = format!("JSON ({e})");
                return Err(IoError::Parse { at: self.at(), expected, found: excerpt(line) });
            }
        };
        flatten("", obj, flat);
        for (key, cell) in flat.iter() {
            if let Some(expected) = wrong_type(key, cell) {
                let found = match cell {
                    Cell::Str(v) => format!("\"{}\"", excerpt(v.as_bytes())),
                    Cell::Bool(b) => b.to_string(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Float(f) => f.to_string(),
                    Cell::Null => "null".into(),
                };
                return Err(IoError::Parse { at: Location { field: Some(key.clone()), ..self.at() }, expected, found });
            }
        }
        Ok(true)
    }

    /// A new key beyond what a flow log can have is an error at the current line.
    fn check_width(&self, keys: usize, key: &str) -> Result<()> {
        if keys < crate::MAX_FIELDS {
            return Ok(());
        }
        Err(IoError::Header {
            at: Location { field: Some(key.to_owned()), ..self.at() },
            message: format!("more than {} distinct keys: not a flow log", crate::MAX_FIELDS),
        })
    }
}

struct Col {
    name: String,
    cells: Vec<Cell>,
}

/// Records read into columns, in the order their keys first appear.
#[derive(Default)]
struct Batch {
    cols: Vec<Col>,
    index: rustc_hash::FxHashMap<String, usize>,
    rows: usize,
    /// The columns were learned over the whole log: a key outside them means the log changed.
    closed: bool,
}

impl Batch {
    fn push(&mut self, flat: &mut Vec<(String, Cell)>, lines: &Lines) -> Result<()> {
        for (key, cell) in flat.drain(..) {
            let j = match self.index.get(&key) {
                Some(&j) => j,
                None if self.closed => {
                    let message = format!("input changed while reading (key '{key}' is new)");
                    return Err(IoError::Header { at: Location { field: Some(key), ..lines.at() }, message });
                }
                None => {
                    lines.check_width(self.cols.len(), &key)?;
                    self.cols.push(Col { name: key.clone(), cells: vec![Cell::Null; self.rows] });
                    self.index.insert(key, self.cols.len() - 1);
                    self.cols.len() - 1
                }
            };
            let c = &mut self.cols[j];
            if c.cells.len() > self.rows {
                return Err(IoError::Parse {
                    at: Location { field: Some(c.name.clone()), ..lines.at() },
                    expected: "each key once per object".into(),
                    found: c.name.clone(),
                });
            }
            c.cells.push(cell);
        }
        self.rows += 1;
        for c in &mut self.cols {
            if c.cells.len() < self.rows {
                c.cells.push(Cell::Null);
            }
        }
        Ok(())
    }
}

/// What a column's values have been so far: enough to decide its type without keeping them.
#[derive(Debug, Clone, Copy)]
struct Kind {
    zeek: Option<&'static str>,
    values: bool,
    bools: bool,
    ints: bool,
    floats: bool,
    strs: bool,
    /// A string that is not an ISO 8601 time (followed only for Zeek `time` fields).
    not_times: bool,
}

/// A column's type, decided from its [`Kind`] over the whole log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decided {
    Time,
    /// No value anywhere: a float column of nulls.
    Empty,
    Interval,
    Int,
    Float,
    Bool,
    Text,
}

impl Kind {
    fn new(name: &str) -> Kind {
        let zeek = known_zeek_type(name);
        Kind { zeek, values: false, bools: false, ints: false, floats: false, strs: false, not_times: false }
    }

    fn of(name: &str, cells: &[Cell]) -> Kind {
        let mut k = Kind::new(name);
        cells.iter().for_each(|c| k.follow(c));
        k
    }

    fn follow(&mut self, cell: &Cell) {
        match cell {
            Cell::Null => return,
            Cell::Bool(_) => self.bools = true,
            Cell::Int(_) => self.ints = true,
            Cell::Float(_) => self.floats = true,
            Cell::Str(s) => {
                self.strs = true;
                if self.zeek == Some("time") && !self.not_times && parse_iso8601(s.as_bytes()).is_none() {
                    self.not_times = true;
                }
            }
        }
        self.values = true;
    }

    /// Zeek's type where its values allow it, else the narrowest type holding every value: int, then
    /// float, bool, text.
    fn decide(&self) -> Decided {
        let numeric = !self.bools && !self.strs;
        if self.zeek == Some("time") && !self.bools && !self.not_times {
            Decided::Time
        } else if !self.values {
            Decided::Empty
        } else if numeric && self.zeek == Some("interval") {
            Decided::Interval
        } else if numeric && !self.floats {
            Decided::Int
        } else if numeric {
            Decided::Float
        } else if !self.ints && !self.floats && !self.strs {
            Decided::Bool
        } else {
            Decided::Text
        }
    }

    /// Whether these values can be held by a column of type `d`.
    fn fits(&self, d: Decided) -> bool {
        let numeric = !self.bools && !self.strs;
        match d {
            Decided::Time => !self.bools && !self.not_times,
            Decided::Empty => !self.values,
            Decided::Interval | Decided::Float => numeric,
            Decided::Int => numeric && !self.floats,
            Decided::Bool => !self.ints && !self.floats && !self.strs,
            Decided::Text => true,
        }
    }
}

/// The column of a decided type; values it cannot hold are null (callers check [`Kind::fits`]).
fn build(col: Col, d: Decided) -> Column {
    let Col { name, cells } = col;
    let as_f64 = |c: &Cell| match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(x) => Some(*x),
        _ => None,
    };
    let zeek = known_zeek_type(&name);
    let col = match d {
        Decided::Time => Column::from_time_opt(
            &name,
            cells.iter().map(|c| match c {
                Cell::Str(s) => parse_iso8601(s.as_bytes()),
                c => as_f64(c),
            }),
        ),
        Decided::Empty => Column::from_f64_opt(&name, cells.iter().map(|_| None)),
        Decided::Interval => Column::from_interval_opt(&name, cells.iter().map(as_f64)),
        Decided::Float => Column::from_f64_opt(&name, cells.iter().map(as_f64)),
        Decided::Int => Column::from_i64_opt(
            &name,
            cells.iter().map(|c| match c {
                Cell::Int(i) => Some(*i),
                _ => None,
            }),
        ),
        Decided::Bool => Column::from_bool_opt(
            &name,
            cells.iter().map(|c| match c {
                Cell::Bool(b) => Some(*b),
                _ => None,
            }),
        ),
        Decided::Text => {
            let text: Vec<Option<String>> = cells
                .iter()
                .map(|c| match c {
                    Cell::Null => None,
                    Cell::Bool(b) => Some(b.to_string()),
                    Cell::Int(i) => Some(i.to_string()),
                    Cell::Float(x) => Some(x.to_string()),
                    Cell::Str(s) => Some(s.clone()),
                })
                .collect();
            Column::from_str_opt(&name, text.iter().map(Option::as_deref))
        }
    };
    match zeek {
        Some(t) => col.with_source_type(t),
        None => col,
    }
}

/// What a well-known conn-log field must hold when its JSON value has another type (one wrong value
/// would otherwise turn the whole column into text and silently drop the feature).
fn wrong_type(key: &str, cell: &Cell) -> Option<String> {
    let zeek = known_zeek_type(key)?;
    let ok = match (zeek, cell) {
        (_, Cell::Null) => true,
        ("count" | "port" | "int", c) => matches!(c, Cell::Int(_)),
        ("interval" | "double", c) => matches!(c, Cell::Int(_) | Cell::Float(_)),
        ("time", c) => matches!(c, Cell::Int(_) | Cell::Float(_) | Cell::Str(_)),
        ("bool", c) => matches!(c, Cell::Bool(_)),
        (_, c) => matches!(c, Cell::Str(_)),
    };
    let what = match zeek {
        "count" | "port" | "int" => "an integer",
        "interval" | "double" => "a number",
        "time" => "epoch seconds or an ISO 8601 time",
        "bool" => "true or false",
        _ => "a string",
    };
    (!ok).then(|| format!("{what} (Zeek type {zeek})"))
}

fn flatten(prefix: &str, obj: Map<String, Json>, out: &mut Vec<(String, Cell)>) {
    for (k, v) in obj {
        let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        match v {
            Json::Object(m) => flatten(&key, m, out),
            other => out.push((key, cell(other))),
        }
    }
}

fn cell(v: Json) -> Cell {
    match v {
        Json::Null => Cell::Null,
        Json::Bool(b) => Cell::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Cell::Str(s),
        Json::Array(items) => Cell::Str(
            items
                .into_iter()
                .map(|x| match x {
                    Json::String(s) => s,
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Json::Object(_) => unreachable!("objects are flattened"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    fn read(s: &str) -> Result<Table> {
        read_zeek_json(&Input::bytes("t.json", s.as_bytes().to_vec()))
    }

    #[test]
    fn a_byte_order_mark_before_the_first_record_is_skipped() {
        let t =
            read("\u{feff}{\"ts\":1.5,\"id.orig_h\":\"10.0.0.1\"}\n{\"ts\":2.5,\"id.orig_h\":\"10.0.0.2\"}\n").unwrap();
        assert_eq!((t.n_rows(), t.names()), (2, vec!["ts", "id.orig_h"]));
    }

    #[test]
    fn types_nesting_and_missing_keys() {
        let t = read(concat!(
            r#"{"ts":1.5,"id":{"orig_h":"10.0.0.1","orig_p":80},"duration":0.5,"local_orig":true,"tunnel_parents":["a","b"]}"#,
            "\n\n",
            r#"{"ts":"1970-01-01T00:00:02Z","id.orig_h":"10.0.0.2","id.orig_p":443,"extra":3}"#,
            "\n"
        ))
        .unwrap();
        assert_eq!(t.n_rows(), 2);
        assert_eq!(t.column("ts").unwrap().dtype(), DataType::Time);
        assert_eq!(t.column("ts").unwrap().f64_at(1), Some(2.0));
        assert_eq!(t.column("id.orig_p").unwrap().dtype(), DataType::Int);
        assert_eq!(t.column("duration").unwrap().dtype(), DataType::Interval);
        assert!(t.column("duration").unwrap().is_null(1));
        assert_eq!(t.column("tunnel_parents").unwrap().str_at(0), Some("a,b"));
        assert!(t.column("extra").unwrap().is_null(0));
        assert_eq!(t.column("local_orig").unwrap().dtype(), DataType::Bool);
    }

    /// Every batch size gives the whole table in pieces: same columns, types and values, a key that
    /// first appears late (null before it), a type decided by a late value.
    #[test]
    fn batches_are_the_whole_table_in_pieces() {
        let mut log = String::new();
        for i in 0..23 {
            let ts = if i == 5 { "\"1970-01-01T00:00:05Z\"".to_owned() } else { format!("{i}.5") };
            let bytes = if i == 17 { "2.5".to_owned() } else { i.to_string() };
            let mixed = if i == 20 { "\"x\"".to_owned() } else { (i * 2).to_string() };
            let late = if i >= 11 { format!(r#","late":{{"flag":{}}}"#, i % 2 == 0) } else { String::new() };
            log += &format!(r#"{{"ts":{ts},"orig_bytes":{i},"x":{bytes},"m":{mixed},"duration":null{late}}}"#);
            log += "\n";
            if i == 9 {
                log += "\n";
            }
        }
        let whole = read(&log).unwrap();
        assert_eq!(whole.column("x").unwrap().dtype(), DataType::Float);
        assert!(whole.column("m").unwrap().str_at(20) == Some("x"));
        assert_eq!(whole.column("late.flag").unwrap().dtype(), DataType::Bool);
        for max_rows in [1, 2, 5, 10, 22, 23, 50] {
            let mut parts = Vec::new();
            read_zeek_json_batches(&Input::bytes("t.json", log.as_bytes().to_vec()), max_rows, |t| {
                parts.push(t);
                Ok::<(), IoError>(())
            })
            .unwrap();
            assert_eq!(parts.len(), 23usize.div_ceil(max_rows), "max_rows {max_rows}");
            for p in &parts {
                let names =
                    |t: &Table| t.columns().iter().map(|c| (c.name().to_owned(), c.dtype())).collect::<Vec<_>>();
                assert_eq!(names(p), names(&whole), "batches of {max_rows}");
            }
            assert!(Table::concat(&parts).unwrap() == whole, "batches of {max_rows}");
        }
        let err = read_zeek_json_batches(&Input::bytes("t.json", "{\"a\":1}\n{\"a\":\n"), 1, |_| Ok::<(), IoError>(()));
        assert!(matches!(err, Err(IoError::Parse { ref at, .. }) if at.line == 2));
    }

    #[test]
    fn malformed_line_is_located() {
        let err = read("{\"ts\":1}\n{\"ts\":\n").unwrap_err();
        assert!(matches!(err, IoError::Parse { ref at, .. } if at.line == 2), "{err}");
        assert!(matches!(read("[1,2]\n"), Err(IoError::Parse { .. })));
        assert!(matches!(read("\n\n"), Err(IoError::Empty { .. })));
    }

    #[test]
    fn a_wrong_typed_known_field_is_reported_at_its_line() {
        let ok = r#"{"ts":1.0,"orig_bytes":300,"local_orig":true}"#;
        let bad = r#"{"ts":2.0,"orig_bytes":"lots","local_orig":true}"#;
        let err = read(&format!("{ok}\n{bad}\n")).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, IoError::Parse { ref at, .. } if at.line == 2 && at.field.as_deref() == Some("orig_bytes"))
        );
        assert!(text.contains("an integer (Zeek type count)") && text.contains("lots"), "{text}");
        let err = read(&format!("{ok}\n{}\n", r#"{"ts":3.0,"local_orig":"yes"}"#)).unwrap_err();
        assert!(err.to_string().contains("true or false"), "{err}");
        // Unknown fields are inferred as before; nulls are fine anywhere.
        let t = read(&format!("{ok}\n{}\n", r#"{"ts":4.0,"orig_bytes":null,"note":"x"}"#)).unwrap();
        assert_eq!(t.column("orig_bytes").unwrap().dtype(), DataType::Int);
    }
}
