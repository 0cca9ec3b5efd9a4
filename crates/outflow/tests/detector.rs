//! The detector end to end on the shipped sample: fit, scores, thresholds, model file, bad input.

use std::path::PathBuf;

use outflow::io::{Column, Table};
use outflow::{DetectorConfig, FittedDetector, OutflowError, ReadOptions, Severity, read_table};

fn sample() -> Table {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled");
    read_table(p, &ReadOptions::default()).unwrap()
}

#[test]
fn fit_scores_every_record_with_frozen_thresholds() {
    let t = sample();
    let fit = DetectorConfig::default().fit(&t).unwrap();
    assert_eq!(fit.flows.len(), t.n_rows());
    assert!(fit.flows.iter().enumerate().all(|(i, f)| f.row == i));
    let n = fit.flows.len() as f64;
    let severe = fit.flows.iter().filter(|f| f.severity == Severity::Severe).count() as f64;
    let flagged = fit.flows.iter().filter(|f| f.severity.is_anomaly()).count() as f64;
    assert!((severe / n - 0.01).abs() < 0.005, "severe share {}", severe / n);
    assert!((flagged / n - 0.05).abs() < 0.01, "flagged share {}", flagged / n);
    let s = &fit.summary;
    assert!(s.thresholds.moderate <= s.thresholds.severe);
    assert!(!s.clusters.is_empty());
    assert!(fit.flows.iter().all(|f| f.outlier_score.is_some_and(|x| (0.0..=1.0).contains(&x))));
}

#[test]
fn saved_model_reproduces_the_fit() {
    let t = sample();
    let fit = DetectorConfig::default().fit(&t).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    fit.detector.save(&path, false).unwrap();
    assert!(matches!(fit.detector.save(&path, false), Err(OutflowError::Exists(_))));
    let loaded = FittedDetector::load(&path).unwrap();
    let again = loaded.score(&t).unwrap();
    for (a, b) in fit.flows.iter().zip(&again) {
        if a.probability == Some(1.0) {
            assert_eq!(a.cluster, b.cluster, "core point {} changed cluster", a.row);
        }
        let (x, y) = (a.outlier_score.unwrap(), b.outlier_score.unwrap());
        assert!((x - y).abs() < 1e-12, "row {}: score {x} at fit, {y} when scored again", a.row);
        assert_eq!(a.severity, b.severity);
    }
}

#[test]
fn bad_model_files_and_inputs_fail_clearly() {
    let t = sample();
    let fit = DetectorConfig::default().fit(&t).unwrap();
    let bytes = fit.detector.to_bytes().unwrap();
    // Corrupted body.
    let mut bad = bytes.clone();
    let k = bad.len() - 100;
    bad[k] ^= 1;
    assert!(FittedDetector::from_bytes(&bad).unwrap_err().contains("SHA-256"));
    // Truncated.
    assert!(FittedDetector::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    // Newer format.
    let text = String::from_utf8(bytes.clone()).unwrap().replacen("\"format_version\":1", "\"format_version\":99", 1);
    assert!(FittedDetector::from_bytes(text.as_bytes()).unwrap_err().contains("version 99"));
    // Not a model.
    assert!(FittedDetector::from_bytes(b"hello\nworld").is_err());
    // A column missing at scoring time.
    let missing = t.drop_columns(&["orig_bytes"]);
    let err = fit.detector.score(&missing).unwrap_err();
    assert!(err.to_string().contains("orig_bytes"), "{err}");
    // An empty table.
    let empty = Table::new(vec![Column::from_f64("x", vec![])]).unwrap();
    assert!(DetectorConfig::default().fit(&empty).is_err());
}
