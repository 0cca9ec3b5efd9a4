//! `outflow inspect` end to end.

use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

/// Flows of the built-in sample, and how many of them are planted behaviours.
fn sample_counts() -> (usize, usize) {
    let log = outflow_sim::simulate(&outflow_sim::SimParams::default());
    (log.conns.len(), log.conns.iter().filter(|c| c.behaviour.is_some()).count())
}

#[test]
fn inspects_the_builtin_sample_as_json() {
    let out = outflow().args(["inspect", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (n, planted) = sample_counts();
    assert_eq!(v["rows"], n);
    assert_eq!(v["format"], "zeek");
    let cols = v["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 23);
    let label = cols.iter().find(|c| c["name"] == "label").unwrap();
    assert_eq!(label["top"][0]["value"], "Benign");
    assert_eq!(label["top"][0]["count"], n - planted);
    assert_eq!(label["top"][1]["count"], planted);
    let dur = cols.iter().find(|c| c["name"] == "duration").unwrap();
    assert_eq!(dur["type"], "interval");
}

#[test]
fn human_output_and_errors() {
    let out = outflow().arg("inspect").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{} rows, 23 columns", sample_counts().0)), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "a,b\n1,2\n3\n").unwrap();
    let out = outflow().args(["inspect", bad.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3") && err.contains("expected 2 fields"), "{err}");

    // Bytes that are not UTF-8 (a Windows-1252 dash, as CICFlowMeter exports write) are read, and said.
    let latin = dir.path().join("latin.csv");
    std::fs::write(&latin, b"Label,n\nWeb Attack \x96 XSS,1\nBENIGN,2\nWeb Attack \x96 XSS,3\n").unwrap();
    let out = outflow().args(["inspect", latin.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latin.csv: column 'Label': 2 value(s) hold bytes that are not UTF-8"), "{err}");

    let out = outflow().args(["inspect", "/nonexistent/file.log"]).output().unwrap();
    assert!(!out.status.success());
    let out = outflow().args(["inspect", "--format", "parquet", "x"]).output().unwrap();
    assert!(!out.status.success());
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_outflow"))
        .args(["eda"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the command prints (as `| head -0` would): it ends by SIGPIPE, as a
    // Unix tool does, without a panic.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
}

#[test]
fn a_very_long_column_name_is_printed_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("long.csv");
    std::fs::write(&csv, format!("{},b\n1,2\n3,4\n5,6\n", "a".repeat(70_000))).unwrap();
    for cmd in ["inspect", "eda"] {
        let out = outflow().arg(cmd).arg(&csv).output().unwrap();
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(&"a".repeat(70_000)), "{cmd}");
    }
}
