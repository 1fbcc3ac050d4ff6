//! Push promkit metrics to a Prometheus Pushgateway.
//!
//! A batch job that ends before Prometheus could scrape it pushes its metrics to a
//! [Pushgateway](https://github.com/prometheus/pushgateway) instead, which keeps them for
//! Prometheus. The metrics are kept in a *group*, named by the job and an optional grouping
//! key (more label pairs, such as the instance or the shard); the gateway adds those labels
//! to every pushed series.
//!
//! | call | HTTP | effect on the group |
//! |---|---|---|
//! | [`Pusher::push`] | `PUT` | replaced by the pushed metrics |
//! | [`Pusher::add`] | `POST` | pushed families replaced, others kept |
//! | [`Pusher::delete`] | `DELETE` | removed |
//!
//! ```
//! use promkit::{Counter, Gauge, Registry};
//! use promkit_push::{PushError, PushFormat, Pusher};
//!
//! let registry = Registry::new();
//! let rows = Counter::builder("backup_rows_total").help("Rows backed up.").register(&registry)?;
//! let last = Gauge::builder("backup_last_success_unixtime").help("End of the last backup.").register(&registry)?;
//! rows.inc_by(1200);
//! last.set(1_767_225_600);
//!
//! let pusher = Pusher::builder("http://pushgateway:9091", "nightly_backup")
//!     .grouping("db", "orders/eu") // has a `/`: sent base64-encoded
//!     .grouping("host", "db 1") // URL-escaped
//!     .registry(&registry)
//!     .format(PushFormat::Text) // protobuf by default, as in Go
//!     .build()?;
//! assert_eq!(
//!     pusher.url(),
//!     "http://pushgateway:9091/metrics/job/nightly_backup/db@base64/b3JkZXJzL2V1/host/db%201"
//! );
//! assert_eq!(String::from_utf8_lossy(&pusher.body()?), "\
//! ## HELP backup_last_success_unixtime End of the last backup.
//! ## TYPE backup_last_success_unixtime gauge
//! backup_last_success_unixtime 1.7672256e+09
//! ## HELP backup_rows_total Rows backed up.
//! ## TYPE backup_rows_total counter
//! backup_rows_total 1200
//! ");
//!
//! // At the end of the job (in an async fn):
//! async fn finish(pusher: &Pusher) -> Result<(), PushError> {
//!     pusher.push().await
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The rules, as in Go's `push` package
//!
//! - The URL is `<base>/metrics/job/<job>` then `/<name>/<value>` per grouping label.
//!   A job or value with a `/` is sent as `<name>@base64/<value>` (URL-safe base64, no
//!   padding); an empty value as `<name>@base64/=`; every other value is URL-escaped.
//!   Unlike Go, a space is escaped as `%20` (Go's `+` stays a `+` at the gateway), and the
//!   values `.` and `..` go as base64 too (as path segments, they would be resolved away).
//! - The pushed series must not carry the `job` label or a grouping label: the gateway would
//!   overwrite them silently, so a push refuses them with [`PushError::LabelConflict`] before
//!   any request is sent.
//! - A push or add succeeded when the gateway answers 200 or 202, a delete when it answers
//!   202; any other answer is a [`PushError::Status`] with the status and the gateway's
//!   message.
//! - The metrics are sent in delimited protobuf by default, the only format that carries
//!   native histograms and exemplars; [`PushFormat::Text`] sends text 0.0.4
//!   (`text/plain; version=0.0.4; charset=utf-8`) instead.
//!
//! Grouping label names must be what the Pushgateway accepts: ASCII letters, digits and `_`,
//! not starting with a digit or `__`; `job` is not one (it is the job). Everything is checked
//! by [`PusherBuilder::build`], which names the first problem.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `blocking` | no | `BlockingPusher` via `PusherBuilder::build_blocking`, for code without an async runtime |
//! | `rustls` | no | `https://` gateway URLs (reqwest with rustls and its aws-lc-rs provider) |
//!
//! Without `rustls`, no TLS code is built; an `https://` URL is refused unless a
//! [`reqwest::Client`] with TLS is given to [`PusherBuilder::client`]. The async pusher needs
//! a Tokio runtime, as reqwest does.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
// Every type in a public signature can be named by users (not just reached).
#![warn(unnameable_types)]

#[cfg(feature = "blocking")]
mod blocking;
mod builder;
mod error;
mod format;
mod pusher;
mod request;
mod url;

#[cfg(feature = "blocking")]
pub use blocking::BlockingPusher;
pub use builder::{DEFAULT_TIMEOUT, PusherBuilder};
pub use error::PushError;
pub use format::PushFormat;
pub use pusher::Pusher;
/// The HTTP client crate, whose `Client` [`PusherBuilder::client`] takes.
pub use reqwest;

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
