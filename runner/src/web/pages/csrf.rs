//! Who may post the dashboard's forms: CSRF tokens bound to a session cookie, and the write
//! token for runners that listen beyond loopback.
//!
//! - Every page visit gets a session cookie `runner_sid` (random, `HttpOnly`,
//!   `SameSite=Strict`, path `/ui`). Forms carry `csrf` = HMAC-SHA256(process secret,
//!   session id): another site can neither read the cookie nor compute the token, so it
//!   cannot make a visitor's browser post a valid form. The secret is drawn at start, so a
//!   restart voids open forms (the 403 says to reload).
//! - When the runner has a write token (it must when listening beyond loopback), form posts
//!   also need the session to be unlocked: `/ui/unlock` takes the token once and sets
//!   `runner_unlock` = HMAC(secret, session id), valid until the runner restarts. A request
//!   with `Authorization: Bearer <token>` passes as well.
//! - Off loopback, the pages themselves (not only their forms) need an unlocked session: the
//!   write token unlocks reads and writes, the read token (`--read-token`) reads only. The
//!   unlock page and the assets stay open. Wrong tokens count towards the client address's
//!   rate limit, as bearer tokens do.
//!
//! [`guard`] checks every non-GET request to the pages before any handler runs, so no form
//! handler can forget to.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::error::PageError;
use crate::web::BODY_LIMIT;
use crate::web::auth::{Access, same_token};
use crate::web::ratelimit::Limiter;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "runner_sid";
/// The unlock cookie's name.
pub(crate) const UNLOCK_COOKIE: &str = "runner_unlock";
/// The form field carrying the CSRF token.
pub(crate) const CSRF_FIELD: &str = "csrf";

/// The secret and the tokens of this process.
#[derive(Debug)]
pub(crate) struct Keys {
    key: hmac::Key,
    write_token: Option<Arc<str>>,
    read_token: Option<Arc<str>>,
    /// Whether reading the pages needs an unlocked session (off loopback).
    reads_locked: bool,
    /// Failed token checks per client address.
    pub(crate) limiter: Arc<Limiter>,
}

/// The visitor's address, for the unlock page's rate limit; `None` when the server did not
/// record it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) Option<std::net::IpAddr>);

/// What a handler knows of the visitor's session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The token forms must carry.
    pub(crate) csrf: String,
    /// Whether this session may write (no write token set, or unlocked).
    pub(crate) may_write: bool,
    /// Whether the runner has a write token at all.
    pub(crate) token_required: bool,
    /// The value that unlocks this session, for the unlock page to set.
    pub(crate) unlock_value: String,
    /// The value that unlocks this session for reading only (the read token's).
    pub(crate) read_value: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

impl Keys {
    /// Draws a fresh secret.
    ///
    /// # Panics
    ///
    /// When the operating system has no random numbers to give (then nothing secure can run).
    pub(crate) fn new(access: &Access) -> Self {
        let rng = SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| panic!("the operating system's random number source failed"));
        Self {
            key,
            write_token: access.write_token.clone(),
            read_token: access.read_token.clone(),
            reads_locked: !access.loopback,
            limiter: Arc::clone(&access.limiter),
        }
    }

    fn tag(&self, purpose: &str, sid: &str) -> String {
        hex(hmac::sign(&self.key, format!("{purpose}:{sid}").as_bytes()).as_ref())
    }

    /// Whether `given` is the tag of `purpose` for `sid`, compared in constant time.
    fn verify(&self, purpose: &str, sid: &str, given: &str) -> bool {
        unhex(given)
            .is_some_and(|tag| hmac::verify(&self.key, format!("{purpose}:{sid}").as_bytes(), &tag).is_ok())
    }

    /// Whether `given` is the write token, compared in constant time (through digests, so the
    /// lengths leak nothing either).
    pub(crate) fn is_write_token(&self, given: &str) -> bool {
        self.write_token.as_deref().is_some_and(|token| same_token(given.trim(), token))
    }

    /// Whether `given` is the read token, compared as [`is_write_token`](Self::is_write_token).
    pub(crate) fn is_read_token(&self, given: &str) -> bool {
        self.read_token.as_deref().is_some_and(|token| same_token(given.trim(), token))
    }
}

/// A cookie's value from the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn new_sid() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .unwrap_or_else(|_| panic!("the operating system's random number source failed"));
    hex(&bytes)
}

fn forbidden(message: &str) -> Response {
    PageError::new(StatusCode::FORBIDDEN, message).into_response()
}

/// The middleware: attaches the [`Session`], sets the session cookie on first visit, and
/// refuses posts without a valid CSRF token (and, with a write token, unlocked session).
pub(crate) async fn guard(State(keys): State<Arc<Keys>>, req: Request, next: Next) -> Response {
    let given_sid = cookie(req.headers(), SESSION_COOKIE).filter(|s| s.len() == 32 && unhex(s).is_some());
    let (sid, fresh) = match given_sid {
        Some(s) => (s.to_owned(), false),
        None => (new_sid(), true),
    };
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let bearer = given.is_some_and(|t| keys.is_write_token(t));
    let bearer_reads = bearer || given.is_some_and(|t| keys.is_read_token(t));
    let unlock = cookie(req.headers(), UNLOCK_COOKIE);
    let unlocked = unlock.is_some_and(|v| keys.verify("unlock", &sid, v));
    let read_unlocked = unlocked || unlock.is_some_and(|v| keys.verify("read", &sid, v));
    let path = req.uri().path();
    let open_page = path == "/ui/unlock" || path.starts_with("/ui/assets/");
    if keys.reads_locked && !open_page && !read_unlocked && !bearer_reads {
        // Pages off loopback show sites, flows and runs: the same rights as the API's reads.
        return super::see_other("/ui/unlock");
    }
    let session = Session {
        csrf: keys.tag("csrf", &sid),
        may_write: keys.write_token.is_none() || unlocked || bearer,
        token_required: keys.write_token.is_some(),
        unlock_value: keys.tag("unlock", &sid),
        read_value: keys.tag("read", &sid),
    };

    let mut req = req;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let form_typed = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if !form_typed {
            return PageError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the dashboard takes form posts (application/x-www-form-urlencoded); scripts should use the JSON API under /api",
            )
            .into_response();
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
            return PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the form is larger than the limit (256 KiB)",
            )
            .into_response();
        };
        let token =
            form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
        if fresh {
            return forbidden(
                "this form came without the dashboard's session cookie: load the page again (with cookies enabled) \
                 and resubmit",
            );
        }
        match token {
            None => return forbidden("the form has no CSRF token: submit it from the dashboard's own page"),
            Some(t) if !keys.verify("csrf", &sid, &t) => {
                return forbidden(
                    "the form's CSRF token is not valid for this session (the runner may have restarted): \
                     load the page again and resubmit",
                );
            }
            Some(_) => {}
        }
        if !session.may_write && parts.uri.path() != "/ui/unlock" {
            return forbidden(
                "this runner needs its write token for changes: unlock the dashboard at /ui/unlock first",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    let client = ClientIp(crate::web::auth::client_ip(&req));
    req.extensions_mut().insert(client);
    req.extensions_mut().insert(session);
    req.extensions_mut().insert(Arc::clone(&keys));
    let mut resp = next.run(req).await;
    if fresh
        && let Ok(v) =
            HeaderValue::from_str(&format!("{SESSION_COOKIE}={sid}; Path=/ui; HttpOnly; SameSite=Strict"))
    {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_the_session() {
        let keys = Keys::new(&Access::loopback());
        let token = keys.tag("csrf", "aa");
        assert_eq!(token.len(), 64);
        assert!(keys.verify("csrf", "aa", &token));
        assert!(!keys.verify("csrf", "ab", &token));
        assert!(!keys.verify("unlock", "aa", &token));
        assert!(!keys.verify("csrf", "aa", "zz"));
        assert!(!Keys::new(&Access::loopback()).verify("csrf", "aa", &token), "another process's secret");
    }

    #[test]
    fn write_token_check() {
        let access = Access {
            write_token: Some(Arc::from("s3cret")),
            read_token: Some(Arc::from("r3ad")),
            ..Access::loopback()
        };
        let keys = Keys::new(&access);
        assert!(keys.is_write_token("s3cret"));
        assert!(!keys.is_write_token("s3cre"));
        assert!(!keys.is_write_token("r3ad"));
        assert!(keys.is_read_token("r3ad"));
        assert!(!Keys::new(&Access::loopback()).is_write_token("s3cret"));
    }

    #[test]
    fn cookies_and_hex() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; runner_sid=abc ; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
        assert_eq!(unhex("00ff"), Some(vec![0, 255]));
        assert_eq!(unhex("0"), None);
        assert_eq!(hex(&[1, 171]), "01ab");
    }
}
