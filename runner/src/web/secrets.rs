//! The secrets and variables API. A secret's value goes in and never comes out: reads list
//! names and dates only.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/api/secrets` | names, `created_at`, `updated_at` |
//! | PUT, DELETE | `/api/secrets/{name}` | set or rotate (`{"value": "..."}`); delete |
//! | GET | `/api/vars` | variables with their values |
//! | PUT, DELETE | `/api/vars/{name}` | set (`{"value": "..."}`); delete |

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::error::ApiError;
use super::state::AppState;
use crate::now_ms;
use crate::secrets::valid_name;

/// The body of a PUT: the value to set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Value {
    value: String,
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Value(***)")
    }
}

/// Largest value of a secret or variable, in bytes.
const MAX_VALUE: usize = 16 * 1024;

fn checked_name(name: &str) -> Result<(), ApiError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{name}` is not a valid name: use 1 to 64 letters, digits, `_` or `-`"
        )))
    }
}

fn checked_value(
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<String, ApiError> {
    // The rejection's own text may quote the body, so it is not passed on.
    let Json(Value { value }) =
        body.map_err(|_| ApiError::bad_request("the body must be JSON `{\"value\": \"...\"}`"))?;
    if value.len() > MAX_VALUE {
        return Err(ApiError::bad_request(format!("the value is longer than {MAX_VALUE} bytes")));
    }
    Ok(value)
}

/// Seals and stores a secret: shared by the API and the dashboard.
pub(crate) async fn set_secret(state: &AppState, name: &str, value: &str) -> Result<(), ApiError> {
    checked_name(name)?;
    let key = state.secret_key().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_secret_key", "this runner has no secret key")
    })?;
    let sealed = key.seal(name, value).map_err(|e| {
        tracing::error!(error = %e, "cannot seal a secret");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the secret could not be encrypted")
    })?;
    state.store().set_secret(name, &sealed, now_ms()).await?;
    tracing::info!(secret = name, "secret set");
    Ok(())
}

async fn list_secrets(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(state.store().secrets().await?).into_response())
}

async fn put_secret(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let value = checked_value(body)?;
    set_secret(&state, &name, &value).await?;
    let info = state.store().secrets().await?.into_iter().find(|s| s.name == name);
    Ok(Json(info).into_response())
}

async fn delete_secret(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state.store().delete_secret(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_vars(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(state.store().vars().await?).into_response())
}

async fn put_var(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    checked_name(&name)?;
    let value = checked_value(body)?;
    state.store().set_var(&name, &value, now_ms()).await?;
    let var = state.store().vars().await?.into_iter().find(|v| v.name == name);
    Ok(Json(var).into_response())
}

async fn delete_var(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response, ApiError> {
    state.store().delete_var(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The `/api/secrets` and `/api/vars` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/secrets", get(list_secrets))
        .route("/api/secrets/{name}", put(put_secret).delete(delete_secret))
        .route("/api/vars", get(list_vars))
        .route("/api/vars/{name}", put(put_var).delete(delete_var))
}
