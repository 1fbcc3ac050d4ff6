//! Crash recovery with the real binary: a runner killed with SIGKILL while a job runs; the
//! next start marks that job (and its run) interrupted and keeps every finished result.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::prometheus::Killed;
use crate::support::{client, get, post, post_json, send, wait_for};

/// Starts the runner binary on `port` with its store in `dir`.
fn spawn_runner(dir: &std::path::Path, port: u16, log: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_runner"))
        .current_dir(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--db", "crash.db", "--instance-id", "crash-test"])
        .args(["--job-timeout", "120", "--poll-interval", "50", "--log", "info"])
        .env_remove("RUNNER_CONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(log)).unwrap())
        .spawn()
        .expect("runner binary starts")
}

/// Sends SIGTERM to a runner and waits for it to exit; its exit status.
pub(crate) async fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    wait_for("the runner to exit after SIGTERM", Duration::from_secs(30), || {
        let exited = child.try_wait().unwrap();
        async move { exited }
    })
    .await
}

pub(crate) async fn ready(base: &str) {
    wait_for("the runner to answer", Duration::from_secs(60), || async {
        let resp = client().get(format!("{base}/")).send().await.ok()?;
        (resp.status() == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_killed_runner_leaves_interrupted_jobs_and_keeps_finished_ones() {
    let dir = tempfile::tempdir().unwrap();
    let port = promkit_oracle::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let first = Killed(spawn_runner(dir.path(), port, "first.log"));
    ready(&base).await;

    // The demo site is seeded and runs once at start; make it manual so nothing new starts.
    let demo = get(&format!("{base}/api/sites")).await.json()[0].clone();
    let demo_base = demo["base_url"].as_str().unwrap().to_owned();
    let id = demo["id"].as_i64().unwrap();
    let manual = json!({"name": "demo", "base_url": demo_base, "interval_secs": null}).to_string();
    let put = send(
        client()
            .put(format!("{base}/api/sites/{id}"))
            .header("content-type", "application/json")
            .body(manual),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);

    // A site with one quick flow and one that waits a minute on the demo's slow page.
    let site = post_json(
        &format!("{base}/api/sites"),
        &json!({"name": "crashy", "base_url": demo_base, "flows": [
            {"name": "quick", "start_url": "/slow?ms=10", "steps": [{"kind": "expect_text", "text": "finally loaded"}]},
            {"name": "stuck", "start_url": "/slow?ms=60000"}
        ]}),
    )
    .await;
    assert_eq!(site.status, 201, "{}", site.body);
    let site_id = site.json()["id"].as_i64().unwrap();
    let run = post(&format!("{base}/api/sites/{site_id}/run"), "application/json", "").await.json();
    let run_id = run["id"].as_i64().unwrap();
    wait_for("quick passed and stuck running", Duration::from_secs(60), || async {
        let run = get(&format!("{base}/api/runs/{run_id}")).await.json();
        (run["jobs"][0]["status"] == "passed" && run["jobs"][1]["status"] == "running").then_some(())
    })
    .await;
    // Wait for the demo's start-up run too, so every other result is final.
    wait_for("the demo run to finish", Duration::from_secs(60), || async {
        let s = get(&format!("{base}/api/summary")).await.json();
        (s["totals"]["running"] == 1 && s["totals"]["queued"] == 0).then_some(())
    })
    .await;
    let before = get(&format!("{base}/api/summary")).await.json()["totals"].clone();

    // kill -9.
    drop(first);

    let second = spawn_runner(dir.path(), port, "second.log");
    let second = Killed(second);
    ready(&base).await;
    let run = get(&format!("{base}/api/runs/{run_id}")).await.json();
    assert_eq!(run["status"], "interrupted", "{run}");
    assert!(run["finished_at"].is_i64());
    assert_eq!(run["jobs"][0]["status"], "passed");
    assert_eq!(run["jobs"][1]["status"], "interrupted");
    assert_eq!(
        run["jobs"][1]["reason"],
        "runner instance crash-test stopped while the job ran (crash or kill); the job was not retried"
    );
    let after = get(&format!("{base}/api/summary")).await.json()["totals"].clone();
    for status in ["passed", "failed", "timed_out", "error"] {
        assert_eq!(after[status], before[status], "{status}: finished results are kept");
    }
    assert_eq!((after["running"].as_i64(), after["interrupted"].as_i64()), (Some(0), Some(1)));
    let metrics = get(&format!("{base}/metrics")).await.body;
    assert!(metrics.contains("runner_runs_total{outcome=\"interrupted\"} 1\n"), "{metrics}");

    // A clean stop this time: SIGTERM, exit status 0.
    let mut second = second;
    let status = terminate(&mut second.0).await;
    assert!(status.success(), "exit status {status}");
}
