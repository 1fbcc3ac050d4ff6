//! Runs and their jobs: enqueue, list, read.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::rows::{self, JOB_COLUMNS, RUN_COLUMNS};
use super::{Store, StoreError};
use crate::domain::{Flow, Job, Run, RunStatus, Site, Trigger};

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only this site's runs.
    pub site_id: Option<i64>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// 1-based page number.
    pub page: u32,
    /// Runs per page (at most 200).
    pub per_page: u32,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Items on all pages.
    pub total: i64,
}

/// Inserts a run and one queued job per flow, in the caller's transaction.
pub(super) async fn insert_run(
    conn: &mut AnyConnection,
    site: &Site,
    flows: &[Flow],
    trigger: Trigger,
    now: i64,
) -> Result<Run, StoreError> {
    let total = i64::try_from(flows.len()).unwrap_or(i64::MAX);
    let row = sqlx::query(&format!(
        "INSERT INTO runs (site_id, site_name, trigger, status, jobs_total, created_at) \
         VALUES ($1, $2, $3, 'queued', $4, $5) RETURNING {RUN_COLUMNS}"
    ))
    .bind(site.id)
    .bind(&site.name)
    .bind(trigger.as_str())
    .bind(total)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let run = rows::run(&row)?;
    for flow in flows {
        let snapshot = serde_json::to_string(&flow.spec).unwrap_or_default();
        sqlx::query(
            "INSERT INTO jobs (run_id, site_id, site_name, base_url, flow_id, flow_name, flow, driver, status, \
                               enqueued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9)",
        )
        .bind(run.id)
        .bind(site.id)
        .bind(&site.name)
        .bind(&site.base_url)
        .bind(flow.id)
        .bind(&flow.spec.name)
        .bind(snapshot)
        .bind(&flow.spec.driver)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(run)
}

impl Store {
    /// Enqueues a run of `site`: the run and one job per flow, all or nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn enqueue_run(
        &self,
        site: &Site,
        flows: &[Flow],
        trigger: Trigger,
        now: i64,
    ) -> Result<Run, StoreError> {
        let mut tx = self.pool().begin().await?;
        let run = insert_run(&mut tx, site, flows, trigger, now).await?;
        tx.commit().await?;
        Ok(run)
    }

    /// Records a run that could not start, with status `error` and why.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn record_failed_run(
        &self,
        site_id: i64,
        site_name: &str,
        trigger: Trigger,
        error: &str,
        now: i64,
    ) -> Result<Run, StoreError> {
        let row = sqlx::query(&format!(
            "INSERT INTO runs (site_id, site_name, trigger, status, error, jobs_total, created_at, finished_at) \
             VALUES ($1, $2, $3, 'error', $4, 0, $5, $5) RETURNING {RUN_COLUMNS}"
        ))
        .bind(site_id)
        .bind(site_name)
        .bind(trigger.as_str())
        .bind(error)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        rows::run(&row)
    }

    /// The oldest queued or running run of a site, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn unfinished_run(&self, site_id: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT id FROM runs WHERE site_id = $1 AND status IN ('queued', 'running') ORDER BY id LIMIT 1",
        )
        .bind(site_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    /// Whether the site has a run still queued or running.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn has_unfinished_run(&self, site_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM runs WHERE site_id = $1 AND status IN ('queued', 'running')",
        )
        .bind(site_id)
        .fetch_one(self.pool())
        .await?;
        Ok(rows::int(&row, "n")? > 0)
    }

    /// A page of runs, newest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn runs(&self, filter: &RunFilter) -> Result<Page<Run>, StoreError> {
        let per_page = filter.per_page.clamp(1, 200);
        let page = filter.page.max(1);
        let mut conditions = Vec::new();
        if filter.site_id.is_some() {
            conditions.push(format!("site_id = ${}", conditions.len() + 1));
        }
        if filter.status.is_some() {
            conditions.push(format!("status = ${}", conditions.len() + 1));
        }
        let wher =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let n = conditions.len();
        let list_sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs {wher} ORDER BY id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let count_sql = format!("SELECT COUNT(*) AS n FROM runs {wher}");
        let mut list = sqlx::query(&list_sql);
        let mut count = sqlx::query(&count_sql);
        if let Some(site) = filter.site_id {
            list = list.bind(site);
            count = count.bind(site);
        }
        if let Some(status) = filter.status {
            list = list.bind(status.as_str());
            count = count.bind(status.as_str());
        }
        let items = list
            .bind(i64::from(per_page))
            .bind(i64::from(page - 1) * i64::from(per_page))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(rows::run)
            .collect::<Result<_, _>>()?;
        let total = rows::int(&count.fetch_one(self.pool()).await?, "n")?;
        Ok(Page { items, page, per_page, total })
    }

    /// One run.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn run(&self, id: i64) -> Result<Run, StoreError> {
        let row = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("run", id))?;
        rows::run(&row)
    }

    /// The latest run of each site, by site id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn latest_runs(&self) -> Result<HashMap<i64, Run>, StoreError> {
        sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id IN (SELECT MAX(id) FROM runs WHERE site_id IS NOT NULL \
             GROUP BY site_id)"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let run = rows::run(r)?;
            Ok((run.site_id.unwrap_or_default(), run))
        })
        .collect()
    }

    /// A run's jobs, in enqueue order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn jobs_of_run(&self, run_id: i64) -> Result<Vec<Job>, StoreError> {
        sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE run_id = $1 ORDER BY id"))
            .bind(run_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(rows::job)
            .collect()
    }

    /// One job.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn job(&self, id: i64) -> Result<Job, StoreError> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("job", id))?;
        rows::job(&row)
    }

    /// The most recent jobs, newest first; of one driver when `driver` is given.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn recent_jobs(&self, driver: Option<&str>, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = match driver {
            Some(_) => format!("SELECT {JOB_COLUMNS} FROM jobs WHERE driver = $1 ORDER BY id DESC LIMIT $2"),
            None => format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"),
        };
        let mut q = sqlx::query(&sql);
        if let Some(d) = driver {
            q = q.bind(d);
        }
        q.bind(i64::from(limit)).fetch_all(self.pool()).await?.iter().map(rows::job).collect()
    }

    /// A job's screenshot (PNG), if one was kept.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown job; [`StoreError::Db`].
    pub async fn screenshot(&self, job_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT screenshot FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("job", job_id))?;
        Ok(row.try_get("screenshot")?)
    }
}
