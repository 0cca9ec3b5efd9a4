//! `POST /v1/score` of the service with any body, as JSON (first byte even) or NDJSON (odd), against a
//! model fitted on the shipped sample. Every answer must be a clean status: a 500 (a caught panic or an
//! internal error) is a finding, as is a panic, a hang or a runaway allocation.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use outflow::io::{Input, read_input};
use outflow::{DetectorParams, ReadOptions};
use outflow_serve::{AppState, Limits, router};
use tower::ServiceExt;

const SAMPLE: &[u8] = include_bytes!("../../examples/data/ctu-mixed-008.conn.log.labeled");

struct Fixture {
    runtime: tokio::runtime::Runtime,
    state: Arc<AppState>,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (t, _) = read_input(&Input::bytes("sample", SAMPLE.to_vec()), &ReadOptions::default()).unwrap();
        let t = t.take_rows(&(0..500).collect::<Vec<_>>());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        DetectorParams::default().fit(&t).unwrap().detector.save(&path, false).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Fixture { runtime, state: AppState::open(path).unwrap(), _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else { return };
    let f = fixture();
    let media = if kind % 2 == 0 { "application/json" } else { "application/x-ndjson" };
    let limits = Limits { body_bytes: 1 << 20, max_batch: 1000, ..Limits::default() };
    let request = Request::post("/v1/score").header("content-type", media).body(Body::from(body.to_vec())).unwrap();
    let response = f.runtime.block_on(router(Arc::clone(&f.state), limits).oneshot(request)).unwrap();
    assert_ne!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "a 500 for {} bytes of {media}", body.len());
});
