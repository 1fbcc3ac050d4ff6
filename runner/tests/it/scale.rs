//! The store at scale: a million job rows, and how long every dashboard page and API read
//! takes on them. A measurement, not a timed test: it is ignored by default, asserts only
//! that every read answers 200, and prints the figures. Run it (release build) with
//!
//! ```sh
//! cargo test -p runner --release --test it scale:: -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use runner::app::App;
use runner::domain::{FlowSpec, SiteSpec, Step};
use runner::store::{OpenOptions, Store};
use sqlx::Connection;

use crate::support::{client, get, test_config};

const SITES: usize = 50;
const FLOWS_PER_SITE: usize = 4;
const JOBS: usize = 1_000_000;

fn flow(i: usize) -> FlowSpec {
    FlowSpec {
        retries: None,
        interval_secs: None,
        timeout_secs: None,
        name: format!("contact form {i}"),
        driver: if i % 4 == 3 { "webdriver".into() } else { "http".into() },
        start_url: format!("/contact/{i}"),
        steps: vec![
            Step::Fill { selector: "input[name=email]".into(), value: "ada@example.com".into() },
            Step::Select { selector: "select[name=topic]".into(), value: "Support".into() },
            Step::Submit { selector: None },
            Step::ExpectText { text: "Thank you".into() },
        ],
    }
}

/// Fills a fresh SQLite store with `SITES` sites, their flows, and runs of all their flows
/// until there are `JOBS` jobs: 90 % passed, the rest failed (with a reason) or timed out,
/// spread over the last 30 days. Returns the store's path.
async fn fill(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("runner.db").to_str().unwrap().to_owned();
    let store = Store::open(&path, &OpenOptions::default()).await.unwrap();
    for s in 0..SITES {
        let spec = SiteSpec {
            name: format!("site {s}"),
            base_url: format!("http://127.0.0.1:9/{s}/"),
            interval_secs: None,
            enabled: true,
            flows: Some((0..FLOWS_PER_SITE).map(flow).collect()),
        };
        store.create_site(&spec, None, 0).await.unwrap();
    }
    drop(store);
    let snapshot = serde_json::to_string(&flow(0)).unwrap().replace('\'', "''");
    let runs = JOBS / FLOWS_PER_SITE;
    let day_ms: i64 = 86_400_000;
    let t0 = runner::now_ms() - 30 * day_ms;
    let step = 30 * day_ms / i64::try_from(runs).unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
    let started = Instant::now();
    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut conn).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {runs} - 1) \
         INSERT INTO runs (site_id, site_name, trigger, status, jobs_total, created_at, started_at, finished_at) \
         SELECT s.id, s.name, 'schedule', CASE WHEN n.i % 10 = 0 THEN 'failed' ELSE 'passed' END, {FLOWS_PER_SITE}, \
                {t0} + n.i * {step}, {t0} + n.i * {step} + 5, {t0} + n.i * {step} + 4000 \
         FROM n JOIN sites s ON s.id = (SELECT MIN(id) FROM sites) + n.i % {SITES}"
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(&format!(
        "INSERT INTO jobs (run_id, site_id, site_name, base_url, flow_id, flow_name, flow, driver, status, claimed_by, \
                           failed_step, reason, duration_ms, enqueued_at, started_at, finished_at) \
         SELECT r.id, r.site_id, r.site_name, 'http://127.0.0.1:9/', f.id, f.name, '{snapshot}', f.driver, \
                CASE WHEN r.status = 'failed' AND f.position = 0 THEN 'failed' \
                     WHEN (r.id + f.position) % 97 = 0 THEN 'timed_out' ELSE 'passed' END, 'scale', \
                CASE WHEN r.status = 'failed' AND f.position = 0 THEN 3 END, \
                CASE WHEN r.status = 'failed' AND f.position = 0 THEN \
                     'step 3 (expect_text): text \"Thank you\" not found on http://127.0.0.1:9/contact (HTTP 200)' END, \
                200 + (r.id * 7 + f.id * 13) % 3000, r.created_at, r.started_at, r.started_at + 200 + (r.id * 7 + f.id * 13) % 3000 \
         FROM runs r JOIN flows f ON f.site_id = r.site_id ORDER BY r.id, f.position"
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sqlx::query("PRAGMA optimize").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    eprintln!("filled {runs} runs and {JOBS} jobs in {:.1?}", started.elapsed());
    path
}

/// The median of `n` timed GETs of `url` (after one untimed), and its status.
async fn time_get(http: &reqwest::Client, url: &str, n: usize) -> (u16, Duration) {
    let status = http.get(url).send().await.unwrap().status().as_u16();
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let resp = http.get(url).send().await.unwrap();
        let _ = resp.bytes().await.unwrap();
        took.push(start.elapsed());
    }
    took.sort_unstable();
    (status, took[n / 2])
}

#[tokio::test]
#[ignore = "a measurement on a million job rows (about a minute to fill); run with --ignored --nocapture"]
async fn every_read_on_a_million_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = fill(&dir).await;
    let mut config = test_config(&dir);
    config.db = path;
    // Keep the runner's own work out of the figures: nothing is scheduled, and the pruner
    // keeps everything (30 days of history, 5000 runs per site).
    config.retention.keep_days = 0;
    config.retention.keep_runs_per_site = 0;
    let app = App::start(config).await.expect("runner starts");
    let base = format!("http://{}", app.addr());
    let http = client();

    let sites = get(&format!("{base}/api/sites")).await.json();
    let site = sites[0]["id"].as_i64().unwrap();
    let runs = get(&format!("{base}/api/runs?site={site}")).await.json();
    let run = runs["items"][0]["id"].as_i64().unwrap();
    let pages = runs["total"].as_i64().unwrap() / 50;
    let flows = get(&format!("{base}/api/sites/{site}/flows")).await.json();
    let flow = flows[0]["id"].as_i64().unwrap();
    let job = {
        let r = get(&format!("{base}/api/runs/{run}")).await.json();
        r["jobs"][0]["id"].as_i64().unwrap()
    };
    let all_pages = JOBS / FLOWS_PER_SITE / 50;
    let reads = [
        "/".to_owned(),
        "/metrics".to_owned(),
        "/ui".to_owned(),
        "/ui/sites".to_owned(),
        format!("/ui/sites/{site}"),
        format!("/ui/sites/{site}/edit"),
        "/ui/runs".to_owned(),
        format!("/ui/runs?page={all_pages}"),
        format!("/ui/runs?site={site}&outcome=failed"),
        format!("/ui/runs?site={site}&page={pages}"),
        format!("/ui/runs/{run}"),
        "/ui/drivers".to_owned(),
        "/ui/drivers/http".to_owned(),
        "/ui/drivers/webdriver".to_owned(),
        "/ui/add".to_owned(),
        "/ui/secrets".to_owned(),
        "/api/summary".to_owned(),
        "/api/sites".to_owned(),
        format!("/api/sites/{site}"),
        format!("/api/sites/{site}/flows"),
        format!("/api/flows/{flow}/export?format=yaml"),
        "/api/runs".to_owned(),
        format!("/api/runs?page={all_pages}"),
        "/api/runs?outcome=failed".to_owned(),
        format!("/api/runs?site={site}&outcome=failed&page=2"),
        format!("/api/runs/{run}"),
        "/api/drivers".to_owned(),
        "/api/drivers/http".to_owned(),
        "/api/drivers/webdriver".to_owned(),
        "/api/secrets".to_owned(),
        "/api/vars".to_owned(),
    ];
    eprintln!("{:<48} {:>6} {:>10}", "read", "status", "median");
    let mut slowest = Duration::ZERO;
    for path in &reads {
        let (status, took) = time_get(&http, &format!("{base}{path}"), 5).await;
        eprintln!("{path:<48} {status:>6} {:>8.1} ms", took.as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{path}");
        slowest = slowest.max(took);
    }
    let (status, took) = time_get(&http, &format!("{base}/api/jobs/{job}/screenshot"), 5).await;
    eprintln!(
        "{:<48} {status:>6} {:>8.1} ms",
        format!("/api/jobs/{job}/screenshot"),
        took.as_secs_f64() * 1000.0
    );
    assert_eq!(status, 404, "no screenshot was kept for a passed job");
    eprintln!("slowest: {:.1} ms", slowest.as_secs_f64() * 1000.0);
    app.shutdown().await;
}
