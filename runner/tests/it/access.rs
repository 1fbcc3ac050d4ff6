//! Access off loopback: a runner listening on 0.0.0.0 (reached through 127.0.0.1 only) wants
//! a token for every read of sites, flows, runs, jobs and screenshots; the read token reads
//! but does not write; the dashboard reads through an unlocked session; wrong tokens are
//! rate limited per address; short tokens stop the start.

use runner::app::{App, StartError};
use runner::config::Config;

use crate::dashboard::{form_session, post_form};
use crate::support::{Answer, TestApp, client, get, send, start_app, test_config};

const WRITE: &str = "write-token-0123456789";
const READ: &str = "read-token-0123456789";

async fn off_loopback(edit: impl FnOnce(&mut Config)) -> (TestApp, String) {
    let t = start_app(|c| {
        c.listen = "0.0.0.0:0".parse().unwrap();
        c.write_token = Some(WRITE.into());
        c.read_token = Some(READ.into());
        edit(c);
    })
    .await;
    let base = format!("http://127.0.0.1:{}", t.app.addr().port());
    (t, base)
}

async fn get_with(url: &str, token: Option<&str>) -> Answer {
    let req = client().get(url);
    send(match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    })
    .await
}

#[tokio::test]
async fn reads_need_a_token_off_loopback() {
    let (_t, base) = off_loopback(|_| {}).await;
    for path in
        ["/api/sites", "/api/runs", "/api/runs/1", "/api/jobs/1/screenshot", "/api/secrets", "/api/summary"]
    {
        let url = format!("{base}{path}");
        let refused = get_with(&url, None).await;
        assert_eq!(refused.status, 401, "{path}: {}", refused.body);
        assert_eq!(refused.headers["www-authenticate"], "Bearer");
        assert!(refused.body.contains("--read-token"), "{}", refused.body);
        for token in [READ, WRITE] {
            let allowed = get_with(&url, Some(token)).await;
            assert!(
                matches!(allowed.status, 200 | 404),
                "{path} with a token: {} {}",
                allowed.status,
                allowed.body
            );
        }
    }
    assert_eq!(get(&format!("{base}/")).await.status, 200, "health stays open");
    assert_eq!(get(&format!("{base}/metrics")).await.status, 200, "metrics stay open");

    // The read token does not write.
    let sites = format!("{base}/api/sites");
    let body = r#"{"name": "x", "base_url": "http://127.0.0.1:9/"}"#;
    let post = |token: &'static str| {
        send(client().post(&sites).header("content-type", "application/json").bearer_auth(token).body(body))
    };
    assert_eq!(post(READ).await.status, 401);
    assert_eq!(post(WRITE).await.status, 201);

    // The dashboard: locked pages lead to the unlock page; the read token unlocks reading.
    let locked = send(crate::dashboard_client().get(format!("{base}/ui/sites"))).await;
    assert_eq!((locked.status, locked.headers["location"].to_str().unwrap()), (303, "/ui/unlock"));
    let (sid, csrf) = form_session(&base, "/ui/unlock").await;
    let unlocked =
        post_form(&base, "/ui/unlock", Some(&sid), &[("csrf", csrf.as_str()), ("token", READ)]).await;
    assert_eq!(unlocked.status, 303, "{}", unlocked.body);
    let unlock = unlocked.headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let cookies = format!("{sid}; {unlock}");
    let page =
        send(crate::dashboard_client().get(format!("{base}/ui/sites")).header("cookie", &cookies)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let shot = send(crate::dashboard_client().get(format!("{base}/ui/jobs/1/screenshot"))).await;
    assert_eq!(shot.status, 303, "screenshots need the session too");
    let shot = send(
        crate::dashboard_client().get(format!("{base}/ui/jobs/1/screenshot")).header("cookie", &cookies),
    )
    .await;
    assert_eq!(shot.status, 404, "unlocked: the job has none: {}", shot.body);
    let write = post_form(&base, "/ui/add", Some(&cookies), &[("csrf", csrf.as_str()), ("name", "y")]).await;
    assert_eq!(write.status, 403, "a read-only session does not write: {}", write.body);
}

#[tokio::test]
async fn health_and_metrics_can_be_protected() {
    let (_t, base) = off_loopback(|c| {
        c.protect_health = true;
        c.protect_metrics = true;
    })
    .await;
    for path in ["/", "/metrics"] {
        let url = format!("{base}{path}");
        assert_eq!(get_with(&url, None).await.status, 401, "{path}");
        assert_eq!(get_with(&url, Some(READ)).await.status, 200, "{path}");
    }
}

#[tokio::test]
async fn guessing_tokens_is_slowed_down_per_address() {
    let (_t, base) = off_loopback(|_| {}).await;
    let (sid, csrf) = form_session(&base, "/ui/unlock").await;
    let mut answers = std::collections::BTreeMap::new();
    for i in 0..30 {
        let guess = format!("guess-{i:02}-0123456789");
        let answer =
            post_form(&base, "/ui/unlock", Some(&sid), &[("csrf", csrf.as_str()), ("token", &guess)]).await;
        *answers.entry(answer.status).or_insert(0) += 1;
    }
    let limit = runner::web::ratelimit::MAX_FAILURES;
    assert_eq!(answers, [(403, limit), (429, 30 - limit)].into(), "wrong tokens, then refusals");
    // Blocked means blocked: the right token waits too, and so do bearer tokens.
    let right =
        post_form(&base, "/ui/unlock", Some(&sid), &[("csrf", csrf.as_str()), ("token", WRITE)]).await;
    assert_eq!(right.status, 429);
    let api = get_with(&format!("{base}/api/sites"), Some(READ)).await;
    assert_eq!(api.status, 429, "{}", api.body);
    assert!(api.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn short_tokens_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.write_token = Some("short".into());
    let err = App::start(config).await.unwrap_err();
    assert!(matches!(err, StartError::TokenTooShort { flag: "--write-token", len: 5 }), "{err}");
    assert!(err.to_string().contains("use at least 16"), "{err}");
}
