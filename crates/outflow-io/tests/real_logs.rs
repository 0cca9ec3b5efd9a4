//! Readers on real public logs: row counts, column types and exact values from real lines.

use std::path::{Path, PathBuf};

use outflow_io::{DataType, Format, Input, IoError, ReadOptions, Table, Value, read_input};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn read(name: &str) -> (Table, Format) {
    read_input(&Input::path(fixture(name)).unwrap(), &ReadOptions::default()).unwrap()
}

fn dtype(t: &Table, name: &str) -> DataType {
    t.column(name).unwrap_or_else(|| panic!("no column {name}")).dtype()
}

#[test]
fn ctu_labeled_zeek_tsv() {
    let (t, f) = read("ctu-001-labeled.conn.log");
    assert_eq!(f, Format::Zeek);
    assert_eq!((t.n_rows(), t.n_cols()), (992, 23));
    assert_eq!(dtype(&t, "ts"), DataType::Time);
    assert_eq!(dtype(&t, "duration"), DataType::Interval);
    assert_eq!(dtype(&t, "orig_bytes"), DataType::Int);
    assert_eq!(dtype(&t, "local_orig"), DataType::Bool);
    assert_eq!(dtype(&t, "id.orig_h"), DataType::Categorical);
    assert_eq!(t.column("id.resp_p").unwrap().source_type(), Some("port"));
    // Line 9: 19.981745 C91Ycq25p2quMWzEMk fd2d:...:aec8 56464 fd2d:ab8c:225::1 53 udp dns 0.136721 34 50 SF F F 0 Dd 1 82 1 98 (empty) Background (empty)
    let v = |c: &str| t.column(c).unwrap().value(0);
    assert_eq!(v("ts"), Value::Time(19.981745));
    assert_eq!(v("uid"), Value::Str("C91Ycq25p2quMWzEMk"));
    assert_eq!(v("id.orig_h"), Value::Str("fd2d:ab8c:225:0:81d3:fd3e:7f62:aec8"));
    assert_eq!(v("id.orig_p"), Value::Int(56464));
    assert_eq!(v("duration"), Value::Interval(0.136721));
    assert_eq!(v("resp_bytes"), Value::Int(50));
    assert_eq!(v("local_orig"), Value::Bool(false));
    assert_eq!(v("resp_ip_bytes"), Value::Int(98));
    assert_eq!(v("tunnel_parents"), Value::Str(""));
    assert_eq!(v("label"), Value::Str("Background"));
    let labels = t.column("label").unwrap();
    let malicious = (0..t.n_rows()).filter(|&i| labels.str_at(i) == Some("Malicious")).count();
    assert_eq!(malicious, 244);
    assert_eq!(t.column("duration").unwrap().null_count(), 405);
}

#[test]
fn iot23_spaced_label_fields() {
    let (t, f) = read("iot23-labeled-excerpt.conn.log");
    assert_eq!(f, Format::Zeek);
    assert_eq!(t.n_rows(), 60);
    let names = t.names();
    assert_eq!(&names[names.len() - 3..], ["tunnel_parents", "label", "detailed-label"]);
    assert_eq!(t.column("label").unwrap().str_at(0), Some("Benign"));
    assert!(t.column("detailed-label").unwrap().is_null(0));
    // Last line: ... 0 S 1 40 0 0 -   Malicious   PartOfAHorizontalPortScan
    let last = t.n_rows() - 1;
    assert_eq!(t.column("label").unwrap().str_at(last), Some("Malicious"));
    assert_eq!(t.column("detailed-label").unwrap().str_at(last), Some("PartOfAHorizontalPortScan"));
    assert_eq!(t.column("ts").unwrap().f64_at(last), Some(1545426300.923967));
    assert!(t.column("duration").unwrap().is_null(last));
    assert_eq!(t.column("orig_ip_bytes").unwrap().value(last), Value::Int(40));
}

#[test]
fn zat_logs() {
    let (t, _) = read("zat-conn.log");
    assert_eq!((t.n_rows(), t.n_cols()), (360, 20));
    assert_eq!(t.column("tunnel_parents").unwrap().source_type(), Some("table[string]"));
    assert_eq!(t.column("resp_ip_bytes").unwrap().value(0), Value::Int(39641));
    assert_eq!(t.column("history").unwrap().str_at(0), Some("ShADadR"));
    assert!(t.column("local_orig").unwrap().is_null(0));

    let (t, f) = read("zat-conn.json.log");
    assert_eq!(f, Format::ZeekJson);
    assert_eq!((t.n_rows(), t.n_cols()), (50, 18));
    assert_eq!(t.column("ts").unwrap().value(0), Value::Time(1575413096.052279));
    assert_eq!(t.column("duration").unwrap().value(0), Value::Interval(0.0012309551239013672));
    assert_eq!(t.column("id.resp_p").unwrap().value(0), Value::Int(88));
    assert_eq!(t.column("service").unwrap().str_at(0), Some("krb_tcp"));

    let (t, _) = read("zat-conn_date_issue.log");
    assert_eq!(t.n_rows(), 3);
    assert_eq!(t.column("ts").unwrap().f64_at(2), Some(1647504479.519793));
    assert!(t.column("tunnel_parents").unwrap().is_null(0));
}

#[test]
fn corrupt_gzip_names_the_line() {
    let err =
        read_input(&Input::path(fixture("zat-http.log.corrupt.gz")).unwrap(), &ReadOptions::default()).unwrap_err();
    let text = err.to_string();
    match err {
        IoError::Decompress { line, .. } => {
            assert!(line > 0);
            assert!(text.contains(&format!("corrupt or truncated gzip stream after line {line}")), "{text}");
        }
        e => panic!("unexpected {e}"),
    }
    // Cut before its first line ends: no place is claimed (never a line 0).
    let whole = std::fs::read(fixture("zat-http.log.corrupt.gz")).unwrap();
    let err = read_input(&Input::bytes("cut.log.gz", whole[..40].to_vec()), &ReadOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("corrupt or truncated gzip stream:") && !text.contains("line 0"), "{text}");
}

#[test]
fn ctu_port_scan_json() {
    let (t, f) = read("ctu-002-port-scanning-head100.conn.json.log");
    assert_eq!(f, Format::ZeekJson);
    assert_eq!(t.n_rows(), 100);
    assert_eq!(dtype(&t, "local_orig"), DataType::Bool);
    assert_eq!(t.column("resp_ip_bytes").unwrap().value(0), Value::Int(139));
    assert_eq!(t.column("conn_state").unwrap().str_at(0), Some("SHR"));
}

#[test]
fn kdd_variants() {
    let (t, f) = read("nsl-kdd-train20-head60.txt");
    assert_eq!(f, Format::Kdd);
    assert_eq!((t.n_rows(), t.n_cols()), (60, 43));
    // 0,tcp,ftp_data,SF,491,0,...,0.05,0.00,normal,20
    assert_eq!(t.column("service").unwrap().str_at(0), Some("ftp_data"));
    assert_eq!(t.column("src_bytes").unwrap().value(0), Value::Int(491));
    assert_eq!(t.column("dst_host_rerror_rate").unwrap().value(0), Value::Float(0.05));
    assert_eq!(t.column("label").unwrap().str_at(0), Some("normal"));
    assert_eq!(t.column("difficulty").unwrap().value(0), Value::Int(20));

    let (t, f) = read("nsl-kdd-test21-head60-with-header.txt");
    assert_eq!(f, Format::Kdd);
    assert_eq!(t.n_rows(), 60);
    assert_eq!(t.column("label").unwrap().str_at(0), Some("guess_passwd"));
    assert_eq!(t.column("duration").unwrap().value(0), Value::Interval(13.0));

    let (t, f) = read("kddcup-10pct-head200.gz");
    assert_eq!(f, Format::Kdd);
    assert_eq!((t.n_rows(), t.n_cols()), (200, 42));
    assert_eq!(t.column("dst_bytes").unwrap().value(0), Value::Int(5450));
    assert_eq!(t.column("label").unwrap().str_at(0), Some("normal."));
}

#[test]
fn cic_csv() {
    let (t, f) = read("cicids2017-sample-head200.csv");
    assert_eq!(f, Format::Csv);
    assert_eq!((t.n_rows(), t.n_cols()), (200, 78));
    assert_eq!(dtype(&t, "Flow Duration"), DataType::Int);
    assert_eq!(dtype(&t, "Flow Bytes/s"), DataType::Float);
    assert_eq!(dtype(&t, "Label"), DataType::Categorical);
    // 191,2,2,62,190,31,31,31.0,0.0,95,95,95.0,0.0,1319371.728,20942.40838,...,BENIGN
    assert_eq!(t.column("Flow Duration").unwrap().value(0), Value::Int(191));
    assert_eq!(t.column("Flow Bytes/s").unwrap().value(0), Value::Float(1319371.728));
    assert_eq!(t.column("Init_Win_bytes_forward").unwrap().value(0), Value::Int(-1));
    assert_eq!(t.column("Label").unwrap().str_at(0), Some("BENIGN"));
    assert!(t.column("Fwd Header Length.1").is_some());
}

/// Every file of the shared data collection, when it is present next to the repository (it is not needed
/// to pass: CI machines without `../shared` skip this).
#[test]
fn shared_data_row_counts_and_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if !root.exists() {
        eprintln!("skipped: {} not present", root.display());
        return;
    }
    let cases: &[(&str, Format, usize, usize)] = &[
        ("zeek-zat/conn.log", Format::Zeek, 360, 20),
        ("zeek-zat/conn.json.log", Format::ZeekJson, 50, 18),
        ("zeek-zat/conn_date_issue.log", Format::Zeek, 3, 21),
        ("stratosphere/001-labeled-conn.log", Format::Zeek, 992, 23),
        ("stratosphere/002-port-scanning-conn.log", Format::ZeekJson, 4504, 20),
        ("stratosphere/008-mixed-conn.log.labeled", Format::Zeek, 5663, 23),
        ("stratosphere/010-mixed-conn.log.labeled", Format::Zeek, 5347, 23),
        ("kdd/kddcup.data_10_percent.gz", Format::Kdd, 494_021, 42),
        ("kdd/KDDTrain+_20Percent.txt", Format::Kdd, 25_192, 43),
        ("kdd/KDDTest-21.txt", Format::Kdd, 11_850, 43),
        ("cic/CICIDS2017_sample.csv", Format::Csv, 6_311, 78),
    ];
    for &(file, format, rows, cols) in cases {
        let (t, f) = read_input(&Input::path(root.join(file)).unwrap(), &ReadOptions::default()).unwrap();
        assert_eq!((f, t.n_rows(), t.n_cols()), (format, rows, cols), "{file}");
        if format == Format::Zeek || format == Format::ZeekJson {
            assert_eq!(dtype(&t, "ts"), DataType::Time, "{file}");
            assert_eq!(dtype(&t, "orig_bytes"), DataType::Int, "{file}");
        }
    }
}
