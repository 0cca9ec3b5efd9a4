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

use crate::convert::{ignored_fields, to_table};
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
    /// Fields that are no column of the model's training log (a misspelt name shows here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_fields: Vec<String>,
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

/// The flows of a request body (a flow object, an array of flows, or NDJSON). A batch over `max` flows
/// is refused before its flows are built: NDJSON lines are counted first, array items past the limit are
/// skipped unparsed.
fn parse(bytes: &[u8], ndjson: bool, max: usize) -> Result<(Vec<Map<String, Value>>, Shape), ApiError> {
    let not_object = |i: usize, v: &Value| {
        ApiError::bad_request("bad_flow", format!("flow {i} must be a JSON object keyed by feature name, got {v}"))
    };
    let lines = || bytes.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.trim_ascii().is_empty());
    if ndjson {
        let n = lines().count();
        if n > max {
            return Err(too_many(n, max));
        }
        let mut flows = Vec::with_capacity(n);
        for (i, line) in lines() {
            match serde_json::from_slice::<Value>(line).map_err(|e| bad_json(&e, Some(i + 1)))? {
                Value::Object(m) => flows.push(m),
                v => return Err(not_object(flows.len(), &v)),
            }
        }
        return Ok((flows, Shape::Ndjson));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = serde::de::DeserializeSeed::deserialize(Batch { max }, &mut de).map_err(|e| bad_json(&e, None))?;
    de.end().map_err(|e| bad_json(&e, None))?;
    match body {
        Parsed::One(m) => Ok((vec![m], Shape::One)),
        Parsed::Many(items) => {
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
        Parsed::TooMany(n) => Err(too_many(n, max)),
        Parsed::Other(v) => {
            Err(ApiError::bad_request("bad_flow", format!("expected a flow object or an array of flows, got {v}")))
        }
    }
}

fn too_many(n: usize, max: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_many_flows", format!("{n} flows exceed the batch limit of {max}"))
}

/// A JSON request body, read with at most `max` array items kept.
enum Parsed {
    One(Map<String, Value>),
    Many(Vec<Value>),
    /// An array of this many items, over the limit.
    TooMany(usize),
    Other(Value),
}

struct Batch {
    max: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Batch {
    type Value = Parsed;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Batch {
    type Value = Parsed;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a flow object or an array of flows")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Parsed, A::Error> {
        use serde::Deserialize;
        Map::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Parsed::One)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            if items.len() == self.max {
                let mut n = items.len() + 1;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                return Ok(Parsed::TooMany(n));
            }
            items.push(v);
        }
        Ok(Parsed::Many(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Parsed, E> {
        Ok(Parsed::Other(v.into()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Parsed, E> {
        Ok(Parsed::Other(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Parsed, E> {
        Ok(Parsed::Other(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Parsed, E> {
        Ok(Parsed::Other(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Parsed, E> {
        Ok(Parsed::Other(v.into()))
    }

    fn visit_unit<E>(self) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::Null))
    }
}

fn score_flows(state: &AppState, flows: &[Map<String, Value>]) -> Result<Vec<FlowResult>, ApiError> {
    let model = state.current();
    let refs: Vec<&Map<String, Value>> = flows.iter().collect();
    let table = to_table(&refs, &model.specs)?;
    let scores = model.detector.score(&table).map_err(|e| ApiError::from_scoring(&e))?;
    Ok(scores
        .into_iter()
        .zip(flows)
        .map(|(s, flow)| FlowResult {
            anomaly: s.severity.is_anomaly(),
            cluster: s.cluster,
            probability: s.probability,
            outlier_score: s.outlier_score,
            severity: s.severity.name(),
            reason: s.reason,
            ignored_fields: ignored_fields(flow, model.detector.input_schema()),
        })
        .collect())
}

/// Bodies up to this size are parsed and scored on the async worker; larger ones on a blocking thread,
/// so that a big batch never stalls the other requests (`/healthz` included).
const INLINE_BYTES: usize = 64 << 10;

async fn score(State(ctx): State<Ctx>, headers: HeaderMap, body: Body) -> Response {
    let limits = ctx.limits;
    let work = async move {
        let ndjson = media_type(&headers)?;
        let bytes: Bytes = axum::body::to_bytes(body, limits.body_bytes).await.map_err(|e| {
            if is_length_limit(&e) {
                let why = format!("the body exceeds {} bytes", limits.body_bytes);
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", why)
            } else {
                ApiError::bad_request("bad_body", format!("the request body could not be read: {e}"))
            }
        })?;
        let inline = bytes.len() <= INLINE_BYTES;
        let state = Arc::clone(&ctx.state);
        let run = move || -> Result<(Vec<FlowResult>, Shape), ApiError> {
            let (flows, shape) = parse(&bytes, ndjson, limits.max_batch)?;
            if flows.is_empty() {
                return Err(ApiError::bad_request("no_flows", "the request holds no flow"));
            }
            Ok((score_flows(&state, &flows)?, shape))
        };
        let (results, shape) = if inline {
            run()?
        } else {
            tokio::task::spawn_blocking(run).await.map_err(|_| ApiError::internal("scoring failed"))??
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

/// Whether reading a body failed on its length limit (rather than on a broken body, e.g. a malformed
/// chunk, which is the client's 400).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

async fn model_info(State(ctx): State<Ctx>) -> Response {
    let m = ctx.state.current();
    axum::Json(serde_json::json!({
        "path": ctx.state.location().to_string(),
        "generation": m.generation,
        "version": &m.version,
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
