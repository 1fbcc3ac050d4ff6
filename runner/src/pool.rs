//! The worker pool: claims queued jobs while drivers have free sessions, runs each under the
//! per-job timeout, stores its result and counts it.
//!
//! Concurrency is bounded per driver (its capacity); a job that hangs holds one session until
//! its timeout and no more. A driver that panics fails its job with status `error` instead of
//! taking the pool down. On shutdown the pool stops claiming, lets running jobs finish within
//! the grace period, and marks the rest cancelled.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use url::Url;

use crate::domain::{FlowSpec, JobOutcome, JobStatus};
use crate::driver::{DriverRegistry, JobSpec, Position, Progress, Session};
use crate::metrics::{FlowResult, Metrics};
use crate::now_ms;
use crate::secrets::{self, Redactor, ReferenceKind, SecretKey};
use crate::store::{ClaimedJob, Store};

/// How the pool behaves.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// This instance's id: what `claimed_by` holds.
    pub instance: String,
    /// Longest a job may run.
    pub job_timeout: Duration,
    /// How often to look for jobs when nothing wakes the pool (jobs enqueued by other
    /// instances).
    pub poll_interval: Duration,
    /// How long running jobs may go on after shutdown begins.
    pub grace: Duration,
    /// Retries of flows that set none.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one, up to [`MAX_BACKOFF`].
    pub retry_backoff: Duration,
}

/// Longest wait between two attempts of a job.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The wait before retry number `retry` (1 for the first).
pub fn backoff(first: Duration, retry: u32) -> Duration {
    first.saturating_mul(1 << retry.saturating_sub(1).min(16)).min(MAX_BACKOFF)
}

/// What the pool did at shutdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    /// Jobs that finished during the grace period.
    pub finished: usize,
    /// Jobs still running at its end, marked cancelled.
    pub cancelled: usize,
}

/// The worker pool of one instance.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    drivers: Arc<DriverRegistry>,
    metrics: Arc<Metrics>,
    options: PoolOptions,
    wake: Arc<Notify>,
    /// Opens the secrets flows refer to; without it such flows end in `error`.
    secret_key: OnceLock<Arc<SecretKey>>,
}

/// First wait before a result write is retried; doubled for each next try.
const STORE_RETRY_FIRST: Duration = Duration::from_millis(100);
/// An attempt the store did not take when it ended: number, outcome, ms, end (unix ms).
type Unsaved = (u32, JobOutcome, i64, i64);

/// How long a result write may take before the result counts as held.
const SLOW_WRITE: Duration = Duration::from_secs(1);
/// Longest wait between two tries of a result write.
pub const STORE_RETRY_MAX: Duration = Duration::from_secs(2);

impl Pool {
    /// A pool over these drivers; `wake` is notified when jobs are enqueued locally.
    pub fn new(
        store: Store,
        drivers: Arc<DriverRegistry>,
        metrics: Arc<Metrics>,
        options: PoolOptions,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner { store, drivers, metrics, options, wake, secret_key: OnceLock::new() }),
        }
    }

    /// Gives the pool the key that opens stored secrets. Only the first call counts.
    pub fn set_secret_key(&self, key: Arc<SecretKey>) {
        let _ = self.inner.secret_key.set(key);
    }

    /// Runs until `shutdown` turns true, then drains.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Drained {
        let inner = &self.inner;
        let mut tasks = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, i64> = HashMap::new();
        while !*shutdown.borrow() {
            self.claim_all(&mut tasks, &mut running).await;
            tokio::select! {
                Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    running.remove(&match done { Ok((id, ())) => id, Err(e) => e.id() });
                }
                () = inner.wake.notified() => {}
                () = tokio::time::sleep(inner.options.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        self.drain(tasks, running).await
    }

    /// Claims jobs while any driver has a free session and jobs are queued for it.
    async fn claim_all(&self, tasks: &mut JoinSet<()>, running: &mut HashMap<tokio::task::Id, i64>) {
        let inner = &self.inner;
        for slot in inner.drivers.iter() {
            while let Some(session) = slot.try_session() {
                match inner.store.claim(slot.driver().name(), &inner.options.instance, now_ms()).await {
                    Ok(Some(job)) => {
                        let mut session = session;
                        session.start();
                        let job_id = job.id;
                        let handle = tasks.spawn(Arc::clone(inner).execute(job, session));
                        running.insert(handle.id(), job_id);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(driver = slot.driver().name(), error = %e, "cannot claim jobs");
                        break;
                    }
                }
            }
        }
    }

    async fn drain(&self, mut tasks: JoinSet<()>, mut running: HashMap<tokio::task::Id, i64>) -> Drained {
        let inner = &self.inner;
        let mut drained = Drained::default();
        if !tasks.is_empty() {
            tracing::info!(jobs = tasks.len(), grace = ?inner.options.grace, "waiting for running jobs");
        }
        let deadline = tokio::time::Instant::now() + inner.options.grace;
        while !tasks.is_empty() {
            tokio::select! {
                Some(done) = tasks.join_next_with_id() => {
                    running.remove(&match done { Ok((id, ())) => id, Err(e) => e.id() });
                    drained.finished += 1;
                }
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        let left: Vec<i64> = running.into_values().collect();
        if !left.is_empty() {
            let reason = format!(
                "the runner shut down and the job did not finish within the {:?} grace period (--grace)",
                inner.options.grace
            );
            match inner.store.cancel_running(&inner.options.instance, &left, &reason, now_ms()).await {
                Ok(done) => {
                    drained.cancelled = usize::try_from(done.jobs).unwrap_or(usize::MAX);
                    for status in done.settled {
                        inner.metrics.run_settled(status);
                    }
                }
                Err(e) => tracing::error!(error = %e, jobs = ?left, "cannot mark unfinished jobs cancelled"),
            }
        }
        drained
    }
}

/// The driver-facing form of a claimed job, or the outcome that ends it at once.
fn prepare(job: &ClaimedJob) -> Result<JobSpec, JobOutcome> {
    let flow: FlowSpec = serde_json::from_str(&job.flow_json).map_err(|e| {
        JobOutcome::not_passed(JobStatus::Error, None, format!("the stored flow is unreadable: {e}"))
    })?;
    let base_url = Url::parse(&job.base_url).map_err(|e| {
        JobOutcome::not_passed(
            JobStatus::Error,
            None,
            format!("the site's base URL `{}` is invalid: {e}", job.base_url),
        )
    })?;
    Ok(JobSpec {
        job_id: job.id,
        site_name: job.site_name.clone(),
        base_url,
        flow,
        progress: Progress::default(),
    })
}

fn timeout_reason(spec: &JobSpec, limit: Duration) -> (Option<usize>, String) {
    let whose = if spec.flow.timeout_secs.is_some() { "the flow's timeout_secs" } else { "--job-timeout" };
    match spec.progress.position() {
        Position::Start => (None, format!("timed out after {limit:?} ({whose}) loading the start page")),
        Position::Step(i) => {
            let kind = spec.flow.steps.get(i).map_or("?", |s| s.kind().as_str());
            (Some(i), format!("timed out after {limit:?} ({whose}) at step {i} ({kind})"))
        }
    }
}

impl Inner {
    async fn execute(self: Arc<Self>, job: ClaimedJob, session: Session) {
        let _session = session;
        // A guard: the gauge comes down even when a shutdown aborts this task.
        let _in_flight = self.metrics.in_flight().track_inflight();
        let started = Instant::now();
        let (outcome, took, unsaved) = match prepare(&job) {
            Err(outcome) => (outcome, started.elapsed(), Vec::new()),
            Ok(spec) => match self.resolve(spec).await {
                Err(outcome) => (outcome, started.elapsed(), Vec::new()),
                Ok((spec, redactor)) => self.attempts(&job, spec, &redactor).await,
            },
        };
        if self.record(&job, &outcome, took).await {
            for a in unsaved {
                if let Err(e) = self.store.record_attempt(job.id, job.run_id, a.0, &a.1, a.2, a.3).await {
                    tracing::warn!(job = job.id, attempt = a.0, error = %e, "attempt not kept");
                }
            }
        }
        self.wake.notify_one();
    }

    /// Replaces the flow's `${secrets.*}` and `${vars.*}` references by their values, and
    /// returns the redactor of the secret values used. Only here do secret values exist
    /// outside the store, for as long as the job runs.
    async fn resolve(&self, mut spec: JobSpec) -> Result<(JobSpec, Redactor), JobOutcome> {
        let refs = secrets::references(&spec.flow);
        if refs.is_empty() {
            return Ok((spec, Redactor::default()));
        }
        let error = |reason: String| JobOutcome::not_passed(JobStatus::Error, None, reason);
        let secret_names: Vec<&str> =
            refs.iter().filter(|r| r.kind == ReferenceKind::Secret).map(|r| r.name.as_str()).collect();
        let mut opened = std::collections::HashMap::new();
        if !secret_names.is_empty() {
            let Some(key) = self.secret_key.get() else {
                return Err(error("the flow uses secrets, but this runner has no secret key".to_owned()));
            };
            let sealed = self
                .store
                .sealed_secrets(&secret_names)
                .await
                .map_err(|e| error(format!("cannot read the flow's secrets: {e}")))?;
            for (name, sealed) in sealed {
                let value = key.open(&name, &sealed).map_err(|e| error(format!("secret `{name}`: {e}")))?;
                opened.insert(name, value);
            }
        }
        let vars: std::collections::HashMap<String, String> =
            if refs.iter().any(|r| r.kind == ReferenceKind::Var) {
                self.store
                    .vars()
                    .await
                    .map_err(|e| error(format!("cannot read the flow's variables: {e}")))?
                    .into_iter()
                    .map(|v| (v.name, v.value))
                    .collect()
            } else {
                std::collections::HashMap::new()
            };
        spec.flow = secrets::resolve_flow(&spec.flow, &opened, &vars).map_err(|e| error(e.to_string()))?;
        let redactor = Redactor::new(opened.values().map(String::as_str));
        Ok((spec, redactor))
    }

    /// Runs the flow until it passes or its retries are spent, keeping every attempt; the
    /// last attempt's outcome and duration are the job's. A session is held throughout, so
    /// a retrying job never waits behind new ones.
    async fn attempts(
        &self,
        job: &ClaimedJob,
        spec: JobSpec,
        redactor: &Redactor,
    ) -> (JobOutcome, Duration, Vec<Unsaved>) {
        let retries = spec.flow.retries.unwrap_or(self.options.retries);
        let mut attempt = 1;
        let mut unsaved = Vec::new();
        loop {
            let started = Instant::now();
            let mut this = spec.clone();
            this.progress = Progress::default();
            let mut outcome = self.run_driver(&job.driver, this, redactor).await;
            // The one place a resolved value could leave the engine: the reason.
            outcome.reason = outcome.reason.map(|r| redactor.redact(&r));
            let took = started.elapsed();
            self.metrics.job_attempted(&job.site_name, &job.driver, outcome.status);
            let duration_ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
            let now = now_ms();
            // History only, so it waits for nobody: an attempt the store does not take at
            // once is written again after the job's result (inserting twice keeps one).
            let write = self.store.record_attempt(job.id, job.run_id, attempt, &outcome, duration_ms, now);
            if !matches!(tokio::time::timeout(SLOW_WRITE, write).await, Ok(Ok(()))) {
                unsaved.push((attempt, outcome.clone(), duration_ms, now));
            }
            if outcome.status == JobStatus::Passed || attempt > retries {
                return (outcome, took, unsaved);
            }
            let wait = backoff(self.options.retry_backoff, attempt);
            tracing::info!(
                job = job.id, site = %job.site_name, flow = %job.flow_name, attempt,
                status = outcome.status.as_str(), reason = outcome.reason.as_deref().unwrap_or(""),
                ?wait, "attempt did not pass; retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Runs the driver in a task of its own, so that a panic or the timeout ends only it.
    async fn run_driver(&self, driver: &str, spec: JobSpec, redactor: &Redactor) -> JobOutcome {
        let Some(slot) = self.drivers.get(driver) else {
            return JobOutcome::not_passed(
                JobStatus::Error,
                None,
                format!("no driver `{driver}` on this instance"),
            );
        };
        let driver = Arc::clone(slot.driver());
        let limit = spec.flow.timeout_secs.map_or(self.options.job_timeout, Duration::from_secs);
        let task_spec = spec.clone();
        let mut task = tokio::spawn(async move { driver.run(&task_spec).await });
        match tokio::time::timeout(limit, &mut task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) if e.is_panic() => {
                let payload = e.into_panic();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                let message = redactor.redact(&message);
                tracing::error!(job = spec.job_id, %message, "driver panicked");
                JobOutcome::not_passed(
                    JobStatus::Error,
                    None,
                    format!("the {} engine crashed: {message}", slot.driver().name()),
                )
            }
            Ok(Err(e)) => {
                JobOutcome::not_passed(JobStatus::Error, None, format!("the job's task ended: {e}"))
            }
            Err(_) => {
                task.abort();
                let (step, reason) = timeout_reason(&spec, limit);
                JobOutcome::not_passed(JobStatus::TimedOut, step, reason)
            }
        }
    }

    /// Whether the store holds `outcome` as this instance's result of `job`.
    async fn stored_as(&self, job: &ClaimedJob, outcome: &JobOutcome, duration_ms: i64) -> bool {
        match self.store.job(job.id).await {
            Ok(stored) => {
                stored.claimed_by.as_deref() == Some(self.options.instance.as_str())
                    && stored.status == outcome.status.as_str()
                    && stored.duration_ms == Some(duration_ms)
            }
            Err(_) => false,
        }
    }

    /// Updates the per-flow health of a job just counted. The interval is the flow's own
    /// (as enqueued), else the site's read now, so an edited site schedule shows from the
    /// next job on; a store that fails this read leaves it 0.
    async fn flow_completed(&self, job: &ClaimedJob, status: JobStatus, took: Duration, now: i64) {
        let own = serde_json::from_str::<crate::domain::FlowSpec>(&job.flow_json)
            .ok()
            .and_then(|f| f.interval_secs);
        let interval_secs = match self.store.site(job.site_id).await {
            Ok(site) => site.enabled.then(|| own.or(site.interval_secs)).flatten().filter(|&s| s > 0),
            Err(e) => {
                tracing::warn!(site = %job.site_name, error = %e, "cannot read the site's interval");
                None
            }
        };
        self.metrics.flow_completed(&FlowResult {
            site: &job.site_name,
            flow: &job.flow_name,
            status,
            took,
            interval_secs,
            at_secs: now / 1000,
        });
    }

    /// Stores the result and counts it once stored; whether it was stored. A store that fails is retried until it
    /// takes the result (the job's task, holding the result, is the outbox), every
    /// [`STORE_RETRY_MAX`] at most; `runner_results_pending` shows the results held meanwhile.
    /// A shutdown that ends the wait leaves the job `running` for recovery to mark.
    async fn record(&self, job: &ClaimedJob, outcome: &JobOutcome, took: Duration) -> bool {
        let duration_ms = i64::try_from(took.as_millis()).unwrap_or(i64::MAX);
        let mut wait = STORE_RETRY_FIRST;
        let mut pending = None;
        loop {
            let write = self.store.finish_job(job.id, &self.options.instance, outcome, duration_ms, now_ms());
            tokio::pin!(write);
            // A write that hangs (a PostgreSQL that went away makes the pool retry
            // connecting for its acquire timeout) counts as held from the first second on;
            // it is awaited to its end, never dropped midway.
            let result = match tokio::time::timeout(SLOW_WRITE, &mut write).await {
                Ok(result) => result,
                Err(_) => {
                    pending.get_or_insert_with(|| self.metrics.results_pending().track_inflight());
                    write.await
                }
            };
            let result = match result {
                // A retry that finds the job ended: the earlier try may have committed with
                // its answer lost. If the stored result is ours, it is ours to count.
                Ok(done)
                    if !done.recorded
                        && pending.is_some()
                        && self.stored_as(job, outcome, duration_ms).await =>
                {
                    Ok(crate::store::Finished { recorded: true, settled: None })
                }
                other => other,
            };
            match result {
                Ok(done) if done.recorded => {
                    self.metrics.job_completed(&job.site_name, &job.driver, outcome.status, took);
                    self.flow_completed(job, outcome.status, took, now_ms()).await;
                    if let Some(status) = done.settled {
                        self.metrics.run_settled(status);
                    }
                    tracing::info!(
                        job = job.id, run = job.run_id, site = %job.site_name, flow = %job.flow_name,
                        status = outcome.status.as_str(), ms = duration_ms,
                        reason = outcome.reason.as_deref().unwrap_or(""), "job done"
                    );
                    return true;
                }
                Ok(_) => {
                    tracing::warn!(
                        job = job.id,
                        "job result dropped: the job is no longer ours (marked interrupted, or deleted)"
                    );
                    return false;
                }
                Err(e) => {
                    pending.get_or_insert_with(|| self.metrics.results_pending().track_inflight());
                    tracing::warn!(job = job.id, error = %e, ?wait, "cannot store the job result; holding it and retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(STORE_RETRY_MAX);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let first = Duration::from_secs(2);
        let waits: Vec<u64> = (1..=7).map(|r| backoff(first, r).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff(first, u32::MAX), MAX_BACKOFF);
    }
}
