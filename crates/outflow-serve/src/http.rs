//! Routes and handlers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Map, Value};
use tower_http::catch_panic::CatchPanicLayer;

use crate::convert::to_table;
use crate::error::ApiError;
use crate::openapi::{DOCS_HTML, openapi_json};
use crate::state::AppState;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest request body, in bytes (413 above).
    pub body_bytes: usize,
    /// Longest a request may take, reading included (408 after).
    pub timeout: Duration,
    /// Most flows in one batch (413 above).
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { body_bytes: 16 << 20, timeout: Duration::from_secs(30), max_batch: 100_000 }
    }
}

#[derive(Clone)]
struct Ctx {
    state: Arc<AppState>,
    limits: Limits,
}

/// The service: `POST /v1/score`, `GET /v1/model`, `POST /v1/model/reload`, `GET /healthz`,
/// `GET /openapi.json`, `GET /docs`.
pub fn router(state: Arc<AppState>, limits: Limits) -> Router {
    Router::new()
        .route("/v1/score", post(score))
        .route("/v1/model", get(model_info))
        .route("/v1/model/reload", post(reload))
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], openapi_json()) }))
        .route("/docs", get(|| async { Html(DOCS_HTML) }))
        .route("/", get(|| async { Html(DOCS_HTML) }))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route; see /docs") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed; see /docs")
        })
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("the request could not be processed").into_response()))
        .with_state(Ctx { state, limits })
}

/// One flow's answer.
#[derive(Debug, Serialize)]
struct FlowResult {
    anomaly: bool,
    cluster: Option<i64>,
    probability: Option<f64>,
    outlier_score: Option<f64>,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

enum Shape {
    One,
    Array,
    Ndjson,
}

fn media_type(headers: &HeaderMap) -> Result<bool, ApiError> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else { return Ok(false) };
    let ct = ct.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match ct.as_str() {
        "" | "application/json" => Ok(false),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(true),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("content type '{other}' is not supported: send application/json or application/x-ndjson"),
        )),
    }
}

fn bad_json(e: &serde_json::Error, line: Option<usize>) -> ApiError {
    let at = match line {
        Some(l) => format!("line {l}"),
        None => format!("line {}, column {}", e.line(), e.column()),
    };
    ApiError::bad_request("bad_json", format!("invalid JSON at {at}: {e}"))
}

fn parse(bytes: &[u8], ndjson: bool) -> Result<(Vec<Map<String, Value>>, Shape), ApiError> {
    let not_object = |i: usize, v: &Value| {
        ApiError::bad_request("bad_flow", format!("flow {i} must be a JSON object keyed by feature name, got {v}"))
    };
    if ndjson {
        let mut flows = Vec::new();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.trim_ascii().is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(line).map_err(|e| bad_json(&e, Some(i + 1)))? {
                Value::Object(m) => flows.push(m),
                v => return Err(not_object(flows.len(), &v)),
            }
        }
        return Ok((flows, Shape::Ndjson));
    }
    match serde_json::from_slice::<Value>(bytes).map_err(|e| bad_json(&e, None))? {
        Value::Object(m) => Ok((vec![m], Shape::One)),
        Value::Array(items) => {
            let flows = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok(m),
                    v => Err(not_object(i, &v)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((flows, Shape::Array))
        }
        v => Err(ApiError::bad_request("bad_flow", format!("expected a flow object or an array of flows, got {v}"))),
    }
}

fn score_flows(state: &AppState, flows: &[Map<String, Value>]) -> Result<Vec<FlowResult>, ApiError> {
    let model = state.current();
    let refs: Vec<&Map<String, Value>> = flows.iter().collect();
    let table = to_table(&refs, &model.specs)?;
    let scores = model.detector.score(&table).map_err(|e| ApiError::from_scoring(&e))?;
    Ok(scores
        .into_iter()
        .map(|s| FlowResult {
            anomaly: s.severity.is_anomaly(),
            cluster: s.cluster,
            probability: s.probability,
            outlier_score: s.outlier_score,
            severity: s.severity.name(),
            reason: s.reason,
        })
        .collect())
}

async fn score(State(ctx): State<Ctx>, headers: HeaderMap, body: Body) -> Response {
    let limits = ctx.limits;
    let work = async move {
        let ndjson = media_type(&headers)?;
        let bytes: Bytes = axum::body::to_bytes(body, limits.body_bytes).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body exceeds {} bytes", limits.body_bytes),
            )
        })?;
        let (flows, shape) = parse(&bytes, ndjson)?;
        if flows.is_empty() {
            return Err(ApiError::bad_request("no_flows", "the request holds no flow"));
        }
        if flows.len() > limits.max_batch {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_many_flows",
                format!("{} flows exceed the batch limit of {}", flows.len(), limits.max_batch),
            ));
        }
        let results = if flows.len() <= 64 {
            score_flows(&ctx.state, &flows)?
        } else {
            let state = Arc::clone(&ctx.state);
            tokio::task::spawn_blocking(move || score_flows(&state, &flows))
                .await
                .map_err(|_| ApiError::internal("scoring failed"))??
        };
        Ok::<_, ApiError>(match shape {
            Shape::One => axum::Json(&results[0]).into_response(),
            Shape::Array => axum::Json(&results).into_response(),
            Shape::Ndjson => {
                let mut out = Vec::with_capacity(results.len() * 96);
                for r in &results {
                    serde_json::to_writer(&mut out, r).map_err(|e| ApiError::internal(e.to_string()))?;
                    out.push(b'\n');
                }
                ([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response()
            }
        })
    };
    match tokio::time::timeout(limits.timeout, work).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took too long").into_response(),
    }
}

async fn model_info(State(ctx): State<Ctx>) -> Response {
    let m = ctx.state.current();
    axum::Json(serde_json::json!({
        "path": ctx.state.path().display().to_string(),
        "generation": m.generation,
        "model": &m.header,
    }))
    .into_response()
}

async fn healthz(State(ctx): State<Ctx>) -> Response {
    let m = ctx.state.current();
    axum::Json(serde_json::json!({ "status": "ok", "generation": m.generation, "created": &m.header.created }))
        .into_response()
}

async fn reload(State(ctx): State<Ctx>) -> Response {
    let state = Arc::clone(&ctx.state);
    match tokio::task::spawn_blocking(move || state.reload()).await {
        Ok(Ok(m)) => axum::Json(serde_json::json!({
            "reloaded": true,
            "generation": m.generation,
            "created": &m.header.created,
        }))
        .into_response(),
        Ok(Err(e)) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload_failed",
            format!("the new model was refused, the previous one is still served: {e}"),
        )
        .into_response(),
        Err(_) => ApiError::internal("reload failed").into_response(),
    }
}
