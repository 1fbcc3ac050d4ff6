//! The `webdriver` engine: runs flows in a real browser through a WebDriver server
//! (chromedriver and headless Chromium), for pages that need scripts, and keeps a PNG
//! screenshot of the page where a job failed.
//!
//! # Sessions
//!
//! One browser session per job, opened when the job starts and closed when it ends (also when
//! the pool drops the job at its timeout): every job gets a fresh profile (no cookies, storage
//! or cache left by another site's job), and a browser that crashes or hangs takes one job
//! with it, not the pool. Starting Chromium costs about half a second per job, which checks
//! that run every few minutes can afford. How many sessions run at once is the driver's
//! capacity (`--webdriver-sessions`), enforced by the [registry](super::DriverRegistry).
//!
//! With `--webdriver-url` the engine talks to that server; with `--chromedriver PATH` (and
//! no URL) the runner starts chromedriver itself on a free loopback port and stops it when it
//! stops.
//!
//! # Steps
//!
//! The semantics are the http engine's (see [`super::http`]), in a browser:
//!
//! - `open`: navigate and wait for the page to load.
//! - `fill`: text fields are cleared and typed into (key events fire); check boxes and radios
//!   are clicked to the wanted state; date, colour, range and hidden inputs are set by script
//!   with `input` and `change` events.
//! - `select`: the option whose value, else whose text, is given; `input`/`change` fire.
//! - `click`: a real click, whatever the element (links, buttons, script handlers).
//! - `submit`: the form's `requestSubmit()` (validation and `submit` handlers run), or a
//!   click on the selected submit button.
//! - `wait_for`: polls for the selector until its `timeout_ms` (default 10 s): what pages
//!   built by scripts need.
//! - `expect_*`: checked at once, on the page as it is; `expect_text` reads the visible text
//!   (`innerText`), `expect_status` the status of the latest page load.
//!
//! A page load answered with status 400 or more fails its step, unless the next step is an
//! `expect_status`.

mod chromedriver;
mod script;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::{Host, Url};

pub use chromedriver::{Chromedriver, SpawnError};

use super::{BoxFuture, Driver, Health, JobSpec, resolve, url_matches};
use crate::config::Config;
use crate::domain::{JobOutcome, JobStatus, Step};

/// How the webdriver engine starts and drives browsers.
#[derive(Debug, Clone)]
pub struct WebDriverOptions {
    /// The WebDriver server; `None`: not configured.
    pub url: Option<Url>,
    /// Browser sessions at once.
    pub capacity: usize,
    /// The Chromium binary the server starts (`goog:chromeOptions.binary`); `None`:
    /// `/usr/bin/chromium` when it exists, else the server's own choice.
    pub browser: Option<PathBuf>,
    /// Longest wait for one page load, and for one script.
    pub page_load_timeout: Duration,
    /// The browser window, in CSS pixels (screenshots have this size).
    pub window: (u32, u32),
}

impl Default for WebDriverOptions {
    fn default() -> Self {
        Self {
            url: None,
            capacity: 2,
            browser: None,
            page_load_timeout: Duration::from_secs(30),
            window: (1280, 800),
        }
    }
}

/// The `wait_for` timeout when a step gives none.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// How often `wait_for` looks again.
const POLL: Duration = Duration::from_millis(100);
/// Extra time the WebDriver server gets over a page load before a command counts as hung.
const COMMAND_SLACK: Duration = Duration::from_secs(10);
/// Longest wait for the server to open or close a session, or take a screenshot.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// The `webdriver` driver.
#[derive(Debug, Clone)]
pub struct WebDriverDriver {
    options: WebDriverOptions,
    /// For `GET {url}/status`; `Err` holds why it could not be built.
    status_client: Result<reqwest::Client, String>,
    /// The chromedriver this driver started, stopped when the last clone is dropped.
    _chromedriver: Option<Arc<Chromedriver>>,
}

impl WebDriverDriver {
    /// The driver for a WebDriver server at `url` (none: not configured), running at most
    /// `capacity` browser sessions at once, other options at their defaults.
    pub fn new(url: Option<Url>, capacity: usize) -> Self {
        Self::with_options(WebDriverOptions { url, capacity, ..WebDriverOptions::default() })
    }

    /// The driver with these options.
    pub fn with_options(options: WebDriverOptions) -> Self {
        super::http::install_crypto_provider();
        let status_client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| format!("cannot build the status client: {e}"));
        Self { options, status_client, _chromedriver: None }
    }

    /// The driver as configured: `--webdriver-url`, or else a chromedriver started from
    /// `--chromedriver` (stopped when the driver is dropped), or else not configured.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] when `--chromedriver` is given and cannot be started.
    pub async fn start(config: &Config) -> Result<Self, SpawnError> {
        let mut options = WebDriverOptions {
            url: config.webdriver_url.clone(),
            capacity: config.webdriver_sessions,
            browser: config.chromium.clone(),
            page_load_timeout: config.job_timeout,
            ..WebDriverOptions::default()
        };
        let spawned = match (&options.url, &config.chromedriver) {
            (None, Some(path)) => {
                let child = Chromedriver::spawn(path).await?;
                options.url = Some(child.url().clone());
                Some(Arc::new(child))
            }
            _ => None,
        };
        let mut driver = Self::with_options(options);
        driver._chromedriver = spawned;
        Ok(driver)
    }

    /// The WebDriver server's URL, when configured.
    pub fn url(&self) -> Option<&Url> {
        self.options.url.as_ref()
    }

    /// `goog:chromeOptions` and the W3C capabilities of a new session.
    fn capabilities(&self, profile: Option<&TempDir>) -> fantoccini::wd::Capabilities {
        let (w, h) = self.options.window;
        let mut args: Vec<String> = [
            "--headless=new",
            // Chromium's sandbox needs user namespaces, which containers (and root) lack.
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        args.push(format!("--window-size={w},{h}"));
        if let Some(dir) = profile {
            args.push(format!("--user-data-dir={}", dir.path().display()));
        }
        let mut chrome = json!({ "args": args });
        let browser = self.options.browser.clone().or_else(|| {
            let default = PathBuf::from("/usr/bin/chromium");
            default.exists().then_some(default)
        });
        if let Some(binary) = browser {
            chrome["binary"] = json!(binary.display().to_string());
        }
        let ms = u64::try_from(self.options.page_load_timeout.as_millis()).unwrap_or(u64::MAX);
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome,
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": ms, "script": ms, "implicit": 0 },
        });
        match caps {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        }
    }

    /// Opens a browser session with a fresh profile.
    async fn open(&self, url: &Url) -> Result<Browser, String> {
        // The profile directory must be on the browser's machine: only for a local server.
        let profile = if is_loopback(url) {
            Some(
                tempfile::Builder::new()
                    .prefix("runner-chromium-")
                    .tempdir()
                    .map_err(|e| format!("cannot create a temporary browser profile directory: {e}"))?,
            )
        } else {
            None
        };
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(self.capabilities(profile.as_ref()));
        let client = match tokio::time::timeout(SESSION_TIMEOUT, builder.connect(url.as_str())).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                return Err(format!(
                    "cannot open a browser session on {url}: {}",
                    first_line(&e.to_string())
                ));
            }
            Err(_) => {
                return Err(format!(
                    "the WebDriver server {url} did not open a browser session within {}s",
                    SESSION_TIMEOUT.as_secs()
                ));
            }
        };
        Ok(Browser { client: Some(client), profile })
    }

    async fn run_flow(&self, job: &JobSpec) -> JobOutcome {
        job.progress.at_start();
        let Some(url) = &self.options.url else {
            return JobOutcome::not_passed(
                JobStatus::Error,
                None,
                "the webdriver engine is not configured on this runner (start it with --webdriver-url or --chromedriver)",
            );
        };
        let start = match resolve(&job.base_url, &job.flow.start_url) {
            Ok(u) => u,
            Err(e) => return JobOutcome::not_passed(JobStatus::Error, None, format!("start URL: {e}")),
        };
        let mut browser = match self.open(url).await {
            Ok(b) => b,
            Err(e) => return JobOutcome::not_passed(JobStatus::Error, None, e),
        };
        let outcome = {
            let client = browser.client();
            let mut tab = Tab { client, limit: self.options.page_load_timeout + COMMAND_SLACK, origin: None };
            match tab.run(job, &start).await {
                Ok(()) => JobOutcome::passed(),
                Err((step, failure)) => {
                    let reason = match step {
                        None => format!("start page {start}: {}", failure.message),
                        Some(i) => {
                            let kind = job.flow.steps.get(i).map_or("?", |s| s.kind().as_str());
                            format!("step {i} ({kind}): {}", failure.message)
                        }
                    };
                    let mut outcome = JobOutcome::not_passed(failure.status, step, reason);
                    if failure.page_alive {
                        outcome.screenshot = screenshot(client).await;
                    }
                    outcome
                }
            }
        };
        browser.close().await;
        outcome
    }

    async fn check_health(&self) -> Health {
        let Some(url) = &self.options.url else {
            return Health {
                healthy: false,
                configured: false,
                detail: "not configured: start the runner with --webdriver-url or --chromedriver".to_owned(),
            };
        };
        let client = match &self.status_client {
            Ok(c) => c,
            Err(e) => return Health { healthy: false, configured: true, detail: e.clone() },
        };
        match server_status(client, url).await {
            Ok(status) if status.ready => {
                Health { healthy: true, configured: true, detail: format!("{url}: {}", status.describe()) }
            }
            Ok(status) => Health {
                healthy: false,
                configured: true,
                detail: format!("{url} is not ready: {}", status.describe()),
            },
            Err(e) => Health { healthy: false, configured: true, detail: format!("{url}: {e}") },
        }
    }
}

/// What `GET /status` says (W3C: `{"value": {"ready": bool, "message": str}}`).
#[derive(Debug, Deserialize)]
struct ServerStatus {
    ready: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    build: Option<Build>,
}

#[derive(Debug, Deserialize)]
struct Build {
    #[serde(default)]
    version: Option<String>,
}

impl ServerStatus {
    fn describe(&self) -> String {
        match self.build.as_ref().and_then(|b| b.version.as_deref()) {
            Some(v) => format!("{} (version {})", self.message, v.split(' ').next().unwrap_or(v)),
            None => self.message.clone(),
        }
    }
}

/// Asks a WebDriver server whether it can open sessions.
async fn server_status(client: &reqwest::Client, url: &Url) -> Result<ServerStatus, String> {
    #[derive(Deserialize)]
    struct Envelope {
        value: ServerStatus,
    }
    let status_url = url.join("status").map_err(|e| format!("no status URL ({e})"))?;
    let status_url = if url.path().ends_with('/') {
        status_url
    } else {
        // `http://host:9515/wd/hub` means `/wd/hub/status`, which `join` would not give.
        Url::parse(&format!("{}/status", url.as_str())).map_err(|e| format!("no status URL ({e})"))?
    };
    let resp = client.get(status_url.clone()).send().await.map_err(|e| format!("unreachable ({e})"))?;
    let code = resp.status();
    let body = resp.text().await.map_err(|e| format!("status answer unreadable ({e})"))?;
    if !code.is_success() {
        return Err(format!("{status_url} answered HTTP {}", code.as_u16()));
    }
    serde_json::from_str::<Envelope>(&body)
        .map(|e| e.value)
        .map_err(|e| format!("{status_url} is not a WebDriver status ({e})"))
}

/// A browser session and its profile directory, closed and removed when done (or dropped,
/// as when the pool gives up on a job at its timeout).
struct Browser {
    client: Option<Client>,
    profile: Option<TempDir>,
}

impl Browser {
    fn client(&mut self) -> &Client {
        self.client.as_ref().unwrap_or_else(|| unreachable!("the client is taken only by close and drop"))
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            close_session(client, self.profile.take()).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let profile = self.profile.take();
            // Dropped mid-job (timeout, shutdown): close the session in the background so the
            // browser does not outlive its job; without a runtime, fantoccini's own session task
            // ends the session when its last handle goes.
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(close_session(client, profile));
            }
        }
    }
}

async fn close_session(client: Client, profile: Option<TempDir>) {
    if let Ok(Err(e)) = tokio::time::timeout(SESSION_TIMEOUT, client.close()).await {
        tracing::debug!(error = %e, "closing a browser session failed");
    }
    // The profile goes after the browser has quit, or Chromium recreates files in it.
    drop(profile);
}

/// A PNG of the current page, if the browser can still take one.
async fn screenshot(client: &Client) -> Option<Vec<u8>> {
    match tokio::time::timeout(SESSION_TIMEOUT, client.screenshot()).await {
        Ok(Ok(png)) if png.starts_with(b"\x89PNG") => Some(png),
        Ok(Ok(_)) => None,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "no screenshot of the failed page");
            None
        }
        Err(_) => None,
    }
}

/// A step that did not hold.
#[derive(Debug)]
struct StepFailure {
    status: JobStatus,
    message: String,
    /// Whether the browser still shows a page worth a screenshot.
    page_alive: bool,
}

impl StepFailure {
    fn failed(message: impl Into<String>) -> Self {
        Self { status: JobStatus::Failed, message: message.into(), page_alive: true }
    }
}

/// A command error, worded for people, with the status it gives the job.
fn command_failure(what: &str, e: &CmdError) -> StepFailure {
    match e {
        CmdError::Standard(w) => {
            let message = first_line(&w.message);
            if e.is_timeout() {
                StepFailure {
                    status: JobStatus::TimedOut,
                    message: format!("{what}: {message}"),
                    page_alive: true,
                }
            } else if message.contains("net::ERR_") {
                // The site could not be reached: the http engine's `error`.
                StepFailure {
                    status: JobStatus::Error,
                    message: format!("{what}: {message}"),
                    page_alive: true,
                }
            } else if e.is_unexpected_alert_open() {
                StepFailure::failed(format!("{what}: the page opened a dialog ({message})"))
            } else if e.is_invalid_session_id() || e.is_session_not_created() || e.is_no_such_window() {
                StepFailure {
                    status: JobStatus::Error,
                    message: format!("{what}: the browser session ended ({message})"),
                    page_alive: false,
                }
            } else {
                StepFailure::failed(format!("{what}: {message}"))
            }
        }
        other => StepFailure {
            status: JobStatus::Error,
            message: format!("{what}: lost the WebDriver server ({})", first_line(&other.to_string())),
            page_alive: false,
        },
    }
}

fn click_intercepted(e: &CmdError) -> bool {
    matches!(e, CmdError::Standard(w) if w.error == ErrorStatus::ElementClickIntercepted)
}

/// The first line of a WebDriver message (chromedriver appends session info and stack
/// traces).
fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}

/// The current page of one job's browser.
struct Tab<'a> {
    client: &'a Client,
    /// Longest wait for one WebDriver command.
    limit: Duration,
    /// `performance.timeOrigin` of the document last checked, to see whether a step loaded a
    /// new page.
    origin: Option<f64>,
}

/// The document's identity, load state and HTTP status.
#[derive(Debug, Deserialize)]
struct DocState {
    origin: f64,
    ready: String,
    status: Option<u16>,
    url: String,
    title: String,
    /// The document started to load another one (see `script::WATCH`).
    #[serde(default)]
    leaving: bool,
}

type Failed = (Option<usize>, StepFailure);

impl Tab<'_> {
    /// Runs a WebDriver command under the command time limit.
    async fn cmd<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, CmdError>>,
    ) -> Result<T, StepFailure> {
        match tokio::time::timeout(self.limit, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(command_failure(what, &e)),
            Err(_) => Err(StepFailure {
                status: JobStatus::TimedOut,
                message: format!(
                    "{what}: the WebDriver server did not answer within {}s",
                    self.limit.as_secs()
                ),
                page_alive: false,
            }),
        }
    }

    /// Runs a script and reads its result as `T`.
    async fn script<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        source: &str,
        args: Vec<Value>,
    ) -> Result<T, StepFailure> {
        let value = self.cmd(what, self.client.execute(source, args)).await?;
        serde_json::from_value(value.clone())
            .map_err(|e| StepFailure::failed(format!("{what}: unexpected script result {value} ({e})")))
    }

    async fn doc(&self) -> Result<DocState, StepFailure> {
        self.script("reading the page state", script::DOC_STATE, Vec::new()).await
    }

    /// Arms the navigation watch before an action that may load a page (see `script::WATCH`).
    async fn watch(&self) -> Result<(), StepFailure> {
        self.script::<Value>("watching for a page load", script::WATCH, Vec::new()).await.map(drop)
    }

    /// After a step that may load a page: waits until the page the step led to has loaded,
    /// then fails on an HTTP error status unless the next step checks the status itself.
    ///
    /// "Loaded" is decided by the document, not by time: a new document (another
    /// `timeOrigin`) must reach `readyState == "complete"`; the same document is done unless
    /// the watch saw it start to leave, in which case the new one is awaited. Bounded by the
    /// command limit (a navigation that never replaces the page, such as a `204` answer,
    /// ends there and the flow goes on with the page it has).
    async fn settle(&mut self, status_checked_next: bool) -> Result<(), StepFailure> {
        let deadline = tokio::time::Instant::now() + self.limit;
        let mut state = self.doc().await?;
        loop {
            let replaced = self.origin != Some(state.origin);
            let pending = if replaced { state.ready != "complete" } else { state.leaving };
            if !pending || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL).await;
            // Mid-swap the browser may fail a script; only the deadline ends the wait.
            state = match self.doc().await {
                Ok(s) => s,
                Err(_) if tokio::time::Instant::now() < deadline => continue,
                Err(e) => return Err(e),
            };
        }
        let new_page = self.origin != Some(state.origin);
        self.origin = Some(state.origin);
        if new_page
            && !status_checked_next
            && let Some(code) = state.status.filter(|&c| c >= 400)
        {
            let title = if state.title.is_empty() { String::new() } else { format!(" \"{}\"", state.title) };
            return Err(StepFailure::failed(format!("{} answered HTTP {code}{title}", state.url)));
        }
        Ok(())
    }

    async fn find(&self, selector: &str) -> Result<fantoccini::elements::Element, StepFailure> {
        match tokio::time::timeout(self.limit, self.client.find(Locator::Css(selector))).await {
            Ok(Ok(el)) => Ok(el),
            Ok(Err(e)) if e.is_no_such_element() => {
                let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                Err(StepFailure::failed(format!("no element matches `{selector}` on {url}")))
            }
            Ok(Err(e)) if e.is_invalid_selector() => {
                Err(StepFailure::failed(format!("`{selector}` is not a valid CSS selector")))
            }
            Ok(Err(e)) => Err(command_failure(&format!("finding `{selector}`"), &e)),
            Err(_) => Err(StepFailure {
                status: JobStatus::TimedOut,
                message: format!("finding `{selector}`: the WebDriver server did not answer"),
                page_alive: false,
            }),
        }
    }

    async fn run(&mut self, job: &JobSpec, start: &Url) -> Result<(), Failed> {
        let steps = &job.flow.steps;
        let next_is_status = |i: usize| matches!(steps.get(i), Some(Step::ExpectStatus { .. }));
        self.cmd("loading", self.client.goto(start.as_str())).await.map_err(|f| (None, f))?;
        self.settle(next_is_status(0)).await.map_err(|f| (None, f))?;
        for (i, step) in steps.iter().enumerate() {
            job.progress.at_step(i);
            self.step(job, step, next_is_status(i + 1)).await.map_err(|f| (Some(i), f))?;
        }
        Ok(())
    }

    async fn step(
        &mut self,
        job: &JobSpec,
        step: &Step,
        status_checked_next: bool,
    ) -> Result<(), StepFailure> {
        match step {
            Step::Open { url } => {
                let url = resolve(&job.base_url, url).map_err(StepFailure::failed)?;
                self.cmd(&format!("loading {url}"), self.client.goto(url.as_str())).await?;
                self.settle(status_checked_next).await
            }
            Step::Fill { selector, value } => self.fill(selector, value).await,
            Step::Select { selector, value } => {
                let el = self.find(selector).await?;
                let field: FieldInfo = self.script("inspecting", script::FIELD_INFO, vec![json!(el)]).await?;
                if field.tag != "select" {
                    return Err(StepFailure::failed(format!(
                        "{} matched by `{selector}` is not a <select>",
                        field.desc
                    )));
                }
                self.choose(&el, &field, value).await
            }
            Step::Click { selector } => {
                let el = self.find(selector).await?;
                self.watch().await?;
                self.cmd(&format!("clicking `{selector}`"), el.click()).await?;
                self.settle(status_checked_next).await
            }
            Step::Submit { selector } => {
                let target = match selector {
                    Some(s) => Some(self.find(s).await?),
                    None => None,
                };
                let args = vec![target.as_ref().map_or(Value::Null, |el| json!(el))];
                self.watch().await?;
                let plan: SubmitPlan = self.script("submitting", script::SUBMIT, args).await?;
                match (plan.error, target) {
                    (Some(e), _) => return Err(StepFailure::failed(e)),
                    (None, Some(el)) if plan.click => {
                        self.cmd("pressing the submit button", el.click()).await?;
                    }
                    _ => {}
                }
                self.settle(status_checked_next).await
            }
            Step::WaitFor { selector, timeout_ms } => {
                let wait = timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis);
                let deadline = tokio::time::Instant::now() + wait;
                loop {
                    match tokio::time::timeout(self.limit, self.client.find(Locator::Css(selector))).await {
                        Ok(Ok(_)) => return Ok(()),
                        Ok(Err(e)) if e.is_no_such_element() => {}
                        Ok(Err(e)) if e.is_invalid_selector() => {
                            return Err(StepFailure::failed(format!(
                                "`{selector}` is not a valid CSS selector"
                            )));
                        }
                        Ok(Err(e)) => return Err(command_failure(&format!("waiting for `{selector}`"), &e)),
                        Err(_) => {
                            return Err(StepFailure {
                                status: JobStatus::TimedOut,
                                message: format!(
                                    "waiting for `{selector}`: the WebDriver server did not answer"
                                ),
                                page_alive: false,
                            });
                        }
                    }
                    if tokio::time::Instant::now() >= deadline {
                        let state = self.doc().await?;
                        return Err(StepFailure::failed(format!(
                            "`{selector}` did not appear on {} within {} ms",
                            state.url,
                            wait.as_millis()
                        )));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
            Step::ExpectStatus { status } => {
                let state = self.doc().await?;
                match state.status {
                    Some(have) if have == *status => Ok(()),
                    Some(have) => Err(StepFailure::failed(format!(
                        "expected HTTP {status}, got {have} from {}",
                        state.url
                    ))),
                    None => Err(StepFailure::failed(format!(
                        "expected HTTP {status}, but the browser reports no status for {}",
                        state.url
                    ))),
                }
            }
            Step::ExpectText { text } => {
                let have: String = self.script("reading the page text", script::TEXT, Vec::new()).await?;
                let (have, want) = (collapse(&have), collapse(text));
                if have.contains(&want) {
                    Ok(())
                } else {
                    let state = self.doc().await?;
                    let title = if state.title.is_empty() {
                        String::new()
                    } else {
                        format!(", title \"{}\"", state.title)
                    };
                    let status =
                        state.status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "no status".to_owned());
                    Err(StepFailure::failed(format!(
                        "text \"{want}\" not found on {} ({status}{title})",
                        state.url
                    )))
                }
            }
            Step::ExpectSelector { selector } => self.find(selector).await.map(|_| ()),
            Step::ExpectUrl { url } => {
                let want = resolve(&job.base_url, url).map_err(StepFailure::failed)?;
                let have = self.cmd("reading the URL", self.client.current_url()).await?;
                if url_matches(&have, &want) {
                    Ok(())
                } else {
                    Err(StepFailure::failed(format!("expected to be on {want}, but on {have}")))
                }
            }
        }
    }

    async fn fill(&mut self, selector: &str, value: &str) -> Result<(), StepFailure> {
        let el = self.find(selector).await?;
        let field: FieldInfo = self.script("inspecting", script::FIELD_INFO, vec![json!(el)]).await?;
        let what = format!("filling {}", field.desc);
        match (field.tag.as_str(), field.kind.as_str()) {
            ("select", _) => self.choose(&el, &field, value).await,
            ("input", "checkbox" | "radio") => {
                let want = if field.kind == "checkbox" {
                    truthy(value)
                } else {
                    value.is_empty() || truthy(value) || field.value.as_deref() == Some(value)
                };
                if field.checked == want {
                    return Ok(());
                }
                // A click runs the page's handlers; a radio cannot be unchecked by one, and a
                // box hidden behind a styled label cannot be clicked: set those by script.
                let clicked =
                    if want { tokio::time::timeout(self.limit, el.click()).await } else { Ok(Ok(())) };
                match clicked {
                    Ok(Ok(())) if want => Ok(()),
                    Ok(Err(e)) if !e.is_element_not_interactable() && !click_intercepted(&e) => {
                        Err(command_failure(&what, &e))
                    }
                    _ => self
                        .script::<Value>(&what, script::SET_CHECKED, vec![json!(el), json!(want)])
                        .await
                        .map(|_| ()),
                }
            }
            ("input", "submit" | "image" | "button" | "reset" | "file") => {
                Err(StepFailure::failed(format!("{} cannot be filled", field.desc)))
            }
            ("textarea", _)
            | ("input", "text" | "email" | "password" | "search" | "tel" | "url" | "number")
                if typeable(value, field.tag == "textarea") =>
            {
                self.cmd(&what, el.clear()).await?;
                if !value.is_empty() {
                    self.cmd(&what, el.send_keys(value)).await?;
                }
                Ok(())
            }
            ("textarea" | "input", _) => self
                .script::<Value>(&what, script::SET_VALUE, vec![json!(el), json!(value)])
                .await
                .map(|_| ()),
            _ => Err(StepFailure::failed(format!(
                "{} matched by `{selector}` is not a form field",
                field.desc
            ))),
        }
    }

    /// Chooses an option of a `<select>` by value, else by text.
    async fn choose(
        &self,
        el: &fantoccini::elements::Element,
        field: &FieldInfo,
        value: &str,
    ) -> Result<(), StepFailure> {
        let chosen: ChooseResult = self
            .script(&format!("choosing in {}", field.desc), script::CHOOSE, vec![json!(el), json!(value)])
            .await?;
        match chosen.error.as_deref() {
            None => Ok(()),
            Some("disabled") => Err(StepFailure::failed(format!("option `{value}` is disabled"))),
            Some(_) => Err(StepFailure::failed(format!(
                "{} has no option `{value}` (options: {})",
                field.desc,
                chosen.known.join(", ")
            ))),
        }
    }
}

/// What [`script::FIELD_INFO`] reports of an element.
#[derive(Debug, Deserialize)]
struct FieldInfo {
    tag: String,
    /// An input's `type`, lowercase; empty for other elements.
    kind: String,
    checked: bool,
    value: Option<String>,
    desc: String,
}

#[derive(Debug, Deserialize)]
struct ChooseResult {
    error: Option<String>,
    #[serde(default)]
    known: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SubmitPlan {
    error: Option<String>,
    #[serde(default)]
    click: bool,
}

/// Whether `value` can be typed: newlines would press Enter in an input (submitting its
/// form), and WebDriver reads characters of the private-use block as special keys.
fn typeable(value: &str, textarea: bool) -> bool {
    !value.chars().any(|c| ('\u{E000}'..='\u{F8FF}').contains(&c) || (!textarea && (c == '\n' || c == '\r')))
}

/// Check-box truth, as the http engine reads it.
fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "on" | "yes" | "1" | "checked")
}

/// Collapses runs of whitespace to one space and trims.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Driver for WebDriverDriver {
    fn name(&self) -> &str {
        "webdriver"
    }

    fn capacity(&self) -> usize {
        self.options.capacity
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(self.check_health())
    }

    fn run<'a>(&'a self, job: &'a JobSpec) -> BoxFuture<'a, JobOutcome> {
        Box::pin(self.run_flow(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_carry_the_chromium_flags() {
        let driver = WebDriverDriver::with_options(WebDriverOptions {
            browser: Some(PathBuf::from("/opt/chromium")),
            ..WebDriverOptions::default()
        });
        let profile = tempfile::tempdir().unwrap();
        let caps = Value::Object(driver.capabilities(Some(&profile)));
        let chrome = &caps["goog:chromeOptions"];
        assert_eq!(chrome["binary"], "/opt/chromium");
        let args: Vec<&str> = chrome["args"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"] {
            assert!(args.contains(&flag), "{flag} missing from {args:?}");
        }
        assert!(args.contains(&format!("--user-data-dir={}", profile.path().display()).as_str()), "{args:?}");
        assert_eq!(caps["timeouts"]["pageLoad"], 30_000);
    }

    #[test]
    fn typing_avoids_enter_and_special_keys() {
        assert!(typeable("Ada & <Bob>", false));
        assert!(!typeable("two\nlines", false));
        assert!(typeable("two\nlines", true));
        assert!(!typeable("key \u{E007}", true));
    }

    #[test]
    fn loopback_servers_get_a_local_profile() {
        assert!(is_loopback(&Url::parse("http://127.0.0.1:9515/").unwrap()));
        assert!(is_loopback(&Url::parse("http://localhost:9515/").unwrap()));
        assert!(!is_loopback(&Url::parse("http://grid.example:4444/wd/hub").unwrap()));
    }

    #[test]
    fn server_status_reads_chromedriver() {
        let body = r#"{"value":{"build":{"version":"156.0.1 (abc)"},"message":"ChromeDriver ready for new sessions.","os":{},"ready":true}}"#;
        #[derive(Deserialize)]
        struct Envelope {
            value: ServerStatus,
        }
        let status = serde_json::from_str::<Envelope>(body).unwrap().value;
        assert!(status.ready);
        assert_eq!(status.describe(), "ChromeDriver ready for new sessions. (version 156.0.1)");
    }

    #[tokio::test]
    async fn unconfigured_driver_says_how_to_configure_it() {
        let driver = WebDriverDriver::new(None, 2);
        let health = driver.health().await;
        assert_eq!((health.healthy, health.configured), (false, false));
        assert!(health.detail.contains("--webdriver-url"), "{}", health.detail);
    }
}
