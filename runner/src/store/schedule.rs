//! The per-flow schedule: which flows came due, taking a due slot (by exactly one
//! instance), and what the scheduler needs to keep the queue bounded.
//!
//! A flow runs on its own `interval_secs` when it has one, else on its site's; a flow's
//! `next_run_at` is NULL until the scheduler plans its first run (with the flow's jitter),
//! and is reset to NULL when its schedule changes, so it is planned again.

use std::collections::HashSet;

use sqlx::Row;

use super::rows;
use super::{Store, StoreError};

/// A scheduled flow that is due, or has no next run planned yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueFlow {
    /// The flow's id.
    pub flow_id: i64,
    /// Its site's id.
    pub site_id: i64,
    /// The slot that came due; `None`: not planned yet.
    pub next_run_at: Option<i64>,
    /// The interval it runs on: its own, else its site's.
    pub interval_secs: u64,
}

impl Store {
    /// Flows of enabled sites with an interval (their own or their site's) whose next run is
    /// due at `now` or not planned yet, oldest slot first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn due_flows(&self, now: i64) -> Result<Vec<DueFlow>, StoreError> {
        sqlx::query(
            "SELECT f.id, f.site_id, f.next_run_at, COALESCE(f.interval_secs, s.interval_secs) AS every \
             FROM flows f JOIN sites s ON s.id = f.site_id \
             WHERE s.enabled = 1 AND COALESCE(f.interval_secs, s.interval_secs) > 0 \
               AND (f.next_run_at IS NULL OR f.next_run_at <= $1) \
             ORDER BY f.next_run_at, f.id",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(DueFlow {
                flow_id: r.try_get("id")?,
                site_id: r.try_get("site_id")?,
                next_run_at: r.try_get("next_run_at")?,
                interval_secs: u64::try_from(rows::int(r, "every")?).unwrap_or(0),
            })
        })
        .collect()
    }

    /// Moves a flow's next run from `due` (`None`: not planned) to `next`, unless another
    /// instance did first. Only the instance that gets `true` acts on the slot.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn take_flow_slot(
        &self,
        flow_id: i64,
        due: Option<i64>,
        next: i64,
    ) -> Result<bool, StoreError> {
        let done = match due {
            Some(due) => {
                sqlx::query("UPDATE flows SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3")
                    .bind(next)
                    .bind(flow_id)
                    .bind(due)
                    .execute(self.pool())
                    .await?
            }
            None => {
                sqlx::query("UPDATE flows SET next_run_at = $1 WHERE id = $2 AND next_run_at IS NULL")
                    .bind(next)
                    .bind(flow_id)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }

    /// Sets the site's `next_run_at` (what its page shows) to its flows' earliest.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn sync_site_next_run(&self, site_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sites SET next_run_at = (SELECT MIN(next_run_at) FROM flows WHERE site_id = $1) WHERE id = $1",
        )
        .bind(site_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The flows of a site that have a job queued or running: the scheduler does not add a
    /// second, which bounds the queue at one job per flow.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn busy_flows(&self, site_id: i64) -> Result<HashSet<i64>, StoreError> {
        sqlx::query(
            "SELECT DISTINCT flow_id FROM jobs WHERE flow_id IN (SELECT id FROM flows WHERE site_id = $1) \
             AND status IN ('queued', 'running')",
        )
        .bind(site_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get("flow_id")?))
        .collect()
    }

    /// The longest per-flow timeout stored, in seconds (0 when no flow has one).
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn longest_flow_timeout(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(timeout_secs), 0) AS n FROM flows")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(rows::int(&row, "n")?).unwrap_or(0))
    }
}
