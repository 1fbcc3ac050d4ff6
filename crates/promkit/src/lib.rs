//! promkit: Prometheus instrumentation for Rust.
//!
//! Declare metrics once, register them, update them on the hot path, and serve the registry's
//! exposition at `/metrics`. The output is byte-for-byte what Go's `client_golang` writes for
//! the same data, in the Prometheus text format 0.0.4 and in OpenMetrics 1.0.0, with one
//! deliberate exception: in OpenMetrics, a histogram with a negative bucket bound has no `_sum`
//! and no `_count`, as the specification requires (Go writes both, and strict parsers reject
//! them).
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
//! | a value of unknown kind (mirrored from elsewhere) | [`Untyped`], [`UntypedFn`] |
//! | a latency or size distribution | [`Histogram`] with [`Buckets`] ([`linear_buckets`], [`exponential_buckets`]) |
//! | quantiles of recent observations, per instance | [`Summary`] with [`Quantiles`] (not aggregatable: prefer a histogram) |
//! | facts as labels (version, configuration): OpenMetrics `info` | [`Info`] (a gauge of 1 in text and protobuf) |
//! | which of a fixed set of states holds: OpenMetrics `stateset` | [`StateSet`] (string states), [`EnumStateSet`] (a `#[derive(LabelValue)]` enum) |
//! | the current distribution of things that come and go: `gaugehistogram` | [`GaugeHistogram`] (`observe`, `remove`) |
//! | labelled series, labels as strings | [`Family`] via [`Builder::labels`] |
//! | labelled series, labels as a type | [`TypedFamily`] via [`Builder::typed_labels`] and `#[derive(LabelSet, LabelValue)]` |
//! | values computed at scrape time | implement [`Collector`], emit through a [`model::Sink`] |
//! | serve the exposition | [`Registry::encode`] into a reused buffer, with the format's [`content_type`](Format::content_type) |
//! | several registries as one | [`registry::Gatherers`] |
//! | process CPU, memory, descriptors (Linux and Android only; in [`default_registry`]); `<app>_build_info` | [`collectors::ProcessCollector`], [`build_info!`] |
//!
//! # Names and conventions
//!
//! The crate root has the everyday names: the metric types, [`Builder`], [`Registry`],
//! [`Format`], the bucket helpers and the errors. The rest lives in a module named for its
//! layer: [`metrics`] (options, guards, builder shapes, [`Metric`](metrics::Metric)),
//! [`model`] (the types collectors and encoders exchange, and gathered snapshots),
//! [`encode`] (encoders, content types, [`CreatedSamples`](encode::CreatedSamples)),
//! [`registry`] (encoding options, [`Gatherers`](registry::Gatherers), what
//! [`Registry::get`] returns), [`collectors`] and [`labels`].
//!
//! A step that can fail returns a `Result`, and its panicking twin carries the `must_`
//! prefix and a `# Panics` section: `register`/`must_register` here, `build`/`must_build` in
//! promkit-http and promkit-push. The twins are for start-up code, never for input. Every
//! API that takes a registry takes `&Registry` (a handle is cloned where one is kept), and
//! every policy is an enum, not a `bool`.
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
//! | 1 | [`model`], [`labels`] | the data model every other part speaks: [`MetricType`](model::MetricType), [`FamilyHeader`](model::FamilyHeader), [`Labels`](model::Labels) and [`LabelTemplate`](model::LabelTemplate), [`Value`](model::Value) and [`SampleMeta`](model::SampleMeta), [`Exemplar`], [`Buckets`], [`Quantiles`], [`NativeSnapshot`](model::NativeSnapshot), the [`Sink`](model::Sink) and [`Collector`] traits, the [`Desc`](model::Desc) rules, and the owned snapshot [`MetricFamily`](model::MetricFamily) that gathering (and a parser) produces. |
//! | 2 | [`metrics`] beside [`encode`] | metric types produce the model through a [`Sink`](model::Sink); encoders are sinks that write it as bytes. Neither knows the other, so a new format touches only `encode`, and a new metric type only `metrics` (and the model, if it brings a new shape). |
//! | 3 | [`registry`] | which collectors are exported, their consistency rules, encoding, gathering, and the `register` step of each [`Builder`]. |
//! | 4 | [`collectors`] | ready-made collectors, and the [`default_registry`] that holds the process collector. |
//!
//! A scrape makes no intermediate copy: the registry hands an encoder (a
//! [`Sink`](model::Sink)) to each collector in turn, and each collector calls
//! [`family`](model::Sink::family) and [`sample`](model::Sink::sample) on it, so bytes are
//! written straight from the metrics' own state.
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
//! series is found without allocating; an update on the resolved handle never looks it up
//! again.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `derive` | yes | `#[derive(LabelSet, LabelValue)]` from `promkit-derive` |
//! | `protobuf` | yes | the delimited protobuf exposition ([`Format::Protobuf`]), via `prost` |
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
// Every type in a public signature can be named by users (not just reached).
#![warn(unnameable_types)]

pub mod collectors;
pub mod encode;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod registry;
mod sync;
mod syntax;

pub use collectors::default_registry;
pub use encode::Format;
pub use labels::{LabelSet, LabelValue};
pub use metrics::{
    Builder, Counter, CounterF64, CounterFn, EnumStateSet, Family, Gauge, GaugeF64, GaugeFn, GaugeHistogram,
    Histogram, Info, LabelError, NativeOptions, StateSet, Summary, TypedFamily, Untyped, UntypedFn,
    WhenEmpty,
};
pub use model::{
    BucketError, Buckets, BuildError, CollectError, Collector, Exemplar, ExemplarError, Quantiles,
    exponential_buckets, exponential_buckets_range, linear_buckets,
};
#[cfg(feature = "derive")]
pub use promkit_derive::{LabelSet, LabelValue};
pub use registry::{Error, RegisterError, Registry};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
