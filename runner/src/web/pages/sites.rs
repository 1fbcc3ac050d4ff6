//! The sites pages: every site with its schedule and latest run; one site with its flows, a
//! chart of its latest runs, and its actions (run now, edit, import flows, delete): the views
//! of `/api/sites` and `/api/sites/{id}`.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::chart::{self, Chart, RunCounts};
use super::views::{self, FlowView, RunView, SiteView};
use super::{Layout, PageError, Session, format, html_response, id, render, see_other};
use crate::domain::{JobStatus, Violation};
use crate::now_ms;
use crate::web::state::AppState;
use crate::web::{actions, queries};

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    layout: Layout,
    sites: Vec<SiteView>,
}

/// `GET /ui/sites`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    let now = now_ms();
    let sites = queries::sites(&state).await?.iter().map(|r| SiteView::new(r, now)).collect();
    Ok(render(&SitesPage { layout: Layout::new("Sites", "sites", "/api/sites", &session), sites }))
}

/// The import form as last submitted, when it failed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ImportForm {
    pub(crate) document: String,
    pub(crate) errors: Vec<Violation>,
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    layout: Layout,
    id: i64,
    name: String,
    base_url: String,
    schedule: String,
    enabled: bool,
    builtin: bool,
    next_run: String,
    created: String,
    flows: Vec<FlowView>,
    chart: Chart,
    runs: Vec<RunView>,
    import: ImportForm,
}

/// Passed and failed jobs of each run, oldest run first.
async fn counts(state: &AppState, runs: &[crate::domain::Run]) -> Result<Vec<RunCounts>, PageError> {
    let mut out = Vec::with_capacity(runs.len());
    for run in runs.iter().rev() {
        let jobs = state.store().jobs_of_run(run.id).await.map_err(crate::web::ApiError::from)?;
        let (mut passed, mut failed) = (0, 0);
        for job in &jobs {
            match job.status.parse::<JobStatus>() {
                Ok(JobStatus::Passed) => passed += 1,
                Ok(JobStatus::Failed | JobStatus::TimedOut | JobStatus::Error) => failed += 1,
                _ => {}
            }
        }
        out.push(RunCounts { run: run.clone(), passed, failed });
    }
    Ok(out)
}

/// The site page, with the import form as given (`status` 422 when it failed).
pub(crate) async fn site_page(
    state: &AppState,
    session: &Session,
    site_id: i64,
    import: ImportForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let detail = queries::site(state, site_id).await?;
    let now = now_ms();
    let site = &detail.site;
    let page = SitePage {
        layout: Layout::new(format!("Site {}", site.name), "sites", format!("/api/sites/{site_id}"), session),
        id: site.id,
        name: site.name.clone(),
        base_url: site.base_url.clone(),
        schedule: views::schedule(site.interval_secs),
        enabled: site.enabled,
        builtin: site.builtin.is_some(),
        next_run: site.next_run_at.filter(|_| site.enabled).map(format::datetime).unwrap_or_default(),
        created: format::datetime(site.created_at),
        flows: detail.flows.iter().map(FlowView::new).collect(),
        chart: chart::runs(&counts(state, &detail.recent_runs).await?),
        runs: detail.recent_runs.iter().map(|r| RunView::new(r, now)).collect(),
        import,
    };
    Ok(html_response(status, &page))
}

/// `GET /ui/sites/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    site_page(&state, &session, id(&raw, "site")?, ImportForm::default(), StatusCode::OK).await
}

/// `POST /ui/sites/{id}/run`: starts a run, then shows it.
pub(crate) async fn run_now(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let run = actions::run_site(&state, id(&raw, "site")?).await?;
    Ok(see_other(&format!("/ui/runs/{}", run.id)))
}

/// `POST /ui/sites/{id}/delete`: deletes the site (its runs stay), then lists the sites.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    actions::delete_site(&state, id(&raw, "site")?).await?;
    Ok(see_other("/ui/sites"))
}
