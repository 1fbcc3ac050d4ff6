//! Who may read and change things.
//!
//! - Writes (any method but GET, HEAD, OPTIONS) need `Authorization: Bearer <token>` when a
//!   write token is set; the runner refuses to listen on a non-loopback address without one.
//! - Off loopback, reads under `/api` need a token too: the write token, or the read token
//!   (`--read-token`), which reads only. `/` and `/metrics` stay open unless
//!   `--protect-health` / `--protect-metrics`; the dashboard's pages ask for an unlocked
//!   session (`pages::csrf`).
//! - Tokens are compared as SHA-256 digests in constant time, so neither their bytes nor
//!   their length show in the timing; an address that sends too many wrong tokens gets 429
//!   for a while ([`ratelimit`](super::ratelimit)).
//! - Writes carrying an `Origin` of another host are refused, so that a web page open in a
//!   browser on the same machine cannot post to a loopback runner.
//! - On a loopback listener, requests must name a loopback `Host` (an address of 127.0.0.0/8,
//!   `::1` or `::ffff:127.x`, or a `localhost` name: the runner's one loopback rule), which
//!   defeats DNS rebinding (a hostile name that resolves to 127.0.0.1).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::ratelimit::Limiter;
use crate::loopback;

/// The access rules of one listener.
#[derive(Debug, Clone)]
pub struct Access {
    /// The bearer token writes need, if any.
    pub write_token: Option<Arc<str>>,
    /// Whether the listener is on a loopback address.
    pub loopback: bool,
    /// A token that reads (off loopback) but does not write.
    pub read_token: Option<Arc<str>>,
    /// Whether `/` needs a token off loopback.
    pub protect_health: bool,
    /// Whether `/metrics` needs a token off loopback.
    pub protect_metrics: bool,
    /// Failed token checks per client address, shared with the dashboard's unlock.
    pub limiter: Arc<Limiter>,
}

impl Access {
    /// Open access on a loopback listener with no tokens: what tests and `Default` start from.
    pub fn loopback() -> Self {
        Self {
            write_token: None,
            loopback: true,
            read_token: None,
            protect_health: false,
            protect_metrics: false,
            limiter: Arc::new(Limiter::new()),
        }
    }
}

/// Whether `given` is `token`: both become HMAC-SHA256 tags of equal length, which ring's
/// `verify` compares in constant time, so the timing tells neither the bytes nor the length.
/// The key needs no secrecy here; it only makes the tags fixed-size.
pub(crate) fn same_token(given: &str, token: &str) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"runner token comparison");
    let want = ring::hmac::sign(&key, token.as_bytes());
    ring::hmac::verify(&key, given.as_bytes(), want.as_ref()).is_ok()
}

/// The client's address, when the server recorded it.
pub(crate) fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_canonical())
}

/// 429 for an address that sent too many wrong tokens.
pub(crate) fn too_many(wait: std::time::Duration) -> Response {
    let mut resp = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_failures",
        format!("too many wrong tokens from this address; try again in {} s", wait.as_secs() + 1),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&(wait.as_secs() + 1).to_string()) {
        resp.headers_mut().insert(RETRY_AFTER, v);
    }
    resp
}

fn unauthorized(message: &'static str) -> Response {
    let mut resp = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    resp.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
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
            return check_token(
                access,
                req,
                &[token],
                "writes need the header `Authorization: Bearer <token>` with the runner's --write-token",
            );
        }
        return None;
    }
    if access.loopback {
        return None;
    }
    let path = req.uri().path();
    let protected = path.starts_with("/api/")
        || path == "/api"
        || (path == "/" && access.protect_health)
        || (path == "/metrics" && access.protect_metrics);
    if !protected {
        return None;
    }
    let tokens: Vec<&Arc<str>> = access.write_token.iter().chain(access.read_token.iter()).collect();
    check_token(
        access,
        req,
        &tokens,
        "this runner is not on loopback: reads need the header `Authorization: Bearer <token>` with its --read-token or --write-token",
    )
}

/// Lets `req` through when it carries one of `tokens`; else 401, or 429 for an address that
/// failed too often.
fn check_token(
    access: &Access,
    req: &Request,
    tokens: &[&Arc<str>],
    message: &'static str,
) -> Option<Response> {
    let ip = client_ip(req);
    if let Some(wait) = ip.and_then(|ip| access.limiter.blocked(ip)) {
        return Some(too_many(wait));
    }
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Every token is compared, so the timing does not tell which one matched.
    let matched = given.is_some_and(|g| tokens.iter().fold(false, |ok, t| same_token(g, t) | ok));
    if matched {
        return None;
    }
    if given.is_some()
        && let Some(ip) = ip
    {
        access.limiter.fail(ip);
    }
    Some(unauthorized(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "ab"));
    }
}
