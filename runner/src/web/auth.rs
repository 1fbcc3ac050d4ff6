//! Who may change things.
//!
//! - Writes (any method but GET, HEAD, OPTIONS) need `Authorization: Bearer <token>` when a
//!   write token is set; the runner refuses to listen on a non-loopback address without one.
//! - Writes carrying an `Origin` of another host are refused, so that a web page open in a
//!   browser on the same machine cannot post to a loopback runner.
//! - On a loopback listener, requests must name a loopback `Host` (an address of 127.0.0.0/8,
//!   `::1` or `::ffff:127.x`, or a `localhost` name: the runner's one loopback rule), which
//!   defeats DNS rebinding (a hostile name that resolves to 127.0.0.1).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::loopback;

/// The access rules of one listener.
#[derive(Debug, Clone)]
pub struct Access {
    /// The bearer token writes need, if any.
    pub write_token: Option<Arc<str>>,
    /// Whether the listener is on a loopback address.
    pub loopback: bool,
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The middleware: applies [`Access`] to every request.
pub async fn guard(State(access): State<Access>, req: Request, next: Next) -> Response {
    match refusal(&access, &req) {
        Some(refused) => refused,
        None => next.run(req).await,
    }
}

/// The answer refusing `req`, or `None` to let it through.
fn refusal(access: &Access, req: &Request) -> Option<Response> {
    let header = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if access.loopback
        && let Some(host) = header(HOST)
        && !loopback::is_authority(host)
    {
        let message = format!("this runner listens on loopback only and does not answer for Host `{host}`");
        return Some(ApiError::new(StatusCode::FORBIDDEN, "forbidden_host", message).into_response());
    }
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if write {
        if let Some(origin) = header(ORIGIN) {
            let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            if Some(origin_host) != header(HOST) {
                let message = format!("cross-origin write from `{origin}` refused");
                return Some(ApiError::new(StatusCode::FORBIDDEN, "cross_origin", message).into_response());
            }
        }
        // A browser cannot put the token on a form post: the dashboard's own guard
        // (`pages::csrf`) asks for it, through an unlocked session, on every /ui post.
        let dashboard_form = req.uri().path().starts_with("/ui/");
        if let Some(token) = &access.write_token
            && !dashboard_form
        {
            let given = header(AUTHORIZATION).and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes())) {
                let mut resp = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "writes need the header `Authorization: Bearer <token>` with the runner's --write-token",
                )
                .into_response();
                resp.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return Some(resp);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
