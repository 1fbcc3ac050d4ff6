//! Attempts: every run of a job's flow, the retried ones and the last, kept beside the job
//! (whose row holds the final outcome) so that the run page shows what a retry hid.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};
use crate::domain::JobOutcome;

/// One attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The job.
    pub job_id: i64,
    /// 1 for the first, 2 for the first retry, ...
    pub attempt: i64,
    /// Its status (`passed`, `failed`, `timed_out`, `error`).
    pub status: String,
    /// The step that failed, if one did.
    pub failed_step: Option<i64>,
    /// Why it did not pass.
    pub reason: Option<String>,
    /// How long it ran.
    pub duration_ms: i64,
    /// Unix ms.
    pub finished_at: i64,
}

impl Store {
    /// Records attempt number `attempt` of a job of `run_id`. Recording one twice (a retried
    /// write whose first try did land) keeps the first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn record_attempt(
        &self,
        job_id: i64,
        run_id: i64,
        attempt: u32,
        outcome: &JobOutcome,
        duration_ms: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO job_attempts (job_id, run_id, attempt, status, failed_step, reason, duration_ms, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (job_id, attempt) DO NOTHING",
        )
        .bind(job_id)
        .bind(run_id)
        .bind(i64::from(attempt))
        .bind(outcome.status.as_str())
        .bind(outcome.failed_step.and_then(|s| i64::try_from(s).ok()))
        .bind(outcome.reason.as_deref())
        .bind(duration_ms)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every attempt of the jobs of a run, by job then attempt.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn attempts_of_run(&self, run_id: i64) -> Result<Vec<Attempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT job_id, attempt, status, failed_step, reason, duration_ms, finished_at \
             FROM job_attempts WHERE run_id = $1 ORDER BY job_id, attempt",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        let attempts = rows
            .iter()
            .map(|r| {
                Ok(Attempt {
                    job_id: r.try_get("job_id")?,
                    attempt: r.try_get("attempt")?,
                    status: r.try_get("status")?,
                    failed_step: r.try_get("failed_step")?,
                    reason: r.try_get("reason")?,
                    duration_ms: r.try_get("duration_ms")?,
                    finished_at: r.try_get("finished_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(attempts)
    }
}
