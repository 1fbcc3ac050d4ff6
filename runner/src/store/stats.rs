//! Aggregates for the summary page and API: totals, success rate, latency percentiles, recent
//! runs and job durations over time.

use serde::Serialize;
use sqlx::Row;

use super::rows::{self, RUN_COLUMNS};
use super::{Store, StoreError};
use crate::domain::{JobStatus, Run};

/// Jobs by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// All jobs.
    pub jobs: i64,
    /// Waiting.
    pub queued: i64,
    /// Running now.
    pub running: i64,
    /// Passed.
    pub passed: i64,
    /// A step did not hold.
    pub failed: i64,
    /// Ran out of time.
    pub timed_out: i64,
    /// The site or engine failed.
    pub error: i64,
    /// Stopped by a shutdown.
    pub cancelled: i64,
    /// Stopped by a crash.
    pub interrupted: i64,
}

impl Totals {
    fn add(&mut self, status: JobStatus, n: i64) {
        self.jobs += n;
        let slot = match status {
            JobStatus::Queued => &mut self.queued,
            JobStatus::Running => &mut self.running,
            JobStatus::Passed => &mut self.passed,
            JobStatus::Failed => &mut self.failed,
            JobStatus::TimedOut => &mut self.timed_out,
            JobStatus::Error => &mut self.error,
            JobStatus::Cancelled => &mut self.cancelled,
            JobStatus::Interrupted => &mut self.interrupted,
        };
        *slot += n;
    }

    /// Jobs that ran to an outcome: what `success_counter` + `failure_counter` count.
    pub fn completed(&self) -> i64 {
        self.passed + self.failed + self.timed_out + self.error
    }

    /// Passed over completed, `None` before any job completed.
    pub fn success_rate(&self) -> Option<f64> {
        let done = self.completed();
        // job counts stay far below 2^53
        (done > 0).then(|| self.passed as f64 / done as f64)
    }
}

/// One completed job on the durations-over-time chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DurationPoint {
    /// Job id.
    pub job_id: i64,
    /// When it ended (unix ms).
    pub finished_at: i64,
    /// How long it ran.
    pub duration_ms: i64,
    /// Its status.
    pub status: String,
    /// Its site.
    pub site_name: String,
    /// Its driver.
    pub driver: String,
}

/// The summary: what the home page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Jobs by status.
    pub totals: Totals,
    /// Passed over completed jobs.
    pub success_rate: Option<f64>,
    /// Median duration of the latest completed jobs (up to 1000, among the newest 5000
    /// jobs), in ms.
    pub p50_ms: Option<i64>,
    /// 95th percentile of the same.
    pub p95_ms: Option<i64>,
    /// Runs stored.
    pub runs: i64,
    /// The latest runs, newest first.
    pub recent_runs: Vec<Run>,
    /// Durations of the latest completed jobs, oldest first.
    pub durations: Vec<DurationPoint>,
}

/// The nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

const COMPLETED: &str = "('passed', 'failed', 'timed_out', 'error')";

/// The newest jobs, as a bounded window the summary's reads filter: read backwards along
/// the primary key, whatever the size of the table. (Filtering the whole table by status
/// instead has the planner walk the status index, which on a million jobs takes seconds.)
/// The subquery's LIMIT keeps SQLite from flattening it into the outer query.
const RECENT: &str = "(SELECT id, finished_at, duration_ms, status, site_name, driver FROM jobs \
                      ORDER BY id DESC LIMIT 5000) AS recent";

impl Store {
    /// Jobs by status, of one driver when `driver` is given.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn totals(&self, driver: Option<&str>) -> Result<Totals, StoreError> {
        // job_counts is kept by triggers on jobs (migration 4): a few rows, not a scan.
        let sql = match driver {
            Some(_) => {
                "SELECT status, CAST(SUM(n) AS BIGINT) AS n FROM job_counts WHERE driver = $1 GROUP BY status"
            }
            None => "SELECT status, CAST(SUM(n) AS BIGINT) AS n FROM job_counts GROUP BY status",
        };
        let mut q = sqlx::query(sql);
        if let Some(d) = driver {
            q = q.bind(d);
        }
        let mut totals = Totals::default();
        for row in q.fetch_all(self.pool()).await? {
            let status: String = row.try_get("status")?;
            if let Ok(status) = status.parse() {
                totals.add(status, rows::int(&row, "n")?);
            }
        }
        Ok(totals)
    }

    /// The summary, with `recent` runs and up to `points` duration points.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn summary(&self, recent: u32, points: u32) -> Result<Summary, StoreError> {
        let totals = self.totals(None).await?;
        let mut latest: Vec<i64> = sqlx::query(&format!(
            "SELECT duration_ms FROM {RECENT} WHERE status IN {COMPLETED} AND duration_ms IS NOT NULL \
             ORDER BY id DESC LIMIT 1000"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get("duration_ms"))
        .collect::<Result<_, _>>()?;
        latest.sort_unstable();
        let runs =
            rows::int(&sqlx::query("SELECT COUNT(*) AS n FROM runs").fetch_one(self.pool()).await?, "n")?;
        let recent_runs = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1"))
            .bind(i64::from(recent))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(rows::run)
            .collect::<Result<_, _>>()?;
        let mut durations = sqlx::query(&format!(
            "SELECT id, finished_at, duration_ms, status, site_name, driver FROM {RECENT} \
             WHERE status IN {COMPLETED} AND duration_ms IS NOT NULL AND finished_at IS NOT NULL \
             ORDER BY id DESC LIMIT $1"
        ))
        .bind(i64::from(points))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(DurationPoint {
                job_id: r.try_get("id")?,
                finished_at: r.try_get("finished_at")?,
                duration_ms: r.try_get("duration_ms")?,
                status: r.try_get("status")?,
                site_name: r.try_get("site_name")?,
                driver: r.try_get("driver")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        durations.reverse();
        Ok(Summary {
            success_rate: totals.success_rate(),
            totals,
            p50_ms: percentile(&latest, 50.0),
            p95_ms: percentile(&latest, 95.0),
            runs,
            recent_runs,
            durations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 95.0), Some(7));
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&[1, 2, 3], 50.0), Some(2));
    }

    #[test]
    fn success_rate_counts_completed_jobs_only() {
        let mut t = Totals::default();
        assert_eq!(t.success_rate(), None);
        t.add(JobStatus::Passed, 3);
        t.add(JobStatus::TimedOut, 1);
        t.add(JobStatus::Cancelled, 5);
        assert_eq!(t.completed(), 4);
        assert_eq!(t.success_rate(), Some(0.75));
        assert_eq!(t.jobs, 9);
    }
}
