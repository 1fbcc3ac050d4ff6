//! The `http` engine: runs flows on server-rendered pages with plain HTTP requests and an
//! HTML parser, no browser.
//!
//! - `open` and links: GET, redirects followed, cookies kept for the job.
//! - `fill` / `select`: remember field values on the current page.
//! - `attach`: remember a file for a file input (from `--files-dir`, or inline).
//! - `submit`, or `click` on a submit button: build the request the browser would (method,
//!   action resolved against the page URL, urlencoded or `multipart/form-data` fields
//!   including hidden inputs, chosen options, checked boxes and files) and load the answer.
//! - `wait_for`: no scripts run, so the element must be in the page as served.
//! - `expect_*`: check the current page's status, text, elements or URL.
//!
//! A navigation answered with status 400 or more fails its step, unless the next step is an
//! `expect_status` (which then decides). That rule, URL resolution and matching, which `fill`
//! values check a box, and how text compares are one copy that both engines share
//! (`driver::rules`).

mod fetch;
mod multipart;
mod page;

use std::sync::Arc;
use std::time::Duration;

use fetch::{Clients, FetchError, Jar};
use page::{Navigation, Page};
use url::Url;

use super::files::FilesDir;
use super::rules::{check_status, checks_status, collapse, resolve, start_url, url_matches};
use super::{BoxFuture, Driver, Health, JobSpec, StepFailure};
use crate::domain::{JobOutcome, JobStatus, Step};

/// Limits and identity of the http engine.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Jobs run at once on this instance.
    pub capacity: usize,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer.
    pub read_timeout: Duration,
    /// Longest time for one request, redirects not included.
    pub request_timeout: Duration,
    /// Largest page read, in bytes.
    pub max_page_bytes: u64,
    /// Most redirects followed per navigation.
    pub max_redirects: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Where jobs may connect, and how names are resolved for that check.
    pub egress: crate::egress::Egress,
    /// Where `attach` steps read their files.
    pub files: FilesDir,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            capacity: 8,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_page_bytes: 2 * 1024 * 1024,
            max_redirects: 10,
            user_agent: format!("promkit-runner/{} (form check)", env!("CARGO_PKG_VERSION")),
            egress: crate::egress::Egress::default(),
            files: FilesDir::default(),
        }
    }
}

/// The http client could not be built (TLS set-up).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the http engine's client: {0}")]
pub struct BuildError(#[from] reqwest::Error);

/// The `http` driver.
#[derive(Debug, Clone)]
pub struct HttpDriver {
    clients: Clients,
    capacity: usize,
    files: FilesDir,
}

impl From<FetchError> for StepFailure {
    fn from(e: FetchError) -> Self {
        Self::new(e.status, e.message)
    }
}

/// Installs ring as rustls' crypto provider, once per process (reqwest is built without
/// one, to keep aws-lc and its C build out). Call it before building any reqwest client;
/// calling it again does nothing.
pub fn install_crypto_provider() {
    // Err means a provider is installed already: nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HttpDriver {
    /// Builds the engine.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when the HTTP client cannot be set up (TLS roots).
    pub fn new(options: &HttpOptions) -> Result<Self, BuildError> {
        install_crypto_provider();
        // Every connection resolves through the policy, which hands on only the addresses it
        // allows: the address checked is the address connected to.
        let resolver = Arc::new(crate::egress::PolicyResolver {
            policy: Arc::clone(&options.egress.policy),
            lookup: Arc::clone(&options.egress.lookup),
        });
        let builder = || {
            reqwest::Client::builder()
                .dns_resolver(Arc::clone(&resolver))
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(options.connect_timeout)
                .read_timeout(options.read_timeout)
                .timeout(options.request_timeout)
                .user_agent(options.user_agent.clone())
        };
        let clients = Clients {
            proxied: builder().build()?,
            direct: builder().no_proxy().build()?,
            max_page_bytes: options.max_page_bytes,
            max_redirects: options.max_redirects,
            read_timeout: options.read_timeout,
            policy: Arc::clone(&options.egress.policy),
        };
        Ok(Self { clients, capacity: options.capacity, files: options.files.clone() })
    }

    async fn run_flow(&self, job: &JobSpec) -> JobOutcome {
        let mut jar = Jar::default();
        job.progress.at_start();
        let steps = &job.flow.steps;
        let start = match start_url(job) {
            Ok(url) => url,
            Err(outcome) => return outcome,
        };
        let mut page = match self
            .navigate(&mut jar, Navigation::get(start.clone()), None, checks_status(steps, 0))
            .await
        {
            Ok(page) => page,
            Err(f) => return f.outcome(job, &start, None),
        };
        for (i, step) in steps.iter().enumerate() {
            job.progress.at_step(i);
            if let Err(f) = self.step(&mut jar, &mut page, job, step, checks_status(steps, i + 1)).await {
                return f.outcome(job, &start, Some(i));
            }
        }
        JobOutcome::passed()
    }

    async fn navigate(
        &self,
        jar: &mut Jar,
        nav: Navigation,
        referer: Option<&Url>,
        status_checked_next: bool,
    ) -> Result<Page, StepFailure> {
        let page = self.clients.load(jar, nav, referer).await?;
        check_status(&page.url, Some(page.status), page.title().as_deref(), status_checked_next)?;
        Ok(page)
    }

    async fn step(
        &self,
        jar: &mut Jar,
        page: &mut Page,
        job: &JobSpec,
        step: &Step,
        status_checked_next: bool,
    ) -> Result<(), StepFailure> {
        let nav = match step {
            Step::Open { url } => Navigation::get(resolve(&job.base_url, url).map_err(StepFailure::failed)?),
            Step::Fill { selector, value } => return page.fill(selector, value).map_err(StepFailure::failed),
            Step::Select { selector, value } => {
                return page.select(selector, value).map_err(StepFailure::failed);
            }
            Step::Attach { selector, file, content, filename, content_type } => {
                let upload = self
                    .files
                    .upload(file.as_deref(), content.as_deref(), filename.as_deref(), content_type.as_deref())
                    .map_err(|e| StepFailure::new(JobStatus::Error, e))?;
                return page.attach(selector, upload).map_err(StepFailure::failed);
            }
            Step::Click { selector } => page.click(selector).map_err(StepFailure::failed)?,
            Step::Submit { selector } => page.submit(selector.as_deref()).map_err(StepFailure::failed)?,
            Step::WaitFor { selector, .. } => {
                return match page.has(selector).map_err(StepFailure::failed)? {
                    true => Ok(()),
                    false => Err(StepFailure::failed(format!(
                        "`{selector}` is not on {} (the http engine runs no scripts: the element must be in the \
                         page as served; use the webdriver engine for pages built by JavaScript)",
                        page.url
                    ))),
                };
            }
            Step::ExpectStatus { status } => {
                return if page.status == *status {
                    Ok(())
                } else {
                    Err(StepFailure::failed(format!(
                        "expected HTTP {status}, got {} from {}",
                        page.status, page.url
                    )))
                };
            }
            Step::ExpectText { text } => {
                let have = page.text().map_err(StepFailure::failed)?;
                let want = collapse(text);
                return if have.contains(&want) {
                    Ok(())
                } else {
                    Err(StepFailure::failed(format!(
                        "text \"{want}\" not found on {} (HTTP {}{})",
                        page.url,
                        page.status,
                        page.title().map(|t| format!(", title \"{t}\"")).unwrap_or_default()
                    )))
                };
            }
            Step::ExpectSelector { selector } => {
                return match page.has(selector).map_err(StepFailure::failed)? {
                    true => Ok(()),
                    false => {
                        Err(StepFailure::failed(format!("no element matches `{selector}` on {}", page.url)))
                    }
                };
            }
            Step::ExpectUrl { url } => {
                let want = resolve(&job.base_url, url).map_err(StepFailure::failed)?;
                return if url_matches(&page.url, &want) {
                    Ok(())
                } else {
                    Err(StepFailure::failed(format!("expected to be on {want}, but on {}", page.url)))
                };
            }
        };
        let referer = page.url.clone();
        *page = self.navigate(jar, nav, Some(&referer), status_checked_next).await?;
        Ok(())
    }
}

impl Driver for HttpDriver {
    fn name(&self) -> &str {
        "http"
    }

    fn capacity(&self) -> usize {
        self.capacity
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async {
            Health {
                healthy: true,
                configured: true,
                detail: "built in: plain HTTP and an HTML parser".to_owned(),
            }
        })
    }

    fn run<'a>(&'a self, job: &'a JobSpec) -> BoxFuture<'a, JobOutcome> {
        Box::pin(self.run_flow(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_builds_with_tls() {
        assert!(HttpDriver::new(&HttpOptions::default()).is_ok());
    }
}
