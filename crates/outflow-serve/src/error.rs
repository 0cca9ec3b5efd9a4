//! JSON errors with the right status: `{"error": {"status", "code", "message", "field"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use outflow::cluster::ClusterError;
use outflow::outlier::OutlierError;
use outflow::{InputError, OutflowError};
use serde::Serialize;

/// What is wrong with a posted flow; each has its own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowProblem {
    /// A field the model needs is absent or null (`missing_feature`).
    MissingFeature,
    /// A field has a value of another type (`wrong_type`).
    WrongType,
    /// A number is NaN or infinite, or becomes so in the model (`non_finite`).
    NonFinite,
    /// The flow cannot be scored for another reason (`bad_flow`).
    BadFlow,
}

impl FlowProblem {
    /// The error code in the answer.
    pub fn code(self) -> &'static str {
        match self {
            FlowProblem::MissingFeature => "missing_feature",
            FlowProblem::WrongType => "wrong_type",
            FlowProblem::NonFinite => "non_finite",
            FlowProblem::BadFlow => "bad_flow",
        }
    }
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code (`bad_json`, `missing_feature`, ...).
    pub code: &'static str,
    /// What is wrong, naming the field when there is one.
    pub message: String,
    /// The offending field.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), field: None }
    }

    /// A flow the model cannot score (422), naming the field.
    pub(crate) fn unprocessable(kind: FlowProblem, message: impl Into<String>, field: &str) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: kind.code(),
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// The answer to a scoring error of the facade: bad flows are the client's (422, with the field when
    /// there is one); anything else is the server's (500).
    pub(crate) fn from_scoring(e: &OutflowError) -> Self {
        use outflow::prep::PrepError;
        let flow = |kind: FlowProblem, field: Option<&str>| ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: kind.code(),
            message: e.to_string(),
            field: field.map(str::to_owned),
        };
        let non_finite = match e {
            OutflowError::Prep(PrepError::Input(InputError::NonFinite { .. }))
            | OutflowError::Cluster(ClusterError::Input(InputError::NonFinite { .. })) => true,
            OutflowError::Signal { source, .. } => {
                matches!(**source, OutlierError::Input(InputError::NonFinite { .. }))
            }
            _ => false,
        };
        match e {
            _ if non_finite => flow(FlowProblem::NonFinite, None),
            OutflowError::Prep(PrepError::MissingColumn { name }) => flow(FlowProblem::MissingFeature, Some(name)),
            OutflowError::Prep(PrepError::WrongType { name, .. }) => flow(FlowProblem::WrongType, Some(name)),
            OutflowError::Prep(_) | OutflowError::Input(_) => flow(FlowProblem::BadFlow, None),
            other => Self::internal(other.to_string()),
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                status: self.status.as_u16(),
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}
