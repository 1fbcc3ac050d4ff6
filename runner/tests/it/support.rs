//! Shared test helpers: temp stores, local test sites (form recorder, hanging, garbage),
//! an in-process runner, JSON over HTTP, and polling.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get as route_get, post as route_post};
use runner::app::App;
use runner::config::Config;
use runner::store::{OpenOptions, Store};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fresh SQLite store in a temp dir (kept alive by the returned guard).
pub(crate) async fn sqlite_store() -> (Store, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("runner.db");
    let store =
        Store::open(path.to_str().expect("utf-8 path"), &OpenOptions::default()).await.expect("open store");
    (store, dir)
}

/// Polls `check` every 50 ms until it returns `Some`, or panics with `what` after `limit`.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting for {what} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the test site received.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// Every form posted to `/submit`, as (name, value) pairs in order.
    pub(crate) submissions: Vec<Vec<(String, String)>>,
    /// How often each `n` of `/hit?n=` was requested.
    pub(crate) hits: HashMap<u32, u32>,
}

/// A local site for the http engine to work on.
#[derive(Debug, Clone)]
pub(crate) struct TestSite {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// What it received.
    pub(crate) received: Arc<Mutex<Received>>,
}

impl TestSite {
    /// Its base URL, with a trailing slash.
    pub(crate) fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

const FORM_PAGE: &str = r#"<!doctype html><html><head><title>Order</title></head><body>
<h1>Order a thing</h1>
<form method="post" action="submit">
  <input type="hidden" name="csrf" value="t0k3n">
  <input name="name">
  <input type="email" name="email" value="placeholder@example.com">
  <select name="size"><option value="s">Small</option><option value="m" selected>Medium</option><option value="l">Large</option></select>
  <textarea name="notes"></textarea>
  <input type="checkbox" name="gift" value="yes">
  <input type="radio" name="ship" value="std" checked><input type="radio" name="ship" value="fast">
  <input name="disabled" value="x" disabled>
  <button type="submit" name="action" value="order">Order</button>
</form></body></html>"#;

async fn form_page() -> Html<&'static str> {
    Html(FORM_PAGE)
}

async fn submit(
    State(received): State<Arc<Mutex<Received>>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Redirect {
    received.lock().unwrap().submissions.push(pairs);
    Redirect::to("/done")
}

async fn done() -> Html<&'static str> {
    Html("<html><head><title>Done</title></head><body><p class=ok>Received, thank you</p></body></html>")
}

async fn login(Form(pairs): Form<HashMap<String, String>>) -> Response {
    if pairs.get("password").map(String::as_str) == Some("pw") {
        ([(header::SET_COOKIE, "sid=abc; Path=/; HttpOnly")], Redirect::to("/private")).into_response()
    } else {
        Html("<p>Wrong password</p>").into_response()
    }
}

async fn private(headers: HeaderMap) -> Response {
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if cookies.split(';').any(|c| c.trim() == "sid=abc") {
        Html("<p>Secret area</p>").into_response()
    } else {
        (StatusCode::FORBIDDEN, Html("<title>Forbidden</title><p>log in first</p>")).into_response()
    }
}

async fn big() -> String {
    "x".repeat(64 * 1024)
}

async fn hit(
    State(received): State<Arc<Mutex<Received>>>,
    Query(q): Query<HashMap<String, u32>>,
) -> Html<&'static str> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if let Some(n) = q.get("n") {
        *received.lock().unwrap().hits.entry(*n).or_default() += 1;
    }
    Html("<p>hit</p>")
}

/// Starts the test site: `/form` (posts to `/submit`, which records and redirects to
/// `/done`), `/login` + `/private` (a cookie), `/big` (64 KiB of text), `/hit?n=` (counted).
pub(crate) async fn test_site() -> TestSite {
    let received = Arc::new(Mutex::new(Received::default()));
    let app = Router::new()
        .route("/form", route_get(form_page))
        .route("/submit", route_post(submit))
        .route("/done", route_get(done))
        .route(
            "/login",
            route_get(|| async { Html(r#"<form method=post><input name=user><input type=password name=password><input type=submit></form>"#) })
                .post(login),
        )
        .route("/private", route_get(private))
        .route("/big", route_get(big))
        .route("/hit", route_get(hit))
        .with_state(Arc::clone(&received));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    TestSite { addr, received }
}

/// A site that accepts connections and never answers.
pub(crate) async fn hanging_site() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // never read, never written, never closed
        }
    });
    addr
}

/// A site that answers every connection with bytes that are not HTTP, then closes.
pub(crate) async fn garbage_site() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(b"\x00\x13\x37 GARBAGE \xff\xfe not http\r\n\r\n").await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// A runner started in-process on a free loopback port, with its store in a temp dir.
pub(crate) struct TestApp {
    pub(crate) app: App,
    pub(crate) base: String,
    pub(crate) _dir: TempDir,
}

/// The test defaults: loopback port 0, temp SQLite, fast polling, no demo.
pub(crate) fn test_config(dir: &TempDir) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("runner.db").to_str().unwrap().to_owned(),
        secret_key_file: dir.path().join("runner.key"),
        demo: false,
        poll_interval: Duration::from_millis(50),
        tick: Duration::from_millis(200),
        grace: Duration::from_secs(5),
        retries: 0, // tests that retry say so
        ..Config::default()
    }
}

/// Starts a runner with `edit` applied to [`test_config`].
pub(crate) async fn start_app(edit: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    edit(&mut config);
    let app = App::start(config).await.expect("runner starts");
    let base = format!("http://{}", app.addr());
    TestApp { app, base, _dir: dir }
}

/// An HTTP answer: status, headers, body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// The body as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A plain client (no proxy).
pub(crate) fn client() -> reqwest::Client {
    runner::driver::http::install_crypto_provider();
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap()
}

/// Sends a request and reads the whole answer.
pub(crate) async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap();
    Answer { status, headers, body }
}

/// GET `url`.
pub(crate) async fn get(url: &str) -> Answer {
    send(client().get(url)).await
}

/// POST `body` to `url` as `content_type`.
pub(crate) async fn post(url: &str, content_type: &str, body: impl Into<String>) -> Answer {
    send(client().post(url).header("content-type", content_type).body(body.into())).await
}

/// POST JSON.
pub(crate) async fn post_json(url: &str, body: &serde_json::Value) -> Answer {
    post(url, "application/json", body.to_string()).await
}
