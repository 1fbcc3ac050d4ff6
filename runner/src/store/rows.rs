//! Rows to domain types: the column lists and the readers that go with them.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use crate::domain::{Flow, FlowSpec, Job, Run, Site, Step};

pub(super) const SITE_COLUMNS: &str =
    "id, name, base_url, interval_secs, enabled, builtin, next_run_at, created_at, updated_at";

pub(super) fn site(row: &AnyRow) -> Result<Site, StoreError> {
    let interval: Option<i64> = row.try_get("interval_secs")?;
    Ok(Site {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        base_url: row.try_get("base_url")?,
        interval_secs: interval.and_then(|s| u64::try_from(s).ok()).filter(|&s| s > 0),
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        builtin: row.try_get("builtin")?,
        next_run_at: row.try_get("next_run_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) const FLOW_COLUMNS: &str = "id, site_id, position, name, driver, start_url, steps, retries, interval_secs, timeout_secs, created_at, \
     updated_at";

pub(super) fn flow(row: &AnyRow) -> Result<Flow, StoreError> {
    let id: i64 = row.try_get("id")?;
    let steps: String = row.try_get("steps")?;
    let steps: Vec<Step> = serde_json::from_str(&steps).map_err(|e| StoreError::Corrupt {
        what: "flow",
        id,
        detail: e.to_string(),
    })?;
    Ok(Flow {
        id,
        site_id: row.try_get("site_id")?,
        position: row.try_get("position")?,
        spec: FlowSpec {
            name: row.try_get("name")?,
            driver: row.try_get("driver")?,
            start_url: row.try_get("start_url")?,
            steps,
            retries: row.try_get::<Option<i64>, _>("retries")?.and_then(|r| u32::try_from(r).ok()),
            interval_secs: row
                .try_get::<Option<i64>, _>("interval_secs")?
                .and_then(|s| u64::try_from(s).ok()),
            timeout_secs: row.try_get::<Option<i64>, _>("timeout_secs")?.and_then(|s| u64::try_from(s).ok()),
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) const RUN_COLUMNS: &str =
    "id, site_id, site_name, trigger, status, error, jobs_total, created_at, started_at, finished_at";

pub(super) fn run(row: &AnyRow) -> Result<Run, StoreError> {
    Ok(Run {
        id: row.try_get("id")?,
        site_id: row.try_get("site_id")?,
        site_name: row.try_get("site_name")?,
        trigger: row.try_get("trigger")?,
        status: row.try_get("status")?,
        error: row.try_get("error")?,
        jobs_total: row.try_get("jobs_total")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// Every job column but the flow snapshot and the screenshot bytes.
pub(super) const JOB_COLUMNS: &str = "id, run_id, site_id, site_name, flow_id, flow_name, driver, status, \
     claimed_by, failed_step, reason, duration_ms, \
     CASE WHEN screenshot IS NULL THEN 0 ELSE 1 END AS has_screenshot, \
     enqueued_at, started_at, finished_at";

pub(super) fn job(row: &AnyRow) -> Result<Job, StoreError> {
    Ok(Job {
        id: row.try_get("id")?,
        run_id: row.try_get("run_id")?,
        site_id: row.try_get("site_id")?,
        site_name: row.try_get("site_name")?,
        flow_id: row.try_get("flow_id")?,
        flow_name: row.try_get("flow_name")?,
        driver: row.try_get("driver")?,
        status: row.try_get("status")?,
        claimed_by: row.try_get("claimed_by")?,
        failed_step: row.try_get("failed_step")?,
        reason: row.try_get("reason")?,
        duration_ms: row.try_get("duration_ms")?,
        has_screenshot: flag(row, "has_screenshot")?,
        enqueued_at: row.try_get("enqueued_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// A 0/1 computed column: PostgreSQL types `CASE ... 1` as INTEGER (i32), SQLite as i64.
pub(super) fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    Ok(int(row, column)? != 0)
}

/// An integer column of whatever width the backend gives it (`COUNT` is BIGINT in
/// PostgreSQL, a literal is INTEGER).
pub(super) fn int(row: &AnyRow, column: &str) -> Result<i64, StoreError> {
    match row.try_get::<i64, _>(column) {
        Ok(v) => Ok(v),
        Err(_) => Ok(i64::from(row.try_get::<i32, _>(column)?)),
    }
}
