//! Errors of the dashboard: an HTML page that says what went wrong and where to go next,
//! with the status the JSON API would give.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Layout, html_response};
use crate::domain::Violation;
use crate::web::ApiError;

/// A failed page request.
#[derive(Debug, Clone)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
    details: Vec<Violation>,
}

impl PageError {
    /// An error with this status and sentence.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), details: Vec::new() }
    }

    /// 404.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self { status: e.status, message: e.message, details: e.details }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    reason: &'a str,
    message: &'a str,
    details: &'a [Violation],
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage {
            layout: Layout::bare(format!("{} {reason}", self.status.as_u16())),
            status: self.status.as_u16(),
            reason,
            message: &self.message,
            details: &self.details,
        };
        html_response(self.status, &page)
    }
}
