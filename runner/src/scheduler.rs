//! The scheduler: enqueues runs of sites whose interval came due, keeps this instance's
//! heartbeat, marks jobs of dead instances interrupted and keeps the queue-depth gauge.
//!
//! Leader-free: every instance ticks, and a due run is enqueued only by the instance whose
//! conditional update moves the site's `next_run_at` (see [`Store::take_due`]). A site whose
//! previous run is still queued or running is skipped until the next interval, so a hanging
//! site cannot pile runs up.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::Trigger;
use crate::metrics::Metrics;
use crate::now_ms;
use crate::service::Runs;
use crate::store::Store;

/// How the scheduler behaves.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// This instance's id.
    pub instance: String,
    /// How often it looks for due sites.
    pub tick: Duration,
    /// How often this instance beats.
    pub heartbeat: Duration,
    /// After how long without a beat an instance counts as dead.
    pub stale_after: Duration,
    /// After how long a running job is past anything its timeout, retries and the grace
    /// period allow, and is closed as interrupted.
    pub overdue_after: Duration,
}

/// Longest the store probe behind `runner_store_up` may take before the store counts as
/// unreachable: a PostgreSQL that is down makes the pool retry connecting for its whole
/// acquire timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The scheduler of one instance.
#[derive(Debug)]
pub struct Scheduler {
    store: Store,
    runs: Runs,
    metrics: Arc<Metrics>,
    options: SchedulerOptions,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Scheduler {
    /// A scheduler over `store`.
    pub fn new(store: Store, runs: Runs, metrics: Arc<Metrics>, options: SchedulerOptions) -> Self {
        Self { store, runs, metrics, options }
    }

    /// Ticks until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut last_beat = 0;
        while !*shutdown.borrow() {
            let now = now_ms();
            // The queue depth read comes first and doubles as the store probe behind
            // runner_store_up: while the store does not answer it, the tick does nothing
            // else, since every other step would wait out the pool's acquire timeout.
            match tokio::time::timeout(PROBE_TIMEOUT, self.store.queued_jobs()).await {
                Ok(Ok(depth)) => {
                    self.metrics.set_queue_depth(depth);
                    self.metrics.set_store_up(true);
                    if now - last_beat >= ms(self.options.heartbeat) {
                        last_beat = now;
                        self.maintain(now).await;
                    }
                    self.enqueue_due(now).await;
                }
                Ok(Err(e)) => {
                    self.metrics.set_store_up(false);
                    tracing::warn!(error = %e, "cannot read the queue depth");
                }
                Err(_) => {
                    self.metrics.set_store_up(false);
                    tracing::warn!(timeout = ?PROBE_TIMEOUT, "the store did not answer the queue-depth read");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.options.tick) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Beats, and marks interrupted the jobs of instances that stopped beating.
    async fn maintain(&self, now: i64) {
        if let Err(e) = self.store.heartbeat(&self.options.instance, now).await {
            tracing::warn!(error = %e, "cannot write the heartbeat");
        }
        match self.store.recover_interrupted(None, now - ms(self.options.stale_after), now).await {
            Ok(done) if done.jobs > 0 => {
                tracing::warn!(jobs = done.jobs, "marked jobs of a dead instance interrupted");
                for status in done.settled {
                    self.metrics.run_settled(status);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot look for interrupted jobs"),
        }
        let reason = format!(
            "closed after running {:?}, longer than its timeouts, retries and grace allow; \
             the instance running it lost it",
            self.options.overdue_after
        );
        match self.store.close_overdue(now - ms(self.options.overdue_after), &reason, now).await {
            Ok(done) if done.jobs > 0 => {
                tracing::warn!(jobs = done.jobs, "closed overdue jobs");
                for status in done.settled {
                    self.metrics.run_settled(status);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot look for overdue jobs"),
        }
        // After a store outage, a run whose last result was stored by a retry may not have
        // been settled (or its settle was lost): settle it here, so the site runs again.
        match self.store.settle_finished_runs(now).await {
            Ok(done) => {
                if !done.settled.is_empty() {
                    tracing::warn!(runs = done.settled.len(), "settled runs whose jobs had all ended");
                }
                for status in done.settled {
                    self.metrics.run_settled(status);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for finished runs"),
        }
    }

    /// Enqueues a run of every site that came due (each by exactly one instance).
    pub async fn enqueue_due(&self, now: i64) {
        let sites = match self.store.due_sites(now).await {
            Ok(sites) => sites,
            Err(e) => return tracing::warn!(error = %e, "cannot read due sites"),
        };
        for site in sites {
            let (Some(due), Some(secs)) = (site.next_run_at, site.interval_secs) else { continue };
            let next =
                now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000));
            match self.store.take_due(site.id, due, next).await {
                Ok(true) => {}
                Ok(false) => continue, // another instance took it
                Err(e) => {
                    tracing::warn!(site = %site.name, error = %e, "cannot take the due run");
                    continue;
                }
            }
            match self.store.has_unfinished_run(site.id).await {
                Ok(false) => {}
                Ok(true) => {
                    tracing::info!(site = %site.name, "previous run not finished; skipping this interval");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(site = %site.name, error = %e, "cannot check for unfinished runs");
                    continue;
                }
            }
            if let Err(e) = self.runs.start_site(&site, Trigger::Schedule, now).await {
                tracing::warn!(site = %site.name, error = %e, "scheduled run not started");
            }
        }
    }
}
