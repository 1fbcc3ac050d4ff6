//! PostgreSQL: the store's rules hold there too, and two runner instances sharing one
//! database and job queue run every job exactly once.
//!
//! The server: `RUNNER_TEST_PG_URL` (an existing server; each scenario gets a database of its
//! own there), else a throwaway cluster made with Debian's `initdb` from
//! /usr/lib/postgresql/*/bin in a temp dir, on a free loopback port. PostgreSQL refuses to
//! run as root, so under root (as in CI) the cluster runs as `nobody` through `setpriv`.
//! Without either: a failure under CI=true, else a SKIP line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use promkit::{Gauge, Registry};
use runner::domain::{FlowSpec, SiteSpec, Step, Trigger};
use runner::driver::DriverRegistry;
use runner::driver::http::{HttpDriver, HttpOptions};
use runner::metrics::{Metrics, MetricsOptions};
use runner::pool::{Pool, PoolOptions};
use runner::service::Runs;
use runner::store::{OpenOptions, Store};
use sqlx::Connection;
use tempfile::TempDir;
use tokio::sync::{Notify, watch};

use crate::support::{test_site, wait_for};

/// A PostgreSQL server for one test.
struct Server {
    /// `postgres://user@host:port/` without a database.
    admin: url::Url,
    cluster: Option<(Child, TempDir)>,
    /// How to start the throwaway cluster again: its bin dir and port.
    restart: Option<(PathBuf, u16)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some((child, _dir)) = &mut self.cluster {
            fast_shutdown(child);
        }
    }
}

/// SIGINT: PostgreSQL's fast shutdown (no backend outlives it); waits for the exit.
fn fast_shutdown(child: &mut Child) {
    let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts `postgres` on the cluster in `dir`/data.
fn spawn_postgres(bin: &Path, dir: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("postgres.log")).unwrap();
    as_postgres_user(&bin.join("postgres"))
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=100"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("postgres starts")
}

fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as `nobody` when we are root (PostgreSQL refuses root), else as ourselves.
fn as_postgres_user(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

async fn start_server() -> Option<Server> {
    if let Ok(url) = std::env::var("RUNNER_TEST_PG_URL")
        && !url.is_empty()
    {
        let mut admin = url::Url::parse(&url).expect("RUNNER_TEST_PG_URL is a URL");
        admin.set_path("/");
        return Some(Server { admin, cluster: None, restart: None });
    }
    let Some(bin) = pg_bin_dir() else {
        assert!(
            !promkit_oracle::ci(),
            "PostgreSQL not found in /usr/lib/postgresql/*/bin (apt install postgresql) and RUNNER_TEST_PG_URL unset; \
             CI needs it: run scripts/install-deps"
        );
        eprintln!("SKIP: PostgreSQL not found (apt install postgresql, or set RUNNER_TEST_PG_URL)");
        return None;
    };
    let dir = tempfile::Builder::new().prefix("runner-pg").tempdir().unwrap();
    if is_root() {
        let ok = Command::new("chown").arg("-R").arg("65534:65534").arg(dir.path()).status().unwrap();
        assert!(ok.success(), "chown of the cluster dir failed");
    }
    let data = dir.path().join("data");
    let log = |name: &str| std::fs::File::create(dir.path().join(name)).unwrap();
    let status = as_postgres_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        .stdout(Stdio::null())
        .stderr(log("initdb.log"))
        .status()
        .expect("initdb runs");
    assert!(status.success(), "initdb failed; see {}", dir.path().join("initdb.log").display());
    let port = promkit_oracle::free_port();
    let child = spawn_postgres(&bin, dir.path(), port);
    let admin = url::Url::parse(&format!("postgres://postgres@127.0.0.1:{port}/")).unwrap();
    let server = Server { admin, cluster: Some((child, dir)), restart: Some((bin, port)) };
    server.accepting().await;
    Some(server)
}

impl Server {
    async fn accepting(&self) {
        let probe = format!("{}postgres", self.admin);
        wait_for("PostgreSQL to accept connections", Duration::from_secs(60), || async {
            sqlx::PgConnection::connect(&probe).await.ok().map(|_| ())
        })
        .await;
    }

    /// Stops the throwaway cluster (fast shutdown); `false` for an outside server.
    fn stop(&mut self) -> bool {
        match &mut self.cluster {
            Some((child, _)) => {
                fast_shutdown(child);
                true
            }
            None => false,
        }
    }

    /// Starts the stopped cluster again, on its port, and waits until it accepts connections.
    async fn start_again(&mut self) {
        let (bin, port) = self.restart.clone().expect("a throwaway cluster");
        let (child, dir) = self.cluster.as_mut().expect("a throwaway cluster");
        *child = spawn_postgres(&bin, dir.path(), port);
        self.accepting().await;
    }

    /// A fresh, empty database on the server; its URL.
    async fn database(&self, name: &str) -> String {
        let unique = format!("runner_it_{name}_{}_{}", std::process::id(), runner::now_ms());
        let mut conn = sqlx::PgConnection::connect(&format!("{}postgres", self.admin)).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {unique}")).execute(&mut conn).await.unwrap();
        let mut url = self.admin.clone();
        url.set_path(&format!("/{unique}"));
        url.to_string()
    }

    async fn store(&self, name: &str) -> Store {
        Store::open(&self.database(name).await, &OpenOptions::default()).await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_keeps_its_rules_on_postgres() {
    let Some(server) = start_server().await else { return };
    crate::store::round_trip(server.store("round_trip").await).await;
    crate::store::failed_write(server.store("failed_write").await).await;
    crate::store::claim_once(server.store("claim_once").await).await;
    crate::store::crash_recovery(server.store("crash").await).await;
    crate::store::dead_instances(server.store("dead").await).await;
    crate::store::prune(server.store("prune").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_the_queue_and_run_each_job_once() {
    let Some(server) = start_server().await else { return };
    let url = server.database("shared").await;
    // Both instances start (and migrate) at once: the migrator's lock makes that safe.
    let options = OpenOptions::default();
    let (a, b) = tokio::join!(Store::open(&url, &options), Store::open(&url, &options));
    let (a, b) = (a.unwrap(), b.unwrap());
    let site = test_site().await;
    let flows: Vec<FlowSpec> = (0..200)
        .map(|i| FlowSpec {
            retries: None,
            interval_secs: None,
            timeout_secs: None,
            name: format!("hit {i}"),
            driver: "http".into(),
            start_url: format!("/hit?n={i}"),
            steps: vec![Step::ExpectText { text: "hit".into() }],
        })
        .collect();
    let spec = SiteSpec {
        name: "shared".into(),
        base_url: site.base(),
        interval_secs: None,
        enabled: true,
        flows: Some(flows),
    };
    let created = a.create_site(&spec, None, runner::now_ms()).await.unwrap();

    // A flow's due slot (its first planning, then each run) goes to exactly one instance.
    let flow_id = a.flows(created.id).await.unwrap()[0].id;
    let (took_a, took_b) =
        tokio::join!(a.take_flow_slot(flow_id, None, 61_000), b.take_flow_slot(flow_id, None, 61_000));
    assert_eq!(u8::from(took_a.unwrap()) + u8::from(took_b.unwrap()), 1);
    let (took_a, took_b) = tokio::join!(
        a.take_flow_slot(flow_id, Some(61_000), 121_000),
        b.take_flow_slot(flow_id, Some(61_000), 121_000)
    );
    assert_eq!(u8::from(took_a.unwrap()) + u8::from(took_b.unwrap()), 1);

    let (stop, stop_rx) = watch::channel(false);
    let mut pools = Vec::new();
    let mut all_metrics = Vec::new();
    let mut wakes = Vec::new();
    for (store, instance) in [(&a, "pg-a"), (&b, "pg-b")] {
        let metrics = Arc::new(Metrics::new(&Registry::new(), &MetricsOptions::default()).unwrap());
        let mut drivers = DriverRegistry::new();
        let http = HttpDriver::new(&HttpOptions { capacity: 4, ..HttpOptions::default() }).unwrap();
        drivers.register(Arc::new(http), Gauge::new()).unwrap();
        let options = PoolOptions {
            retries: 0,
            retry_backoff: Duration::ZERO,
            instance: instance.into(),
            job_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(20),
            grace: Duration::from_secs(5),
        };
        let wake = Arc::new(Notify::new());
        let pool =
            Pool::new(store.clone(), Arc::new(drivers), Arc::clone(&metrics), options, Arc::clone(&wake));
        pools.push(tokio::spawn(pool.run(stop_rx.clone())));
        all_metrics.push(metrics);
        wakes.push(wake);
    }
    let runs = Runs::new(a.clone(), Arc::clone(&all_metrics[0]), Arc::clone(&wakes[0]));
    let run = runs.start(created.id, Trigger::Manual, runner::now_ms()).await.unwrap();
    assert_eq!(run.jobs_total, 200);
    let run = wait_for("200 jobs on two instances", Duration::from_secs(120), || async {
        let run = b.run(run.id).await.unwrap();
        run.finished_at.is_some().then_some(run)
    })
    .await;
    assert_eq!(run.status, "passed");

    let jobs = b.jobs_of_run(run.id).await.unwrap();
    assert_eq!(jobs.len(), 200);
    assert!(jobs.iter().all(|j| j.status == "passed"), "{jobs:?}");
    assert_eq!(jobs.iter().map(|j| j.id).collect::<HashSet<_>>().len(), 200);
    let by = |who: &str| jobs.iter().filter(|j| j.claimed_by.as_deref() == Some(who)).count();
    assert_eq!(by("pg-a") + by("pg-b"), 200);
    assert!(
        by("pg-a") > 0 && by("pg-b") > 0,
        "both instances work the queue: a {} b {}",
        by("pg-a"),
        by("pg-b")
    );
    // The site saw each job exactly once.
    let hits = site.received.lock().unwrap().hits.clone();
    assert_eq!(hits.len(), 200);
    assert!(hits.values().all(|&n| n == 1), "{hits:?}");
    // And the metrics of the two instances add up to the jobs. An instance counts a job just
    // after the store commits it, so wait for the last ones to be counted.
    let counted = || all_metrics.iter().map(|m| m.successes() + m.failures()).sum::<u64>();
    wait_for("the 200 jobs to be counted", Duration::from_secs(30), || async {
        (counted() >= 200).then_some(())
    })
    .await;
    let successes: u64 = all_metrics.iter().map(|m| m.successes()).sum();
    assert_eq!(successes, 200);
    eprintln!("pg: instance a ran {} jobs, instance b {}", by("pg-a"), by("pg-b"));

    stop.send(true).unwrap();
    for pool in pools {
        pool.await.unwrap();
    }
    a.close().await;
    b.close().await;
}

/// A site whose `/slow?n=` answers "done" after 3 s, counting requests per `n`.
async fn slow_site() -> (String, Arc<std::sync::Mutex<std::collections::HashMap<u32, u32>>>) {
    use axum::extract::{Query, State};
    type Hits = Arc<std::sync::Mutex<std::collections::HashMap<u32, u32>>>;
    let hits: Hits = Arc::default();
    let app = axum::Router::new()
        .route(
            "/slow",
            axum::routing::get(
                |State(hits): State<Hits>, Query(q): Query<std::collections::HashMap<String, u32>>| async move {
                    *hits.lock().unwrap().entry(q.get("n").copied().unwrap_or(0)).or_default() += 1;
                    // A slow page: the jobs are in flight when the store goes away.
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    "done"
                },
            ),
        )
        .with_state(Arc::clone(&hits));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), hits)
}

/// The value of an unlabelled series in an exposition.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_outage_mid_run_loses_no_result_and_the_schedule_goes_on() {
    use crate::support::{client, get, post_json, send, start_app};
    use serde_json::json;

    let Some(mut server) = start_server().await else { return };
    if server.cluster.is_none() {
        eprintln!("SKIP: stopping PostgreSQL needs the throwaway cluster (RUNNER_TEST_PG_URL is set)");
        return;
    }
    let url = server.database("outage").await;
    let (base_url, hits) = slow_site().await;
    let t = start_app(|c| c.db = url.clone()).await;
    let metrics = || async { get(&format!("{}/metrics", t.base)).await.body };

    let flows: Vec<_> = (0..4)
        .map(|i| {
            json!({"name": format!("slow {i}"), "start_url": format!("/slow?n={i}"),
                        "steps": [{"kind": "expect_text", "text": "done"}]})
        })
        .collect();
    let created = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "outage", "base_url": base_url, "interval_secs": 5, "flows": flows}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let site = created.json()["id"].as_i64().unwrap();
    wait_for("the first run's jobs to be in flight", Duration::from_secs(30), || async {
        (sample(&metrics().await, "runner_jobs_in_flight")? >= 1.0).then_some(())
    })
    .await;

    let stopped = tokio::time::Instant::now();
    assert!(tokio::task::block_in_place(|| server.stop()));
    eprintln!("PostgreSQL stopped with jobs in flight (shutdown took {:?})", stopped.elapsed());
    wait_for("runner_store_up 0 during the outage", Duration::from_secs(14), || async {
        (sample(&metrics().await, "runner_store_up")? == 0.0).then_some(())
    })
    .await;
    wait_for("results held for the store (runner_results_pending)", Duration::from_secs(14), || async {
        (sample(&metrics().await, "runner_results_pending")? >= 1.0).then_some(())
    })
    .await;
    eprintln!("the outage shows in the metrics after {:?}", stopped.elapsed());
    // The outage being simulated lasts 15 s from the stop, whatever the runner does.
    tokio::time::sleep_until(stopped + Duration::from_secs(15)).await;
    eprintln!("starting PostgreSQL again after {:?}", stopped.elapsed());
    server.start_again().await;
    let back = runner::now_ms();
    eprintln!("PostgreSQL back after {:?}", stopped.elapsed());
    wait_for("runner_store_up 1 after the outage", Duration::from_secs(30), || async {
        (sample(&metrics().await, "runner_store_up")? == 1.0).then_some(())
    })
    .await;
    // The store answering again (a health probe) and the held results written are two events:
    // the jobs' tasks retry on their own backoff, so wait for the second too.
    wait_for("every held result stored (runner_results_pending 0)", Duration::from_secs(30), || async {
        (sample(&metrics().await, "runner_results_pending")? == 0.0).then_some(())
    })
    .await;

    // The schedule goes on without a restart: a run enqueued after the outage finishes.
    wait_for("a scheduled run after the outage to finish", Duration::from_secs(60), || async {
        let runs = get(&format!("{}/api/runs?site=outage", t.base)).await.json();
        runs["items"]
            .as_array()?
            .iter()
            .any(|r| r["created_at"].as_i64() > Some(back) && r["finished_at"].is_i64())
            .then_some(())
    })
    .await;
    let manual = json!({"name": "outage", "base_url": base_url, "interval_secs": null});
    let put = send(
        client()
            .put(format!("{}/api/sites/{site}", t.base))
            .header("content-type", "application/json")
            .body(manual.to_string()),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let runs = wait_for("every run to finish", Duration::from_secs(60), || async {
        let runs = get(&format!("{}/api/runs?site=outage", t.base)).await.json();
        let items = runs["items"].as_array()?.clone();
        items.iter().all(|r| r["finished_at"].is_i64()).then_some(items)
    })
    .await;

    let (mut jobs, mut passed) = (0, 0);
    for run in &runs {
        let id = run["id"].as_i64().unwrap();
        let detail = get(&format!("{}/api/runs/{id}", t.base)).await.json();
        for job in detail["jobs"].as_array().unwrap() {
            jobs += 1;
            assert_eq!(job["status"], "passed", "every job ends with its one stored result: {detail}");
            passed += 1;
        }
        assert_eq!(detail["status"], "passed", "{detail}");
        let attempts = detail["attempts"].as_array().unwrap();
        assert_eq!(
            attempts.len(),
            detail["jobs"].as_array().unwrap().len(),
            "one attempt kept per job: {detail}"
        );
    }
    assert!(runs.len() >= 2, "{runs:?}");
    // Nothing ran twice, nothing was counted twice.
    let hit_total: u32 = hits.lock().unwrap().values().sum();
    assert_eq!(u64::from(hit_total), jobs, "each job hit the site once");
    // A job is counted just after the store commits it: wait for the last ones.
    let metrics = t.app.metrics();
    wait_for("every stored job to be counted", Duration::from_secs(30), || async {
        (metrics.successes() + metrics.failures() >= passed).then_some(())
    })
    .await;
    assert_eq!((metrics.successes(), metrics.failures()), (passed, 0));
    eprintln!("outage: {} runs, {jobs} jobs, each stored and counted once", runs.len());
    t.app.shutdown().await;
}
