//! Retries: a job that does not pass is run again (per flow `retries`, or `--retries`) with a
//! backoff; its outcome is its last attempt's, every attempt is kept and shown, the seed
//! counters count the job once and `runner_job_attempts_total` counts each attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get as route_get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::support::{get, post, post_json, start_app, wait_for};

/// `/flaky` says "Broken" to its first request and "Ready" to every later one; `/down`
/// always says "Broken".
async fn flaky_site() -> String {
    let hits = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route(
            "/flaky",
            route_get(|State(hits): State<Arc<AtomicU32>>| async move {
                if hits.fetch_add(1, Ordering::SeqCst) == 0 { "Broken" } else { "Ready" }
            }),
        )
        .route("/down", route_get(|| async { "Broken" }))
        .with_state(hits);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no `{series}` in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_retried_job_ends_with_its_last_attempt_and_keeps_every_one() {
    let t = start_app(|c| c.retry_backoff = Duration::from_millis(50)).await;
    let base_url = flaky_site().await;
    let expect_ready = json!([{"kind": "expect_text", "text": "Ready"}]);
    let created = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "shop", "base_url": base_url, "flows": [
            {"name": "flaky", "start_url": "/flaky", "steps": expect_ready, "retries": 2},
            {"name": "down", "start_url": "/down", "steps": expect_ready, "retries": 1},
        ]}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let flows = get(&format!("{}/api/sites/{id}/flows", t.base)).await.json();
    assert_eq!((flows[0]["retries"].as_i64(), flows[1]["retries"].as_i64()), (Some(2), Some(1)));

    let started = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
    let run_id = started.json()["id"].as_i64().unwrap();
    let run = wait_for("the run to finish", Duration::from_secs(30), || async {
        let run = get(&format!("{}/api/runs/{run_id}", t.base)).await.json();
        run["finished_at"].is_i64().then_some(run)
    })
    .await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(
        (run["jobs"][0]["status"].as_str(), run["jobs"][1]["status"].as_str()),
        (Some("passed"), Some("failed"))
    );
    let attempts: Vec<(i64, i64, &str)> = run["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (a["job_id"].as_i64().unwrap(), a["attempt"].as_i64().unwrap(), a["status"].as_str().unwrap())
        })
        .collect();
    let (flaky, down) = (run["jobs"][0]["id"].as_i64().unwrap(), run["jobs"][1]["id"].as_i64().unwrap());
    assert_eq!(
        attempts,
        [(flaky, 1, "failed"), (flaky, 2, "passed"), (down, 1, "failed"), (down, 2, "failed")],
        "{run}"
    );

    // The runner counts a job, then its flow, just after the store commits the job: wait for
    // the last thing it counts for each (the flow's duration) before reading the rest.
    let text = wait_for("both flows to be counted", Duration::from_secs(30), || async {
        let text = get(&format!("{}/metrics", t.base)).await.body;
        let counted = |flow: &str| {
            text.contains(&format!(
                "runner_flow_job_duration_seconds_count{{flow=\"{flow}\",site=\"shop\"}} 1\n"
            ))
        };
        (counted("flaky") && counted("down")).then_some(text)
    })
    .await;
    assert_eq!(metric(&text, "success_counter"), 1.0);
    assert_eq!(metric(&text, "failure_counter"), 1.0);
    assert_eq!(metric(&text, "completion_duration_histogram_ms_count"), 2.0);
    assert_eq!(metric(&text, r#"runner_jobs_total{driver="http",outcome="passed",site="shop"}"#), 1.0);
    assert_eq!(metric(&text, r#"runner_jobs_total{driver="http",outcome="failed",site="shop"}"#), 1.0);
    assert_eq!(
        metric(&text, r#"runner_job_attempts_total{driver="http",outcome="failed",site="shop"}"#),
        3.0
    );
    assert_eq!(
        metric(&text, r#"runner_job_attempts_total{driver="http",outcome="passed",site="shop"}"#),
        1.0
    );
    assert_eq!(metric(&text, r#"runner_flow_consecutive_failures{flow="flaky",site="shop"}"#), 0.0);
    assert_eq!(metric(&text, r#"runner_flow_consecutive_failures{flow="down",site="shop"}"#), 1.0);

    let page = get(&format!("{}/ui/runs/{run_id}", t.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Attempts of retried jobs"), "{}", page.body);
    assert_eq!(page.body.matches("<tr><td>flaky</td>").count(), 2, "{}", page.body);
    t.app.shutdown().await;
}

#[tokio::test]
async fn more_than_ten_retries_are_refused_with_the_field() {
    let t = start_app(|_| {}).await;
    let answer = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "shop", "base_url": "http://127.0.0.1:9/", "flows": [
            {"name": "f", "start_url": "/", "retries": 11}]}),
    )
    .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.json()["details"][0]["field"], "flows[0].retries", "{}", answer.body);
    t.app.shutdown().await;
}
