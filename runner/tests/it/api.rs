//! The JSON API on a runner started in-process: writes validated whole (clear 4xx, nothing
//! stored), flow import/export, the access rules, and the read endpoints.

use std::time::Duration;

use serde_json::json;

use crate::support::{client, get, hanging_site, post, post_json, send, start_app, test_site, wait_for};

fn contact_flow(name: &str) -> serde_json::Value {
    json!({
        "name": name,
        "start_url": "/form",
        "steps": [
            {"kind": "fill", "selector": "input[name=name]", "value": "Ada"},
            {"kind": "submit"},
            {"kind": "expect_text", "text": "Received"}
        ]
    })
}

#[tokio::test]
async fn invalid_writes_answer_4xx_and_store_nothing() {
    let t = start_app(|_| {}).await;
    let sites = format!("{}/api/sites", t.base);
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "application/json",
            json!({"name": "a", "base_url": "not a url"}).to_string(),
            422,
            "base_url: `not a url` is not an absolute URL",
        ),
        (
            "application/json",
            json!({"name": "a", "base_url": "ftp://x/"}).to_string(),
            422,
            "base_url: `ftp://x/`: must be an http or https URL",
        ),
        (
            "application/json",
            json!({"name": "a", "base_url": "http://x/", "flows": [{"name": "f", "start_url": "/", "steps": [{"kind": "hover", "selector": "a"}]}]}).to_string(),
            400,
            "unknown variant `hover`",
        ),
        (
            "application/json",
            json!({"name": "a", "base_url": "http://x/", "flows": [{"name": "f", "start_url": "/", "steps": [{"kind": "click", "selector": "##"}]}]}).to_string(),
            422,
            "flows[0].steps[0].selector: `##` is not a valid CSS selector",
        ),
        ("application/yaml", "name: [unclosed\nbase_url: x".into(), 400, "bad YAML"),
        ("application/json", "{\"name\": ".into(), 400, "bad JSON"),
        ("text/plain", "name=a".into(), 415, "send the body as Content-Type: application/json or application/yaml"),
        ("application/json", json!({"name": "x".repeat(300 * 1024), "base_url": "http://x/"}).to_string(), 413, "larger than the limit"),
        ("application/json", json!({"name": "", "base_url": "http://x/", "interval_secs": 1}).to_string(), 422, "interval_secs: must be between 5 and"),
    ];
    for (content_type, body, status, message) in cases {
        let answer = post(&sites, content_type, body).await;
        assert_eq!(answer.status, status, "{message}: {}", answer.body);
        let error = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(message), "expected `{message}` in `{error}`");
    }
    assert_eq!(get(&sites).await.json(), json!([]));

    // Markup in names is stored as given (escaping is the renderer's job).
    let site = test_site().await;
    let name = "<script>alert('x')</script> Shop";
    let created =
        post_json(&sites, &json!({"name": name, "base_url": site.base(), "flows": [contact_flow("c")]}))
            .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(get(&format!("{sites}/{id}")).await.json()["name"], name);

    // A duplicate name is a conflict; the first site is untouched.
    let dup = post_json(&sites, &json!({"name": name, "base_url": "http://other/"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.json()["code"], "conflict");
    // Not found, bad ids, unknown endpoints.
    assert_eq!(get(&format!("{sites}/999")).await.json()["error"], "site 999 not found");
    assert_eq!(get(&format!("{sites}/abc")).await.json()["error"], "`abc` is not a site id (a number)");
    assert_eq!(get(&format!("{}/api/nope", t.base)).await.status, 404);
    assert_eq!(get(&sites).await.json().as_array().unwrap().len(), 1);

    // An import with one bad flow stores none of them.
    let import = format!("{sites}/{id}/flows/import");
    let bad = json!({"flows": [contact_flow("new one"), {"name": "bad", "start_url": "javascript:x"}]});
    let answer = post_json(&import, &bad).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.json()["details"][0]["field"], "flows[1].start_url");
    assert_eq!(get(&format!("{sites}/{id}/flows")).await.json().as_array().unwrap().len(), 1);
    t.app.shutdown().await;
}

#[tokio::test]
async fn flows_import_and_export_as_yaml_and_json() {
    let t = start_app(|_| {}).await;
    let site = test_site().await;
    let created =
        post_json(&format!("{}/api/sites", t.base), &json!({"name": "shop", "base_url": site.base()})).await;
    let id = created.json()["id"].as_i64().unwrap();
    let yaml = "\
# exported from the old service
- name: order form
  start_url: /form
  steps:
    - kind: fill
      selector: input[name=name]
      value: \"Ada: \\\"the first\\\"\"
    - kind: select
      selector: select[name=size]
      value: Large
    - kind: click
      selector: button[name=action]
    - kind: wait_for
      selector: p.ok
      timeout_ms: 2000
    - kind: expect_url
      url: /done
- name: login
  driver: webdriver
  start_url: /login
  interval_secs: 300
  timeout_secs: 45
  steps:
    - kind: attach
      selector: input[name=cv]
      content: \"a,b\\n\"
      filename: rows.csv
";
    let imported = post(&format!("{}/api/sites/{id}/flows/import", t.base), "application/yaml", yaml).await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let flows = imported.json();
    assert_eq!(flows[0]["steps"][0]["value"], "Ada: \"the first\"");
    assert_eq!(flows[1]["driver"], "webdriver");
    assert_eq!(
        (flows[1]["interval_secs"].as_u64(), flows[1]["timeout_secs"].as_u64()),
        (Some(300), Some(45))
    );
    assert_eq!(
        flows[1]["steps"][0],
        json!({"kind": "attach", "selector": "input[name=cv]", "content": "a,b\n", "filename": "rows.csv"})
    );
    let flow_id = flows[0]["id"].as_i64().unwrap();
    let login_id = flows[1]["id"].as_i64().unwrap();
    let exported = get(&format!("{}/api/flows/{login_id}/export?format=yaml", t.base)).await.body;
    assert!(exported.contains("interval_secs: 300\ntimeout_secs: 45\n"), "{exported}");
    // Out of range, and a path out of the files folder: 422 naming each field.
    let bad = "name: x\nstart_url: /\ntimeout_secs: 0\ninterval_secs: 2\nsteps:\n  - kind: attach\n    selector: input\n    file: ../etc/passwd\n";
    let refused = post(&format!("{}/api/sites/{id}/flows/import", t.base), "application/yaml", bad).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    for want in [
        "flows[0].interval_secs",
        "flows[0].timeout_secs",
        "flows[0].steps[0].file",
        "leaves the files folder by `..`",
    ] {
        assert!(refused.body.contains(want), "{want}: {}", refused.body);
    }

    for format in ["yaml", "json"] {
        let exported = get(&format!("{}/api/flows/{flow_id}/export?format={format}", t.base)).await;
        assert_eq!(exported.status, 200);
        assert_eq!(
            exported.headers["content-disposition"],
            format!("attachment; filename=\"order_form.{format}\"").as_str()
        );
        // Re-importing the export into a second site gives the same flow.
        let other = post_json(
            &format!("{}/api/sites", t.base),
            &json!({"name": format!("copy {format}"), "base_url": site.base()}),
        )
        .await
        .json()["id"]
            .as_i64()
            .unwrap();
        let content_type = exported.headers["content-type"].to_str().unwrap().to_owned();
        let again =
            post(&format!("{}/api/sites/{other}/flows/import", t.base), &content_type, exported.body).await;
        assert_eq!(again.status, 200, "{}", again.body);
        let strip = |v: &serde_json::Value| json!({"name": v["name"], "driver": v["driver"], "start_url": v["start_url"], "steps": v["steps"]});
        assert_eq!(strip(&again.json()[0]), strip(&flows[0]));
    }
    assert_eq!(get(&format!("{}/api/flows/{flow_id}/export?format=xml", t.base)).await.status, 400);
    t.app.shutdown().await;
}

#[tokio::test]
async fn writes_need_the_token_and_the_same_origin() {
    let t = start_app(|c| c.write_token = Some("s3cret-token-0123".into())).await;
    let sites = format!("{}/api/sites", t.base);
    let body = json!({"name": "a", "base_url": "http://127.0.0.1:9/"}).to_string();
    let without = post(&sites, "application/json", body.clone()).await;
    assert_eq!(without.status, 401);
    assert_eq!(without.headers["www-authenticate"], "Bearer");
    let wrong = send(
        client()
            .post(&sites)
            .header("content-type", "application/json")
            .bearer_auth("nope")
            .body(body.clone()),
    )
    .await;
    assert_eq!(wrong.status, 401);
    let cross = send(
        client()
            .post(&sites)
            .header("content-type", "application/json")
            .header("origin", "http://evil.example")
            .bearer_auth("s3cret-token-0123")
            .body(body.clone()),
    )
    .await;
    assert_eq!((cross.status, cross.json()["code"].as_str()), (403, Some("cross_origin")));
    let ok = send(
        client()
            .post(&sites)
            .header("content-type", "application/json")
            .bearer_auth("s3cret-token-0123")
            .body(body),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // Reads need no token; a foreign Host (DNS rebinding) is refused on loopback.
    assert_eq!(get(&sites).await.status, 200);
    let rebound = send(client().get(&sites).header("host", "evil.example")).await;
    assert_eq!(rebound.status, 403);
    t.app.shutdown().await;
}

#[tokio::test]
async fn run_now_then_read_runs_drivers_summary_and_health() {
    let t = start_app(|_| {}).await;
    let site = test_site().await;
    let created = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "shop", "base_url": site.base(), "flows": [contact_flow("order"), {"name": "missing", "start_url": "/nope"}]}),
    )
    .await;
    let id = created.json()["id"].as_i64().unwrap();
    let started = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
    assert_eq!(started.status, 202, "{}", started.body);
    let run_id = started.json()["id"].as_i64().unwrap();
    let run = wait_for("the run to settle", Duration::from_secs(30), || async {
        let run = get(&format!("{}/api/runs/{run_id}", t.base)).await.json();
        run["finished_at"].is_i64().then_some(run)
    })
    .await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["jobs"][0]["status"], "passed");
    assert_eq!(run["jobs"][1]["status"], "failed");
    assert!(run["jobs"][1]["reason"].as_str().unwrap().contains("answered HTTP 404"), "{run}");

    let runs = get(&format!("{}/api/runs?site=shop&outcome=failed&page=1", t.base)).await.json();
    assert_eq!((runs["total"].as_i64(), runs["items"][0]["id"].as_i64()), (Some(1), Some(run_id)));
    assert_eq!(get(&format!("{}/api/runs?outcome=passed", t.base)).await.json()["total"], 0);
    assert_eq!(get(&format!("{}/api/runs?outcome=bogus", t.base)).await.status, 400);
    assert_eq!(get(&format!("{}/api/runs?page=0", t.base)).await.status, 400);
    assert_eq!(get(&format!("{}/api/runs?site=nobody", t.base)).await.status, 404);

    let sites = get(&format!("{}/api/sites", t.base)).await.json();
    assert_eq!((sites[0]["flows"].as_i64(), sites[0]["last_run"]["id"].as_i64()), (Some(2), Some(run_id)));

    let summary = get(&format!("{}/api/summary", t.base)).await.json();
    assert_eq!(summary["totals"]["passed"], 1);
    assert_eq!(summary["totals"]["failed"], 1);
    assert_eq!(summary["success_rate"], 0.5);
    assert!(summary["p95_ms"].is_i64());
    assert_eq!(summary["durations"].as_array().unwrap().len(), 2);

    let drivers = get(&format!("{}/api/drivers", t.base)).await.json();
    assert_eq!(drivers[0]["name"], "http");
    assert_eq!(drivers[0]["totals"]["jobs"], 2);
    assert_eq!(drivers[1]["name"], "webdriver");
    assert_eq!(drivers[1]["configured"], false);
    let http = get(&format!("{}/api/drivers/http", t.base)).await.json();
    assert_eq!(http["recent_jobs"].as_array().unwrap().len(), 2);
    assert_eq!(get(&format!("{}/api/drivers/selenium", t.base)).await.status, 404);

    let health = get(&format!("{}/", t.base)).await;
    assert_eq!(health.status, 200);
    let health = health.json();
    assert_eq!((health["status"].as_str(), health["store"]["reachable"].as_bool()), (Some("ok"), Some(true)));
    assert_eq!(
        health["drivers"][0],
        json!({"name": "http", "healthy": true, "configured": true, "detail": "built in: plain HTTP and an HTML parser"})
    );

    // Deleting the site keeps its runs.
    assert_eq!(send(client().delete(format!("{}/api/sites/{id}", t.base))).await.status, 204);
    assert_eq!(get(&format!("{}/api/runs/{run_id}", t.base)).await.json()["site_name"], "shop");
    // A site without flows cannot run.
    let empty =
        post_json(&format!("{}/api/sites", t.base), &json!({"name": "empty", "base_url": site.base()})).await;
    let empty_id = empty.json()["id"].as_i64().unwrap();
    let refused = post(&format!("{}/api/sites/{empty_id}/run", t.base), "application/json", "").await;
    assert_eq!((refused.status, refused.json()["code"].as_str()), (409, Some("no_flows")));
    t.app.shutdown().await;
}

#[tokio::test]
async fn metrics_are_served_with_the_seed_three() {
    let t = start_app(|_| {}).await;
    let _ = get(&format!("{}/api/summary", t.base)).await;
    let text = get(&format!("{}/metrics", t.base)).await.body;
    for needle in [
        "# HELP completion_duration_histogram_ms Latency for mapping completion in ms\n",
        "completion_duration_histogram_ms_bucket{le=\"4750\"} 0\n",
        "# HELP success_counter Count of successful mapping completions\n",
        "# HELP failure_counter Count of failed mapping completions\n",
        "runner_queue_depth 0\n",
        "runner_driver_sessions_in_use{driver=\"http\"} 0\n",
        "http_server_requests_total{code=\"200\",method=\"GET\",route=\"/api/summary\"} 1\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    if let Some(report) = promkit_oracle::promtool_check(&text) {
        assert!(report.ok, "{}", report.output);
    }
    // Scraped as Prometheus asks, the answer is OpenMetrics, where a counter must end in
    // `_total`: the seed's two counters travel as `unknown` (untyped) there, as Prometheus
    // ingests them. The lint of what Prometheus sees objects to the seed's names only
    // (runner/README.md says why they stay).
    let url = format!("{}/metrics", t.base);
    let problems = tokio::task::spawn_blocking(move || {
        promkit_testutil::scrape_and_compare(
            &url,
            "# HELP success_counter Count of successful mapping completions\n\
             # TYPE success_counter untyped\nsuccess_counter 0\n\
             # HELP failure_counter Count of failed mapping completions\n\
             # TYPE failure_counter untyped\nfailure_counter 0\n",
            &["success_counter", "failure_counter"],
        )
        .unwrap();
        let scrape = promkit_testutil::scrape(&url).unwrap();
        assert_eq!(scrape.format, promkit_parse::model::Format::OpenMetrics);
        promkit_testutil::lint(&scrape.families)
    })
    .await
    .unwrap();
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "completion_duration_histogram_ms: metric name should not include type 'histogram'",
            "completion_duration_histogram_ms: metric names should not contain abbreviated units",
        ]
    );
    t.app.shutdown().await;
}

#[tokio::test]
async fn run_now_is_refused_with_the_unfinished_run() {
    let t = start_app(|_| {}).await;
    let hanging = hanging_site().await;
    let created = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "busy", "base_url": format!("http://{hanging}/"), "flows": [{"name": "f", "start_url": "/"}]}),
    )
    .await;
    let id = created.json()["id"].as_i64().unwrap();
    let first = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
    assert_eq!(first.status, 202, "{}", first.body);
    let run_id = first.json()["id"].as_i64().unwrap();
    let again = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
    assert_eq!(again.status, 409, "{}", again.body);
    let body = again.json();
    assert_eq!(
        (body["code"].as_str(), body["run_id"].as_i64()),
        (Some("run_unfinished"), Some(run_id)),
        "{body}"
    );
    assert_eq!(
        body["error"],
        format!("site busy already has run {run_id} queued or running; wait for it to finish")
    );
    assert_eq!(get(&format!("{}/api/runs?site=busy", t.base)).await.json()["total"], 1);
    t.app.shutdown().await;
}

#[tokio::test]
async fn no_demo_disables_the_seeded_demo_site() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::support::test_config(&dir);
    config.demo = true;
    let app = runner::app::App::start(config.clone()).await.unwrap();
    let sites = get(&format!("http://{}/api/sites", app.addr())).await.json();
    assert_eq!((sites[0]["name"].as_str(), sites[0]["enabled"].as_bool()), (Some("demo"), Some(true)));
    app.shutdown().await;

    config.demo = false;
    let app = runner::app::App::start(config).await.unwrap();
    let sites = get(&format!("http://{}/api/sites", app.addr())).await.json();
    assert_eq!(sites.as_array().unwrap().len(), 1, "{sites}");
    assert_eq!((sites[0]["name"].as_str(), sites[0]["enabled"].as_bool()), (Some("demo"), Some(false)));
    app.shutdown().await;
}
