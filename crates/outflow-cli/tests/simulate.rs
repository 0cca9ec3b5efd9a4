//! `outflow simulate` end to end: the built-in sample is its default output, other seeds give other
//! logs, bad options are refused and nothing is overwritten without --force.

use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

#[test]
fn the_default_is_the_built_in_sample_and_reads_back_with_its_labels() {
    let out = outflow().arg("simulate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = outflow_sim::simulate(&outflow_sim::SimParams::default()).to_zeek();
    assert!(out.stdout == expected.as_bytes(), "standard output is the sample");
    let err = String::from_utf8_lossy(&out.stderr);
    for b in outflow_sim::Behaviour::ALL {
        assert!(err.contains(&format!("planted {} on 10.0.0.", b.name())), "{err}");
    }
    // `inspect` of the written file and of the built-in sample agree.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day.log");
    let out = outflow().args(["simulate", "-o"]).arg(&path).output().unwrap();
    assert!(out.status.success());
    let of_file = outflow().args(["inspect", "--json"]).arg(&path).output().unwrap();
    let built_in = outflow().args(["inspect", "--json"]).output().unwrap();
    let rows =
        |o: &std::process::Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["rows"].clone();
    assert_eq!(rows(&of_file), rows(&built_in));
}

#[test]
fn options_shape_the_log_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quiet.log");
    let out = outflow()
        .args(["simulate", "--seed", "9", "--hours", "3", "--hosts", "4", "--behaviours", "beacon,vertical_scan", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&path).unwrap();
    let labels: std::collections::HashSet<&str> =
        text.lines().filter(|l| !l.starts_with('#')).map(|l| l.rsplit('\t').next().unwrap()).collect();
    assert_eq!(labels, ["-", "beacon", "vertical_scan"].into_iter().collect());

    // Nothing is overwritten without --force.
    let out = outflow().args(["simulate", "--seed", "10", "-o"]).arg(&path).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    for (args, says) in [
        (vec!["--behaviours", "beacon,teleport"], "unknown behaviour 'teleport'"),
        (vec!["--hours", "1"], "hours must be between"),
        (vec!["--hosts", "3"], "hosts must be between 6"),
    ] {
        let out = outflow().arg("simulate").args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && !err.contains("panicked"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing is written on a refusal");
    }
    let out = outflow().args(["simulate", "--behaviours", "none", "--hosts", "1", "--hours", "2"]).output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Malicious"));
}
