//! Sweeps that keep runs from staying open forever: a run whose jobs all ended (their last
//! result stored after the run's own settle failed, as in a store outage) is settled, and a
//! job still `running` long after any timeout and retry could end it is closed with a
//! reason. Both are idempotent and run on every instance's heartbeat.

use std::collections::BTreeSet;

use sqlx::Row;

use super::queue::settle_runs;
use super::{Recovered, Store, StoreError};

/// Most runs one sweep settles or closes, so a sweep after a long outage stays short.
const SWEEP_BATCH: i64 = 200;

impl Store {
    /// Settles open runs none of whose jobs is queued or running.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn settle_finished_runs(&self, now: i64) -> Result<Recovered, StoreError> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query(
            "SELECT id FROM runs WHERE status IN ('queued', 'running') \
               AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.run_id = runs.id AND jobs.status IN ('queued', 'running')) \
             ORDER BY id LIMIT $1",
        )
        .bind(SWEEP_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let run_ids = rows.iter().map(|r| r.try_get("id")).collect::<Result<BTreeSet<i64>, _>>()?;
        let settled = settle_runs(&mut tx, run_ids, now).await?;
        tx.commit().await?;
        Ok(Recovered { jobs: 0, settled })
    }

    /// Marks `interrupted`, with `reason`, the jobs that have been running since before
    /// `started_before`, and settles their runs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn close_overdue(
        &self,
        started_before: i64,
        reason: &str,
        now: i64,
    ) -> Result<Recovered, StoreError> {
        let mut tx = self.pool().begin().await?;
        let rows = sqlx::query(
            "UPDATE jobs SET status = 'interrupted', finished_at = $1, reason = $2 \
             WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND started_at < $3 ORDER BY id LIMIT $4) \
               AND status = 'running' \
             RETURNING run_id",
        )
        .bind(now)
        .bind(reason)
        .bind(started_before)
        .bind(SWEEP_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let jobs = rows.len() as u64;
        let run_ids = rows.iter().map(|r| r.try_get("run_id")).collect::<Result<BTreeSet<i64>, _>>()?;
        let settled = settle_runs(&mut tx, run_ids, now).await?;
        tx.commit().await?;
        Ok(Recovered { jobs, settled })
    }
}
