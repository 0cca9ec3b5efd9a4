//! Zeek ASCII (TSV) logs: `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#fields`,
//! `#types`, `#close`; several logs concatenated; labeled variants.

use std::io::BufRead;

use crate::error::{IoError, Location, Result, excerpt};
use crate::source::Input;
use crate::table::Table;
use crate::typed::{TypedBuilder, kind_of, unescape};

/// The Zeek type of a well-known conn-log field, used when a log has no `#types` line.
pub fn known_zeek_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "ts" => "time",
        "uid" | "service" | "conn_state" | "history" | "label" | "detailed-label" | "detailedlabel" => "string",
        "id.orig_h" | "id.resp_h" => "addr",
        "id.orig_p" | "id.resp_p" => "port",
        "proto" => "enum",
        "duration" => "interval",
        "orig_bytes" | "resp_bytes" | "missed_bytes" | "orig_pkts" | "orig_ip_bytes" | "resp_pkts"
        | "resp_ip_bytes" => "count",
        "local_orig" | "local_resp" => "bool",
        "tunnel_parents" => "set[string]",
        _ => return None,
    })
}

/// Header state of one log within the input.
struct Section {
    sep: u8,
    set_sep: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    fields: Vec<String>,
    types: Option<Vec<String>>,
    /// Section field → global column.
    map: Vec<usize>,
    ready: bool,
}

impl Default for Section {
    fn default() -> Self {
        Section {
            sep: b'\t',
            set_sep: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            fields: Vec::new(),
            types: None,
            map: Vec::new(),
            ready: false,
        }
    }
}

/// Splits a header line's parts; a last part holding spaces (labeled captures such as IoT-23 write
/// `tunnel_parents   label   detailed-label`) is split on runs of spaces.
fn header_parts(rest: &[u8], sep: u8) -> Vec<String> {
    let mut parts: Vec<String> = rest.split(|&b| b == sep).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    if let Some(last) = parts.pop() {
        parts.extend(last.split(' ').filter(|s| !s.is_empty()).map(str::to_owned));
    }
    parts
}

/// Reads a Zeek ASCII log (or several concatenated). Columns of later logs are matched by name; a column
/// missing from one log is null for its rows.
pub fn read_zeek(input: &Input) -> Result<Table> {
    crate::format::one_batch(|f| read_zeek_batches(input, usize::MAX, f))
}

/// Reads a Zeek ASCII log in tables of at most `max_rows` records, handing each to `f` as soon as it is
/// full (the last may be shorter; a log without records gives one empty table). Memory holds one
/// batch. A batch has the columns seen so far: a column that a later concatenated log adds appears from
/// the batch where it starts. Errors name the line in the whole input.
pub fn read_zeek_batches<E: From<IoError>>(
    input: &Input,
    max_rows: usize,
    mut f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let file = input.name().to_owned();
    let max_rows = max_rows.max(1);
    let mut r = input.open()?;
    let mut line = Vec::with_capacity(4096);
    let mut lineno: u64 = 0;
    let mut sec = Section::default();
    let mut cols: Vec<TypedBuilder> = Vec::new();
    let (mut rows, mut emitted) = (0usize, 0usize);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut present: Vec<bool> = Vec::new();
    let at = |line: u64, field: Option<&str>| Location { file: file.clone(), line, field: field.map(str::to_owned) };
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line).map_err(|e| input.read_error(lineno, e))?;
        if n == 0 {
            break;
        }
        lineno += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        // A UTF-8 byte-order mark before the first directive (an editor's save) is not data.
        if lineno == 1 && line.starts_with(b"\xEF\xBB\xBF") {
            line.drain(..3);
        }
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' {
            if line.starts_with(b"#separator") && sec.ready && sec.map.is_empty() {
                // A header-only log still contributes its columns.
                bind_section(&mut sec, &mut cols, rows, &at(lineno, None))?;
            }
            directive(&line, &mut sec, &at(lineno, None))?;
            continue;
        }
        if !sec.ready {
            return Err(
                IoError::Header { at: at(lineno, None), message: "data line before a #fields header".into() }.into()
            );
        }
        if sec.map.is_empty() {
            // Bind at the first record, once #fields and #types are both known.
            bind_section(&mut sec, &mut cols, rows, &at(lineno, None))?;
            present = vec![false; cols.len()];
            for &g in &sec.map {
                present[g] = true;
            }
        }
        push_record(&line, &sec, &mut cols, &present, &mut spans, &|field| at(lineno, field))?;
        rows += 1;
        if rows == max_rows {
            // Empty builders of the same columns and types take over; the full ones become a table.
            let fresh: Vec<TypedBuilder> =
                cols.iter().map(|c| TypedBuilder::with_kind(&c.name, c.source_type.as_deref(), c.kind, 0)).collect();
            let full = std::mem::replace(&mut cols, fresh);
            f(finish(full)?)?;
            rows = 0;
            emitted += 1;
        }
    }
    if sec.ready && sec.map.is_empty() {
        bind_section(&mut sec, &mut cols, rows, &at(lineno, None))?;
    }
    if cols.is_empty() {
        return Err(IoError::Empty { file, message: "no #fields header: not a Zeek ASCII log".into() }.into());
    }
    let _ = &sec.set_sep; // sets are kept as their raw text, separator included
    if rows > 0 || emitted == 0 {
        f(finish(cols)?)?;
    }
    Ok(())
}

fn finish(cols: Vec<TypedBuilder>) -> Result<Table> {
    Table::new(cols.into_iter().map(TypedBuilder::finish).collect::<Result<Vec<_>>>()?)
}

/// Appends one data line to the columns (null in the columns this log section lacks).
fn push_record(
    line: &[u8],
    sec: &Section,
    cols: &mut [TypedBuilder],
    present: &[bool],
    spans: &mut Vec<(usize, usize)>,
    at: &dyn Fn(Option<&str>) -> Location,
) -> Result<()> {
    split_fields(line, sec.sep, spans);
    let want = sec.fields.len();
    if spans.len() < want {
        split_spaced_tail(line, spans, want);
    }
    if spans.len() != want {
        return Err(IoError::Ragged { at: at(None), expected: want, found: spans.len() });
    }
    for (k, &(s, e)) in spans.iter().enumerate() {
        let f = &line[s..e];
        let b = &mut cols[sec.map[k]];
        if f == sec.unset.as_slice() {
            b.push_null();
        } else {
            let empty = f == sec.empty.as_slice();
            if let Err(expected) = b.push(f, empty) {
                let ty = b.source_type.clone().unwrap_or_default();
                return Err(IoError::Parse {
                    at: at(Some(&sec.fields[k])),
                    expected: format!("{expected} (Zeek type {ty})"),
                    found: excerpt(f),
                });
            }
        }
    }
    for (g, p) in present.iter().enumerate() {
        if !p {
            cols[g].push_null();
        }
    }
    Ok(())
}

fn split_fields(line: &[u8], sep: u8, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let mut start = 0;
    for p in memchr::memchr_iter(sep, line) {
        spans.push((start, p));
        start = p + 1;
    }
    spans.push((start, line.len()));
}

/// The last field of a labeled capture may hold the missing fields separated by runs of spaces.
fn split_spaced_tail(line: &[u8], spans: &mut Vec<(usize, usize)>, want: usize) {
    let Some((mut s, e)) = spans.pop() else { return };
    let missing = want - spans.len() - 1;
    for _ in 0..missing {
        let Some(pos) = line[s..e].iter().position(|&b| b == b' ') else { break };
        spans.push((s, s + pos));
        let skip = line[s + pos..e].iter().take_while(|&&b| b == b' ').count();
        s += pos + skip;
    }
    spans.push((s, e));
}

fn directive(line: &[u8], sec: &mut Section, at: &Location) -> Result<()> {
    let (key, rest) = split_directive(line, sec.sep);
    match key {
        b"#separator" => {
            let v = String::from_utf8_lossy(rest.trim_ascii());
            let bytes = unescape(&v.into_owned().into_bytes()).into_bytes();
            if bytes.len() != 1 {
                return Err(IoError::Header { at: at.clone(), message: format!("unsupported separator {bytes:?}") });
            }
            // A new #separator starts a new log.
            *sec = Section { sep: bytes[0], ..Section::default() };
        }
        b"#set_separator" => sec.set_sep = unescape(rest).into_bytes(),
        b"#empty_field" => sec.empty = rest.to_vec(),
        b"#unset_field" => sec.unset = rest.to_vec(),
        b"#fields" => {
            sec.fields = header_parts(rest, sec.sep);
            if sec.fields.len() > crate::MAX_FIELDS {
                let message = format!(
                    "{} fields in #fields, more than {} a flow log can have",
                    sec.fields.len(),
                    crate::MAX_FIELDS
                );
                return Err(IoError::Header { at: at.clone(), message });
            }
            sec.map.clear();
            sec.ready = sec.fields.iter().all(|f| !f.is_empty()) && !sec.fields.is_empty();
            if !sec.ready {
                return Err(IoError::Header { at: at.clone(), message: "empty #fields header".into() });
            }
        }
        b"#types" => {
            let types = header_parts(rest, sec.sep);
            if !sec.fields.is_empty() && types.len() != sec.fields.len() {
                return Err(IoError::Header {
                    at: at.clone(),
                    message: format!("#types has {} entries, #fields has {}", types.len(), sec.fields.len()),
                });
            }
            sec.types = Some(types);
            sec.map.clear();
        }
        // #path, #open, #close and unknown directives carry nothing the table needs.
        _ => {}
    }
    Ok(())
}

fn split_directive(line: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == sep || b == b' ' || b == b'\t') {
        Some(p) => (&line[..p], &line[p + 1..]),
        None => (line, &[]),
    }
}

/// Maps a section's fields to global columns, creating new ones (null for earlier rows).
fn bind_section(sec: &mut Section, cols: &mut Vec<TypedBuilder>, rows: usize, at: &Location) -> Result<()> {
    // `#types` may come before `#fields`: their lengths are compared once both are known.
    if let Some(types) = sec.types.as_ref().filter(|t| t.len() != sec.fields.len()) {
        let message = format!("#types has {} entries, #fields has {}", types.len(), sec.fields.len());
        return Err(IoError::Header { at: at.clone(), message });
    }
    let mut map = Vec::with_capacity(sec.fields.len());
    for (k, name) in sec.fields.iter().enumerate() {
        let ty = sec.types.as_ref().map(|t| t[k].as_str()).or_else(|| known_zeek_type(name));
        if map.iter().any(|&g: &usize| cols[g].name == *name) {
            return Err(IoError::Header { at: at.clone(), message: format!("duplicate field '{name}'") });
        }
        match cols.iter().position(|c| c.name == *name) {
            Some(g) => {
                if cols[g].kind != ty.map(kind_of) {
                    return Err(IoError::Header {
                        at: at.clone(),
                        message: format!(
                            "field '{name}' is {} here but {} in an earlier log",
                            ty.unwrap_or("untyped"),
                            cols[g].source_type.as_deref().unwrap_or("untyped")
                        ),
                    });
                }
                map.push(g);
            }
            None => {
                cols.push(TypedBuilder::new(name, ty, rows));
                map.push(cols.len() - 1);
            }
        }
    }
    sec.map = map;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    const HEAD: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n";

    fn read(s: &str) -> Result<Table> {
        read_zeek(&Input::bytes("t.log", s.as_bytes().to_vec()))
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_skipped() {
        let s = format!("\u{feff}{HEAD}#fields\tts\tid.orig_h\n#types\ttime\taddr\n1.0\t10.0.0.1\n");
        let t = read(&s).unwrap();
        assert_eq!((t.n_rows(), t.names()), (1, vec!["ts", "id.orig_h"]));
    }

    #[test]
    fn batches_cover_the_log_and_errors_keep_their_line() {
        // Two concatenated logs; the second adds a column.
        let s = format!(
            "{HEAD}#fields\tts\tid.orig_h\n#types\ttime\taddr\n1.0\t10.0.0.1\n2.0\t10.0.0.2\n3.0\t10.0.0.3\n\
             {HEAD}#fields\tts\tid.orig_h\tservice\n#types\ttime\taddr\tstring\n4.0\t10.0.0.4\tdns\n5.0\t10.0.0.5\t-\n"
        );
        let input = Input::bytes("t.log", s.as_bytes().to_vec());
        let whole = read(&s).unwrap();
        for size in [1, 2, 3, 5, 100] {
            let mut batches = Vec::new();
            read_zeek_batches(&input, size, |t| {
                batches.push(t);
                Ok::<(), IoError>(())
            })
            .unwrap();
            assert_eq!(batches.len(), 5usize.div_ceil(size), "batch size {size}");
            assert!(batches.iter().all(|b| b.n_rows() <= size));
            let mut row = 0;
            for b in &batches {
                for r in 0..b.n_rows() {
                    for name in ["ts", "id.orig_h", "service"] {
                        let got = b.column(name).map_or(crate::Value::Null, |c| c.value(r));
                        assert_eq!(got, whole.column(name).unwrap().value(row), "size {size}, row {row}, {name}");
                    }
                    row += 1;
                }
            }
            assert_eq!(row, 5);
        }
        // A bad value in a later batch is reported at its line of the whole input.
        let bad = s.replace("5.0\t10.0.0.5", "oops\t10.0.0.5");
        let err =
            read_zeek_batches(&Input::bytes("t.log", bad.into_bytes()), 2, |_| Ok::<(), IoError>(())).unwrap_err();
        let line = s.lines().position(|l| l.starts_with("5.0")).unwrap() + 1;
        assert!(err.to_string().contains(&format!("t.log:{line}")), "{err}");
        // A log without records is one empty table.
        let mut n = 0;
        read_zeek_batches(&Input::bytes("e.log", format!("{HEAD}#fields\tts\n#types\ttime\n")), 2, |t| {
            assert_eq!((t.n_rows(), t.n_cols()), (0, 1));
            n += 1;
            Ok::<(), IoError>(())
        })
        .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn typed_fields_unset_and_empty() {
        let s = format!(
            "{HEAD}#fields\tts\tid.orig_p\tduration\tlocal_orig\ttunnel_parents\tservice\n\
             #types\ttime\tport\tinterval\tbool\tset[string]\tstring\n\
             1.5\t80\t-\tT\t(empty)\ta\\x09b\n2.0\t443\t0.25\tF\tx,y\t-\n#close\t2020\n"
        );
        let t = read(&s).unwrap();
        assert_eq!(t.n_rows(), 2);
        assert_eq!(t.column("ts").unwrap().dtype(), DataType::Time);
        assert_eq!(t.column("id.orig_p").unwrap().source_type(), Some("port"));
        assert!(t.column("duration").unwrap().is_null(0));
        assert_eq!(t.column("duration").unwrap().f64_at(1), Some(0.25));
        assert_eq!(t.column("local_orig").unwrap().value(0), crate::Value::Bool(true));
        assert_eq!(t.column("tunnel_parents").unwrap().str_at(0), Some(""));
        assert_eq!(t.column("tunnel_parents").unwrap().str_at(1), Some("x,y"));
        assert_eq!(t.column("service").unwrap().str_at(0), Some("a\tb"));
    }

    #[test]
    fn bad_value_names_line_and_field() {
        let s = format!("{HEAD}#fields\tts\tn\n#types\ttime\tcount\n1.0\t3\n2.0\tx3\n");
        let err = read(&s).unwrap_err();
        match err {
            IoError::Parse { at, found, .. } => {
                assert_eq!(at.line, 9);
                assert_eq!(at.field.as_deref(), Some("n"));
                assert_eq!(found, "x3");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn concatenated_logs_union_by_name() {
        let s = format!(
            "{HEAD}#fields\tts\ta\n#types\ttime\tcount\n1.0\t1\n#close\tx\n\
             {HEAD}#fields\tts\tb\n#types\ttime\tstring\n2.0\tq\n"
        );
        let t = read(&s).unwrap();
        assert_eq!(t.n_rows(), 2);
        assert!(t.column("a").unwrap().is_null(1));
        assert!(t.column("b").unwrap().is_null(0));
        assert_eq!(t.column("b").unwrap().str_at(1), Some("q"));
    }

    #[test]
    fn spaced_label_tail() {
        let s = format!(
            "{HEAD}#fields\tts\ttunnel_parents   label   detailed-label\n\
             #types\ttime\tset[string]   string   string\n1.0\t-   Malicious   PartOfAHorizontalPortScan\n"
        );
        let t = read(&s).unwrap();
        assert_eq!(t.names(), ["ts", "tunnel_parents", "label", "detailed-label"]);
        assert_eq!(t.column("label").unwrap().str_at(0), Some("Malicious"));
        assert!(t.column("tunnel_parents").unwrap().is_null(0));
    }

    #[test]
    fn types_before_fields_of_another_length_is_an_error() {
        // Found by the read_zeek fuzz target: the lengths were compared only when #fields came first.
        let s = "#separator \\x09\n#types\ttime\n#fields\tts\tn\n1.0\t2\n";
        let e = read_zeek(&Input::bytes("t.log", s)).unwrap_err().to_string();
        assert!(e.contains("t.log:4") && e.contains("#types has 1 entries, #fields has 2"), "{e}");
    }

    #[test]
    fn untyped_log_uses_known_types_and_inference() {
        let s = format!("{HEAD}#fields\tts\tduration\tweird\n1.0\t0.5\t7\n2.0\t-\t8\n");
        let t = read(&s).unwrap();
        assert_eq!(t.column("duration").unwrap().dtype(), DataType::Interval);
        assert_eq!(t.column("weird").unwrap().dtype(), DataType::Int);
    }

    #[test]
    fn ragged_and_headerless() {
        let s = format!("{HEAD}#fields\tts\ta\n#types\ttime\tcount\n1.0\n");
        assert!(matches!(read(&s), Err(IoError::Ragged { .. })));
        assert!(matches!(read("1.0\t2\n"), Err(IoError::Header { .. })));
        assert!(matches!(read(""), Err(IoError::Empty { .. })));
    }
}
