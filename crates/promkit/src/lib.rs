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
//! | values computed at scrape time | implement [`Collector`], emit through a [`model::Sink`] |
//! | serve the exposition | [`Registry::encode`] into a reused buffer, with [`TEXT_CONTENT_TYPE`] or [`OPENMETRICS_CONTENT_TYPE`] |
//! | several registries as one | [`registry::Gatherers`] |
//! | process CPU, memory, descriptors (in [`default_registry`]); `<app>_build_info` | [`ProcessCollector`], [`build_info!`] |
//!
//! # How it works
//!
//! The crate is five layers; each imports only from the layers below it, never sideways or up
//! (the `layering` integration test reads every `crate::` path in `src/` and fails on one that
//! does):
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 0 | `syntax` (private) | the formatting rules: escaping, Go's float layout, metric and label name checks. Depends on nothing. |
//! | 1 | [`model`], [`labels`] | the data model every other part speaks: [`MetricType`](model::MetricType), [`FamilyHeader`](model::FamilyHeader), [`Labels`](model::Labels) and [`LabelTemplate`](model::LabelTemplate), [`Value`](model::Value) and [`SampleMeta`](model::SampleMeta), [`Exemplar`], [`Buckets`], [`Quantiles`], [`NativeSnapshot`], the [`Sink`](model::Sink) and [`Collector`] traits, the [`Desc`](model::Desc) rules, and the owned snapshot [`MetricFamily`](model::MetricFamily) that gathering (and a parser) produces. |
//! | 2 | [`metrics`] beside [`encode`] | metric types produce the model through a [`Sink`](model::Sink); encoders are sinks that write it as bytes. Neither knows the other, so a new format touches only `encode`, and a new metric type only `metrics` (and the model, if it brings a new shape). |
//! | 3 | [`registry`] | which collectors are exported, their consistency rules, encoding, gathering, and the `register` step of each [`Builder`]. |
//! | 4 | [`collectors`] | ready-made collectors, and the [`default_registry`] that holds the process collector. |
//!
//! A scrape makes no intermediate copy: the registry hands an encoder (a
//! [`Sink`](model::Sink)) to each collector in turn, and each collector calls
//! [`family`](model::Sink::family) and [`sample`](model::Sink::sample) on it, so bytes are
//! written straight from the metrics' atomics.
//!
//! **Pre-escaped series keys.** A labelled series is stored under its key: its label values
//! escaped once, when the series is created, sorted by label name and joined by newlines (an
//! escaped value never holds a raw newline). The family keeps a
//! [`LabelTemplate`](model::LabelTemplate): its label names, and its constant labels already
//! escaped, rendered as the literal text between the values (`a="`, `",b="`, `"`). Writing a
//! series' labels is then copying bytes, template and key interleaved, in both text formats;
//! nothing is escaped again on a scrape. The same holds for a histogram's `le` and a summary's
//! `quantile` values: [`Buckets`] and [`Quantiles`] render each bound once, in Go's text form
//! (`1e+06`) and in OpenMetrics' (`1.0`), when they are declared. A lookup
//! (`with_label_values`) hashes the caller's values into that same key form, so an existing
//! series is found without allocating; an update on the resolved handle touches only its
//! atomics.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `derive` | yes | `#[derive(LabelSet, LabelValue)]` from `promkit-derive` |
//! | `protobuf` | yes | the delimited protobuf exposition ([`Format::Protobuf`]), via `prost` |
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod collectors;
pub mod encode;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod registry;
mod sync;
mod syntax;

pub use collectors::{BuildInfoCollector, ProcessCollector, default_registry};
pub use encode::{Format, OPENMETRICS_CONTENT_TYPE, OpenMetricsEncoder, TEXT_CONTENT_TYPE, TextEncoder};
#[cfg(feature = "protobuf")]
pub use encode::{PROTOBUF_CONTENT_TYPE, ProtobufEncoder};
pub use labels::{LabelSet, LabelValue};
pub use metrics::{
    Builder, Counter, CounterF64, CounterFn, DEFAULT_ZERO_THRESHOLD, Family, Gauge, GaugeF64, GaugeFn,
    Histogram, HistogramOptions, InflightGuard, LabelError, LocalCounter, Metric, NativeOptions,
    OVERFLOW_LABEL_VALUE, Summary, SummaryOptions, Timer, TypedFamily, Untyped,
};
pub use model::{
    BucketError, Buckets, BuildError, CollectError, Collector, DEFAULT_BUCKETS, EXEMPLAR_MAX_RUNES, Exemplar,
    ExemplarError, NativeSnapshot, Quantiles, exponential_buckets, exponential_buckets_range, linear_buckets,
};
#[cfg(feature = "derive")]
pub use promkit_derive::{LabelSet, LabelValue};
pub use registry::{CollectorId, EncodeOptions, Error, OnError, RegisterError, Registry};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
