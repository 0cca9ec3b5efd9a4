//! `outflow serve` as a process: serves, reloads on SIGHUP, stops gracefully on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[cfg(unix)]
#[test]
fn serves_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let st =
        Command::new(env!("CARGO_BIN_EXE_outflow")).args(["detect", "--quiet", "--out"]).arg(&run).status().unwrap();
    assert!(st.success());
    let model = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("outflow-model-"))
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_outflow"))
        .args(["serve", "--addr", "127.0.0.1:0", "--workers", "2"])
        .arg(&model)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(get(&addr, "/healthz").contains("\"generation\":1"));
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    line.clear();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("reloaded"), "{line}");
    assert!(get(&addr, "/healthz").contains("\"generation\":2"));
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
