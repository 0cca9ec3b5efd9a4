//! Score flows through the HTTP service without opening a socket: fit and save a model, load it into
//! the service state, and send `GET /healthz` and `POST /v1/score` to the axum router in-process.
//!
//! `cargo run -p outflow-serve --example score_in_process`

use std::error::Error;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, header};
use outflow::{Detector, DetectorParams, ReadOptions, read_table};
use outflow_serve::{AppState, Limits, router};
use tower::ServiceExt;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/ctu-mixed-008.conn.log.labeled");

/// Two Zeek conn records as a log shipper posts them: a short TLS session, then a long upload of
/// 80 MB. Fields the model does not use (`uid`, `proto`, ...) are ignored by the service.
const FLOWS: &str = r#"[
  {"uid": "C1", "proto": "tcp", "service": "ssl", "duration": 1.135, "orig_bytes": 1596, "resp_bytes": 4039,
   "local_orig": true, "local_resp": false, "missed_bytes": 0, "orig_pkts": 14, "orig_ip_bytes": 1016,
   "resp_pkts": 16, "resp_ip_bytes": 1226},
  {"uid": "C2", "proto": "tcp", "service": null, "duration": 3600.0, "orig_bytes": 80000000, "resp_bytes": 12,
   "local_orig": true, "local_resp": false, "missed_bytes": 0, "orig_pkts": 55000, "orig_ip_bytes": 82200000,
   "resp_pkts": 2, "resp_ip_bytes": 92}
]"#;

fn main() -> Result<(), Box<dyn Error>> {
    // The service loads a model file, as `outflow serve MODEL` does: fit one and save it first.
    let table = read_table(SAMPLE, &ReadOptions::default())?;
    let fit = DetectorParams::default().fit(&table)?;
    let dir = std::env::temp_dir().join(format!("outflow-serve-example-{}", std::process::id()));
    std::fs::create_dir(&dir)?; // fails rather than reuse an existing directory
    let outcome = serve(&dir, &fit.detector);
    std::fs::remove_dir_all(&dir)?;
    outcome
}

fn serve(dir: &Path, detector: &Detector) -> Result<(), Box<dyn Error>> {
    let model = dir.join(outflow::default_model_name());
    detector.save(&model, false)?;
    let state = AppState::open(&model)?;
    println!("model {} needs: {}", model.display(), state.current().detector.required_columns().join(", "));

    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
        let app = router(state, Limits::default());
        // `oneshot` consumes the service; the router is cheap to clone.
        let health = app.clone().oneshot(Request::get("/healthz").body(Body::empty())?).await?;
        println!("GET /healthz -> {}", health.status());

        let request =
            Request::post("/v1/score").header(header::CONTENT_TYPE, "application/json").body(Body::from(FLOWS))?;
        let response = app.oneshot(request).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        let answers: serde_json::Value = serde_json::from_slice(&body)?;
        println!("POST /v1/score -> {status}\n{}", serde_json::to_string_pretty(&answers)?);
        Ok(())
    })
}
