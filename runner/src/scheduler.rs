//! The scheduler: enqueues jobs of flows whose interval came due, keeps this instance's
//! heartbeat, marks jobs of dead instances interrupted and keeps the queue-depth gauge.
//!
//! Leader-free: every instance ticks, and a due flow is enqueued only by the instance whose
//! conditional update moves the flow's `next_run_at` (see [`Store::take_flow_slot`]). Flows
//! of one site that come due in one tick share a run. A flow whose previous job is still
//! queued or running skips its slot, so a hanging site cannot pile jobs up: the queue holds
//! at most one job per flow. Each flow's slots carry a per-flow offset (jitter), so flows
//! with one interval do not all start in the same second.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::{Flow, Trigger, first_run_at, next_run_after};
use crate::metrics::Metrics;
use crate::now_ms;
use crate::service::{RunError, Runs};
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
    /// period allow, and is closed as interrupted, for jobs at `job_timeout`.
    pub overdue_after: Duration,
    /// The runner's `--job-timeout`: a flow with a longer `timeout_secs` lengthens
    /// `overdue_after` by the difference for each of its possible attempts.
    pub job_timeout: Duration,
}

impl SchedulerOptions {
    /// How long a job may run before it is closed as overdue, when the longest flow timeout
    /// stored is `longest`.
    pub fn overdue_with(&self, longest: Duration) -> Duration {
        let extra = longest.saturating_sub(self.job_timeout);
        self.overdue_after + extra.saturating_mul(crate::domain::MAX_RETRIES + 1)
    }
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
        let overdue_after = match self.store.longest_flow_timeout().await {
            Ok(secs) => self.options.overdue_with(Duration::from_secs(secs)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the longest flow timeout");
                return;
            }
        };
        let reason = format!(
            "closed after running {overdue_after:?}, longer than its timeouts, retries and grace allow; \
             the instance running it lost it",
        );
        match self.store.close_overdue(now - ms(overdue_after), &reason, now).await {
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

    /// Plans the flows that have no next run yet, and enqueues a run of each site with the
    /// flows that came due (each slot taken by exactly one instance). A flow whose previous
    /// job is still queued or running skips this slot.
    pub async fn enqueue_due(&self, now: i64) {
        let due = match self.store.due_flows(now).await {
            Ok(due) => due,
            Err(e) => return tracing::warn!(error = %e, "cannot read due flows"),
        };
        let mut taken: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        let mut touched = BTreeSet::new();
        for flow in due {
            let next = match flow.next_run_at {
                None => first_run_at(flow.flow_id, flow.interval_secs, now),
                Some(slot) => next_run_after(slot, flow.interval_secs, now),
            };
            match self.store.take_flow_slot(flow.flow_id, flow.next_run_at, next).await {
                Ok(true) => {
                    touched.insert(flow.site_id);
                    if flow.next_run_at.is_some() {
                        taken.entry(flow.site_id).or_default().push(flow.flow_id);
                    }
                }
                Ok(false) => {} // another instance took it
                Err(e) => tracing::warn!(flow = flow.flow_id, error = %e, "cannot take the due slot"),
            }
        }
        for (site_id, flow_ids) in taken {
            if let Err(e) = self.start_due(site_id, &flow_ids, now).await {
                tracing::warn!(site = site_id, error = %e, "scheduled run not started");
            }
        }
        for site_id in touched {
            if let Err(e) = self.store.sync_site_next_run(site_id).await {
                tracing::warn!(site = site_id, error = %e, "cannot update the site's next run");
            }
        }
    }

    async fn start_due(&self, site_id: i64, flow_ids: &[i64], now: i64) -> Result<(), RunError> {
        let site = self.store.site(site_id).await?;
        let busy = self.store.busy_flows(site_id).await?;
        let flows: Vec<Flow> = self
            .store
            .flows(site_id)
            .await?
            .into_iter()
            .filter(|f| flow_ids.contains(&f.id))
            .filter(|f| {
                let free = !busy.contains(&f.id);
                if !free {
                    tracing::info!(site = %site.name, flow = %f.spec.name, "previous job not finished; skipping this slot");
                }
                free
            })
            .collect();
        if flows.is_empty() {
            return Ok(());
        }
        self.runs.start_flows(&site, &flows, Trigger::Schedule, now).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_longer_flow_timeout_lengthens_the_overdue_limit() {
        let options = SchedulerOptions {
            instance: "i".into(),
            tick: Duration::from_secs(1),
            heartbeat: Duration::from_secs(1),
            stale_after: Duration::from_secs(1),
            overdue_after: Duration::from_secs(1000),
            job_timeout: Duration::from_secs(30),
        };
        assert_eq!(options.overdue_with(Duration::ZERO), Duration::from_secs(1000));
        assert_eq!(options.overdue_with(Duration::from_secs(10)), Duration::from_secs(1000));
        assert_eq!(options.overdue_with(Duration::from_secs(40)), Duration::from_secs(1000 + 11 * 10));
    }
}
