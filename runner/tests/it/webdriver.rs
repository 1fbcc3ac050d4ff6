//! The webdriver engine against real chromedriver and headless Chromium: a page whose form
//! only exists once its script has run, filled and sent as a person would (the server
//! records exactly what arrived), and failures that keep a screenshot of the page.
//!
//! Needs `chromedriver` and `chromium` (Debian: chromium-driver, chromium). Without them the
//! tests print `SKIP` and pass, except under CI (`CI=true`), where they fail.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use fantoccini::{Client, ClientBuilder};
use runner::domain::{FlowSpec, JobOutcome, JobStatus, Step};
use runner::driver::webdriver::{Chromedriver, WebDriverDriver, WebDriverOptions};
use runner::driver::{Driver, JobSpec, Progress};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

/// chromedriver and Chromium, or `None` (after a SKIP line) when either is missing outside
/// CI.
///
/// # Panics
///
/// Under CI, when either is missing.
pub(crate) fn browser_tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    let driver = promkit_oracle::which("chromedriver");
    let browser = promkit_oracle::which("chromium").or_else(|| promkit_oracle::which("chromium-browser"));
    match (driver, browser) {
        (Some(d), Some(b)) => Some((d, b)),
        (d, b) => {
            let missing = [("chromedriver", d.is_none()), ("chromium", b.is_none())]
                .iter()
                .filter(|(_, gone)| *gone)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ");
            assert!(
                !promkit_oracle::ci(),
                "{test}: {missing} not found; CI must have them (scripts/install-deps installs chromium and chromium-driver)"
            );
            eprintln!("SKIP {test}: {missing} not found (apt-get install chromium chromium-driver)");
            None
        }
    }
}

/// A started chromedriver (stopped when dropped) and a webdriver engine on it.
pub(crate) async fn engine(test: &str) -> Option<(Chromedriver, WebDriverDriver)> {
    let (chromedriver, chromium) = browser_tools(test)?;
    let server = Chromedriver::spawn(&chromedriver).await.expect("chromedriver starts");
    let driver = WebDriverDriver::with_options(WebDriverOptions {
        url: Some(server.url().clone()),
        capacity: 2,
        browser: Some(chromium),
        ..WebDriverOptions::default()
    });
    Some((server, driver))
}

/// A headless Chromium session of the test's own (not the runner's engine).
pub(crate) async fn browser(server: &Chromedriver, chromium: &Path, profile: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            // The engine's flags: without the background-networking ones, Chromium's own
            // requests fail against a closed network while the test's pages load.
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900", format!("--user-data-dir={}", profile.display())],
        },
    });
    let Value::Object(caps) = caps else { unreachable!() };
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(caps);
    builder.connect(server.url().as_str()).await.expect("a browser session")
}

/// What the scripted page's server received.
#[derive(Debug, Default)]
struct Received {
    /// JSON bodies posted by the page's script to `/api/signup`.
    signups: Vec<serde_json::Value>,
    /// Forms posted natively to `/order`.
    orders: Vec<Vec<(String, String)>>,
}

/// `/signup`: the form is built by script 300 ms after load, its button appears 300 ms
/// later, and sending posts JSON with `fetch` and writes the answer into the page: nothing
/// the http engine could do.
const SIGNUP: &str = r#"<!doctype html><html><head><title>Sign up</title></head><body>
<h1>Sign up</h1><div id="app">Loading…</div>
<script>
setTimeout(() => {
  const app = document.getElementById('app');
  app.innerHTML = '';
  const form = document.createElement('form');
  form.innerHTML = '<input id="name"><input id="email" type="email">' +
    '<select id="plan"></select><textarea id="notes"></textarea>' +
    '<label><input id="terms" type="checkbox"> I agree</label>' +
    '<input id="day" type="date">';
  for (const [value, text] of [['free', 'Free plan'], ['pro', 'Pro plan'], ['team', 'Team plan']]) {
    const o = document.createElement('option'); o.value = value; o.textContent = text;
    form.querySelector('#plan').appendChild(o);
  }
  let typed = 0;
  form.querySelector('#name').addEventListener('keydown', () => { typed += 1; });
  app.appendChild(form);
  setTimeout(() => {
    const button = document.createElement('button');
    button.id = 'send'; button.type = 'submit'; button.textContent = 'Send';
    form.appendChild(button);
  }, 300);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {
      name: form.querySelector('#name').value,
      email: form.querySelector('#email').value,
      plan: form.querySelector('#plan').value,
      notes: form.querySelector('#notes').value,
      terms: form.querySelector('#terms').checked,
      day: form.querySelector('#day').value,
      keydowns: typed,
    };
    const resp = await fetch('/api/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await resp.json();
    const done = document.createElement('p');
    done.id = 'done';
    done.textContent = 'Welcome, ' + answer.name + '!';
    app.replaceChildren(done);
  });
}, 300);
</script></body></html>"#;

/// `/order`: a form inserted by script that posts natively (urlencoded) and redirects.
const ORDER: &str = r#"<!doctype html><html><head><title>Order</title></head><body>
<div id="slot"></div>
<script>
document.addEventListener('DOMContentLoaded', () => setTimeout(() => {
  document.getElementById('slot').innerHTML =
    '<form method="post" action="/order"><input type="hidden" name="token" value="t0k">' +
    '<input name="qty" value="1"><select name="size"><option>S</option><option>M</option></select>' +
    '<input type="radio" name="ship" value="std" checked><input type="radio" name="ship" value="fast" id="fast">' +
    '<button name="go" value="buy">Buy</button></form>';
}, 200));
</script></body></html>"#;

async fn signup(
    State(received): State<Arc<Mutex<Received>>>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> axum::Json<serde_json::Value> {
    let name = body["name"].clone();
    received.lock().unwrap().signups.push(body);
    axum::Json(serde_json::json!({ "name": name }))
}

async fn order(
    State(received): State<Arc<Mutex<Received>>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Redirect {
    received.lock().unwrap().orders.push(pairs);
    Redirect::to("/thanks?n=1")
}

/// `/slow`: a plain form (posted, then redirected as the dashboard does) and a link whose
/// answers take a while (a busy back end). A
/// button that navigates nowhere, to check the engine does not wait for a page that never
/// comes.
const SLOW: &str = r#"<!doctype html><html><head><title>Slow</title></head><body>
<p id="here">Slow form</p>
<form method="post" action="/slow"><input name="q" value="1"><button id="save">Save</button></form>
<a id="next" href="/slow-next">Next</a>
<button id="noop" type="button" onclick="document.getElementById('here').textContent = 'Clicked here'">Here</button>
</body></html>"#;

/// How long `/slow` takes to answer: long enough that a step run right after the click
/// would still see the old page.
const SLOW_ANSWER: Duration = Duration::from_millis(700);

/// The scripted site: `/signup`, `/order`, `/thanks`, `/broken` (500), `/slow`.
async fn scripted_site() -> (Url, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let app = Router::new()
        .route("/signup", get(|| async { Html(SIGNUP) }))
        .route("/api/signup", post(signup))
        .route("/order", get(|| async { Html(ORDER) }).post(order))
        .route("/thanks", get(|| async { Html("<title>Thanks</title><h1>Thank you for your order</h1>") }))
        .route("/slow", get(|| async { Html(SLOW) }).post(|| async { Redirect::to("/slow-saved") }))
        .route(
            "/slow-saved",
            get(|| async {
                // The back end's own latency, not a wait of the test's.
                tokio::time::sleep(SLOW_ANSWER).await;
                Html("<title>Saved</title><h1>Saved slowly</h1>")
            }),
        )
        .route(
            "/slow-next",
            get(|| async {
                tokio::time::sleep(SLOW_ANSWER).await;
                Html("<title>Next</title><h1>The next page, slowly</h1>")
            }),
        )
        .route(
            "/broken",
            get(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<title>Oops</title><h1>Server error</h1>"),
                )
            }),
        )
        .with_state(Arc::clone(&received));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (Url::parse(&format!("http://{addr}/")).unwrap(), received)
}

fn job(base: &Url, start_url: &str, steps: Vec<Step>) -> JobSpec {
    JobSpec {
        job_id: 1,
        site_name: "scripted".into(),
        base_url: base.clone(),
        flow: FlowSpec {
            retries: None,
            interval_secs: None,
            timeout_secs: None,
            name: "flow".into(),
            driver: "webdriver".into(),
            start_url: start_url.into(),
            steps,
        },
        progress: Progress::default(),
    }
}

fn css(s: &str) -> String {
    s.to_owned()
}

#[tokio::test]
async fn a_form_built_by_script_is_filled_and_sent() {
    let Some((_server, driver)) = engine("a_form_built_by_script_is_filled_and_sent").await else { return };
    let health = driver.health().await;
    assert!(health.healthy && health.configured, "{health:?}");
    assert!(health.detail.contains("ready"), "{}", health.detail);

    let (base, received) = scripted_site().await;
    let steps = vec![
        Step::WaitFor { selector: css("#name"), timeout_ms: Some(5000) },
        Step::Fill { selector: css("#name"), value: "Ada <Lovelace> & co".into() },
        Step::Fill { selector: css("#email"), value: "ada@example.com".into() },
        Step::Select { selector: css("#plan"), value: "Pro plan".into() },
        Step::Fill { selector: css("#notes"), value: "line one\nline two".into() },
        Step::Fill { selector: css("#terms"), value: "yes".into() },
        Step::Fill { selector: css("#day"), value: "2026-05-03".into() },
        Step::WaitFor { selector: css("button#send"), timeout_ms: Some(5000) },
        Step::Click { selector: css("button#send") },
        Step::WaitFor { selector: css("#done"), timeout_ms: Some(5000) },
        Step::ExpectText { text: "Welcome, Ada <Lovelace> & co!".into() },
        Step::ExpectUrl { url: "/signup".into() },
        Step::ExpectStatus { status: 200 },
    ];
    let outcome = driver.run(&job(&base, "/signup", steps)).await;
    assert_eq!(outcome, JobOutcome::passed());
    let signups = &received.lock().unwrap().signups;
    assert_eq!(
        *signups,
        vec![serde_json::json!({
            "name": "Ada <Lovelace> & co",
            "email": "ada@example.com",
            "plan": "pro",
            "notes": "line one\nline two",
            "terms": true,
            "day": "2026-05-03",
            // Typed key by key, as a person would: a keydown per character (19), and one
            // for Shift before each of `A < L > &`.
            "keydowns": 24,
        })]
    );
}

#[tokio::test]
async fn a_scripted_form_posts_natively_and_navigates() {
    let Some((_server, driver)) = engine("a_scripted_form_posts_natively_and_navigates").await else {
        return;
    };
    let (base, received) = scripted_site().await;
    let steps = vec![
        Step::WaitFor { selector: css("form input[name=qty]"), timeout_ms: None },
        Step::Fill { selector: css("input[name=qty]"), value: "3".into() },
        Step::Fill { selector: css("select[name=size]"), value: "M".into() },
        Step::Fill { selector: css("#fast"), value: "".into() },
        Step::Click { selector: css("button[name=go]") },
        Step::ExpectStatus { status: 200 },
        Step::ExpectUrl { url: "/thanks".into() },
        Step::ExpectText { text: "Thank you for your order".into() },
        Step::Open { url: "/order".into() },
        Step::WaitFor { selector: css("form"), timeout_ms: Some(3000) },
        Step::Submit { selector: None },
        Step::ExpectUrl { url: "/thanks?n=1".into() },
    ];
    let outcome = driver.run(&job(&base, "/order", steps)).await;
    assert_eq!(outcome, JobOutcome::passed());
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        received.lock().unwrap().orders,
        vec![
            vec![
                pair("token", "t0k"),
                pair("qty", "3"),
                pair("size", "M"),
                pair("ship", "fast"),
                pair("go", "buy")
            ],
            // `submit` without a selector: the first form, no button pressed.
            vec![pair("token", "t0k"), pair("qty", "1"), pair("size", "S"), pair("ship", "std")],
        ]
    );
}

/// A click or submit that loads a slow page: the next step sees the new page, however long
/// it takes to come (the step after a click must not read the page being left); a click
/// that loads nothing goes straight on.
#[tokio::test]
async fn the_step_after_a_navigation_sees_the_new_page() {
    let Some((_server, driver)) = engine("the_step_after_a_navigation_sees_the_new_page").await else {
        return;
    };
    let (base, _received) = scripted_site().await;
    let steps = vec![
        Step::Click { selector: css("#noop") },
        Step::ExpectText { text: "Clicked here".into() },
        Step::Click { selector: css("#save") },
        Step::ExpectText { text: "Saved slowly".into() },
        Step::ExpectUrl { url: "/slow-saved".into() },
        Step::Open { url: "/slow".into() },
        Step::Submit { selector: None },
        Step::ExpectText { text: "Saved slowly".into() },
        Step::Open { url: "/slow".into() },
        Step::Click { selector: css("#next") },
        Step::ExpectText { text: "The next page, slowly".into() },
        Step::ExpectUrl { url: "/slow-next".into() },
    ];
    let outcome = driver.run(&job(&base, "/slow", steps)).await;
    assert_eq!(outcome, JobOutcome::passed());
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[tokio::test]
async fn failures_say_where_and_keep_a_screenshot() {
    let Some((_server, driver)) = engine("failures_say_where_and_keep_a_screenshot").await else { return };
    let (base, _received) = scripted_site().await;

    // A step that does not hold: failed, at that step, with a PNG of the page.
    let steps = vec![
        Step::WaitFor { selector: css("#name"), timeout_ms: Some(5000) },
        Step::ExpectText { text: "Sold out".into() },
    ];
    let outcome = driver.run(&job(&base, "/signup", steps)).await;
    assert_eq!((outcome.status, outcome.failed_step), (JobStatus::Failed, Some(1)));
    let reason = outcome.reason.clone().unwrap();
    assert!(
        reason.starts_with(&format!(
            "step 1 (expect_text): text \"Sold out\" not found on {base}signup (HTTP 200, title \"Sign up\")"
        )),
        "{reason}"
    );
    let png = outcome.screenshot.expect("a screenshot of the failed page");
    assert_eq!(&png[..8], PNG_SIGNATURE);
    assert!(png.len() > 1000, "{} bytes", png.len());

    // wait_for gives up after its timeout and says what it waited for.
    let steps = vec![Step::WaitFor { selector: css("#never"), timeout_ms: Some(700) }];
    let outcome = driver.run(&job(&base, "/signup", steps)).await;
    assert_eq!((outcome.status, outcome.failed_step), (JobStatus::Failed, Some(0)));
    assert_eq!(
        outcome.reason.as_deref(),
        Some(format!("step 0 (wait_for): `#never` did not appear on {base}signup within 700 ms").as_str())
    );
    assert!(outcome.screenshot.is_some_and(|png| png.starts_with(PNG_SIGNATURE)));

    // An error status on the start page fails it (as in the http engine), screenshot kept.
    let outcome = driver.run(&job(&base, "/broken", vec![Step::ExpectText { text: "x".into() }])).await;
    assert_eq!((outcome.status, outcome.failed_step), (JobStatus::Failed, None));
    assert_eq!(
        outcome.reason.as_deref(),
        Some(format!("start page {base}broken: {base}broken answered HTTP 500 \"Oops\"").as_str())
    );
    assert!(outcome.screenshot.is_some_and(|png| png.starts_with(PNG_SIGNATURE)));

    // ...unless the next step checks the status.
    let steps = vec![Step::ExpectStatus { status: 500 }, Step::ExpectText { text: "Server error".into() }];
    assert_eq!(driver.run(&job(&base, "/broken", steps)).await, JobOutcome::passed());

    // A field that is not one, and a missing element.
    let steps = vec![
        Step::WaitFor { selector: css("#name"), timeout_ms: Some(5000) },
        Step::Fill { selector: css("h1"), value: "x".into() },
    ];
    let outcome = driver.run(&job(&base, "/signup", steps)).await;
    assert_eq!(outcome.reason.as_deref(), Some("step 1 (fill): <h1> matched by `h1` is not a form field"));
    let outcome = driver.run(&job(&base, "/signup", vec![Step::Click { selector: css("#nope") }])).await;
    assert_eq!(
        outcome.reason.as_deref(),
        Some(format!("step 0 (click): no element matches `#nope` on {base}signup").as_str())
    );
}

#[tokio::test]
async fn unreachable_sites_and_servers_are_errors() {
    let Some((server, driver)) = engine("unreachable_sites_and_servers_are_errors").await else { return };
    // A port nobody listens on: the site's fault, status error, reason from the browser.
    let closed = Url::parse(&format!("http://127.0.0.1:{}/", promkit_oracle::free_port())).unwrap();
    let outcome = driver.run(&job(&closed, "/", vec![])).await;
    assert_eq!((outcome.status, outcome.failed_step), (JobStatus::Error, None));
    assert!(outcome.reason.as_deref().unwrap().contains("ERR_CONNECTION_REFUSED"), "{:?}", outcome.reason);

    // The WebDriver server gone: error, and health says so.
    let url = server.url().clone();
    drop(server);
    let gone = WebDriverDriver::new(Some(url.clone()), 1);
    let health = gone.health().await;
    assert_eq!((health.healthy, health.configured), (false, true), "{health:?}");
    let outcome = gone.run(&job(&closed, "/", vec![])).await;
    assert_eq!(outcome.status, JobStatus::Error);
    assert!(
        outcome.reason.as_deref().unwrap().starts_with(&format!("cannot open a browser session on {url}")),
        "{:?}",
        outcome.reason
    );
    assert!(outcome.screenshot.is_none());
}

/// The processes whose command line holds `needle` (Linux `/proc`).
#[cfg(target_os = "linux")]
fn processes_with(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_dropped_chromedriver_takes_its_browsers_along() {
    let Some((chromedriver, chromium)) = browser_tools("a_dropped_chromedriver_takes_its_browsers_along")
    else {
        return;
    };
    let server = Chromedriver::spawn(&chromedriver).await.expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let marker = format!("--user-data-dir={}", profile.path().display());
    let client = browser(&server, &chromium, profile.path()).await;
    assert!(!processes_with(&marker).is_empty(), "no browser with {marker}");
    // The session stays open, as after a panic: dropping the server must still stop Chromium.
    drop(server);
    crate::support::wait_for("the browser to stop", Duration::from_secs(10), || async {
        processes_with(&marker).is_empty().then_some(())
    })
    .await;
    drop(client);
}

/// The engine against the runner's own dashboard: the add form posts, the store writes, the
/// answer redirects to the new site's page, and the step after the click must see that page.
#[tokio::test]
async fn the_engine_adds_a_site_through_the_dashboard() {
    let Some((_server, driver)) = engine("the_engine_adds_a_site_through_the_dashboard").await else {
        return;
    };
    let t = crate::support::start_app(|_| {}).await;
    let base = Url::parse(&format!("{}/", t.base)).unwrap();
    for round in 0..5 {
        let name = format!("added by the engine {round}");
        let steps = vec![
            Step::Fill { selector: css("input#name"), value: name.clone() },
            Step::Fill { selector: css("input#base_url"), value: "http://127.0.0.1:9/".into() },
            Step::Click { selector: css("form[action='/ui/add'] button[type=submit]") },
            Step::ExpectText { text: "Run now".into() },
            Step::ExpectText { text: name.clone() },
        ];
        let outcome = driver.run(&job(&base, "/ui/add", steps)).await;
        assert_eq!(outcome, JobOutcome::passed(), "round {round}");
    }
    t.app.shutdown().await;
}

/// The TCP ports in LISTEN state owned by processes of process group `group` other than its
/// leader (chromedriver's browsers), from `/proc`.
#[cfg(target_os = "linux")]
fn browser_listen_ports(group: u32) -> Vec<u16> {
    let mut listening = std::collections::HashMap::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEX_ADDR:HEX_PORT; state 0A is LISTEN; column 9 the inode.
            if cols.get(3) == Some(&"0A")
                && let (Some(local), Some(inode)) = (cols.get(1), cols.get(9))
                && let Some(port) = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok())
            {
                listening.insert((*inode).to_owned(), port);
            }
        }
    }
    let mut ports = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return ports };
    for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // After the `(comm)` field: state, ppid, pgrp.
        let pgrp =
            stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<u32>().ok());
        if pid == group || pgrp != Some(group) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { continue };
        for fd in fds.filter_map(Result::ok) {
            let link = std::fs::read_link(fd.path()).map(|l| l.display().to_string()).unwrap_or_default();
            if let Some(inode) = link.strip_prefix("socket:[").and_then(|l| l.strip_suffix(']'))
                && let Some(port) = listening.get(inode)
            {
                ports.push(*port);
            }
        }
    }
    ports
}

/// An upload form (`multipart/form-data`) whose POST records the raw body and, while the
/// browser that sent it is still open, the TCP ports that browser listens on.
#[cfg(target_os = "linux")]
async fn upload_site(group: Option<u32>) -> (Url, Arc<Mutex<Vec<(String, Vec<u8>, Vec<u16>)>>>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, header};
    type Seen = Arc<Mutex<Vec<(String, Vec<u8>, Vec<u16>)>>>;
    let seen: Seen = Arc::default();
    let page = || async {
        Html(
            r#"<!doctype html><html><head><title>Upload</title></head><body>
            <form method="post" action="/upload" enctype="multipart/form-data">
              <input type="hidden" name="csrf" value="t0k"><input name="who">
              <input type="file" name="cv"><input type="file" name="rows"><input type="file" name="none">
              <button name="go" value="send">Send</button></form></body></html>"#,
        )
    };
    let post = move |State(seen): State<Seen>, headers: HeaderMap, body: Bytes| async move {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let ports = group.map(browser_listen_ports).unwrap_or_default();
        seen.lock().unwrap().push((ct, body.to_vec(), ports));
        Html("<p id=done>Uploaded</p>")
    };
    let app = Router::new().route("/upload", get(page).post(post)).with_state(Arc::clone(&seen));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (Url::parse(&format!("http://{addr}/")).unwrap(), seen)
}

/// Chromium uploads a file from `--files-dir` and inline content; the http engine, given
/// the same flow, sends the same bytes (boundaries aside). While the browser runs, it
/// listens on no TCP port: DevTools goes over a pipe, so no page can reach it.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn attach_uploads_as_chromium_does_and_the_browser_opens_no_devtools_port() {
    let test = "attach_uploads_as_chromium_does_and_the_browser_opens_no_devtools_port";
    let Some((chromedriver, chromium)) = browser_tools(test) else { return };
    let server = Chromedriver::spawn(&chromedriver).await.expect("chromedriver starts");
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("ada.pdf"), b"%PDF-1.7\n\x00\xffbinary").unwrap();
    let files_dir = runner::driver::files::FilesDir::new(Some(files.path().to_owned()));
    let mut driver = WebDriverDriver::with_options(WebDriverOptions {
        url: Some(server.url().clone()),
        capacity: 1,
        browser: Some(chromium.clone()),
        ..WebDriverOptions::default()
    });
    driver.set_files(files_dir.clone());
    let (base, seen) = upload_site(server.pid()).await;
    let attach =
        |selector: &str, file: Option<&str>, content: Option<&str>, filename: Option<&str>| Step::Attach {
            selector: selector.into(),
            file: file.map(Into::into),
            content: content.map(Into::into),
            filename: filename.map(Into::into),
            content_type: None,
        };
    let steps = vec![
        Step::Fill { selector: css("input[name=who]"), value: "Ada \"L\"".into() },
        attach("input[name=cv]", Some("ada.pdf"), None, None),
        attach("input[name=rows]", None, Some("a,b\n1,2\n"), Some("rows.csv")),
        Step::Click { selector: css("button[name=go]") },
        Step::ExpectText { text: "Uploaded".into() },
    ];
    let outcome = driver.run(&job(&base, "/upload", steps.clone())).await;
    assert_eq!(outcome, JobOutcome::passed());

    let http = runner::driver::http::HttpDriver::new(&runner::driver::http::HttpOptions {
        files: files_dir,
        ..runner::driver::http::HttpOptions::default()
    })
    .unwrap();
    let mut http_job = job(&base, "/upload", steps);
    http_job.flow.driver = "http".into();
    assert_eq!(http.run(&http_job).await, JobOutcome::passed());

    let seen = seen.lock().unwrap().clone();
    let unbound = |(ct, body, _): &(String, Vec<u8>, Vec<u16>)| {
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect(ct);
        String::from_utf8_lossy(body).replace(boundary, "BOUNDARY")
    };
    let (chrome, ours) = (unbound(&seen[0]), unbound(&seen[1]));
    assert!(
        chrome.contains("name=\"cv\"; filename=\"ada.pdf\"\r\nContent-Type: application/pdf"),
        "{chrome}"
    );
    assert!(
        chrome.contains("filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n"),
        "{chrome}"
    );
    assert_eq!(ours, chrome, "the http engine's multipart body differs from Chromium's");

    assert_eq!(seen[0].2, Vec::<u16>::new(), "the engine's browser listens on TCP ports (DevTools?)");

    // The check sees a browser's DevTools port when there is one: a session of the test's
    // own, without the pipe, listens on one.
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&server, &chromium, profile.path()).await;
    let group = server.pid().unwrap();
    let ports = crate::support::wait_for("a DevTools port", Duration::from_secs(10), || async {
        let ports = browser_listen_ports(group);
        (!ports.is_empty()).then_some(ports)
    })
    .await;
    assert_eq!(ports.len(), 1, "{ports:?}");
    client.close().await.unwrap();
}
