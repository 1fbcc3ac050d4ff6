//! Label values for the instrumentation layers: the bounded method set, status codes, routes,
//! and the rule that picks a request's route (or says it is excluded).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::{Method, Request, StatusCode};
use promkit::LabelValue;

/// The `code` label of a request whose inner service returned `Err` (no response, so no status).
pub const ERROR_CODE: &str = "error";

/// The `method` label of a request whose method is not one of the nine in RFC 9110 + PATCH.
pub const OTHER_METHOD: &str = "other";

/// The default route of a server request that no axum route matched (the fallback, a 404).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// A label value held by a request while it is in progress: borrowed when static, shared when
/// it comes from the request (an axum `MatchedPath` is an `Arc<str>`), so taking one allocates
/// nothing except for a user closure's `String`.
#[derive(Clone, Debug)]
pub(crate) enum LabelText {
    Static(&'static str),
    Code(StatusCode),
    Shared(Arc<str>),
    Owned(Box<str>),
    Authority(http::uri::Authority),
    #[cfg(feature = "axum")]
    Matched(axum::extract::MatchedPath),
}

impl LabelText {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Code(c) => c.as_str(),
            Self::Shared(s) => s,
            Self::Owned(s) => s,
            Self::Authority(a) => a.as_str(),
            #[cfg(feature = "axum")]
            Self::Matched(m) => m.as_str(),
        }
    }

    /// The `code` label of a finished call: the numeric status, or [`ERROR_CODE`].
    pub(crate) fn code<B, E>(result: &Result<http::Response<B>, E>) -> Self {
        match result {
            Ok(response) => Self::Code(response.status()),
            Err(_) => Self::Static(ERROR_CODE),
        }
    }
}

impl LabelValue for LabelText {
    const CARDINALITY: Option<usize> = None;

    fn index(&self) -> usize {
        0
    }

    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self.as_str())
    }
}

/// Label values of a series labelled `{method, code, route}`; `code` is filled in at the end.
pub(crate) type Labels3 = [LabelText; 3];
/// Label values of a series labelled `{method, route}`.
pub(crate) type Labels2 = [LabelText; 2];

/// The method label: the standard methods as they are, any other (extension methods, or
/// lower-case spellings, which HTTP treats as different methods) as [`OTHER_METHOD`], so a
/// client cannot grow the series count by inventing methods.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => OTHER_METHOD,
    }
}

/// A user closure turning a raw path into a bounded route label.
pub(crate) type PathFn = dyn Fn(&str) -> String + Send + Sync;
/// A user closure picking the target label of an outgoing request.
pub(crate) type PartsFn = dyn Fn(&http::request::Parts) -> String + Send + Sync;

/// A user closure returning the exemplar labels of a request (a trace id, say), or `None`.
pub(crate) type ExemplarFn = dyn Fn(&http::request::Parts) -> Option<Vec<(String, String)>> + Send + Sync;

/// Where the `route` (server) or `host` (client) label of a request comes from.
pub(crate) enum RouteRule {
    /// The axum route template, else the user's path normaliser, else `unmatched`.
    Server { unmatched: Arc<str>, normalize: Option<Arc<PathFn>> },
    /// The user's closure, else the URI's `host[:port]` (userinfo never), else the `Host` header.
    Client { target: Option<Arc<PartsFn>> },
}

/// Decides, once per request and per layer, whether the request is measured and with which
/// method and route labels. Shared (behind an `Arc`) by every layer of one metric set.
pub(crate) struct Resolver {
    /// Raw paths or route templates that are not measured at all.
    pub(crate) exclude: Box<[Box<str>]>,
    pub(crate) rule: RouteRule,
    /// Exemplar labels for the request counter and the duration histogram; `None` (the
    /// default) leaves requests without exemplars and costs nothing per request.
    pub(crate) exemplar: Option<Arc<ExemplarFn>>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, custom) = match &self.rule {
            RouteRule::Server { normalize, .. } => ("server", normalize.is_some()),
            RouteRule::Client { target } => ("client", target.is_some()),
        };
        f.debug_struct("Resolver")
            .field("kind", &kind)
            .field("exclude", &self.exclude)
            .field("custom_route_fn", &custom)
            .field("exemplar_fn", &self.exemplar.is_some())
            .finish()
    }
}

/// The labels a measured request is known by before it has a response.
pub(crate) struct Target {
    pub(crate) method: LabelText,
    pub(crate) route: LabelText,
}

impl Target {
    /// `{method, code, route}` with the code still to be filled in (index 1).
    pub(crate) fn labels3(&self) -> Labels3 {
        [self.method.clone(), LabelText::Static(""), self.route.clone()]
    }

    /// `{method, route}`.
    pub(crate) fn labels2(&self) -> Labels2 {
        [self.method.clone(), self.route.clone()]
    }
}

impl Resolver {
    /// The request back (a client closure sees its parts, which takes it apart) and its labels,
    /// or `None` when it is excluded.
    pub(crate) fn resolve<B>(&self, request: Request<B>) -> (Request<B>, Option<Target>) {
        let method = LabelText::Static(method_label(request.method()));
        match &self.rule {
            RouteRule::Server { unmatched, normalize } => {
                let matched = matched_route(&request);
                let path = request.uri().path();
                let excluded = self
                    .exclude
                    .iter()
                    .any(|p| **p == *path || matched.as_ref().is_some_and(|m| m.as_str() == &**p));
                if excluded {
                    return (request, None);
                }
                let route = matched.unwrap_or_else(|| match normalize {
                    Some(f) => LabelText::Owned(f(path).into_boxed_str()),
                    None => LabelText::Shared(Arc::clone(unmatched)),
                });
                (request, Some(Target { method, route }))
            }
            RouteRule::Client { target: Some(f) } => {
                let (parts, body) = request.into_parts();
                let route = LabelText::Owned(f(&parts).into_boxed_str());
                (Request::from_parts(parts, body), Some(Target { method, route }))
            }
            RouteRule::Client { target: None } => {
                let route = host_label(&request);
                (request, Some(Target { method, route }))
            }
        }
    }
}

impl Resolver {
    /// The request back and the exemplar labels the user's hook gives it; without a hook the
    /// request passes through untouched and nothing is allocated.
    pub(crate) fn exemplar<B>(&self, request: Request<B>) -> (Request<B>, Option<Vec<(String, String)>>) {
        let Some(hook) = &self.exemplar else {
            return (request, None);
        };
        // Taking the request apart and back together moves its head; nothing is copied.
        let (parts, body) = request.into_parts();
        let labels = hook(&parts);
        (Request::from_parts(parts, body), labels)
    }
}

/// The exemplar labels as the promkit update methods take them.
pub(crate) fn exemplar_pairs(labels: &[(String, String)]) -> Vec<(&str, &str)> {
    labels.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// The axum route template the request was routed by, if any.
#[cfg(feature = "axum")]
fn matched_route<B>(request: &Request<B>) -> Option<LabelText> {
    request.extensions().get::<axum::extract::MatchedPath>().cloned().map(LabelText::Matched)
}

/// Without axum there is no route template.
#[cfg(not(feature = "axum"))]
fn matched_route<B>(_: &Request<B>) -> Option<LabelText> {
    None
}

/// `host[:port]` of an outgoing request: from the URI's authority, without any userinfo (a
/// password must never become a label), else from the `Host` header, else `unknown`.
fn host_label<B>(request: &Request<B>) -> LabelText {
    if let Some(authority) = request.uri().authority() {
        if !authority.as_str().contains('@') {
            // The common case: the authority is exactly host[:port]; cloning it is a refcount.
            return LabelText::Authority(authority.clone());
        }
        let host: Cow<'_, str> = match authority.port() {
            Some(port) => format!("{}:{}", authority.host(), port.as_str()).into(),
            None => authority.host().into(),
        };
        return LabelText::Owned(host.into());
    }
    match request.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => {
            // Strip userinfo the same way in case a client put it there.
            let host = host.rsplit('@').next().unwrap_or(host);
            LabelText::Owned(host.into())
        }
        None => LabelText::Static("unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        for (m, want) in [
            ("GET", "GET"),
            ("HEAD", "HEAD"),
            ("POST", "POST"),
            ("PUT", "PUT"),
            ("DELETE", "DELETE"),
            ("CONNECT", "CONNECT"),
            ("OPTIONS", "OPTIONS"),
            ("TRACE", "TRACE"),
            ("PATCH", "PATCH"),
            ("get", "other"),
            ("PROPFIND", "other"),
            ("BREW", "other"),
        ] {
            let method = Method::from_bytes(m.as_bytes()).unwrap();
            assert_eq!(method_label(&method), want, "{m}");
        }
    }

    #[test]
    fn codes_are_numeric_and_errors_are_error() {
        let ok: Result<http::Response<()>, ()> = Ok(http::Response::builder().status(404).body(()).unwrap());
        assert_eq!(LabelText::code(&ok).as_str(), "404");
        let err: Result<http::Response<()>, ()> = Err(());
        assert_eq!(LabelText::code(&err).as_str(), ERROR_CODE);
    }

    fn server(exclude: &[&str], normalize: Option<Arc<PathFn>>) -> Resolver {
        Resolver {
            exclude: exclude.iter().map(|p| Box::from(*p)).collect(),
            rule: RouteRule::Server { unmatched: Arc::from(UNMATCHED_ROUTE), normalize },
            exemplar: None,
        }
    }

    fn route_of(resolver: &Resolver, request: Request<()>) -> Option<String> {
        resolver.resolve(request).1.map(|t| t.route.as_str().to_owned())
    }

    #[test]
    fn server_routes_never_use_the_raw_path_unless_asked() {
        let plain = server(&["/metrics"], None);
        let req = |p: &str| Request::get(p).body(()).unwrap();
        assert_eq!(route_of(&plain, req("/users/42")).as_deref(), Some(UNMATCHED_ROUTE));
        assert_eq!(route_of(&plain, req("/metrics")), None);
        assert_eq!(route_of(&plain, req("/metrics/x")).as_deref(), Some(UNMATCHED_ROUTE));

        let by_segment: Arc<PathFn> = Arc::new(|p: &str| p.split('/').take(2).collect::<Vec<_>>().join("/"));
        let normalized = server(&[], Some(by_segment));
        assert_eq!(route_of(&normalized, req("/users/42")).as_deref(), Some("/users"));
    }

    #[cfg(feature = "axum")]
    #[test]
    fn the_matched_template_wins_and_can_be_excluded() {
        // MatchedPath has no public constructor: take one from a real axum router.
        use tower_service::Service;
        let captured = Arc::new(std::sync::Mutex::new(None));
        let sink = Arc::clone(&captured);
        let mut router: axum::Router = axum::Router::new().route(
            "/users/{id}",
            axum::routing::get(move |m: axum::extract::MatchedPath| {
                *sink.lock().unwrap() = Some(m);
                async {}
            }),
        );
        let fut = router.call(Request::get("/users/7").body(axum::body::Body::empty()).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(fut).unwrap();
        let matched = captured.lock().unwrap().take().unwrap();

        let mut req = Request::get("/users/7").body(()).unwrap();
        req.extensions_mut().insert(matched.clone());
        assert_eq!(route_of(&server(&[], None), req).as_deref(), Some("/users/{id}"));
        let mut req = Request::get("/users/7").body(()).unwrap();
        req.extensions_mut().insert(matched);
        assert_eq!(route_of(&server(&["/users/{id}"], None), req), None);
    }

    #[test]
    fn client_hosts_drop_userinfo() {
        let client =
            Resolver { exclude: Box::default(), rule: RouteRule::Client { target: None }, exemplar: None };
        let host = |r: Request<()>| route_of(&client, r).unwrap();
        assert_eq!(host(Request::get("http://api.example:8080/x?y").body(()).unwrap()), "api.example:8080");
        assert_eq!(host(Request::get("http://user:secret@db.example/x").body(()).unwrap()), "db.example");
        assert_eq!(host(Request::get("http://u:p@db.example:5/").body(()).unwrap()), "db.example:5");
        assert_eq!(host(Request::get("/x").header("host", "h.example").body(()).unwrap()), "h.example");
        assert_eq!(host(Request::get("/x").body(()).unwrap()), "unknown");

        let custom: Arc<PartsFn> = Arc::new(|p: &http::request::Parts| format!("svc-{}", p.uri.path().len()));
        let client = Resolver {
            exclude: Box::default(),
            rule: RouteRule::Client { target: Some(custom) },
            exemplar: None,
        };
        assert_eq!(route_of(&client, Request::get("/abc").body(()).unwrap()).as_deref(), Some("svc-4"));
    }
}
