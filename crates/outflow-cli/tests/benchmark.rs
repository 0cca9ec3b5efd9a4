//! `outflow benchmark` end to end: the built-in labeled Zeek sample and a small KDD Cup 99 file.

use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = outflow().args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn builtin_sample_all_detectors_as_json() {
    let v = json(&["benchmark", "--positive", "Malicious", "--seed", "3", "--json"]);
    assert_eq!(v["format"], "zeek");
    assert_eq!(v["label_column"], "label");
    let log = outflow_sim::simulate(&outflow_sim::SimParams::default());
    let planted = log.conns.iter().filter(|c| c.behaviour.is_some()).count();
    let negatives = log.conns.len() - planted;
    assert_eq!(v["rows_input"], log.conns.len());
    // Every benign flow is a negative; the planted ones are subsampled to 3 %: round(0.03 · negatives / 0.97).
    assert_eq!(v["negatives"], negatives);
    assert_eq!(v["positives"], (0.03 * negatives as f64 / 0.97).round() as u64);
    assert_eq!(v["positives_available"], planted);
    let features: Vec<&str> = v["features"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(!features.is_empty() && !features.iter().any(|f| f.contains("label")), "{features:?}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), outflow::outlier::Algorithm::NAMES.len());
    for r in results {
        assert!(r["error"].is_null(), "{r}");
        for m in ["roc_auc", "pr_auc", "precision_at_n"] {
            let x = r[m].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{r}");
        }
    }
    let names: Vec<&str> = results.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"iforest") && names.contains(&"glosh") && names.contains(&"cluster_rarity"));

    // Same seed, same numbers (timings aside); another seed draws other positives.
    let again =
        json(&["benchmark", "--positive", "Malicious", "--seed", "3", "--json", "--detectors", "iforest,glosh"]);
    let pick = |v: &serde_json::Value, name: &str| {
        v["results"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["roc_auc"].as_f64().unwrap()
    };
    assert_eq!(pick(&v, "iforest"), pick(&again, "iforest"));
    assert_eq!(pick(&v, "glosh"), pick(&again, "glosh"));
}

#[test]
fn kdd_trailing_dot_table_and_no_subsampling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kdd.data");
    let mut text = String::new();
    for i in 0..80 {
        let (src, dst, count) = (150 + (i * 37) % 400, 300 + (i * 91) % 5000, 1 + i % 9);
        text.push_str(&format!(
            "0,tcp,http,SF,{src},{dst},0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,{count},{count},0.00,0.00,0.00,0.00,1.00,0.00,\
             0.00,{c2},{c2},1.00,0.00,0.{f:02},0.00,0.00,0.00,0.00,0.00,normal.\n",
            c2 = 10 + i % 50,
            f = i % 30
        ));
    }
    for i in 0..6 {
        text.push_str(&format!(
            "0,icmp,ecr_i,SF,{},0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,511,511,0.00,0.00,0.00,0.00,1.00,0.00,0.00,255,255,\
             1.00,0.00,1.00,0.00,0.00,0.00,0.00,0.00,smurf.\n",
            1032 + i
        ));
    }
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    // `--negative normal` matches KDD Cup's `normal.`; `--contamination none` keeps all six attacks.
    let v = json(&[
        "benchmark",
        p,
        "--format",
        "kdd",
        "--negative",
        "normal",
        "--contamination",
        "none",
        "--detectors",
        "iforest,ecod,pca",
        "--json",
    ]);
    assert_eq!(v["negatives"], 80);
    assert_eq!(v["positives"], 6);
    assert!(v["contamination_requested"].is_null());
    assert!(v["results"][0]["roc_auc"].as_f64().unwrap() > 0.9, "{}", v["results"][0]);

    let out = outflow()
        .args(["benchmark", p, "--negative", "normal.", "--detectors", "iforest", "--contamination", "0.05"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ROC-AUC") && text.contains("iforest"), "{text}");
    assert!(text.contains("4 positive"), "{text}"); // round(0.05 · 80 / 0.95) = 4
}

#[test]
fn refusals() {
    let fail = |args: &[&str]| {
        let out = outflow().args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    fail(&["benchmark"]); // neither --positive nor --negative
    fail(&["benchmark", "--positive", "Malicious", "--negative", "Benign"]);
    let e = fail(&["benchmark", "--positive", "NoSuchLabel"]);
    assert!(e.contains("positive") && e.contains("both"), "{e}");
    let e = fail(&["benchmark", "--positive", "Malicious", "--contamination", "0.9"]);
    assert!(e.contains("contamination"), "{e}");
    let e = fail(&["benchmark", "--positive", "Malicious", "--detectors", "iforest,magic"]);
    assert!(e.contains("unknown detector"), "{e}");
    let e = fail(&["benchmark", "--positive", "Malicious", "--label-column", "nope"]);
    assert!(e.contains("no label column"), "{e}");
}
