//! `outflow validate`, `outflow tendency` and `outflow compare` end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

fn ok(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Three separated blobs (deterministic jitter), with one far point labelled noise when `outlier`;
/// returns the data and labels paths and values.
fn blobs(dir: &Path, outlier: bool) -> (PathBuf, PathBuf, Vec<Vec<f64>>, Vec<i64>) {
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut s = 12345u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    for i in 0..240 {
        let c = i % 3;
        rows.push(vec![c as f64 * 10.0 + next(), (c * c) as f64 * 4.0 + next(), next()]);
        labels.push(c as i64);
    }
    if outlier {
        rows.push(vec![100.0, 100.0, 100.0]);
        labels.push(-1);
    }
    let data = dir.join("x.csv");
    let mut text = String::from("a,b,c\n");
    for r in &rows {
        text.push_str(&format!("{},{},{}\n", r[0], r[1], r[2]));
    }
    std::fs::write(&data, text).unwrap();
    let lab = dir.join("labels.csv");
    let mut text = String::from("label,probability\n");
    for l in &labels {
        text.push_str(&format!("{l},1.0\n"));
    }
    std::fs::write(&lab, text).unwrap();
    (data, lab, rows, labels)
}

#[test]
fn validate_prints_every_index_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (data, lab, rows, labels) = blobs(dir.path(), true);
    let v = ok(&outflow().args(["validate", data.to_str().unwrap(), lab.to_str().unwrap()]).output().unwrap());
    assert_eq!(v["n_rows"], 241);
    assert_eq!(v["n_clusters"], 3);
    assert_eq!(v["n_noise"], 1);
    assert!((v["coverage"].as_f64().unwrap() - 240.0 / 241.0).abs() < 1e-12);
    // the same numbers as the library
    let x = ndarray::Array2::from_shape_fn((rows.len(), 3), |(i, j)| rows[i][j]);
    let sil = outflow_validate::silhouette_score(x.view(), &labels).unwrap();
    assert_eq!(v["silhouette"]["value"].as_f64().unwrap(), sil);
    assert_eq!(v["silhouette"]["clusters"].as_array().unwrap().len(), 3);
    let db = outflow_validate::davies_bouldin(x.view(), &labels).unwrap().value;
    assert_eq!(v["davies_bouldin"].as_f64().unwrap(), db);
    assert!(v["calinski_harabasz"].as_f64().unwrap() > 100.0);
    let dbcv = v["dbcv"]["value"].as_f64().unwrap();
    assert!(dbcv > 0.5 && dbcv < 1.0, "{dbcv}");
    assert!(v["errors"].as_object().unwrap().is_empty());

    // one index only
    let v = ok(&outflow()
        .args(["validate", data.to_str().unwrap(), lab.to_str().unwrap(), "--metric", "davies-bouldin"])
        .output()
        .unwrap());
    assert_eq!(v["davies_bouldin"].as_f64().unwrap(), db);
    assert!(v["silhouette"].is_null() && v["dbcv"].is_null());

    // sampled silhouette
    let v = ok(&outflow()
        .args(["validate", data.to_str().unwrap(), lab.to_str().unwrap(), "--metric", "silhouette", "--sample", "90"])
        .output()
        .unwrap());
    assert_eq!(v["silhouette"]["n_points"], 90);
    assert_eq!(v["silhouette"]["sampled"], true);
}

#[test]
fn validate_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _, _) = blobs(dir.path(), true);
    // a one-point cluster: DBCV alone fails, `all` reports it
    let lab = dir.path().join("single.csv");
    let mut text = String::from("label\n");
    for i in 0..241 {
        text.push_str(if i == 0 {
            "7\n"
        } else if i % 2 == 0 {
            "0\n"
        } else {
            "1\n"
        });
    }
    std::fs::write(&lab, text).unwrap();
    let out = outflow()
        .args(["validate", data.to_str().unwrap(), lab.to_str().unwrap(), "--metric", "dbcv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("single point"));
    let v = ok(&outflow().args(["validate", data.to_str().unwrap(), lab.to_str().unwrap()]).output().unwrap());
    assert!(v["dbcv"].is_null());
    assert!(v["errors"]["dbcv"].as_str().unwrap().contains("cluster 7"));
    assert!(v["silhouette"]["value"].is_f64());

    // wrong number of labels
    let short = dir.path().join("short.csv");
    std::fs::write(&short, "label\n0\n1\n").unwrap();
    let out = outflow().args(["validate", data.to_str().unwrap(), short.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 labels for the 241 rows"));

    // every label noise
    let noise = dir.path().join("noise.csv");
    std::fs::write(&noise, format!("label\n{}", "-1\n".repeat(241))).unwrap();
    let out = outflow()
        .args(["validate", data.to_str().unwrap(), noise.to_str().unwrap(), "--metric", "silhouette"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 2 clusters"));
}

#[test]
fn validate_reads_outflow_cluster_output() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _, _) = blobs(dir.path(), true);
    let labels = dir.path().join("clusters.csv");
    let out = outflow()
        .args(["cluster", data.to_str().unwrap(), "--min-cluster-size", "20", "-o", labels.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = ok(&outflow().args(["validate", data.to_str().unwrap(), labels.to_str().unwrap()]).output().unwrap());
    assert_eq!(v["n_clusters"], 3);
    assert!(v["silhouette"]["value"].as_f64().unwrap() > 0.8);
}

#[test]
fn tendency_finds_three_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _, _) = blobs(dir.path(), false);
    let v = ok(&outflow()
        .args(["tendency", data.to_str().unwrap(), "--k-min", "1", "--k-max", "6", "--refs", "5", "--seed", "3"])
        .output()
        .unwrap());
    assert_eq!(v["rows"], 240);
    let h = v["hopkins"]["statistic"].as_f64().unwrap();
    assert!(h > 0.9, "{h}");
    assert_eq!(v["hopkins"]["sample_size"], 24);
    let k = v["k"].as_array().unwrap();
    assert_eq!(k.len(), 6);
    for row in k {
        assert!(row["inertia"].is_f64() && row["gap"].is_f64() && row["s_k"].is_f64());
    }
    assert!(k[0]["silhouette"].is_null() && k[1]["silhouette"].is_f64());
    assert_eq!(v["chosen_k"]["gap"], 3);
    assert_eq!(v["chosen_k"]["silhouette"], 3);
    assert_eq!(v["chosen_k"]["elbow"], 3);
    assert!(v["distances"]["median"].as_f64().unwrap() > 0.0);
    // same seed, same output (apart from the timing)
    let again = ok(&outflow()
        .args(["tendency", data.to_str().unwrap(), "--k-min", "1", "--k-max", "6", "--refs", "5", "--seed", "3"])
        .output()
        .unwrap());
    assert_eq!(again["k"], v["k"]);
    assert_eq!(again["hopkins"], v["hopkins"]);

    let out = outflow().args(["tendency", data.to_str().unwrap(), "--k-max", "500"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("k_max = 500 needs at least 500 rows, found 240"));
}

#[test]
fn compare_runs_every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _, _) = blobs(dir.path(), false);
    let d = data.to_str().unwrap();
    let v = ok(&outflow()
        .args([
            "compare",
            d,
            "--json",
            "--algorithm",
            "kmeans:k=3",
            "--algorithm",
            "ward:k=3",
            "--algorithm",
            "hdbscan:min_cluster_size=20,min_samples=5",
            "--algorithm",
            "dbscan:eps=2,min_samples=5",
            "--algorithm",
            "kmeans:k=500",
        ])
        .output()
        .unwrap());
    let rows = v["algorithms"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for r in &rows[..4] {
        assert!(r["error"].is_null(), "{r}");
        assert!(r["fit_seconds"].as_f64().unwrap() >= 0.0);
        assert!(r["silhouette"].as_f64().unwrap() > 0.8, "{r}");
        for key in ["davies_bouldin", "calinski_harabasz", "dbcv"] {
            assert!(r[key].is_f64(), "{key}: {r}");
        }
    }
    for r in &rows[..4] {
        assert_eq!(r["clusters"], 3, "{r}");
    }
    assert!(rows[2]["relative_validity"].is_f64());
    assert!(rows[0]["relative_validity"].is_null());
    // An algorithm that fails on the data is reported in its row.
    assert!(rows[4]["error"].as_str().unwrap().contains("500"), "{}", rows[4]);
    // A spec that does not parse stops everything before it runs; so does every algorithm failing.
    for (spec, message) in [
        ("kmeans:k=3,bogus=1", "unknown field `bogus`"),
        ("spectral:k=3", "unknown algorithm 'spectral'"),
        ("kmeans:k=0", "must be at least 1"),
    ] {
        let out = outflow().args(["compare", d, "-a", "ward:k=3", "-a", spec]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(spec) && err.contains(message), "{spec}: {err}");
        assert!(out.stdout.is_empty(), "{spec}");
    }
    let out = outflow().args(["compare", d, "-a", "kmeans:k=500"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no algorithm produced a clustering"));

    // table output and a sample
    let out = outflow()
        .args(["compare", d, "-a", "kmeans:k=3", "-a", "hdbscan:min_cluster_size=10", "--sample", "120", "--seed", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("120 rows × 3 features (sample)"), "{text}");
    assert!(text.contains("silhouette") && text.contains("kmeans:k=3"), "{text}");

    // the automatic eps runs too
    let v = ok(&outflow().args(["compare", d, "--json", "-a", "dbscan:eps=auto,eps_k=6"]).output().unwrap());
    assert!(v["algorithms"][0]["clusters"].as_u64().unwrap() >= 3);
    let out = outflow().args(["compare", d]).output().unwrap();
    assert!(!out.status.success());
}
