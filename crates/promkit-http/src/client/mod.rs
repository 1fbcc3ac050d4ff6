//! Tower layers that instrument an HTTP client, one per measured quantity.
//!
//! Declare the metrics once with [`ClientMetrics::builder`], register them, and wrap the
//! client (hyper-util's legacy `Client`, or any `tower_service::Service<http::Request<B>>`
//! returning an `http::Response`) in the layers you want:
//!
//! | layer | metric (default name) | type | labels |
//! |---|---|---|---|
//! | [`CountLayer`] | `http_client_requests_total` | counter | `method`, `code`, `host` |
//! | [`DurationLayer`] | `http_client_request_duration_seconds` | histogram | `method`, `code`, `host` |
//! | [`InFlightLayer`] | `http_client_requests_in_flight` | gauge | `method`, `host` |
//! | [`ClientMetricsLayer`] | all of the above | | |
//!
//! The layer types are the server's (see [`crate::middleware`]): they measure the same way and
//! differ only in where the third label comes from. Here it is `host`: the `host[:port]` of
//! the request URI (userinfo is never copied into a label), else the `Host` header, else
//! `unknown`; a client that talks to a fixed set of services has a bounded set of hosts. For
//! anything else give a [`target`](ClientMetricsBuilder::target) closure.
//!
//! Unlike Go's `InstrumentRoundTripperCounter`, which skips requests that fail, a request whose
//! client returns `Err` (connection refused, a timeout layer below this one) is counted and
//! timed with `code="`[`error`](crate::middleware::ERROR_CODE)`"`: failures to reach a service
//! are what client metrics are most often read for. The duration ends when the response head
//! has arrived; reading the body is not included.

mod builder;
mod stack;

pub use crate::middleware::{
    CountFuture, CountLayer, CountService, DurationFuture, DurationLayer, DurationService, InFlightFuture,
    InFlightLayer, InFlightService,
};
pub use builder::{ClientLabel, ClientMetric, ClientMetrics, ClientMetricsBuilder};
pub use stack::{ClientMetricsLayer, ClientMetricsService};
