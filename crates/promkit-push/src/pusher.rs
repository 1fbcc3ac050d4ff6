//! The async pusher: push (PUT), add (POST) and delete (DELETE) with reqwest's async client.

use crate::request::{MAX_ERROR_BODY, Op, Target};
use crate::{PushError, PusherBuilder};

/// Pushes registries to one group of a Pushgateway, as often as asked (Go's `push.Pusher`).
///
/// Made by [`Pusher::builder`]. Each [`push`](Self::push) or [`add`](Self::add) gathers the
/// registries afresh. Cloning is cheap and shares the HTTP client.
#[derive(Debug, Clone)]
pub struct Pusher {
    target: Target,
    client: reqwest::Client,
}

impl Pusher {
    /// Starts configuring a pusher to the Pushgateway at `url` for the job `job`.
    ///
    /// `url` is the gateway's address, `http://` added when it has no scheme
    /// (`pushgateway:9091`), with the gateway's route prefix if it has one, but without
    /// `/metrics/job/…`. `job` must not be empty; any other text works (a `/` in it is sent
    /// base64-encoded).
    pub fn builder(url: impl AsRef<str>, job: impl AsRef<str>) -> PusherBuilder {
        PusherBuilder::new(url.as_ref(), job.as_ref())
    }

    pub(crate) fn from_parts(target: Target, client: reqwest::Client) -> Self {
        Self { target, client }
    }

    /// The URL that the requests go to: the base URL, `/metrics`, then the job and the grouping
    /// key.
    pub fn url(&self) -> &str {
        self.target.url.as_str()
    }

    /// What [`push`](Self::push) or [`add`](Self::add) would send now: the gathered metrics in
    /// text format 0.0.4.
    ///
    /// # Errors
    /// [`PushError::Gather`] when gathering fails; [`PushError::LabelConflict`] when a series
    /// already has the `job` label or a grouping label.
    pub fn body(&self) -> Result<Vec<u8>, PushError> {
        self.target.body()
    }

    /// Replaces the whole group (all metrics with this job and grouping key) with the
    /// registries' metrics: HTTP `PUT`.
    ///
    /// # Errors
    /// As [`body`](Self::body), before any request; then [`PushError::Transport`] when there
    /// is no answer, [`PushError::Status`] when the gateway answers neither 200 nor 202.
    pub async fn push(&self) -> Result<(), PushError> {
        self.send(Op::Push).await
    }

    /// Replaces, in the group, only the families that are pushed, keeping the others:
    /// HTTP `POST`.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub async fn add(&self) -> Result<(), PushError> {
        self.send(Op::Add).await
    }

    /// Removes the group (all metrics with this job and grouping key); the registries are not
    /// read: HTTP `DELETE`.
    ///
    /// The Pushgateway answers `202 Accepted` and applies the deletion just after: a read of
    /// its `/metrics` right after this returns may still show the group for a moment (a
    /// `push` or `add`, by contrast, is applied before the gateway answers).
    ///
    /// # Errors
    /// [`PushError::Transport`] when there is no answer, [`PushError::Status`] when the
    /// gateway answers anything but 202.
    pub async fn delete(&self) -> Result<(), PushError> {
        self.send(Op::Delete).await
    }

    async fn send(&self, op: Op) -> Result<(), PushError> {
        let t = &self.target;
        let mut request = self.client.request(op.method(), t.url.clone()).headers(t.headers(op));
        if op != Op::Delete {
            request = request.body(t.body()?);
        }
        if let Some(timeout) = t.timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|e| t.transport(op, e))?;
        let status = response.status().as_u16();
        if op.succeeded(status) {
            return Ok(());
        }
        Err(t.refused(op, status, error_body(response).await))
    }
}

/// The start of a failure response's body, for the error message; a failure to read more
/// just ends it.
async fn error_body(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() <= MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
