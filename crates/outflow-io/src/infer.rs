//! Value classification, exact fast number parsing and type-inferring column builders.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::table::{CategoricalBuilder, Column, ColumnData, Validity};

/// Largest integer below which every integer is exactly representable in `f64`.
const EXACT_INT: i64 = 1 << 53;

/// Powers of ten exactly representable in `f64` (10^0 ..= 10^22).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// A parsed number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

/// Strips ASCII whitespace at both ends.
#[inline]
pub(crate) fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Parses a decimal number exactly: integers up to 18 digits stay integers, simple decimals use Clinger's
/// fast path (one correctly rounded IEEE operation), everything else falls back to the standard library
/// parser (also for `inf`, `nan`, long mantissas and large exponents).
pub(crate) fn parse_number(b: &[u8]) -> Option<Num> {
    let b = trim(b);
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let first = *digits.first()?;
    if !(first.is_ascii_digit() || first == b'.') {
        return parse_special(b);
    }
    let mut mant: u64 = 0;
    let mut n_digits = 0usize;
    let mut i = 0;
    while i < digits.len() && digits[i].is_ascii_digit() {
        if n_digits < 19 {
            mant = mant * 10 + u64::from(digits[i] - b'0');
        }
        if mant != 0 || n_digits > 0 {
            n_digits += 1;
        }
        i += 1;
    }
    let int_len = i;
    if i == digits.len() {
        if int_len == 0 {
            return None;
        }
        if n_digits <= 18 {
            let v = mant as i64;
            return Some(Num::Int(if neg { -v } else { v }));
        }
        return std_parse_int_or_float(b);
    }
    let mut frac_digits = 0i32;
    if digits[i] == b'.' {
        i += 1;
        while i < digits.len() && digits[i].is_ascii_digit() {
            if n_digits < 19 {
                mant = mant * 10 + u64::from(digits[i] - b'0');
                frac_digits += 1;
            }
            if mant != 0 || n_digits > 0 {
                n_digits += 1;
            }
            i += 1;
        }
        if int_len == 0 && i == int_len + 1 {
            return None; // "." alone
        }
    }
    let mut exp: i32 = 0;
    if i < digits.len() {
        if digits[i] != b'e' && digits[i] != b'E' {
            return None;
        }
        i += 1;
        let eneg = match digits.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while i < digits.len() && digits[i].is_ascii_digit() {
            exp = exp.saturating_mul(10).saturating_add(i32::from(digits[i] - b'0'));
            i += 1;
        }
        if i == start || i != digits.len() {
            return None;
        }
        if eneg {
            exp = -exp;
        }
    }
    if n_digits <= 19 && mant < (1u64 << 53) {
        let e = exp - frac_digits;
        let m = mant as f64;
        let v = if (0..=22).contains(&e) {
            Some(m * POW10[e as usize])
        } else if (-22..0).contains(&e) {
            Some(m / POW10[(-e) as usize])
        } else {
            None
        };
        if let Some(v) = v {
            return Some(Num::Float(if neg { -v } else { v }));
        }
    }
    std_parse_float(b)
}

fn parse_special(b: &[u8]) -> Option<Num> {
    // inf, -inf, infinity, nan (any case), as Rust and numpy accept them.
    let s = std::str::from_utf8(b).ok()?;
    let body = s.trim_start_matches(['+', '-']);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") { s.parse::<f64>().ok().map(Num::Float) } else { None }
}

fn std_parse_float(b: &[u8]) -> Option<Num> {
    std::str::from_utf8(b).ok()?.parse::<f64>().ok().map(Num::Float)
}

fn std_parse_int_or_float(b: &[u8]) -> Option<Num> {
    let s = std::str::from_utf8(b).ok()?;
    match s.parse::<i64>() {
        Ok(v) => Some(Num::Int(v)),
        Err(_) => s.parse::<f64>().ok().map(Num::Float),
    }
}

/// Parses a float field (any number syntax).
#[inline]
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    match parse_number(b)? {
        Num::Int(0) if trim(b).starts_with(b"-") => Some(-0.0),
        Num::Int(v) => Some(v as f64),
        Num::Float(v) => Some(v),
    }
}

/// Parses an integer field (no fraction, no exponent).
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    match parse_number(b)? {
        Num::Int(v) => Some(v),
        Num::Float(_) => std::str::from_utf8(trim(b)).ok()?.parse::<i64>().ok(),
    }
}

/// Parses ISO 8601 / RFC 3339 date-times (`2017-07-07T08:59:00.5Z`, `2017-07-07 08:59:00`, `2017-07-07`) to
/// epoch seconds; naive times are UTC.
pub(crate) fn parse_iso8601(b: &[u8]) -> Option<f64> {
    let b = trim(b);
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(epoch_secs(dt.timestamp(), dt.timestamp_subsec_nanos()));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            let u = dt.and_utc();
            return Some(epoch_secs(u.timestamp(), u.timestamp_subsec_nanos()));
        }
    }
    for fmt in ["%Y-%m-%d%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(epoch_secs(dt.timestamp(), dt.timestamp_subsec_nanos()));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()))?
        .map(|s| s as f64)
}

fn epoch_secs(secs: i64, nanos: u32) -> f64 {
    secs as f64 + f64::from(nanos) * 1e-9
}

/// Text as a string: invalid UTF-8 is replaced (U+FFFD) rather than refused, because real CIC exports carry
/// Windows-1252 bytes in labels.
pub(crate) fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(trim(b))
}

/// What a non-null text field looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Bool(bool),
    Int(i64),
    Float(f64),
    Time(f64),
    Str,
}

/// Classifies a non-null field for CSV-style inference.
pub(crate) fn classify(b: &[u8]) -> Kind {
    match parse_number(b) {
        Some(Num::Int(v)) => return Kind::Int(v),
        Some(Num::Float(v)) => return Kind::Float(v),
        None => {}
    }
    let t = trim(b);
    if t.eq_ignore_ascii_case(b"true") {
        return Kind::Bool(true);
    }
    if t.eq_ignore_ascii_case(b"false") {
        return Kind::Bool(false);
    }
    if let Some(s) = parse_iso8601(t) {
        return Kind::Time(s);
    }
    Kind::Str
}

/// An integer that converts to `f64` exactly.
fn exact_int(x: i64) -> bool {
    x.unsigned_abs() <= EXACT_INT as u64
}

/// The type an [`InferBuilder`] ends with, followed over a column's fields without keeping them: one
/// pass over a long file types its columns as reading it whole would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inferred {
    /// Only nulls so far (a column of nulls ends as floats).
    Unknown,
    Bool,
    /// Integers; `exact` while every one converts to `f64` exactly (then a float widens them).
    Int {
        exact: bool,
    },
    Float,
    Time,
    Str,
}

impl Inferred {
    /// The type after one more non-null field (as [`InferBuilder::push`] widens).
    pub(crate) fn push(&mut self, field: &[u8]) {
        if *self == Inferred::Str {
            return;
        }
        *self = match (*self, classify(field)) {
            (Inferred::Unknown | Inferred::Bool, Kind::Bool(_)) => Inferred::Bool,
            (Inferred::Unknown, Kind::Int(x)) => Inferred::Int { exact: exact_int(x) },
            (Inferred::Int { exact }, Kind::Int(x)) => Inferred::Int { exact: exact && exact_int(x) },
            (Inferred::Unknown | Inferred::Int { exact: true } | Inferred::Float, Kind::Float(_)) => Inferred::Float,
            (Inferred::Float, Kind::Int(_)) => Inferred::Float,
            (Inferred::Unknown | Inferred::Time, Kind::Time(_)) => Inferred::Time,
            _ => Inferred::Str,
        };
    }

    /// The column type it ends as.
    pub(crate) fn dtype(self) -> crate::table::DataType {
        use crate::table::DataType;
        match self {
            Inferred::Unknown | Inferred::Float => DataType::Float,
            Inferred::Bool => DataType::Bool,
            Inferred::Int { .. } => DataType::Int,
            Inferred::Time => DataType::Time,
            Inferred::Str => DataType::Categorical,
        }
    }
}

/// Values collected so far for a column whose type is being inferred.
#[derive(Debug)]
enum Values {
    /// Only nulls so far.
    Unknown,
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Time(Vec<f64>),
    Str(CategoricalBuilder),
    /// Became a string column after typed values whose text was not kept: re-read needed.
    Deferred,
}

/// Builds one column, widening its type as values arrive (bool / int / float / time / string).
///
/// Widening int → float is done in place when exact; any widening that would lose the original text
/// (numbers or booleans turning out to be strings) marks the column [`InferBuilder::needs_reread`].
#[derive(Debug)]
pub(crate) struct InferBuilder {
    values: Values,
    validity: Validity,
}

impl InferBuilder {
    pub(crate) fn new() -> Self {
        InferBuilder { values: Values::Unknown, validity: Validity::default() }
    }

    /// A builder that collects strings only (used when re-reading).
    pub(crate) fn strings() -> Self {
        InferBuilder { values: Values::Str(CategoricalBuilder::default()), validity: Validity::default() }
    }

    pub(crate) fn push_null(&mut self) {
        match &mut self.values {
            Values::Unknown | Values::Deferred => {}
            Values::Bool(v) => v.push(false),
            Values::Int(v) => v.push(0),
            Values::Float(v) | Values::Time(v) => v.push(0.0),
            Values::Str(c) => c.push_null(),
        }
        self.validity.push(false);
    }

    /// Pushes a non-null field.
    pub(crate) fn push(&mut self, field: &[u8]) {
        if let Values::Str(c) = &mut self.values {
            c.push(&text(field));
            self.validity.push(true);
            return;
        }
        if matches!(self.values, Values::Deferred) {
            self.validity.push(true);
            return;
        }
        let kind = classify(field);
        let n = self.validity.len();
        let fits = match (&mut self.values, kind) {
            (Values::Bool(v), Kind::Bool(b)) => {
                v.push(b);
                true
            }
            (Values::Int(v), Kind::Int(x)) => {
                v.push(x);
                true
            }
            (Values::Float(v), Kind::Float(x)) => {
                v.push(x);
                true
            }
            (Values::Float(v), Kind::Int(_)) => {
                v.push(parse_f64(field).unwrap_or(f64::NAN));
                true
            }
            (Values::Time(v), Kind::Time(x)) => {
                v.push(x);
                true
            }
            _ => false,
        };
        if !fits {
            self.widen(kind, field, n);
        }
        self.validity.push(true);
    }

    fn widen(&mut self, kind: Kind, field: &[u8], n: usize) {
        self.values = match (std::mem::replace(&mut self.values, Values::Unknown), kind) {
            // Only nulls so far: the first value decides, earlier rows become fillers.
            (Values::Unknown, Kind::Bool(b)) => Values::Bool(fill(n, false, b)),
            (Values::Unknown, Kind::Int(x)) => Values::Int(fill(n, 0, x)),
            (Values::Unknown, Kind::Float(x)) => Values::Float(fill(n, 0.0, x)),
            (Values::Unknown, Kind::Time(x)) => Values::Time(fill(n, 0.0, x)),
            (Values::Unknown, Kind::Str) => {
                let mut c = CategoricalBuilder::default();
                (0..n).for_each(|_| c.push_null());
                c.push(&text(field));
                Values::Str(c)
            }
            (Values::Int(v), Kind::Float(x)) if v.iter().all(|x| exact_int(*x)) => {
                let mut f: Vec<f64> = v.into_iter().map(|x| x as f64).collect();
                f.push(x);
                Values::Float(f)
            }
            _ => Values::Deferred,
        };
    }

    /// The type the column has so far, as [`Inferred`] follows it.
    pub(crate) fn inferred(&self) -> Inferred {
        match &self.values {
            Values::Unknown => Inferred::Unknown,
            Values::Bool(_) => Inferred::Bool,
            Values::Int(v) => Inferred::Int { exact: v.iter().all(|&x| exact_int(x)) },
            Values::Float(_) => Inferred::Float,
            Values::Time(_) => Inferred::Time,
            Values::Str(_) | Values::Deferred => Inferred::Str,
        }
    }

    /// A builder for a column whose type is known: the values of a batch of a file whose columns were
    /// typed over every row ([`Inferred`]), so that every batch ends with the file's type.
    pub(crate) fn typed(t: Inferred) -> Self {
        let values = match t {
            Inferred::Unknown => Values::Unknown,
            Inferred::Bool => Values::Bool(Vec::new()),
            Inferred::Int { .. } => Values::Int(Vec::new()),
            Inferred::Float => Values::Float(Vec::new()),
            Inferred::Time => Values::Time(Vec::new()),
            Inferred::Str => Values::Str(CategoricalBuilder::default()),
        };
        InferBuilder { values, validity: Validity::default() }
    }

    /// Finishes the column. `None` when the column needs a re-read as strings.
    pub(crate) fn finish(self, name: &str) -> Option<Column> {
        let data = match self.values {
            Values::Unknown => ColumnData::Float(vec![0.0; self.validity.len()]),
            Values::Bool(v) => ColumnData::Bool(v),
            Values::Int(v) => ColumnData::Int(v),
            Values::Float(v) => ColumnData::Float(v),
            Values::Time(v) => ColumnData::Time(v),
            Values::Str(c) => ColumnData::Categorical(c.finish()),
            Values::Deferred => return None,
        };
        Some(Column::with_validity(name, data, self.validity).expect("builder keeps lengths equal"))
    }
}

/// Re-types a categorical column from its text (bool / int / float / time), or returns it unchanged.
pub(crate) fn infer_from_text(col: Column) -> Column {
    let mut b = InferBuilder::new();
    for i in 0..col.len() {
        match col.str_at(i) {
            Some(s) => b.push(s.as_bytes()),
            None => b.push_null(),
        }
    }
    b.finish(col.name()).unwrap_or(col)
}

fn fill<T: Copy>(n: usize, filler: T, last: T) -> Vec<T> {
    let mut v = vec![filler; n];
    v.push(last);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_exactly() {
        for s in [
            "0",
            "-0",
            "1",
            "-17",
            "3.25",
            "0.1",
            "1e5",
            "1.5E-3",
            ".5",
            "5.",
            "123456789.123456",
            "1319371.728",
            "20942.40838",
            "63.66666667",
            "1e300",
            "4.9e-324",
            "1.7976931348623157e308",
            "0.000001",
            "12345678901234567890",
            "1234567890123456789012.5",
            "2.2250738585072014e-308",
        ] {
            let expect: f64 = s.parse().unwrap();
            let got = parse_f64(s.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), expect.to_bits(), "{s}");
        }
        assert_eq!(parse_number(b"42"), Some(Num::Int(42)));
        assert_eq!(parse_number(b" -42 "), Some(Num::Int(-42)));
        assert_eq!(parse_number(b"9223372036854775807"), Some(Num::Int(i64::MAX)));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-Infinity"), Some(f64::NEG_INFINITY));
        for bad in ["", "-", ".", "e5", "1e", "1.2.3", "abc", "1,5", "0x10", "--1", "1e+", "infx"] {
            assert_eq!(parse_number(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn iso_times() {
        assert_eq!(parse_iso8601(b"1970-01-02T00:00:00Z"), Some(86400.0));
        assert_eq!(parse_iso8601(b"1970-01-01 00:00:01.5"), Some(1.5));
        assert_eq!(parse_iso8601(b"1970-01-02"), Some(86400.0));
        assert_eq!(parse_iso8601(b"2019-12-03T22:44:56.052279Z"), Some(1575413096.052279));
        assert_eq!(parse_iso8601(b"1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_iso8601(b"12/07/2017"), None);
    }

    fn build(vals: &[&str]) -> Option<Column> {
        let mut b = InferBuilder::new();
        for v in vals {
            if v.is_empty() { b.push_null() } else { b.push(v.as_bytes()) }
        }
        b.finish("c")
    }

    #[test]
    fn widening() {
        assert_eq!(build(&["", "1", "2"]).unwrap().dtype(), crate::DataType::Int);
        let c = build(&["1", "", "2.5"]).unwrap();
        assert_eq!(c.dtype(), crate::DataType::Float);
        assert_eq!(c.f64_at(0), Some(1.0));
        assert!(c.is_null(1));
        assert_eq!(build(&["true", "FALSE"]).unwrap().dtype(), crate::DataType::Bool);
        assert!(build(&["1", "x"]).is_none());
        assert!(build(&["true", "1"]).is_none());
        let s = build(&["", "x", "1"]).unwrap();
        assert_eq!(s.str_at(2), Some("1"));
        assert!(s.is_null(0));
        assert_eq!(build(&["", ""]).unwrap().dtype(), crate::DataType::Float);
        assert_eq!(build(&["2017-01-01", "2017-01-02 10:00:00"]).unwrap().dtype(), crate::DataType::Time);
    }
}
