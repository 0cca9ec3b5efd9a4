//! Writes run directories the way `outflow detect --out DIR` does (crates/outflow-cli/src/cmd/detect.rs
//! and src/scores.rs), with the facade only, so that the report can be tested without the CLI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use outflow::io::{Input, ReadOptions, Table, read_input};
use outflow::{DetectorConfig, DetectorFit, FlowScore, ID_COLUMNS, Severity, cluster_statistics, read_table};

pub fn sample_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled")
}

/// The built-in sample log (5,663 labeled Zeek flows).
pub fn sample_table() -> Table {
    read_table(sample_log(), &ReadOptions::default()).unwrap()
}

/// A small synthetic Zeek conn log: `blobs` groups of similar flows plus a few heavy uploads.
pub fn synthetic_table(per_blob: usize, blobs: usize) -> Table {
    let mut log = String::from(
        "#separator \\x09\n#fields\tts\tuid\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlabel\n\
         #types\ttime\tstring\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\n",
    );
    let mut i = 0;
    for b in 0..blobs {
        for j in 0..per_blob {
            let d = 0.1 * (b + 1) as f64 + (j % 7) as f64 * 0.001;
            let o = 300 * (b + 1) * (b + 1) + j % 11;
            let r = 1200 * (b + 1) + j % 13;
            let svc = ["http", "dns", "ssl", "ssh"][b % 4];
            log.push_str(&format!("{i}.0\tC{i}\ttcp\t{svc}\t{d}\t{o}\t{r}\tSF\tBenign\n"));
            i += 1;
        }
    }
    for k in 0..5 {
        log.push_str(&format!(
            "{i}.0\tC{i}\ttcp\t-\t{}\t{}\t12\tS0\tMalicious\n",
            3600.0 + k as f64,
            90_000_000 + k * 1000
        ));
        i += 1;
    }
    read_input(&Input::bytes("synthetic.conn.log", log), &ReadOptions::default()).unwrap().0
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

/// Fits a detector on `table` and writes `dir` like `outflow detect --out dir` (sample ≤ 5,000 rows).
pub fn write_run_dir(dir: &Path, table: &Table, config: &DetectorConfig) -> DetectorFit {
    std::fs::create_dir_all(dir).unwrap();
    let fit = config.fit(table).unwrap();
    let flows: &[FlowScore] = &fit.flows;
    let model_file = "outflow-model-20260101T000000Z.json";
    fit.detector.save(dir.join(model_file), true).unwrap();

    // scores.csv
    let ids: Vec<&str> = ID_COLUMNS.iter().copied().filter(|c| table.column(c).is_some()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["row", "cluster", "probability", "outlier_score", "severity", "reason"];
    header.extend(&ids);
    w.write_record(&header).unwrap();
    for f in flows {
        let mut rec = vec![
            f.row.to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
            opt(f.outlier_score),
            f.severity.name().to_string(),
            f.reason.clone().unwrap_or_default(),
        ];
        rec.extend(ids.iter().map(|c| table.column(c).unwrap().value(f.row).to_string()));
        w.write_record(&rec).unwrap();
    }
    std::fs::write(dir.join("scores.csv"), w.into_inner().unwrap()).unwrap();

    // anomalies.csv
    let mut hits: Vec<&FlowScore> = flows.iter().filter(|f| f.severity.is_anomaly()).collect();
    hits.sort_by(|a, b| b.outlier_score.partial_cmp(&a.outlier_score).unwrap().then(a.row.cmp(&b.row)));
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["row", "outlier_score", "severity", "cluster", "probability"].iter().map(|s| s.to_string()).collect();
    header.extend(table.names().iter().map(|s| s.to_string()));
    w.write_record(&header).unwrap();
    for f in hits {
        let mut rec = vec![
            f.row.to_string(),
            opt(f.outlier_score),
            f.severity.name().to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
        ];
        rec.extend(table.columns().iter().map(|c| c.value(f.row).to_string()));
        w.write_record(&rec).unwrap();
    }
    std::fs::write(dir.join("anomalies.csv"), w.into_inner().unwrap()).unwrap();

    // sample.csv
    let x = fit.prepared.model_input();
    let take = outflow::validate::sample_indices(x.nrows(), 5000, config.seed);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["row", "cluster", "probability", "outlier_score", "severity"].iter().map(|s| s.to_string()).collect();
    header.extend(fit.prepared.model_input_names());
    w.write_record(&header).unwrap();
    for k in take {
        let row = fit.prepared.kept[k];
        let f = &flows[row];
        let mut rec = vec![
            row.to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
            opt(f.outlier_score),
            f.severity.name().to_string(),
        ];
        rec.extend(x.row(k).iter().map(|v| v.to_string()));
        w.write_record(&rec).unwrap();
    }
    std::fs::write(dir.join("sample.csv"), w.into_inner().unwrap()).unwrap();

    // clusters.json
    let stats = cluster_statistics(table, flows);
    std::fs::write(dir.join("clusters.json"), serde_json::to_string_pretty(&stats).unwrap()).unwrap();

    // summary.json (the fields detect writes)
    let count = |s: Severity| flows.iter().filter(|f| f.severity == s).count();
    let s = &fit.summary;
    let summary = serde_json::json!({
        "input": "test.conn.log",
        "format": "zeek",
        "model_file": model_file,
        "rows_read": table.n_rows(),
        "rows_selected": table.n_rows(),
        "rows_kept": s.rows_kept,
        "rows_fitted": s.rows_fitted,
        "rows_unscored": count(Severity::Unscored),
        "features_kept": s.features,
        "features_dropped": [{"name": "uid", "step": "identifiers", "reason": "identifier"}],
        "preset": "zeek",
        "clusters": s.clusters,
        "noise_percent": 100.0 * s.noise_fraction,
        "dbcv": s.dbcv,
        "thresholds": s.thresholds,
        "severity_counts": {
            "normal": count(Severity::Normal),
            "moderate": count(Severity::Moderate),
            "severe": count(Severity::Severe),
            "unscored": count(Severity::Unscored),
        },
        "hdbscan": s.hdbscan,
        "signals": ["iforest", "pca"],
        "tuned": false,
        "timings_seconds": {"total": 0.0},
    });
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&summary).unwrap()).unwrap();
    fit
}
