//! Parquet and Arrow through the command: a log read from Parquet or Arrow IPC (detected) scores as the
//! Zeek log it was written from, and `score` writes Parquet.
#![cfg(feature = "arrow")]

use std::path::PathBuf;
use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../outflow-io/tests/data").join(name)
}

#[test]
fn parquet_and_arrow_logs_detect_and_score_like_their_zeek_source() {
    let dir = tempfile::tempdir().unwrap();
    let detect = |input: PathBuf, name: &str| {
        let run = dir.path().join(name);
        let out = outflow().args(["detect", "--quiet", "--out"]).arg(&run).arg(&input).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
        (run, summary)
    };
    let (zeek_run, zeek) = detect(data("zat-conn.log"), "zeek");
    for (file, format) in [("zat-conn.snappy.parquet", "parquet"), ("zat-conn.arrows", "arrow")] {
        let (run, s) = detect(data(file), file);
        assert_eq!(s["format"], format, "{file}");
        assert_eq!(s["rows_read"], zeek["rows_read"], "{file}");
        assert_eq!(s["thresholds"], zeek["thresholds"], "{file}: the same flows give the same model");
        let a = std::fs::read_to_string(zeek_run.join("scores.csv")).unwrap();
        let b = std::fs::read_to_string(run.join("scores.csv")).unwrap();
        let col = |text: &str, k: usize| {
            text.lines().map(|l| l.split(',').nth(k).unwrap_or("").to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(col(&a, 3), col(&b, 3), "{file}: outlier scores");
    }

    // `score` writes Parquet by extension, readable by `inspect` with the same rows as the CSV.
    let model = zeek_run.join(zeek["model_file"].as_str().unwrap());
    let pq = dir.path().join("scores.parquet");
    let out =
        outflow().arg("score").arg(&model).arg(data("zat-conn.zstd.parquet")).arg("-o").arg(&pq).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(&std::fs::read(&pq).unwrap()[..4], b"PAR1");
    let inspect = outflow().args(["inspect", "--json"]).arg(&pq).output().unwrap();
    assert!(inspect.status.success(), "{}", String::from_utf8_lossy(&inspect.stderr));
    let v: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!((v["format"].as_str(), v["rows"].as_u64()), (Some("parquet"), Some(360)));
    let cols: Vec<&str> = v["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(cols[..5], ["row", "cluster", "probability", "outlier_score", "severity"]);
    // --out-format overrides the extension; a broken Parquet input is named.
    let csv = outflow().arg("score").arg(&model).arg(&pq).args(["--out-format", "csv"]).output().unwrap();
    assert!(!csv.status.success(), "the scores file is not the model's kind of log");
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&broken, b"PAR1 not really").unwrap();
    let out = outflow().args(["inspect"]).arg(&broken).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.parquet") && !err.contains("panicked"), "{err}");
}

/// `detect --out-format parquet`: the scores, anomalies, hosts and pairs tables are Parquet, typed, with
/// the rows of the CSV run; `report` reads the run.
#[test]
fn run_directory_tables_as_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, format: &str| {
        let out_dir = dir.path().join(name);
        let out = outflow()
            .args(["detect", "--quiet", "--level", "all", "--out-format", format, "--out"])
            .arg(&out_dir)
            .arg(data("zat-conn.log"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        out_dir
    };
    let (csv, pq) = (run("csv", "csv"), run("pq", "parquet"));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(pq.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["table_format"], "parquet");
    for (table, rows_of) in [("scores", "scores"), ("anomalies", "anomalies"), ("hosts", "hosts"), ("pairs", "pairs")] {
        assert!(!pq.join(format!("{table}.csv")).exists(), "{table}.csv written next to Parquet");
        let file = pq.join(format!("{table}.parquet"));
        assert_eq!(&std::fs::read(&file).unwrap()[..4], b"PAR1", "{table}");
        // The Parquet table read back and written as CSV is the CSV run's file, line for line.
        let back = outflow::io::read_table(&file, &outflow::ReadOptions::default()).unwrap();
        let mut text = Vec::new();
        outflow::io::write_csv(&back, &mut text).unwrap();
        let expected = std::fs::read_to_string(csv.join(format!("{rows_of}.csv"))).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), expected, "{table}");
    }
    let types = outflow::io::read_table(pq.join("scores.parquet"), &outflow::ReadOptions::default()).unwrap();
    assert_eq!(types.column("reason").unwrap().dtype(), outflow::io::DataType::Categorical);
    assert_eq!(types.column("ts").unwrap().dtype(), outflow::io::DataType::Time);
    // The report draws the same figures from either run.
    let figures = |run: &std::path::Path| {
        let report = outflow().arg("report").arg(run).output().unwrap();
        assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
        assert!(run.join("report.html").is_file());
        let mut names: Vec<String> = std::fs::read_dir(run.join("figures"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let drawn = figures(&csv);
    assert!(drawn.iter().any(|f| f.starts_with("beacon-intervals")), "{drawn:?}");
    assert_eq!(figures(&pq), drawn);
}

/// A Parquet copy written from a zat DataFrame scores as its Zeek log, to the last digit: its bools are
/// `T` / `F` text and its nanosecond times and durations a nanosecond off the log's microseconds.
#[test]
fn a_zat_dataframe_parquet_copy_scores_like_the_zeek_log() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = outflow()
        .args(["detect", "--quiet", "--out"])
        .arg(&run)
        .arg(data("ctu-001-labeled.conn.log"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let model = run.join(summary["model_file"].as_str().unwrap());
    let score = |input: PathBuf| {
        let out = outflow().arg("score").arg(&model).arg(&input).output().unwrap();
        assert!(out.status.success(), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        r.records().map(|rec| rec.unwrap().iter().take(6).map(str::to_owned).collect::<Vec<_>>()).collect::<Vec<_>>()
    };
    let (text, pandas) = (score(data("ctu-001-labeled.conn.log")), score(data("ctu-001-labeled.pandas.parquet")));
    assert_eq!(text.len(), pandas.len());
    for (a, b) in text.iter().zip(&pandas) {
        assert_eq!(a, b, "row, cluster, probability, outlier_score, severity, reason");
    }
}

#[test]
fn a_run_longer_than_a_batch_writes_the_same_parquet_tables() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim.conn.log");
    let out = outflow().args(["simulate", "--hosts", "12", "--output"]).arg(&log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = |args: &[&str], name: &str| {
        let run = dir.path().join(name);
        let mut cmd = outflow();
        cmd.args(["detect", "--quiet", "--out-format", "parquet"]).args(args).arg("--out").arg(&run).arg(&log);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        run
    };
    let read = |path: PathBuf| {
        let input = outflow::io::Input::path(&path).unwrap();
        outflow::io::read_input(&input, &outflow::ReadOptions::default()).unwrap().0
    };
    // One batch, or many with a sample holding every flow: the same tables, typed alike.
    let whole = run(&[], "whole");
    let batched = run(&["--batch-rows", "700"], "batched");
    for table in ["scores.parquet", "anomalies.parquet"] {
        let (a, b) = (read(whole.join(table)), read(batched.join(table)));
        assert!(a.n_rows() > 0, "{table}");
        assert_eq!(a.schema(), b.schema(), "{table}");
        assert!(a == b, "{table} differs between one batch and many");
    }
    // A sample smaller than the log: the anomalies still come highest score first.
    let sampled = run(&["--batch-rows", "700", "--max-score-rows", "3000", "--max-fit-rows", "2000"], "sampled");
    let (scores, anomalies) = (read(sampled.join("scores.parquet")), read(sampled.join("anomalies.parquet")));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sampled.join("summary.json")).unwrap()).unwrap();
    assert_eq!(Some(scores.n_rows() as u64), summary["rows_read"].as_u64());
    let c = &summary["severity_counts"];
    assert_eq!(Some(anomalies.n_rows() as u64), Some(c["moderate"].as_u64().unwrap() + c["severe"].as_u64().unwrap()));
    let (score, row) = (anomalies.column("outlier_score").unwrap(), anomalies.column("row").unwrap());
    let keys: Vec<(f64, f64)> =
        (0..anomalies.n_rows()).map(|i| (-score.f64_at(i).unwrap(), row.f64_at(i).unwrap())).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "anomalies out of order");
    // `score` writes Parquet batch by batch too: the same table as in one batch.
    let model = sampled.join(summary["model_file"].as_str().unwrap());
    let score = |batch: &str, name: &str| {
        let path = dir.path().join(name);
        let mut cmd = outflow();
        let out = cmd.arg("score").arg(&model).arg(&log).args(["--batch-rows", batch, "-o"]).arg(&path).output();
        let out = out.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        read(path)
    };
    let (one, many) = (score("1000000", "one.parquet"), score("777", "many.parquet"));
    assert_eq!(one.n_rows(), scores.n_rows());
    assert!(one == many, "scores in batches differ from scores in one");
    // To standard output, batch by batch, the same file.
    let out =
        outflow().arg("score").arg(&model).arg(&log).args(["--batch-rows", "777", "--out-format", "parquet"]).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == std::fs::read(dir.path().join("many.parquet")).unwrap(), "Parquet on standard output");
}
