//! # outflow-serve
//!
//! The HTTP scoring service behind `outflow serve MODEL`: a fitted Outflow model scores flows posted
//! as one JSON object, a JSON array, or NDJSON, and answers per flow
//! `{anomaly, cluster, probability, outlier_score, severity}`.
//!
//! - `POST /v1/score`, `GET /v1/model`, `POST /v1/model/reload`, `GET /healthz`, `GET /openapi.json`,
//!   `GET /docs`.
//! - Errors are JSON with the right status and name the field: 400 malformed JSON, 408 timeout, 413 body
//!   too large, 415 content type, 422 missing feature / wrong type / non-finite number. Panics are
//!   caught (500); fields the model does not use are ignored, so a log shipper can post whole records.
//! - Reload without downtime (`POST /v1/model/reload` or SIGHUP): the new file is loaded and checked
//!   first and swapped in atomically; requests in flight finish on the model they started with; a bad
//!   file is refused and the old model stays. SIGTERM / SIGINT shut down gracefully.
//! - The model may be an object (`s3://bucket/models/current.json`, with outflow's `object-store`
//!   feature): [`watch_model`] checks its ETag at an interval and reloads it when a training job
//!   publishes a new one.
//!
//! ```no_run
//! use outflow_serve::{AppState, Limits, run};
//! let state = AppState::open("outflow-model.json").unwrap();
//! let watch = Some(std::time::Duration::from_secs(30));
//! run("127.0.0.1:8080".parse().unwrap(), state, Limits::default(), 2, watch).unwrap();
//! ```
//!
//! Built on axum (tokio, hyper); the model is swapped with `arc-swap`, so scoring takes no lock.

#![warn(missing_docs)]

mod convert;
mod error;
mod http;
mod openapi;
mod server;
mod state;

pub use crate::error::{ApiError, FlowProblem};
pub use crate::http::{Limits, router};
pub use crate::openapi::{DOCS_HTML, openapi_json};
pub use crate::server::{run, serve_on, watch_model};
pub use crate::state::{AppState, Loaded, load};
