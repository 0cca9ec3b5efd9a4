//! Arrow and Parquet (feature `arrow`): flow tables to Arrow record batches and back, Parquet and Arrow
//! IPC files read batch by batch, tables written as Parquet.
//!
//! Types map both ways, and a column's Zeek type travels in its field metadata (`zeek.type`), so a log
//! written as Parquet reads back as the same table, bit for bit:
//!
//! | flow table | Arrow | read from Arrow as well |
//! |---|---|---|
//! | float | `Float64` | `Float32`, `Decimal128` |
//! | int (Zeek `int`, `count`) | `Int64`; Zeek `port` → `UInt16` | every integer type (`UInt64` above `i64::MAX` is an error) |
//! | bool | `Boolean` | text holding only `T` / `F` (Zeek's booleans, as zat's DataFrames keep them) |
//! | categorical (addresses, enums, strings) | `Utf8`; Zeek `set[…]` / `vector[…]` → `List<Utf8>` | `LargeUtf8`, `Utf8View`, dictionaries of strings, lists of strings (joined with `,`) |
//! | time (seconds since the epoch) | `Timestamp(µs, UTC)` (`Float64` seconds when a value has digits below the microsecond) | every timestamp unit (nanoseconds all within 1 ns of a microsecond are read at the microsecond), `Date32`, `Date64` |
//! | interval (seconds) | `Float64` seconds | every duration unit |
//!
//! What is written is read the same by the engines of a data lake: Spark and Hive have no unsigned
//! 64-bit integer (a `UInt64` column arrives as `decimal(20,0)`), no duration type (a `Duration(ns)`
//! column arrives as a bare count of nanoseconds, read as seconds by anything downstream) and keep times
//! at the microsecond — hence Zeek `count` as `Int64`, intervals as seconds and microsecond times
//! (Zeek writes times to the microsecond, so they survive exactly).
//!
//! Column names are kept as they are (Zeek's `id.orig_h` included). A column of another Arrow type is an
//! error naming the column and the type.
//!
//! ```
//! use outflow_io::arrow::{batch_to_table, table_to_batch};
//! use outflow_io::{Input, ReadOptions, read_input};
//! let log = "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_p\tduration\n\
//!            #types\ttime\taddr\tport\tinterval\n1709510400.25\t10.0.0.1\t443\t1.5\n";
//! let (flows, _) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
//! let batch = table_to_batch(&flows).unwrap();
//! assert_eq!(batch.schema().field(2).data_type(), &outflow_io::arrow::ArrowDataType::UInt16);
//! assert_eq!(batch_to_table("batch", &batch).unwrap(), flows);
//! ```

use std::io::{Cursor, Read};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt16Array,
};
use arrow_schema::{DataType as ArrowType, Field, Schema, TimeUnit};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{IoError, Result};
use crate::source::Input;
use crate::table::{Column, ColumnData, Table};

pub use arrow_array::RecordBatch as Batch;
pub use arrow_schema::DataType as ArrowDataType;

/// The field metadata key holding a column's Zeek type (`time`, `count`, `addr`, `set[string]`, …).
pub const ZEEK_TYPE: &str = "zeek.type";

/// Rows per Parquet row group written (and per batch read when the whole file is wanted).
const ROW_GROUP: usize = 64 * 1024;

fn arrow_error(file: &str, message: impl std::fmt::Display) -> IoError {
    IoError::Columnar { file: file.to_owned(), message: message.to_string() }
}

/// Units per second. Values are divided by it (one correctly rounded division): multiplying by 1e-6
/// would be off by one bit for some timestamps, and a Zeek log written as Parquet must read back as the
/// same values.
fn per_second(unit: &TimeUnit) -> f64 {
    match unit {
        TimeUnit::Second => 1.0,
        TimeUnit::Millisecond => 1e3,
        TimeUnit::Microsecond => 1e6,
        TimeUnit::Nanosecond => 1e9,
    }
}

/// The field metadata key holding a column's flow-table type when its Arrow type does not say it (times
/// and durations stored as `Float64` seconds).
pub const OUTFLOW_TYPE: &str = "outflow.dtype";

/// Whole microseconds of a number of seconds, when they give the same number back. Below 2⁵³ µs (the
/// year 2255) the count is an exact float, and dividing it by 10⁶ rounds once: the parse of a time
/// written to the microsecond is recovered exactly.
fn exact_micros(v: f64) -> Option<i64> {
    let us = (v * 1e6).round();
    (us.is_finite() && us.abs() < 9.0e15 && us / 1e6 == v).then_some(us as i64)
}

/// Seconds as microseconds when every value survives the trip (a Zeek log's times do), else `None`:
/// the column is then written as `Float64` seconds, so that nothing is rounded.
fn all_micros(v: &[f64], valid: impl Fn(usize) -> bool) -> Option<Vec<Option<i64>>> {
    (0..v.len()).map(|i| if valid(i) { exact_micros(v[i]).map(Some) } else { Some(None) }).collect()
}

/// A table as one record batch.
pub fn table_to_batch(table: &Table) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(table.n_cols());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(table.n_cols());
    for c in table.columns() {
        let (field, array) = column_to_arrow(c)?;
        fields.push(field);
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(table.n_rows()));
    RecordBatch::try_new_with_options(schema, arrays, &options).map_err(|e| arrow_error("record batch", e))
}

fn column_to_arrow(c: &Column) -> Result<(Field, ArrayRef)> {
    let n = c.len();
    let valid = |i: usize| !c.is_null(i);
    let zeek = c.source_type();
    let mut metadata = std::collections::HashMap::new();
    let array: ArrayRef = match c.data() {
        ColumnData::Float(v) => Arc::new(Float64Array::from_iter((0..n).map(|i| valid(i).then_some(v[i])))),
        ColumnData::Int(v) => match zeek {
            Some("port") if v.iter().enumerate().all(|(i, &x)| !valid(i) || (0..=65535).contains(&x)) => {
                Arc::new(UInt16Array::from_iter((0..n).map(|i| valid(i).then_some(v[i] as u16))))
            }
            _ => Arc::new(Int64Array::from_iter((0..n).map(|i| valid(i).then_some(v[i])))),
        },
        ColumnData::Bool(v) => Arc::new(BooleanArray::from_iter((0..n).map(|i| valid(i).then_some(v[i])))),
        ColumnData::Categorical(cat) => {
            if zeek.is_some_and(|t| t.starts_with("set[") || t.starts_with("vector[")) {
                let lists = (0..n).map(|i| {
                    valid(i).then(|| {
                        let s = cat.get(i);
                        if s.is_empty() { Vec::new() } else { s.split(',').map(|x| Some(x.to_owned())).collect() }
                    })
                });
                Arc::new(list_of_strings(lists))
            } else {
                Arc::new(StringArray::from_iter((0..n).map(|i| valid(i).then(|| cat.get(i)))))
            }
        }
        ColumnData::Time(v) | ColumnData::Interval(v) => {
            let time = c.dtype() == crate::table::DataType::Time;
            match all_micros(v, valid) {
                Some(us) if time => Arc::new(TimestampMicrosecondArray::from(us).with_timezone("UTC")),
                _ => {
                    metadata.insert(OUTFLOW_TYPE.to_owned(), c.dtype().name().to_owned());
                    Arc::new(Float64Array::from_iter((0..n).map(|i| valid(i).then_some(v[i]))))
                }
            }
        }
    };
    if let Some(t) = zeek {
        metadata.insert(ZEEK_TYPE.to_owned(), t.to_owned());
    }
    let field = Field::new(c.name(), array.data_type().clone(), true).with_metadata(metadata);
    Ok((field, array))
}

fn list_of_strings(lists: impl Iterator<Item = Option<Vec<Option<String>>>>) -> ListArray {
    use arrow_array::builder::{ListBuilder, StringBuilder};
    let mut b = ListBuilder::new(StringBuilder::new());
    for list in lists {
        match list {
            Some(items) => {
                for s in items {
                    b.values().append_option(s);
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }
    b.finish()
}

/// A record batch as a table; `name` (a file name, or any label) is used in errors.
pub fn batch_to_table(name: &str, batch: &RecordBatch) -> Result<Table> {
    let schema = batch.schema();
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, a)| {
            let c = arrow_to_column(name, f, a.as_ref())?;
            let zeek = f.metadata().get(ZEEK_TYPE).map(String::as_str);
            if matches!(zeek, None | Some("bool"))
                && let Some(bools) = zeek_bool_text(&c)
            {
                return Ok(bools.with_source_type("bool"));
            }
            Ok(match zeek {
                Some(t) => c.with_source_type(t),
                None => c,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if columns.is_empty() {
        return Err(IoError::Empty { file: name.to_owned(), message: "no columns".into() });
    }
    Table::new(columns)
}

/// A text column holding only Zeek's booleans, `T` and `F` (and nulls), as booleans: Zeek writes bools
/// so, and pandas users of zat keep them as that text (a category) when they write Parquet. A column
/// whose field metadata gives another Zeek type is left as it is.
fn zeek_bool_text(c: &Column) -> Option<Column> {
    if c.dtype() != crate::table::DataType::Categorical {
        return None;
    }
    let mut values = Vec::with_capacity(c.len());
    let mut any = false;
    for i in 0..c.len() {
        values.push(match c.str_at(i) {
            _ if c.is_null(i) => None,
            Some("T") => Some(true),
            Some("F") => Some(false),
            _ => return None,
        });
        any |= values[i].is_some();
    }
    any.then(|| Column::from_bool_opt(c.name(), values))
}

fn arrow_to_column(file: &str, field: &Field, a: &dyn Array) -> Result<Column> {
    let name = field.name().as_str();
    let n = a.len();
    let valid = |i: usize| a.is_valid(i);
    macro_rules! ints {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            Column::from_i64_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i) as i64)))
        }};
    }
    macro_rules! floats {
        ($t:ty) => {{
            let p = a.as_primitive::<$t>();
            Column::from_f64_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i) as f64)))
        }};
    }
    macro_rules! scaled {
        ($t:ty, $unit:expr, $make:ident) => {{
            let (p, per) = (a.as_primitive::<$t>(), per_second($unit));
            Column::$make(name, (0..n).map(|i| valid(i).then(|| p.value(i) as f64 / per)))
        }};
    }
    let stored_as = field.metadata().get(OUTFLOW_TYPE).map(String::as_str);
    Ok(match a.data_type() {
        ArrowType::Float64 if stored_as == Some("time") => {
            let p = a.as_primitive::<Float64Type>();
            Column::from_time_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i))))
        }
        ArrowType::Float64 if stored_as == Some("interval") => {
            let p = a.as_primitive::<Float64Type>();
            Column::from_interval_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i))))
        }
        ArrowType::Float64 => floats!(Float64Type),
        ArrowType::Float32 => floats!(Float32Type),
        ArrowType::Int8 => ints!(Int8Type),
        ArrowType::Int16 => ints!(Int16Type),
        ArrowType::Int32 => ints!(Int32Type),
        ArrowType::Int64 => ints!(Int64Type),
        ArrowType::UInt8 => ints!(UInt8Type),
        ArrowType::UInt16 => ints!(UInt16Type),
        ArrowType::UInt32 => ints!(UInt32Type),
        ArrowType::UInt64 => {
            let p = a.as_primitive::<UInt64Type>();
            if let Some(i) = (0..n).find(|&i| valid(i) && p.value(i) > i64::MAX as u64) {
                return Err(arrow_error(
                    file,
                    format!("column '{name}', row {i}: {} does not fit a 64-bit signed integer", p.value(i)),
                ));
            }
            Column::from_i64_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i) as i64)))
        }
        ArrowType::Decimal128(_, scale) => {
            let (p, per) = (a.as_primitive::<Decimal128Type>(), 10f64.powi(i32::from(*scale)));
            Column::from_f64_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i) as f64 / per)))
        }
        ArrowType::Boolean => {
            let b = a.as_boolean();
            Column::from_bool_opt(name, (0..n).map(|i| valid(i).then(|| b.value(i))))
        }
        ArrowType::Utf8 => {
            let s = a.as_string::<i32>();
            Column::from_str_opt(name, (0..n).map(|i| valid(i).then(|| s.value(i))))
        }
        ArrowType::LargeUtf8 => {
            let s = a.as_string::<i64>();
            Column::from_str_opt(name, (0..n).map(|i| valid(i).then(|| s.value(i))))
        }
        ArrowType::Utf8View => {
            let s = a.as_string_view();
            Column::from_str_opt(name, (0..n).map(|i| valid(i).then(|| s.value(i))))
        }
        ArrowType::Dictionary(_, value) if is_text(value) => {
            let d = a.as_any_dictionary();
            let keys = d.normalized_keys();
            let values = arrow_to_column(file, &Field::new(name, value.as_ref().clone(), true), d.values().as_ref())?;
            Column::from_str_opt(name, (0..n).map(|i| if valid(i) { values.str_at(keys[i]) } else { None }))
        }
        ArrowType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => scaled!(TimestampSecondType, unit, from_time_opt),
            TimeUnit::Millisecond => scaled!(TimestampMillisecondType, unit, from_time_opt),
            TimeUnit::Microsecond => scaled!(TimestampMicrosecondType, unit, from_time_opt),
            TimeUnit::Nanosecond => {
                Column::from_time_opt(name, nanos_as_seconds(a.as_primitive::<TimestampNanosecondType>().iter()))
            }
        },
        ArrowType::Date32 => {
            let p = a.as_primitive::<arrow_array::types::Date32Type>();
            Column::from_time_opt(name, (0..n).map(|i| valid(i).then(|| f64::from(p.value(i)) * 86_400.0)))
        }
        ArrowType::Date64 => {
            let p = a.as_primitive::<arrow_array::types::Date64Type>();
            Column::from_time_opt(name, (0..n).map(|i| valid(i).then(|| p.value(i) as f64 / 1e3)))
        }
        ArrowType::Duration(unit) => match unit {
            TimeUnit::Second => scaled!(DurationSecondType, unit, from_interval_opt),
            TimeUnit::Millisecond => scaled!(DurationMillisecondType, unit, from_interval_opt),
            TimeUnit::Microsecond => scaled!(DurationMicrosecondType, unit, from_interval_opt),
            TimeUnit::Nanosecond => {
                Column::from_interval_opt(name, nanos_as_seconds(a.as_primitive::<DurationNanosecondType>().iter()))
            }
        },
        ArrowType::List(item) | ArrowType::LargeList(item) if is_text(item.data_type()) => {
            let joined: Vec<Option<String>> = (0..n)
                .map(|i| {
                    if !valid(i) {
                        return Ok(None);
                    }
                    let items = match a.data_type() {
                        ArrowType::List(_) => a.as_list::<i32>().value(i),
                        _ => a.as_list::<i64>().value(i),
                    };
                    let inner = arrow_to_column(file, item, items.as_ref())?;
                    let parts: Vec<&str> = (0..inner.len()).filter_map(|k| inner.str_at(k)).collect();
                    Ok(Some(parts.join(",")))
                })
                .collect::<Result<_>>()?;
            let c = Column::from_str_opt(name, joined.iter().map(|s| s.as_deref()));
            if field.metadata().contains_key(ZEEK_TYPE) { c } else { c.with_source_type("set[string]") }
        }
        ArrowType::Null => Column::from_f64_opt(name, (0..n).map(|_| None)),
        other => {
            return Err(arrow_error(
                file,
                format!(
                    "column '{name}' is Arrow {other}, which a flow table cannot hold (numbers, booleans, text, \
                     timestamps, durations and lists of text can)"
                ),
            ));
        }
    })
}

/// Nanosecond counts as seconds. Zeek's times and intervals have microseconds; converted from float
/// seconds to nanoseconds (`pandas.to_datetime(unit="s")`, `to_timedelta`, as zat's DataFrames are) they
/// land a nanosecond off (0.136721 s → 136,720,999 ns). When every value of a column is within one
/// nanosecond of a whole microsecond, the column is read at the microsecond, which gives back the
/// Zeek log's numbers exactly; a column with real sub-microsecond digits is read as it is.
fn nanos_as_seconds(values: impl Iterator<Item = Option<i64>> + Clone) -> Vec<Option<f64>> {
    let near_micro = |ns: i64| matches!(ns.rem_euclid(1000), 0 | 1 | 999);
    if values.clone().flatten().all(near_micro) {
        values.map(|v| v.map(|ns| ((ns as i128 + 1).div_euclid(1000)) as f64 / 1e6)).collect()
    } else {
        values.map(|v| v.map(|ns| ns as f64 / 1e9)).collect()
    }
}

fn is_text(t: &ArrowType) -> bool {
    matches!(t, ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View)
}

/// An input's bytes, decompressed (Parquet and Arrow files are read with random access).
fn all_bytes(input: &Input) -> Result<Bytes> {
    let mut r = input.open()?;
    let mut buf = Vec::new();
    r.read_to_end(&mut buf).map_err(|e| input.read_error(0, e))?;
    Ok(Bytes::from(buf))
}

/// Reads a Parquet (`parquet`) or Arrow IPC input in tables of at most `max_rows` records (an IPC input
/// in its own record batches), handing each to `f`. A Parquet file is read a row group at a time: memory
/// holds one batch.
pub(crate) fn read_columnar_batches<E: From<IoError>>(
    input: &Input,
    parquet: bool,
    max_rows: usize,
    columns: Option<&[String]>,
    mut f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let name = input.name().to_owned();
    each_batch(input, parquet, max_rows, columns, |batch| f(batch_to_table(&name, &batch)?))
}

/// The indices of `names` in `schema`, in the order asked; a missing name is an error naming the input.
fn column_indices(name: &str, schema: &Schema, names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| schema.index_of(n).map_err(|_| IoError::invalid(format!("{name}: no column named '{n}'"))))
        .collect()
}

/// Hands each decoded record batch of an input to `f`. The parquet and arrow-ipc decoders (60) still
/// panic on some malformed input (a run-length header past its limit; buffer offsets past a message
/// body, upstream apache/arrow-rs#7124), so every decoding step runs under [`guarded`]: such a file is
/// an error naming it, after the batches decoded before it were handed on.
fn each_batch<E: From<IoError>>(
    input: &Input,
    parquet: bool,
    max_rows: usize,
    columns: Option<&[String]>,
    f: impl FnMut(RecordBatch) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let name = input.name();
    let batches: Batches = if parquet {
        let rows = max_rows.max(1);
        #[cfg(feature = "object-store")]
        if let Some((object, size)) = input.object().filter(|(o, _)| o.ranged() && !input.is_gzip()) {
            let chunks = crate::store::remote::ObjectChunks::new(object.clone(), size);
            return read_all_batches(name, parquet_reader(name, chunks, rows, columns)?, columns, f);
        }
        match input.file_path().filter(|_| !input.is_gzip()) {
            Some(path) => {
                let file = std::fs::File::open(path).map_err(|source| IoError::Io { path: path.to_owned(), source })?;
                parquet_reader(name, file, rows, columns)?
            }
            None => parquet_reader(name, all_bytes(input)?, rows, columns)?,
        }
    } else if input.head(6)?.starts_with(b"ARROW1") {
        let bytes = all_bytes(input)?;
        check_ipc_blocks(name, &bytes)?;
        guarded(name, || arrow_ipc::reader::FileReader::try_new(Cursor::new(bytes), None))?
            .map(|r| Box::new(r) as Batches)
            .map_err(|e| arrow_error(name, e))?
    } else {
        let stream = input.open()?;
        guarded(name, || arrow_ipc::reader::StreamReader::try_new(stream, None))?
            .map(|r| Box::new(r) as Batches)
            .map_err(|e| arrow_error(name, e))?
    };
    read_all_batches(name, batches, columns, f)
}

/// Hands each batch of a decoder to `f`, in the column order asked.
fn read_all_batches<E: From<IoError>>(
    name: &str,
    mut batches: Batches,
    columns: Option<&[String]>,
    mut f: impl FnMut(RecordBatch) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    while let Some(batch) = guarded(name, || batches.next())? {
        let batch = batch.map_err(|e| arrow_error(name, e))?;
        // Parquet has read the requested columns only (in the file's order); this puts them in the
        // order asked, and drops the others of an Arrow IPC batch.
        let batch = match columns {
            Some(names) => {
                let picked = column_indices(name, &batch.schema(), names)?;
                batch.project(&picked).map_err(|e| arrow_error(name, e))?
            }
            None => batch,
        };
        f(batch)?;
    }
    Ok(())
}

/// A Parquet file's batches of `rows` records, decoding only `columns` when given (the footer is read
/// here, guarded). A column whose type is Arrow's `Null` (pandas writes a column of nothing but nulls so,
/// as INT32 with the logical type Null, or as a category of nulls) is not decoded — parquet 60 panics
/// converting it — but given back as a null column of the batch's length, in its place.
fn parquet_reader<R: parquet::file::reader::ChunkReader + 'static>(
    name: &str,
    reader: R,
    rows: usize,
    columns: Option<&[String]>,
) -> Result<Batches> {
    let builder =
        guarded(name, || ParquetRecordBatchReaderBuilder::try_new(reader))?.map_err(|e| arrow_error(name, e))?;
    let schema = Arc::clone(builder.schema());
    let wanted: Vec<usize> = match columns {
        Some(names) => column_indices(name, &schema, names)?,
        None => (0..schema.fields().len()).collect(),
    };
    let null = |i: &usize| match schema.field(*i).data_type() {
        ArrowType::Dictionary(_, values) => values.as_ref() == &ArrowType::Null,
        t => t == &ArrowType::Null,
    };
    let all_null = wanted.iter().any(null);
    let builder = if columns.is_some() || all_null {
        let decoded: Vec<usize> = wanted.iter().copied().filter(|i| !null(i)).collect();
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), decoded);
        builder.with_projection(mask)
    } else {
        builder
    };
    let batches = guarded(name, || builder.with_batch_size(rows).build())?.map_err(|e| arrow_error(name, e))?;
    if !all_null {
        return Ok(Box::new(batches));
    }
    let fields: Vec<(Field, bool)> = wanted
        .iter()
        .map(|i| {
            let f = schema.field(*i);
            if null(i) { (Field::new(f.name(), ArrowType::Null, true), true) } else { (f.clone(), false) }
        })
        .collect();
    Ok(Box::new(batches.map(move |batch| {
        let batch = batch?;
        let n = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        for (f, is_null) in &fields {
            columns.push(if *is_null {
                Arc::new(arrow_array::NullArray::new(n))
            } else {
                let c = batch.column_by_name(f.name()).ok_or_else(|| {
                    arrow_schema::ArrowError::SchemaError(format!("column '{}' missing from a batch", f.name()))
                })?;
                Arc::clone(c)
            });
        }
        let fields: Vec<Field> =
            fields.iter().zip(&columns).map(|((f, _), c)| Field::new(f.name(), c.data_type().clone(), true)).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
    })))
}

/// Record batches from a decoder.
type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, arrow_schema::ArrowError>>>;

/// Checks that every block an Arrow IPC file's footer lists lies inside the file: arrow-ipc 60 allocates
/// a block's announced length before reading it, so a crafted footer would ask for terabytes.
fn check_ipc_blocks(name: &str, bytes: &[u8]) -> Result<()> {
    let bad = |why: String| arrow_error(name, format!("not a valid Arrow IPC file: {why}"));
    let n = bytes.len();
    if n < 10 + 8 || &bytes[n - 6..] != b"ARROW1" {
        return Err(bad("it does not end with the ARROW1 magic".into()));
    }
    let footer_len = i32::from_le_bytes(bytes[n - 10..n - 6].try_into().expect("four bytes"));
    let footer_len = usize::try_from(footer_len).map_err(|_| bad(format!("a footer length of {footer_len}")))?;
    let start = (n - 10).checked_sub(footer_len).ok_or_else(|| bad("the footer is longer than the file".into()))?;
    let footer = arrow_ipc::root_as_footer(&bytes[start..n - 10]).map_err(|e| bad(format!("its footer: {e}")))?;
    let blocks = footer.recordBatches().into_iter().flatten().chain(footer.dictionaries().into_iter().flatten());
    for (k, b) in blocks.enumerate() {
        let end = b.offset().checked_add(i64::from(b.metaDataLength())).and_then(|e| e.checked_add(b.bodyLength()));
        let inside = b.offset() >= 0 && b.metaDataLength() >= 0 && b.bodyLength() >= 0;
        if !inside || end.is_none_or(|e| e > start as i64) {
            return Err(bad(format!("block {k} lies outside the file")));
        }
    }
    Ok(())
}

/// Runs a step of a third-party decoder, turning a panic into an error naming the file. (The panic's
/// message still reaches the panic hook: standard error, by default.)
fn guarded<T>(name: &str, step: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        arrow_error(name, format!("malformed Parquet or Arrow IPC data (the decoder failed: {why})"))
    })
}

/// Reads a whole Parquet or Arrow IPC input as one table (its batches stacked by Arrow, then converted
/// once).
pub(crate) fn read_whole(input: &Input, parquet: bool, columns: Option<&[String]>) -> Result<Table> {
    let mut parts: Vec<RecordBatch> = Vec::new();
    each_batch(input, parquet, ROW_GROUP, columns, |b| -> Result<()> {
        parts.push(b);
        Ok(())
    })?;
    let Some(first) = parts.first() else {
        return Err(IoError::Empty { file: input.name().to_owned(), message: "no record batches".into() });
    };
    let whole =
        arrow_select::concat::concat_batches(&first.schema(), &parts).map_err(|e| arrow_error(input.name(), e))?;
    batch_to_table(input.name(), &whole)
}

/// Writes tables one after another as one Parquet file, as [`parquet_bytes`] writes one: for a table too
/// large to hold, written batch by batch. The columns and their Arrow types are the first table's; a
/// later table's columns are matched by name (one it lacks is null there, one the first table lacked is
/// left out), and one whose values need another Arrow type (a port above 65,535 after a first batch of
/// ports, a time that is not whole microseconds after whole ones) is an error naming the column.
///
/// ```
/// use outflow_io::{Column, Table};
/// use outflow_io::arrow::ParquetWriter;
/// let mut w = ParquetWriter::new(Vec::new());
/// w.write(&Table::new(vec![Column::from_f64("bytes", vec![1.0, 2.0])]).unwrap()).unwrap();
/// w.write(&Table::new(vec![Column::from_f64("bytes", vec![3.0])]).unwrap()).unwrap();
/// let bytes = w.finish().unwrap();
/// let t = outflow_io::read_input(&outflow_io::Input::bytes("t.parquet", bytes), &Default::default()).unwrap().0;
/// assert_eq!(t.n_rows(), 3);
/// ```
pub struct ParquetWriter<W: std::io::Write + Send> {
    out: Option<W>,
    w: Option<ArrowWriter<W>>,
    schema: Option<Arc<Schema>>,
}

impl<W: std::io::Write + Send> std::fmt::Debug for ParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter").field("started", &self.w.is_some()).finish()
    }
}

impl<W: std::io::Write + Send> ParquetWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        ParquetWriter { out: Some(out), w: None, schema: None }
    }

    fn start(&mut self, schema: Arc<Schema>) -> Result<&mut ArrowWriter<W>> {
        if self.w.is_none() {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(ROW_GROUP))
                .build();
            let out = self.out.take().expect("the output until the writer starts");
            let w = ArrowWriter::try_new(out, Arc::clone(&schema), Some(props))
                .map_err(|e| IoError::Write(e.to_string()))?;
            self.w = Some(w);
            self.schema = Some(schema);
        }
        Ok(self.w.as_mut().expect("started"))
    }

    /// Appends the rows of `table`.
    pub fn write(&mut self, table: &Table) -> Result<()> {
        let batch = table_to_batch(table)?;
        let batch = match &self.schema {
            None => batch,
            Some(schema) => conform(&batch, schema)?,
        };
        let w = self.start(batch.schema())?;
        w.write(&batch).map_err(|e| IoError::Write(e.to_string()))
    }

    /// Finishes the file (a writer given no table writes one without columns) and returns the output.
    pub fn finish(mut self) -> Result<W> {
        self.start(Arc::new(Schema::empty()))?;
        self.w.take().expect("started").into_inner().map_err(|e| IoError::Write(e.to_string()))
    }
}

/// `batch` with the columns and types of `schema` (see [`ParquetWriter`]).
fn conform(batch: &RecordBatch, schema: &Arc<Schema>) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            None => Ok(arrow_array::new_null_array(f.data_type(), n)),
            Some(c) if c.data_type() == f.data_type() => Ok(Arc::clone(c)),
            Some(c) => Err(IoError::Write(format!(
                "column '{}' needs {} in a later batch, where the first batch had {}",
                f.name(),
                c.data_type(),
                f.data_type()
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(n));
    RecordBatch::try_new_with_options(Arc::clone(schema), columns, &options).map_err(|e| arrow_error("record batch", e))
}

/// The tables of a Parquet file, `rows` at a time, read as they are asked for.
pub fn parquet_tables(path: &std::path::Path, rows: usize) -> Result<impl Iterator<Item = Result<Table>> + use<>> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| IoError::Io { path: path.to_owned(), source })?;
    let batches = parquet_reader(&name, file, rows.max(1), None)?;
    Ok(batches.map(move |b| b.map_err(|e| arrow_error(&name, e)).and_then(|b| batch_to_table(&name, &b))))
}

/// A table as the bytes of a Parquet file (Snappy-compressed, row groups of 65,536 rows), ready to be
/// written atomically.
pub fn parquet_bytes(table: &Table) -> Result<Vec<u8>> {
    let mut w = ParquetWriter::new(Vec::new());
    w.write(table)?;
    w.finish()
}
