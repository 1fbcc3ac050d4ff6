//! The current page of one job's browser: WebDriver commands under a time limit, the page's
//! load state and status, finding elements, and running a flow's steps in order (each step
//! itself is in [`super::steps`]).

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::failure::{command_failure, no_answer};
use super::script;
use crate::driver::files::FilesDir;
use crate::driver::rules::{check_status, checks_status};
use crate::driver::{JobSpec, StepFailure};

/// How often a page still loading, or a `wait_for` selector, is looked at again.
pub(super) const POLL: Duration = Duration::from_millis(100);

/// The current page of one job's browser.
pub(super) struct Tab<'a> {
    pub(super) client: &'a Client,
    /// Longest wait for one WebDriver command.
    pub(super) limit: Duration,
    /// `performance.timeOrigin` of the document last checked, to see whether a step loaded a
    /// new page.
    origin: Option<f64>,
    /// Where `attach` steps read files.
    pub(super) files: FilesDir,
    /// A folder on the browser's machine for files written for it (inline content, renamed
    /// files); `None` when the browser is remote.
    pub(super) scratch: Option<PathBuf>,
    /// Files written to `scratch` so far (each in a folder of its own, keeping its name).
    pub(super) uploads: u32,
}

/// The document's identity, load state and HTTP status.
#[derive(Debug, Deserialize)]
pub(super) struct DocState {
    origin: f64,
    ready: String,
    pub(super) status: Option<u16>,
    pub(super) url: String,
    pub(super) title: String,
    /// The document started to load another one (see `script::WATCH`).
    #[serde(default)]
    leaving: bool,
}

/// A failure and where: `None` for the start page, else the step's index.
type Failed = (Option<usize>, StepFailure);

impl<'a> Tab<'a> {
    /// A tab on `client`'s current page; `limit` bounds every command.
    pub(super) fn new(client: &'a Client, limit: Duration) -> Self {
        Self { client, limit, origin: None, files: FilesDir::default(), scratch: None, uploads: 0 }
    }

    /// Runs a WebDriver command under the command time limit.
    pub(super) async fn cmd<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, CmdError>>,
    ) -> Result<T, StepFailure> {
        match tokio::time::timeout(self.limit, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(command_failure(what, &e)),
            Err(_) => Err(no_answer(format!(
                "{what}: the WebDriver server did not answer within {}s",
                self.limit.as_secs()
            ))),
        }
    }

    /// Runs a script and reads its result as `T`.
    pub(super) async fn script<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        source: &str,
        args: Vec<Value>,
    ) -> Result<T, StepFailure> {
        let value = self.cmd(what, self.client.execute(source, args)).await?;
        serde_json::from_value(value.clone())
            .map_err(|e| StepFailure::failed(format!("{what}: unexpected script result {value} ({e})")))
    }

    /// The current document's state.
    pub(super) async fn doc(&self) -> Result<DocState, StepFailure> {
        self.script("reading the page state", script::DOC_STATE, Vec::new()).await
    }

    /// Arms the navigation watch before an action that may load a page (see `script::WATCH`).
    pub(super) async fn watch(&self) -> Result<(), StepFailure> {
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
    pub(super) async fn settle(&mut self, status_checked_next: bool) -> Result<(), StepFailure> {
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
        if new_page {
            check_status(&state.url, state.status, Some(&state.title), status_checked_next)?;
        }
        Ok(())
    }

    /// The first element `selector` matches, or a failure naming the page.
    pub(super) async fn find(&self, selector: &str) -> Result<fantoccini::elements::Element, StepFailure> {
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
            Err(_) => Err(no_answer(format!("finding `{selector}`: the WebDriver server did not answer"))),
        }
    }

    /// Loads `start`, then runs the job's steps in order, stopping at the first failure.
    pub(super) async fn run(&mut self, job: &JobSpec, start: &Url) -> Result<(), Failed> {
        let steps = &job.flow.steps;
        self.cmd("loading", self.client.goto(start.as_str())).await.map_err(|f| (None, f))?;
        self.settle(checks_status(steps, 0)).await.map_err(|f| (None, f))?;
        for (i, step) in steps.iter().enumerate() {
            job.progress.at_step(i);
            self.step(job, step, checks_status(steps, i + 1)).await.map_err(|f| (Some(i), f))?;
        }
        Ok(())
    }
}
