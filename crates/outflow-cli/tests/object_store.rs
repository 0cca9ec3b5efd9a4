//! Logs, runs and models in an S3 bucket, against a real S3 server (SeaweedFS, which `.ci/run` installs
//! and starts on 127.0.0.1): the run round trip `detect` → `score` → `report` → `serve` from the bucket,
//! a multipart upload, a missing bucket and key, wrong credentials, and the server going away in the
//! middle of an upload.
//!
//! The server comes from `OUTFLOW_S3_ENDPOINT` (with `OUTFLOW_S3_KEY`, `OUTFLOW_S3_SECRET`,
//! `OUTFLOW_S3_BUCKET`); without it these tests say so and pass, unless `OUTFLOW_STRICT=1` (as in CI),
//! where a missing server fails them. Checks of URLs alone need no server and always run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use outflow::io::store::{Location, StoreErrorKind};

struct S3 {
    endpoint: String,
    key: String,
    secret: String,
    bucket: String,
}

fn server() -> Option<S3> {
    let Ok(endpoint) = std::env::var("OUTFLOW_S3_ENDPOINT") else {
        assert!(
            std::env::var("OUTFLOW_STRICT").as_deref() != Ok("1"),
            "OUTFLOW_STRICT=1 and no S3 server: set OUTFLOW_S3_ENDPOINT (see .ci/run)"
        );
        eprintln!("no S3 server (OUTFLOW_S3_ENDPOINT unset): skipped");
        return None;
    };
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    Some(S3 {
        endpoint,
        key: var("OUTFLOW_S3_KEY", "outflowkey"),
        secret: var("OUTFLOW_S3_SECRET", "outflowsecret"),
        bucket: var("OUTFLOW_S3_BUCKET", "outflow"),
    })
}

impl S3 {
    /// A prefix no other test (or earlier run) uses.
    fn prefix(&self, name: &str) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        format!("s3://{}/test-{name}-{}-{nanos}", self.bucket, std::process::id())
    }

    /// The command with this server's settings in the standard AWS variables (and nothing else of AWS's).
    fn outflow(&self) -> Command {
        self.outflow_via(&self.endpoint)
    }

    fn outflow_via(&self, endpoint: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_outflow"));
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                c.env_remove(k);
            }
        }
        c.env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_REGION", "us-east-1")
            .env("HOME", "/nonexistent");
        c
    }

    fn store_via(&self, endpoint: &str, retries: usize) -> Arc<dyn ObjectStore> {
        let retry = object_store::RetryConfig { max_retries: retries, ..Default::default() };
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(endpoint)
                .with_bucket_name(&self.bucket)
                .with_access_key_id(&self.key)
                .with_secret_access_key(&self.secret)
                .with_region("us-east-1")
                .with_allow_http(true)
                .with_retry(retry)
                .build()
                .unwrap(),
        )
    }

    /// An object of the bucket through the library, with a store built here (the API's "an
    /// ObjectStore plus a path").
    fn object(&self, url: &str) -> Location {
        self.object_via(&self.endpoint, url, 2)
    }

    fn object_via(&self, endpoint: &str, url: &str, retries: usize) -> Location {
        let key = url.strip_prefix(&format!("s3://{}/", self.bucket)).expect("a URL of the test bucket");
        Location::object(self.store_via(endpoint, retries), ObjectPath::from(key), url)
    }
}

fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

fn ok(c: &mut Command) -> Output {
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn fails(c: &mut Command) -> String {
    let out = run(c);
    assert!(!out.status.success(), "should have failed: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A child process killed when dropped (a failed assertion leaves no server behind), with its standard
/// error read line by line on a thread.
struct Server {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    fn start(mut c: Command) -> Server {
        let mut child = c.stderr(Stdio::piped()).spawn().unwrap();
        let err = BufReader::new(child.stderr.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Server { child, lines }
    }

    /// The next line of standard error holding `what` (others skipped), within 30 s.
    fn wait_for(&self, what: &str) -> String {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line with {what:?} on the server's standard error: {e}"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn get(addr: &str, path: &str) -> String {
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
}

/// The model file named by a run's summary.
fn model_file(summary: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(summary).unwrap();
    v["model_file"].as_str().unwrap().to_owned()
}

#[test]
fn urls_are_checked_before_any_request() {
    let bin = env!("CARGO_BIN_EXE_outflow");
    let err = fails(Command::new(bin).args(["inspect", "ftp://user:pw@host/conn.log"]));
    assert!(err.contains("ftp://host/conn.log") && err.contains("unknown URL scheme"), "{err}");
    assert!(!err.contains("pw@"), "{err}");
    let err = fails(Command::new(bin).args(["inspect", "s3://Bad_Bucket/conn.log"]));
    assert!(err.contains("s3://Bad_Bucket/conn.log") && err.contains("malformed bucket name"), "{err}");
    let err = fails(Command::new(bin).args(["inspect", "s3://bucket-only"]).env("HOME", "/nonexistent"));
    assert!(err.contains("s3://bucket-only: names a bucket, not an object"), "{err}");
    let err = fails(Command::new(bin).args(["inspect", "https://127.0.0.1:1/x.log?X-Amz-Signature=abc"]));
    assert!(!err.contains("abc") && err.contains("presigned"), "{err}");
}

#[test]
fn a_run_goes_round_trip_through_the_bucket() {
    let Some(s3) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = s3.prefix("round-trip");
    let log = dir.path().join("conn.log");
    ok(s3.outflow().args(["simulate", "--output"]).arg(&log));
    // The log goes up through the command (a write of an object), and comes down as a stream.
    ok(s3.outflow().args(["simulate", "--output", &format!("{p}/conn.log")]));
    assert_eq!(s3.object(&format!("{p}/conn.log")).read().unwrap(), std::fs::read(&log).unwrap());
    let err = fails(s3.outflow().args(["simulate", "--output", &format!("{p}/conn.log")]));
    assert!(err.contains(&format!("{p}/conn.log")) && err.contains("--force"), "{err}");

    let run_url = format!("{p}/runs/r1");
    ok(s3.outflow().args(["detect", &format!("{p}/conn.log"), "--out", &run_url, "--quiet", "--report"]));
    let local_run = dir.path().join("local");
    ok(s3.outflow().args(["detect", "--quiet", "--out"]).arg(&local_run).arg(&log));
    let remote = s3.object(&run_url);
    let names = remote.list().unwrap();
    for n in ["summary.json", "scores.csv", "anomalies.csv", "clusters.json", "sample.csv", "report.html"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert!(names.iter().any(|x| x.starts_with("figures/")), "{names:?}");
    assert!(!names.iter().any(|x| x.contains("lock") || x.ends_with(".tmp")), "{names:?}");
    // The same run as on a local disk, to the byte.
    for n in ["scores.csv", "anomalies.csv", "clusters.json", "sample.csv"] {
        assert_eq!(remote.join(n).read().unwrap(), std::fs::read(local_run.join(n)).unwrap(), "{n}");
    }
    let model = model_file(&remote.join("summary.json").read().unwrap());
    let model_url = format!("{run_url}/{model}");

    // A second run into the same place is refused.
    let err = fails(s3.outflow().args(["detect", "--quiet", "--out", &run_url]));
    assert!(err.contains(&run_url) && err.contains("not empty"), "{err}");

    // score: model and log from the bucket, scores into it; the same bytes as from local files.
    let scores_url = format!("{p}/scored.csv");
    ok(s3.outflow().args(["score", &model_url, &format!("{p}/conn.log"), "--out", &scores_url]));
    let local_model = model_file(&std::fs::read(local_run.join("summary.json")).unwrap());
    let local = ok(s3.outflow().arg("score").arg(local_run.join(local_model)).arg(&log));
    assert_eq!(s3.object(&scores_url).read().unwrap(), local.stdout);
    // A run directory stands for the model its summary names, in the bucket and on disk.
    let by_run = ok(s3.outflow().args(["score", &run_url, &format!("{p}/conn.log")]));
    assert_eq!(by_run.stdout, local.stdout);
    assert_eq!(ok(s3.outflow().arg("score").arg(&local_run).arg(&log)).stdout, local.stdout);

    // report: refused over an existing report, then redrawn with --force and uploaded.
    let err = fails(s3.outflow().args(["report", &run_url, "--quiet"]));
    assert!(err.contains("report.html exists"), "{err}");
    ok(s3.outflow().args(["report", &run_url, "--force", "--quiet"]));
    let html = remote.join("report.html").read().unwrap();
    assert!(html.starts_with(b"<!DOCTYPE html>") || html.starts_with(b"<!doctype html>"), "not a report");

    // serve: the model from the bucket, reloaded when a new one is published over it.
    let mut serve = s3.outflow();
    serve.args(["serve", &model_url, "--addr", "127.0.0.1:0", "--workers", "2", "--watch-model", "1s"]);
    let server = Server::start(serve);
    let line = server.wait_for("listening on");
    let addr = line.split("http://").nth(1).expect(&line).split_whitespace().next().unwrap().to_owned();
    let info = get(&addr, "/v1/model");
    assert!(info.contains("\"generation\":1") && info.contains(&model_url), "{info}");
    let other_run = dir.path().join("other");
    ok(s3.outflow().args(["detect", "--quiet", "--seed", "7", "--out"]).arg(&other_run).arg(&log));
    let other_model =
        std::fs::read(other_run.join(model_file(&std::fs::read(other_run.join("summary.json")).unwrap()))).unwrap();
    s3.object(&model_url).write(&other_model, true).unwrap();
    let line = server.wait_for("reloaded");
    assert!(line.contains("generation 2"), "{line}");
    assert!(get(&addr, "/v1/model").contains("\"generation\":2"));
    // A broken model published over it is refused once: the last good one stays served.
    s3.object(&model_url).write(b"not a model", true).unwrap();
    let line = server.wait_for("model file check");
    assert!(line.contains("previous model is still served") && line.contains(&model_url), "{line}");
    std::thread::sleep(Duration::from_millis(2500));
    while let Ok(line) = server.lines.try_recv() {
        assert!(!line.contains("model file check"), "a refused version was tried again: {line}");
    }
    assert!(get(&addr, "/healthz").contains("\"generation\":2"));
    drop(server);

    // A new run replaces this one with --force: nothing of the old run is left, the summary is the new
    // run's.
    ok(s3.outflow().args(["detect", "--quiet", "--force", "--seed", "3", "--out", &run_url, &format!("{p}/conn.log")]));
    let names = remote.list().unwrap();
    assert!(!names.iter().any(|n| n == "report.html" || n.starts_with("figures/") || *n == model), "{names:?}");
    let new_model = model_file(&remote.join("summary.json").read().unwrap());
    assert!(names.contains(&new_model), "{names:?}");

    // A run being written (its lock there) is neither joined nor read.
    remote.join(".outflow.lock").write(b"another run", false).unwrap();
    let err = fails(s3.outflow().args(["detect", "--quiet", "--force", "--out", &run_url]));
    assert!(err.contains("another run is writing into") && err.contains(&run_url), "{err}");
    let err = fails(s3.outflow().args(["report", &run_url, "--quiet", "--force"]));
    assert!(err.contains("another run is writing into"), "{err}");
}

#[test]
fn a_large_object_is_uploaded_in_parts() {
    let Some(s3) = server() else { return };
    let url = format!("{}/big.bin", s3.prefix("multipart"));
    let big: Vec<u8> = (0..outflow::io::store::MULTIPART_FROM + (3 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    let at = s3.object(&url);
    at.write(&big, false).unwrap();
    // An S3 ETag of a multipart upload is the digest of the parts' digests, with the part count.
    let version = at.version().unwrap();
    assert!(version.trim_matches('"').ends_with("-3"), "not a 3-part upload: {version}");
    assert_eq!(at.read().unwrap(), big);
    let e = at.write(&big, false).unwrap_err();
    assert!(matches!(e, outflow::io::IoError::Store { kind: StoreErrorKind::AlreadyExists, .. }), "{e}");
}

#[test]
fn missing_buckets_and_keys_and_wrong_credentials_are_named() {
    let Some(s3) = server() else { return };
    let p = s3.prefix("errors");
    let err = fails(s3.outflow().args(["inspect", &format!("{p}/no-such.log")]));
    assert!(err.contains(&format!("{p}/no-such.log")) && err.contains("no such object"), "{err}");
    assert!(!err.contains("bucket"), "{err}");
    let err = fails(s3.outflow().args(["inspect", "s3://no-such-bucket-of-outflow/conn.log"]));
    assert!(err.contains("s3://no-such-bucket-of-outflow/conn.log: no such bucket"), "{err}");
    let err = fails(s3.outflow().args(["score", "s3://no-such-bucket-of-outflow/m.json", "x.log"]));
    assert!(err.contains("s3://no-such-bucket-of-outflow/m.json: no such bucket"), "{err}");

    // An object that is not a log.
    let junk = format!("{p}/image.png");
    s3.object(&junk).write(&[0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0xff, 0xfe, 0, 1, 2, 3], false).unwrap();
    let err = fails(s3.outflow().args(["detect", &junk, "--quiet", "--out", &format!("{p}/runs/junk")]));
    assert!(err.contains(&format!("{junk}: a PNG image, not a flow log")), "{err}");
    assert!(s3.object(&format!("{p}/runs/junk")).list().unwrap().is_empty(), "a failed run left objects");

    // Wrong credentials: refused, and neither the secret nor the key is printed.
    let secret = "WRONG-secret-0123456789abcdef";
    let out = run(s3.outflow().env("AWS_SECRET_ACCESS_KEY", secret).args(["inspect", &junk]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&junk) && err.contains("access denied"), "{err}");
    assert!(!err.contains(secret) && !err.contains(&s3.key), "credentials printed: {err}");
}

/// A TCP proxy to `upstream` that, once `after` bytes have gone from clients to the server, cuts every
/// connection and stops listening: the server, as a client sees it, went away in the middle of an upload.
fn cutting_proxy(upstream: &str, after: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let sent = Arc::new(AtomicU64::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    std::thread::spawn(move || {
        while !dead.load(Ordering::SeqCst) {
            let client = match listener.accept() {
                Ok((c, _)) => c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                Err(_) => return,
            };
            client.set_nonblocking(false).unwrap();
            let server = TcpStream::connect(&upstream).unwrap();
            open.lock().unwrap().extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (sent, dead2, open2) = (Arc::clone(&sent), Arc::clone(&dead), Arc::clone(&open));
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = match c_in.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > after {
                        dead2.store(true, Ordering::SeqCst);
                        for s in open2.lock().unwrap().iter() {
                            let _ = s.shutdown(std::net::Shutdown::Both);
                        }
                        return;
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_in, &mut c_out);
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_server_that_stops_mid_upload_leaves_nothing_that_looks_complete() {
    let Some(s3) = server() else { return };
    let p = s3.prefix("cut");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("conn.log");
    ok(s3.outflow().args(["simulate", "--output"]).arg(&log));

    // A run: the server goes away once 200 kB of it went up (the claim is smaller, the run larger).
    let run_url = format!("{p}/runs/r1");
    let proxy = cutting_proxy(&s3.endpoint, 200_000);
    let started = Instant::now();
    let err = fails(s3.outflow_via(&proxy).args(["detect", "--quiet", "--out", &run_url]).arg(&log));
    assert!(started.elapsed() < Duration::from_secs(120), "gave up only after {:?}", started.elapsed());
    assert!(err.contains(&run_url), "{err}");
    let names = s3.object(&run_url).list().unwrap();
    assert!(!names.iter().any(|n| n == "summary.json"), "an interrupted run has a summary: {names:?}");
    let err = fails(s3.outflow().args(["report", &run_url, "--quiet"]));
    assert!(err.contains("summary.json") && err.contains("missing"), "{err}");

    // One large object: its multipart upload is never completed, so no object appears.
    let url = format!("{p}/big.bin");
    let proxy = cutting_proxy(&s3.endpoint, 10 << 20);
    let big = vec![1u8; outflow::io::store::MULTIPART_FROM + (8 << 20)];
    let e = s3.object_via(&proxy, &url, 0).write(&big, false).unwrap_err();
    assert!(e.to_string().contains(&url), "{e}");
    assert!(!s3.object(&url).exists().unwrap(), "a half-uploaded object is visible");
}

#[test]
fn parquet_is_read_from_the_bucket_as_from_disk() {
    let Some(s3) = server() else { return };
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../outflow-io/tests/data/zat-conn.zstd.parquet");
    let url = format!("{}/conn.parquet", s3.prefix("parquet"));
    s3.object(&url).write(&std::fs::read(fixture).unwrap(), false).unwrap();
    let remote = ok(s3.outflow().args(["inspect", &url]));
    let local = ok(s3.outflow().args(["inspect", fixture]));
    let body = |o: &Output| String::from_utf8_lossy(&o.stdout).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(String::from_utf8_lossy(&remote.stdout).starts_with(&format!("{url}: parquet")));
    assert_eq!(body(&remote), body(&local));
    assert!(body(&local).lines().count() > 5, "{}", body(&local));
}
