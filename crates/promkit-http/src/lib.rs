//! Serve promkit metrics over HTTP.
//!
//! - [`MetricsHandler`]: the `/metrics` endpoint. Negotiates the format from `Accept`
//!   (text 0.0.4 by default, OpenMetrics 1.0.0 and text 1.0.0 when asked for, by q-value),
//!   writes UTF-8 names quoted or escaped as the scrape's `escaping=` says, compresses with
//!   gzip or zstd per `Accept-Encoding`, and applies the options of Go's `promhttp.HandlerOpts`:
//!   error policy, in-flight limit, timeout, `name[]` filter and its own metrics. It can stream
//!   a large exposition to the connection while encoding it ([`MetricsBody`]; the exporter
//!   does, see [`HandlerBuilder::streaming`]). It is a tower
//!   [`Service`](tower_service::Service), so it mounts in axum, and
//!   [`MetricsHandler::respond`] serves any other server from request parts.
//! - [`handler()`]: that endpoint for [`promkit::default_registry`] with its own metrics, in
//!   one call (Go's `promhttp.Handler()`).
//! - [`middleware`]: tower layers that instrument an HTTP server, one per measured quantity.
//! - [`client`]: the same for outgoing requests.
//! - [`serve`]: a small standalone server for programs without one (feature `exporter`).
// Every type in a public signature can be named by users (not just reached).
#![warn(unnameable_types)]

mod compress;
mod handler;
mod negotiate;
mod stream;

pub mod client;
#[cfg(feature = "exporter")]
mod exporter;
pub mod middleware;

pub use compress::Encoding;
#[cfg(feature = "exporter")]
pub use exporter::{Exporter, ServeError, serve};
pub use handler::{ErrorHandling, HandlerBuilder, MetricsHandler, handler};
pub use negotiate::{EscapingScheme, FormatOffer, Negotiated, Offer, WireFormat, negotiate};
pub use stream::{MetricsBody, ScrapeAborted};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
