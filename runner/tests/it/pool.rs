//! The worker pool: per-job timeouts, bad sites and crashing engines fail only their own
//! jobs, and every completed job is stored and counted once.

use std::sync::Arc;
use std::time::Duration;

use promkit::{Gauge, Registry};
use runner::domain::{FlowSpec, JobOutcome, SiteSpec, Step, Trigger};
use runner::driver::http::{HttpDriver, HttpOptions};
use runner::driver::{BoxFuture, Driver, DriverRegistry, Health, JobSpec};
use runner::metrics::{Metrics, MetricsOptions};
use runner::pool::{Pool, PoolOptions};
use runner::service::Runs;
use runner::store::Store;
use tokio::sync::{Notify, watch};

use crate::support::{garbage_site, hanging_site, sqlite_store, test_site, wait_for};

/// A driver that panics on every job.
#[derive(Debug)]
struct Panicky;

impl Driver for Panicky {
    fn name(&self) -> &str {
        "panicky"
    }
    fn capacity(&self) -> usize {
        1
    }
    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async { Health { healthy: true, configured: true, detail: String::new() } })
    }
    fn run<'a>(&'a self, _: &'a JobSpec) -> BoxFuture<'a, JobOutcome> {
        Box::pin(async { panic!("engine bug on purpose") })
    }
}

fn flow(name: &str, start_url: &str, driver: &str) -> FlowSpec {
    FlowSpec {
        retries: None,
        interval_secs: None,
        timeout_secs: None,
        name: name.into(),
        driver: driver.into(),
        start_url: start_url.into(),
        steps: vec![Step::ExpectText { text: "hit".into() }],
    }
}

async fn settled(store: &Store, run_id: i64) -> runner::domain::Run {
    wait_for("the run to settle", Duration::from_secs(30), || async {
        let run = store.run(run_id).await.unwrap();
        run.finished_at.is_some().then_some(run)
    })
    .await
}

#[tokio::test]
async fn bad_sites_fail_their_own_jobs_and_the_pool_keeps_going() {
    let (store, _dir) = sqlite_store().await;
    let (good, hang, garbage) = (test_site().await, hanging_site().await, garbage_site().await);
    let mut flows = vec![
        flow("hangs 1", &format!("http://{hang}/"), "http"),
        // Its own timeout, longer than --job-timeout.
        FlowSpec { timeout_secs: Some(2), ..flow("hangs 2", &format!("http://{hang}/other"), "http") },
        flow("garbage", &format!("http://{garbage}/"), "http"),
        flow("engine bug", "/hit?n=999", "panicky"),
    ];
    for i in 0..8 {
        flows.push(flow(&format!("good {i}"), &format!("/hit?n={i}"), "http"));
    }
    let spec = SiteSpec {
        name: "mixed".into(),
        base_url: good.base(),
        interval_secs: None,
        enabled: true,
        flows: Some(flows),
    };
    let site = store.create_site(&spec, None, runner::now_ms()).await.unwrap();

    let registry = Registry::new();
    let metrics = Arc::new(Metrics::new(&registry, &MetricsOptions::default()).unwrap());
    let mut drivers = DriverRegistry::new();
    // Two sessions only, both soon held by the hanging jobs: the others run once the
    // timeout frees them.
    let http = HttpDriver::new(&HttpOptions { capacity: 2, ..HttpOptions::default() }).unwrap();
    drivers.register(Arc::new(http), Gauge::new()).unwrap();
    drivers.register(Arc::new(Panicky), Gauge::new()).unwrap();
    let wake = Arc::new(Notify::new());
    let options = PoolOptions {
        retries: 0,
        retry_backoff: Duration::ZERO,
        instance: "pool-test".into(),
        job_timeout: Duration::from_secs(1),
        poll_interval: Duration::from_millis(50),
        grace: Duration::from_secs(1),
    };
    let pool = Pool::new(store.clone(), Arc::new(drivers), Arc::clone(&metrics), options, Arc::clone(&wake));
    let (stop, stop_rx) = watch::channel(false);
    let pool = tokio::spawn(pool.run(stop_rx));

    let runs = Runs::new(store.clone(), Arc::clone(&metrics), wake);
    let run = runs.start(site.id, Trigger::Manual, runner::now_ms()).await.unwrap();
    let run = settled(&store, run.id).await;
    assert_eq!(run.status, "failed");

    let jobs = store.jobs_of_run(run.id).await.unwrap();
    let by_name = |n: &str| jobs.iter().find(|j| j.flow_name == n).unwrap();
    let j = by_name("hangs 1");
    assert_eq!(j.status, "timed_out", "{j:?}");
    assert_eq!(j.reason.as_deref(), Some("timed out after 1s (--job-timeout) loading the start page"));
    let j = by_name("hangs 2");
    assert_eq!(j.status, "timed_out", "{j:?}");
    assert_eq!(
        j.reason.as_deref(),
        Some("timed out after 2s (the flow's timeout_secs) loading the start page")
    );
    let g = by_name("garbage");
    assert_eq!(g.status, "error");
    assert!(g.reason.as_deref().unwrap().contains("failed: error sending request"), "{g:?}");
    let p = by_name("engine bug");
    assert_eq!(
        (p.status.as_str(), p.reason.as_deref()),
        ("error", Some("the panicky engine crashed: engine bug on purpose"))
    );
    for i in 0..8 {
        assert_eq!(by_name(&format!("good {i}")).status, "passed");
    }
    let hits = good.received.lock().unwrap().hits.clone();
    assert_eq!((0..8).map(|i| hits[&i]).collect::<Vec<_>>(), [1; 8]);

    // Each completed job counted once, as the store has it. The pool counts a job, and the
    // run its result settles, just after the store commits them: wait for all twelve and the
    // run to be counted rather than read the counters the moment the run is settled.
    let text = wait_for("the twelve jobs and the run to be counted", Duration::from_secs(30), || async {
        let text = registry.encode_text_string().unwrap();
        // Every outcome's series exists from the start, at zero.
        let settled = !text.contains("runner_runs_total{outcome=\"failed\"} 0\n");
        let counted = metrics.successes() + metrics.failures() >= 12 && settled;
        counted.then_some(text)
    })
    .await;
    assert_eq!((metrics.successes(), metrics.failures()), (8, 4));
    assert!(text.contains("completion_duration_histogram_ms_count 12\n"), "{text}");
    assert!(
        text.contains("runner_jobs_total{driver=\"http\",outcome=\"timed_out\",site=\"mixed\"} 2\n"),
        "{text}"
    );
    assert!(text.contains("runner_runs_total{outcome=\"failed\"} 1\n"), "{text}");
    assert!(text.contains("runner_jobs_in_flight 0\n"));

    stop.send(true).unwrap();
    let drained = pool.await.unwrap();
    assert_eq!(drained.cancelled, 0);
}

#[tokio::test]
async fn shutdown_waits_for_the_grace_period_then_cancels() {
    let (store, _dir) = sqlite_store().await;
    let hang = hanging_site().await;
    let spec = SiteSpec {
        name: "stuck".into(),
        base_url: format!("http://{hang}/"),
        interval_secs: None,
        enabled: true,
        flows: Some(vec![flow("hangs", "/", "http")]),
    };
    let site = store.create_site(&spec, None, 1).await.unwrap();
    let metrics = Arc::new(Metrics::new(&Registry::new(), &MetricsOptions::default()).unwrap());
    let mut drivers = DriverRegistry::new();
    drivers.register(Arc::new(HttpDriver::new(&HttpOptions::default()).unwrap()), Gauge::new()).unwrap();
    let wake = Arc::new(Notify::new());
    let options = PoolOptions {
        retries: 0,
        retry_backoff: Duration::ZERO,
        instance: "stopping".into(),
        job_timeout: Duration::from_secs(60),
        poll_interval: Duration::from_millis(50),
        grace: Duration::from_millis(300),
    };
    let pool = Pool::new(store.clone(), Arc::new(drivers), Arc::clone(&metrics), options, Arc::clone(&wake));
    let (stop, stop_rx) = watch::channel(false);
    let pool = tokio::spawn(pool.run(stop_rx));
    let run = Runs::new(store.clone(), Arc::clone(&metrics), wake)
        .start(site.id, Trigger::Manual, 2)
        .await
        .unwrap();
    wait_for("the job to start", Duration::from_secs(10), || async {
        (store.run(run.id).await.unwrap().status == "running").then_some(())
    })
    .await;
    stop.send(true).unwrap();
    let drained = pool.await.unwrap();
    assert_eq!((drained.finished, drained.cancelled), (0, 1));
    let job = &store.jobs_of_run(run.id).await.unwrap()[0];
    assert_eq!(job.status, "cancelled");
    assert!(
        job.reason.as_deref().unwrap().contains("did not finish within the 300ms grace period"),
        "{job:?}"
    );
    assert_eq!(store.run(run.id).await.unwrap().status, "cancelled");
    assert_eq!((metrics.successes(), metrics.failures()), (0, 0));
}
