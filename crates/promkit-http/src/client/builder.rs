//! `ClientMetrics`: declares and registers the client metrics, and hands out one layer per metric.

use std::fmt;
use std::sync::Arc;

use promkit::model::Collector;
use promkit::{Buckets, Counter, Gauge, Histogram, Registry, TypedFamily};

use super::ClientMetricsLayer;
use crate::middleware::declare::{Common, register_all};
use crate::middleware::labels::{ExemplarFn, Labels2, Labels3, PartsFn, Resolver, RouteRule};
use crate::middleware::{CountLayer, DurationLayer, InFlightLayer};

/// One of the client metrics, to [`rename`](ClientMetricsBuilder::rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientMetric {
    /// Requests sent: `http_client_requests_total{method,code,host}`, a counter.
    Requests,
    /// Latency: `http_client_request_duration_seconds{method,code,host}`, a histogram.
    Duration,
    /// Requests awaiting a response: `http_client_requests_in_flight{method,host}`, a gauge.
    InFlight,
}

impl ClientMetric {
    /// Every client metric, in declaration order.
    pub const ALL: [Self; 3] = [Self::Requests, Self::Duration, Self::InFlight];

    /// The name used unless renamed (before any prefix).
    pub const fn default_name(self) -> &'static str {
        match self {
            Self::Requests => "http_client_requests_total",
            Self::Duration => "http_client_request_duration_seconds",
            Self::InFlight => "http_client_requests_in_flight",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// One of the client labels, to rename with [`label_name`](ClientMetricsBuilder::label_name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientLabel {
    /// `method`: the request method, or `other` outside the standard set.
    Method,
    /// `code`: the numeric response status, or `error` when the request failed.
    Code,
    /// `host`: the server's `host[:port]`, or what [`target`](ClientMetricsBuilder::target) says.
    Host,
}

impl ClientLabel {
    /// The label name used unless renamed.
    pub const fn default_name(self) -> &'static str {
        match self {
            Self::Method => "method",
            Self::Code => "code",
            Self::Host => "host",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Declares the client metrics; from [`ClientMetrics::builder`].
#[must_use = "a builder does nothing until `register`"]
pub struct ClientMetricsBuilder {
    common: Common,
    names: [String; 3],
    labels: [String; 3],
    target: Option<Arc<PartsFn>>,
    exemplar: Option<Arc<ExemplarFn>>,
}

impl fmt::Debug for ClientMetricsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientMetricsBuilder")
            .field("common", &self.common)
            .field("names", &self.names)
            .field("labels", &self.labels)
            .field("target", &self.target.as_ref().map(|_| "Fn(&Parts) -> String"))
            .field("exemplar", &self.exemplar.as_ref().map(|_| "Fn(&Parts) -> Option<labels>"))
            .finish()
    }
}

impl Default for ClientMetricsBuilder {
    fn default() -> Self {
        Self {
            common: Common::default(),
            names: ClientMetric::ALL.map(|m| m.default_name().to_owned()),
            labels: [ClientLabel::Method, ClientLabel::Code, ClientLabel::Host]
                .map(|l| l.default_name().to_owned()),
            target: None,
            exemplar: None,
        }
    }
}

impl ClientMetricsBuilder {
    /// Prepends `prefix` and `_` to every metric name, renamed or not:
    /// `prefix("shop")` gives `shop_http_client_requests_total`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.common.prefix = prefix.into();
        self
    }

    /// Names `metric` `name` instead of its [default](ClientMetric::default_name) (the prefix
    /// still applies).
    pub fn rename(mut self, metric: ClientMetric, name: impl Into<String>) -> Self {
        self.names[metric.index()] = name.into();
        self
    }

    /// Names `label` `name` instead of its [default](ClientLabel::default_name):
    /// `label_name(ClientLabel::Host, "upstream")`.
    pub fn label_name(mut self, label: ClientLabel, name: impl Into<String>) -> Self {
        self.labels[label.index()] = name.into();
        self
    }

    /// Adds a label with the same value on every series of every metric.
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.common.const_labels.push((name.into(), value.into()));
        self
    }

    /// The duration histogram's buckets, in seconds ([`promkit::model::DEFAULT_BUCKETS`] otherwise).
    pub fn duration_buckets(mut self, buckets: Buckets) -> Self {
        self.common.duration_buckets = buckets;
        self
    }

    /// Computes the `host` label from the request's parts instead of its authority.
    ///
    /// For a client that calls a few fixed services the default (`host[:port]` of the URI,
    /// userinfo removed, else the `Host` header, else `unknown`) is bounded by the number of
    /// services. A client that follows user-supplied URLs is not: map them onto a small set
    /// here (the service name, or a route template the caller put in the request's
    /// extensions), and cap the series with [`max_series`](Self::max_series).
    pub fn target(
        mut self,
        target: impl Fn(&http::request::Parts) -> String + Send + Sync + 'static,
    ) -> Self {
        self.target = Some(Arc::new(target));
        self
    }

    /// Attaches an exemplar to the request counter and the duration histogram: `exemplar`
    /// gets each outgoing request's head and returns the exemplar labels (a trace id, say), or
    /// `None` for none; as [`HttpMetricsBuilder::exemplar_from`](crate::middleware::HttpMetricsBuilder::exemplar_from)
    /// for servers. The hook runs when the request enters the layer, inside the caller's
    /// trace span; `promkit_tracing::request_exemplar` reads that span.
    pub fn exemplar_from(
        mut self,
        exemplar: impl Fn(&http::request::Parts) -> Option<Vec<(String, String)>> + Send + Sync + 'static,
    ) -> Self {
        self.exemplar = Some(Arc::new(exemplar));
        self
    }

    /// Caps every metric at `max` series; further label sets go to the overflow series
    /// (see [`promkit::Builder::max_series`]).
    pub fn max_series(mut self, max: usize) -> Self {
        self.common.max_series = Some(max);
        self
    }

    /// Declares the three metrics and registers them all in `registry`.
    ///
    /// # Errors
    /// [`promkit::Error::Build`] for an invalid name, label name or constant label,
    /// [`promkit::Error::Register`] when `registry` already has a family of one of the names.
    /// Nothing is registered then.
    pub fn register(self, registry: &Registry) -> Result<ClientMetrics, promkit::Error> {
        let c = &self.common;
        let [requests, duration, in_flight] = &self.names;
        let all = &self.labels;
        let no_code = [all[0].clone(), all[2].clone()];
        let metrics = ClientMetrics {
            requests: c.family::<Labels3, Counter>(
                requests,
                "HTTP requests sent, by method, status code and host.",
                "",
                all,
                |b| b,
            )?,
            duration: c.family::<Labels3, Histogram>(
                duration,
                "Time from sending an HTTP request to its response head arriving, in seconds.",
                "seconds",
                all,
                |b| b.buckets(c.duration_buckets.clone()),
            )?,
            in_flight: c.family::<Labels2, Gauge>(
                in_flight,
                "HTTP requests sent and awaiting a response.",
                "",
                &no_code,
                |b| b,
            )?,
            resolver: Arc::new(Resolver {
                exclude: Box::default(),
                rule: RouteRule::Client { target: self.target },
                exemplar: self.exemplar,
            }),
        };
        register_all(
            registry,
            vec![
                Arc::new(metrics.requests.clone()) as Arc<dyn Collector>,
                Arc::new(metrics.duration.clone()),
                Arc::new(metrics.in_flight.clone()),
            ],
        )?;
        Ok(metrics)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` returns: for metrics declared once at start-up.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> ClientMetrics {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The client metrics, registered: hands out one tower layer per measured quantity.
///
/// | layer | metric (default name) | labels |
/// |---|---|---|
/// | [`count`](Self::count) | `http_client_requests_total` (counter) | `method`, `code`, `host` |
/// | [`duration`](Self::duration) | `http_client_request_duration_seconds` (histogram) | `method`, `code`, `host` |
/// | [`in_flight`](Self::in_flight) | `http_client_requests_in_flight` (gauge) | `method`, `host` |
///
/// The layers wrap any `tower_service::Service<http::Request<B>>` whose response is an
/// `http::Response`: hyper-util's legacy `Client`, a tower HTTP stack, or a closure around
/// another client. A request that fails (connection refused, timeout layer below it) is
/// counted and timed with `code="error"`. Durations end when the response head arrives.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use promkit::Registry;
/// use promkit_http::client::ClientMetrics;
/// use tower::{ServiceExt, service_fn};
/// use tower_layer::Layer;
///
/// let registry = Registry::new();
/// let metrics = ClientMetrics::builder().register(&registry)?;
/// // Any tower HTTP client; here a stand-in that answers 200 at once.
/// let client = service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
/// let client = metrics.all().layer(client);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// client.oneshot(Request::get("http://api.internal:8080/v1/items").body(())?).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// let text = registry.encode_text_string()?;
/// assert!(text.contains(
///     "http_client_requests_total{code=\"200\",host=\"api.internal:8080\",method=\"GET\"} 1\n"
/// ));
/// assert!(text.contains("http_client_requests_in_flight{host=\"api.internal:8080\",method=\"GET\"} 0\n"));
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientMetrics {
    resolver: Arc<Resolver>,
    requests: TypedFamily<Labels3, Counter>,
    duration: TypedFamily<Labels3, Histogram>,
    in_flight: TypedFamily<Labels2, Gauge>,
}

impl ClientMetrics {
    /// Starts declaring the client metrics, with the default names, labels and buckets.
    pub fn builder() -> ClientMetricsBuilder {
        ClientMetricsBuilder::default()
    }

    /// The layer that counts requests: a [`CountLayer`].
    pub fn count(&self) -> CountLayer {
        CountLayer::new(Arc::clone(&self.resolver), self.requests.clone())
    }

    /// The layer that observes latency: a [`DurationLayer`].
    pub fn duration(&self) -> DurationLayer {
        DurationLayer::new(Arc::clone(&self.resolver), self.duration.clone())
    }

    /// The layer that tracks requests awaiting a response: an [`InFlightLayer`].
    pub fn in_flight(&self) -> InFlightLayer {
        InFlightLayer::new(Arc::clone(&self.resolver), self.in_flight.clone())
    }

    /// The three layers as one: [`ClientMetricsLayer`].
    pub fn all(&self) -> ClientMetricsLayer {
        ClientMetricsLayer { in_flight: self.in_flight(), count: self.count(), duration: self.duration() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use promkit::{BuildError, Error};

    #[test]
    fn default_names_and_labels() {
        let registry = Registry::new();
        ClientMetrics::builder().register(&registry).unwrap();
        let descs = registry.descs();
        let got: Vec<(&str, Vec<&str>)> = descs
            .iter()
            .map(|d| (d.name.as_str(), d.label_names.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("http_client_request_duration_seconds", vec!["method", "code", "host"]),
                ("http_client_requests_in_flight", vec!["method", "host"]),
                ("http_client_requests_total", vec!["method", "code", "host"]),
            ]
        );
        assert_eq!(descs[0].unit, "seconds");
    }

    #[test]
    fn options_apply_and_bad_ones_register_nothing() {
        let registry = Registry::new();
        ClientMetrics::builder()
            .prefix("shop")
            .rename(ClientMetric::InFlight, "outgoing_in_flight")
            .label_name(ClientLabel::Host, "upstream")
            .const_label("team", "cart")
            .register(&registry)
            .unwrap();
        let descs = registry.descs();
        let gauge = descs.iter().find(|d| d.name == "shop_outgoing_in_flight").unwrap();
        assert_eq!(gauge.label_names, ["method", "upstream"]);
        assert_eq!(gauge.const_labels, [("team".to_owned(), "cart".to_owned())]);

        let fresh = Registry::new();
        let e = ClientMetrics::builder().label_name(ClientLabel::Code, "le").register(&fresh);
        assert!(matches!(e, Err(Error::Build(BuildError::ReservedLabel { .. }))), "{e:?}");
        let e = ClientMetrics::builder().prefix("9x").register(&fresh);
        assert!(matches!(e, Err(Error::Build(BuildError::InvalidMetricName { .. }))), "{e:?}");
        assert!(fresh.descs().is_empty());
        // Same names twice in one registry: refused, and the first set is untouched.
        assert!(matches!(
            ClientMetrics::builder().prefix("shop").register(&registry),
            Err(Error::Register(_))
        ));
        assert_eq!(registry.descs().len(), 3);
    }
}
