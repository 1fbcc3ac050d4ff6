//! The HTTP surface: health at `/`, `/metrics`, the JSON API under `/api`, and the slot for
//! the dashboard pages; every route behind the access guard, the dashboard and API routes
//! measured by promkit-http's middleware.

pub mod actions;
pub mod api;
pub mod auth;
pub mod body;
pub mod error;
pub mod escape;
pub mod pages;
pub mod queries;
pub mod ratelimit;
pub mod secrets;
pub mod state;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use promkit::Registry;
use promkit_http::MetricsHandler;
use promkit_http::middleware::HttpMetrics;

pub use auth::Access;
pub use error::ApiError;
pub use state::AppState;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 256 * 1024;

/// `/`: the runner's health; 503 when it cannot take traffic.
async fn health(State(state): State<AppState>) -> Response {
    let view = queries::health(&state).await;
    let status = if view.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(view)).into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such page; try /, /metrics or /api/summary")
}

/// The whole HTTP surface. Registers the request metrics and the `/metrics` handler's own
/// metrics in `registry`.
///
/// # Errors
///
/// A registration error (a name taken in `registry`).
pub fn router(state: AppState, registry: &Registry, access: Access) -> Result<Router, promkit::Error> {
    let http_metrics = HttpMetrics::builder().exclude_path("/metrics").register(registry)?;
    let metrics = MetricsHandler::builder(registry).instrument(registry).build()?;
    Ok(Router::new()
        .route("/", get(health))
        .merge(api::router())
        .merge(secrets::router())
        .merge(pages::router(&access))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(http_metrics.all())
        .with_state(state)
        .route_service("/metrics", metrics)
        .layer(axum::middleware::from_fn_with_state(access, auth::guard)))
}
