//! `outflow explain` end to end on a small generated features / labels pair.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

/// 300 Zeek-like flows in three groups plus noise; the labels file looks like `outflow cluster` output.
fn write_pair(dir: &Path) -> (String, String) {
    let mut s: u64 = 42;
    let mut unit = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut features = String::from("duration,orig_bytes,resp_bytes,proto\n");
    let mut labels = String::from("label,probability,outlier_score\n");
    for i in 0..300 {
        let (label, dur, orig, resp) = match i % 10 {
            0 => (-1, 100.0 * unit(), 1e7 * unit(), 1e7 * unit()),
            1..=3 => (0, 100.0 + 100.0 * unit(), 2e6 + 3e6 * unit(), 1e3 + 9e3 * unit()),
            _ => (1, 0.5 * unit(), (50.0 + 450.0 * unit()).round(), (50.0 + 850.0 * unit()).round()),
        };
        let proto = if i % 3 == 0 { "udp" } else { "tcp" };
        let _ = writeln!(features, "{dur},{orig},{resp},{proto}");
        let score = if label == -1 { 0.8 + 0.2 * unit() } else { 0.5 * unit() };
        let prob = if label == -1 { 0.0 } else { 1.0 };
        let _ = writeln!(labels, "{label},{prob},{score}");
    }
    let (f, l) = (dir.join("features.csv"), dir.join("labels.csv"));
    std::fs::write(&f, features).unwrap();
    std::fs::write(&l, labels).unwrap();
    (f.to_str().unwrap().to_owned(), l.to_str().unwrap().to_owned())
}

#[test]
fn explains_clusters_as_json_and_writes_shap_and_forest() {
    let dir = tempfile::tempdir().unwrap();
    let (features, labels) = write_pair(dir.path());
    let shap = dir.path().join("shap.csv");
    let forest = dir.path().join("forest.json");
    let out = outflow()
        .args(["explain", &features, &labels, "--scores", &labels, "--trees", "20", "--seed", "3", "--json"])
        .args(["--repeats", "2", "--shap-out", shap.to_str().unwrap(), "--export-forest", forest.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"], 300);
    assert_eq!(v["ignored_columns"], serde_json::json!(["proto"]));
    assert_eq!(v["classes"], serde_json::json!([-1, 0, 1]));
    assert!(v["fidelity"]["accuracy"].as_f64().unwrap() > 0.95);
    assert_eq!(v["fidelity"]["classes"][2]["support"], 180);
    let feats = v["features"].as_array().unwrap();
    assert_eq!(feats.len(), 3);
    assert_eq!(feats[0]["mean_abs_shap"].as_array().unwrap().len(), 3);
    let clusters = v["profiles"]["clusters"].as_array().unwrap();
    let interp = |l: i64| clusters.iter().find(|c| c["label"] == l).unwrap()["interpretation"].as_str().unwrap();
    assert_eq!(interp(-1), "anomaly / potential attack or scan");
    assert_eq!(interp(0), "high-volume transfer, exfiltration candidate");
    assert_eq!(interp(1), "short interactive/background flows");
    assert_eq!(v["severity"]["n_severe"], 3);

    let text = std::fs::read_to_string(&shap).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "row,class,expected_value,duration,orig_bytes,resp_bytes");
    assert_eq!(text.lines().count(), 1 + 300 * 3);
    // Local accuracy, read back from the file: expected value + Σ SHAP = a probability; Σ over classes = 1.
    let row0: Vec<Vec<f64>> =
        text.lines().skip(1).take(3).map(|l| l.split(',').skip(2).map(|x| x.parse().unwrap()).collect()).collect();
    let total: f64 = row0.iter().map(|r| r.iter().sum::<f64>()).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");

    let f: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&forest).unwrap()).unwrap();
    assert_eq!(f["trees"].as_array().unwrap().len(), 20);
    assert_eq!(f["feature_names"], serde_json::json!(["duration", "orig_bytes", "resp_bytes"]));

    // Outputs are not overwritten without --force.
    let again = outflow().args(["explain", &features, &labels, "--shap-out", shap.to_str().unwrap()]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn text_report_and_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (features, labels) = write_pair(dir.path());
    let out = outflow().args(["explain", &features, &labels, "--scores", &labels, "--trees", "10"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["fidelity", "weighted avg", "feature importance", "|SHAP| -1", "cluster profiles", "severe"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }

    let err = |args: &[&str]| {
        let out = outflow().arg("explain").args(args).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let short = dir.path().join("short.csv");
    let labels_text = std::fs::read_to_string(&labels).unwrap();
    std::fs::write(&short, labels_text.lines().take(100).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let e = err(&[&features, short.to_str().unwrap()]);
    assert!(e.contains("short.csv has 99 rows") && e.contains("features.csv has 300"), "{e}");

    let single = dir.path().join("single.csv");
    std::fs::write(&single, "label\n".to_owned() + &"7\n".repeat(300)).unwrap();
    let e = err(&[&features, single.to_str().unwrap()]);
    assert!(e.contains("single class (7)"), "{e}");

    let holes = dir.path().join("holes.csv");
    // The first data row's duration is infinite (a missing one reads as 0, as in detect).
    let mut lines: Vec<String> = std::fs::read_to_string(&features).unwrap().lines().map(str::to_owned).collect();
    lines[1] = "inf".to_owned() + &lines[1][lines[1].find(',').unwrap()..];
    let t = lines.join("\n") + "\n";
    std::fs::write(&holes, t).unwrap();
    let e = err(&[holes.to_str().unwrap(), &labels]);
    assert!(e.contains("missing or non-finite") && e.contains("duration"), "{e}");

    let text_labels = dir.path().join("text.csv");
    std::fs::write(&text_labels, "label\n".to_owned() + &"a\nb\n".repeat(150)).unwrap();
    let e = err(&[&features, text_labels.to_str().unwrap()]);
    assert!(e.contains("integer cluster ids"), "{e}");
}

/// A run explained from its log and its own scores.csv: the Zeek log is read as `detect` reads it, its
/// label and identifier columns are no features, and the unscored flows (no cluster) are left out, the
/// SHAP rows keeping their places in the log.
#[test]
fn a_run_is_explained_from_its_log_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("day.log");
    let out = outflow().args(["simulate", "--hours", "2", "--hosts", "10", "-o"]).arg(&log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--service", "dns", "--out"]).arg(&run).arg(&log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shap = dir.path().join("shap.csv");
    let out = outflow()
        .args(["explain", log.to_str().unwrap(), run.join("scores.csv").to_str().unwrap(), "--label-column", "cluster"])
        .args(["--trees", "5", "--repeats", "1", "--json", "--shap-out", shap.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ignored: Vec<&str> = v["ignored_columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for name in ["label", "id.orig_p", "id.resp_p", "ts"] {
        assert!(ignored.contains(&name), "{name} not set aside: {ignored:?}");
    }
    let features = v["features"].to_string();
    assert!(!features.contains("\"label\"") && !features.contains("id.orig_p"), "{features}");
    let left_out = v["rows_without_label"].as_u64().unwrap() as usize;
    assert!(left_out > 0);
    let rows = std::fs::read_to_string(&log).unwrap().lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(v["rows"].as_u64().unwrap() as usize + left_out, rows);
    // SHAP rows are the log's rows of dns flows.
    let scores = std::fs::read_to_string(run.join("scores.csv")).unwrap();
    let scored: std::collections::BTreeSet<String> = scores
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1).is_some_and(|c| !c.is_empty()))
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    let shap_rows: std::collections::BTreeSet<String> = std::fs::read_to_string(&shap)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(shap_rows, scored);
}

/// A Zeek log's unset numbers (`-`: nothing sent) are 0, as `detect` reads them, not an error.
#[test]
fn a_zeek_log_with_unset_numbers_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let log =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled");
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--out"]).arg(&run).arg(&log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = outflow()
        .arg("explain")
        .arg(&log)
        .arg(run.join("scores.csv"))
        .args(["--label-column", "cluster", "--trees", "5", "--repeats", "1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["features"].to_string().contains("duration"), "{}", v["features"]);
}
