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

/// One stored cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cookie {
    /// The host it was set by, or the `Domain` it names (then sub-domains match too).
    domain: String,
    host_only: bool,
    name: String,
    value: String,
}

/// A job's cookies: enough of RFC 6265 for logins and CSRF tokens (paths, expiry dates and
/// `Secure` are not tracked; `Max-Age=0` deletes).
#[derive(Debug, Default)]
pub(crate) struct Jar {
    cookies: Vec<Cookie>,
}

impl Jar {
    fn store(&mut self, url: &Url, header: &str) {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else { return };
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else { return };
        let (name, value) = (name.trim().to_owned(), value.trim().trim_matches('"').to_owned());
        if name.is_empty() {
            return;
        }
        let (mut domain, mut host_only, mut delete) = (host.clone(), true, false);
        for attr in parts {
            let (key, val) = attr.split_once('=').map_or((attr.trim(), ""), |(k, v)| (k.trim(), v.trim()));
            if key.eq_ignore_ascii_case("domain") && !val.is_empty() {
                let d = val.trim_start_matches('.').to_ascii_lowercase();
                // A site may only set cookies for itself or a parent domain of itself.
                if host == d || host.ends_with(&format!(".{d}")) {
                    domain = d;
                    host_only = false;
                } else {
                    return;
                }
            } else if key.eq_ignore_ascii_case("max-age") && val.parse::<i64>().is_ok_and(|s| s <= 0) {
                delete = true;
            }
        }
        self.cookies.retain(|c| !(c.name == name && c.domain == domain));
        if !delete {
            self.cookies.push(Cookie { domain, host_only, name, value });
        }
    }

    fn header_for(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?.to_ascii_lowercase();
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| host == c.domain || (!c.host_only && host.ends_with(&format!(".{}", c.domain))))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
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
        let (mut method, mut url, mut body) = (nav.method, nav.url, nav.form_body);
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
                req = req.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(b.clone());
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

    #[test]
    fn jar_keeps_cookies_per_host_and_domain() {
        let mut jar = Jar::default();
        let a = Url::parse("http://a.shop.test/login").unwrap();
        let b = Url::parse("http://b.shop.test/").unwrap();
        jar.store(&a, "sid=1; Path=/; HttpOnly");
        jar.store(&a, "wide=2; Domain=.shop.test");
        jar.store(&a, "evil=3; Domain=other.test");
        assert_eq!(jar.header_for(&a).as_deref(), Some("sid=1; wide=2"));
        assert_eq!(jar.header_for(&b).as_deref(), Some("wide=2"));
        jar.store(&a, "sid=9");
        jar.store(&a, "wide=; Domain=shop.test; Max-Age=0");
        assert_eq!(jar.header_for(&a).as_deref(), Some("sid=9"));
        assert_eq!(jar.header_for(&b), None);
    }
}
