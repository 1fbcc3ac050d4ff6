//! API errors: every failure answers JSON `{"error": ..., "code": ..., "details": [...]}`
//! with a 4xx status that says whose fault it is, or 500 (logged) for the runner's own.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{ValidationError, Violation};
use crate::flowfile::FlowFileError;
use crate::service::RunError;
use crate::store::StoreError;

/// An API error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code: `not_found`, `validation_failed`, ...
    pub code: &'static str,
    /// A sentence saying what went wrong and how to fix it.
    pub message: String,
    /// Per-field problems, for `validation_failed`.
    pub details: Vec<Violation>,
    /// The run in the way, for `run_unfinished`.
    pub run_id: Option<i64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [Violation],
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<i64>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new(), run_id: None }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            Body { error: &self.message, code: self.code, details: &self.details, run_id: self.run_id };
        (self.status, Json(body)).into_response()
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            message: e.to_string(),
            details: e.violations,
            run_id: None,
        }
    }
}

impl From<FlowFileError> for ApiError {
    fn from(e: FlowFileError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_document", e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::not_found(e.to_string()),
            StoreError::DuplicateSite(_) => Self::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            e => {
                // The log has the cause; the answer does not show store internals (queries,
                // paths, driver messages) to the client.
                tracing::error!(error = %e, "store failure in a request");
                Self::internal("the store failed; the runner's log has the cause")
            }
        }
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::NoFlows { .. } => Self::new(StatusCode::CONFLICT, "no_flows", e.to_string()),
            RunError::Store(inner) => inner.into(),
            RunError::Unfinished { run_id, .. } => Self {
                run_id: Some(run_id),
                ..Self::new(StatusCode::CONFLICT, "run_unfinished", e.to_string())
            },
            e => {
                tracing::error!(error = %e, "run not started");
                Self::internal(e.to_string())
            }
        }
    }
}
