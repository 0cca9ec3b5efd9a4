//! Column builders for formats that declare their types (Zeek `#types`, KDD's fixed schema).

use crate::error::Result;
use crate::infer::{infer_from_text, parse_f64, parse_i64};
use crate::table::{CategoricalBuilder, Column, ColumnData, Validity};

/// Storage class of a declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Time,
    Interval,
    Double,
    Int,
    Bool,
    Str,
}

/// The storage class of a Zeek type name (`addr`, `set[string]`, ... are strings).
pub(crate) fn kind_of(zeek_type: &str) -> Kind {
    match zeek_type {
        "time" => Kind::Time,
        "interval" => Kind::Interval,
        "double" => Kind::Double,
        "count" | "int" | "port" => Kind::Int,
        "bool" => Kind::Bool,
        _ => Kind::Str,
    }
}

enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    Str(CategoricalBuilder),
    /// No declared type: collect text, infer the type at the end as CSV does.
    Infer(CategoricalBuilder),
}

/// Builds one column of a declared type (or, without one, infers it from the text at the end).
pub(crate) struct TypedBuilder {
    pub(crate) name: String,
    pub(crate) source_type: Option<String>,
    pub(crate) kind: Option<Kind>,
    values: Values,
    validity: Validity,
}

impl TypedBuilder {
    /// A builder for `name` of the declared type (if any); `prefix_nulls` earlier rows are null.
    pub(crate) fn new(name: &str, declared: Option<&str>, prefix_nulls: usize) -> Self {
        Self::with_kind(name, declared, declared.map(kind_of), prefix_nulls)
    }

    pub(crate) fn with_kind(name: &str, declared: Option<&str>, kind: Option<Kind>, prefix_nulls: usize) -> Self {
        let values = match kind {
            Some(Kind::Time | Kind::Interval | Kind::Double) => Values::F64(vec![0.0; prefix_nulls]),
            Some(Kind::Int) => Values::I64(vec![0; prefix_nulls]),
            Some(Kind::Bool) => Values::Bool(vec![false; prefix_nulls]),
            Some(Kind::Str) | None => {
                let mut c = CategoricalBuilder::default();
                (0..prefix_nulls).for_each(|_| c.push_null());
                if kind.is_some() { Values::Str(c) } else { Values::Infer(c) }
            }
        };
        let mut validity = Validity::default();
        (0..prefix_nulls).for_each(|_| validity.push(false));
        TypedBuilder { name: name.to_owned(), source_type: declared.map(str::to_owned), kind, values, validity }
    }

    pub(crate) fn push_null(&mut self) {
        match &mut self.values {
            Values::F64(v) => v.push(0.0),
            Values::I64(v) => v.push(0),
            Values::Bool(v) => v.push(false),
            Values::Str(c) | Values::Infer(c) => c.push_null(),
        }
        self.validity.push(false);
    }

    /// Pushes a present field (`empty`: the format's empty-container marker). `Err` says what was expected.
    pub(crate) fn push(&mut self, field: &[u8], empty: bool) -> std::result::Result<(), &'static str> {
        match &mut self.values {
            Values::F64(v) => v.push(parse_f64(field).ok_or("a number")?),
            Values::I64(v) => v.push(parse_i64(field).ok_or("an integer")?),
            Values::Bool(v) => v.push(match field.trim_ascii() {
                b"T" | b"true" | b"1" => true,
                b"F" | b"false" | b"0" => false,
                _ => return Err("a boolean (T/F, 1/0)"),
            }),
            Values::Str(c) | Values::Infer(c) => {
                if empty {
                    c.push("");
                } else {
                    c.push(&unescape(field));
                }
            }
        }
        self.validity.push(true);
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<Column> {
        let data = match (self.values, self.kind) {
            (Values::F64(v), Some(Kind::Time)) => ColumnData::Time(v),
            (Values::F64(v), Some(Kind::Interval)) => ColumnData::Interval(v),
            (Values::F64(v), _) => ColumnData::Float(v),
            (Values::I64(v), _) => ColumnData::Int(v),
            (Values::Bool(v), _) => ColumnData::Bool(v),
            (Values::Str(c), _) => ColumnData::Categorical(c.finish()),
            (Values::Infer(c), _) => {
                let col = Column::with_validity(&self.name, ColumnData::Categorical(c.finish()), self.validity)?;
                return Ok(infer_from_text(col));
            }
        };
        let col = Column::with_validity(&self.name, data, self.validity)?;
        Ok(match self.source_type {
            Some(t) => col.with_source_type(t),
            None => col,
        })
    }
}

/// Decodes Zeek's `\xNN` escapes (used for separators and non-printable bytes inside strings).
pub(crate) fn unescape(field: &[u8]) -> String {
    if memchr::memmem::find(field, b"\\x").is_none() {
        return String::from_utf8_lossy(field).into_owned();
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\'
            && i + 3 < field.len()
            && field[i + 1] == b'x'
            && let Some(b) = hex_byte(&field[i + 2..i + 4])
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(field[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(h: &[u8]) -> Option<u8> {
    u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}
