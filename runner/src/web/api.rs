//! The JSON API: one endpoint per dashboard page, and the same writes.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/api/sites` | sites with flow counts and latest run |
//! | POST | `/api/sites` | create a site (with `flows`), JSON or YAML |
//! | GET, PUT, DELETE | `/api/sites/{id}` | one site with flows and recent runs; replace; delete |
//! | POST | `/api/sites/{id}/run` | run now (202) |
//! | GET | `/api/sites/{id}/flows` | the site's flows |
//! | POST | `/api/sites/{id}/flows/import` | import flows, YAML or JSON by `Content-Type` |
//! | GET | `/api/flows/{id}/export?format=yaml\|json` | a flow as a file |
//! | GET | `/api/runs?site=&outcome=&page=` | runs, newest first, 50 a page |
//! | GET | `/api/runs/{id}` | a run with its jobs |
//! | GET | `/api/jobs/{id}/screenshot` | a failed webdriver job's PNG |
//! | GET | `/api/drivers`, `/api/drivers/{name}` | drivers: capacity, use, health, totals |
//! | GET | `/api/summary` | totals, success rate, p50/p95, recent runs, durations |

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::actions;
use super::body::Document;
use super::error::ApiError;
use super::queries::{self, RunsQuery};
use super::state::AppState;
use crate::flowfile::Format;

/// An id from the path, or a 400 naming what it should have been.
fn id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::bad_request(format!("`{raw}` is not a {what} id (a number)")))
}

async fn list_sites(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(queries::sites(&state).await?).into_response())
}

async fn create_site(State(state): State<AppState>, doc: Document) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, Json(actions::create_site(&state, &doc).await?)).into_response())
}

async fn get_site(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(queries::site(&state, id(&raw, "site")?).await?).into_response())
}

async fn put_site(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    doc: Document,
) -> Result<Response, ApiError> {
    Ok(Json(actions::update_site(&state, id(&raw, "site")?, &doc).await?).into_response())
}

async fn delete_site(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    actions::delete_site(&state, id(&raw, "site")?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn run_site(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    Ok((StatusCode::ACCEPTED, Json(actions::run_site(&state, id(&raw, "site")?).await?)).into_response())
}

async fn site_flows(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(queries::flows(&state, id(&raw, "site")?).await?).into_response())
}

async fn import_flows(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    doc: Document,
) -> Result<Response, ApiError> {
    let force = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "force" && matches!(&*v, "true" | "1" | "yes"));
    Ok(Json(actions::import_flows(&state, id(&raw, "site")?, &doc, force).await?).into_response())
}

async fn export_flow(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let name = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "yaml".to_owned());
    let format = Format::from_name(&name)
        .ok_or_else(|| ApiError::bad_request(format!("format `{name}` is not yaml or json")))?;
    let exported = actions::export_flow(&state, id(&raw, "flow")?, format).await?;
    let disposition = format!("attachment; filename=\"{}\"", exported.filename);
    let mut resp = exported.text.into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

async fn list_runs(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    Ok(Json(queries::runs(&state, &RunsQuery::parse(query.as_deref())).await?).into_response())
}

async fn get_run(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(queries::run(&state, id(&raw, "run")?).await?).into_response())
}

async fn job_screenshot(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let job = id(&raw, "job")?;
    match state.store().screenshot(job).await? {
        Some(png) => Ok(([(CONTENT_TYPE, HeaderValue::from_static("image/png"))], png).into_response()),
        None => Err(ApiError::not_found(format!("job {job} has no screenshot"))),
    }
}

async fn list_drivers(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(queries::drivers(&state).await?).into_response())
}

async fn get_driver(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(queries::driver(&state, &name).await?).into_response())
}

async fn summary(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(queries::summary(&state).await?).into_response())
}

async fn unknown_api() -> ApiError {
    ApiError::not_found("no such API endpoint; see the table in runner/README.md")
}

/// The `/api` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sites", get(list_sites).post(create_site))
        .route("/api/sites/{id}", get(get_site).put(put_site).delete(delete_site))
        .route("/api/sites/{id}/run", post(run_site))
        .route("/api/sites/{id}/flows", get(site_flows))
        .route("/api/sites/{id}/flows/import", post(import_flows))
        .route("/api/flows/{id}/export", get(export_flow))
        .route("/api/runs", get(list_runs))
        .route("/api/runs/{id}", get(get_run))
        .route("/api/jobs/{id}/screenshot", get(job_screenshot))
        .route("/api/drivers", get(list_drivers))
        .route("/api/drivers/{name}", get(get_driver))
        .route("/api/summary", get(summary))
        .route("/api/{*rest}", axum::routing::any(unknown_api))
}
