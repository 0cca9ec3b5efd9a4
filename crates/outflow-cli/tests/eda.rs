//! `outflow eda` end to end.

use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn eda_of_the_builtin_sample_as_json() {
    let out = outflow().args(["eda", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let log = outflow_sim::simulate(&outflow_sim::SimParams::default());
    let n = log.conns.len();
    assert_eq!(v["rows"], n);
    assert_eq!(v["format"], "zeek");
    assert_eq!(v["preset"], "zeek");
    assert!(v["duplicates"].as_u64().unwrap() > 0, "scans repeat the same zero-byte flow");
    let cols = v["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 23);
    let keys = [
        "name",
        "type",
        "count",
        "nulls",
        "mean",
        "std",
        "min",
        "p25",
        "p50",
        "p75",
        "max",
        "skewness",
        "iqr_outliers",
        "variance",
    ];
    for c in cols {
        for k in keys {
            assert!(c.get(k).is_some(), "column {} lacks '{k}'", c["name"]);
        }
    }
    // Statistics over the non-null values: duration is unset in unanswered connections.
    let unset = log.conns.iter().filter(|c| c.duration.is_none()).count();
    assert!(unset > 1000, "the scans' probes have no duration");
    let dur = cols.iter().find(|c| c["name"] == "duration").unwrap();
    assert_eq!(dur["type"], "interval");
    assert_eq!(dur["nulls"], unset);
    assert_eq!(dur["count"], n - unset);
    let (p25, p50, p75) = (num(&dur["p25"]), num(&dur["p50"]), num(&dur["p75"]));
    assert!(num(&dur["min"]) <= p25 && p25 <= p50 && p50 <= p75 && p75 <= num(&dur["max"]));
    let (std, var) = (num(&dur["std"]), num(&dur["variance"]));
    assert!((std * std - var).abs() <= 1e-9 * var);
    // Text columns have counts but no numeric statistics.
    let label = cols.iter().find(|c| c["name"] == "label").unwrap();
    assert_eq!(label["type"], "categorical");
    assert!(label["mean"].is_null());
    assert_eq!(label["count"], n);

    let pairs = v["correlated_pairs"].as_array().unwrap();
    assert!(!pairs.is_empty());
    for p in pairs {
        assert!(num(&p["r"]).abs() >= 0.8 && p["a"].is_string() && p["b"].is_string());
    }
    let pruned = v["pruned"].as_array().unwrap();
    assert!(!pruned.is_empty());
    for p in pruned {
        assert!(p["name"].is_string() && p["reason"].is_string());
        // Labels and identifiers are never candidates.
        assert!(!["label", "detailedlabel", "ts", "id.orig_p"].contains(&p["name"].as_str().unwrap()));
    }
}

#[test]
fn eda_human_output_presets_and_non_finite_values() {
    let out = outflow().arg("eda").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let n = outflow_sim::simulate(&outflow_sim::SimParams::default()).conns.len();
    assert!(text.contains(&format!("{n} rows")) && text.contains("strongly correlated pairs"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("flows.csv");
    std::fs::write(&csv, "a,b,c,Label\n1,2,inf,BENIGN\n2,4.1,1,DoS\n3,6,2,DoS\n4,8.2,3,BENIGN\n").unwrap();
    let out = outflow().args(["eda", csv.to_str().unwrap(), "--json", "--preset", "generic"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["columns"][2];
    assert_eq!(c["name"], "c");
    assert_eq!(c["max"], "inf", "an infinity is a string, never a silent null");
    assert_eq!(c["mean"], "inf");
    // Row 1 (inf) is cleaned away before correlations; then a ~ b (r > 0.99): one of them goes.
    let first = v["pruned"][0]["name"].as_str().unwrap();
    assert!(first == "a" || first == "b", "{first}");
    assert_eq!(
        v["cleaning"].as_array().unwrap().iter().find(|s| s["step"] == "non_finite").unwrap()["rows_removed"],
        1
    );

    let out = outflow().args(["eda", csv.to_str().unwrap(), "--preset", "nope"]).output().unwrap();
    assert!(!out.status.success());
    let out = outflow().args(["eda", "/nonexistent/file.log"]).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn eda_draws_umap_and_tsne_maps_and_keeps_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let maps = dir.path().join("maps");
    let out = outflow().args(["eda", "--map-points", "600", "--maps"]).arg(&maps).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["umap-clusters.svg", "umap-scores.svg", "tsne-clusters.svg", "tsne-scores.svg"] {
        let svg = std::fs::read_to_string(maps.join(name)).unwrap();
        assert!(svg.contains("<svg") && svg.contains("600 of"), "{name}: the sample size is stated");
        assert!(svg.matches("<circle").count() >= 600, "{name}: every sampled flow drawn");
    }
    let before = std::fs::read(maps.join("umap-scores.svg")).unwrap();
    let out = outflow().args(["eda", "--map-points", "600", "--maps"]).arg(&maps).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("umap-clusters.svg"), "{err}");
    assert_eq!(std::fs::read(maps.join("umap-scores.svg")).unwrap(), before);
    let out = outflow().args(["eda", "--map-points", "600", "--force", "--maps"]).arg(&maps).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(maps.join("umap-scores.svg")).unwrap(), before, "same seed, same map");
}
