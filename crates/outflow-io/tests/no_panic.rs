//! No input makes a reader panic: random bytes and mutations of real logs give a table or an error.

use std::path::Path;

use outflow_io::{Format, Input, ReadOptions, read_input};
use proptest::prelude::*;

/// Every format the readers know (a new one is covered as soon as it has a name).
fn formats() -> Vec<Format> {
    Format::NAMES.iter().map(|n| n.parse().expect("every listed name parses")).collect()
}

fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    ["iot23-labeled-excerpt.conn.log", "zat-conn.json.log", "nsl-kdd-train20-head60.txt", "zat-conn_date_issue.log"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .chain([std::fs::read(dir.join("cicids2017-sample-head200.csv")).unwrap()[..6000].to_vec()])
        .collect()
}

fn read_all(bytes: Vec<u8>) {
    for format in formats() {
        let opts = ReadOptions { format, ..Default::default() };
        let _ = read_input(&Input::bytes("fuzz", bytes.clone()), &opts);
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), prop::sample::select(vec![b'\t', b'\n', b',', b'"', b'#', b' ', b'-', b'{', b'\\', 0xff]))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        read_all(bytes);
    }

    #[test]
    fn mutated_real_logs(which in 0usize..5, edits in prop::collection::vec(edit(), 1..8)) {
        let mut b = seeds()[which].clone();
        for e in edits {
            let n = b.len().max(1);
            match e {
                Edit::Flip(i, x) => { if !b.is_empty() { b[i % n] = x; } }
                Edit::Insert(i, x) => b.insert(i % (b.len() + 1), x),
                Edit::Delete(i) => { if !b.is_empty() { b.remove(i % n); } }
                Edit::Truncate(i) => b.truncate(i % n),
            }
        }
        read_all(b);
    }

    #[test]
    fn truncated_gzip(cut in 0usize..2546) {
        let gz = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kddcup-10pct-head200.gz")).unwrap();
        read_all(gz[..cut.min(gz.len())].to_vec());
    }
}

#[test]
fn a_line_past_the_limit_fails_the_read_instead_of_filling_memory() {
    use outflow_io::{Input, MAX_LINE_BYTES, ReadOptions, read_input};
    // One endless line (as /dev/zero or a one-line gzip bomb gives), in every format's reader.
    let endless = vec![b'7'; MAX_LINE_BYTES + 10];
    for format in ["csv", "zeek", "zeek-json", "kdd"] {
        let opts = ReadOptions { format: format.parse().unwrap(), ..ReadOptions::default() };
        let mut bytes = if format == "zeek" { b"#fields\tts\n".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(&endless);
        let err = read_input(&Input::bytes("big", bytes), &opts).unwrap_err();
        assert!(err.to_string().contains("a line longer than 8 MiB"), "{format}: {err}");
    }
    // Many short lines adding up to more than the limit are fine.
    let mut csv = b"a,b\n".to_vec();
    while csv.len() <= MAX_LINE_BYTES + 100 {
        csv.extend_from_slice(b"12345,67890\n");
    }
    let (t, _) = read_input(&Input::bytes("many.csv", csv), &ReadOptions::default()).unwrap();
    assert!(t.n_rows() > 600_000);
}

#[test]
fn more_fields_than_a_flow_log_has_fail_the_read() {
    use outflow_io::{Input, MAX_FIELDS, ReadOptions, read_input};
    let names: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("c{i}")).collect();
    let read = |name: &str, bytes: Vec<u8>| read_input(&Input::bytes(name, bytes), &ReadOptions::default());
    let csv = format!("{}\n{}\n", names.join(","), vec!["1"; names.len()].join(","));
    let e = read("wide.csv", csv.into_bytes()).unwrap_err().to_string();
    assert!(e.contains("wide.csv:1") && e.contains("10001 fields in the header"), "{e}");
    let zeek = format!("#separator \\x09\n#fields\t{}\n", names.join("\t"));
    let e = read("wide.log", zeek.into_bytes()).unwrap_err().to_string();
    assert!(e.contains("wide.log:2") && e.contains("10001 fields in #fields"), "{e}");
    // JSON keys: refused at the key past the limit (each new key is a column of every row).
    let keys: Vec<String> = names.iter().map(|n| format!("\"{n}\":1")).collect();
    let json = format!("{{\"ts\":1.0}}\n{{\"ts\":2.0,{}}}\n", keys.join(","));
    let e = read("keys.json", json.into_bytes()).unwrap_err().to_string();
    assert!(e.contains("more than 10000 distinct keys"), "{e}");
    // At the limit, a wide CSV reads.
    let ok = format!("{}\n{}\n", names[..MAX_FIELDS].join(","), vec!["1"; MAX_FIELDS].join(","));
    assert_eq!(read("ok.csv", ok.into_bytes()).unwrap().0.n_cols(), MAX_FIELDS);
}

#[test]
fn a_gzip_that_expands_like_a_bomb_fails_the_read() {
    use std::io::Write;

    use outflow_io::{GZIP_RATIO_FROM, Input, MAX_GZIP_RATIO, ReadOptions, read_input};
    let gzip = |text: &[u8]| {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(text).unwrap();
        z.finish().unwrap()
    };
    // Valid short lines, repeated past the check: they compress about a thousand times.
    let mut csv = b"a,b\n".to_vec();
    while (csv.len() as u64) <= GZIP_RATIO_FROM + (1 << 20) {
        csv.extend_from_slice(b"1,2\n");
    }
    let bomb = gzip(&csv);
    assert!(csv.len() as u64 / bomb.len() as u64 > MAX_GZIP_RATIO);
    let e = read_input(&Input::bytes("bomb.csv.gz", bomb), &ReadOptions::default()).unwrap_err().to_string();
    assert!(e.contains("bomb.csv.gz") && e.contains("decompression bomb"), "{e}");
    // A log that compresses like a log reads, whatever its size.
    let mut log = b"a,b\n".to_vec();
    let mut x: u64 = 1;
    while log.len() < 1 << 20 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        log.extend_from_slice(format!("{},{}\n", x >> 40, x % 1000).as_bytes());
    }
    let (t, _) = read_input(&Input::bytes("log.csv.gz", gzip(&log)), &ReadOptions::default()).unwrap();
    assert!(t.n_rows() > 50_000);
}
