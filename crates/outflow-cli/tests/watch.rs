//! `outflow watch` as a process: a log followed while it is appended to, rotated and truncated; a Zeek
//! log directory with rotated gzip files; `kill -9` and restarts (exactly-once alerts in the alert
//! file); a webhook receiver that is down, then refuses, then accepts; malformed lines; allow-lists;
//! SIGHUP with a bad model; SIGTERM; host windows closed live.
//!
//! The oracle is `outflow score` on the whole log: the flows it marks moderate or severe are exactly the
//! flows the watch alerts on, however the log reached it. Waits poll the `--metrics` file with a
//! generous hang guard; nothing asserts on time.
#![cfg(unix)]

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_outflow");

struct Setup {
    dir: tempfile::TempDir,
    model: PathBuf,
    header: Vec<String>,
    records: Vec<String>,
    /// uid → severity of the flows `outflow score` alerts on.
    oracle: BTreeMap<String, String>,
}

fn outflow(args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "outflow {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A simulated two-hour log, a flow model fitted on it, and the oracle.
fn setup(extra_fit_args: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sim.log");
    let run = dir.path().join("run");
    outflow(&["simulate", "--hours", "2", "--hosts", "10", "--seed", "3", "-o", log.to_str().unwrap()]);
    let mut fit = vec!["detect", log.to_str().unwrap(), "--quiet", "--out", run.to_str().unwrap()];
    fit.extend_from_slice(extra_fit_args);
    outflow(&fit);
    let model = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("outflow-") && name.contains("model-") && name.ends_with(".json")
        })
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let (header, records): (Vec<String>, Vec<String>) =
        text.lines().map(str::to_owned).partition(|l| l.starts_with('#'));
    let mut oracle = BTreeMap::new();
    if extra_fit_args.is_empty() {
        let scores = dir.path().join("scores.csv");
        outflow(&["score", model.to_str().unwrap(), log.to_str().unwrap(), "-o", scores.to_str().unwrap()]);
        let mut r = csv::Reader::from_path(&scores).unwrap();
        let h = r.headers().unwrap().clone();
        let (sev, uid) = (h.iter().position(|c| c == "severity").unwrap(), h.iter().position(|c| c == "uid").unwrap());
        for rec in r.records() {
            let rec = rec.unwrap();
            if rec[sev] == *"moderate" || rec[sev] == *"severe" {
                oracle.insert(rec[uid].to_owned(), rec[sev].to_owned());
            }
        }
        assert!(oracle.len() > 50 && oracle.len() < records.len(), "{} alerts of {}", oracle.len(), records.len());
    }
    Setup { dir, model, header, records, oracle }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn text(&self, records: &[String], with_header: bool) -> String {
        let mut s = String::new();
        if with_header {
            for h in &self.header {
                s.push_str(h);
                s.push('\n');
            }
        }
        for r in records {
            s.push_str(r);
            s.push('\n');
        }
        s
    }

    fn watch(&self, source: &Path, extra: &[&str]) -> Child {
        self.watch_env(source, extra, &[])
    }

    fn watch_env(&self, source: &Path, extra: &[&str], env: &[(&str, &str)]) -> Child {
        let mut c = Command::new(BIN);
        c.arg("watch").arg(&self.model).arg(source);
        c.args(["--metrics", self.path("metrics.json").to_str().unwrap()]);
        c.args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        let err = std::fs::OpenOptions::new().create(true).append(true).open(self.path("stderr.txt")).unwrap();
        c.stdout(Stdio::null()).stderr(err).spawn().unwrap()
    }

    fn metrics(&self) -> Option<Value> {
        serde_json::from_slice(&std::fs::read(self.path("metrics.json")).ok()?).ok()
    }

    fn counter(&self, name: &str) -> u64 {
        self.metrics().and_then(|m| m[name].as_u64()).unwrap_or(0)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr.txt")).unwrap_or_default()
    }

    /// Waits (at most a minute: a hang guard, not a timing check) until `done`.
    fn wait_until(&self, what: &str, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "waited a minute for {what}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_flows(&self, n: u64) {
        self.wait_until(&format!("{n} flows"), || self.counter("flows_read") >= n);
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn stop(child: &mut Child) {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM must end the watch with 0: {status:?}");
}

/// The `zeek.uid` of each alert line, in order.
fn alert_uids(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            v["zeek"]["uid"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn expected(s: &Setup, records: &[String]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| r.split('\t').nth(1).unwrap().to_owned())
        .filter(|uid| s.oracle.contains_key(uid))
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn follows_appends_a_rotation_and_a_truncation() {
    let s = setup(&[]);
    let log = s.path("conn.log");
    let alerts = s.path("alerts.ndjson");
    let n = s.records.len();
    let (a, b) = (n / 3, 2 * n / 3);
    std::fs::write(&log, s.text(&s.records[..a], true)).unwrap();
    let mut child =
        s.watch(&log, &["--alerts", alerts.to_str().unwrap(), "--checkpoint", s.path("cp.json").to_str().unwrap()]);
    s.wait_flows(a as u64);
    // Steady appends, some cut in the middle of a line.
    let chunk = s.text(&s.records[a..b], false);
    for piece in chunk.as_bytes().chunks(chunk.len() / 7 + 1) {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(piece).unwrap();
        drop(f);
        std::thread::sleep(Duration::from_millis(20));
    }
    s.wait_flows(b as u64);
    // Rotation: renamed away, a new file with its own header.
    std::fs::rename(&log, s.path("conn.1.log")).unwrap();
    std::fs::write(&log, s.text(&s.records[b..], true)).unwrap();
    s.wait_flows(n as u64);
    // Truncation: the file cut to nothing and written again from the start (a restarted Zeek).
    let again = &s.records[..100];
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.set_len(0).unwrap();
    drop(f);
    append(&log, &s.text(again, true));
    s.wait_flows((n + 100) as u64);
    stop(&mut child);
    let m = s.metrics().unwrap();
    assert_eq!(m["files"]["rotations"], 1, "{m}");
    assert_eq!(m["files"]["truncations"], 1, "{m}");
    assert_eq!(m["lines_skipped"], 0, "{}", s.stderr());
    let mut want = expected(&s, &s.records);
    want.extend(expected(&s, again));
    assert_eq!(sorted(alert_uids(&std::fs::read_to_string(&alerts).unwrap())), sorted(want));
}

#[test]
fn reads_a_zeek_log_directory_with_rotated_gzip_files() {
    let s = setup(&[]);
    let logs = s.path("logs");
    let day = logs.join("2024-03-04");
    let current = logs.join("current");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(&current).unwrap();
    let n = s.records.len();
    let (a, b) = (n / 3, 2 * n / 3);
    // Zeek's header names the time a file was opened: no two files start alike.
    let with_open = |records: &[String], hour: u32| {
        let text = s.text(records, true);
        let at = text.find("#fields").unwrap();
        format!("{}#open\t2024-03-04-{hour:02}-00-00\n{}", &text[..at], &text[at..])
    };
    let gz = |records: &[String], hour: u32| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
        e.write_all(with_open(records, hour).as_bytes()).unwrap();
        e.finish().unwrap()
    };
    std::fs::write(day.join("conn.00:00:00-01:00:00.log.gz"), gz(&s.records[..a], 0)).unwrap();
    std::fs::write(day.join("conn.01:00:00-02:00:00.log.gz"), gz(&s.records[a..b], 1)).unwrap();
    std::fs::write(current.join("conn.log"), with_open(&s.records[b..], 2)).unwrap();
    let alerts = s.path("alerts.ndjson");
    let mut child = s.watch(&logs, &["--alerts", alerts.to_str().unwrap()]);
    s.wait_flows(n as u64);
    // zeekctl's rotation: the current file moved away, a new one started, the old one compressed into
    // the dated directory in two writes (a reader may see it half-written).
    let spool = s.path("spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::rename(current.join("conn.log"), spool.join("conn.log")).unwrap();
    let more = &s.records[..50];
    std::fs::write(current.join("conn.log"), with_open(more, 3)).unwrap();
    let whole = gz(&s.records[b..], 2);
    let target = day.join("conn.02:00:00-03:00:00.log.gz");
    std::fs::write(&target, &whole[..whole.len() / 2]).unwrap();
    s.wait_flows((n + 50) as u64);
    std::fs::write(&target, &whole).unwrap();
    // Time for the directory to be listed again: the compressed copy must not be read twice.
    std::thread::sleep(Duration::from_millis(1500));
    stop(&mut child);
    assert_eq!(s.counter("flows_read"), (n + 50) as u64, "{}", s.stderr());
    let mut want = expected(&s, &s.records);
    want.extend(expected(&s, more));
    assert_eq!(sorted(alert_uids(&std::fs::read_to_string(&alerts).unwrap())), sorted(want));
}

#[test]
fn kill_9_and_restart_give_each_alert_exactly_once() {
    let s = setup(&[]);
    let log = s.path("conn.log");
    std::fs::write(&log, s.text(&s.records, true)).unwrap();
    let alerts = s.path("alerts.ndjson");
    let cp = s.path("cp.json");
    let args = ["--alerts", alerts.to_str().unwrap(), "--checkpoint", cp.to_str().unwrap(), "--batch-rows", "400"];
    // Killed between writing a batch's alerts and checkpointing it.
    let mut child = s.watch_env(&log, &args, &[("OUTFLOW_WATCH_ABORT_AFTER_BATCHES", "3")]);
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(std::fs::read_to_string(&alerts).unwrap().lines().count() > 0);
    // Killed at arbitrary points while appending.
    let n = s.records.len();
    std::fs::write(&log, s.text(&s.records[..n / 2], true)).unwrap_or(());
    let _ = std::fs::remove_file(&cp);
    let _ = std::fs::remove_file(&alerts);
    let mut written = n / 2;
    for round in 0..4 {
        let mut child = s.watch(&log, &args);
        std::thread::sleep(Duration::from_millis(60 + 70 * round));
        let step = (n - written) / (4 - round as usize);
        append(&log, &s.text(&s.records[written..written + step], false));
        written += step;
        std::thread::sleep(Duration::from_millis(40));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    append(&log, &s.text(&s.records[written..], false));
    let mut child = s.watch(&log, &args);
    s.wait_flows(n as u64);
    stop(&mut child);
    let got = alert_uids(&std::fs::read_to_string(&alerts).unwrap());
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "an alert was written twice");
    assert_eq!(sorted(got), expected(&s, &s.records));
}

/// A receiver that answers each request with the next status of `script` (200 once it runs out) and
/// keeps the bodies of the accepted ones.
fn receiver(listener: TcpListener, script: Vec<u16>) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut byte = [0u8; 1];
            while !buf.ends_with(b"\r\n\r\n") {
                if stream.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                buf.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            let mut body = vec![0u8; len];
            stream.read_exact(&mut body).unwrap();
            let status = script.next().unwrap_or(200);
            let extra = if status == 429 { "Retry-After: 0\r\n" } else { "" };
            let _ = write!(stream, "HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
            if status == 200 {
                kept.lock().unwrap().push(String::from_utf8(body).unwrap());
            }
        }
    });
    got
}

#[test]
fn webhook_receiver_down_then_refusing_then_back() {
    let s = setup(&[]);
    let log = s.path("conn.log");
    std::fs::write(&log, s.text(&s.records, true)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/alerts");
    let mut child = s.watch(
        &log,
        &["--webhook", &url, "--webhook-backoff", "20ms", "--checkpoint", s.path("cp.json").to_str().unwrap()],
    );
    // Down: connections refused, retried.
    s.wait_until("retries", || s.metrics().is_some_and(|m| m["sinks"][0][1]["retries"].as_u64().unwrap_or(0) >= 3));
    assert!(!s.path("cp.json").exists() || s.counter("flows_read") > 0);
    // Back up, answering 503 twice and 429 once before accepting.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got = receiver(listener, vec![503, 503, 429]);
    let want = expected(&s, &s.records);
    s.wait_until("every alert delivered", || {
        got.lock().unwrap().iter().map(|b| b.lines().count()).sum::<usize>() >= want.len()
    });
    stop(&mut child);
    let bodies = got.lock().unwrap().join("");
    assert_eq!(sorted(alert_uids(&bodies)), want);
    let m = s.metrics().unwrap();
    assert_eq!(m["sinks"][0][1]["dropped"], 0, "{m}");
}

/// Alerts a webhook never took are a failure: the watch exits non-zero, and says they are lost when no
/// checkpoint can raise them again (standard input cannot be read twice).
#[test]
fn undelivered_alerts_at_exit_fail_the_watch() {
    let s = setup(&[]);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/alerts");
    let mut child = Command::new(BIN)
        .args(["watch", s.model.to_str().unwrap(), "-", "--webhook", &url, "--webhook-backoff", "20ms"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(s.text(&s.records, true).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("alerts still undelivered at exit; they are lost"), "{err}");
}

#[test]
fn malformed_lines_are_reported_and_skipped() {
    let s = setup(&[]);
    let log = s.path("conn.log");
    let mut text = s.text(&s.records[..200], true);
    text.push_str("not\ta\tflow\n");
    let broken = format!("{}\tEXTRA", s.records[200]);
    let fields: Vec<&str> = s.records[201].split('\t').collect();
    let mut bad_count = fields.clone();
    bad_count[9] = "lots";
    text.push_str(&format!("{}\n{}\n", broken, bad_count.join("\t")));
    text.push_str(&s.text(&s.records[202..], false));
    std::fs::write(&log, &text).unwrap();
    let header = s.header.len();
    let alerts = s.path("alerts.ndjson");
    let mut child = s.watch(&log, &["--alerts", alerts.to_str().unwrap()]);
    s.wait_flows((s.records.len() - 2) as u64);
    stop(&mut child);
    let err = s.stderr();
    let name = log.display().to_string();
    for line in [header + 201, header + 203] {
        assert!(err.contains(&format!("{name}:{line}:")), "line {line} not reported:\n{err}");
    }
    assert_eq!(s.counter("lines_skipped"), 3, "{err}");
    let mut kept: Vec<String> = s.records[..200].to_vec();
    kept.extend_from_slice(&s.records[202..]);
    assert_eq!(sorted(alert_uids(&std::fs::read_to_string(&alerts).unwrap())), expected(&s, &kept));
}

/// A log without a column the model reads (`local_resp`, here cut from the simulated log) is not scored
/// with zeros in its place — which made every flow an alert — but refused, once, by name.
#[test]
fn a_log_without_the_models_columns_is_refused_by_name() {
    let s = setup(&[]);
    let log = s.path("conn.log");
    let fields = s.header.iter().find(|h| h.starts_with("#fields")).unwrap();
    let at = fields.split('\t').position(|f| f == "local_resp").expect("the simulated log has local_resp") - 1;
    let cut = |line: &str| {
        let mut parts: Vec<&str> = line.split('\t').collect();
        let shift = usize::from(line.starts_with("#fields") || line.starts_with("#types"));
        parts.remove(at + shift);
        parts.join("\t")
    };
    let mut text = String::new();
    for h in &s.header {
        text.push_str(&if h.starts_with("#fields") || h.starts_with("#types") { cut(h) } else { h.clone() });
        text.push('\n');
    }
    for r in &s.records {
        text.push_str(&cut(r));
        text.push('\n');
    }
    std::fs::write(&log, text).unwrap();
    let alerts = s.path("alerts.ndjson");
    let mut child = s.watch(&log, &["--alerts", alerts.to_str().unwrap()]);
    s.wait_flows(s.records.len() as u64);
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    // Nothing was scored: the watch failed.
    assert!(!child.wait().unwrap().success());
    let err = s.stderr();
    assert!(err.contains("no flow was scored"), "{err}");
    assert_eq!(err.matches("the log has no 'local_resp'").count(), 1, "{err}");
    assert_eq!(s.counter("flows_scored"), 0, "{err}");
    assert_eq!(s.counter("flows_unscored"), s.records.len() as u64, "{err}");
    assert!(std::fs::read_to_string(&alerts).unwrap_or_default().is_empty());
}

/// A source of another kind (a CSV on standard input) fails every line for one reason: ten are shown,
/// every one counted.
#[test]
fn lines_skipped_for_one_reason_are_shown_ten_times() {
    let s = setup(&[]);
    let mut child = Command::new(BIN)
        .args(["watch", s.model.to_str().unwrap(), "-", "--metrics", s.path("metrics.json").to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let csv: String = (0..50).map(|i| format!("10.0.0.{i},80,{i}\n")).collect();
    child.stdin.take().unwrap().write_all(csv.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("line skipped").count(), 11, "{err}");
    assert!(err.contains("are counted (lines_skipped), not shown"), "{err}");
    assert_eq!(s.counter("lines_skipped"), 50, "{err}");
}

/// Zeek JSON leaves an unset field out: a number the model reads that no line of a long batch has is
/// read as unset (0), said once.
#[test]
fn zeek_json_without_a_field_the_model_reads_is_scored_and_said() {
    let s = setup(&[]);
    let json = zeek_json(&s, &["local_resp"]);
    let log = s.path("conn.json.log");
    std::fs::write(&log, json.join("\n") + "\n").unwrap();
    let mut child = s.watch(&log, &["--batch-rows", "64"]);
    s.wait_flows(json.len() as u64);
    stop(&mut child);
    let err = s.stderr();
    assert_eq!(err.matches("has 'local_resp' (the model reads it): read as unset").count(), 1, "{err}");
    assert_eq!(s.counter("flows_scored"), json.len() as u64, "{err}");
}

#[test]
fn allow_lists_suppress_and_count() {
    let s = setup(&[]);
    let log = s.path("conn.log");
    std::fs::write(&log, s.text(&s.records, true)).unwrap();
    let list = s.path("allow.txt");
    std::fs::write(&list, "# known-good\n10.0.0.2\n").unwrap();
    let alerts = s.path("alerts.ndjson");
    let mut child = s.watch(
        &log,
        &["--alerts", alerts.to_str().unwrap(), "--allow", "10.0.0.3/32", "--allow-file", list.to_str().unwrap()],
    );
    s.wait_flows(s.records.len() as u64);
    stop(&mut child);
    let allowed = |r: &String| {
        let f: Vec<&str> = r.split('\t').collect();
        ["10.0.0.2", "10.0.0.3"].iter().any(|a| f[2] == *a || f[4] == *a)
    };
    let (out, kept): (Vec<String>, Vec<String>) = s.records.iter().cloned().partition(allowed);
    let suppressed = expected(&s, &out).len() as u64;
    assert!(suppressed > 0);
    assert_eq!(s.counter("allowed"), suppressed);
    assert_eq!(sorted(alert_uids(&std::fs::read_to_string(&alerts).unwrap())), expected(&s, &kept));
}

#[test]
fn sighup_with_a_bad_model_keeps_the_old_one() {
    let s = setup(&[]);
    let model = s.path("model.json");
    std::fs::copy(&s.model, &model).unwrap();
    let log = s.path("conn.log");
    let n = s.records.len();
    std::fs::write(&log, s.text(&s.records[..n / 2], true)).unwrap();
    let alerts = s.path("alerts.ndjson");
    let mut c = Command::new(BIN);
    c.arg("watch").arg(&model).arg(&log);
    c.args(["--metrics", s.path("metrics.json").to_str().unwrap(), "--alerts", alerts.to_str().unwrap()]);
    let err = std::fs::File::create(s.path("stderr.txt")).unwrap();
    let mut child = c.stdout(Stdio::null()).stderr(err).spawn().unwrap();
    s.wait_flows((n / 2) as u64);
    std::fs::write(&model, "{ not a model").unwrap();
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    s.wait_until("the failed reload", || s.counter("reloads_failed") == 1);
    append(&log, &s.text(&s.records[n / 2..], false));
    s.wait_flows(n as u64);
    stop(&mut child);
    assert!(s.stderr().contains("the old model stays"), "{}", s.stderr());
    assert_eq!(sorted(alert_uids(&std::fs::read_to_string(&alerts).unwrap())), expected(&s, &s.records));
}

#[test]
fn host_windows_are_alerted_when_they_close() {
    let s = setup(&["--level", "host", "--window", "15m"]);
    let log = s.path("sim.log");
    let out = Command::new(BIN)
        .arg("watch")
        .arg(&s.model)
        .arg("-")
        .stdin(std::fs::File::open(&log).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let alerts: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!alerts.is_empty());
    let mut ids = HashSet::new();
    for a in &alerts {
        assert_eq!(a["outflow"]["level"], "host", "{a}");
        assert_eq!(a["event"]["dataset"], "outflow.host");
        assert!(ids.insert(a["event"]["id"].as_str().unwrap().to_owned()), "duplicate alert {a}");
        let start = a["event"]["start"].as_str().unwrap();
        let end = a["event"]["end"].as_str().unwrap();
        assert!(start < end && start.ends_with(":00.000Z") && end.ends_with(":00.000Z"), "{a}");
        assert!(a["source"]["ip"].is_string());
    }
    // The windows that `outflow score` marks severe are alerted live too (the live baseline uses past
    // windows only, so moderate ones may differ).
    let scores = s.path("hosts.csv");
    outflow(&["score", s.model.to_str().unwrap(), log.to_str().unwrap(), "-o", scores.to_str().unwrap()]);
    let mut r = csv::Reader::from_path(&scores).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (src, sev, start) = (col("src"), col("severity"), col("window_start"));
    let live: HashSet<(String, i64)> = alerts
        .iter()
        .map(|a| {
            let t = chrono::DateTime::parse_from_rfc3339(a["event"]["start"].as_str().unwrap()).unwrap();
            (a["source"]["ip"].as_str().unwrap().to_owned(), t.timestamp())
        })
        .collect();
    let mut severe = 0;
    let mut found = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[sev] == "severe" {
            severe += 1;
            let t: f64 = rec[start].parse().unwrap();
            found += usize::from(live.contains(&(rec[src].to_owned(), t as i64)));
        }
    }
    assert!(severe > 0);
    assert!(found * 10 >= severe * 8, "{found} of {severe} severe windows alerted live");
}

/// The setup's records as Zeek's JSON writer writes them (numbers as numbers, unset fields absent),
/// without the fields `leave_out`.
fn zeek_json(s: &Setup, leave_out: &[&str]) -> Vec<String> {
    let fields: Vec<&str> = s.header.iter().find(|h| h.starts_with("#fields")).unwrap().split('\t').skip(1).collect();
    let types: Vec<&str> = s.header.iter().find(|h| h.starts_with("#types")).unwrap().split('\t').skip(1).collect();
    s.records
        .iter()
        .map(|r| {
            let mut obj = serde_json::Map::new();
            for ((name, ty), value) in fields.iter().zip(&types).zip(r.split('\t')) {
                if value == "-" || leave_out.contains(name) {
                    continue;
                }
                let v = match *ty {
                    "time" | "interval" | "double" => serde_json::json!(value.parse::<f64>().unwrap()),
                    "count" | "int" | "port" => serde_json::json!(value.parse::<i64>().unwrap()),
                    "bool" => serde_json::json!(value == "T"),
                    t if t.starts_with("set") || t.starts_with("vector") => {
                        serde_json::json!(if value == "(empty)" {
                            vec![]
                        } else {
                            value.split(',').collect::<Vec<_>>()
                        })
                    }
                    _ => serde_json::json!(value),
                };
                obj.insert((*name).to_owned(), v);
            }
            serde_json::to_string(&obj).unwrap()
        })
        .collect()
}

#[test]
fn follows_zeek_json_lines_with_unset_fields_left_out() {
    let s = setup(&[]);
    let json = zeek_json(&s, &[]);
    let log = s.path("conn.json.log");
    let n = json.len();
    std::fs::write(&log, json[..n / 2].join("\n") + "\n").unwrap();
    let alerts = s.path("alerts.ndjson");
    let mut child = s.watch(&log, &["--alerts", alerts.to_str().unwrap(), "--batch-rows", "64"]);
    s.wait_flows((n / 2) as u64);
    append(&log, &(json[n / 2..].join("\n") + "\n"));
    s.wait_flows(n as u64);
    stop(&mut child);
    assert_eq!(s.counter("lines_skipped"), 0, "{}", s.stderr());
    assert_eq!(s.counter("batches_failed"), 0, "{}", s.stderr());
    assert_eq!(sorted(alert_uids(&std::fs::read_to_string(&alerts).unwrap())), expected(&s, &s.records));
}

#[test]
fn host_windows_survive_kill_9_with_the_same_alerts() {
    let s = setup(&["--level", "host", "--window", "15m"]);
    let log = s.path("sim.log");
    let windows = 8; // two hours of 15-minute windows
    let run = |name: &str, abort: Option<&str>| -> Vec<String> {
        let alerts = s.path(&format!("{name}.ndjson"));
        let cp = s.path(&format!("{name}.json"));
        let args = [
            "--alerts",
            alerts.to_str().unwrap(),
            "--checkpoint",
            cp.to_str().unwrap(),
            "--batch-rows",
            "300",
            "--early-every",
            "1h",
        ];
        let _ = std::fs::remove_file(s.path("metrics.json"));
        if let Some(n) = abort {
            let status = s.watch_env(&log, &args, &[("OUTFLOW_WATCH_ABORT_AFTER_BATCHES", n)]).wait().unwrap();
            assert!(!status.success());
            let _ = std::fs::remove_file(s.path("metrics.json"));
        }
        let mut child = s.watch(&log, &args);
        s.wait_until("every window closed", || s.counter("windows_closed") >= windows);
        stop(&mut child);
        let text = std::fs::read_to_string(&alerts).unwrap();
        let mut ids: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["event"]["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let whole = run("whole", None);
    assert!(!whole.is_empty());
    let mut dedup = whole.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), whole.len(), "an alert was written twice");
    for abort in ["4", "9"] {
        assert_eq!(run(&format!("killed-{abort}"), Some(abort)), whole, "killed after {abort} batches");
    }
}

#[test]
fn refuses_what_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).arg("watch").args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let cp = dir.path().join("cp.json");
    let model = dir.path().join("model.json");
    std::fs::write(&model, "not a model").unwrap();
    let m = model.to_str().unwrap();
    assert!(run(&[m, "-", "--checkpoint", cp.to_str().unwrap()]).contains("standard input"));
    let bad_header = run(&[m, "-", "--webhook", "http://127.0.0.1:9/", "--webhook-header", "X Api Key: secret"]);
    assert!(bad_header.contains("--webhook-header"), "{bad_header}");
    assert!(!bad_header.contains("secret"), "{bad_header}");
    assert!(run(&[m, "/no/such/dir/conn.log"]).contains("no such file"));
    assert!(run(&[m, "-", "--allow", "10.0.0.0/33"]).contains("10.0.0.0/33"));
    let unreadable = run(&[m, "-"]);
    assert!(unreadable.contains("model.json"), "{unreadable}");
    // A flow model of another log family: the watch reads Zeek logs only.
    let csv = dir.path().join("flows.csv");
    let mut text = String::from("Flow Duration,Total Fwd Packets,Total Backward Packets,Label\n");
    for i in 0..200 {
        text.push_str(&format!("{},{},{},BENIGN\n", 1000 + i * 37 % 900, 1 + i % 7, i % 5));
    }
    std::fs::write(&csv, text).unwrap();
    let run_dir = dir.path().join("cic");
    outflow(&["detect", csv.to_str().unwrap(), "--quiet", "--out", run_dir.to_str().unwrap()]);
    let other = run(&[run_dir.to_str().unwrap(), "-"]);
    assert!(other.contains("not a Zeek conn log's (log family: cic)"), "{other}");
}
