//! The job queue: claim a job exactly once, record its result, settle its run, and clean up
//! after shutdowns and crashes.
//!
//! A claim is one `UPDATE ... RETURNING` on the oldest queued job of a driver, in a
//! transaction that also marks the run as running. SQLite serializes writers, so two claims
//! never see the same queued row; PostgreSQL adds `FOR UPDATE SKIP LOCKED`, so concurrent
//! claimers from any number of instances each lock a different row without waiting.
//!
//! A run is settled (its final status written) by whichever transaction ends its last job.
//! That transaction first locks the run row, and the count of unfinished jobs is read after
//! the lock is held, so two instances ending a run's last two jobs at once cannot both miss
//! (or both see) the end.

use std::collections::BTreeSet;

use sqlx::{AnyConnection, Row};

use super::rows;
use super::{Backend, Store, StoreError};
use crate::domain::{JobOutcome, JobStatus, RunStatus};

/// A job this instance claimed and must run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// Job id.
    pub id: i64,
    /// Its run.
    pub run_id: i64,
    /// Its site.
    pub site_id: i64,
    /// The site's name (the `site` label).
    pub site_name: String,
    /// The site's base URL when enqueued.
    pub base_url: String,
    /// Its flow's name.
    pub flow_name: String,
    /// The flow as enqueued, JSON (parsed by the worker, which fails the job if it cannot).
    pub flow_json: String,
    /// The driver to run it on.
    pub driver: String,
    /// When it was enqueued (unix ms).
    pub enqueued_at: i64,
}

/// What recording a job's end did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// Whether the result was stored: false when the job was no longer running under this
    /// instance (taken away as interrupted, or its run deleted).
    pub recorded: bool,
    /// The run's final status, when this job was its last.
    pub settled: Option<RunStatus>,
}

/// What a crash or shutdown clean-up changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Jobs marked interrupted or cancelled.
    pub jobs: u64,
    /// Runs that this settled, with their final status.
    pub settled: Vec<RunStatus>,
}

/// Writes the run's final status if none of its jobs is queued or running; in the caller's
/// transaction, which must already have written the job that ended.
async fn settle_run(
    conn: &mut AnyConnection,
    run_id: i64,
    now: i64,
) -> Result<Option<RunStatus>, StoreError> {
    // Lock the run row first: another transaction ending a job of this run waits here, and
    // the SELECT below (a new statement) then sees that job's end.
    sqlx::query("UPDATE runs SET started_at = COALESCE(started_at, $1) WHERE id = $2")
        .bind(now)
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    let statuses: Vec<String> = sqlx::query("SELECT status FROM jobs WHERE run_id = $1")
        .bind(run_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("status"))
        .collect::<Result<_, _>>()?;
    let parsed: Vec<JobStatus> = statuses.iter().filter_map(|s| s.parse().ok()).collect();
    if parsed.len() != statuses.len() || parsed.iter().any(|s| !s.is_terminal()) {
        return Ok(None);
    }
    let status = RunStatus::of_finished_jobs(parsed);
    let done = sqlx::query(
        "UPDATE runs SET status = $1, finished_at = $2 WHERE id = $3 AND status IN ('queued', 'running')",
    )
    .bind(status.as_str())
    .bind(now)
    .bind(run_id)
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(status))
}

/// Settles every run in `run_ids`, in id order (a fixed lock order between transactions).
pub(super) async fn settle_runs(
    conn: &mut AnyConnection,
    run_ids: BTreeSet<i64>,
    now: i64,
) -> Result<Vec<RunStatus>, StoreError> {
    let mut settled = Vec::new();
    for run_id in run_ids {
        if let Some(status) = settle_run(conn, run_id, now).await? {
            settled.push(status);
        }
    }
    Ok(settled)
}

impl Store {
    /// Claims the oldest queued job of `driver` for `instance`, or `None` when there is none.
    /// Each queued job is claimed by exactly one caller, across all instances.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn claim(
        &self,
        driver: &str,
        instance: &str,
        now: i64,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', claimed_by = $1, started_at = $2 \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND driver = $3 ORDER BY id LIMIT 1 {lock}) \
               AND status = 'queued' \
             RETURNING id, run_id, site_id, site_name, base_url, flow_name, flow, driver, enqueued_at"
        );
        let mut tx = self.pool().begin().await?;
        let Some(row) =
            sqlx::query(&sql).bind(instance).bind(now).bind(driver).fetch_optional(&mut *tx).await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let job = ClaimedJob {
            id: row.try_get("id")?,
            run_id: row.try_get("run_id")?,
            site_id: row.try_get("site_id")?,
            site_name: row.try_get("site_name")?,
            base_url: row.try_get("base_url")?,
            flow_name: row.try_get("flow_name")?,
            flow_json: row.try_get("flow")?,
            driver: row.try_get("driver")?,
            enqueued_at: row.try_get("enqueued_at")?,
        };
        sqlx::query(
            "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $1) \
             WHERE id = $2 AND status = 'queued'",
        )
        .bind(now)
        .bind(job.run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    /// Records the end of a job that `instance` claimed, and settles its run if it was the
    /// last, in one transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn finish_job(
        &self,
        job_id: i64,
        instance: &str,
        outcome: &JobOutcome,
        duration_ms: i64,
        now: i64,
    ) -> Result<Finished, StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "UPDATE jobs SET status = $1, failed_step = $2, reason = $3, duration_ms = $4, screenshot = $5, \
                             finished_at = $6 \
             WHERE id = $7 AND status = 'running' AND claimed_by = $8 RETURNING run_id",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.failed_step.and_then(|s| i64::try_from(s).ok()))
        .bind(outcome.reason.as_deref())
        .bind(duration_ms)
        .bind(outcome.screenshot.as_deref())
        .bind(now)
        .bind(job_id)
        .bind(instance)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(Finished { recorded: false, settled: None });
        };
        let run_id: i64 = row.try_get("run_id")?;
        let settled = settle_run(&mut tx, run_id, now).await?;
        tx.commit().await?;
        Ok(Finished { recorded: true, settled })
    }

    /// Registers `instance` as alive (or refreshes its heartbeat).
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn heartbeat(&self, instance: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(instance)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes `instance` from the live ones (at a clean shutdown).
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn remove_instance(&self, instance: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM instances WHERE id = $1").bind(instance).execute(self.pool()).await?;
        Ok(())
    }

    /// How many instances other than `instance` have beaten since `since` (unix ms).
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn other_live_instances(&self, instance: &str, since: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM instances WHERE id <> $1 AND heartbeat_at >= $2")
            .bind(instance)
            .bind(since)
            .fetch_one(self.pool())
            .await?;
        rows::int(&row, "n")
    }

    /// Marks as interrupted the running jobs whose instance is gone: those of instances that
    /// have not beaten since `stale_before`, and, with `restarted`, those of this instance's
    /// previous life (same instance id, so it crashed). Settles their runs. Finished results
    /// are never touched.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn recover_interrupted(
        &self,
        restarted: Option<&str>,
        stale_before: i64,
        now: i64,
    ) -> Result<Recovered, StoreError> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query(
            "UPDATE jobs SET status = 'interrupted', finished_at = $1, \
                 reason = 'runner instance ' || COALESCE(claimed_by, '?') || \
                          ' stopped while the job ran (crash or kill); the job was not retried' \
             WHERE status = 'running' AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_by NOT IN \
                   (SELECT id FROM instances WHERE heartbeat_at >= $3)) \
             RETURNING run_id",
        )
        .bind(now)
        .bind(restarted.unwrap_or(""))
        .bind(stale_before)
        .fetch_all(&mut *tx)
        .await?;
        let jobs = rows.len() as u64;
        let run_ids = rows.iter().map(|r| r.try_get("run_id")).collect::<Result<BTreeSet<i64>, _>>()?;
        let settled = settle_runs(&mut tx, run_ids, now).await?;
        tx.commit().await?;
        Ok(Recovered { jobs, settled })
    }

    /// Marks as cancelled the jobs `instance` claimed and could not finish before shutdown.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn cancel_running(
        &self,
        instance: &str,
        job_ids: &[i64],
        reason: &str,
        now: i64,
    ) -> Result<Recovered, StoreError> {
        let mut tx = self.pool().begin().await?;
        let (mut run_ids, mut jobs) = (BTreeSet::new(), 0);
        for &id in job_ids {
            let row = sqlx::query(
                "UPDATE jobs SET status = 'cancelled', reason = $1, finished_at = $2 \
                 WHERE id = $3 AND status = 'running' AND claimed_by = $4 RETURNING run_id",
            )
            .bind(reason)
            .bind(now)
            .bind(id)
            .bind(instance)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                run_ids.insert(row.try_get::<i64, _>("run_id")?);
                jobs += 1;
            }
        }
        let settled = settle_runs(&mut tx, run_ids, now).await?;
        tx.commit().await?;
        Ok(Recovered { jobs, settled })
    }

    /// Marks every queued job cancelled (the last instance shutting down) and settles their
    /// runs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn cancel_queued(&self, reason: &str, now: i64) -> Result<Recovered, StoreError> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query(
            "UPDATE jobs SET status = 'cancelled', reason = $1, finished_at = $2 WHERE status = 'queued' \
             RETURNING run_id",
        )
        .bind(reason)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let jobs = rows.len() as u64;
        let run_ids = rows.iter().map(|r| r.try_get("run_id")).collect::<Result<BTreeSet<i64>, _>>()?;
        let settled = settle_runs(&mut tx, run_ids, now).await?;
        tx.commit().await?;
        Ok(Recovered { jobs, settled })
    }

    /// How many jobs are waiting, across all instances.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn queued_jobs(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'")
            .fetch_one(self.pool())
            .await?;
        rows::int(&row, "n")
    }
}
