//! Retention: deletes finished runs (with their jobs, attempts and screenshots) older than
//! the cut or beyond the newest N of their site, a small batch per call, and gives SQLite's
//! freed pages back to the file system.

use sqlx::{Executor, Row};

use super::{Backend, Store, StoreError};

/// What one prune batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Runs deleted.
    pub runs: u64,
    /// Jobs deleted (screenshots are in their rows).
    pub jobs: u64,
}

impl Store {
    /// Deletes at most `batch` finished runs that ended before `finished_before` (unix ms;
    /// 0 keeps all by age) or that have `keep_per_site` newer runs of their site (0 keeps
    /// all by count), with their jobs and attempts, in one short transaction. Call it again
    /// until it deletes nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn prune_batch(
        &self,
        finished_before: i64,
        keep_per_site: i64,
        batch: i64,
    ) -> Result<Pruned, StoreError> {
        let mut tx = self.pool().begin().await?;
        // A run is beyond the newest N of its site when its id is below the site's N-th
        // newest id, found through the (site_id, id) index.
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM runs r WHERE finished_at IS NOT NULL AND ( \
                 finished_at < $1 \
                 OR ($2 > 0 AND r.site_id IS NOT NULL AND r.id < \
                     (SELECT r2.id FROM runs r2 WHERE r2.site_id = r.site_id ORDER BY r2.id DESC LIMIT 1 OFFSET $3))) \
             ORDER BY id LIMIT $4",
        )
        .bind(finished_before)
        .bind(keep_per_site)
        .bind((keep_per_site - 1).max(0))
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(Pruned::default());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query(&format!("DELETE FROM job_attempts WHERE run_id IN ({list})")).execute(&mut *tx).await?;
        let jobs =
            sqlx::query(&format!("DELETE FROM jobs WHERE run_id IN ({list})")).execute(&mut *tx).await?;
        let runs = sqlx::query(&format!("DELETE FROM runs WHERE id IN ({list})")).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Pruned { runs: runs.rows_affected(), jobs: jobs.rows_affected() })
    }

    /// Gives freed pages back: SQLite's incremental vacuum (the store is opened with
    /// `auto_vacuum = INCREMENTAL`); PostgreSQL's autovacuum does this by itself.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn reclaim_space(&self) -> Result<(), StoreError> {
        if self.backend() == Backend::Sqlite {
            self.pool().execute("PRAGMA incremental_vacuum").await?;
        }
        Ok(())
    }
}
