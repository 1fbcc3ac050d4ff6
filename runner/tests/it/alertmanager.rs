//! End to end with a real Prometheus and a real Alertmanager, both on deploy/'s files: a flow
//! breaks on a test site, RunnerFlowFailing fires, Alertmanager posts it to a webhook here
//! with the site and flow labels; the flow is fixed and the resolved notification arrives.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get as route_get, post as route_post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::prometheus::{Killed, prometheus_binary, query, start_prometheus};
use crate::support::{get, post, post_json, start_app, wait_for};

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy").join(file)
}

/// `prometheus-alertmanager` (Debian's name) or `alertmanager` on PATH; `None` (after a SKIP
/// line) when missing outside CI.
fn alertmanager_binary() -> Option<PathBuf> {
    let found =
        promkit_oracle::which("prometheus-alertmanager").or_else(|| promkit_oracle::which("alertmanager"));
    if found.is_none() {
        assert!(
            !promkit_oracle::ci(),
            "alertmanager not found (apt install prometheus-alertmanager); CI needs it: run scripts/install-deps"
        );
        eprintln!("SKIP: alertmanager not found (apt install prometheus-alertmanager)");
    }
    found
}

/// deploy/alertmanager.yml with the webhook pointed at `hook` and the grouping delays cut to
/// a second, so a notification follows its alert within seconds.
fn alertmanager_config(hook: &str) -> String {
    let shipped = std::fs::read_to_string(deploy("alertmanager.yml")).unwrap();
    let mut config = shipped.clone();
    for (from, to) in [
        ("http://127.0.0.1:5001/runner-alerts", hook),
        ("group_wait: 30s", "group_wait: 1s"),
        ("group_interval: 5m", "group_interval: 1s"),
    ] {
        assert!(config.contains(from), "deploy/alertmanager.yml no longer has `{from}`");
        config = config.replace(from, to);
    }
    config
}

fn start_alertmanager(binary: &Path, dir: &Path, hook: &str) -> (Killed, String) {
    let config = dir.join("alertmanager.yml");
    std::fs::write(&config, alertmanager_config(hook)).unwrap();
    let port = promkit_oracle::free_port();
    let log = std::fs::File::create(dir.join("alertmanager.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=") // no gossip: one Alertmanager, no packets elsewhere
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("alertmanager starts");
    (Killed(child), format!("127.0.0.1:{port}"))
}

/// A site whose `/status` says "Ready", or "Broken" while `broken` is set.
async fn switchable_site(broken: Arc<AtomicBool>) -> String {
    let app = Router::new()
        .route(
            "/status",
            route_get(|State(broken): State<Arc<AtomicBool>>| async move {
                if broken.load(Ordering::SeqCst) { "Broken" } else { "Ready" }
            }),
        )
        .with_state(broken);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

/// A webhook receiver keeping every notification body.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/hook",
            route_post(|State(received): State<Arc<Mutex<Vec<Value>>>>, body: String| async move {
                let value: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                received.lock().unwrap().push(value);
            }),
        )
        .with_state(Arc::clone(&received));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), received)
}

/// The first notification of RunnerFlowFailing with this status, as its one alert.
fn notification(received: &Mutex<Vec<Value>>, status: &str) -> Option<Value> {
    received.lock().unwrap().iter().find_map(|n| {
        let alerts = n["alerts"].as_array()?;
        alerts
            .iter()
            .find(|a| a["labels"]["alertname"] == "RunnerFlowFailing" && a["status"] == status)
            .cloned()
    })
}

/// Runs the site once by hand and waits for the run to finish; returns its status.
async fn run_once(base: &str, site: i64) -> String {
    let started = post(&format!("{base}/api/sites/{site}/run"), "application/json", "").await;
    assert_eq!(started.status, 202, "{}", started.body);
    let run = started.json()["id"].as_i64().unwrap();
    wait_for(&format!("run {run} to finish"), Duration::from_secs(30), || async {
        let run = get(&format!("{base}/api/runs/{run}")).await.json();
        run["finished_at"].is_i64().then(|| run["status"].as_str().unwrap().to_owned())
    })
    .await
}

#[tokio::test]
async fn a_broken_flow_reaches_the_webhook_with_its_site_and_flow_and_resolves() {
    let Some(prometheus) = prometheus_binary() else { return };
    let Some(alertmanager) = alertmanager_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (hook, received) = webhook().await;
    let (_am, am_addr) = start_alertmanager(&alertmanager, dir.path(), &hook);

    let t = start_app(|_| {}).await;
    let broken = Arc::new(AtomicBool::new(false));
    let base_url = switchable_site(Arc::clone(&broken)).await;
    let flow = json!({"name": "status page", "start_url": "/status",
                      "steps": [{"kind": "expect_text", "text": "Ready"}]});
    let created = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "shop", "base_url": base_url, "flows": [flow]}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let site = created.json()["id"].as_i64().unwrap();

    // The shipped rules, unchanged: RunnerFlowFailing has no `for`, so it fires at the first
    // evaluation (every second here) that sees the third failure in a row.
    let extra = format!(
        "rule_files:\n  - {}\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{am_addr}\"]\n",
        deploy("alerts.yml").display()
    );
    let (_prom, prom) = start_prometheus(&prometheus, dir.path(), &t.app.addr().to_string(), &extra);

    assert_eq!(run_once(&t.base, site).await, "passed");
    broken.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(run_once(&t.base, site).await, "failed");
    }
    let failures = r#"runner_flow_consecutive_failures{site="shop",flow="status page"}"#;
    wait_for("Prometheus to scrape 3 failures in a row", Duration::from_secs(60), || async {
        (query(&prom, failures).await == Some(3.0)).then_some(())
    })
    .await;

    let firing = wait_for("the firing notification at the webhook", Duration::from_secs(60), || async {
        notification(&received, "firing")
    })
    .await;
    assert_eq!(firing["labels"]["site"], "shop", "{firing}");
    assert_eq!(firing["labels"]["flow"], "status page", "{firing}");
    assert_eq!(firing["labels"]["severity"], "critical", "{firing}");
    assert_eq!(
        firing["annotations"]["summary"], "flow status page on site shop failed 3 runs in a row",
        "{firing}"
    );

    broken.store(false, Ordering::SeqCst);
    assert_eq!(run_once(&t.base, site).await, "passed");
    let resolved = wait_for("the resolved notification at the webhook", Duration::from_secs(60), || async {
        notification(&received, "resolved")
    })
    .await;
    assert_eq!(
        (resolved["labels"]["site"].as_str(), resolved["labels"]["flow"].as_str()),
        (Some("shop"), Some("status page"))
    );
    // Nothing but the one flow alert reached the webhook (RunnerFlowStale is silent for a
    // manual site, the ratio and latency rules wait 10 minutes).
    let names: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|n| n["alerts"].as_array().cloned().unwrap_or_default())
        .map(|a| a["labels"]["alertname"].as_str().unwrap_or("?").to_owned())
        .collect();
    assert!(names.iter().all(|n| n == "RunnerFlowFailing"), "{names:?}");
    t.app.shutdown().await;
}
