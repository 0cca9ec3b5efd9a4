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

struct Col {
    name: String,
    cells: Vec<Cell>,
}

/// Reads a Zeek JSON-lines log. Nested objects are flattened with dots; arrays (Zeek sets and vectors)
/// become their elements joined by `,`; keys absent from a line are null.
pub fn read_zeek_json(input: &Input) -> Result<Table> {
    let file = input.name().to_owned();
    let mut r = input.open()?;
    let mut buf = Vec::with_capacity(4096);
    let mut lineno = 0u64;
    let mut cols: Vec<Col> = Vec::new();
    let mut index: rustc_hash::FxHashMap<String, usize> = Default::default();
    let mut rows = 0usize;
    let mut flat: Vec<(String, Cell)> = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).map_err(|e| input.read_error(lineno, e))? == 0 {
            break;
        }
        lineno += 1;
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let at = || Location { file: file.clone(), line: lineno, field: None };
        let obj: Map<String, Json> = match serde_json::from_slice::<Json>(line) {
            Ok(Json::Object(m)) => m,
            Ok(_) => {
                return Err(IoError::Parse { at: at(), expected: "a JSON object".into(), found: excerpt(line) });
            }
            Err(e) => {
                return Err(IoError::Parse { at: at(), expected: format!("JSON ({e})"), found: excerpt(line) });
            }
        };
        flat.clear();
        flatten("", obj, &mut flat);
        for (key, cell) in flat.drain(..) {
            if let Some(expected) = wrong_type(&key, &cell) {
                let found = match &cell {
                    Cell::Str(v) => format!("\"{}\"", excerpt(v.as_bytes())),
                    Cell::Bool(b) => b.to_string(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Float(f) => f.to_string(),
                    Cell::Null => "null".into(),
                };
                return Err(IoError::Parse { at: Location { field: Some(key), ..at() }, expected, found });
            }
            let j = match index.get(&key) {
                Some(&j) => j,
                None if cols.len() == crate::MAX_FIELDS => {
                    return Err(IoError::Header {
                        at: Location { field: Some(key), ..at() },
                        message: format!("more than {} distinct keys: not a flow log", crate::MAX_FIELDS),
                    });
                }
                None => {
                    cols.push(Col { name: key.clone(), cells: vec![Cell::Null; rows] });
                    index.insert(key, cols.len() - 1);
                    cols.len() - 1
                }
            };
            let c = &mut cols[j];
            if c.cells.len() > rows {
                return Err(IoError::Parse {
                    at: Location { field: Some(c.name.clone()), ..at() },
                    expected: "each key once per object".into(),
                    found: c.name.clone(),
                });
            }
            c.cells.push(cell);
        }
        rows += 1;
        for c in &mut cols {
            if c.cells.len() < rows {
                c.cells.push(Cell::Null);
            }
        }
    }
    if rows == 0 {
        return Err(IoError::Empty { file, message: "no JSON records".into() });
    }
    Table::new(cols.into_iter().map(finish).collect())
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

fn finish(col: Col) -> Column {
    let Col { name, cells } = col;
    let zeek_type = known_zeek_type(&name);
    let has = |f: fn(&Cell) -> bool| cells.iter().any(f);
    let only = |f: fn(&Cell) -> bool| cells.iter().all(|c| matches!(c, Cell::Null) || f(c));
    let as_f64 = |c: &Cell| match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(x) => Some(*x),
        _ => None,
    };
    let numeric = only(|c| matches!(c, Cell::Int(_) | Cell::Float(_)));
    let col =
        if matches!(zeek_type, Some("time")) && only(|c| matches!(c, Cell::Int(_) | Cell::Float(_) | Cell::Str(_))) {
            let parsed: Vec<Option<Option<f64>>> = cells
                .iter()
                .map(|c| match c {
                    Cell::Null => Some(None),
                    Cell::Str(s) => parse_iso8601(s.as_bytes()).map(Some),
                    c => as_f64(c).map(Some),
                })
                .collect();
            if parsed.iter().all(Option::is_some) {
                Some(Column::from_time_opt(&name, parsed.into_iter().map(Option::flatten)))
            } else {
                None
            }
        } else {
            None
        };
    let col = col.unwrap_or_else(|| {
        if !has(|c| !matches!(c, Cell::Null)) {
            Column::from_f64_opt(&name, cells.iter().map(|_| None))
        } else if numeric && matches!(zeek_type, Some("interval")) {
            Column::from_interval_opt(&name, cells.iter().map(as_f64))
        } else if only(|c| matches!(c, Cell::Int(_))) {
            Column::from_i64_opt(
                &name,
                cells.iter().map(|c| match c {
                    Cell::Int(i) => Some(*i),
                    _ => None,
                }),
            )
        } else if numeric {
            Column::from_f64_opt(&name, cells.iter().map(as_f64))
        } else if only(|c| matches!(c, Cell::Bool(_))) {
            Column::from_bool_opt(
                &name,
                cells.iter().map(|c| match c {
                    Cell::Bool(b) => Some(*b),
                    _ => None,
                }),
            )
        } else {
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
    });
    match zeek_type {
        Some(t) => col.with_source_type(t),
        None => col,
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
