//! Parquet and Arrow IPC (feature `arrow`): files written by pyarrow read as the Zeek log they came
//! from; tables round-trip through Parquet exactly; batches, errors.
#![cfg(feature = "arrow")]

use std::path::PathBuf;

use outflow_io::arrow::{batch_to_table, parquet_bytes, table_to_batch};
use outflow_io::{ColumnData, Format, Input, ReadOptions, Table, Value, read_batches, read_input, read_table};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Same columns, in order, with the same values (times and durations to the microsecond).
fn same_values(a: &Table, b: &Table) {
    assert_eq!(a.names(), b.names());
    assert_eq!(a.n_rows(), b.n_rows());
    for (x, y) in a.columns().iter().zip(b.columns()) {
        assert_eq!(x.dtype(), y.dtype(), "column {}", x.name());
        for i in 0..x.len() {
            match (x.value(i), y.value(i)) {
                (Value::Time(p), Value::Time(q)) | (Value::Interval(p), Value::Interval(q)) => {
                    assert!((p - q).abs() < 1e-6, "{} row {i}: {p} vs {q}", x.name())
                }
                (p, q) => assert_eq!(p, q, "{} row {i}", x.name()),
            }
        }
    }
}

/// Equal tables, reported by the first differing column and row (a whole table's debug print is
/// unreadable).
fn identical(a: &Table, b: &Table, what: &str) {
    assert_eq!(a.names(), b.names(), "{what}");
    for (x, y) in a.columns().iter().zip(b.columns()) {
        assert_eq!((x.dtype(), x.source_type()), (y.dtype(), y.source_type()), "{what}: column {}", x.name());
        for i in 0..x.len() {
            assert_eq!(x.value(i), y.value(i), "{what}: column {} row {i}", x.name());
        }
    }
    assert!(a == b, "{what}: equal values, yet the tables differ (categorical levels or validity)");
}

#[test]
fn files_written_by_pyarrow_read_as_the_zeek_log() {
    let zeek = read_table(data("zat-conn.log"), &ReadOptions::default()).unwrap();
    for (file, format) in [
        ("zat-conn.snappy.parquet", Format::Parquet),
        ("zat-conn.zstd.parquet", Format::Parquet),
        ("zat-conn.arrow", Format::Arrow),
        ("zat-conn.arrows", Format::Arrow),
    ] {
        let (t, found) = read_input(&Input::path(data(file)).unwrap(), &ReadOptions::default()).unwrap();
        assert_eq!(found, format, "{file}");
        same_values(&zeek, &t);
    }
}

#[test]
fn a_table_round_trips_through_parquet_exactly() {
    for file in ["zat-conn.log", "ctu-001-labeled.conn.log", "zat-conn.json.log", "cicids2017-sample-head200.csv"] {
        let t = read_table(data(file), &ReadOptions::default()).unwrap();
        let bytes = parquet_bytes(&t).unwrap();
        let (back, format) =
            read_input(&Input::bytes(format!("{file}.parquet"), bytes), &ReadOptions::default()).unwrap();
        assert_eq!(format, Format::Parquet);
        identical(&t, &back, file);
        identical(&t, &batch_to_table("batch", &table_to_batch(&t).unwrap()).unwrap(), file);
    }
}

#[test]
fn parquet_is_read_a_batch_at_a_time() {
    let mut sizes = Vec::new();
    let input = Input::path(data("zat-conn.snappy.parquet")).unwrap();
    let format = read_batches(&input, &ReadOptions::default(), 50, |t| {
        sizes.push(t.n_rows());
        Ok::<(), outflow_io::IoError>(())
    })
    .unwrap();
    assert_eq!(format, Format::Parquet);
    assert_eq!(sizes.iter().sum::<usize>(), 360);
    assert!(sizes.len() >= 8 && sizes.iter().all(|&n| n <= 50), "{sizes:?}");
    // Sets come back joined by Zeek's separator; an empty set is an empty string.
    let t = read_table(data("zat-conn.zstd.parquet"), &ReadOptions::default()).unwrap();
    let sets = t.column("tunnel_parents").unwrap();
    assert_eq!(sets.source_type(), Some("set[string]"));
    assert!(matches!(sets.data(), ColumnData::Categorical(_)));
}

#[test]
fn broken_and_unsupported_inputs_name_the_file_and_column() {
    let good = std::fs::read(data("zat-conn.snappy.parquet")).unwrap();
    for cut in [8usize, 100, good.len() / 2, good.len() - 9] {
        let mut bytes = good[..cut].to_vec();
        bytes.extend_from_slice(b"PAR1");
        let e = read_input(&Input::bytes("cut.parquet", bytes), &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("cut.parquet"), "{e}");
    }
    let opts = ReadOptions { format: Format::Parquet, ..ReadOptions::default() };
    let e = read_input(&Input::bytes("text.log", b"a,b\n1,2\n".to_vec()), &opts).unwrap_err();
    assert!(e.to_string().contains("text.log"), "{e}");
    // Found by fuzzing: an IPC stream whose buffer offsets run past its body panics arrow-ipc's decoder;
    // the reader reports it as an error naming the file.
    let e = read_table(data("fuzz-arrow-ipc-bad-buffer.arrows"), &ReadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("fuzz-arrow-ipc-bad-buffer.arrows") && e.contains("malformed"), "{e}");
    // An IPC file whose footer announces a block of terabytes is refused before anything is allocated.
    let e = read_table(data("fuzz-arrow-ipc-huge-block.arrow"), &ReadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("fuzz-arrow-ipc-huge-block.arrow") && e.contains("outside the file"), "{e}");
    // The same for a Parquet page whose run-length header runs past its limit (parquet's decoder panics).
    let e = read_table(data("fuzz-parquet-bad-vlq.parquet"), &ReadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("fuzz-parquet-bad-vlq.parquet") && e.contains("malformed"), "{e}");
    // A binary column has no flow-table type.
    use std::sync::Arc;
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "payload",
        arrow_schema::DataType::Binary,
        true,
    )]));
    let col: arrow_array::ArrayRef = Arc::new(arrow_array::BinaryArray::from_vec(vec![b"\x00\x01"]));
    let batch = arrow_array::RecordBatch::try_new(schema, vec![col]).unwrap();
    let e = batch_to_table("blobs", &batch).unwrap_err().to_string();
    assert!(e.contains("blobs") && e.contains("'payload'") && e.contains("Binary"), "{e}");
}

/// `ReadOptions::columns`: the same values as a whole read, in the order asked, for Parquet (projected
/// before decoding), Arrow IPC and Zeek text, read whole or batch by batch; a missing name is named.
#[test]
fn column_projection() {
    let zeek = read_table(data("zat-conn.log"), &ReadOptions::default()).unwrap();
    let names = ["id.resp_p", "ts", "orig_bytes"];
    let wanted = zeek.select(&names).unwrap();
    let opts = ReadOptions { columns: Some(names.iter().map(|s| s.to_string()).collect()), ..ReadOptions::default() };
    for file in
        ["zat-conn.log", "zat-conn.snappy.parquet", "zat-conn.zstd.parquet", "zat-conn.arrow", "zat-conn.arrows"]
    {
        let t = read_table(data(file), &opts).unwrap();
        assert_eq!(t.names(), names, "{file}");
        same_values(&t, &wanted);
        let mut rows = 0;
        read_batches(&Input::path(data(file)).unwrap(), &opts, 100, |b: Table| {
            assert_eq!(b.names(), names, "{file}: batch");
            rows += b.n_rows();
            Ok::<(), outflow_io::IoError>(())
        })
        .unwrap();
        assert_eq!(rows, zeek.n_rows(), "{file}");
    }
    let missing = ReadOptions { columns: Some(vec!["ts".into(), "no_such".into()]), ..ReadOptions::default() };
    for file in ["zat-conn.log", "zat-conn.snappy.parquet", "zat-conn.arrows"] {
        let e = read_table(data(file), &missing).unwrap_err().to_string();
        assert!(e.contains("no_such"), "{file}: {e}");
    }
}

/// A column of nothing but nulls as pandas writes it (INT32 with the logical type Null, a category of
/// nulls in its embedded schema) reads as a null column in its place, the others as in the Zeek log.
#[test]
fn parquet_with_a_column_of_only_nulls_reads() {
    let zeek = read_table(data("zat-conn.log"), &ReadOptions::default()).unwrap();
    let pandas = read_table(data("zat-conn.pandas.parquet"), &ReadOptions::default()).unwrap();
    assert_eq!(pandas.n_rows(), zeek.n_rows());
    let local = pandas.column("local_orig").unwrap();
    assert!((0..pandas.n_rows()).all(|r| local.is_null(r)));
    assert!((0..zeek.n_rows()).all(|r| zeek.column("local_orig").unwrap().is_null(r)));
    let names = pandas.names();
    let at = names.iter().position(|n| *n == "local_orig").unwrap();
    assert_eq!((names[at - 1], names[at + 1]), ("conn_state", "missed_bytes"));
    for name in ["duration", "orig_bytes", "id.orig_p", "conn_state", "proto"] {
        same_values(&pandas.select(&[name]).unwrap(), &zeek.select(&[name]).unwrap());
    }
    let opts = ReadOptions { columns: Some(vec!["local_orig".into(), "proto".into()]), ..ReadOptions::default() };
    let picked = read_table(data("zat-conn.pandas.parquet"), &opts).unwrap();
    assert_eq!(picked.names(), vec!["local_orig", "proto"]);
}

/// A log as a pandas user of zat writes it to Parquet (bools as a category of `T` / `F`, nullable
/// counts, ns times as the index, intervals as ns durations) reads with the Zeek log's types and values.
#[test]
fn parquet_written_from_a_zat_dataframe_reads_as_the_zeek_log() {
    let zeek = read_table(data("ctu-001-labeled.conn.log"), &ReadOptions::default()).unwrap();
    let pandas = read_table(data("ctu-001-labeled.pandas.parquet"), &ReadOptions::default()).unwrap();
    assert_eq!(pandas.n_rows(), zeek.n_rows());
    for name in ["ts", "duration", "orig_bytes", "id.orig_p", "local_orig", "local_resp", "conn_state", "proto"] {
        let (a, b) = (pandas.select(&[name]).unwrap(), zeek.select(&[name]).unwrap());
        same_values(&a, &b);
    }
    let bools = pandas.column("local_orig").unwrap();
    assert_eq!(bools.source_type(), Some("bool"));
    // Text that merely contains T and F among other values stays text.
    let mixed = outflow_io::Column::from_str_opt("flag", [Some("T"), Some("F"), Some("TF")]);
    let t = batch_to_table("mixed", &table_to_batch(&Table::new(vec![mixed]).unwrap()).unwrap()).unwrap();
    assert_eq!(t.column("flag").unwrap().dtype(), outflow_io::DataType::Categorical);
}
