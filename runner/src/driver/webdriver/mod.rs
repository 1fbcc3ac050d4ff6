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
//! `expect_status`. That rule, URL resolution and matching, which `fill` values check a box,
//! and how text compares are one copy that both engines share (`driver::rules`).

mod capabilities;
mod chromedriver;
mod failure;
mod script;
mod session;
mod status;
mod steps;
mod tab;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use chromedriver::{Chromedriver, SpawnError};
use session::Browser;
use status::server_status;
use tab::Tab;

use super::rules::start_url;
use super::{BoxFuture, Driver, Health, JobSpec};
use crate::config::Config;
use crate::domain::{JobOutcome, JobStatus};

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
    /// The egress policy the browser's requests go through (a local browser only); `None`:
    /// unchecked.
    pub egress: Option<crate::egress::Egress>,
    /// Where `attach` steps read their files (a local browser only).
    pub files: crate::driver::files::FilesDir,
}

impl Default for WebDriverOptions {
    fn default() -> Self {
        Self {
            url: None,
            capacity: 2,
            browser: None,
            page_load_timeout: Duration::from_secs(30),
            window: (1280, 800),
            egress: None,
            files: crate::driver::files::FilesDir::default(),
        }
    }
}

/// Extra time the WebDriver server gets over a page load before a command counts as hung.
const COMMAND_SLACK: Duration = Duration::from_secs(10);

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
        if options.url.is_some()
            && let capabilities::Sandbox::Off(why) = capabilities::sandbox()
        {
            tracing::warn!("Chromium runs without its sandbox: {why}");
        }
        let mut driver = Self::with_options(options);
        driver._chromedriver = spawned;
        Ok(driver)
    }

    /// Sends every browser request through `egress` (browsers on this machine).
    pub fn set_egress(&mut self, egress: crate::egress::Egress) {
        self.options.egress = Some(egress);
    }

    /// Where `attach` steps read their files.
    pub fn set_files(&mut self, files: crate::driver::files::FilesDir) {
        self.options.files = files;
    }

    /// The WebDriver server's URL, when configured.
    pub fn url(&self) -> Option<&Url> {
        self.options.url.as_ref()
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
        let start = match start_url(job) {
            Ok(u) => u,
            Err(outcome) => return outcome,
        };
        let mut browser = match Browser::open(url, &self.options).await {
            Ok(b) => b,
            Err(e) => return JobOutcome::not_passed(JobStatus::Error, None, e),
        };
        let scratch = browser.profile().map(|p| p.join("runner-uploads"));
        let outcome = {
            let client = browser.client();
            let mut tab = Tab::new(client, self.options.page_load_timeout + COMMAND_SLACK);
            tab.files = self.options.files.clone();
            tab.scratch = scratch;
            match tab.run(job, &start).await {
                Ok(()) => JobOutcome::passed(),
                Err((step, failure)) => {
                    let mut outcome = failure.outcome(job, &start, step);
                    if failure.page_alive {
                        outcome.screenshot = session::screenshot(client).await;
                    }
                    outcome
                }
            }
        };
        let refusals = browser.refusals();
        browser.close().await;
        match refusals.first() {
            // A refused request fails the job even when the page did without it.
            Some(refusal) => {
                let then = outcome.reason.as_deref().map(|r| format!(" (then {r})")).unwrap_or_default();
                let mut refused = JobOutcome::not_passed(
                    JobStatus::Error,
                    outcome.failed_step,
                    format!("a request of the page was refused: {refusal}{then}"),
                );
                refused.screenshot = outcome.screenshot;
                refused
            }
            None => outcome,
        }
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

    #[tokio::test]
    async fn unconfigured_driver_says_how_to_configure_it() {
        let driver = WebDriverDriver::new(None, 2);
        let health = driver.health().await;
        assert_eq!((health.healthy, health.configured), (false, false));
        assert!(health.detail.contains("--webdriver-url"), "{}", health.detail);
    }
}
