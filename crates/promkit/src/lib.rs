//! promkit: Prometheus instrumentation for Rust.
//!
//! Declare metrics once, register them, update them on the hot path, and serve the registry's
//! exposition at `/metrics`. The output is byte-for-byte what Go's `client_golang` writes for
//! the same data, in the Prometheus text format 0.0.4 and in OpenMetrics 1.0.0.
//!
//! ```
//! use promkit::{Counter, Format, Gauge, Histogram, Registry, linear_buckets};
//!
//! let registry = Registry::new();
//! let jobs = Counter::builder("jobs_total")
//!     .help("Jobs finished, by outcome.")
//!     .labels(["outcome"])
//!     .register(&registry)?;
//! let queue = Gauge::builder("queue_depth").help("Jobs waiting.").register(&registry)?;
//! let took = Histogram::builder("job_duration_seconds")
//!     .help("Job latency.")
//!     .unit("seconds")
//!     .buckets(linear_buckets(0.5, 0.5, 2)?)
//!     .register(&registry)?;
//!
//! let passed = jobs.with_label_values(&["passed"])?; // resolve once, update often
//! passed.inc();
//! queue.set(3);
//! took.observe(0.7);
//!
//! assert_eq!(registry.encode_string(Format::OPENMETRICS)?, "\
//! ## HELP job_duration_seconds Job latency.
//! ## TYPE job_duration_seconds histogram
//! ## UNIT job_duration_seconds seconds
//! job_duration_seconds_bucket{le=\"0.5\"} 0
//! job_duration_seconds_bucket{le=\"1.0\"} 1
//! job_duration_seconds_bucket{le=\"+Inf\"} 1
//! job_duration_seconds_sum 0.7
//! job_duration_seconds_count 1
//! ## HELP jobs Jobs finished, by outcome.
//! ## TYPE jobs counter
//! jobs_total{outcome=\"passed\"} 1.0
//! ## HELP queue_depth Jobs waiting.
//! ## TYPE queue_depth gauge
//! queue_depth 3.0
//! ## EOF
//! ");
//! # Ok::<(), promkit::Error>(())
//! ```
//!
//! # Where things are
//!
//! | need | use |
//! |---|---|
//! | a total that only goes up | [`Counter`] (u64), [`CounterF64`], [`CounterFn`] (read at scrape) |
//! | a value that goes up and down | [`Gauge`] (i64), [`GaugeF64`], [`GaugeFn`] |
//! | a latency or size distribution | [`Histogram`] with [`Buckets`] ([`linear_buckets`], [`exponential_buckets`]) |
//! | quantiles of recent observations, per instance | [`Summary`] with [`Quantiles`] (not aggregatable: prefer a histogram) |
//! | labelled series, labels as strings | [`Family`] via [`Builder::labels`] |
//! | labelled series, labels as a type | [`TypedFamily`] via [`Builder::typed_labels`] and `#[derive(LabelSet, LabelValue)]` |
//! | values computed at scrape time | implement [`Collector`], emit through a [`registry::Sink`] |
//! | serve the exposition | [`Registry::encode`] into a reused buffer, with [`TEXT_CONTENT_TYPE`] or [`OPENMETRICS_CONTENT_TYPE`] |
//! | several registries as one | [`registry::Gatherers`] |
//! | process CPU, memory, descriptors (in [`default_registry`]); `<app>_build_info` | [`ProcessCollector`], [`build_info!`] |
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `derive` | yes | `#[derive(LabelSet, LabelValue)]` from `promkit-derive` |
//! | `protobuf` | yes | the delimited protobuf exposition ([`Format::Protobuf`]), via `prost` |
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod collectors;
mod encode;
mod error;
pub mod labels;
mod metrics;
pub mod registry;
mod sync;

pub use collectors::{BuildInfoCollector, ProcessCollector};
pub use encode::{Format, OPENMETRICS_CONTENT_TYPE, OpenMetricsEncoder, TEXT_CONTENT_TYPE, TextEncoder};
#[cfg(feature = "protobuf")]
pub use encode::{PROTOBUF_CONTENT_TYPE, ProtobufEncoder};
pub use error::{BucketError, BuildError, CollectError, Error, ExemplarError, LabelError, RegisterError};
pub use labels::{LabelSet, LabelValue};
pub use metrics::{
    Buckets, Builder, Counter, CounterF64, CounterFn, DEFAULT_BUCKETS, DEFAULT_ZERO_THRESHOLD,
    EXEMPLAR_MAX_RUNES, Exemplar, Family, Gauge, GaugeF64, GaugeFn, Histogram, HistogramOptions,
    InflightGuard, LocalCounter, Metric, NativeOptions, NativeSnapshot, OVERFLOW_LABEL_VALUE, Quantiles,
    Summary, SummaryOptions, Timer, TypedFamily, Untyped, exponential_buckets, exponential_buckets_range,
    linear_buckets,
};
#[cfg(feature = "derive")]
pub use promkit_derive::{LabelSet, LabelValue};
pub use registry::{Collector, CollectorId, EncodeOptions, OnError, Registry, default_registry};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
