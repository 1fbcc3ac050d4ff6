//! The runs pages: every run, filtered by site and outcome, 50 a page; one run with its jobs,
//! their failing step, error and screenshot (the views of `/api/runs` and `/api/runs/{id}`).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use super::views::{JobView, RunView};
use super::{Layout, PageError, Session, format, id, render};
use crate::domain::RunStatus;
use crate::now_ms;
use crate::web::queries::{self, RunsQuery};
use crate::web::state::AppState;

/// An option of a filter's `<select>`.
#[derive(Debug, Clone)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage {
    layout: Layout,
    sites: Vec<Choice>,
    outcomes: Vec<Choice>,
    runs: Vec<RunView>,
    total: i64,
    page: u32,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    filtered: bool,
}

/// `/ui/runs?...` for this filter and page.
fn link(query: &RunsQuery, page: u32) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = &query.site {
        q.append_pair("site", s);
    }
    if let Some(o) = &query.outcome {
        q.append_pair("outcome", o);
    }
    if page > 1 {
        q.append_pair("page", &page.to_string());
    }
    let q = q.finish();
    if q.is_empty() { "/ui/runs".to_owned() } else { format!("/ui/runs?{q}") }
}

/// `GET /ui/runs`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let query = RunsQuery::parse(raw.as_deref());
    let found = queries::runs(&state, &query).await?;
    let now = now_ms();
    let site_rows = queries::sites(&state).await?;
    let wanted_site = query.site.as_deref();
    let mut sites: Vec<Choice> = site_rows
        .iter()
        .map(|r| {
            let value = r.site.id.to_string();
            let selected = wanted_site == Some(value.as_str()) || wanted_site == Some(r.site.name.as_str());
            Choice { value, label: r.site.name.clone(), selected }
        })
        .collect();
    if let Some(s) = wanted_site
        && !sites.iter().any(|c| c.selected)
    {
        // A deleted site's id: keep it selectable so the filter shows what is applied.
        sites.push(Choice { value: s.to_owned(), label: format!("site {s}"), selected: true });
    }
    let outcomes = RunStatus::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: s.as_str().to_owned(),
            selected: query.outcome.as_deref() == Some(s.as_str()),
        })
        .collect();
    let per_page = i64::from(found.per_page.max(1));
    let pages = ((found.total + per_page - 1) / per_page).max(1);
    let api = link(&query, found.page).replacen("/ui/runs", "/api/runs", 1);
    let page = RunsPage {
        layout: Layout::new("Runs", "runs", api, &session),
        sites,
        outcomes,
        runs: found.items.iter().map(|r| RunView::new(r, now)).collect(),
        total: found.total,
        page: found.page,
        pages,
        prev: (found.page > 1).then(|| link(&query, found.page - 1)),
        next: (i64::from(found.page) < pages).then(|| link(&query, found.page + 1)),
        filtered: query.site.is_some() || query.outcome.is_some(),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    layout: Layout,
    run: RunView,
    started: String,
    finished: String,
    jobs: Vec<JobView>,
    passed: usize,
    /// Attempts of the jobs that were retried (a job run once shows only in `jobs`).
    retried: Vec<AttemptView>,
}

/// One attempt of a retried job.
#[derive(Debug, Clone)]
struct AttemptView {
    flow_name: String,
    attempt: i64,
    status: String,
    class: &'static str,
    reason: String,
    duration: String,
    finished: String,
}

fn retried(detail: &queries::RunDetail) -> Vec<AttemptView> {
    detail
        .attempts
        .iter()
        .filter(|a| detail.attempts.iter().filter(|b| b.job_id == a.job_id).count() > 1)
        .map(|a| AttemptView {
            flow_name: detail
                .jobs
                .iter()
                .find(|j| j.id == a.job_id)
                .map(|j| j.flow_name.clone())
                .unwrap_or_default(),
            attempt: a.attempt,
            status: a.status.clone(),
            class: format::status_class(&a.status),
            reason: a.reason.clone().unwrap_or_default(),
            duration: format::duration(a.duration_ms),
            finished: format::datetime(a.finished_at),
        })
        .collect()
}

/// `GET /ui/runs/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let run_id = id(&raw, "run")?;
    let detail = queries::run(&state, run_id).await?;
    let jobs: Vec<JobView> = detail.jobs.iter().map(JobView::new).collect();
    let page = RunPage {
        layout: Layout::new(format!("Run {run_id}"), "runs", format!("/api/runs/{run_id}"), &session),
        run: RunView::new(&detail.run, now_ms()),
        started: detail.run.started_at.map(format::datetime).unwrap_or_default(),
        finished: detail.run.finished_at.map(format::datetime).unwrap_or_default(),
        passed: jobs.iter().filter(|j| j.status == "passed").count(),
        retried: retried(&detail),
        jobs,
    };
    Ok(render(&page))
}

/// `GET /ui/jobs/{id}/screenshot`: a failed job's PNG, behind the pages' session (off
/// loopback an image tag cannot carry the API's bearer token).
pub(crate) async fn screenshot(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let job = id(&raw, "job")?;
    match state.store().screenshot(job).await.map_err(crate::web::ApiError::from)? {
        Some(png) => Ok(([(axum::http::header::CONTENT_TYPE, "image/png")], png).into_response()),
        None => Err(crate::web::ApiError::not_found(format!("job {job} has no screenshot")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter() {
        let q = RunsQuery { site: Some("a b&c".into()), outcome: Some("failed".into()), page: None };
        assert_eq!(link(&q, 2), "/ui/runs?site=a+b%26c&outcome=failed&page=2");
        assert_eq!(link(&RunsQuery::default(), 1), "/ui/runs");
    }
}
