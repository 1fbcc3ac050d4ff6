//! The dashboard's write forms: add a site (by fields, or by pasting a site file), edit a
//! site, import flows into a site, and unlock writes with the write token. Each goes through
//! [`actions`] as the JSON API does; invalid input re-renders the form with every problem
//! listed by field, and what was typed kept.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::csrf::{ClientIp, Keys, UNLOCK_COOKIE};
use super::sites::{ImportForm, site_page};
use super::{Layout, PageError, Session, html_response, id, render, see_other};
use crate::domain::{SiteSpec, Violation};
use crate::flowfile::{self, Format};
use crate::web::body::Document;
use crate::web::state::AppState;
use crate::web::{ApiError, actions, queries};

/// JSON when the text starts like JSON, else YAML.
fn sniff(text: &str) -> Format {
    match text.trim_start().chars().next() {
        Some('{' | '[') => Format::Json,
        _ => Format::Yaml,
    }
}

fn document(text: &str) -> Document {
    Document { format: sniff(text), bytes: Bytes::from(text.as_bytes().to_vec()) }
}

/// An API error as form problems: its per-field details, else one line for the field it
/// concerns.
fn api_problems(e: ApiError, field: &str) -> (StatusCode, Vec<Violation>) {
    if e.details.is_empty() {
        let field = if e.status == StatusCode::CONFLICT && e.code == "conflict" { "name" } else { field };
        (e.status, vec![Violation { field: field.to_owned(), message: e.message }])
    } else {
        (e.status, e.details)
    }
}

/// The site form's fields, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SiteForm {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) base_url: String,
    #[serde(default)]
    pub(crate) interval_secs: String,
    /// A check box: present when ticked.
    #[serde(default)]
    pub(crate) enabled: Option<String>,
    #[serde(default)]
    pub(crate) flows: String,
}

/// The site form as shown: values and problems.
#[derive(Debug, Clone, Default)]
pub(crate) struct SiteFormView {
    pub(crate) name: String,
    pub(crate) base_url: String,
    pub(crate) interval_secs: String,
    pub(crate) enabled: bool,
    pub(crate) flows: String,
    pub(crate) errors: Vec<Violation>,
}

impl SiteFormView {
    fn from_form(form: &SiteForm, errors: Vec<Violation>) -> Self {
        Self {
            name: form.name.clone(),
            base_url: form.base_url.clone(),
            interval_secs: form.interval_secs.clone(),
            enabled: form.enabled.is_some(),
            flows: form.flows.clone(),
            errors,
        }
    }

    /// The problems of `field` (`flows` covers every `flows[..]` path), one per line.
    pub(crate) fn error(&self, field: &str) -> Option<String> {
        let lines: Vec<String> = self
            .errors
            .iter()
            .filter(|v| {
                v.field == field
                    || (v.field.starts_with(field) && v.field[field.len()..].starts_with(['[', '.']))
            })
            .map(|v| if v.field == field { v.message.clone() } else { format!("{}: {}", v.field, v.message) })
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// The spec the form describes, and what could not be read. Empty flows mean none on a new
/// site and "remove all" on an edited one (`flows_if_empty`).
fn spec_of(
    form: &SiteForm,
    flows_if_empty: Option<Vec<crate::domain::FlowSpec>>,
) -> (SiteSpec, Vec<Violation>) {
    let mut problems = Vec::new();
    let interval = form.interval_secs.trim();
    let interval_secs = if interval.is_empty() {
        None
    } else {
        match interval.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(Violation {
                    field: "interval_secs".into(),
                    message: format!(
                        "`{interval}` is not a whole number of seconds; leave it empty for manual runs only"
                    ),
                });
                None
            }
        }
    };
    let flows = if form.flows.trim().is_empty() {
        flows_if_empty
    } else {
        match flowfile::parse_flows(form.flows.as_bytes(), sniff(&form.flows)) {
            Ok(f) => Some(f),
            Err(e) => {
                problems.push(Violation { field: "flows".into(), message: e.to_string() });
                None
            }
        }
    };
    let spec = SiteSpec {
        name: form.name.clone(),
        base_url: form.base_url.trim().to_owned(),
        interval_secs,
        enabled: form.enabled.is_some(),
        flows,
    };
    (spec, problems)
}

/// Checks the spec (adding the rules it breaks to `problems`); `Ok` with its JSON when all
/// is well.
fn checked(
    state: &AppState,
    spec: &SiteSpec,
    mut problems: Vec<Violation>,
) -> Result<Document, Vec<Violation>> {
    let names = state.drivers().names();
    if let Err(e) = state.limits().check_site(spec, &names) {
        problems.extend(e.violations);
    }
    if !problems.is_empty() {
        // In the form's order, whichever check found them.
        let rank = |field: &str| {
            ["name", "base_url", "interval_secs", "flows"].iter().position(|f| field.starts_with(f))
        };
        problems.sort_by_key(|v| rank(&v.field).unwrap_or(usize::MAX));
        return Err(problems);
    }
    let json = serde_json::to_vec(spec).unwrap_or_default();
    Ok(Document { format: Format::Json, bytes: Bytes::from(json) })
}

#[derive(Template)]
#[template(path = "add.html")]
struct AddPage {
    layout: Layout,
    form: SiteFormView,
    document: String,
    document_errors: Vec<Violation>,
    drivers: String,
}

fn add_page_with(
    state: &AppState,
    session: &Session,
    form: SiteFormView,
    document: String,
    document_errors: Vec<Violation>,
    status: StatusCode,
) -> Response {
    let page = AddPage {
        layout: Layout::new("Add a site", "add", "/api/sites", session),
        form,
        document,
        document_errors,
        drivers: state.drivers().names().join(", "),
    };
    html_response(status, &page)
}

/// `GET /ui/add`.
pub(crate) async fn add_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    let form = SiteFormView { enabled: true, ..SiteFormView::default() };
    add_page_with(&state, &session, form, String::new(), Vec::new(), StatusCode::OK)
}

/// `POST /ui/add`: creates the site, then shows it.
pub(crate) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(form): Form<SiteForm>,
) -> Response {
    let (spec, found) = spec_of(&form, None);
    let result = match checked(&state, &spec, found) {
        Ok(doc) => actions::create_site(&state, &doc).await.map_err(|e| api_problems(e, "")),
        Err(p) => Err((StatusCode::UNPROCESSABLE_ENTITY, p)),
    };
    match result {
        Ok(site) => see_other(&format!("/ui/sites/{}", site.site.id)),
        Err((status, errors)) => add_page_with(
            &state,
            &session,
            SiteFormView::from_form(&form, errors),
            String::new(),
            Vec::new(),
            status,
        ),
    }
}

/// A pasted document.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct DocumentForm {
    #[serde(default)]
    document: String,
}

/// `POST /ui/add/document`: creates the site a site file describes, then shows it.
pub(crate) async fn add_document(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(form): Form<DocumentForm>,
) -> Response {
    let result = if form.document.trim().is_empty() {
        Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Violation {
                field: "document".into(),
                message: "paste a site file (YAML or JSON), or choose one".into(),
            }],
        ))
    } else {
        actions::create_site(&state, &document(&form.document)).await.map_err(|e| api_problems(e, "document"))
    };
    match result {
        Ok(site) => see_other(&format!("/ui/sites/{}", site.site.id)),
        Err((status, errors)) => {
            let blank = SiteFormView { enabled: true, ..SiteFormView::default() };
            add_page_with(&state, &session, blank, form.document, errors, status)
        }
    }
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    layout: Layout,
    id: i64,
    site_name: String,
    form: SiteFormView,
}

fn edit_page_with(
    session: &Session,
    site_id: i64,
    site_name: String,
    form: SiteFormView,
    status: StatusCode,
) -> Response {
    let page = EditPage {
        layout: Layout::new(format!("Edit {site_name}"), "sites", format!("/api/sites/{site_id}"), session),
        id: site_id,
        site_name,
        form,
    };
    html_response(status, &page)
}

/// `GET /ui/sites/{id}/edit`.
pub(crate) async fn edit_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let site_id = id(&raw, "site")?;
    let detail = queries::site(&state, site_id).await?;
    let specs: Vec<_> = detail.flows.iter().map(|f| f.spec.clone()).collect();
    let flows = if specs.is_empty() {
        String::new()
    } else {
        flowfile::write(&specs, Format::Yaml).map_err(ApiError::from)?
    };
    let form = SiteFormView {
        name: detail.site.name.clone(),
        base_url: detail.site.base_url.clone(),
        interval_secs: detail.site.interval_secs.map(|s| s.to_string()).unwrap_or_default(),
        enabled: detail.site.enabled,
        flows,
        errors: Vec::new(),
    };
    Ok(edit_page_with(&session, site_id, detail.site.name, form, StatusCode::OK))
}

/// `POST /ui/sites/{id}/edit`: replaces the site's fields and flows, then shows it.
pub(crate) async fn edit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(raw): Path<String>,
    Form(form): Form<SiteForm>,
) -> Result<Response, PageError> {
    let site_id = id(&raw, "site")?;
    let current = queries::site(&state, site_id).await?;
    let (spec, found) = spec_of(&form, Some(Vec::new()));
    let result = match checked(&state, &spec, found) {
        Ok(doc) => actions::update_site(&state, site_id, &doc).await.map_err(|e| api_problems(e, "")),
        Err(p) => Err((StatusCode::UNPROCESSABLE_ENTITY, p)),
    };
    Ok(match result {
        Ok(_) => see_other(&format!("/ui/sites/{site_id}")),
        Err((status, errors)) => edit_page_with(
            &session,
            site_id,
            current.site.name,
            SiteFormView::from_form(&form, errors),
            status,
        ),
    })
}

/// `POST /ui/sites/{id}/import`: adds or replaces flows from a flow file, then shows the site.
pub(crate) async fn import_flows(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(raw): Path<String>,
    Form(form): Form<DocumentForm>,
) -> Result<Response, PageError> {
    let site_id = id(&raw, "site")?;
    let failed = if form.document.trim().is_empty() {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![Violation {
                field: "document".into(),
                message: "paste a flow file (YAML or JSON), or choose one".into(),
            }],
        ))
    } else {
        match actions::import_flows(&state, site_id, &document(&form.document), false).await {
            Ok(_) => None,
            Err(e) if e.status == StatusCode::NOT_FOUND => return Err(e.into()),
            Err(e) => Some(api_problems(e, "document")),
        }
    };
    match failed {
        None => Ok(see_other(&format!("/ui/sites/{site_id}"))),
        Some((status, errors)) => {
            site_page(&state, &session, site_id, ImportForm { document: form.document, errors }, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "unlock.html")]
struct UnlockPage {
    layout: Layout,
    error: Option<String>,
}

/// `GET /ui/unlock`.
pub(crate) async fn unlock_page(Extension(session): Extension<Session>) -> Response {
    render(&UnlockPage { layout: Layout::new("Unlock writes", "", "", &session), error: None })
}

/// The unlock form.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct UnlockForm {
    #[serde(default)]
    token: String,
}

/// `POST /ui/unlock`: with the runner's write token, marks this browser session as allowed
/// to write (until the runner restarts).
pub(crate) async fn unlock(
    Extension(session): Extension<Session>,
    Extension(keys): Extension<Arc<Keys>>,
    Extension(client): Extension<ClientIp>,
    Form(form): Form<UnlockForm>,
) -> Response {
    if !session.token_required {
        return see_other("/ui");
    }
    if let Some(wait) = client.0.and_then(|ip| keys.limiter.blocked(ip)) {
        return crate::web::auth::too_many(wait);
    }
    let value = if keys.is_write_token(&form.token) {
        Some(&session.unlock_value)
    } else if keys.is_read_token(&form.token) {
        Some(&session.read_value)
    } else {
        None
    };
    let Some(value) = value else {
        if let Some(ip) = client.0 {
            keys.limiter.fail(ip);
        }
        let page = UnlockPage {
            layout: Layout::new("Unlock writes", "", "", &session),
            error: Some("that is not this runner's write token (--write-token)".to_owned()),
        };
        return html_response(StatusCode::FORBIDDEN, &page);
    };
    let mut resp = see_other("/ui");
    let cookie = format!("{UNLOCK_COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_problems_are_read_before_storing() {
        let form = SiteForm {
            name: "shop".into(),
            base_url: " http://127.0.0.1:9/ ".into(),
            interval_secs: "often".into(),
            enabled: None,
            flows: "name: [unclosed".into(),
        };
        let (spec, problems) = spec_of(&form, None);
        assert_eq!(spec.base_url, "http://127.0.0.1:9/");
        assert!(!spec.enabled);
        assert_eq!(problems.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["interval_secs", "flows"]);
        let view = SiteFormView::from_form(&form, problems);
        assert!(view.error("interval_secs").unwrap().contains("`often` is not a whole number"));
        assert!(view.error("flows").is_some());
        assert_eq!(view.error("name"), None);
    }

    #[test]
    fn flow_paths_map_to_the_flows_field() {
        let view = SiteFormView {
            errors: vec![Violation { field: "flows[0].steps[1].selector".into(), message: "bad".into() }],
            ..SiteFormView::default()
        };
        assert_eq!(view.error("flows").as_deref(), Some("flows[0].steps[1].selector: bad"));
        assert_eq!(view.error("flow"), None);
    }

    #[test]
    fn documents_are_sniffed() {
        assert_eq!(sniff("  {\"name\": 1}"), Format::Json);
        assert_eq!(sniff("[]"), Format::Json);
        assert_eq!(sniff("name: x"), Format::Yaml);
    }
}
