//! The reads behind every page and JSON endpoint: each returns a serializable view, so the
//! JSON API and the HTML pages show the same data from the same code.

use std::time::Duration;

use serde::Serialize;

use super::error::ApiError;
use super::state::AppState;
use crate::domain::{Flow, Job, Run, RunStatus, Site};
use crate::driver::Health;
use crate::store::{Attempt, Page, RunFilter, Summary, Totals};

/// A site in the list: the site, how many flows it has and its latest run.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    /// The site.
    #[serde(flatten)]
    pub site: Site,
    /// Its number of flows.
    pub flows: i64,
    /// Its latest run.
    pub last_run: Option<Run>,
}

/// Every site.
///
/// # Errors
///
/// A 500 when the store fails.
pub async fn sites(state: &AppState) -> Result<Vec<SiteRow>, ApiError> {
    let store = state.store();
    let (sites, counts, mut latest) =
        (store.sites().await?, store.flow_counts().await?, store.latest_runs().await?);
    Ok(sites
        .into_iter()
        .map(|site| SiteRow {
            flows: counts.get(&site.id).copied().unwrap_or(0),
            last_run: latest.remove(&site.id),
            site,
        })
        .collect())
}

/// A site with its flows and recent runs.
#[derive(Debug, Clone, Serialize)]
pub struct SiteDetail {
    /// The site.
    #[serde(flatten)]
    pub site: Site,
    /// Its flows, in order.
    pub flows: Vec<Flow>,
    /// Its latest runs, newest first.
    pub recent_runs: Vec<Run>,
}

/// One site in full.
///
/// # Errors
///
/// 404 for an unknown site; 500 when the store fails.
pub async fn site(state: &AppState, id: i64) -> Result<SiteDetail, ApiError> {
    let store = state.store();
    let site = store.site(id).await?;
    let flows = store.flows(id).await?;
    let filter = RunFilter { site_id: Some(id), status: None, page: 1, per_page: 20 };
    let recent_runs = store.runs(&filter).await?.items;
    Ok(SiteDetail { site, flows, recent_runs })
}

/// A site's flows.
///
/// # Errors
///
/// 404 for an unknown site; 500 when the store fails.
pub async fn flows(state: &AppState, site_id: i64) -> Result<Vec<Flow>, ApiError> {
    state.store().site(site_id).await?;
    Ok(state.store().flows(site_id).await?)
}

/// The filter of the runs list, as given in a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunsQuery {
    /// `site`: a site id or name.
    pub site: Option<String>,
    /// `outcome`: a run status.
    pub outcome: Option<String>,
    /// `page`: 1-based.
    pub page: Option<String>,
}

impl RunsQuery {
    /// Reads `site`, `outcome` and `page` from a raw query string (other keys are ignored).
    pub fn parse(raw: Option<&str>) -> Self {
        let mut q = Self::default();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let value = Some(value.into_owned()).filter(|v| !v.is_empty());
            match &*key {
                "site" => q.site = value,
                "outcome" => q.outcome = value,
                "page" => q.page = value,
                _ => {}
            }
        }
        q
    }
}

/// Runs per page in listings.
pub const RUNS_PER_PAGE: u32 = 50;

/// A page of runs, newest first.
///
/// # Errors
///
/// 400 for a bad page number or outcome; 404 for an unknown site; 500 when the store fails.
pub async fn runs(state: &AppState, query: &RunsQuery) -> Result<Page<Run>, ApiError> {
    let page =
        match &query.page {
            None => 1,
            Some(p) => p.parse::<u32>().ok().filter(|&p| p >= 1).ok_or_else(|| {
                ApiError::bad_request(format!("page `{p}` is not a page number (1, 2, ...)"))
            })?,
        };
    let status = match &query.outcome {
        None => None,
        Some(o) => Some(o.parse::<RunStatus>().map_err(|_| {
            let known: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::bad_request(format!("outcome `{o}` is not one of {}", known.join(", ")))
        })?),
    };
    let site_id = match &query.site {
        None => None,
        Some(s) => Some(match s.parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                state
                    .store()
                    .site_by_name(s)
                    .await?
                    .ok_or_else(|| ApiError::not_found(format!("no site named `{s}`")))?
                    .id
            }
        }),
    };
    Ok(state.store().runs(&RunFilter { site_id, status, page, per_page: RUNS_PER_PAGE }).await?)
}

/// A run with its jobs.
#[derive(Debug, Clone, Serialize)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: Run,
    /// Its jobs, in enqueue order.
    pub jobs: Vec<Job>,
    /// Every attempt of its jobs (retries included), by job then attempt.
    pub attempts: Vec<Attempt>,
}

/// One run in full.
///
/// # Errors
///
/// 404 for an unknown run; 500 when the store fails.
pub async fn run(state: &AppState, id: i64) -> Result<RunDetail, ApiError> {
    let run = state.store().run(id).await?;
    let jobs = state.store().jobs_of_run(id).await?;
    let attempts = state.store().attempts_of_run(id).await?;
    Ok(RunDetail { run, jobs, attempts })
}

/// A driver: its capacity, use, health and job totals.
#[derive(Debug, Clone, Serialize)]
pub struct DriverInfo {
    /// Its name.
    pub name: String,
    /// Sessions it may run at once on this instance.
    pub capacity: usize,
    /// Sessions in use now on this instance.
    pub in_use: usize,
    /// Whether it can run jobs.
    pub healthy: bool,
    /// Whether it is set up.
    pub configured: bool,
    /// Its health, in words.
    pub detail: String,
    /// Its jobs by status, all instances.
    pub totals: Totals,
}

/// How long a driver's health check may take before it counts as unhealthy.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

async fn health_of(slot: &crate::driver::DriverSlot) -> Health {
    tokio::time::timeout(HEALTH_TIMEOUT, slot.driver().health()).await.unwrap_or_else(|_| Health {
        healthy: false,
        configured: true,
        detail: format!("health check took longer than {}s", HEALTH_TIMEOUT.as_secs()),
    })
}

/// Every driver.
///
/// # Errors
///
/// 500 when the store fails.
pub async fn drivers(state: &AppState) -> Result<Vec<DriverInfo>, ApiError> {
    let mut out = Vec::new();
    for slot in state.drivers().iter() {
        let health = health_of(slot).await;
        let name = slot.driver().name().to_owned();
        out.push(DriverInfo {
            totals: state.store().totals(Some(&name)).await?,
            name,
            capacity: slot.driver().capacity(),
            in_use: slot.in_use(),
            healthy: health.healthy,
            configured: health.configured,
            detail: health.detail,
        });
    }
    Ok(out)
}

/// A driver with its latest jobs.
#[derive(Debug, Clone, Serialize)]
pub struct DriverDetail {
    /// The driver.
    #[serde(flatten)]
    pub driver: DriverInfo,
    /// Its latest jobs, newest first.
    pub recent_jobs: Vec<Job>,
}

/// One driver in full.
///
/// # Errors
///
/// 404 for an unknown driver; 500 when the store fails.
pub async fn driver(state: &AppState, name: &str) -> Result<DriverDetail, ApiError> {
    let driver = drivers(state)
        .await?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no driver named `{name}`; see /api/drivers")))?;
    let recent_jobs = state.store().recent_jobs(Some(name), 50).await?;
    Ok(DriverDetail { driver, recent_jobs })
}

/// The summary.
///
/// # Errors
///
/// 500 when the store fails.
pub async fn summary(state: &AppState) -> Result<Summary, ApiError> {
    Ok(state.store().summary(10, 200).await?)
}

/// A driver's line in the health answer.
#[derive(Debug, Clone, Serialize)]
pub struct DriverHealth {
    /// Its name.
    pub name: String,
    /// Whether it can run jobs.
    pub healthy: bool,
    /// Whether it is set up.
    pub configured: bool,
    /// In words.
    pub detail: String,
}

/// The store's line in the health answer.
#[derive(Debug, Clone, Serialize)]
pub struct StoreHealth {
    /// Whether it answered.
    pub reachable: bool,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
}

/// The health answer of `/`.
#[derive(Debug, Clone, Serialize)]
pub struct HealthView {
    /// `ok`, `degraded` (a configured driver is unhealthy), `unavailable` (the store does not
    /// answer) or `draining` (shutting down).
    pub status: &'static str,
    /// The runner's version.
    pub version: &'static str,
    /// The store.
    pub store: StoreHealth,
    /// Every driver.
    pub drivers: Vec<DriverHealth>,
}

impl HealthView {
    /// Whether the runner is ready to take traffic (200) or not (503).
    pub fn ready(&self) -> bool {
        matches!(self.status, "ok" | "degraded")
    }
}

/// The runner's health.
pub async fn health(state: &AppState) -> HealthView {
    let reachable = matches!(tokio::time::timeout(HEALTH_TIMEOUT, state.store().ping()).await, Ok(Ok(())));
    let mut drivers = Vec::new();
    for slot in state.drivers().iter() {
        let h = health_of(slot).await;
        drivers.push(DriverHealth {
            name: slot.driver().name().to_owned(),
            healthy: h.healthy,
            configured: h.configured,
            detail: h.detail,
        });
    }
    let status = if state.draining() {
        "draining"
    } else if !reachable {
        "unavailable"
    } else if drivers.iter().any(|d| d.configured && !d.healthy) {
        "degraded"
    } else {
        "ok"
    };
    HealthView {
        status,
        version: env!("CARGO_PKG_VERSION"),
        store: StoreHealth { reachable, backend: state.store().backend().as_str() },
        drivers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_query_reads_known_keys() {
        let q = RunsQuery::parse(Some("site=shop%20one&outcome=failed&page=2&x=1&site="));
        assert_eq!(q.site, None); // the later empty value wins and means "any"
        assert_eq!(q.outcome.as_deref(), Some("failed"));
        assert_eq!(q.page.as_deref(), Some("2"));
        assert_eq!(RunsQuery::parse(Some("site=shop%20one")).site.as_deref(), Some("shop one"));
        assert_eq!(RunsQuery::parse(None), RunsQuery::default());
    }
}
