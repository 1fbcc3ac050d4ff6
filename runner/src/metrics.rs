//! What runner exports at `/metrics`.
//!
//! The seed service's three metrics, ported with the same names, help texts and buckets
//! (dashboards and alerts written for it keep working):
//!
//! | metric | type | what |
//! |---|---|---|
//! | `completion_duration_histogram_ms` | histogram | job duration in ms, buckets `linear(mean - 5·domain, domain/2, 20)` |
//! | `success_counter` | counter | jobs that passed |
//! | `failure_counter` | counter | jobs that failed, timed out or errored |
//!
//! and, beside them, labelled families:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `runner_jobs_total` | `site`, `driver`, `outcome` | completed jobs (site names from the store; capped) |
//! | `runner_job_duration_seconds` | `driver` | job duration |
//! | `runner_queue_depth` | | jobs waiting, all instances |
//! | `runner_jobs_in_flight` | | jobs running on this instance |
//! | `runner_driver_sessions_in_use` | `driver` | sessions in use on this instance |
//! | `runner_runs_total` | `outcome` | runs settled by this instance |
//! | `runner_job_attempts_total` | `site`, `driver`, `outcome` | every attempt of a job, retries included |
//! | `runner_results_pending` | | job results this instance holds because the store refused them |
//! | `runner_store_up` | | 1 while the store answers this instance, 0 while it does not |
//! | `runner_flow_*` | `site`, `flow` | per-flow health: see [`FlowResult`] and the README |
//! | `process_*` | | CPU, memory, file descriptors of the runner process |
//! | `runner_build_info` | `version`, ... | always 1 |
//!
//! Each completed job (passed, failed, timed out, error) is counted once, by its final
//! outcome (its last attempt's), by the instance that ran it, when its result is stored; cancelled and interrupted jobs never ran to an
//! outcome and are not counted.

mod flows;

use std::time::Duration;

pub use flows::FlowResult;
use promkit::collectors::{ProcessCollector, ReadErrors};
use promkit::{Buckets, Counter, Family, Gauge, Histogram, Registry, WhenEmpty, linear_buckets};

use crate::domain::{JobStatus, RunStatus};

/// Settings of the metrics that have any.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsOptions {
    /// Expected mean job duration in ms (`--norm-mean`): centres the seed histogram.
    pub norm_mean: f64,
    /// Spread of job durations in ms (`--norm-domain`): the seed histogram's bucket width is
    /// half of it.
    pub norm_domain: f64,
    /// Most `site` label values in `runner_jobs_total` before new ones go to the overflow
    /// series.
    pub max_site_series: usize,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        Self { norm_mean: DEFAULT_NORM_MEAN, norm_domain: DEFAULT_NORM_DOMAIN, max_site_series: 200 }
    }
}

/// Default `--norm-mean`, ms. With [`DEFAULT_NORM_DOMAIN`] the seed formula gives buckets from
/// 0 to 4750 ms in steps of 250 ms: a form job on the http engine (tens of ms to a second)
/// and on the webdriver engine (one to three seconds, start-up included) lands inside them,
/// where the seed's 200/40 ended at 380 ms and put almost every real job in `+Inf`.
pub const DEFAULT_NORM_MEAN: f64 = 2500.0;
/// Default `--norm-domain`, ms: bucket width is half of it.
pub const DEFAULT_NORM_DOMAIN: f64 = 500.0;

/// Every metric runner updates, registered once at start-up.
#[derive(Debug)]
pub struct Metrics {
    completion: Histogram,
    success: Counter,
    failure: Counter,
    jobs: Family<Counter>,
    job_seconds: Family<Histogram>,
    queue_depth: Gauge,
    in_flight: Gauge,
    sessions: Family<Gauge>,
    runs: Family<Counter>,
    store_up: Gauge,
    results_pending: Gauge,
    attempts: Family<Counter>,
    flows: flows::FlowHealth,
}

/// Job duration buckets in seconds: form checks take from tens of milliseconds to a minute.
const JOB_SECONDS: [f64; 11] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

impl Metrics {
    /// Declares and registers every metric in `registry`, so all are exported (at zero)
    /// before the first job, with the process collector and `runner_build_info`.
    ///
    /// # Errors
    ///
    /// A registration error: a name taken in `registry`, or buckets that `norm_mean` and
    /// `norm_domain` make invalid (domain 0 or negative, not finite).
    pub fn new(registry: &Registry, options: &MetricsOptions) -> Result<Self, promkit::Error> {
        let (mean, domain) = (options.norm_mean, options.norm_domain);
        let metrics = Self {
            completion: Histogram::builder("completion_duration_histogram_ms")
                .help("Latency for mapping completion in ms")
                .buckets(linear_buckets(mean - 5.0 * domain, 0.5 * domain, 20)?)
                .register(registry)?,
            success: Counter::builder("success_counter")
                .help("Count of successful mapping completions")
                .register(registry)?,
            failure: Counter::builder("failure_counter")
                .help("Count of failed mapping completions")
                .register(registry)?,
            jobs: Counter::builder("runner_jobs_total")
                .help("Jobs that ran to an outcome (passed, failed, timed_out, error), by site, driver and outcome.")
                .labels(["site", "driver", "outcome"])
                .max_series(options.max_site_series.saturating_mul(8))
                // Shown before the first job ends, so the dashboard and alerts that read it find
                // the family on a fresh instance (an empty family is otherwise left out, as Go).
                .when_empty(WhenEmpty::Header)
                .register(registry)?,
            job_seconds: Histogram::builder("runner_job_duration_seconds")
                .help("Time from claiming a job to its outcome, by driver.")
                .unit("seconds")
                .labels(["driver"])
                .buckets(Buckets::new(JOB_SECONDS)?)
                .max_series(16)
                .when_empty(WhenEmpty::Header)
                .register(registry)?,
            queue_depth: Gauge::builder("runner_queue_depth")
                .help("Jobs waiting to be claimed, across all runner instances sharing the store.")
                .register(registry)?,
            in_flight: Gauge::builder("runner_jobs_in_flight")
                .help("Jobs running on this instance.")
                .register(registry)?,
            sessions: Gauge::builder("runner_driver_sessions_in_use")
                .help("Driver sessions in use on this instance, by driver.")
                .labels(["driver"])
                .max_series(16)
                .register(registry)?,
            runs: Counter::builder("runner_runs_total")
                .help("Runs settled by this instance, by outcome.")
                .labels(["outcome"])
                .max_series(16)
                .register(registry)?,
            store_up: Gauge::builder("runner_store_up")
                .help("1 while the store (SQLite or PostgreSQL) answers this instance, 0 while it does not.")
                .register(registry)?,
            results_pending: Gauge::builder("runner_results_pending")
                .help("Job results this instance holds and retries because the store did not take them.")
                .register(registry)?,
            attempts: Counter::builder("runner_job_attempts_total")
                .help("Attempts of jobs (a retried job counts each), by site, driver and the attempt's outcome.")
                .labels(["site", "driver", "outcome"])
                .max_series(options.max_site_series.saturating_mul(8))
                .register(registry)?,
            flows: flows::FlowHealth::new(registry, options.max_site_series.saturating_mul(8))?,
        };
        metrics.store_up.set(1);
        // Skip unreadable /proc entries rather than fail the scrape, as Go's default registry.
        ProcessCollector::builder().errors(ReadErrors::Skip).register(registry)?;
        promkit::build_info!("runner").register(registry)?;
        for outcome in [
            RunStatus::Passed,
            RunStatus::Failed,
            RunStatus::Error,
            RunStatus::Cancelled,
            RunStatus::Interrupted,
        ] {
            metrics.runs.with_label_values(&[outcome.as_str()])?;
        }
        Ok(metrics)
    }

    /// Counts a job that ran to an outcome: once, when its result is stored.
    pub fn job_completed(&self, site: &str, driver: &str, status: JobStatus, took: Duration) {
        // sub-microsecond precision is noise here
        self.completion.observe(took.as_micros() as f64 / 1000.0);
        if status == JobStatus::Passed {
            self.success.inc();
        } else {
            self.failure.inc();
        }
        // Label lookups cannot fail here: three values for three names, and a full family
        // answers with its overflow series.
        if let Ok(c) = self.jobs.with_label_values(&[site, driver, status.as_str()]) {
            c.inc();
        }
        if let Ok(h) = self.job_seconds.with_label_values(&[driver]) {
            h.observe(took.as_secs_f64());
        }
    }

    /// Counts one attempt of a job, retried or final.
    pub fn job_attempted(&self, site: &str, driver: &str, status: JobStatus) {
        if let Ok(c) = self.attempts.with_label_values(&[site, driver, status.as_str()]) {
            c.inc();
        }
    }

    /// Updates the per-flow health families for a job counted by [`Metrics::job_completed`].
    pub fn flow_completed(&self, result: &FlowResult<'_>) {
        self.flows.completed(result);
    }

    /// Records whether the store answered the last time this instance asked it.
    pub fn set_store_up(&self, up: bool) {
        self.store_up.set(i64::from(up));
    }

    /// Counts a run this instance settled.
    pub fn run_settled(&self, status: RunStatus) {
        if let Ok(c) = self.runs.with_label_values(&[status.as_str()]) {
            c.inc();
        }
    }

    /// Sets the queue depth read from the store.
    pub fn set_queue_depth(&self, depth: i64) {
        self.queue_depth.set(depth);
    }

    /// Results waiting for the store, for the pool.
    pub fn results_pending(&self) -> &Gauge {
        &self.results_pending
    }

    /// The in-flight gauge, for the pool.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The sessions-in-use series of one driver.
    ///
    /// # Errors
    ///
    /// A label error (never for one label value).
    pub fn driver_sessions(&self, driver: &str) -> Result<Gauge, promkit::LabelError> {
        self.sessions.with_label_values(&[driver]).map(promkit::SeriesRef::into_owned)
    }

    /// The seed success counter's value.
    pub fn successes(&self) -> u64 {
        self.success.get()
    }

    /// The seed failure counter's value.
    pub fn failures(&self) -> u64 {
        self.failure.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_metrics_keep_their_names_help_and_buckets() {
        let registry = Registry::new();
        let seed = MetricsOptions { norm_mean: 200.0, norm_domain: 40.0, ..MetricsOptions::default() };
        let m = Metrics::new(&registry, &seed).unwrap();
        m.job_completed("shop", "http", JobStatus::Passed, Duration::from_millis(210));
        m.job_completed("shop", "http", JobStatus::TimedOut, Duration::from_millis(30));
        m.run_settled(RunStatus::Failed);
        let text = registry.encode_text_string().unwrap();
        assert!(
            text.contains("# HELP completion_duration_histogram_ms Latency for mapping completion in ms\n")
        );
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"0\"} 0\n"), "{text}");
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"20\"} 0\n"));
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"40\"} 1\n"));
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"220\"} 2\n"));
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"380\"} 2\n"));
        assert!(text.contains("completion_duration_histogram_ms_count 2\n"));
        promkit_testutil::gather_and_compare(
            &registry,
            "# HELP success_counter Count of successful mapping completions
# TYPE success_counter counter
success_counter 1
# HELP failure_counter Count of failed mapping completions
# TYPE failure_counter counter
failure_counter 1
",
            &["success_counter", "failure_counter"],
        )
        .unwrap();
        assert!(
            text.contains("runner_jobs_total{driver=\"http\",outcome=\"timed_out\",site=\"shop\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("runner_runs_total{outcome=\"failed\"} 1\n"));
        assert!(text.contains("runner_runs_total{outcome=\"passed\"} 0\n"));
        assert!(text.contains("runner_job_duration_seconds_count{driver=\"http\"} 2\n"));
        assert_eq!((m.successes(), m.failures()), (1, 1));
        assert!(text.contains("# TYPE process_resident_memory_bytes gauge\n"), "{text}");
        assert!(text.contains("runner_build_info{"), "{text}");
    }

    /// The seed's names break Prometheus' conventions on purpose (README: its dashboards and
    /// alerts use them); the lint says exactly that, and nothing about the runner's own names.
    #[test]
    fn lint_flags_the_seed_names_and_only_them() {
        let registry = Registry::new();
        let m = Metrics::new(&registry, &MetricsOptions::default()).unwrap();
        m.job_completed("shop", "http", JobStatus::Passed, Duration::from_millis(210));
        let problems: Vec<String> = promkit_testutil::gather_and_lint(&registry, &[])
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "completion_duration_histogram_ms: metric name should not include type 'histogram'",
                "completion_duration_histogram_ms: metric names should not contain abbreviated units",
                "failure_counter: counter metrics should have \"_total\" suffix",
                "failure_counter: metric name should not include type 'counter'",
                "success_counter: counter metrics should have \"_total\" suffix",
                "success_counter: metric name should not include type 'counter'",
            ]
        );
    }

    #[test]
    fn default_buckets_hold_a_form_job_and_keep_the_seed_formula() {
        let registry = Registry::new();
        let m = Metrics::new(&registry, &MetricsOptions::default()).unwrap();
        m.job_completed("shop", "webdriver", JobStatus::Passed, Duration::from_millis(1800));
        let text = registry.encode_text_string().unwrap();
        // linear(2500 - 5 * 500, 250, 20): 0, 250, ..., 4750.
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"0\"} 0\n"), "{text}");
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"1750\"} 0\n"), "{text}");
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"2000\"} 1\n"), "{text}");
        assert!(text.contains("completion_duration_histogram_ms_bucket{le=\"4750\"} 1\n"), "{text}");
        assert!(!text.contains("le=\"5000\""), "{text}");
        assert!(text.contains("runner_store_up 1\n"), "{text}");
    }

    #[test]
    fn flow_health_counts_failures_in_a_row_and_remembers_the_last_pass() {
        let registry = Registry::new();
        let m = Metrics::new(&registry, &MetricsOptions::default()).unwrap();
        let result = |status, at_secs| FlowResult {
            site: "shop",
            flow: "login",
            status,
            took: Duration::from_millis(300),
            interval_secs: Some(60),
            at_secs,
        };
        m.flow_completed(&result(JobStatus::Passed, 1000));
        m.flow_completed(&result(JobStatus::Failed, 1060));
        m.flow_completed(&result(JobStatus::TimedOut, 1120));
        let text = registry.encode_text_string().unwrap();
        let l = "{flow=\"login\",site=\"shop\"}";
        for needle in [
            format!("runner_flow_last_passed{l} 0\n"),
            format!("runner_flow_consecutive_failures{l} 2\n"),
            format!("runner_flow_last_success_timestamp_seconds{l} 1000\n"),
            format!("runner_flow_last_completion_timestamp_seconds{l} 1120\n"),
            format!("runner_flow_interval_seconds{l} 60\n"),
            format!("runner_flow_job_duration_seconds_count{l} 3\n"),
        ] {
            assert!(text.contains(&needle), "{needle} not in {text}");
        }
        m.flow_completed(&result(JobStatus::Passed, 1180));
        let text = registry.encode_text_string().unwrap();
        assert!(text.contains(&format!("runner_flow_consecutive_failures{l} 0\n")), "{text}");
        assert!(text.contains(&format!("runner_flow_last_passed{l} 1\n")), "{text}");
    }

    #[test]
    fn bad_norm_domain_is_an_error_not_a_panic() {
        let options = MetricsOptions { norm_domain: 0.0, ..MetricsOptions::default() };
        assert!(Metrics::new(&Registry::new(), &options).is_err());
    }
}
