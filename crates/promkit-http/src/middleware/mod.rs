//! Tower layers that instrument an HTTP server, one per measured quantity.
//!
//! Declare the metrics once with [`HttpMetrics::builder`], register them (all five, or
//! [`only`](HttpMetricsBuilder::only) those your layers feed), then take the layers you want;
//! each is a [`tower_layer::Layer`] whose service is a
//! `tower_service::Service<http::Request<B>>`, so they work with axum, hyper and any tower
//! stack.
//!
//! | layer | metric (default name) | type | labels |
//! |---|---|---|---|
//! | [`CountLayer`] | `http_server_requests_total` | counter | `method`, `code`, `route` |
//! | [`DurationLayer`] | `http_server_request_duration_seconds` | histogram | `method`, `code`, `route` |
//! | [`InFlightLayer`] | `http_server_requests_in_flight` | gauge | `method`, `route` |
//! | [`RequestSizeLayer`] | `http_server_request_size_bytes` | histogram | `method`, `route` |
//! | [`ResponseSizeLayer`] | `http_server_response_size_bytes` | histogram | `method`, `code`, `route` |
//! | [`HttpMetricsLayer`] | all of the above | | |
//!
//! # Labels, and why their values are bounded
//!
//! - `method`: `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`, `OPTIONS`, `TRACE`, `PATCH`;
//!   any other method is [`other`](OTHER_METHOD), so clients cannot mint series by sending
//!   made-up methods.
//! - `code`: the numeric status (`"200"`, `"404"`). When the inner service returns `Err` there is
//!   no status; the request is counted and timed with `code="`[`error`](ERROR_CODE)`"`, so
//!   failures stay visible in the request rate instead of vanishing from it.
//! - `route`: the route template axum matched (`/users/{id}`, from
//!   `axum::extract::MatchedPath`, feature `axum`), never the raw path. A request no route
//!   matched gets [`unmatched`](UNMATCHED_ROUTE), or what a
//!   [`path_normalizer`](HttpMetricsBuilder::path_normalizer) makes of its path.
//!
//! Names, label names, buckets and constant labels are options of the builder; so are paths
//! to leave out ([`exclude_path`](HttpMetricsBuilder::exclude_path)).
//!
//! # When things are measured
//!
//! A request is in flight, and its duration runs, from the call into the service until the
//! service's response future resolves: the response *head* is ready. Streaming the body after
//! that is not part of the duration. The response size is counted as the body streams and
//! recorded when it ends or is dropped; the request size likewise as the service reads the
//! body. A request whose future is dropped unfinished (the client went away) is not counted or
//! timed, but does leave the in-flight gauge.
//!
//! # Exemplars
//!
//! With [`exemplar_from`](HttpMetricsBuilder::exemplar_from) the request counter and the
//! duration histogram carry an exemplar (OpenMetrics and protobuf only): the labels a hook
//! returns for the request, typically the trace id of the span it is served in
//! (`promkit_tracing::request_exemplar`). Without the hook nothing is asked or allocated.
//!
//! Every request pays one series lookup per layer (a hash of its label values, no allocation
//! once the series exists) and, for the duration, one clock read at each end.

mod body;
mod builder;
mod count;
pub(crate) mod declare;
mod duration;
mod in_flight;
pub(crate) mod labels;
mod request_size;
mod response_size;
mod stack;

pub use body::MeteredBody;
pub use builder::{HttpMetrics, HttpMetricsBuilder, ServerLabel, ServerMetric};
pub use count::{CountFuture, CountLayer, CountService};
pub use declare::DEFAULT_SIZE_BUCKETS;
pub use duration::{DurationFuture, DurationLayer, DurationService};
pub use in_flight::{InFlightFuture, InFlightLayer, InFlightService};
pub use labels::{ERROR_CODE, OTHER_METHOD, UNMATCHED_ROUTE};
pub use request_size::{RequestSizeLayer, RequestSizeService};
pub use response_size::{ResponseSizeFuture, ResponseSizeLayer, ResponseSizeService};
pub use stack::{HttpMetricsLayer, HttpMetricsService};
