//! The in-memory flow table: named, typed, null-aware columns.

use std::fmt;

use ndarray::Array2;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{IoError, Result};

/// Logical type of a column.
///
/// `Time` is seconds since the Unix epoch (UTC) and `Interval` a duration in seconds, both as `f64`,
/// the way Zeek writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    /// 64-bit float; `inf`/`-inf` are values, not nulls.
    Float,
    /// Signed 64-bit integer (counts, ports).
    Int,
    /// `true`/`false`.
    Bool,
    /// Dictionary-encoded strings (addresses, enums, sets, labels).
    Categorical,
    /// Seconds since the Unix epoch.
    Time,
    /// Duration in seconds.
    Interval,
}

impl DataType {
    /// True for types that convert to `f64` (everything but [`DataType::Categorical`]).
    pub fn is_numeric(self) -> bool {
        !matches!(self, DataType::Categorical)
    }

    /// The lower-case name used in reports and schemas.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Float => "float",
            DataType::Int => "int",
            DataType::Bool => "bool",
            DataType::Categorical => "categorical",
            DataType::Time => "time",
            DataType::Interval => "interval",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A packed null mask: bit set = value present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Validity {
    words: Vec<u64>,
    len: usize,
}

impl Validity {
    /// All-valid mask of `len` bits.
    pub fn all_valid(len: usize) -> Self {
        let mut v = Validity { words: vec![u64::MAX; len.div_ceil(64)], len };
        v.clear_tail();
        v
    }

    fn clear_tail(&mut self) {
        let rem = self.len % 64;
        if rem != 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= (1u64 << rem) - 1;
        }
    }

    /// Append one bit.
    pub fn push(&mut self, valid: bool) {
        let bit = self.len % 64;
        if bit == 0 {
            self.words.push(0);
        }
        if valid {
            let last = self.words.len() - 1;
            self.words[last] |= 1u64 << bit;
        }
        self.len += 1;
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the mask holds no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether row `i` holds a value.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        (self.words[i / 64] >> (i % 64)) & 1 == 1
    }

    /// Number of null (unset) rows.
    pub fn null_count(&self) -> usize {
        self.len - self.words.iter().map(|w| w.count_ones() as usize).sum::<usize>()
    }

    fn from_bools(bits: impl IntoIterator<Item = bool>) -> Self {
        let mut v = Validity::default();
        for b in bits {
            v.push(b);
        }
        v
    }
}

/// Dictionary-encoded strings; `levels` in order of first appearance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Categorical {
    codes: Vec<u32>,
    levels: Vec<String>,
}

impl Categorical {
    /// Builds from codes and levels; every code must index `levels`.
    pub fn new(codes: Vec<u32>, levels: Vec<String>) -> Result<Self> {
        if let Some(&bad) = codes.iter().find(|&&c| c as usize >= levels.len()) {
            return Err(IoError::invalid(format!("categorical code {bad} out of range for {} levels", levels.len())));
        }
        Ok(Categorical { codes, levels })
    }

    /// The code of each row (meaningless for null rows).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Distinct values in order of first appearance.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// The string of row `i`, ignoring nulls.
    pub fn get(&self, i: usize) -> &str {
        &self.levels[self.codes[i] as usize]
    }
}

/// Interns strings while a categorical column is built.
#[derive(Debug, Default)]
pub(crate) struct CategoricalBuilder {
    map: FxHashMap<Box<str>, u32>,
    cat: Categorical,
}

impl CategoricalBuilder {
    pub(crate) fn push(&mut self, s: &str) {
        let code = match self.map.get(s) {
            Some(&c) => c,
            None => {
                let c = self.cat.levels.len() as u32;
                self.cat.levels.push(s.to_owned());
                self.map.insert(s.into(), c);
                c
            }
        };
        self.cat.codes.push(code);
    }

    /// A placeholder code for a null row.
    pub(crate) fn push_null(&mut self) {
        if self.cat.levels.is_empty() {
            // Code 0 must index a level; the empty string is never shown for a null row.
            self.cat.levels.push(String::new());
            self.map.insert("".into(), 0);
        }
        self.cat.codes.push(0);
    }

    pub(crate) fn finish(self) -> Categorical {
        self.cat
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// See [`DataType::Float`].
    Float(Vec<f64>),
    /// See [`DataType::Int`].
    Int(Vec<i64>),
    /// See [`DataType::Bool`].
    Bool(Vec<bool>),
    /// See [`DataType::Categorical`].
    Categorical(Categorical),
    /// See [`DataType::Time`].
    Time(Vec<f64>),
    /// See [`DataType::Interval`].
    Interval(Vec<f64>),
}

impl ColumnData {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Float(v) | ColumnData::Time(v) | ColumnData::Interval(v) => v.len(),
            ColumnData::Int(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Categorical(c) => c.codes.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The logical type.
    pub fn dtype(&self) -> DataType {
        match self {
            ColumnData::Float(_) => DataType::Float,
            ColumnData::Int(_) => DataType::Int,
            ColumnData::Bool(_) => DataType::Bool,
            ColumnData::Categorical(_) => DataType::Categorical,
            ColumnData::Time(_) => DataType::Time,
            ColumnData::Interval(_) => DataType::Interval,
        }
    }

    fn take(&self, rows: &[usize]) -> ColumnData {
        match self {
            ColumnData::Float(v) => ColumnData::Float(rows.iter().map(|&i| v[i]).collect()),
            ColumnData::Time(v) => ColumnData::Time(rows.iter().map(|&i| v[i]).collect()),
            ColumnData::Interval(v) => ColumnData::Interval(rows.iter().map(|&i| v[i]).collect()),
            ColumnData::Int(v) => ColumnData::Int(rows.iter().map(|&i| v[i]).collect()),
            ColumnData::Bool(v) => ColumnData::Bool(rows.iter().map(|&i| v[i]).collect()),
            ColumnData::Categorical(c) => {
                // Codes renumbered in order of first use, so that unused levels disappear and codes stay
                // dense (levels are distinct, so no string is hashed).
                let mut new_code = vec![u32::MAX; c.levels.len()];
                let mut levels = Vec::new();
                let codes = rows
                    .iter()
                    .map(|&i| {
                        let old = c.codes[i] as usize;
                        if new_code[old] == u32::MAX {
                            new_code[old] = levels.len() as u32;
                            levels.push(c.levels[old].clone());
                        }
                        new_code[old]
                    })
                    .collect();
                ColumnData::Categorical(Categorical { codes, levels })
            }
        }
    }
}

/// One value of a column, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Unset / missing.
    Null,
    /// A float.
    Float(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string of a categorical column.
    Str(&'a str),
    /// Seconds since the epoch.
    Time(f64),
    /// Seconds.
    Interval(f64),
}

impl Value<'_> {
    /// The value as `f64` when numeric (bool → 0/1); `None` for null and strings.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(x) | Value::Time(x) | Value::Interval(x) => Some(x),
            Value::Int(x) => Some(x as f64),
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            Value::Null | Value::Str(_) => None,
        }
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Float(x) | Value::Time(x) | Value::Interval(x) => write_f64(f, *x),
            Value::Int(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

/// Shortest round-tripping text; `inf`, `-inf`, `NaN` as pandas writes them.
fn write_f64(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        write!(f, "{x}")
    }
}

/// A named column with an optional null mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    name: String,
    data: ColumnData,
    validity: Option<Validity>,
    source_type: Option<String>,
}

impl Column {
    /// A column without nulls.
    pub fn new(name: impl Into<String>, data: ColumnData) -> Self {
        Column { name: name.into(), data, validity: None, source_type: None }
    }

    /// A column with a null mask (`validity[i] == false` means row `i` is null).
    pub fn with_validity(name: impl Into<String>, data: ColumnData, validity: Validity) -> Result<Self> {
        let name = name.into();
        if validity.len() != data.len() {
            return Err(IoError::invalid(format!(
                "column '{name}': {} validity bits for {} rows",
                validity.len(),
                data.len()
            )));
        }
        let validity = (validity.null_count() > 0).then_some(validity);
        Ok(Column { name, data, validity, source_type: None })
    }

    /// Float column from optional values.
    pub fn from_f64_opt(name: impl Into<String>, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        Self::from_opt(name, values, 0.0, ColumnData::Float)
    }

    /// Float column without nulls.
    pub fn from_f64(name: impl Into<String>, values: Vec<f64>) -> Self {
        Column::new(name, ColumnData::Float(values))
    }

    /// Integer column from optional values.
    pub fn from_i64_opt(name: impl Into<String>, values: impl IntoIterator<Item = Option<i64>>) -> Self {
        Self::from_opt(name, values, 0, ColumnData::Int)
    }

    /// Boolean column from optional values.
    pub fn from_bool_opt(name: impl Into<String>, values: impl IntoIterator<Item = Option<bool>>) -> Self {
        Self::from_opt(name, values, false, ColumnData::Bool)
    }

    /// Time column (epoch seconds) from optional values.
    pub fn from_time_opt(name: impl Into<String>, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        Self::from_opt(name, values, 0.0, ColumnData::Time)
    }

    /// Interval column (seconds) from optional values.
    pub fn from_interval_opt(name: impl Into<String>, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        Self::from_opt(name, values, 0.0, ColumnData::Interval)
    }

    /// Categorical column from optional strings.
    pub fn from_str_opt<'a>(name: impl Into<String>, values: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let mut b = CategoricalBuilder::default();
        let mut validity = Validity::default();
        for v in values {
            match v {
                Some(s) => b.push(s),
                None => b.push_null(),
            }
            validity.push(v.is_some());
        }
        Column::with_validity(name, ColumnData::Categorical(b.finish()), validity)
            .expect("lengths agree by construction")
    }

    fn from_opt<T: Copy>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<T>>,
        fill: T,
        wrap: fn(Vec<T>) -> ColumnData,
    ) -> Self {
        let (vals, valid): (Vec<T>, Vec<bool>) = values.into_iter().map(|v| (v.unwrap_or(fill), v.is_some())).unzip();
        Column::with_validity(name, wrap(vals), Validity::from_bools(valid)).expect("lengths agree by construction")
    }

    /// Records the type the source declared (e.g. Zeek's `addr`, `port`, `set[string]`).
    pub fn with_source_type(mut self, t: impl Into<String>) -> Self {
        self.source_type = Some(t.into());
        self
    }

    /// Renames the column.
    pub fn renamed(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Logical type.
    pub fn dtype(&self) -> DataType {
        self.data.dtype()
    }

    /// The type declared by the source format, when it had one (Zeek `#types`).
    pub fn source_type(&self) -> Option<&str> {
        self.source_type.as_deref()
    }

    /// Raw values; null rows hold an arbitrary filler.
    pub fn data(&self) -> &ColumnData {
        &self.data
    }

    /// The null mask, `None` when the column has no nulls.
    pub fn validity(&self) -> Option<&Validity> {
        self.validity.as_ref()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Whether row `i` is null.
    #[inline]
    pub fn is_null(&self, i: usize) -> bool {
        self.validity.as_ref().is_some_and(|v| !v.get(i))
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        self.validity.as_ref().map_or(0, Validity::null_count)
    }

    /// Row `i` as a [`Value`].
    pub fn value(&self, i: usize) -> Value<'_> {
        if self.is_null(i) {
            return Value::Null;
        }
        match &self.data {
            ColumnData::Float(v) => Value::Float(v[i]),
            ColumnData::Int(v) => Value::Int(v[i]),
            ColumnData::Bool(v) => Value::Bool(v[i]),
            ColumnData::Categorical(c) => Value::Str(c.get(i)),
            ColumnData::Time(v) => Value::Time(v[i]),
            ColumnData::Interval(v) => Value::Interval(v[i]),
        }
    }

    /// Row `i` as `f64` (bool → 0/1); `None` for null rows and categorical columns.
    #[inline]
    pub fn f64_at(&self, i: usize) -> Option<f64> {
        self.value(i).as_f64()
    }

    /// Row `i` of a categorical column; `None` for null rows and other types.
    pub fn str_at(&self, i: usize) -> Option<&str> {
        match self.value(i) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// All rows as optional `f64`; `None` if the column is categorical.
    pub fn to_f64_opt(&self) -> Option<Vec<Option<f64>>> {
        self.dtype().is_numeric().then(|| (0..self.len()).map(|i| self.f64_at(i)).collect())
    }

    /// The rows listed in `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Column {
        let validity = self.validity.as_ref().map(|v| Validity::from_bools(rows.iter().map(|&i| v.get(i))));
        let mut c = Column {
            name: self.name.clone(),
            data: self.data.take(rows),
            validity: None,
            source_type: self.source_type.clone(),
        };
        c.validity = validity.filter(|v| v.null_count() > 0);
        c
    }
}

/// How [`Table::to_array`] treats null cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullPolicy {
    /// A null cell is an error naming the column and row.
    #[default]
    Error,
    /// A null cell becomes `NaN`.
    Nan,
}

/// A flow table: equally long, uniquely named, typed columns.
///
/// ```
/// use outflow_io::{Column, Table};
/// let t = Table::new(vec![
///     Column::from_f64("duration", vec![0.5, 1.5]),
///     Column::from_str_opt("proto", [Some("tcp"), None]),
/// ]).unwrap();
/// assert_eq!(t.n_rows(), 2);
/// assert_eq!(t.column("proto").unwrap().null_count(), 1);
/// let x = t.to_array(&["duration"], Default::default()).unwrap();
/// assert_eq!(x[[1, 0]], 1.5);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    columns: Vec<Column>,
    n_rows: usize,
}

impl Table {
    /// Builds a table; columns must have equal lengths and distinct names.
    pub fn new(columns: Vec<Column>) -> Result<Self> {
        let n_rows = columns.first().map_or(0, Column::len);
        let mut seen = FxHashMap::default();
        for c in &columns {
            if c.len() != n_rows {
                return Err(IoError::invalid(format!("column '{}' has {} rows, expected {n_rows}", c.name(), c.len())));
            }
            if seen.insert(c.name(), ()).is_some() {
                return Err(IoError::invalid(format!("duplicate column name '{}'", c.name())));
            }
        }
        Ok(Table { columns, n_rows })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.n_rows == 0
    }

    /// All columns in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The text columns with values holding U+FFFD, and how many non-null rows hold one. The readers
    /// read bytes that are not UTF-8 as U+FFFD rather than refusing the file (real CICFlowMeter exports
    /// carry Windows-1252 dashes in their labels); this says where that happened, so that it is never
    /// silent.
    pub fn replaced_text(&self) -> Vec<(&str, usize)> {
        self.columns
            .iter()
            .filter_map(|c| {
                let ColumnData::Categorical(cat) = c.data() else { return None };
                let bad: Vec<bool> = cat.levels().iter().map(|l| l.contains('\u{FFFD}')).collect();
                if !bad.contains(&true) {
                    return None;
                }
                let n = (0..c.len()).filter(|&i| !c.is_null(i) && bad[cat.codes()[i] as usize]).count();
                (n > 0).then_some((c.name(), n))
            })
            .collect()
    }

    /// Column names in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(Column::name).collect()
    }

    /// Position of a column by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name() == name)
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name() == name)
    }

    /// A column by name, or [`IoError::MissingColumn`].
    pub fn require(&self, name: &str) -> Result<&Column> {
        self.column(name).ok_or_else(|| IoError::MissingColumn { name: name.to_owned() })
    }

    /// The schema (names and types).
    pub fn schema(&self) -> Schema {
        Schema { fields: self.columns.iter().map(|c| Field { name: c.name().to_owned(), dtype: c.dtype() }).collect() }
    }

    /// A new table with the named columns, in the order given.
    pub fn select(&self, names: &[&str]) -> Result<Table> {
        let cols = names.iter().map(|n| self.require(n).cloned()).collect::<Result<Vec<_>>>()?;
        Table::new(cols)
    }

    /// A new table without the named columns (unknown names are ignored).
    pub fn drop_columns(&self, names: &[&str]) -> Table {
        let columns = self.columns.iter().filter(|c| !names.contains(&c.name())).cloned().collect();
        Table { columns, n_rows: self.n_rows }
    }

    /// Adds a column, or replaces the one of the same name in place.
    pub fn set_column(&mut self, column: Column) -> Result<()> {
        if !self.columns.is_empty() && column.len() != self.n_rows {
            return Err(IoError::invalid(format!(
                "column '{}' has {} rows, table has {}",
                column.name(),
                column.len(),
                self.n_rows
            )));
        }
        if self.columns.is_empty() {
            self.n_rows = column.len();
        }
        match self.index_of(column.name()) {
            Some(i) => self.columns[i] = column,
            None => self.columns.push(column),
        }
        Ok(())
    }

    /// The rows listed in `rows`, in that order.
    pub fn take_rows(&self, rows: &[usize]) -> Table {
        Table { columns: self.columns.iter().map(|c| c.take(rows)).collect(), n_rows: rows.len() }
    }

    /// The rows of `parts` one after another. Columns are matched by name, in the order they first
    /// appear; a part without a column has nulls there. A column must have one type in every part.
    ///
    /// ```
    /// use outflow_io::{Column, Table};
    /// let a = Table::new(vec![Column::from_f64("bytes", vec![1.0]), Column::from_str_opt("proto", [Some("tcp")])]).unwrap();
    /// let b = Table::new(vec![Column::from_str_opt("proto", [Some("udp")])]).unwrap();
    /// let t = Table::concat(&[a, b]).unwrap();
    /// assert_eq!((t.n_rows(), t.column("bytes").unwrap().null_count()), (2, 1));
    /// assert_eq!(t.column("proto").unwrap().str_at(1), Some("udp"));
    /// ```
    pub fn concat(parts: &[Table]) -> Result<Table> {
        let mut names: Vec<&str> = Vec::new();
        for t in parts {
            for c in &t.columns {
                if !names.contains(&c.name()) {
                    names.push(c.name());
                }
            }
        }
        let n_rows = parts.iter().map(|t| t.n_rows).sum();
        let columns = names
            .into_iter()
            .map(|name| {
                let pieces: Vec<Option<&Column>> = parts.iter().map(|t| t.column(name)).collect();
                let first = pieces.iter().flatten().next().expect("a named column is in some part");
                if let Some(other) = pieces.iter().flatten().find(|c| c.dtype() != first.dtype()) {
                    return Err(IoError::WrongType {
                        name: name.to_owned(),
                        expected: format!("{} (its type in an earlier part)", first.dtype()),
                        found: other.dtype(),
                    });
                }
                Ok(concat_columns(first, &pieces, parts, n_rows))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Table { columns, n_rows })
    }

    /// The rows where `keep` is true.
    pub fn filter_rows(&self, keep: &[bool]) -> Result<Table> {
        if keep.len() != self.n_rows {
            return Err(IoError::invalid(format!("mask of {} rows for a table of {}", keep.len(), self.n_rows)));
        }
        let rows: Vec<usize> = keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
        Ok(self.take_rows(&rows))
    }

    /// Names of the numeric columns (everything but categoricals).
    pub fn numeric_names(&self) -> Vec<&str> {
        self.columns.iter().filter(|c| c.dtype().is_numeric()).map(Column::name).collect()
    }

    /// The named numeric columns as a row-major `n_rows × names.len()` matrix.
    pub fn to_array(&self, names: &[&str], nulls: NullPolicy) -> Result<Array2<f64>> {
        let cols = names.iter().map(|n| self.require(n)).collect::<Result<Vec<_>>>()?;
        if let Some(c) = cols.iter().find(|c| !c.dtype().is_numeric()) {
            return Err(IoError::WrongType {
                name: c.name().to_owned(),
                expected: "a numeric column".into(),
                found: c.dtype(),
            });
        }
        let mut out = Array2::<f64>::zeros((self.n_rows, cols.len()));
        for (j, c) in cols.iter().enumerate() {
            for (i, cell) in out.column_mut(j).iter_mut().enumerate() {
                *cell = match c.f64_at(i) {
                    Some(x) => x,
                    None if nulls == NullPolicy::Nan => f64::NAN,
                    None => return Err(IoError::NullValue { name: c.name().to_owned(), row: i }),
                };
            }
        }
        Ok(out)
    }
}

/// One column of [`Table::concat`]: `pieces[i]` is part `i`'s column (`None`: nulls there).
fn concat_columns(first: &Column, pieces: &[Option<&Column>], parts: &[Table], n_rows: usize) -> Column {
    let mut validity = Validity::default();
    for (piece, part) in pieces.iter().zip(parts) {
        for i in 0..part.n_rows {
            validity.push(piece.is_some_and(|c| !c.is_null(i)));
        }
    }
    fn gather<T: Copy>(
        pieces: &[Option<&Column>],
        parts: &[Table],
        n_rows: usize,
        fill: T,
        get: impl Fn(&ColumnData) -> &[T],
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(n_rows);
        for (piece, part) in pieces.iter().zip(parts) {
            match piece {
                Some(c) => out.extend_from_slice(get(c.data())),
                None => out.resize(out.len() + part.n_rows, fill),
            }
        }
        out
    }
    let data = match first.data() {
        ColumnData::Float(_) | ColumnData::Time(_) | ColumnData::Interval(_) => {
            let v = gather(pieces, parts, n_rows, 0.0, |d| match d {
                ColumnData::Float(v) | ColumnData::Time(v) | ColumnData::Interval(v) => v,
                _ => unreachable!("one type per column"),
            });
            match first.dtype() {
                DataType::Time => ColumnData::Time(v),
                DataType::Interval => ColumnData::Interval(v),
                _ => ColumnData::Float(v),
            }
        }
        ColumnData::Int(_) => ColumnData::Int(gather(pieces, parts, n_rows, 0, |d| match d {
            ColumnData::Int(v) => v,
            _ => unreachable!("one type per column"),
        })),
        ColumnData::Bool(_) => ColumnData::Bool(gather(pieces, parts, n_rows, false, |d| match d {
            ColumnData::Bool(v) => v,
            _ => unreachable!("one type per column"),
        })),
        ColumnData::Categorical(_) => {
            // Each level a part uses is looked up once; its rows only map codes.
            let mut code_of: FxHashMap<&str, u32> = FxHashMap::default();
            let mut levels: Vec<String> = Vec::new();
            let mut codes: Vec<u32> = Vec::with_capacity(n_rows);
            for (piece, part) in pieces.iter().zip(parts) {
                match piece.map(|c| c.data()) {
                    Some(ColumnData::Categorical(cat)) => {
                        let mut map = vec![u32::MAX; cat.levels.len()];
                        codes.extend(cat.codes.iter().map(|&c| {
                            let c = c as usize;
                            if map[c] == u32::MAX {
                                let l = cat.levels[c].as_str();
                                map[c] = *code_of.entry(l).or_insert_with(|| {
                                    levels.push(l.to_owned());
                                    levels.len() as u32 - 1
                                });
                            }
                            map[c]
                        }));
                    }
                    Some(_) => unreachable!("one type per column"),
                    None => {
                        // Null rows need a code that indexes a level.
                        if levels.is_empty() {
                            levels.push(String::new());
                            code_of.insert("", 0);
                        }
                        codes.resize(codes.len() + part.n_rows, 0);
                    }
                }
            }
            ColumnData::Categorical(Categorical { codes, levels })
        }
    };
    let source_type = pieces.iter().flatten().find_map(|c| c.source_type.clone());
    let mut c = Column::with_validity(first.name(), data, validity).expect("one bit per row");
    c.source_type = source_type;
    c
}

/// A column's name and type, as stored in model artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Column name.
    pub name: String,
    /// Logical type.
    pub dtype: DataType,
}

/// The names and types of a table's columns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Columns in order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// The field of a name.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_counts_and_tail() {
        let mut v = Validity::default();
        for i in 0..130 {
            v.push(i % 3 != 0);
        }
        assert_eq!(v.null_count(), 44);
        assert!(!v.get(129));
        assert!(v.get(128));
        assert_eq!(Validity::all_valid(70).null_count(), 0);
    }

    #[test]
    fn take_reinterns_levels() {
        let c = Column::from_str_opt("p", [Some("tcp"), Some("udp"), None, Some("icmp")]);
        let t = c.take(&[3, 2, 3]);
        let ColumnData::Categorical(cat) = t.data() else { panic!() };
        assert_eq!(t.str_at(0), Some("icmp"));
        assert!(t.is_null(1));
        assert!(!cat.levels().iter().any(|l| l == "udp"));
    }

    #[test]
    fn to_array_null_policy() {
        let t = Table::new(vec![Column::from_f64_opt("a", [Some(1.0), None])]).unwrap();
        assert!(matches!(t.to_array(&["a"], NullPolicy::Error), Err(IoError::NullValue { row: 1, .. })));
        assert!(t.to_array(&["a"], NullPolicy::Nan).unwrap()[[1, 0]].is_nan());
        assert!(matches!(t.to_array(&["b"], NullPolicy::Nan), Err(IoError::MissingColumn { .. })));
    }

    #[test]
    fn new_rejects_ragged_and_duplicates() {
        assert!(Table::new(vec![Column::from_f64("a", vec![1.0]), Column::from_f64("b", vec![])]).is_err());
        assert!(Table::new(vec![Column::from_f64("a", vec![1.0]), Column::from_f64("a", vec![2.0])]).is_err());
    }

    #[test]
    fn concat_keeps_types_nulls_and_declared_types() {
        let a = Table::new(vec![
            Column::from_time_opt("ts", [Some(1.5), None]),
            Column::from_str_opt("proto", [None, Some("tcp")]).with_source_type("enum"),
            Column::from_i64_opt("port", [Some(80), Some(443)]),
        ])
        .unwrap();
        let b =
            Table::new(vec![Column::from_str_opt("proto", [Some("udp")]), Column::from_bool_opt("ok", [Some(true)])])
                .unwrap();
        let t = Table::concat(&[a.clone(), b.clone(), a.take_rows(&[])]).unwrap();
        assert_eq!(t.names(), ["ts", "proto", "port", "ok"]);
        let ts = t.column("ts").unwrap();
        assert_eq!((ts.dtype(), ts.f64_at(0), ts.is_null(1), ts.is_null(2)), (DataType::Time, Some(1.5), true, true));
        let proto = t.column("proto").unwrap();
        assert_eq!((proto.str_at(0), proto.str_at(1), proto.str_at(2)), (None, Some("tcp"), Some("udp")));
        assert_eq!(proto.source_type(), Some("enum"));
        assert_eq!(t.column("port").unwrap().to_f64_opt().unwrap(), [Some(80.0), Some(443.0), None]);
        assert_eq!(t.column("ok").unwrap().null_count(), 2);
        assert_eq!(Table::concat(std::slice::from_ref(&a)).unwrap(), a);
        let clash = Table::new(vec![Column::from_f64("port", vec![1.0])]).unwrap();
        let e = Table::concat(&[a, clash]).unwrap_err().to_string();
        assert!(e.contains("port"), "{e}");
    }
}
