//! The HTML dashboard: server-rendered pages under `/ui`, each the view of one JSON endpoint,
//! reading through [`super::queries`] and writing through [`super::actions`] as the API does,
//! so both always agree.
//!
//! | method | path | page | JSON twin |
//! |---|---|---|---|
//! | GET | `/ui` | Home: totals, success rate, p50/p95, durations chart, recent runs | `/api/summary` |
//! | GET | `/ui/sites` | Sites | `/api/sites` |
//! | GET | `/ui/sites/{id}` | Site: flows, runs chart, run now, import, delete | `/api/sites/{id}` |
//! | GET, POST | `/ui/sites/{id}/edit` | edit a site | `PUT /api/sites/{id}` |
//! | POST | `/ui/sites/{id}/run`, `/delete`, `/import` | run now, delete, import flows | `/api/sites/{id}/...` |
//! | GET | `/ui/runs?site=&outcome=&page=` | Runs, filtered, 50 a page | `/api/runs` |
//! | GET | `/ui/runs/{id}` | Run: jobs, failing step, error, screenshot | `/api/runs/{id}` |
//! | GET | `/ui/drivers`, `/ui/drivers/{name}` | Drivers; Driver: capacity, sessions, recent jobs | `/api/drivers/...` |
//! | GET, POST | `/ui/add`; POST `/ui/add/document` | add a site (fields, or a site file) | `POST /api/sites` |
//! | GET, POST | `/ui/unlock` | enter the write token (runners with one) | |
//!
//! Templates are askama's (`runner/templates/*.html`): compiled with the crate, so a typo in
//! a template or a field it names fails the build, and every `{{ }}` is HTML-escaped (names,
//! URLs and reasons are stored as submitted, markup included). Charts are SVG computed in
//! `chart.rs` and drawn by a template macro. Pages send a strict Content-Security-Policy (no
//! inline script or style): markup that slipped through escaping still could not run.
//!
//! Every form post passes the guard of `csrf.rs` (CSRF token, and the write token when the runner
//! has one) before its handler runs, besides the API's access guard.

mod chart;
mod csrf;
mod drivers;
mod error;
mod format;
mod forms;
mod home;
mod runs;
mod secrets;
mod sites;
mod views;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub(crate) use csrf::Session;
pub(crate) use error::PageError;

use super::auth::Access;
use super::state::AppState;

/// What the page frame shows: title, the current section, the form token, write access.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The page's title.
    pub(crate) title: String,
    /// The nav entry to mark: `home`, `sites`, `runs`, `drivers`, `add` or empty.
    pub(crate) active: &'static str,
    /// The JSON endpoint this page mirrors, linked from the header.
    pub(crate) api: String,
    /// The CSRF token forms carry.
    pub(crate) csrf: String,
    /// Whether this visitor may write (else forms are replaced by an unlock link).
    pub(crate) may_write: bool,
    /// Whether the runner has a write token.
    pub(crate) token_required: bool,
    /// The runner's version.
    pub(crate) version: &'static str,
}

impl Layout {
    /// The frame of a page for this session.
    pub(crate) fn new(
        title: impl Into<String>,
        active: &'static str,
        api: impl Into<String>,
        session: &Session,
    ) -> Self {
        Self {
            title: title.into(),
            active,
            api: api.into(),
            csrf: session.csrf.clone(),
            may_write: session.may_write,
            token_required: session.token_required,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The frame of an error page (no forms).
    pub(crate) fn bare(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            active: "",
            api: String::new(),
            csrf: String::new(),
            may_write: false,
            token_required: false,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Renders a template as an HTML answer with `status`.
pub(crate) fn html_response(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(text) => (status, Html(text)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; see the runner's log")
                .into_response()
        }
    }
}

/// Renders a template as a 200 HTML answer.
pub(crate) fn render(page: &impl Template) -> Response {
    html_response(StatusCode::OK, page)
}

/// A redirect after a successful post (303: the browser follows with a GET).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// An id from the path, or a 400 page naming what it should have been.
pub(crate) fn id(raw: &str, what: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| {
        PageError::new(StatusCode::BAD_REQUEST, format!("`{raw}` is not a {what} id (a number)"))
    })
}

const STYLE: &str = include_str!("../../../templates/assets/style.css");
const SCRIPT: &str = include_str!("../../../templates/assets/app.js");

async fn style() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=300")], STYLE).into_response()
}

async fn script() -> Response {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "max-age=300")], SCRIPT)
        .into_response()
}

async fn unknown_page() -> PageError {
    PageError::not_found("no such dashboard page; start at /ui")
}

/// Content-Security-Policy of every page: scripts and styles only from the runner's own
/// files, no inline script, no framing, forms post only here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The dashboard's routes, under `/ui`. `access` gives the write token that form posts
/// need when the runner has one.
pub fn router(access: &Access) -> Router<AppState> {
    let keys = Arc::new(csrf::Keys::new(access));
    Router::new()
        .route("/ui", get(home::page))
        .route("/ui/", get(|| async { Redirect::permanent("/ui") }))
        .route("/ui/sites", get(sites::list))
        .route("/ui/sites/{id}", get(sites::page))
        .route("/ui/sites/{id}/run", post(sites::run_now))
        .route("/ui/sites/{id}/delete", post(sites::delete))
        .route("/ui/sites/{id}/import", post(forms::import_flows))
        .route("/ui/sites/{id}/edit", get(forms::edit_page).post(forms::edit))
        .route("/ui/runs", get(runs::list))
        .route("/ui/runs/{id}", get(runs::page))
        .route("/ui/jobs/{id}/screenshot", get(runs::screenshot))
        .route("/ui/drivers", get(drivers::list))
        .route("/ui/drivers/{name}", get(drivers::page))
        .route("/ui/add", get(forms::add_page).post(forms::add))
        .route("/ui/add/document", post(forms::add_document))
        .route("/ui/unlock", get(forms::unlock_page).post(forms::unlock))
        .route("/ui/secrets", get(secrets::list).post(secrets::set))
        .route("/ui/assets/style.css", get(style))
        .route("/ui/assets/app.js", get(script))
        .route("/ui/{*rest}", get(unknown_page))
        .layer(middleware::from_fn_with_state(keys, csrf::guard))
        .layer(middleware::from_fn(security_headers))
}
