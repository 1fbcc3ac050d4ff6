//! The pusher builder: where to push, the grouping key, credentials, and what to push.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use promkit::registry::Gatherers;
use promkit::{Collector, Registry};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::request::Target;
use crate::url::{base_url, check_grouping_name, push_url};
use crate::{PushError, PushFormat, Pusher};

/// The timeout of each request when the pusher makes its own HTTP client: a push that hangs
/// would otherwise hold a batch job forever.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Configures a [`Pusher`] (or a `BlockingPusher`); made by [`Pusher::builder`].
///
/// Every setter takes any input; [`build`](Self::build) checks it all and names the first
/// problem.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PusherBuilder {
    url: String,
    job: String,
    grouping: Vec<(String, String)>,
    basic_auth: Option<(String, String)>,
    headers: Vec<(String, String)>,
    sources: Gatherers,
    /// Holds the collectors given to [`collector`](Self::collector), once there is one.
    private: Option<Registry>,
    register_error: Option<PushError>,
    timeout: Option<Duration>,
    format: PushFormat,
    client: Option<reqwest::Client>,
    #[cfg(feature = "blocking")]
    blocking_client: Option<reqwest::blocking::Client>,
}

/// Shows no password and no header value: builders end up in logs.
impl std::fmt::Debug for PusherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PusherBuilder")
            .field("url", &self.url)
            .field("job", &self.job)
            .field("grouping", &self.grouping)
            .field("basic_auth_user", &self.basic_auth.as_ref().map(|(user, _)| user))
            .field("headers", &self.headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("sources", &self.sources)
            .field("collectors", &self.private)
            .field("timeout", &self.timeout)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl PusherBuilder {
    pub(crate) fn new(url: &str, job: &str) -> Self {
        Self {
            url: url.to_owned(),
            job: job.to_owned(),
            grouping: Vec::new(),
            basic_auth: None,
            headers: Vec::new(),
            sources: Gatherers::default(),
            private: None,
            register_error: None,
            timeout: None,
            format: PushFormat::default(),
            client: None,
            #[cfg(feature = "blocking")]
            blocking_client: None,
        }
    }

    /// Adds a label to the grouping key, after `job`; a second value for one name replaces the
    /// first. Any value works: one with `/` (or empty, `.`, `..`) is sent base64-encoded, any
    /// other URL-escaped.
    ///
    /// The pushed series must not carry the label themselves: the gateway adds it to each.
    pub fn grouping(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.grouping.iter_mut().find(|(n, _)| *n == name) {
            Some(pair) => pair.1 = value,
            None => self.grouping.push((name, value)),
        }
        self
    }

    /// The format the metrics are sent in: [`PushFormat::Protobuf`] by default (as Go), the
    /// only one that carries native histograms and exemplars.
    pub fn format(mut self, format: PushFormat) -> Self {
        self.format = format;
        self
    }

    /// Sends HTTP basic authentication with every request.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic_auth = Some((user.into(), password.into()));
        self
    }

    /// Sends a header with every request (a second value for one name is sent as well).
    /// `Content-Type` is always the pusher's, and [`basic_auth`](Self::basic_auth) wins over
    /// an `Authorization` header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Pushes what this registry holds at each push (a handle is kept, not a copy). Several
    /// registries are merged as [`Gatherers`] merges them.
    pub fn registry(mut self, registry: &Registry) -> Self {
        self.sources.push(registry);
        self
    }

    /// Pushes this collector too, from a registry private to the pusher (Go's `Collector`).
    /// If it is refused, [`build`](Self::build) reports why.
    pub fn collector(mut self, collector: impl Collector) -> Self {
        let registry = self.private.get_or_insert_with(Registry::new);
        if let Err(e) = registry.register(collector) {
            self.register_error.get_or_insert(PushError::Register(e));
        }
        self
    }

    /// The timeout of each request (default [`DEFAULT_TIMEOUT`] with the pusher's own client,
    /// the client's own setting with [`client`](Self::client)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends with this client instead of a new one: for proxies, TLS settings, connection
    /// pools shared with the rest of the program.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// As [`client`](Self::client), for [`build_blocking`](Self::build_blocking).
    #[cfg(feature = "blocking")]
    pub fn blocking_client(mut self, client: reqwest::blocking::Client) -> Self {
        self.blocking_client = Some(client);
        self
    }

    /// Checks everything and makes the async pusher.
    ///
    /// # Errors
    /// [`PushError::InvalidUrl`], [`PushError::InvalidJob`],
    /// [`PushError::InvalidGroupingLabel`], [`PushError::InvalidHeader`],
    /// [`PushError::Register`] for the first setting that cannot work;
    /// [`PushError::Client`] when the HTTP client cannot be created.
    pub fn build(mut self) -> Result<Pusher, PushError> {
        let own_client = self.client.is_none();
        let target = self.target(!own_client)?;
        let client = match self.client.take() {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .build()
                .map_err(PushError::Client)?,
        };
        Ok(Pusher::from_parts(target, client))
    }

    /// As [`build`](Self::build), panicking on error.
    ///
    /// # Panics
    /// On any error `build` returns: for a pusher configured from constants at start-up,
    /// never from a URL or job name read from input.
    #[track_caller]
    pub fn must_build(self) -> Pusher {
        self.build().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Checks everything and makes the blocking pusher. Build and use it outside async code:
    /// reqwest's blocking client runs its own runtime.
    ///
    /// # Errors
    /// As [`build`](Self::build).
    #[cfg(feature = "blocking")]
    pub fn build_blocking(mut self) -> Result<crate::BlockingPusher, PushError> {
        let own_client = self.blocking_client.is_none();
        let target = self.target(!own_client)?;
        let client = match self.blocking_client.take() {
            Some(client) => client,
            None => reqwest::blocking::Client::builder()
                .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .build()
                .map_err(PushError::Client)?,
        };
        Ok(crate::BlockingPusher::from_parts(target, client))
    }

    /// As [`build_blocking`](Self::build_blocking), panicking on error.
    ///
    /// # Panics
    /// As [`must_build`](Self::must_build).
    #[cfg(feature = "blocking")]
    #[track_caller]
    pub fn must_build_blocking(self) -> crate::BlockingPusher {
        self.build_blocking().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Everything but the client, checked. `custom_client`: the caller brings its own, which
    /// may speak TLS even without this crate's `rustls` feature.
    fn target(&mut self, custom_client: bool) -> Result<Target, PushError> {
        let base = base_url(&self.url)?;
        if base.starts_with("https:") && !cfg!(feature = "rustls") && !custom_client {
            return Err(PushError::InvalidUrl {
                url: self.url.clone(),
                why: "https needs promkit-push's `rustls` feature, or a client with TLS given to `client`"
                    .into(),
            });
        }
        if self.job.is_empty() {
            return Err(PushError::InvalidJob {
                job: String::new(),
                why: "it is empty; name the job that pushes, e.g. `nightly_backup`".into(),
            });
        }
        for (name, _) in &self.grouping {
            check_grouping_name(name)?;
        }
        if let Some(e) = self.register_error.take() {
            return Err(e);
        }
        let url = push_url(&base, &self.job, &self.grouping);
        let url = reqwest::Url::parse(&url).map_err(|e| PushError::InvalidUrl {
            url: self.url.clone(),
            why: format!("the push URL `{url}` does not parse: {e}"),
        })?;

        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let invalid = |why: String| PushError::InvalidHeader { name: name.clone(), why };
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("not a valid header name: use letters, digits and `-`".into()))?;
            let mut header_value = HeaderValue::from_str(value).map_err(|_| {
                invalid("the value has control characters or non-ASCII text; encode it first".into())
            })?;
            // Custom headers often carry tokens: keep them out of `Debug` output.
            header_value.set_sensitive(true);
            headers.append(header_name, header_value);
        }
        if let Some((user, password)) = &self.basic_auth {
            let mut value = String::from("Basic ");
            STANDARD.encode_string(format!("{user}:{password}"), &mut value);
            let mut value = HeaderValue::from_str(&value).map_err(|_| PushError::InvalidHeader {
                name: AUTHORIZATION.to_string(),
                why: "the basic auth value is not a valid header".into(),
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }

        let mut sources = self.sources.clone();
        if let Some(private) = &self.private {
            sources.push(private);
        }
        let reserved =
            std::iter::once("job".to_owned()).chain(self.grouping.iter().map(|(n, _)| n.clone())).collect();
        Ok(Target { url, headers, timeout: self.timeout, reserved, sources, format: self.format })
    }
}

#[cfg(test)]
mod tests {
    use promkit::Counter;

    use super::*;

    fn target(b: PusherBuilder) -> Result<Target, PushError> {
        let mut b = b;
        b.target(false)
    }

    #[test]
    fn grouping_replaces_a_repeated_name_in_place() {
        let t = target(
            PusherBuilder::new("gw:9091", "j").grouping("a", "1").grouping("b", "2").grouping("a", "x/y"),
        )
        .unwrap();
        assert_eq!(t.url.as_str(), "http://gw:9091/metrics/job/j/a@base64/eC95/b/2");
        assert_eq!(t.reserved, ["job", "a", "b"]);
    }

    #[test]
    fn empty_job_is_refused() {
        let e = target(PusherBuilder::new("gw:9091", "")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid job name \"\": it is empty; name the job that pushes, e.g. `nightly_backup`"
        );
    }

    #[test]
    fn https_needs_tls() {
        let r = target(PusherBuilder::new("https://gw", "j"));
        if cfg!(feature = "rustls") {
            r.unwrap();
        } else {
            assert!(
                matches!(r, Err(PushError::InvalidUrl { ref why, .. }) if why.contains("`rustls` feature"))
            );
            // With a client of the caller's own, TLS is the caller's business.
            PusherBuilder::new("https://gw", "j").target(true).unwrap();
        }
    }

    #[test]
    fn headers_and_basic_auth() {
        let t = target(
            PusherBuilder::new("gw", "j")
                .header("X-Tenant", "a")
                .header("x-tenant", "b")
                .header("Authorization", "Bearer replaced")
                .basic_auth("Aladdin", "open sesame"),
        )
        .unwrap();
        let tenants: Vec<_> = t.headers.get_all("x-tenant").iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(tenants, ["a", "b"]);
        // RFC 7617's example.
        assert_eq!(t.headers[AUTHORIZATION], "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(t.headers[AUTHORIZATION].is_sensitive());

        let e = target(PusherBuilder::new("gw", "j").header("bad name", "v")).unwrap_err();
        assert!(matches!(e, PushError::InvalidHeader { ref name, .. } if name == "bad name"), "{e}");
        let e = target(PusherBuilder::new("gw", "j").header("x", "line\nbreak")).unwrap_err();
        assert!(matches!(e, PushError::InvalidHeader { ref name, .. } if name == "x"), "{e}");
    }

    #[test]
    fn debug_output_shows_no_secrets() {
        let b = PusherBuilder::new("gw", "j").basic_auth("user", "hunter2").header("X-Token", "s3cret");
        let text = format!("{b:?}");
        assert!(text.contains("\"user\"") && text.contains("\"X-Token\""), "{text}");
        assert!(!text.contains("hunter2") && !text.contains("s3cret"), "{text}");
        let text = format!("{:?}", b.build().unwrap());
        assert!(!text.contains("hunter2") && !text.contains("s3cret"), "{text}");
        assert!(!text.contains(&STANDARD.encode("user:hunter2")), "{text}");
    }

    #[test]
    #[should_panic(expected = "job")]
    fn must_build_panics_with_the_build_error() {
        let _ = PusherBuilder::new("gw", "").must_build();
    }

    #[test]
    fn pushers_can_move_to_tasks() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let p = PusherBuilder::new("gw", "j").build().unwrap();
        send_sync(&p);
        send_sync(&p.push());
        send_sync(&p.add());
        send_sync(&p.delete());
    }

    #[test]
    fn a_refused_collector_is_reported_by_build() {
        let c = || Counter::builder("dup_total").help("D.").build().unwrap();
        let e = target(PusherBuilder::new("gw", "j").collector(c()).collector(c())).unwrap_err();
        assert!(matches!(e, PushError::Register(_)), "{e}");
    }
}
