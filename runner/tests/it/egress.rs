//! The egress policy end to end, on loopback only: a denied address receives no request, a
//! redirect to it is refused, the runner's own port and the chromedriver port are refused
//! by default, and a name that rebinds from an allowed to a denied address does not get
//! through. Each refusal fails the job with a reason naming the rule.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get as route_get;
use runner::config::Config;
use runner::driver::BoxFuture;
use runner::egress::{Lookup, Policy, Rule};
use serde_json::json;
use tokio::net::TcpListener;

use crate::support::{TestApp, get, post, post_json, start_app, wait_for};

/// A server on `addr` that counts requests; `/` shows a form posting to `/next`, every
/// answer closes its connection (so each request resolves and connects anew), and
/// `/away?to=` redirects.
async fn counting_server(addr: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new()
        .route("/", route_get(|| async { Html("<form action=/next><button>go</button></form>") }))
        .route("/next", route_get(|| async { Html("<p>next</p>") }))
        .route(
            "/away",
            route_get(|axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>| async move {
                Redirect::to(&q[0].1)
            }),
        )
        .layer(axum::middleware::from_fn(move |req, next: axum::middleware::Next| {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut resp = next.run(req).await.into_response();
                resp.headers_mut().insert(header::CONNECTION, "close".parse().unwrap());
                resp
            }
        }));
    let listener = TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

fn deny(rules: &str) -> impl FnOnce(&mut Config) {
    let rules = rules.to_owned();
    move |c: &mut Config| {
        c.http.egress.policy = Arc::new(Policy::new(vec![], Rule::parse_list(&rules).unwrap()))
    }
}

/// Creates a site at `base` with one http flow of `steps`, runs it, and returns the job's
/// reason once the run ends.
async fn run_once(t: &TestApp, base: &str, start: &str, steps: serde_json::Value) -> String {
    let site = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": format!("s{}", rand_suffix()), "base_url": base,
                "flows": [{"name": "f", "start_url": start, "steps": steps}]}),
    )
    .await;
    assert_eq!(site.status, 201, "{}", site.body);
    let id = site.json()["id"].as_i64().unwrap();
    let run = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
    assert_eq!(run.status, 202, "{}", run.body);
    let run_id = run.json()["id"].as_i64().unwrap();
    let detail = wait_for("the run to end", Duration::from_secs(20), || async {
        let d = get(&format!("{}/api/runs/{run_id}", t.base)).await.json();
        (d["status"] != "queued" && d["status"] != "running").then_some(d)
    })
    .await;
    detail["jobs"][0]["reason"].as_str().unwrap_or("").to_owned()
}

fn rand_suffix() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

#[tokio::test]
async fn a_denied_address_receives_no_request() {
    let (denied, hits) = counting_server("127.0.0.2:0".parse().unwrap()).await;
    let t = start_app(deny("127.0.0.2/32")).await;
    let reason = run_once(&t, &format!("http://{denied}/"), "/", json!([])).await;
    assert!(
        reason.contains("the egress policy refuses 127.0.0.2:")
            && reason.contains("--egress-deny 127.0.0.2/32"),
        "{reason}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_redirect_to_a_denied_address_is_refused() {
    let (denied, denied_hits) = counting_server("127.0.0.2:0".parse().unwrap()).await;
    let (allowed, allowed_hits) = counting_server("127.0.0.1:0".parse().unwrap()).await;
    let t = start_app(deny("127.0.0.2/32")).await;
    let to = format!("http://{denied}/next");
    let start = format!("/away?to={}", form_urlencoded::byte_serialize(to.as_bytes()).collect::<String>());
    let reason = run_once(&t, &format!("http://{allowed}/"), &start, json!([])).await;
    assert!(
        reason.contains(&format!("http://{denied}/next")) && reason.contains("--egress-deny 127.0.0.2/32"),
        "{reason}"
    );
    assert_eq!((allowed_hits.load(Ordering::SeqCst), denied_hits.load(Ordering::SeqCst)), (1, 0));
}

#[tokio::test]
async fn the_runners_own_port_is_refused_by_default() {
    let t = start_app(|_| {}).await;
    let own = format!("{}/", t.base);
    let reason = run_once(&t, &own, "/api/secrets", json!([])).await;
    assert!(reason.contains("default: the runner's own listen address"), "{reason}");
    let by_name = format!("http://localhost:{}/", t.app.addr().port());
    let reason = run_once(&t, &by_name, "/api/secrets", json!([])).await;
    assert!(reason.contains("default: the runner's own listen address"), "{reason}");
}

#[tokio::test]
async fn the_chromedriver_port_is_refused_by_default() {
    let Some((chromedriver, _)) =
        crate::webdriver::browser_tools("the_chromedriver_port_is_refused_by_default")
    else {
        return;
    };
    let server =
        runner::driver::webdriver::Chromedriver::spawn(&chromedriver).await.expect("chromedriver starts");
    let control = server.url().clone();
    let port = control.port().expect("chromedriver listens on a port");
    let t = start_app(move |c| c.webdriver_url = Some(control)).await;
    let reason = run_once(&t, &format!("http://127.0.0.1:{port}/"), "/status", json!([])).await;
    assert!(reason.contains("default: the WebDriver (chromedriver) control port"), "{reason}");
}

/// Answers `rebind.localhost` first with 127.0.0.1, then with 127.0.0.2.
#[derive(Debug, Default)]
struct Rebinding {
    calls: Mutex<usize>,
}

impl Lookup for Rebinding {
    fn lookup<'a>(&'a self, host: &'a str) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            assert_eq!(host, "rebind.localhost");
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            Ok(vec![if *calls == 1 { [127, 0, 0, 1] } else { [127, 0, 0, 2] }.into()])
        })
    }
}

#[tokio::test]
async fn dns_rebinding_does_not_get_through() {
    let (allowed, allowed_hits) = counting_server("127.0.0.1:0".parse().unwrap()).await;
    let (_denied, denied_hits) =
        counting_server(SocketAddr::new([127, 0, 0, 2].into(), allowed.port())).await;
    let lookup = Arc::new(Rebinding::default());
    let resolver = Arc::clone(&lookup);
    let t = start_app(move |c| {
        deny("127.0.0.2/32")(c);
        c.http.egress.lookup = resolver;
    })
    .await;
    let base = format!("http://rebind.localhost:{}/", allowed.port());
    let reason = run_once(&t, &base, "/", json!([{"kind": "submit"}])).await;
    assert!(
        reason.starts_with("step 0 (submit)"),
        "the start page loaded from the allowed address: {reason}"
    );
    assert!(
        reason.contains("rebind.localhost (127.0.0.2)") && reason.contains("--egress-deny 127.0.0.2/32"),
        "{reason}"
    );
    assert_eq!((allowed_hits.load(Ordering::SeqCst), denied_hits.load(Ordering::SeqCst)), (1, 0));
    assert_eq!(*lookup.calls.lock().unwrap(), 2, "one resolution per connection");
}

#[tokio::test]
async fn a_browser_request_to_a_denied_address_fails_the_job() {
    let test = "a_browser_request_to_a_denied_address_fails_the_job";
    let Some((chromedriver, chromium)) = crate::webdriver::browser_tools(test) else { return };
    let (denied, denied_hits) = counting_server("127.0.0.2:0".parse().unwrap()).await;
    let page = format!("<title>t</title><p>hello</p><img src=\"http://{denied}/next\">");
    let app = Router::new().route("/", route_get(move || async move { Html(page) }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let allowed = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let t = start_app(move |c| {
        deny("127.0.0.2/32")(c);
        c.chromedriver = Some(chromedriver);
        c.chromium = Some(chromium);
        c.job_timeout = Duration::from_secs(60);
    })
    .await;
    let site = post_json(
        &format!("{}/api/sites", t.base),
        &json!({"name": "browser", "base_url": format!("http://{allowed}/"),
                "flows": [{"name": "f", "driver": "webdriver", "start_url": "/",
                           "steps": [{"kind": "expect_text", "text": "hello"}]}]}),
    )
    .await;
    assert_eq!(site.status, 201, "{}", site.body);
    let id = site.json()["id"].as_i64().unwrap();
    let run = post(&format!("{}/api/sites/{id}/run", t.base), "application/json", "").await;
    let run_id = run.json()["id"].as_i64().unwrap();
    let detail = wait_for("the browser run to end", Duration::from_secs(90), || async {
        let d = get(&format!("{}/api/runs/{run_id}", t.base)).await.json();
        (d["status"] != "queued" && d["status"] != "running").then_some(d)
    })
    .await;
    let job = &detail["jobs"][0];
    let reason = job["reason"].as_str().unwrap_or("");
    assert_eq!(job["status"], "error", "{detail}");
    assert!(
        reason.contains("a request of the page was refused") && reason.contains("--egress-deny 127.0.0.2/32"),
        "{reason}"
    );
    assert_eq!(denied_hits.load(Ordering::SeqCst), 0);
}
