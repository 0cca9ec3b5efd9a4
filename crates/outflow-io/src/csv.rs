//! CSV with a header line, with type inference over all rows.

use csv::{ByteRecord, ReaderBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{IoError, Location, Result};
use crate::infer::{InferBuilder, Inferred, trim};
use crate::source::Input;
use crate::table::{Column, Table};

/// What to do with a record whose field count differs from the header's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaggedPolicy {
    /// Fail, naming the line.
    #[default]
    Error,
    /// Drop extra fields; fill missing ones with null.
    Truncate,
}

/// Options of the CSV reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Field separator; `None` sniffs `,`, tab, `;` or `|` from the header line.
    pub delimiter: Option<u8>,
    /// Quote character.
    pub quote: u8,
    /// Fields equal to one of these (after trimming spaces) are null.
    pub null_tokens: Vec<String>,
    /// Ragged-record policy.
    pub ragged: RaggedPolicy,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: None,
            quote: b'"',
            null_tokens: ["", "NaN", "nan", "-", "(empty)", "null"].iter().map(|s| s.to_string()).collect(),
            ragged: RaggedPolicy::Error,
        }
    }
}

/// Picks the separator that occurs most in the header line.
pub(crate) fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    [b',', b'\t', b';', b'|']
        .into_iter()
        .max_by_key(|d| (line.iter().filter(|b| *b == d).count(), *d == b','))
        .unwrap_or(b',')
}

struct NullSet(Vec<Vec<u8>>);

impl NullSet {
    fn new(tokens: &[String]) -> Self {
        NullSet(tokens.iter().map(|t| t.trim().as_bytes().to_vec()).collect())
    }

    #[inline]
    fn contains(&self, field: &[u8]) -> bool {
        let f = trim(field);
        self.0.iter().any(|t| t.as_slice() == f)
    }
}

/// Reads a CSV table with a header line. Types are inferred over all rows (bool, int, float, ISO time,
/// categorical); header names and values are trimmed of surrounding spaces; duplicate names get `.1`,
/// `.2` suffixes as pandas does.
pub fn read_csv(input: &Input, opts: &CsvOptions) -> Result<Table> {
    match read_csv_upto(input, opts, usize::MAX)? {
        Upto::Whole(table) => Ok(table),
        Upto::Longer { .. } => unreachable!("no file is longer than usize::MAX rows"),
    }
}

/// [`read_csv`] in tables of at most `max_rows` rows, handed to `f` in file order. A file of one batch
/// is read as `read_csv` reads it; for a longer one that reading goes on to the end to follow every
/// column's type over every row (no value kept), then the file is read again batch by batch with those
/// types: the batches are `read_csv`'s table cut into pieces, and memory holds one batch.
pub fn read_csv_batches<E: From<IoError>>(
    input: &Input,
    opts: &CsvOptions,
    max_rows: usize,
    f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    read_csv_batches_typed(input, opts, max_rows, &mut None, f)
}

/// [`read_csv_batches`] that keeps the column types a file longer than a batch needed a pass to learn
/// (`learned`), and reads with them instead of that pass when they are given.
pub(crate) fn read_csv_batches_typed<E: From<IoError>>(
    input: &Input,
    opts: &CsvOptions,
    max_rows: usize,
    learned: &mut Option<Vec<Inferred>>,
    mut f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut record = ByteRecord::new();
    // The rows the typing pass counted (none when the types were given).
    let (types, rows) = match learned {
        Some(types) => (types.clone(), None),
        None => {
            let (mut header, mut types, mut rows) = match read_csv_upto(input, opts, max_rows)? {
                Upto::Whole(table) => return f(table),
                Upto::Longer { header, types, rows } => (*header, types, rows),
            };
            while header.next(input, opts, &mut record)? {
                header.follow_types(&mut types, &record);
                rows += 1;
            }
            *learned = Some(types.clone());
            (types, Some(rows))
        }
    };
    let mut header = Header::read(input, opts)?;
    if header.names.len() != types.len() {
        let message = format!(
            "{}: input changed while reading ({} columns, then {})",
            header.file,
            types.len(),
            header.names.len()
        );
        return Err(IoError::invalid(message).into());
    }
    let (mut read, mut batch) = (0usize, 0usize);
    let typed = || types.iter().map(|&t| InferBuilder::typed(t)).collect::<Vec<_>>();
    let mut builders = typed();
    loop {
        let more = header.next(input, opts, &mut record)?;
        if more {
            header.push(&mut builders, &record);
            (read, batch) = (read + 1, batch + 1);
        }
        if batch == max_rows || (!more && batch > 0) {
            let columns = std::mem::replace(&mut builders, typed())
                .into_iter()
                .zip(&header.names)
                .zip(&types)
                .map(|((b, name), t)| b.finish(name).filter(|c| c.dtype() == t.dtype()))
                .collect::<Option<Vec<Column>>>();
            let Some(columns) = columns else {
                let message = format!("{}: input changed while reading (a value of another type)", header.file);
                return Err(IoError::invalid(message).into());
            };
            f(Table::new(columns)?)?;
            batch = 0;
        }
        if !more {
            break;
        }
    }
    if let Some(rows) = rows
        && read != rows
    {
        return Err(
            IoError::invalid(format!("{}: input changed while reading ({read} of {rows} rows)", header.file)).into()
        );
    }
    Ok(())
}

/// An open CSV reader past its header line, with what reading each record needs.
struct Header {
    reader: csv::Reader<Box<dyn std::io::BufRead + Send>>,
    names: Vec<String>,
    nulls: NullSet,
    file: String,
    delimiter: u8,
    /// Lines end in `\r\n`: the csv crate then counts a record's line one low (it takes the `\n` of the
    /// line before only when it reads the next record).
    crlf: bool,
}

impl Header {
    fn read(input: &Input, opts: &CsvOptions) -> Result<Header> {
        let head = input.head(1 << 16)?;
        let delimiter = match opts.delimiter {
            Some(d) => d,
            None => sniff_delimiter(&head),
        };
        let crlf = memchr::memchr(b'\n', &head).is_some_and(|i| i > 0 && head[i - 1] == b'\r');
        let file = input.name().to_owned();
        let mut reader = open_reader(input, delimiter, opts.quote)?;
        let mut record = ByteRecord::new();
        let got = reader.read_byte_record(&mut record).map_err(|e| csv_error(input, e))?;
        if !got {
            return Err(IoError::Empty { file, message: "no header line".into() });
        }
        let names = header_names(&record);
        let ncols = names.len();
        if ncols > crate::MAX_FIELDS {
            let message = format!("{ncols} fields in the header, more than {} a flow log can have", crate::MAX_FIELDS);
            return Err(IoError::Header { at: Location { file, line: 1, field: None }, message });
        }
        if let Some(message) = looks_like_a_record(&names) {
            return Err(IoError::Header { at: Location { file, line: 1, field: None }, message });
        }
        Ok(Header { reader, names, nulls: NullSet::new(&opts.null_tokens), file, delimiter, crlf })
    }

    /// The next record, checked (one line, the header's width unless ragged records are allowed).
    fn next(&mut self, input: &Input, opts: &CsvOptions, record: &mut ByteRecord) -> Result<bool> {
        if !self.reader.read_byte_record(record).map_err(|e| csv_error(input, e))? {
            return Ok(false);
        }
        let line = record.position().map_or(0, |p| p.line() + u64::from(self.crlf));
        check_one_line(record, &self.names, &self.file, line)?;
        check_ragged(record, self.names.len(), opts.ragged, &self.file, line)?;
        Ok(true)
    }

    /// Widens the column types by a record's non-null fields.
    fn follow_types(&self, types: &mut [Inferred], record: &ByteRecord) {
        for (t, f) in types.iter_mut().zip(record.iter()) {
            if !self.nulls.contains(f) {
                t.push(f);
            }
        }
    }

    /// Pushes a record's fields into the column builders.
    fn push(&self, builders: &mut [InferBuilder], record: &ByteRecord) {
        for (j, b) in builders.iter_mut().enumerate() {
            match record.get(j) {
                Some(f) if !self.nulls.contains(f) => b.push(f),
                _ => b.push_null(),
            }
        }
    }
}

/// What [`read_csv_upto`] found.
enum Upto {
    /// The file, read whole.
    Whole(Table),
    /// A longer file: its reader past the first `rows` rows, and their column types.
    Longer { header: Box<Header>, types: Vec<Inferred>, rows: usize },
}

/// [`read_csv`] of a file of at most `limit` rows; for a longer one, where it stopped.
fn read_csv_upto(input: &Input, opts: &CsvOptions, limit: usize) -> Result<Upto> {
    let mut header = Header::read(input, opts)?;
    let ncols = header.names.len();
    let mut record = ByteRecord::new();
    let mut builders: Vec<InferBuilder> = (0..ncols).map(|_| InferBuilder::new()).collect();
    let mut rows = 0usize;
    while header.next(input, opts, &mut record)? {
        if rows == limit {
            let mut types: Vec<Inferred> = builders.iter().map(InferBuilder::inferred).collect();
            // The record just read is the first past the limit: its types count too.
            header.follow_types(&mut types, &record);
            return Ok(Upto::Longer { header: Box::new(header), types, rows: rows + 1 });
        }
        header.push(&mut builders, &record);
        rows += 1;
    }
    let names = &header.names;
    let mut columns: Vec<Option<Column>> = builders.into_iter().zip(names).map(|(b, n)| b.finish(n)).collect();
    let reread: Vec<usize> = (0..ncols).filter(|&j| columns[j].is_none()).collect();
    if !reread.is_empty() {
        // Some columns turned out to be text after typed values: read those again as strings.
        let mut again: Vec<InferBuilder> = reread.iter().map(|_| InferBuilder::strings()).collect();
        let mut reader = open_reader(input, header.delimiter, opts.quote)?;
        reader.read_byte_record(&mut record).map_err(|e| csv_error(input, e))?;
        let mut n = 0usize;
        while n < rows && reader.read_byte_record(&mut record).map_err(|e| csv_error(input, e))? {
            for (b, &j) in again.iter_mut().zip(&reread) {
                match record.get(j) {
                    Some(f) if !header.nulls.contains(f) => b.push(f),
                    _ => b.push_null(),
                }
            }
            n += 1;
        }
        if n != rows {
            return Err(IoError::invalid(format!("{}: input changed while reading ({n} of {rows} rows)", header.file)));
        }
        for (b, &j) in again.into_iter().zip(&reread) {
            columns[j] = b.finish(&names[j]);
        }
    }
    Ok(Upto::Whole(Table::new(columns.into_iter().map(|c| c.expect("all columns finished")).collect())?))
}

fn open_reader(input: &Input, delimiter: u8, quote: u8) -> Result<csv::Reader<Box<dyn std::io::BufRead + Send>>> {
    Ok(ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 17)
        .from_reader(input.open()?))
}

pub(crate) fn check_ragged(
    record: &ByteRecord,
    ncols: usize,
    policy: RaggedPolicy,
    file: &str,
    line: u64,
) -> Result<()> {
    if record.len() != ncols && policy == RaggedPolicy::Error {
        return Err(IoError::Ragged {
            at: Location { file: file.to_owned(), line, field: None },
            expected: ncols,
            found: record.len(),
        });
    }
    Ok(())
}

/// Flow records hold no line breaks: a field running over lines is an unterminated quote, which would
/// otherwise swallow every following record into one field.
fn check_one_line(record: &ByteRecord, names: &[String], file: &str, line: u64) -> Result<()> {
    // One search over the record's bytes; the field is only looked for on a hit.
    if memchr::memchr(b'\n', record.as_slice()).is_none() {
        return Ok(());
    }
    let Some(field) = record.iter().position(|f| memchr::memchr(b'\n', f).is_some()) else { return Ok(()) };
    let breaks = record.get(field).map_or(0, |f| memchr::memchr_iter(b'\n', f).count());
    let name = names.get(field).cloned().unwrap_or_else(|| format!("column_{field}"));
    Err(IoError::Parse {
        at: Location { file: file.to_owned(), line, field: Some(name) },
        expected: "a record on one line (an unterminated quote?)".into(),
        found: format!("a quoted field holding {breaks} line breaks"),
    })
}

pub(crate) fn csv_error(input: &Input, e: csv::Error) -> IoError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(io) => input.read_error(line, io),
        other => IoError::Header {
            at: Location { file: input.name().to_owned(), line, field: None },
            message: format!("{other:?}"),
        },
    }
}

/// Why a header line is a record instead: most of its fields numbers or IP addresses. Files without a
/// header line (UNSW-NB15's raw records, nfdump's `-q` output, numpy's `savetxt`) would otherwise lose
/// their first record to column names such as `1390`. Columns numbered in order (`0,1,2,…`, as pandas
/// writes a frame without names) are a header.
fn looks_like_a_record(names: &[String]) -> Option<String> {
    let is_value = |s: &&String| s.parse::<f64>().is_ok() || s.parse::<std::net::IpAddr>().is_ok();
    let values: Vec<&String> = names.iter().filter(is_value).collect();
    let numbered: Vec<usize> = values.iter().filter_map(|s| s.parse().ok()).collect();
    let counted = numbered.len() == values.len() && numbered.windows(2).all(|w| w[1] == w[0] + 1);
    (values.len() >= 2 && 2 * values.len() > names.len() && !counted).then(|| {
        let shown: Vec<String> = values.iter().take(3).map(|s| format!("'{s}'")).collect();
        format!(
            "this line looks like a record, not a header: {} of its {} fields are numbers or addresses ({}, …); \
             the file needs a first line naming its columns",
            values.len(),
            names.len(),
            shown.join(", ")
        )
    })
}

fn header_names(record: &ByteRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (j, f) in record.iter().enumerate() {
        let f = if j == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
        let base = String::from_utf8_lossy(trim(f)).into_owned();
        let base = if base.is_empty() { format!("column_{j}") } else { base };
        let mut name = base.clone();
        let mut k = 1;
        while names.contains(&name) {
            name = format!("{base}.{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    fn read(s: &str, opts: &CsvOptions) -> Result<Table> {
        read_csv(&Input::bytes("t.csv", s.as_bytes().to_vec()), opts)
    }

    #[test]
    fn lines_ending_in_crlf_are_numbered_as_lines_ending_in_lf() {
        for end in ["\n", "\r\n"] {
            let ragged = ["a,b", "1,2", "3,4,5", "6,7"].join(end) + end;
            let err = read(&ragged, &CsvOptions::default()).unwrap_err();
            assert!(matches!(err, IoError::Ragged { ref at, .. } if at.line == 3), "{end:?}: {err}");
            let quoted = ["a,b", "1,2", "3,4", "5,\"x\ny\"", "8,9"].join(end) + end;
            let err = read(&quoted, &CsvOptions::default()).unwrap_err();
            assert!(matches!(err, IoError::Parse { ref at, .. } if at.line == 4), "{end:?}: {err}");
        }
    }

    #[test]
    fn an_unterminated_quote_is_an_error_at_its_line() {
        let mut text = String::from("a,b,c\n1,2,x\n3,4,\"oops\n");
        for i in 0..100 {
            text.push_str(&format!("{i},{i},y\n"));
        }
        let err = read(&text, &CsvOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IoError::Parse { ref at, .. } if at.line == 3), "{msg}");
        assert!(msg.contains("unterminated quote") && msg.contains("101 line breaks") && msg.contains("'c'"), "{msg}");
    }

    #[test]
    fn a_first_line_of_values_is_not_a_header() {
        let headerless =
            "59.166.0.0,1390,149.171.126.6,53,udp,CON,0.001055\n59.166.0.0,33661,149.171.126.9,1024,udp,CON,0.03\n";
        let err = read(headerless, &CsvOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IoError::Header { ref at, .. } if at.line == 1), "{msg}");
        assert!(msg.contains("5 of its 7 fields") && msg.contains("'59.166.0.0'"), "{msg}");
        // pandas' numbered columns, with or without the index's empty name, and a year among names.
        for text in ["0,1,2\n1.5,2,3\n", ",0,1,2\n0,1.5,2,3\n", "host,2019,bytes\nA,1,2\n"] {
            assert!(read(text, &CsvOptions::default()).is_ok(), "{text}");
        }
    }

    #[test]
    fn infers_types_and_nulls() {
        let t =
            read("a,b,c,d,e\n1,1.5,x,true,\n2,inf,\"y,z\",false,-\n3,-,NaN,TRUE,\n", &CsvOptions::default()).unwrap();
        let types: Vec<_> = t.columns().iter().map(|c| c.dtype()).collect();
        assert_eq!(types, [DataType::Int, DataType::Float, DataType::Categorical, DataType::Bool, DataType::Float]);
        assert_eq!(t.column("b").unwrap().f64_at(1), Some(f64::INFINITY));
        assert!(t.column("b").unwrap().is_null(2));
        assert_eq!(t.column("c").unwrap().str_at(1), Some("y,z"));
        assert!(t.column("c").unwrap().is_null(2));
        assert_eq!(t.column("e").unwrap().null_count(), 3);
    }

    #[test]
    fn late_string_rereads_exact_text() {
        let t = read("a\n007\n1.50\nabc\n", &CsvOptions::default()).unwrap();
        let c = t.column("a").unwrap();
        assert_eq!(c.dtype(), DataType::Categorical);
        assert_eq!(c.str_at(0), Some("007"));
        assert_eq!(c.str_at(1), Some("1.50"));
    }

    /// Every column type the inference can end with, each decided late in the file: the batches are the
    /// whole table cut into pieces, typed as the whole, for any batch size.
    #[test]
    fn batches_are_the_whole_table_in_pieces() {
        let mut text = String::from("int,late_float,late_text,flag,when,empty,big_then_float,ints_then_bool\n");
        for i in 0..9 {
            let late = |v: &str, other: &str| if i == 7 { v.to_owned() } else { other.to_owned() };
            text.push_str(&format!(
                "{i},{},{},{},2024-03-0{}T00:00:00Z,,{},{}\n",
                late("2.5", &i.to_string()),
                late("x7", &format!("00{i}")),
                if i % 2 == 0 { "true" } else { "-" },
                i + 1,
                late("0.5", "9007199254740993"),
                late("true", "1"),
            ));
        }
        let input = Input::bytes("t.csv", text.as_bytes().to_vec());
        let whole = read_csv(&input, &CsvOptions::default()).unwrap();
        let types: Vec<_> = whole.columns().iter().map(|c| c.dtype()).collect();
        use DataType::*;
        assert_eq!(types, [Int, Float, Categorical, Bool, Time, Float, Categorical, Categorical]);
        assert_eq!(whole.column("late_text").unwrap().str_at(0), Some("000"), "text kept exactly");
        for size in [1, 2, 4, 8, 9, 50] {
            let mut parts = Vec::new();
            read_csv_batches(&input, &CsvOptions::default(), size, |t| {
                parts.push(t);
                Ok::<(), IoError>(())
            })
            .unwrap();
            assert_eq!(parts.len(), 9usize.div_ceil(size), "batches of {size}");
            for p in &parts {
                assert_eq!(p.columns().iter().map(|c| c.dtype()).collect::<Vec<_>>(), types, "batches of {size}");
            }
            assert!(Table::concat(&parts).unwrap() == whole, "batches of {size}");
        }
        // Errors of a record past the first batch still name its line.
        let bad = format!("{text}1,2\n");
        let err = read_csv_batches(&Input::bytes("t.csv", bad), &CsvOptions::default(), 4, |_| Ok::<(), IoError>(()));
        assert!(matches!(err, Err(IoError::Ragged { ref at, .. }) if at.line == 11), "{err:?}");
    }

    #[test]
    fn ragged_policy() {
        let err = read("a,b\n1,2\n3\n", &CsvOptions::default()).unwrap_err();
        assert!(matches!(err, IoError::Ragged { ref at, expected: 2, found: 1 } if at.line == 3), "{err}");
        let opts = CsvOptions { ragged: RaggedPolicy::Truncate, ..Default::default() };
        let t = read("a,b\n1,2\n3\n4,5,6\n", &opts).unwrap();
        assert!(t.column("b").unwrap().is_null(1));
        assert_eq!(t.n_rows(), 3);
    }

    #[test]
    fn header_cleanup_and_sniffing() {
        let t = read("\u{feff} x ; x ;\n1;2;3\n", &CsvOptions::default()).unwrap();
        assert_eq!(t.names(), ["x", "x.1", "column_2"]);
        let t = read("a\tb\n1\t2\n", &CsvOptions::default()).unwrap();
        assert_eq!(t.n_cols(), 2);
    }

    #[test]
    fn empty_inputs() {
        assert!(matches!(read("", &CsvOptions::default()), Err(IoError::Empty { .. })));
        let t = read("a,b\n", &CsvOptions::default()).unwrap();
        assert_eq!((t.n_rows(), t.n_cols()), (0, 2));
    }
}
