//! End to end with a real Prometheus: the runner runs the demo site's flows on the http
//! engine, Prometheus scrapes it, and PromQL must agree with the job results in the store.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::{client, get, post, send, start_app, wait_for};

/// A child process killed when the test ends, however it ends.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `prometheus` on PATH; `None` (after a SKIP line) when missing outside CI.
pub(crate) fn prometheus_binary() -> Option<PathBuf> {
    let found = promkit_oracle::which("prometheus");
    if found.is_none() {
        assert!(
            !promkit_oracle::ci(),
            "prometheus not found (apt install prometheus); CI needs it: run scripts/install-deps"
        );
        eprintln!("SKIP: prometheus not found (apt install prometheus)");
    }
    found
}

/// Starts Prometheus scraping `target` every second, with `extra` appended to its config
/// (rule files, alerting); returns it and its base URL.
pub(crate) fn start_prometheus(binary: &Path, dir: &Path, target: &str, extra: &str) -> (Killed, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: runner\n    static_configs:\n      - targets: [\"{target}\"]\n{extra}"
        ),
    )
    .unwrap();
    let port = promkit_oracle::free_port();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts");
    (Killed(child), format!("http://127.0.0.1:{port}"))
}

/// The value of an instant query's only sample, if it has one.
pub(crate) async fn query(prometheus: &str, promql: &str) -> Option<f64> {
    let encoded: String = form_urlencoded::byte_serialize(promql.as_bytes()).collect();
    // Not `send`: Prometheus may not be listening yet.
    let resp = client().get(format!("{prometheus}/api/v1/query?query={encoded}")).send().await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.ok()?).ok()?;
    let result = body["data"]["result"].as_array()?;
    if result.len() != 1 {
        return None;
    }
    result[0]["value"][1].as_str()?.parse().ok()
}

#[tokio::test]
async fn promql_agrees_with_the_store() {
    let Some(binary) = prometheus_binary() else { return };
    let t = start_app(|c| c.demo = true).await;

    // The demo site is seeded and runs at once; stop its schedule so the counts hold still.
    let sites = get(&format!("{}/api/sites", t.base)).await.json();
    let demo = &sites[0];
    assert_eq!(demo["name"], "demo");
    let id = demo["id"].as_i64().unwrap();
    let manual = json!({"name": "demo", "base_url": demo["base_url"], "interval_secs": null});
    let put = send(
        client()
            .put(format!("{}/api/sites/{id}", t.base))
            .header("content-type", "application/json")
            .body(manual.to_string()),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    // Run now is refused (409) while the seeded first run is unfinished.
    wait_for("run now to be accepted after the first demo run", Duration::from_secs(60), || async {
        let run = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
        assert!(matches!(run.status, 202 | 409), "{}", run.body);
        (run.status == 202).then_some(())
    })
    .await;
    let totals = wait_for("every demo job to finish", Duration::from_secs(60), || async {
        let s = get(&format!("{}/api/summary", t.base)).await.json();
        let t = s["totals"].clone();
        (t["queued"] == 0
            && t["running"] == 0
            && s["runs"].as_i64() >= Some(1)
            && s["recent_runs"][0]["finished_at"].is_i64())
        .then_some(t)
    })
    .await;
    let passed = totals["passed"].as_f64().unwrap();
    let not_passed = totals["failed"].as_f64().unwrap()
        + totals["timed_out"].as_f64().unwrap()
        + totals["error"].as_f64().unwrap();
    assert!(passed >= 2.0 && not_passed >= 2.0, "the demo flows pass and fail: {totals}");

    let dir = tempfile::tempdir().unwrap();
    let (_prometheus, prom) = start_prometheus(&binary, dir.path(), &t.app.addr().to_string(), "");
    wait_for("Prometheus to scrape the runner (up == 1)", Duration::from_secs(60), || async {
        (query(&prom, "up{job=\"runner\"}").await == Some(1.0)).then_some(())
    })
    .await;
    let expected = [
        ("success_counter", passed),
        ("failure_counter", not_passed),
        ("completion_duration_histogram_ms_count", passed + not_passed),
        ("sum(runner_jobs_total{site=\"demo\",outcome=\"passed\"})", passed),
        ("sum(runner_jobs_total{site=\"demo\",outcome!=\"passed\"})", not_passed),
    ];
    for (promql, want) in expected {
        let got = wait_for(&format!("PromQL `{promql}`"), Duration::from_secs(30), || async {
            query(&prom, promql).await
        })
        .await;
        assert_eq!(got, want, "PromQL `{promql}` against the store's totals {totals}");
    }
    eprintln!("PromQL agrees with the store: {passed} passed, {not_passed} not passed");
    t.app.shutdown().await;
}
