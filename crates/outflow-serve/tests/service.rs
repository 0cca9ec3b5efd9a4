//! The service on a real loopback socket: answers equal to `Detector::score`, errors with the
//! right status, reload under load without losing a request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use outflow::io::{Table, Value as Cell};
use outflow::{Detector, DetectorParams, ReadOptions, read_table};
use outflow_serve::{AppState, Limits, serve_on};
use serde_json::{Map, Value, json};

fn sample() -> Table {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled");
    read_table(p, &ReadOptions::default()).unwrap()
}

/// A table row as the JSON a log shipper would post (whole record, every field).
fn flow(t: &Table, i: usize) -> Map<String, Value> {
    t.columns()
        .iter()
        .map(|c| {
            let v = match c.value(i) {
                Cell::Null => Value::Null,
                Cell::Float(x) | Cell::Time(x) | Cell::Interval(x) => json!(x),
                Cell::Int(x) => json!(x),
                Cell::Bool(b) => json!(b),
                Cell::Str(s) => json!(s),
            };
            (c.name().to_owned(), v)
        })
        .collect()
}

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(model: &Path, limits: Limits) -> Server {
    let state = AppState::open(model).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (atx, arx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            atx.send(listener.local_addr().unwrap()).unwrap();
            serve_on(listener, state, limits, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
    });
    Server { addr: arx.recv().unwrap(), stop: Some(tx), thread: Some(thread) }
}

/// A one-shot HTTP/1.1 request; returns (status, body).
fn request(addr: SocketAddr, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let ct = content_type.map(|c| format!("Content-Type: {c}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{ct}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body); // the server may answer (413) and close before reading it all
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status: u16 = text.split_whitespace().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, dechunk(&body))
}

fn dechunk(body: &str) -> String {
    // Responses here have Content-Length; keep chunked decoding minimal just in case.
    body.to_owned()
}

fn post_json(addr: SocketAddr, v: &Value) -> (u16, Value) {
    let (st, b) = request(addr, "POST", "/v1/score", Some("application/json"), v.to_string().as_bytes());
    (st, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn model_file(dir: &Path) -> (PathBuf, Detector, Table) {
    let t = sample();
    let fit = DetectorParams::default().fit(&t).unwrap();
    let path = dir.join("model.json");
    fit.detector.save(&path, false).unwrap();
    (path, fit.detector, t)
}

#[test]
fn answers_equal_library_scores_and_errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let (path, det, t) = model_file(dir.path());
    let srv = start(&path, Limits { body_bytes: 200_000, ..Limits::default() });
    let rows = [0usize, 1, 17, 400, 2000, 5662];
    let expected = det.score(&t.take_rows(&rows)).unwrap();

    // One flow at a time, whole records (uid, addresses, labels are ignored).
    for (k, &i) in rows.iter().enumerate() {
        let (st, r) = post_json(srv.addr, &Value::Object(flow(&t, i)));
        assert_eq!(st, 200, "{r}");
        let e = &expected[k];
        assert_eq!(r["cluster"], json!(e.cluster));
        assert_eq!(r["severity"], e.severity.name());
        assert_eq!(r["anomaly"], e.severity.is_anomaly());
        assert!((r["outlier_score"].as_f64().unwrap() - e.outlier_score.unwrap()).abs() < 1e-12);
        assert!((r["probability"].as_f64().unwrap() - e.probability.unwrap()).abs() < 1e-12);
    }
    // A JSON array and NDJSON batch.
    let batch: Vec<Value> = rows.iter().map(|&i| Value::Object(flow(&t, i))).collect();
    let (st, r) = post_json(srv.addr, &Value::Array(batch.clone()));
    assert_eq!(st, 200);
    let got: Vec<String> = r.as_array().unwrap().iter().map(|x| x["severity"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, expected.iter().map(|e| e.severity.name().to_owned()).collect::<Vec<_>>());
    let nd: String = batch.iter().map(|v| format!("{v}\n")).collect();
    let (st, b) = request(srv.addr, "POST", "/v1/score", Some("application/x-ndjson"), nd.as_bytes());
    assert_eq!(st, 200);
    assert_eq!(b.lines().count(), rows.len());

    // Errors.
    let (st, b) = request(srv.addr, "POST", "/v1/score", Some("application/json"), b"{\"duration\": ");
    assert_eq!(st, 400, "{b}");
    assert!(b.contains("bad_json"));
    let mut f = flow(&t, 0);
    f.insert("orig_bytes".into(), json!("lots"));
    let (st, r) = post_json(srv.addr, &Value::Object(f));
    assert_eq!((st, r["error"]["field"].as_str()), (422, Some("orig_bytes")), "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("must be an integer"));
    let mut f = flow(&t, 0);
    f.insert("local_orig".into(), json!([1, 2]));
    let (st, r) = post_json(srv.addr, &Value::Object(f));
    assert_eq!((st, r["error"]["code"].as_str()), (422, Some("wrong_type")));
    // A value too large to square is answered, unscored with the reason, not a server error.
    let mut f = flow(&t, 0);
    f.insert("duration".into(), json!(1e200));
    let (st, r) = post_json(srv.addr, &Value::Object(f));
    assert_eq!((st, r["severity"].as_str()), (200, Some("unscored")), "{r}");
    assert!(r["reason"].as_str().unwrap().contains("beyond"), "{r}");
    // A field the model never saw is ignored and named: a misspelt one is not a value left unset.
    let mut f = flow(&t, 0);
    let duration = f.remove("duration").unwrap();
    f.insert("durration".into(), duration);
    let (st, r) = post_json(srv.addr, &Value::Object(f));
    assert_eq!((st, &r["ignored_fields"]), (200, &json!(["durration"])), "{r}");
    let (st, r) = post_json(srv.addr, &Value::Object(flow(&t, 0)));
    assert!(st == 200 && r.get("ignored_fields").is_none(), "{r}");
    let (st, r) = post_json(srv.addr, &json!({"uid": "only an id"}));
    assert_eq!(st, 422, "{r}");
    assert_eq!(r["error"]["code"], "missing_feature");
    let (st, b) = request(srv.addr, "POST", "/v1/score", Some("text/csv"), b"a,b\n1,2\n");
    assert_eq!(st, 415, "{b}");
    let big = vec![b' '; 300_000];
    let (st, _) = request(srv.addr, "POST", "/v1/score", Some("application/json"), &big);
    assert_eq!(st, 413);
    let (st, b) = request(srv.addr, "POST", "/v1/score", Some("application/json"), b"[1, 2]");
    assert_eq!(st, 400, "{b}");
    let (st, _) = request(srv.addr, "POST", "/v1/score", Some("application/json"), b"1e999");
    assert_eq!(st, 400);
    let (st, _) = request(srv.addr, "GET", "/nope", None, b"");
    assert_eq!(st, 404);
    let (st, b) = request(srv.addr, "GET", "/v1/model", None, b"");
    assert_eq!(st, 200);
    assert!(b.contains("\"format\":\"outflow-model\""));
    let (st, b) = request(srv.addr, "GET", "/openapi.json", None, b"");
    assert_eq!(st, 200);
    assert!(serde_json::from_str::<Value>(&b).unwrap()["paths"]["/v1/score"].is_object());
    let (st, _) = request(srv.addr, "GET", "/healthz", None, b"");
    assert_eq!(st, 200);
}

#[test]
fn reload_swaps_atomically_and_refuses_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, t) = model_file(dir.path());
    let srv = start(&path, Limits::default());
    let body = Value::Object(flow(&t, 3)).to_string();
    let addr = srv.addr;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (body, stop) = (body.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 50 {
                    let (st, b) = request(addr, "POST", "/v1/score", Some("application/json"), body.as_bytes());
                    assert_eq!(st, 200, "a request failed during reloads: {b}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    for g in 2..=6u64 {
        let (st, b) = request(addr, "POST", "/v1/model/reload", None, b"");
        assert_eq!(st, 200, "{b}");
        assert!(b.contains(&format!("\"generation\":{g}")), "{b}");
    }
    // A bad file is refused; the old model keeps serving.
    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, &good[..good.len() / 3]).unwrap();
    let (st, b) = request(addr, "POST", "/v1/model/reload", None, b"");
    assert_eq!(st, 422, "{b}");
    assert!(b.contains("reload_failed"));
    // A model of other columns would fail every request: refused too.
    let other = Table::new(vec![
        outflow::io::Column::from_f64("a", (0..300).map(|i| (i % 17) as f64).collect()),
        outflow::io::Column::from_f64("b", (0..300).map(|i| (i * 7 % 23) as f64).collect()),
    ])
    .unwrap();
    outflow::DetectorParams::default().fit(&other).unwrap().detector.save(&path, true).unwrap();
    let (st, b) = request(addr, "POST", "/v1/model/reload", None, b"");
    assert_eq!(st, 422, "{b}");
    assert!(b.contains("other columns"), "{b}");
    // So is a path that is not a regular file (a FIFO would block the reload forever).
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let (st, b) = request(addr, "POST", "/v1/model/reload", None, b"");
    assert_eq!(st, 422, "{b}");
    assert!(b.contains("not a regular file"), "{b}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let served: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(served >= 200);
    let (st, b) = request(addr, "GET", "/healthz", None, b"");
    assert_eq!(st, 200);
    assert!(b.contains("\"generation\":6"), "{b}");
}

#[test]
fn batch_limits_and_broken_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let (path, det, t) = model_file(dir.path());
    let srv = start(&path, Limits { max_batch: 300, ..Limits::default() });
    let flows = |n: usize| (0..n).map(|i| Value::Object(flow(&t, i))).collect::<Vec<_>>();
    // Over the limit: refused with the count, as an array and as NDJSON.
    let (st, r) = post_json(srv.addr, &Value::Array(flows(301)));
    assert_eq!((st, r["error"]["code"].as_str()), (413, Some("too_many_flows")), "{r}");
    assert!(r["error"]["message"].as_str().unwrap().starts_with("301 flows exceed the batch limit of 300"), "{r}");
    let lines: String = flows(302).iter().map(|f| format!("{f}\n")).collect();
    let (st, b) = request(srv.addr, "POST", "/v1/score", Some("application/x-ndjson"), lines.as_bytes());
    assert_eq!(st, 413, "{b}");
    assert!(b.contains("302 flows exceed"), "{b}");
    // At the limit, a body of more than 64 KiB (scored off the async workers) answers as the library.
    let body = Value::Array(flows(300)).to_string();
    assert!(body.len() > 64 << 10);
    let (st, b) = request(srv.addr, "POST", "/v1/score", Some("application/json"), body.as_bytes());
    assert_eq!(st, 200);
    let answers: Vec<Value> = serde_json::from_str(&b).unwrap();
    let expected = det.score(&t.take_rows(&(0..300).collect::<Vec<_>>())).unwrap();
    for (a, e) in answers.iter().zip(&expected) {
        assert_eq!(a["outlier_score"].as_f64(), e.outlier_score);
    }
    // A broken chunked body is the client's error (400), not an oversized one (413).
    let mut s = TcpStream::connect(srv.addr).unwrap();
    let head = "POST /v1/score HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(b"5\r\n[{\"du\r\nzz-not-a-size\r\n\r\n").unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("bad_body"), "{resp}");
}

#[test]
fn with_a_key_only_models_it_signed_are_served_or_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let (path, detector, _) = model_file(dir.path());
    let key = outflow::ModelKey::new(b"sixteen bytes at the very least".to_vec()).unwrap();
    // The unsigned model is refused at start.
    let err = AppState::open_verified(&path, Some(key.clone())).unwrap_err().to_string();
    assert!(err.contains("not signed"), "{err}");
    // Signed, it is served; a reload of an unsigned file keeps the signed model.
    detector.save_signed(&path, true, Some(&key)).unwrap();
    let state = AppState::open_verified(&path, Some(key.clone())).unwrap();
    detector.save(&path, true).unwrap();
    let err = state.reload().unwrap_err().to_string();
    assert!(err.contains("not signed"), "{err}");
    assert_eq!(state.current().generation, 1);
    // Signed with another key: refused too; with the right one: swapped in.
    let other = outflow::ModelKey::new(b"another sixteen bytes or more".to_vec()).unwrap();
    detector.save_signed(&path, true, Some(&other)).unwrap();
    assert!(state.reload().unwrap_err().to_string().contains("another key"));
    detector.save_signed(&path, true, Some(&key)).unwrap();
    assert_eq!(state.reload().unwrap().generation, 2);
}

/// One server for the property test: its model, the table it was fitted on, and the directory that
/// holds the model file.
fn shared() -> &'static (Server, Detector, Table, tempfile::TempDir) {
    static SHARED: std::sync::OnceLock<(Server, Detector, Table, tempfile::TempDir)> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (path, det, t) = model_file(dir.path());
        (start(&path, Limits::default()), det, t, dir)
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, .. Default::default() })]

    /// Any flow with any numeric values of its fields' types is answered exactly as the library scores
    /// it (values too large to square included: unscored with the reason), never with a server error.
    #[test]
    fn any_numeric_flow_is_answered_like_the_library(
        row in 0usize..5663,
        edits in proptest::collection::vec((0usize..64, 0u64..u64::MAX, -300i32..300), 0..6),
    ) {
        use outflow::io::Column;
        let (srv, det, t) = { let s = shared(); (&s.0, &s.1, &s.2) };
        let mut one = t.take_rows(&[row]);
        let mut body = flow(t, row);
        for (col, bits, exp) in edits {
            let c = &t.columns()[col % t.n_cols()];
            let name = c.name().to_owned();
            let column = match c.value(row) {
                Cell::Int(_) => {
                    let v = (bits % 4_000_000_000) as i64;
                    body.insert(name.clone(), json!(v));
                    Column::from_i64_opt(&name, [Some(v)])
                }
                Cell::Float(_) | Cell::Interval(_) => {
                    let v = (bits % 1000) as f64 / 100.0 * 10f64.powi(exp);
                    body.insert(name.clone(), json!(v));
                    Column::from_f64(&name, vec![v])
                }
                _ => continue,
            };
            one.set_column(column).unwrap();
        }
        let expected = &det.score(&one).unwrap()[0];
        let (st, r) = post_json(srv.addr, &Value::Object(body));
        proptest::prop_assert_eq!(st, 200, "{}", r);
        proptest::prop_assert_eq!(r["severity"].as_str(), Some(expected.severity.name()), "{}", r);
        proptest::prop_assert_eq!(&r["cluster"], &json!(expected.cluster));
        if let Some(s) = expected.outlier_score {
            proptest::prop_assert!((r["outlier_score"].as_f64().unwrap() - s).abs() < 1e-12, "{}", r);
        }
    }
}
