//! `outflow detect --report` and `outflow report` on the built-in sample.

use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

/// The skipped figures of a page, with the start of their reason.
fn skipped(html: &str) -> Vec<String> {
    html.match_indices("data-skipped=\"").map(|(i, m)| html[i + m.len()..].chars().take(160).collect()).collect()
}

#[test]
fn detect_report_writes_the_page_and_report_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--level", "all", "--report", "--quiet", "--out"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Every figure drawn, the behaviour ones included (the run has host and pair tables).
    assert_eq!(html.matches("<figure class=\"fig\" id=\"fig-").count(), 20, "skipped: {:?}", skipped(&html));
    assert!(html.contains("id=\"fig-entity-bytes\"") && html.contains("id=\"fig-beacon-intervals\""));
    let pngs = std::fs::read_dir(run.join("figures")).unwrap().count();
    assert_eq!(pngs, 20);

    // An existing report is kept without --force.
    let out = outflow().arg("report").arg(&run).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("report.html exists; pass --force to replace it") && !err.contains("ReportOptions"), "{err}");

    // --force rewrites the same page for the same seed.
    let out = outflow().args(["report", "--force", "--quiet"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(run.join("report.html")).unwrap(), html);

    // Not a run directory.
    let out = outflow().arg("report").arg(dir.path().join("nothing")).output().unwrap();
    assert!(!out.status.success());
}
