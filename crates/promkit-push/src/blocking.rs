//! The blocking pusher: the same requests as [`Pusher`](crate::Pusher), for programs without
//! an async runtime.

use std::io::Read as _;

use crate::PushError;
use crate::request::{MAX_ERROR_BODY, Op, Target};

/// [`Pusher`](crate::Pusher) without async: each call blocks until the gateway answers.
///
/// Made by [`PusherBuilder::build_blocking`](crate::PusherBuilder::build_blocking). It runs
/// reqwest's blocking client, which has a runtime of its own: create, use and drop it outside
/// async code (inside, use [`Pusher`](crate::Pusher)).
#[derive(Debug, Clone)]
pub struct BlockingPusher {
    target: Target,
    client: reqwest::blocking::Client,
}

impl BlockingPusher {
    pub(crate) fn from_parts(target: Target, client: reqwest::blocking::Client) -> Self {
        Self { target, client }
    }

    /// As [`Pusher::url`](crate::Pusher::url).
    pub fn url(&self) -> &str {
        self.target.url.as_str()
    }

    /// As [`Pusher::body`](crate::Pusher::body).
    ///
    /// # Errors
    /// As [`Pusher::body`](crate::Pusher::body).
    pub fn body(&self) -> Result<Vec<u8>, PushError> {
        self.target.body()
    }

    /// As [`Pusher::push`](crate::Pusher::push): replaces the group (`PUT`).
    ///
    /// # Errors
    /// As [`Pusher::push`](crate::Pusher::push).
    pub fn push(&self) -> Result<(), PushError> {
        self.send(Op::Push)
    }

    /// As [`Pusher::add`](crate::Pusher::add): replaces the pushed families in the group
    /// (`POST`).
    ///
    /// # Errors
    /// As [`Pusher::add`](crate::Pusher::add).
    pub fn add(&self) -> Result<(), PushError> {
        self.send(Op::Add)
    }

    /// As [`Pusher::delete`](crate::Pusher::delete): removes the group (`DELETE`).
    ///
    /// # Errors
    /// As [`Pusher::delete`](crate::Pusher::delete).
    pub fn delete(&self) -> Result<(), PushError> {
        self.send(Op::Delete)
    }

    fn send(&self, op: Op) -> Result<(), PushError> {
        let t = &self.target;
        let mut request = self.client.request(op.method(), t.url.clone()).headers(t.headers(op));
        if op != Op::Delete {
            request = request.body(t.body()?);
        }
        if let Some(timeout) = t.timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().map_err(|e| t.transport(op, e))?;
        let status = response.status().as_u16();
        if op.succeeded(status) {
            return Ok(());
        }
        Err(t.refused(op, status, error_body(response)))
    }
}

/// The start of a failure response's body, for the error message; a failure to read more
/// just ends it.
fn error_body(response: reqwest::blocking::Response) -> String {
    let mut bytes = Vec::new();
    // Past the limit by a few bytes, so that `refused` sees the body is longer and cuts it
    // on a character boundary.
    let _ = response.take(MAX_ERROR_BODY as u64 + 4).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
