//! The writes behind the JSON API (and the dashboard's forms): each checks its whole input
//! first and then stores it in one transaction, so a request either changes everything it
//! asked for or nothing.

use super::body::Document;
use super::error::ApiError;
use super::queries::{self, SiteDetail};
use super::state::AppState;
use crate::domain::{Flow, FlowSpec, Run, SiteSpec, Trigger, ValidationError, Violation};
use crate::flowfile::{self, Format};
use crate::now_ms;

fn check_site(state: &AppState, spec: &SiteSpec) -> Result<(), ApiError> {
    let names = state.drivers().names();
    Ok(state.limits().check_site(spec, &names)?)
}

/// Creates a site (with its flows, if given).
///
/// # Errors
///
/// 400 for a malformed document, 422 for invalid fields, 409 for a taken name.
pub async fn create_site(state: &AppState, doc: &Document) -> Result<SiteDetail, ApiError> {
    let spec: SiteSpec = flowfile::parse(&doc.bytes, doc.format)?;
    check_site(state, &spec)?;
    let site = state.store().create_site(&spec, None, now_ms()).await?;
    queries::site(state, site.id).await
}

/// Replaces a site's fields, and its flows when the document has `flows`.
///
/// # Errors
///
/// 404 for an unknown site, 400, 422, 409 as for [`create_site`].
pub async fn update_site(state: &AppState, id: i64, doc: &Document) -> Result<SiteDetail, ApiError> {
    let spec: SiteSpec = flowfile::parse(&doc.bytes, doc.format)?;
    check_site(state, &spec)?;
    state.store().update_site(id, &spec, now_ms()).await?;
    queries::site(state, id).await
}

/// Deletes a site and its flows (its runs stay, as history).
///
/// # Errors
///
/// 404 for an unknown site.
pub async fn delete_site(state: &AppState, id: i64) -> Result<(), ApiError> {
    Ok(state.store().delete_site(id).await?)
}

/// Starts a run of the site now.
///
/// # Errors
///
/// 404 for an unknown site, 409 when it has no flows, 500 when its flows cannot be fetched.
pub async fn run_site(state: &AppState, id: i64) -> Result<Run, ApiError> {
    Ok(state.runs().start(id, Trigger::Manual, now_ms()).await?)
}

/// Refuses flows that type a plain-text value into a password field, saying how to move it
/// into a secret. `prefix` is the flows' path in the document (`` or `flows`).
fn refuse_plain_passwords(flows: &[FlowSpec], prefix: &str) -> Result<(), ApiError> {
    let found = crate::secrets::plain_passwords(flows);
    if found.is_empty() {
        return Ok(());
    }
    let violations = found
        .into_iter()
        .map(|(f, i)| Violation {
            field: format!("{prefix}[{f}].steps[{i}].value"),
            message: "a plain-text password: store it as a secret (`PUT /api/secrets/NAME` with \
                      {\"value\": \"...\"}, the dashboard's Secrets page, or `runner secret set NAME`) and \
                      write `${secrets.NAME}` here instead; or import with `?force=true` to keep it in \
                      plain text"
                .to_owned(),
        })
        .collect();
    Err(ValidationError { violations }.into())
}

/// Imports flows into a site: flows of the same name are replaced, others added. Unless
/// `force`, a plain-text value typed into a password field is refused.
///
/// # Errors
///
/// 404 for an unknown site, 400 for a malformed document, 422 for invalid flows or a
/// plain-text password.
pub async fn import_flows(
    state: &AppState,
    site_id: i64,
    doc: &Document,
    force: bool,
) -> Result<Vec<Flow>, ApiError> {
    let flows = flowfile::parse_flows(&doc.bytes, doc.format)?;
    if !force {
        refuse_plain_passwords(&flows, "")?;
    }
    let site = state.store().site(site_id).await?;
    let names = state.drivers().names();
    state.limits().check_flows(&flows, &site.base_url, &names)?;
    Ok(state.store().import_flows(site_id, &flows, now_ms()).await?)
}

/// A flow as a file: its text and a file name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The document.
    pub text: String,
    /// Its format.
    pub format: Format,
    /// A file name: the flow's name, made safe, with the format's extension.
    pub filename: String,
}

/// Exports a flow as JSON or YAML (importable again as is).
///
/// # Errors
///
/// 404 for an unknown flow.
pub async fn export_flow(state: &AppState, id: i64, format: Format) -> Result<Exported, ApiError> {
    let flow = state.store().flow(id).await?;
    let text = flowfile::write(&flow.spec, format)?;
    let stem: String = flow
        .spec
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(60)
        .collect();
    Ok(Exported { text, format, filename: format!("{stem}.{}", format.extension()) })
}
