//! `HttpMetrics`: declares and registers the server metrics, and hands out one layer per metric.

use std::fmt;
use std::sync::Arc;

use promkit::model::Collector;
use promkit::{Buckets, Counter, Gauge, Histogram, Registry, TypedFamily};

use super::declare::{Common, DEFAULT_SIZE_BUCKETS, register_all};
use super::labels::{ExemplarFn, Labels2, Labels3, PathFn, Resolver, RouteRule, UNMATCHED_ROUTE};
use super::{
    CountLayer, DurationLayer, HttpMetricsLayer, InFlightLayer, RequestSizeLayer, ResponseSizeLayer,
};

/// One of the server metrics, to [`rename`](HttpMetricsBuilder::rename) or to choose with
/// [`only`](HttpMetricsBuilder::only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerMetric {
    /// Requests served: `http_server_requests_total{method,code,route}`, a counter.
    Requests,
    /// Latency: `http_server_request_duration_seconds{method,code,route}`, a histogram.
    Duration,
    /// Requests in progress: `http_server_requests_in_flight{method,route}`, a gauge.
    InFlight,
    /// Request body sizes: `http_server_request_size_bytes{method,route}`, a histogram.
    RequestSize,
    /// Response body sizes: `http_server_response_size_bytes{method,code,route}`, a histogram.
    ResponseSize,
}

impl ServerMetric {
    /// Every server metric, in declaration order.
    pub const ALL: [Self; 5] =
        [Self::Requests, Self::Duration, Self::InFlight, Self::RequestSize, Self::ResponseSize];

    /// The name used unless renamed (before any prefix).
    pub const fn default_name(self) -> &'static str {
        match self {
            Self::Requests => "http_server_requests_total",
            Self::Duration => "http_server_request_duration_seconds",
            Self::InFlight => "http_server_requests_in_flight",
            Self::RequestSize => "http_server_request_size_bytes",
            Self::ResponseSize => "http_server_response_size_bytes",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// One of the server labels, to rename with [`label_name`](HttpMetricsBuilder::label_name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerLabel {
    /// `method`: the request method, or `other` outside the standard set.
    Method,
    /// `code`: the numeric response status, or `error` when the service failed.
    Code,
    /// `route`: the axum route template, never the raw path unless a normaliser makes it.
    Route,
}

impl ServerLabel {
    /// The label name used unless renamed.
    pub const fn default_name(self) -> &'static str {
        match self {
            Self::Method => "method",
            Self::Code => "code",
            Self::Route => "route",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Declares the server metrics; from [`HttpMetrics::builder`].
///
/// Every option has a default; `register` validates them all and fails before registering
/// anything.
///
/// ```
/// use promkit::{Buckets, Registry};
/// use promkit_http::middleware::{HttpMetrics, ServerLabel, ServerMetric};
///
/// let registry = Registry::new();
/// let metrics = HttpMetrics::builder()
///     .prefix("shop")
///     .rename(ServerMetric::Requests, "requests_total")
///     .label_name(ServerLabel::Code, "status")
///     .const_label("service", "cart")
///     .duration_buckets(Buckets::new([0.01, 0.1, 1.0])?)
///     .size_buckets(Buckets::exponential(256.0, 4.0, 6)?)
///     .exclude_path("/metrics")
///     .exclude_path("/health")
///     .unmatched_route("none")
///     .register(&registry)?;
/// let _layer = metrics.all(); // or .count(), .duration(), ... one by one
///
/// let names: Vec<String> = registry.descs().into_iter().map(|d| d.name).collect();
/// assert_eq!(names, [
///     "shop_http_server_request_duration_seconds",
///     "shop_http_server_request_size_bytes",
///     "shop_http_server_requests_in_flight",
///     "shop_http_server_response_size_bytes",
///     "shop_requests_total",
/// ]);
/// let rename = HttpMetrics::builder().label_name(ServerLabel::Route, "method").register(&registry);
/// assert!(rename.is_err()); // two labels called `method`
/// # Ok::<(), promkit::Error>(())
/// ```
#[must_use = "a builder does nothing until `register`"]
pub struct HttpMetricsBuilder {
    common: Common,
    names: [String; 5],
    labels: [String; 3],
    /// Which metrics `register` registers, by [`ServerMetric::index`].
    registered: [bool; 5],
    size_buckets: Option<Buckets>,
    exclude: Vec<String>,
    unmatched: String,
    normalize: Option<Arc<PathFn>>,
    exemplar: Option<Arc<ExemplarFn>>,
}

impl fmt::Debug for HttpMetricsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpMetricsBuilder")
            .field("common", &self.common)
            .field("names", &self.names)
            .field("labels", &self.labels)
            .field("registered", &self.registered)
            .field("size_buckets", &self.size_buckets)
            .field("exclude", &self.exclude)
            .field("unmatched", &self.unmatched)
            .field("normalize", &self.normalize.as_ref().map(|_| "Fn(&str) -> String"))
            .field("exemplar", &self.exemplar.as_ref().map(|_| "Fn(&Parts) -> Option<labels>"))
            .finish()
    }
}

impl Default for HttpMetricsBuilder {
    fn default() -> Self {
        Self {
            common: Common::default(),
            names: ServerMetric::ALL.map(|m| m.default_name().to_owned()),
            labels: [ServerLabel::Method, ServerLabel::Code, ServerLabel::Route]
                .map(|l| l.default_name().to_owned()),
            registered: [true; 5],
            size_buckets: None,
            exclude: Vec::new(),
            unmatched: UNMATCHED_ROUTE.to_owned(),
            normalize: None,
            exemplar: None,
        }
    }
}

impl HttpMetricsBuilder {
    /// Prepends `prefix` and `_` to every metric name, renamed or not:
    /// `prefix("shop")` gives `shop_http_server_requests_total`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.common.prefix = prefix.into();
        self
    }

    /// Registers only these metrics (default: all five), for an app that stacks only their
    /// layers: the others take no name in the registry and write nothing, not even a
    /// `# HELP` line.
    ///
    /// The layer of a metric left out still works but measures into a family no registry
    /// holds, so take only the layers listed here, one by one, rather than
    /// [`all`](HttpMetrics::all).
    ///
    /// ```
    /// use promkit::Registry;
    /// use promkit_http::middleware::{HttpMetrics, ServerMetric};
    ///
    /// let registry = Registry::new();
    /// let metrics = HttpMetrics::builder()
    ///     .only([ServerMetric::Requests, ServerMetric::Duration])
    ///     .register(&registry)?;
    /// let (_count, _duration) = (metrics.count(), metrics.duration());
    ///
    /// let names: Vec<String> = registry.descs().into_iter().map(|d| d.name).collect();
    /// assert_eq!(names, ["http_server_request_duration_seconds", "http_server_requests_total"]);
    /// # Ok::<(), promkit::Error>(())
    /// ```
    pub fn only(mut self, metrics: impl IntoIterator<Item = ServerMetric>) -> Self {
        self.registered = [false; 5];
        for metric in metrics {
            self.registered[metric.index()] = true;
        }
        self
    }

    /// Names `metric` `name` instead of its [default](ServerMetric::default_name) (the prefix
    /// still applies). Keep the conventional suffixes: `_total` on the counter, the unit on the
    /// others.
    pub fn rename(mut self, metric: ServerMetric, name: impl Into<String>) -> Self {
        self.names[metric.index()] = name.into();
        self
    }

    /// Names `label` `name` instead of its [default](ServerLabel::default_name):
    /// `label_name(ServerLabel::Code, "status")`.
    pub fn label_name(mut self, label: ServerLabel, name: impl Into<String>) -> Self {
        self.labels[label.index()] = name.into();
        self
    }

    /// Adds a label with the same value on every series of every metric (Go's `ConstLabels`).
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.common.const_labels.push((name.into(), value.into()));
        self
    }

    /// The duration histogram's buckets, in seconds ([`promkit::model::DEFAULT_BUCKETS`] otherwise:
    /// 5 ms to 10 s).
    pub fn duration_buckets(mut self, buckets: Buckets) -> Self {
        self.common.duration_buckets = buckets;
        self
    }

    /// The request and response size histograms' buckets, in bytes
    /// ([`DEFAULT_SIZE_BUCKETS`](super::DEFAULT_SIZE_BUCKETS) otherwise: 100 B to 1 GB).
    pub fn size_buckets(mut self, buckets: Buckets) -> Self {
        self.size_buckets = Some(buckets);
        self
    }

    /// Does not measure requests whose path, or whose route template, is `path` (exactly):
    /// `exclude_path("/metrics")` keeps scrapes out of the request metrics. May be called
    /// several times.
    pub fn exclude_path(mut self, path: impl Into<String>) -> Self {
        self.exclude.push(path.into());
        self
    }

    /// The `route` of requests no route matched, such as axum's fallback 404s, when no
    /// [`path_normalizer`](Self::path_normalizer) is set (default
    /// [`UNMATCHED_ROUTE`](super::UNMATCHED_ROUTE), `"unmatched"`).
    pub fn unmatched_route(mut self, route: impl Into<String>) -> Self {
        self.unmatched = route.into();
        self
    }

    /// Turns the raw path of a request without a route template into its `route` label.
    ///
    /// Without it such requests share the [`unmatched_route`](Self::unmatched_route). The
    /// closure must map the unbounded set of paths clients can send onto a small set of values
    /// (`/users/123` → `/users/:id`), or every scanner probing random URLs adds series; cap
    /// them with [`max_series`](Self::max_series) as well. A request with an axum
    /// `MatchedPath` uses the template and never calls the closure.
    pub fn path_normalizer(mut self, normalize: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.normalize = Some(Arc::new(normalize));
        self
    }

    /// Attaches an exemplar to the request counter and the duration histogram: `exemplar`
    /// gets each measured request's head and returns the exemplar labels (a trace id, say) or
    /// `None` for none (Go's `WithExemplarFromContext`). `promkit_tracing::request_exemplar`
    /// is the ready-made one that reads the current trace span.
    ///
    /// The hook runs when the request enters each of the two layers (twice per request with
    /// [`all`](HttpMetrics::all)), so a trace span must be entered around them by then: apply
    /// the tracing layer outside the metrics layers (with axum's `Router::layer`, after them).
    /// An exemplar whose labels are invalid (a bad name, more than 128 code points) is dropped;
    /// the request is still counted and timed. Without a hook nothing is asked or allocated per
    /// request.
    ///
    /// ```
    /// use axum::{Router, body::Body, routing::get};
    /// use http::Request;
    /// use promkit::{Format, Registry};
    /// use promkit_http::middleware::HttpMetrics;
    /// use tower::ServiceExt;
    ///
    /// let registry = Registry::new();
    /// let metrics = HttpMetrics::builder()
    ///     .exemplar_from(|head: &http::request::Parts| {
    ///         let id = head.headers.get("x-request-id")?.to_str().ok()?;
    ///         Some(vec![("request_id".to_owned(), id.to_owned())])
    ///     })
    ///     .register(&registry)?;
    /// let app = Router::new().route("/", get(|| async { "hi" })).layer(metrics.count());
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let request = Request::get("/").header("x-request-id", "r-7").body(Body::empty())?;
    /// app.oneshot(request).await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// let text = registry.encode_string(Format::OPENMETRICS)?;
    /// assert!(text.contains("route=\"/\"} 1.0 # {request_id=\"r-7\"} 1.0 "));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exemplar_from(
        mut self,
        exemplar: impl Fn(&http::request::Parts) -> Option<Vec<(String, String)>> + Send + Sync + 'static,
    ) -> Self {
        self.exemplar = Some(Arc::new(exemplar));
        self
    }

    /// Caps every metric at `max` series; further label sets go to the overflow series
    /// (see [`promkit::Builder::max_series`]). A guard against an unbounded route normaliser.
    pub fn max_series(mut self, max: usize) -> Self {
        self.common.max_series = Some(max);
        self
    }

    /// Declares the five metrics and registers them in `registry`: all of them, or those
    /// chosen with [`only`](Self::only).
    ///
    /// # Errors
    /// [`promkit::Error::Build`] for an invalid name, label name or constant label (a rename to
    /// `http-requests`, say), [`promkit::Error::Register`] when `registry` already has a
    /// family of one of the names it registers. Nothing is registered then.
    pub fn register(self, registry: &Registry) -> Result<HttpMetrics, promkit::Error> {
        let c = &self.common;
        let [requests, duration, in_flight, request_size, response_size] = &self.names;
        let all = &self.labels;
        let no_code = [all[0].clone(), all[2].clone()];
        let size_buckets = match self.size_buckets {
            Some(b) => b,
            None => Buckets::new(DEFAULT_SIZE_BUCKETS)?,
        };
        let metrics = HttpMetrics {
            requests: c.family::<Labels3, Counter>(
                requests,
                "HTTP requests served, by method, status code and route.",
                "",
                all,
                |b| b,
            )?,
            duration: c.family::<Labels3, Histogram>(
                duration,
                "Time from receiving an HTTP request to its response head being ready, in seconds.",
                "seconds",
                all,
                |b| b.buckets(c.duration_buckets.clone()),
            )?,
            in_flight: c.family::<Labels2, Gauge>(
                in_flight,
                "HTTP requests being served.",
                "",
                &no_code,
                |b| b,
            )?,
            request_size: c.family::<Labels2, Histogram>(
                request_size,
                "Size of HTTP request bodies, in bytes.",
                "bytes",
                &no_code,
                |b| b.buckets(size_buckets.clone()),
            )?,
            response_size: c.family::<Labels3, Histogram>(
                response_size,
                "Size of HTTP response bodies, in bytes.",
                "bytes",
                all,
                |b| b.buckets(size_buckets.clone()),
            )?,
            resolver: Arc::new(Resolver {
                exclude: self.exclude.into_iter().map(String::into_boxed_str).collect(),
                rule: RouteRule::Server { unmatched: Arc::from(self.unmatched), normalize: self.normalize },
                exemplar: self.exemplar,
            }),
        };
        // In `ServerMetric` order, so `registered` picks them by index.
        let collectors: [Arc<dyn Collector>; 5] = [
            Arc::new(metrics.requests.clone()),
            Arc::new(metrics.duration.clone()),
            Arc::new(metrics.in_flight.clone()),
            Arc::new(metrics.request_size.clone()),
            Arc::new(metrics.response_size.clone()),
        ];
        let chosen = collectors.into_iter().zip(self.registered).filter_map(|(c, on)| on.then_some(c));
        register_all(registry, chosen.collect())?;
        Ok(metrics)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` returns: for metrics declared once at start-up, never for
    /// names built from input.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> HttpMetrics {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The server metrics, registered: hands out one tower layer per measured quantity.
///
/// | layer | metric (default name) | labels |
/// |---|---|---|
/// | [`count`](Self::count) | `http_server_requests_total` (counter) | `method`, `code`, `route` |
/// | [`duration`](Self::duration) | `http_server_request_duration_seconds` (histogram) | `method`, `code`, `route` |
/// | [`in_flight`](Self::in_flight) | `http_server_requests_in_flight` (gauge) | `method`, `route` |
/// | [`request_size`](Self::request_size) | `http_server_request_size_bytes` (histogram) | `method`, `route` |
/// | [`response_size`](Self::response_size) | `http_server_response_size_bytes` (histogram) | `method`, `code`, `route` |
///
/// Stack the layers you need, or take them all with [`all`](Self::all). Every family is
/// registered unless [`only`](HttpMetricsBuilder::only) names the ones your layers use; a
/// registered family that no layer feeds writes nothing (an empty family is left out, as Go
/// leaves it), but keeps its name taken in the registry. Apply them with axum's
/// `Router::layer` (or `route_layer`), which runs them after routing: that is where the
/// `MatchedPath` they take the `route` from exists. Wrapped around the whole router from
/// outside, every request is [`unmatched`](HttpMetricsBuilder::unmatched_route).
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::Request;
/// use promkit::Registry;
/// use promkit_http::middleware::HttpMetrics;
/// use tower::ServiceExt;
///
/// let registry = Registry::new();
/// let metrics = HttpMetrics::builder()
///     .prefix("shop")
///     .const_label("service", "cart")
///     .exclude_path("/metrics")
///     .register(&registry)?;
/// let app = Router::new()
///     .route("/users/{id}", get(|| async { "hi" }))
///     .layer(metrics.count())
///     .layer(metrics.duration());
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let response = app.oneshot(Request::get("/users/42").body(Body::empty())?).await?;
/// assert_eq!(response.status(), 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// let text = registry.encode_text_string()?;
/// assert!(text.contains(
///     "shop_http_server_requests_total{code=\"200\",method=\"GET\",route=\"/users/{id}\",service=\"cart\"} 1\n"
/// ));
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    resolver: Arc<Resolver>,
    requests: TypedFamily<Labels3, Counter>,
    duration: TypedFamily<Labels3, Histogram>,
    in_flight: TypedFamily<Labels2, Gauge>,
    request_size: TypedFamily<Labels2, Histogram>,
    response_size: TypedFamily<Labels3, Histogram>,
}

impl HttpMetrics {
    /// Starts declaring the server metrics, with the default names, labels and buckets.
    pub fn builder() -> HttpMetricsBuilder {
        HttpMetricsBuilder::default()
    }

    /// The layer that counts requests: [`CountLayer`].
    pub fn count(&self) -> CountLayer {
        CountLayer::new(Arc::clone(&self.resolver), self.requests.clone())
    }

    /// The layer that observes latency: [`DurationLayer`].
    pub fn duration(&self) -> DurationLayer {
        DurationLayer::new(Arc::clone(&self.resolver), self.duration.clone())
    }

    /// The layer that tracks requests in progress: [`InFlightLayer`].
    pub fn in_flight(&self) -> InFlightLayer {
        InFlightLayer::new(Arc::clone(&self.resolver), self.in_flight.clone())
    }

    /// The layer that observes request body sizes: [`RequestSizeLayer`].
    pub fn request_size(&self) -> RequestSizeLayer {
        RequestSizeLayer::new(Arc::clone(&self.resolver), self.request_size.clone())
    }

    /// The layer that observes response body sizes: [`ResponseSizeLayer`].
    pub fn response_size(&self) -> ResponseSizeLayer {
        ResponseSizeLayer::new(Arc::clone(&self.resolver), self.response_size.clone())
    }

    /// All five layers as one: [`HttpMetricsLayer`].
    pub fn all(&self) -> HttpMetricsLayer {
        HttpMetricsLayer {
            in_flight: self.in_flight(),
            count: self.count(),
            duration: self.duration(),
            request_size: self.request_size(),
            response_size: self.response_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promkit::{BuildError, Error};

    #[test]
    fn default_names_and_labels() {
        let registry = Registry::new();
        HttpMetrics::builder().register(&registry).unwrap();
        let names: Vec<String> = registry.descs().into_iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "http_server_request_duration_seconds",
                "http_server_request_size_bytes",
                "http_server_requests_in_flight",
                "http_server_requests_total",
                "http_server_response_size_bytes",
            ]
        );
        for d in registry.descs() {
            let want: &[&str] = if d.name.contains("in_flight") || d.name.contains("request_size") {
                &["method", "route"]
            } else {
                &["method", "code", "route"]
            };
            assert_eq!(d.label_names, want, "{}", d.name);
        }
    }

    #[test]
    fn prefix_renames_labels_and_units() {
        let registry = Registry::new();
        HttpMetrics::builder()
            .prefix("shop")
            .rename(ServerMetric::Requests, "api_calls_total")
            .rename(ServerMetric::Duration, "api_latency_ms")
            .label_name(ServerLabel::Code, "status")
            .const_label("service", "cart")
            .register(&registry)
            .unwrap();
        let descs = registry.descs();
        let calls = descs.iter().find(|d| d.name == "shop_api_calls_total").unwrap();
        assert_eq!(calls.label_names, ["method", "status", "route"]);
        assert_eq!(calls.const_labels, [("service".to_owned(), "cart".to_owned())]);
        // Not `_seconds` any more, so no unit is declared rather than a mismatching one.
        let latency = descs.iter().find(|d| d.name == "shop_api_latency_ms").unwrap();
        assert_eq!(latency.unit, "");
        let size = descs.iter().find(|d| d.name == "shop_http_server_request_size_bytes").unwrap();
        assert_eq!(size.unit, "bytes");
    }

    #[test]
    fn bad_options_fail_at_register_and_register_nothing() {
        let registry = Registry::new();
        let e = HttpMetrics::builder().rename(ServerMetric::InFlight, "in-flight").register(&registry);
        assert!(matches!(e, Err(Error::Build(BuildError::InvalidMetricName { .. }))), "{e:?}");
        let e = HttpMetrics::builder().label_name(ServerLabel::Route, "method").register(&registry);
        assert!(matches!(e, Err(Error::Build(BuildError::DuplicateLabel { .. }))), "{e:?}");
        let e = HttpMetrics::builder().const_label("code", "x").register(&registry);
        assert!(matches!(e, Err(Error::Build(BuildError::DuplicateLabel { .. }))), "{e:?}");
        assert!(registry.descs().is_empty());

        // A clash on the fourth family leaves the first three unregistered too.
        promkit::Histogram::builder("http_server_response_size_bytes").register(&registry).unwrap();
        let e = HttpMetrics::builder().register(&registry);
        assert!(matches!(e, Err(Error::Register(_))), "{e:?}");
        assert_eq!(registry.descs().len(), 1);
        // Renamed out of the way, it registers.
        HttpMetrics::builder().rename(ServerMetric::ResponseSize, "resp_bytes").register(&registry).unwrap();
        assert_eq!(registry.descs().len(), 6);
    }
}
