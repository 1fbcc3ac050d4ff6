//! Request bodies: read within the size limit, then parsed as JSON or YAML by
//! `Content-Type`, every failure a JSON error.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;

use super::error::ApiError;
use crate::flowfile::Format;

/// A request body with its format, read under the router's body limit.
#[derive(Debug)]
pub struct Document {
    /// JSON or YAML, from `Content-Type`.
    pub format: Format,
    /// The raw bytes.
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Document {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let format = content_type.as_deref().and_then(Format::from_content_type).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "send the body as Content-Type: application/json or application/yaml (got {})",
                    content_type.as_deref().unwrap_or("none")
                ),
            )
        })?;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, "too_large", "the body is larger than the limit (256 KiB)")
            } else {
                ApiError::new(status, "bad_body", format!("cannot read the body: {}", rejection.body_text()))
            }
        })?;
        Ok(Self { format, bytes })
    }
}
