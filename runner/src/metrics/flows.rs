//! Per-flow health: the families an alert can name a broken site and flow with.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `runner_flow_last_passed` | `site`, `flow` | 1 when the flow's last completed job passed, else 0 |
//! | `runner_flow_consecutive_failures` | `site`, `flow` | completed jobs in a row that did not pass (0 after a pass) |
//! | `runner_flow_last_success_timestamp_seconds` | `site`, `flow` | Unix time of the last pass |
//! | `runner_flow_last_completion_timestamp_seconds` | `site`, `flow` | Unix time of the last completed job |
//! | `runner_flow_interval_seconds` | `site`, `flow` | the flow's schedule interval (0: manual) |
//! | `runner_flow_job_duration_seconds` | `site`, `flow` | job duration |
//!
//! Each instance reports the jobs it ran: with several instances, alerts take the `max`
//! over instances of the timestamps and read the store-wide picture from there. The
//! consecutive count is per instance too; it resets only on a pass that instance saw, so a
//! flow that fails everywhere reaches the threshold on whichever instance runs it most.
//! Every family is capped at the `--max-site-series` limit times 8 (flows per site);
//! beyond it, new flows share the overflow series. Every family is shown (as its header)
//! before the first job ends, so the alerts and the dashboard that read them find them on
//! a fresh instance.

use std::time::Duration;

use promkit::{Buckets, Family, Gauge, Histogram, Registry, WhenEmpty};

use crate::domain::JobStatus;

/// Job duration buckets in seconds, as `runner_job_duration_seconds`.
const FLOW_SECONDS: [f64; 11] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

/// The per-flow families.
#[derive(Debug)]
pub(crate) struct FlowHealth {
    last_passed: Family<Gauge>,
    consecutive_failures: Family<Gauge>,
    last_success: Family<Gauge>,
    last_completion: Family<Gauge>,
    interval: Family<Gauge>,
    duration: Family<Histogram>,
}

/// What one completed job says about its flow.
#[derive(Debug, Clone, Copy)]
pub struct FlowResult<'a> {
    /// The site's name.
    pub site: &'a str,
    /// The flow's name.
    pub flow: &'a str,
    /// The job's final status.
    pub status: JobStatus,
    /// How long it took.
    pub took: Duration,
    /// The flow's schedule interval in seconds, `None` for manual.
    pub interval_secs: Option<u64>,
    /// When it ended, Unix seconds.
    pub at_secs: i64,
}

impl FlowHealth {
    pub(crate) fn new(registry: &Registry, max_series: usize) -> Result<Self, promkit::Error> {
        let gauge = |name: &str, help: &str| {
            Gauge::builder(name)
                .help(help)
                .labels(["site", "flow"])
                .max_series(max_series)
                .when_empty(WhenEmpty::Header)
                .register(registry)
        };
        Ok(Self {
            last_passed: gauge(
                "runner_flow_last_passed",
                "1 when the flow's last completed job passed, 0 when it failed, timed out or errored.",
            )?,
            consecutive_failures: gauge(
                "runner_flow_consecutive_failures",
                "Completed jobs of the flow in a row that did not pass, on this instance (0 after a pass).",
            )?,
            last_success: gauge(
                "runner_flow_last_success_timestamp_seconds",
                "Unix time of the flow's last passed job on this instance.",
            )?,
            last_completion: gauge(
                "runner_flow_last_completion_timestamp_seconds",
                "Unix time of the flow's last completed job (any outcome) on this instance.",
            )?,
            interval: gauge(
                "runner_flow_interval_seconds",
                "The flow's schedule interval in seconds (0: run by hand only).",
            )?,
            duration: Histogram::builder("runner_flow_job_duration_seconds")
                .help("Time from claiming a job to its outcome, by site and flow.")
                .unit("seconds")
                .labels(["site", "flow"])
                .buckets(Buckets::new(FLOW_SECONDS)?)
                .max_series(max_series)
                .when_empty(WhenEmpty::Header)
                .register(registry)?,
        })
    }

    /// Updates every family for one completed job.
    pub(crate) fn completed(&self, r: &FlowResult<'_>) {
        let labels = [r.site, r.flow];
        // Lookups cannot fail: two values for two names; a full family answers with its
        // overflow series.
        let passed = r.status == JobStatus::Passed;
        if let Ok(g) = self.last_passed.with_label_values(&labels) {
            g.set(i64::from(passed));
        }
        if let Ok(g) = self.consecutive_failures.with_label_values(&labels) {
            if passed { g.set(0) } else { g.inc() }
        }
        if passed && let Ok(g) = self.last_success.with_label_values(&labels) {
            g.set(r.at_secs);
        }
        if let Ok(g) = self.last_completion.with_label_values(&labels) {
            g.set(r.at_secs);
        }
        if let Ok(g) = self.interval.with_label_values(&labels) {
            g.set(r.interval_secs.and_then(|s| i64::try_from(s).ok()).unwrap_or(0));
        }
        if let Ok(h) = self.duration.with_label_values(&labels) {
            h.observe(r.took.as_secs_f64());
        }
    }
}
