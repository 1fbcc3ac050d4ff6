//! The secrets page: names and dates of the secrets flows use, and a form to set or rotate
//! one. Values go in and never come out, as with `/api/secrets`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use serde::Deserialize;

use super::format::datetime;
use super::{Layout, PageError, Session, html_response, render, see_other};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "secrets.html")]
struct SecretsPage {
    layout: Layout,
    /// Name, created, updated.
    secrets: Vec<(String, String, String)>,
    error: Option<String>,
}

async fn page(state: &AppState, session: &Session, error: Option<String>) -> Result<SecretsPage, PageError> {
    let secrets = state
        .store()
        .secrets()
        .await
        .map_err(crate::web::ApiError::from)?
        .into_iter()
        .map(|s| (s.name, datetime(s.created_at), datetime(s.updated_at)))
        .collect();
    Ok(SecretsPage { layout: Layout::new("Secrets", "secrets", "/api/secrets", session), secrets, error })
}

/// `GET /ui/secrets`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    Ok(render(&page(&state, &session, None).await?))
}

/// The form: a name and a value.
#[derive(Deserialize)]
pub(crate) struct SecretForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

impl std::fmt::Debug for SecretForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretForm").field("name", &self.name).finish_non_exhaustive()
    }
}

/// `POST /ui/secrets`: sets or rotates a secret (the guard has checked CSRF and unlock).
pub(crate) async fn set(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(form): Form<SecretForm>,
) -> Result<Response, PageError> {
    match crate::web::secrets::set_secret(&state, form.name.trim(), &form.value).await {
        Ok(()) => Ok(see_other("/ui/secrets")),
        Err(e) => {
            let status = if e.status.is_client_error() { StatusCode::UNPROCESSABLE_ENTITY } else { e.status };
            Ok(html_response(status, &page(&state, &session, Some(e.message)).await?))
        }
    }
}
