//! The home page: totals, success rate, latency percentiles, job durations over time and the
//! latest runs (the view of `/api/summary`).

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;

use super::chart::{self, Chart};
use super::views::{RunView, TotalsView};
use super::{Layout, PageError, Session, format, render};
use crate::now_ms;
use crate::web::queries;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    totals: TotalsView,
    p50: String,
    p95: String,
    runs: i64,
    sites: usize,
    chart: Chart,
    recent: Vec<RunView>,
}

/// `GET /ui`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    let summary = queries::summary(&state).await?;
    let sites = queries::sites(&state).await?.len();
    let now = now_ms();
    let dash = || "–".to_owned();
    let page = HomePage {
        layout: Layout::new("Overview", "home", "/api/summary", &session),
        totals: TotalsView::new(&summary.totals),
        p50: summary.p50_ms.map(format::duration).unwrap_or_else(dash),
        p95: summary.p95_ms.map(format::duration).unwrap_or_else(dash),
        runs: summary.runs,
        sites,
        chart: chart::durations(&summary.durations, summary.p95_ms),
        recent: summary.recent_runs.iter().map(|r| RunView::new(r, now)).collect(),
    };
    Ok(render(&page))
}
