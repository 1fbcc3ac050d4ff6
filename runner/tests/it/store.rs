//! The store on SQLite: round trips, claim-once, crash recovery, all-or-nothing writes.

use std::collections::HashSet;
use std::sync::Arc;

use runner::domain::{FlowSpec, JobOutcome, JobStatus, RunStatus, SiteSpec, Step, Trigger};
use runner::metrics::{Metrics, MetricsOptions};
use runner::service::{RunError, Runs};
use runner::store::{RunFilter, Store, StoreError};
use tokio::sync::Notify;

use crate::support::sqlite_store;

fn flow(name: &str) -> FlowSpec {
    FlowSpec {
        retries: None,
        interval_secs: None,
        timeout_secs: None,
        name: name.into(),
        driver: "http".into(),
        start_url: format!("/{name}"),
        steps: vec![
            Step::Fill { selector: "#q".into(), value: "x".into() },
            Step::Submit { selector: None },
            Step::ExpectText { text: "ok".into() },
        ],
    }
}

fn site(name: &str, flows: &[&str]) -> SiteSpec {
    SiteSpec {
        name: name.into(),
        base_url: "http://127.0.0.1:9/".into(),
        interval_secs: Some(60),
        enabled: true,
        flows: Some(flows.iter().map(|f| flow(f)).collect()),
    }
}

#[tokio::test]
async fn sites_and_flows_round_trip() {
    let (store, _dir) = sqlite_store().await;
    round_trip(store).await;
}

/// Also run on PostgreSQL.
pub(crate) async fn round_trip(store: Store) {
    let created = store.create_site(&site("<b>Shop</b> & co", &["a", "b"]), None, 1000).await.unwrap();
    assert_eq!(created.name, "<b>Shop</b> & co");
    assert_eq!((created.interval_secs, created.enabled, created.next_run_at), (Some(60), true, Some(1000)));
    assert_eq!(store.site(created.id).await.unwrap(), created);
    let flows = store.flows(created.id).await.unwrap();
    assert_eq!(flows.iter().map(|f| f.spec.clone()).collect::<Vec<_>>(), vec![flow("a"), flow("b")]);
    assert_eq!(store.flow(flows[1].id).await.unwrap(), flows[1]);

    // Update: b kept (same id), c added, a removed; the schedule turned off.
    let mut spec = site("Shop", &["b", "c"]);
    spec.interval_secs = None;
    let updated = store.update_site(created.id, &spec, 2000).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.interval_secs, updated.next_run_at), ("Shop", None, None));
    let after = store.flows(created.id).await.unwrap();
    assert_eq!(after.iter().map(|f| f.spec.name.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    assert_eq!(after[0].id, flows[1].id);

    // Import: c replaced in place, d appended.
    let mut c = flow("c");
    c.steps.clear();
    let imported = store.import_flows(created.id, &[c.clone(), flow("d")], 3000).await.unwrap();
    assert_eq!(imported.iter().map(|f| f.spec.name.as_str()).collect::<Vec<_>>(), ["b", "c", "d"]);
    assert_eq!(imported[1].spec, c);

    // Delete: the site and flows go, its runs stay as history.
    let run = store.enqueue_run(&updated, &after, Trigger::Manual, 4000).await.unwrap();
    store.delete_site(created.id).await.unwrap();
    assert!(matches!(store.site(created.id).await, Err(StoreError::NotFound { what: "site", .. })));
    assert!(store.flows(created.id).await.unwrap().is_empty());
    let kept = store.run(run.id).await.unwrap();
    assert_eq!((kept.site_id, kept.site_name.as_str()), (None, "Shop"));
    assert!(matches!(store.delete_site(created.id).await, Err(StoreError::NotFound { .. })));
}

#[tokio::test]
async fn a_failed_write_stores_nothing() {
    let (store, _dir) = sqlite_store().await;
    failed_write(store).await;
}

/// Also run on PostgreSQL.
pub(crate) async fn failed_write(store: Store) {
    store.create_site(&site("taken", &[]), None, 1).await.unwrap();
    let err = store.create_site(&site("taken", &["a"]), None, 2).await.unwrap_err();
    assert_eq!(err.to_string(), "a site named `taken` exists already; pick another name");
    // Two flows of one name break the unique index half-way through the transaction: the
    // site row written before must go too.
    let err = store.create_site(&site("half", &["same", "same"]), None, 3).await.unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err}");
    assert_eq!(store.site_by_name("half").await.unwrap(), None);
    assert_eq!(store.count_sites().await.unwrap(), 1);
}

#[tokio::test]
async fn every_job_is_claimed_exactly_once() {
    let (store, _dir) = sqlite_store().await;
    claim_once(store).await;
}

/// Also run on PostgreSQL.
pub(crate) async fn claim_once(store: Store) {
    let names: Vec<String> = (0..60).map(|i| format!("f{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = store.create_site(&site("busy", &refs), None, 1).await.unwrap();
    let flows = store.flows(s.id).await.unwrap();
    let run = store.enqueue_run(&s, &flows, Trigger::Manual, 2).await.unwrap();
    assert_eq!((run.status.as_str(), run.jobs_total), ("queued", 60));

    let mut claimers = Vec::new();
    for worker in 0..6 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let me = format!("w{worker}");
            let mut mine = Vec::new();
            while let Some(job) = store.claim("http", &me, 3).await.unwrap() {
                store.finish_job(job.id, &me, &JobOutcome::passed(), 5, 4).await.unwrap();
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (60, 60));
    assert_eq!(store.claim("http", "late", 5).await.unwrap(), None);
    let run = store.run(run.id).await.unwrap();
    assert_eq!((run.status.as_str(), run.finished_at), ("passed", Some(4)));
    assert_eq!(store.totals(None).await.unwrap().passed, 60);
}

#[tokio::test]
async fn claims_respect_the_driver() {
    let (store, _dir) = sqlite_store().await;
    let mut spec = site("mixed", &["a", "b"]);
    spec.flows.as_mut().unwrap()[1].driver = "webdriver".into();
    let s = store.create_site(&spec, None, 1).await.unwrap();
    store.enqueue_run(&s, &store.flows(s.id).await.unwrap(), Trigger::Manual, 2).await.unwrap();
    let job = store.claim("webdriver", "i", 3).await.unwrap().unwrap();
    assert_eq!((job.driver.as_str(), job.flow_name.as_str()), ("webdriver", "b"));
    assert_eq!(store.claim("webdriver", "i", 3).await.unwrap(), None);
    assert_eq!(store.claim("http", "i", 3).await.unwrap().unwrap().flow_name, "a");
}

#[tokio::test]
async fn a_crash_marks_running_jobs_interrupted_and_keeps_finished_ones() {
    let (store, _dir) = sqlite_store().await;
    crash_recovery(store).await;
}

/// Also run on PostgreSQL.
pub(crate) async fn crash_recovery(store: Store) {
    let s = store.create_site(&site("crashy", &["done", "running", "waiting"]), None, 1).await.unwrap();
    let run = store.enqueue_run(&s, &store.flows(s.id).await.unwrap(), Trigger::Manual, 2).await.unwrap();
    store.heartbeat("crashed", 2).await.unwrap();
    let first = store.claim("http", "crashed", 3).await.unwrap().unwrap();
    let failed =
        JobOutcome::not_passed(JobStatus::Failed, Some(2), "step 2 (expect_text): text \"ok\" not found");
    store.finish_job(first.id, "crashed", &failed, 42, 4).await.unwrap();
    let second = store.claim("http", "crashed", 5).await.unwrap().unwrap();

    // The same instance restarts: its running job is interrupted at once; the queued one
    // stays queued for the next worker.
    let recovered = store.recover_interrupted(Some("crashed"), 0, 10).await.unwrap();
    assert_eq!(recovered.jobs, 1);
    assert!(recovered.settled.is_empty(), "one job is still queued");
    let jobs = store.jobs_of_run(run.id).await.unwrap();
    assert_eq!(jobs[0].status, "failed");
    assert_eq!((jobs[0].failed_step, jobs[0].duration_ms), (Some(2), Some(42)));
    assert_eq!(jobs[0].reason.as_deref(), Some("step 2 (expect_text): text \"ok\" not found"));
    assert_eq!(jobs[1].id, second.id);
    assert_eq!(jobs[1].status, "interrupted");
    assert!(jobs[1].reason.as_deref().unwrap().contains("runner instance crashed stopped while the job ran"));
    assert_eq!(jobs[2].status, "queued");

    // The last job runs; the run settles as interrupted.
    let third = store.claim("http", "new", 11).await.unwrap().unwrap();
    let done = store.finish_job(third.id, "new", &JobOutcome::passed(), 1, 12).await.unwrap();
    assert_eq!(done.settled, Some(RunStatus::Interrupted));
    // A late result from the dead worker is refused.
    let late = store.finish_job(second.id, "crashed", &JobOutcome::passed(), 1, 13).await.unwrap();
    assert!(!late.recorded);
    // The totals (kept by triggers) followed every change.
    let t = store.totals(None).await.unwrap();
    assert_eq!((t.jobs, t.failed, t.interrupted, t.passed, t.queued, t.running), (3, 1, 1, 1, 0, 0));
    assert_eq!(store.totals(Some("webdriver")).await.unwrap().jobs, 0);
}

#[tokio::test]
async fn only_dead_instances_lose_their_jobs() {
    let (store, _dir) = sqlite_store().await;
    dead_instances(store).await;
}

/// Also run on PostgreSQL.
pub(crate) async fn dead_instances(store: Store) {
    let s = store.create_site(&site("shared", &["a", "b"]), None, 1).await.unwrap();
    let run = store.enqueue_run(&s, &store.flows(s.id).await.unwrap(), Trigger::Manual, 2).await.unwrap();
    store.heartbeat("alive", 1_000).await.unwrap();
    store.heartbeat("dead", 100).await.unwrap();
    let a = store.claim("http", "alive", 500).await.unwrap().unwrap();
    let b = store.claim("http", "dead", 500).await.unwrap().unwrap();
    let recovered = store.recover_interrupted(None, 900, 1_000).await.unwrap();
    assert_eq!(recovered.jobs, 1);
    assert_eq!(store.job(a.id).await.unwrap().status, "running");
    assert_eq!(store.job(b.id).await.unwrap().status, "interrupted");
    assert_eq!(store.other_live_instances("alive", 900).await.unwrap(), 0);
    assert_eq!(store.run(run.id).await.unwrap().status, "running");
}

#[tokio::test]
async fn shutdown_cancels_what_did_not_finish() {
    let (store, _dir) = sqlite_store().await;
    let s = store.create_site(&site("stopping", &["a", "b", "c"]), None, 1).await.unwrap();
    let run = store.enqueue_run(&s, &store.flows(s.id).await.unwrap(), Trigger::Manual, 2).await.unwrap();
    let a = store.claim("http", "me", 3).await.unwrap().unwrap();
    let cancelled = store.cancel_running("me", &[a.id], "shutting down", 4).await.unwrap();
    assert_eq!(cancelled.jobs, 1);
    let queued = store.cancel_queued("last instance stopped", 5).await.unwrap();
    assert_eq!(queued.jobs, 2);
    assert_eq!(queued.settled, [RunStatus::Cancelled]);
    let run = store.run(run.id).await.unwrap();
    assert_eq!(run.status, "cancelled");
    let filter =
        RunFilter { status: Some(RunStatus::Cancelled), page: 1, per_page: 10, ..Default::default() };
    assert_eq!(store.runs(&filter).await.unwrap().total, 1);
}

#[tokio::test]
async fn unreadable_flows_fail_the_run_naming_the_site() {
    let (store, dir) = sqlite_store().await;
    let s = store.create_site(&site("Corrupt Co", &["a"]), None, 1).await.unwrap();
    // Break the stored steps behind the store's back, as a hand edit would.
    let url = format!("sqlite://{}", dir.path().join("runner.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE flows SET steps = '{not json'").execute(&pool).await.unwrap();
    pool.close().await;

    let metrics = Arc::new(Metrics::new(&promkit::Registry::new(), &MetricsOptions::default()).unwrap());
    let runs = Runs::new(store.clone(), metrics, Arc::new(Notify::new()));
    let err = runs.start(s.id, Trigger::Manual, 2).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("flows not fetched for site Corrupt Co: stored flow "), "{text}");
    let RunError::FlowsNotFetched { run_id: Some(run_id), .. } = err else { panic!("{text}") };
    let run = store.run(run_id).await.unwrap();
    assert_eq!((run.status.as_str(), run.jobs_total), ("error", 0));
    assert_eq!(run.error.as_deref(), Some(text.as_str()));
    assert_eq!(store.queued_jobs().await.unwrap(), 0);
}

#[tokio::test]
async fn a_site_without_flows_cannot_run() {
    let (store, _dir) = sqlite_store().await;
    let s = store.create_site(&site("empty", &[]), None, 1).await.unwrap();
    let metrics = Arc::new(Metrics::new(&promkit::Registry::new(), &MetricsOptions::default()).unwrap());
    let runs = Runs::new(store.clone(), metrics, Arc::new(Notify::new()));
    let err = runs.start(s.id, Trigger::Manual, 2).await.unwrap_err();
    assert!(err.to_string().starts_with("site empty has no flows to run"), "{err}");
}

#[tokio::test]
async fn sweeps_close_overdue_jobs_and_settle_runs_whose_jobs_all_ended() {
    use sqlx::Connection;
    let (store, dir) = sqlite_store().await;
    let s = store.create_site(&site("sweep", &["a", "b"]), None, 1).await.unwrap();
    let run = store.enqueue_run(&s, &store.flows(s.id).await.unwrap(), Trigger::Manual, 2).await.unwrap();
    let old = store.claim("http", "lost", 3).await.unwrap().unwrap();
    let young = store.claim("http", "alive", 150).await.unwrap().unwrap();

    // Only the job running since before the cut is closed, with the reason given.
    let closed = store.close_overdue(100, "closed: overdue", 200).await.unwrap();
    assert_eq!((closed.jobs, closed.settled.len()), (1, 0), "the young job keeps the run open");
    let jobs = store.jobs_of_run(run.id).await.unwrap();
    assert_eq!(
        (jobs[0].id, jobs[0].status.as_str(), jobs[0].reason.as_deref()),
        (old.id, "interrupted", Some("closed: overdue"))
    );
    assert_eq!((jobs[1].id, jobs[1].status.as_str()), (young.id, "running"));

    // The young job's result lands but its run's settle is lost (as when the store went away
    // between the two): the sweep settles the run.
    let path = dir.path().join("runner.db");
    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("UPDATE jobs SET status = 'passed', finished_at = 300 WHERE id = $1")
        .bind(young.id)
        .execute(&mut raw)
        .await
        .unwrap();
    assert_eq!(store.run(run.id).await.unwrap().status, "running");
    let settled = store.settle_finished_runs(400).await.unwrap();
    assert_eq!(settled.settled, [RunStatus::Interrupted]);
    let run = store.run(run.id).await.unwrap();
    assert_eq!((run.status.as_str(), run.finished_at), ("interrupted", Some(400)));
    assert!(store.settle_finished_runs(500).await.unwrap().settled.is_empty(), "settled once");
}

#[tokio::test]
async fn pruning_deletes_old_and_surplus_runs_with_their_jobs_and_reclaims_space() {
    use sqlx::Connection;
    let (store, dir) = sqlite_store().await;
    prune(store).await;
    let path = dir.path().join("runner.db");
    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum").fetch_one(&mut raw).await.unwrap();
    assert_eq!(mode, 2, "incremental auto_vacuum");
}

/// Also run on PostgreSQL.
pub(crate) async fn prune(store: Store) {
    let s = store.create_site(&site("prune", &["a"]), None, 1).await.unwrap();
    let flows = store.flows(s.id).await.unwrap();
    let mut runs = Vec::new();
    for t in 1..=5_i64 {
        let run = store.enqueue_run(&s, &flows, Trigger::Manual, t * 1000).await.unwrap();
        let job = store.claim("http", "i", t * 1000 + 1).await.unwrap().unwrap();
        store.record_attempt(job.id, run.id, 1, &JobOutcome::passed(), 1, t * 1000 + 2).await.unwrap();
        store.finish_job(job.id, "i", &JobOutcome::passed(), 1, t * 1000 + 2).await.unwrap();
        runs.push(run.id);
    }
    let unfinished = store.enqueue_run(&s, &flows, Trigger::Manual, 1).await.unwrap();

    // Keep the newest 3 (the unfinished run counts among them, and is never deleted).
    let pruned = store.prune_batch(0, 3, 100).await.unwrap();
    assert_eq!((pruned.runs, pruned.jobs), (3, 3));
    let left: Vec<i64> = store
        .runs(&RunFilter { page: 1, per_page: 50, ..RunFilter::default() })
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [unfinished.id, runs[4], runs[3]]);
    assert!(store.jobs_of_run(runs[0]).await.unwrap().is_empty());
    assert!(store.attempts_of_run(runs[0]).await.unwrap().is_empty());
    assert_eq!(store.attempts_of_run(runs[4]).await.unwrap().len(), 1);
    // By age: runs finished before the cut go, the unfinished one stays.
    let pruned = store.prune_batch(5000, 0, 1).await.unwrap();
    assert_eq!(pruned.runs, 1, "one per batch");
    assert_eq!(store.prune_batch(5000, 0, 100).await.unwrap().runs, 0);
    let left: Vec<i64> = store
        .runs(&RunFilter { page: 1, per_page: 50, ..RunFilter::default() })
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [unfinished.id, runs[4]]);
    store.reclaim_space().await.unwrap();
    // Deleted jobs left the totals (kept by triggers) too.
    let t = store.totals(Some("http")).await.unwrap();
    assert_eq!((t.jobs, t.passed, t.queued), (2, 1, 1));
}

/// Flows run on their own interval (or their site's), each with its jitter; a slot is taken
/// once, and a flow whose job is still queued skips its slot.
#[tokio::test]
async fn flows_are_scheduled_on_their_own_interval_with_jitter() {
    use runner::domain::{first_run_at, next_run_after};
    use runner::scheduler::{Scheduler, SchedulerOptions};
    use std::time::Duration;

    let (store, _dir) = sqlite_store().await;
    let mut spec = site("sched", &["inherits", "own", "by hand"]);
    let flows = spec.flows.as_mut().unwrap();
    flows[1].interval_secs = Some(10);
    flows[2].interval_secs = Some(0);
    let created = store.create_site(&spec, None, 0).await.unwrap();
    let ids: Vec<i64> = store.flows(created.id).await.unwrap().iter().map(|f| f.id).collect();
    let metrics = Arc::new(Metrics::new(&promkit::Registry::new(), &MetricsOptions::default()).unwrap());
    let runs = Runs::new(store.clone(), Arc::clone(&metrics), Arc::new(Notify::new()));
    let options = SchedulerOptions {
        instance: "sched".into(),
        tick: Duration::from_secs(1),
        heartbeat: Duration::from_secs(1),
        stale_after: Duration::from_secs(10),
        overdue_after: Duration::from_secs(600),
        job_timeout: Duration::from_secs(30),
    };
    let scheduler = Scheduler::new(store.clone(), runs, metrics, options);

    // The first tick plans: no run yet, each scheduled flow one offset from now.
    let t0 = 1_000_000;
    scheduler.enqueue_due(t0).await;
    assert_eq!(
        store.runs(&RunFilter { page: 1, per_page: 10, ..RunFilter::default() }).await.unwrap().total,
        0
    );
    let planned = store.due_flows(i64::MAX).await.unwrap();
    let slot = |id: i64| planned.iter().find(|d| d.flow_id == id).map(|d| (d.next_run_at, d.interval_secs));
    let (inherits, own) = (first_run_at(ids[0], 60, t0), first_run_at(ids[1], 10, t0));
    assert_eq!(slot(ids[0]), Some((Some(inherits), 60)));
    assert_eq!(slot(ids[1]), Some((Some(own), 10)));
    assert_eq!(slot(ids[2]), None, "an interval of 0 is never scheduled");
    assert!((t0..t0 + 30_000).contains(&inherits) && (t0..t0 + 5_000).contains(&own));
    assert_eq!(store.site(created.id).await.unwrap().next_run_at, Some(inherits.min(own)));

    // When both came due, one run holds both; the same tick again takes nothing.
    let now = inherits.max(own);
    scheduler.enqueue_due(now).await;
    scheduler.enqueue_due(now).await;
    let listed = store.runs(&RunFilter { page: 1, per_page: 10, ..RunFilter::default() }).await.unwrap();
    assert_eq!(listed.total, 1);
    let jobs = store.jobs_of_run(listed.items[0].id).await.unwrap();
    let mut names: Vec<&str> = jobs.iter().map(|j| j.flow_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["inherits", "own"]);
    let planned = store.due_flows(i64::MAX).await.unwrap();
    let slot = |id: i64| planned.iter().find(|d| d.flow_id == id).and_then(|d| d.next_run_at);
    assert_eq!(slot(ids[1]), Some(next_run_after(own, 10, now)));

    // The own-interval flow comes due again while its job is still queued: skipped.
    let again = slot(ids[1]).unwrap();
    scheduler.enqueue_due(again).await;
    let listed = store.runs(&RunFilter { page: 1, per_page: 10, ..RunFilter::default() }).await.unwrap();
    assert_eq!(listed.total, 1, "{:?}", listed.items);
    assert_eq!(store.queued_jobs().await.unwrap(), 2);
}
