//! Fetching pages for one job: a cookie jar of its own, redirects followed by hand (so
//! cookies set on the way are kept), and limits on time and size so that a site that hangs,
//! resets or floods can only fail its own job.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, REFERER, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use url::Url;

use super::page::{Navigation, Page};
use crate::domain::JobStatus;
use crate::loopback;

/// Why a fetch failed, with the job status it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchError {
    pub(crate) status: JobStatus,
    pub(crate) message: String,
}

/// The clients shared by every job: one that honours proxy settings from the environment
/// and one that never proxies, for loopback sites.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    pub(crate) proxied: Client,
    pub(crate) direct: Client,
    pub(crate) max_page_bytes: u64,
    pub(crate) max_redirects: usize,
    pub(crate) read_timeout: Duration,
    /// The egress policy, for address literals (names are checked by the clients' resolver).
    pub(crate) policy: std::sync::Arc<crate::egress::Policy>,
}

impl Clients {
    /// The policy's verdict on a URL before any connection: an address literal is checked
    /// here whole, as no resolver sees it; a name by its patterns, and, being a loopback name,
    /// as the loopback address it means (the runner's own ports are refused there).
    fn check_egress(&self, url: &Url) -> Result<(), FetchError> {
        let port = url.port_or_known_default().unwrap_or(80);
        let verdict = match url.host() {
            Some(url::Host::Ipv4(ip)) => self.policy.check_addr(std::net::SocketAddr::new(ip.into(), port)),
            Some(url::Host::Ipv6(ip)) => self.policy.check_addr(std::net::SocketAddr::new(ip.into(), port)),
            Some(url::Host::Domain(name)) => self.policy.check_name(name).and_then(|()| {
                if loopback::is_name(name) {
                    self.policy.check_addr(std::net::SocketAddr::new([127, 0, 0, 1].into(), port))
                } else {
                    Ok(())
                }
            }),
            None => Ok(()),
        };
        verdict
            .map_err(|refusal| FetchError { status: JobStatus::Error, message: format!("{url}: {refusal}") })
    }

    fn for_url(&self, url: &Url) -> &Client {
        if loopback::is_url(url) { &self.direct } else { &self.proxied }
    }
}

/// A job's cookies, kept by the rules of RFC 6265 (the `cookie_store` crate): `Path` and
/// `Domain` scope them (a site may set cookies for itself or a parent domain, never another
/// site), `Expires` and `Max-Age` end them (a date in the past deletes), `Secure` ones go
/// only to https or loopback (as browsers treat `localhost`), and `HttpOnly` ones as usual
/// (every request here is HTTP). Without a public-suffix list, a `Domain` naming a public
/// suffix (`co.uk`) is not refused; each job starts with an empty jar, so no such cookie
/// outlives its job.
#[derive(Debug, Default)]
pub(crate) struct Jar {
    store: cookie_store::CookieStore,
}

impl Jar {
    fn store(&mut self, url: &Url, header: &str) {
        // A cookie the rules refuse (a foreign Domain, a bad syntax) is dropped, as browsers do.
        if let Err(e) = self.store.parse(header, url) {
            tracing::debug!(%url, error = %e, "cookie refused");
        }
    }

    fn header_for(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> =
            self.store.get_request_values(url).map(|(name, value)| format!("{name}={value}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}

/// An error and its causes, joined: reqwest's own message alone says little.
fn chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

impl Clients {
    fn failure(&self, what: &str, url: &Url, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError {
                status: JobStatus::TimedOut,
                message: format!("{what} {url}: no answer within {:?} ({})", self.read_timeout, chain(e)),
            }
        } else if e.is_connect() {
            FetchError { status: JobStatus::Error, message: format!("cannot connect to {url}: {}", chain(e)) }
        } else {
            FetchError { status: JobStatus::Error, message: format!("{what} {url} failed: {}", chain(e)) }
        }
    }

    /// Makes the request and follows redirects to the final page, reading at most
    /// `max_page_bytes` of it.
    pub(crate) async fn load(
        &self,
        jar: &mut Jar,
        nav: Navigation,
        referer: Option<&Url>,
    ) -> Result<Page, FetchError> {
        let (mut method, mut url, mut body) = (nav.method, nav.url, nav.body);
        let mut referer = referer.cloned();
        for _ in 0..=self.max_redirects {
            self.check_egress(&url)?;
            let mut req = self
                .for_url(&url)
                .request(method.clone(), url.clone())
                .header(ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5");
            if let Some(cookies) = jar.header_for(&url) {
                req = req.header(COOKIE, cookies);
            }
            if let Some(r) = &referer {
                req = req.header(REFERER, r.as_str());
            }
            if let Some(b) = &body {
                req = req.header(CONTENT_TYPE, b.content_type.as_str()).body(b.bytes.clone());
            }
            let what = method.as_str().to_owned();
            let mut resp = req.send().await.map_err(|e| self.failure(&what, &url, e))?;
            for value in resp.headers().get_all(SET_COOKIE) {
                if let Ok(v) = value.to_str() {
                    jar.store(&url, v);
                }
            }
            let status = resp.status();
            if status.is_redirection()
                && let Some(location) = resp.headers().get(LOCATION).and_then(|l| l.to_str().ok())
            {
                let next = url.join(location).map_err(|e| FetchError {
                    status: JobStatus::Error,
                    message: format!("{url} redirects to `{location}`, which is not a URL ({e})"),
                })?;
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(FetchError {
                        status: JobStatus::Error,
                        message: format!("{url} redirects to {next}, which is not http(s)"),
                    });
                }
                // 303, and 301/302 after a POST, turn into a GET without body (as browsers do).
                if status == StatusCode::SEE_OTHER
                    || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                        && method == Method::POST)
                {
                    method = Method::GET;
                    body = None;
                }
                referer = Some(url);
                url = next;
                continue;
            }
            let content_type =
                resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            if let Some(len) = resp.content_length()
                && len > self.max_page_bytes
            {
                return Err(self.too_large(&url));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.failure("reading", &url, e))? {
                if (bytes.len() + chunk.len()) as u64 > self.max_page_bytes {
                    return Err(self.too_large(&url));
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Page::new(url, status.as_u16(), content_type, &bytes));
        }
        Err(FetchError {
            status: JobStatus::Error,
            message: format!("more than {} redirects, the last to {url}", self.max_redirects),
        })
    }

    fn too_large(&self, url: &Url) -> FetchError {
        FetchError {
            status: JobStatus::Error,
            message: format!(
                "the page at {url} is larger than the {} byte limit (--max-page-bytes)",
                self.max_page_bytes
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(header: Option<String>) -> Vec<String> {
        let mut v: Vec<String> =
            header.unwrap_or_default().split("; ").filter(|p| !p.is_empty()).map(str::to_owned).collect();
        v.sort();
        v
    }

    #[test]
    fn jar_keeps_cookies_per_host_and_domain() {
        let mut jar = Jar::default();
        let a = Url::parse("http://a.shop.test/login").unwrap();
        let b = Url::parse("http://b.shop.test/").unwrap();
        jar.store(&a, "sid=1; Path=/; HttpOnly");
        jar.store(&a, "wide=2; Domain=.shop.test; Path=/");
        jar.store(&a, "evil=3; Domain=other.test");
        assert_eq!(sorted(jar.header_for(&a)), ["sid=1", "wide=2"]);
        assert_eq!(sorted(jar.header_for(&b)), ["wide=2"]);
        jar.store(&a, "sid=9; Path=/");
        jar.store(&a, "wide=; Domain=shop.test; Path=/; Max-Age=0");
        assert_eq!(sorted(jar.header_for(&a)), ["sid=9"]);
        assert_eq!(jar.header_for(&b), None);
    }

    #[test]
    fn jar_follows_path_expiry_and_secure() {
        let mut jar = Jar::default();
        let login = Url::parse("http://shop.test/account/login").unwrap();
        jar.store(&login, "scoped=1; Path=/account");
        // No Path: the default path is the request path's directory, `/account`.
        jar.store(&login, "dir=2");
        jar.store(&login, "gone=3; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        jar.store(&login, "later=4; Path=/; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
        jar.store(&login, "safe=5; Path=/; Secure");
        let root = Url::parse("http://shop.test/").unwrap();
        let account = Url::parse("http://shop.test/account/orders").unwrap();
        let accounts = Url::parse("http://shop.test/accounts").unwrap();
        assert_eq!(sorted(jar.header_for(&root)), ["later=4"]);
        assert_eq!(sorted(jar.header_for(&account)), ["dir=2", "later=4", "scoped=1"]);
        assert_eq!(sorted(jar.header_for(&accounts)), ["later=4"], "a path matches at a `/` only");
        // Secure: over https, and loopback (a browser's secure context), not plain http.
        let https = Url::parse("https://shop.test/").unwrap();
        assert_eq!(sorted(jar.header_for(&https)), ["later=4", "safe=5"]);
        let mut local = Jar::default();
        let lo = Url::parse("http://127.0.0.1:8080/").unwrap();
        local.store(&lo, "safe=1; Path=/; Secure");
        assert_eq!(sorted(local.header_for(&lo)), ["safe=1"]);
    }
}
