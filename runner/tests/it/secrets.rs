//! Secrets: a login flow whose password is `${secrets.PW}` against a real form. The value
//! reaches the site, and appears nowhere else: not in the store file, the log, any API answer,
//! the dashboard's HTML or a failure reason (which shows `***` where the page's title and a
//! redirect URL held it). Also: rotation, names-only reads, plain passwords refused on import.
//!
//! The runner is the real binary, so "the log" is what it writes to stderr with its own
//! subscriber. An in-process subscriber set for one test is not a reliable witness: while it is
//! the only dispatcher alive, tracing caches the interest of a call site first reached on another
//! test's thread as "never", and the event is then skipped for every subscriber.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{Html, Redirect};
use axum::routing::get as route_get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::crash::{ready, terminate};
use crate::prometheus::Killed;
use crate::support::{client, get, post, post_json, send, start_app, wait_for};

/// A value with characters that URLs and forms encode, so their encoded forms are checked too.
const PASSWORD: &str = "s3cr3t p@ss!";

/// Every password posted to `/session`.
type Posted = Arc<Mutex<Vec<String>>>;

/// `/login` (a form), `/session` (records the password, redirects to `/welcome?token=<it>`),
/// `/welcome` (a page whose title shows the token).
async fn login_site() -> (String, Posted) {
    let posted: Posted = Arc::default();
    let app = Router::new()
        .route(
            "/login",
            route_get(|| async {
                Html(r#"<form method=post action=/session><input name=user><input type=password name=password><button>Log in</button></form>"#)
            }),
        )
        .route(
            "/session",
            axum::routing::post(|State(posted): State<Posted>, Form(form): Form<Vec<(String, String)>>| async move {
                let pw = form.into_iter().find(|(k, _)| k == "password").map(|(_, v)| v).unwrap_or_default();
                let to: String = form_urlencoded::Serializer::new(String::new()).append_pair("token", &pw).finish();
                posted.lock().unwrap().push(pw);
                Redirect::to(&format!("/welcome?{to}"))
            }),
        )
        .route(
            "/welcome",
            route_get(|Query(q): Query<Vec<(String, String)>>| async move {
                let token = q.into_iter().map(|(_, v)| v).collect::<String>();
                Html(format!("<title>Welcome {token}</title><p>Signed in</p>"))
            }),
        )
        .with_state(Arc::clone(&posted));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), posted)
}

fn put_json(url: String, body: &serde_json::Value) -> reqwest::RequestBuilder {
    client().put(url).header("content-type", "application/json").body(body.to_string())
}

fn leaks(haystack: &[u8]) -> Vec<&'static str> {
    let encoded: &'static str = "s3cr3t+p%40ss%21";
    [PASSWORD, encoded, "s3cr3t%20p%40ss%21", "s3cr3t"]
        .into_iter()
        .filter(|n| haystack.windows(n.len()).any(|w| w == n.as_bytes()))
        .collect()
}

#[tokio::test]
async fn a_secret_password_reaches_the_site_and_nowhere_else() {
    let (base, posted) = login_site().await;
    let dir = tempfile::tempdir().unwrap();
    let port = promkit_oracle::free_port();
    let runner_base = format!("http://127.0.0.1:{port}");
    let mut runner = Killed(
        Command::new(env!("CARGO_BIN_EXE_runner"))
            .current_dir(dir.path())
            .args(["--listen", &format!("127.0.0.1:{port}"), "--db", "runner.db"])
            .args(["--secret-key-file", "runner.key", "--no-demo", "--retries", "0"])
            .args(["--poll-interval", "50", "--log", "info"])
            .env_remove("RUNNER_CONFIG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("runner.log")).unwrap())
            .spawn()
            .expect("runner binary starts"),
    );
    ready(&runner_base).await;
    let api = format!("{runner_base}/api");

    // Set, then rotate: reads show names and dates only.
    let put = |value: &str| send(put_json(format!("{api}/secrets/PW"), &json!({ "value": value })));
    assert_eq!(put("first value").await.status, 200);
    let set = put(PASSWORD).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.json()["name"], "PW");
    assert!(set.json().get("value").is_none(), "{}", set.body);
    let listed = get(&format!("{api}/secrets")).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0]["updated_at"].as_i64().unwrap() >= listed[0]["created_at"].as_i64().unwrap());
    let bad = send(put_json(format!("{api}/secrets/a.b"), &json!({"value": "x"}))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // A plain-text password is refused on import unless forced.
    let site = post_json(&format!("{api}/sites"), &json!({"name": "login", "base_url": base})).await;
    assert_eq!(site.status, 201, "{}", site.body);
    let id = site.json()["id"].as_i64().unwrap();
    let plain = json!([{"name": "plain", "start_url": "/login", "steps": [
        {"kind": "fill", "selector": "input[name=password]", "value": "hunter2"}]}]);
    let refused =
        post(&format!("{api}/sites/{id}/flows/import"), "application/json", plain.to_string()).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("${secrets.NAME}") && refused.body.contains("force=true"),
        "{}",
        refused.body
    );
    let forced =
        post(&format!("{api}/sites/{id}/flows/import?force=true"), "application/json", plain.to_string())
            .await;
    assert_eq!(forced.status, 200, "{}", forced.body);

    let flow = json!([{"name": "plain", "start_url": "/login", "steps": [
        {"kind": "fill", "selector": "input[name=user]", "value": "ada"},
        {"kind": "fill", "selector": "input[name=password]", "value": "${secrets.PW}"},
        {"kind": "submit"},
        {"kind": "expect_text", "text": "Dashboard"}]}]);
    let imported =
        post(&format!("{api}/sites/{id}/flows/import"), "application/json", flow.to_string()).await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let run = post(&format!("{api}/sites/{id}/run"), "application/json", "").await;
    assert_eq!(run.status, 202, "{}", run.body);
    let run_id = run.json()["id"].as_i64().unwrap();
    let detail = wait_for("the login run to finish", Duration::from_secs(20), || async {
        let detail = get(&format!("{api}/runs/{run_id}")).await.json();
        (detail["status"] != "queued" && detail["status"] != "running").then_some(detail)
    })
    .await;

    assert_eq!(*posted.lock().unwrap(), [PASSWORD], "the site received the secret's value");
    let reason = detail["jobs"][0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("text \"Dashboard\" not found on"), "{reason}");
    assert!(reason.contains("/welcome?token=***") && reason.contains("title \"Welcome ***\""), "{reason}");

    // Nothing else holds the value: every read, the dashboard, the log, the store's files.
    let flow_id = imported.json()[0]["id"].as_i64().unwrap();
    let mut seen = String::new();
    for path in [
        format!("/api/sites/{id}"),
        format!("/api/sites/{id}/flows"),
        format!("/api/flows/{flow_id}/export?format=yaml"),
        format!("/api/flows/{flow_id}/export?format=json"),
        "/api/runs".to_owned(),
        format!("/api/runs/{run_id}"),
        "/api/secrets".to_owned(),
        "/api/summary".to_owned(),
        "/metrics".to_owned(),
        "/ui".to_owned(),
        format!("/ui/sites/{id}"),
        format!("/ui/runs/{run_id}"),
        "/ui/runs".to_owned(),
    ] {
        let answer = get(&format!("{runner_base}{path}")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(leaks(answer.body.as_bytes()), Vec::<&str>::new(), "{path}: {}", answer.body);
        seen.push_str(&answer.body);
    }
    assert!(seen.contains("${secrets.PW}"), "exports keep the reference");
    // The pool stores a result before it logs it: the run reads as finished a moment before
    // its "job done" line is written, so wait for the line.
    let log_path = dir.path().join("runner.log");
    let logged = wait_for("the \"job done\" line in the runner's log", Duration::from_secs(30), || {
        let logged = std::fs::read(&log_path).unwrap_or_default();
        async move { String::from_utf8_lossy(&logged).contains("job done").then_some(logged) }
    })
    .await;
    let logged = String::from_utf8_lossy(&logged).into_owned();
    assert!(logged.contains(&format!("run={run_id}")), "{logged}");
    assert_eq!(leaks(logged.as_bytes()), Vec::<&str>::new(), "{logged}");

    // A clean stop, then every file the runner left: the store, its journal, the log.
    let status = terminate(&mut runner.0).await;
    assert!(status.success(), "exit status {status}");
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(files.iter().any(|p| p.ends_with("runner.db")), "{files:?}");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(leaks(&bytes), Vec::<&str>::new(), "{}", path.display());
    }
}

#[tokio::test]
async fn the_dashboard_sets_secrets_and_shows_only_their_names() {
    use crate::dashboard::{form_session, post_form};
    let t = start_app(|_| {}).await;
    let (sid, csrf) = form_session(&t.base, "/ui/secrets").await;
    let fields = [("csrf", csrf.as_str()), ("name", "SMTP_PASSWORD"), ("value", PASSWORD)];
    let set = post_form(&t.base, "/ui/secrets", Some(&sid), &fields).await;
    assert_eq!((set.status, set.headers["location"].to_str().unwrap()), (303, "/ui/secrets"), "{}", set.body);
    let bad = post_form(
        &t.base,
        "/ui/secrets",
        Some(&sid),
        &[("csrf", csrf.as_str()), ("name", "a b"), ("value", "x")],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("not a valid name"), "{}", bad.body);
    let page = get(&format!("{}/ui/secrets", t.base)).await;
    assert!(page.body.contains("<code>SMTP_PASSWORD</code>"), "{}", page.body);
    assert_eq!(leaks(page.body.as_bytes()), Vec::<&str>::new());
    let listed = get(&format!("{}/api/secrets", t.base)).await.json();
    assert_eq!(listed[0]["name"], "SMTP_PASSWORD");
}
