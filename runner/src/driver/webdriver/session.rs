//! One job's browser session: opened with a fresh profile directory (on this machine when
//! the WebDriver server is loopback), closed when the job ends or is dropped, and the
//! screenshot of the page a job failed on.

use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use tempfile::TempDir;
use url::Url;

use super::failure::first_line;
use super::{WebDriverOptions, capabilities};
use crate::egress::{PolicyResolver, Proxy, Refusal};
use crate::loopback;

/// Longest wait for the server to open or close a session, or take a screenshot.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);

/// A browser session and its profile directory, closed and removed when done (or dropped,
/// as when the pool gives up on a job at its timeout).
pub(super) struct Browser {
    client: Option<Client>,
    profile: Option<TempDir>,
    /// The egress proxy every request of this browser goes through, when the policy applies.
    proxy: Option<Proxy>,
}

impl Browser {
    /// Opens a browser session with a fresh profile on the WebDriver server at `url`.
    pub(super) async fn open(url: &Url, options: &WebDriverOptions) -> Result<Self, String> {
        // The profile directory must be on the browser's machine: only for a local server.
        let profile = if loopback::is_url(url) {
            Some(
                tempfile::Builder::new()
                    .prefix("runner-chromium-")
                    .tempdir()
                    .map_err(|e| format!("cannot create a temporary browser profile directory: {e}"))?,
            )
        } else {
            None
        };
        // The proxy listens on this machine's loopback, so only a local browser can use it.
        let proxy = match (&options.egress, loopback::is_url(url)) {
            (Some(egress), true) => {
                let resolver =
                    PolicyResolver { policy: Arc::clone(&egress.policy), lookup: Arc::clone(&egress.lookup) };
                Some(
                    Proxy::start(resolver)
                        .await
                        .map_err(|e| format!("cannot start the egress proxy: {e}"))?,
                )
            }
            _ => None,
        };
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities::of(
            options,
            profile.as_ref().map(TempDir::path),
            proxy.as_ref().map(Proxy::addr),
        ));
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
        Ok(Self { client: Some(client), profile, proxy })
    }

    /// The requests the egress proxy refused so far.
    pub(super) fn refusals(&self) -> Vec<Refusal> {
        self.proxy.as_ref().map(Proxy::refusals).unwrap_or_default()
    }

    /// The profile directory, on this machine, when the browser is local.
    pub(super) fn profile(&self) -> Option<&std::path::Path> {
        self.profile.as_ref().map(TempDir::path)
    }

    /// The session.
    pub(super) fn client(&mut self) -> &Client {
        self.client.as_ref().unwrap_or_else(|| unreachable!("the client is taken only by close and drop"))
    }

    /// Closes the session, then removes the profile.
    pub(super) async fn close(mut self) {
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
pub(super) async fn screenshot(client: &Client) -> Option<Vec<u8>> {
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
