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
//! | update a labelled series now | `family.with_label_values(&[..])?.inc()` (a [`SeriesRef`] borrowed from the thread's lookup cache: no lock, no reference count on a repeat) or the closure form [`Family::with_series`] |
//! | keep a labelled series (in a struct, another thread) | [`SeriesRef::to_owned`] once, then each update is one atomic operation |
//! | labelled series, labels as a type | [`TypedFamily`] via [`Builder::typed_labels`] and `#[derive(LabelSet, LabelValue)]` |
//! | values computed at scrape time | implement [`Collector`], emit through a [`model::Sink`] |
//! | serve the exposition | [`Registry::encode`] into a reused buffer, with the format's [`content_type`](Format::content_type) |
//! | several registries as one | [`registry::Gatherers`] |
//! | UTF-8 names (`http.server.duration`), quoted or escaped per scrape | [`NameValidation::Utf8`] on [`Registry::builder`], [`EscapingScheme`] (see [UTF-8 names](#utf-8-names)) |
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
//! # Choosing a registry
//!
//! | registry | holds from the start | use it for |
//! |---|---|---|
//! | [`default_registry()`](default_registry) | the process collector (`process_cpu_seconds_total`, `process_resident_memory_bytes`, … on Linux), as Go's default registry | a program's own `main`: `promkit_http::handler()` serves it with the handler's `promhttp_*` metrics, as Go's `promhttp.Handler()`; metrics in `static`s |
//! | [`Registry::new()`](Registry::new) | nothing | a library (take a `&Registry` from the caller), a batch job that pushes only its own metrics, and every test |
//!
//! Every API that takes a registry takes `&Registry`; a component that keeps one clones the
//! handle, and the clones share one registry. A registry of your own gets the process metrics
//! with one call.
//!
//! ```rust
//! use promkit::collectors::ProcessCollector;
//! use promkit::{Counter, Registry, default_registry};
//!
//! // The default registry already has the process metrics (on Linux and Android).
//! let text = default_registry().encode_text_string()?;
//! assert_eq!(text.contains("# TYPE process_cpu_seconds_total counter\n"), ProcessCollector::SUPPORTED);
//!
//! // Your own starts empty, and a clone is the same registry.
//! let registry = Registry::new();
//! let kept = registry.clone();
//! Counter::builder("jobs_total").help("Jobs run.").register(&registry)?;
//! assert_eq!(kept.encode_text_string()?, "# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total 0\n");
//! ProcessCollector::builder().register(&registry)?;
//! # Ok::<(), promkit::Error>(())
//! ```
//!
//! # Updating on a hot path
//!
//! An update allocates only when its series first meets something new: threads contending on
//! it (a counter's per-CPU cells, a histogram's shared shards), a native bucket outside the
//! range seen so far, a summary shard's first observation. The counter and classic histogram
//! forms take no lock, and a lookup repeated from one thread is served by that thread's cache
//! without one; the forms differ in what they do before the update. The times are this
//! workspace's criterion figures on a 2-core Intel Xeon where a bare relaxed `fetch_add` took
//! 6.2 ns (`BENCHMARKS.md` in the repository has them beside the other Rust crates'); on your
//! machine, compare them with each other.
//!
//! | form | before the update | time | use it when |
//! |---|---|---:|---|
//! | a resolved handle: `let ok = family.with_label_values(&[..])?.to_owned();` once, then `ok.inc()` | nothing: one relaxed atomic add | 5.4 ns | the label values are known up front (routes, outcomes): resolve at start-up and keep the handle |
//! | [`Counter::local`] | nothing: a plain load and store on the thread's own cache line | 0.3 ns | one thread counts in a tight loop (a worker's items) |
//! | [`TypedFamily::with`] over enums | an array index | 7.8 ns | the labels are enums or `bool`s: the values cannot be misspelt either |
//! | [`Family::with_series`] | a lookup in the calling thread's cache: hash and compare the values | 14.9 ns | the values arrive with each request (method, status) |
//! | `family.with_label_values(&[..])?.inc()` | the same lookup, and a guard borrowed from the cache | 15.8 ns | as above, when a handle reads better than a closure |
//! | [`Histogram::observe`] | a bucket search; plain stores under a sequence lock from the first thread that observes it, a compare-and-swap from others | 5.0 ns | latencies and sizes, aggregatable across instances |
//! | [`Histogram::observe`] with [native buckets](Builder::native) | the bucket's key from the value's exponent, and a shard lock | 9.3 ns | as above, with no bucket bounds to choose up front (scraped as protobuf) |
//! | [`Summary::observe`] | an append to the buffer of the thread's shard, under that shard's own lock; the quantile work is done in batches and at scrape | 25.9 ns | per-instance quantiles you will not aggregate |
//!
//! A counter that several threads add to at once spreads itself over per-CPU cells on first
//! contention, so two threads on one series cost about what one does (17.2 ns per
//! `with_label_values(..)?.inc()` on the host above). A lookup of a new label set creates the
//! series: its escaped key and its state are allocated once (a labelled counter series holds
//! about 57 bytes, a histogram with the 11 default buckets about 120), so cap families whose
//! values come from outside with [`max_series`](Builder::max_series). A scrape writes about
//! 15 ns per counter series in the text format.
//!
//! ```
//! use promkit::{Counter, LabelSet, LabelValue, Registry};
//!
//! #[derive(Clone, Copy, LabelValue)]
//! #[label(rename_all = "lowercase")]
//! enum Outcome { Passed, Failed }
//!
//! #[derive(Clone, Copy, LabelSet)]
//! struct Job { outcome: Outcome }
//!
//! let registry = Registry::new();
//! let requests = Counter::builder("requests_total").labels(["code"]).max_series(100).register(&registry)?;
//! let jobs = Counter::builder("jobs_total").typed_labels::<Job>().register(&registry)?;
//!
//! let ok = requests.with_label_values(&["200"])?.to_owned(); // resolved once, kept
//! ok.inc();
//! requests.with_series(&["404"], |c| c.inc())?; // looked up per call
//! requests.with_label_values(&["404"])?.inc();
//! jobs.with(&Job { outcome: Outcome::Passed }, |c| c.inc()); // an array index
//!
//! let local = ok.local(); // this thread's own cell
//! for _ in 0..1000 {
//!     local.inc();
//! }
//! drop(local); // its count stays in the total
//!
//! assert_eq!(ok.get(), 1001);
//! assert_eq!(requests.with_series(&["404"], |c| c.get())?, 2);
//! assert_eq!(jobs.get(&Job { outcome: Outcome::Passed }).get(), 1);
//! # Ok::<(), promkit::Error>(())
//! ```
//!
//! # Testing your metrics
//!
//! Give the code under test a `Registry::new()` of its own, so tests running in parallel never
//! see each other's counts. Then read values back:
//!
//! - [`family.get_existing(&[..])`](Family::get_existing) (and [`TypedFamily::get_existing`]) reads a series without
//!   creating it: `None` when nothing touched it. `with_label_values` would create the very
//!   series the test asserts is absent, and put it in the exposition.
//! - [promkit-testutil](https://docs.rs/promkit-testutil) (a dev-dependency), after Go's
//!   `testutil`: `to_f64` for one value, `gather_and_compare` for whole families as text (order,
//!   spacing and float spelling do not matter), `collect_and_count` for series counts,
//!   `gather_and_lint` for naming conventions.
//!
//! ```rust
//! use promkit::{Counter, Registry};
//! use promkit_testutil::{collect_and_count, gather_and_compare, gather_and_lint, to_f64};
//!
//! /// The code under test: counts the jobs it runs, by outcome.
//! fn run_jobs(jobs: &promkit::Family<Counter>, outcomes: &[&str]) -> Result<(), promkit::LabelError> {
//!     for outcome in outcomes {
//!         jobs.with_label_values(&[outcome])?.inc();
//!     }
//!     Ok(())
//! }
//!
//! let registry = Registry::new();
//! let jobs = Counter::builder("jobs_total").help("Jobs run, by outcome.").labels(["outcome"]).register(&registry)?;
//! run_jobs(&jobs, &["passed", "passed", "failed"])?;
//!
//! assert_eq!(to_f64(&jobs.get_existing(&["passed"])?.expect("passed jobs"))?, 2.0);
//! // Never touched: absent, and still absent after the read.
//! assert!(jobs.get_existing(&["skipped"])?.is_none());
//! assert_eq!(collect_and_count(&jobs, &[])?, 2);
//! let expected = "# HELP jobs_total Jobs run, by outcome.\n# TYPE jobs_total counter\n\
//!                 jobs_total{outcome=\"failed\"} 1\njobs_total{outcome=\"passed\"} 2\n";
//! gather_and_compare(&registry, expected, &["jobs_total"])?;
//! assert!(gather_and_lint(&registry, &[])?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # UTF-8 names
//!
//! Prometheus 3 accepts any UTF-8 metric and label name, such as OpenTelemetry's dotted
//! `http.server.duration`. A registry takes them when it is built with
//! [`NameValidation::Utf8`] (per registry, not a process-wide switch as Go's
//! `model.NameValidationScheme`); the default, [`NameValidation::Legacy`], refuses them with
//! an error naming both fixes: UTF-8 names on the registry, or the escaped name.
//!
//! A metric is built before it is registered, so the scheme applies at the first step that
//! knows it: `builder.register(&registry)` builds under the registry's scheme,
//! [`Builder::build`] under the builder's own ([`Builder::name_validation`], legacy unless
//! set), and [`Registry::register`] checks every description against the registry's scheme
//! again, so a UTF-8 name never slips into a legacy registry.
//!
//! Names are stored as given; how they reach a scraper is chosen per encoding by an
//! [`EscapingScheme`] ([`EncodeOptions::escaping`](registry::EncodeOptions::escaping), or the
//! scrape's `escaping=` in promkit-http), byte for byte as prometheus/common:
//! [`AllowUtf8`](EscapingScheme::AllowUtf8) writes the quoted syntax of text 1.0.0 and
//! OpenMetrics as Prometheus 3 reads them, the others escape the name to a legacy one
//! ([`model::escape_name`], reversed by [`model::unescape_name`]). The default is
//! [`Underscores`](EscapingScheme::Underscores), Go's `model.NameEscapingScheme`, what a
//! scrape that names no scheme gets (Prometheus 2 among them). Legacy names come out unchanged
//! under every scheme, and protobuf carries names as they are or escaped, never quoted.
//!
//! ```
//! use promkit::registry::EncodeOptions;
//! use promkit::{Buckets, EscapingScheme, Format, Histogram, NameValidation, Registry};
//!
//! let registry = Registry::builder().name_validation(NameValidation::Utf8).build();
//! let latency = Histogram::builder("http.server.duration")
//!     .help("Request latency.")
//!     .buckets(Buckets::new([0.5])?)
//!     .labels(["http.route"])
//!     .register(&registry)?;
//! latency.with_label_values(&["/api"])?.observe(0.2);
//!
//! let encode = |escaping| -> Result<String, promkit::Error> {
//!     let mut out = Vec::new();
//!     registry.encode_with(&mut out, &EncodeOptions::new(Format::Text).escaping(escaping))?;
//!     Ok(String::from_utf8_lossy(&out).into_owned())
//! };
//! assert_eq!(encode(EscapingScheme::AllowUtf8)?, r#"# HELP "http.server.duration" Request latency.
//! ## TYPE "http.server.duration" histogram
//! {"http.server.duration_bucket","http.route"="/api",le="0.5"} 1
//! {"http.server.duration_bucket","http.route"="/api",le="+Inf"} 1
//! {"http.server.duration_sum","http.route"="/api"} 0.2
//! {"http.server.duration_count","http.route"="/api"} 1
//! "#);
//! assert!(encode(EscapingScheme::Underscores)?
//!     .contains("\nhttp_server_duration_count{http_route=\"/api\"} 1\n"));
//! assert!(encode(EscapingScheme::Values)?
//!     .contains("\nU__http_2e_server_2e_duration_count{U__http_2e_route=\"/api\"} 1\n"));
//!
//! // The default registry's legacy validation says what to do instead.
//! let err = Histogram::builder("http.server.duration").register(&Registry::new()).unwrap_err();
//! assert!(err.to_string().contains("; name it `http_server_duration`, or enable UTF-8 names on the registry"));
//! # Ok::<(), promkit::Error>(())
//! ```
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
//! again. Label names outside the legacy character set are pre-rendered the same way, once
//! per [`EscapingScheme`] (quoted, or escaped), so a UTF-8 name costs a scrape nothing more.
//!
//! # Features
//!
//! | feature | default | what |
//! |---|---|---|
//! | `derive` | yes | `#[derive(LabelSet, LabelValue)]` from `promkit-derive` |
//! | `protobuf` | yes | the delimited protobuf exposition ([`Format::Protobuf`]), streamed with no dependency |
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
    Histogram, Info, LabelError, NativeOptions, SeriesRef, StateSet, Summary, TypedFamily, Untyped,
    UntypedFn, WhenEmpty,
};
pub use model::{
    BucketError, Buckets, BuildError, CollectError, Collector, EscapingScheme, Exemplar, ExemplarError,
    NameValidation, Quantiles, exponential_buckets, exponential_buckets_range, linear_buckets,
};
#[cfg(feature = "derive")]
pub use promkit_derive::{LabelSet, LabelValue};
pub use registry::{Error, RegisterError, Registry};

/// The workspace README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// This crate's README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
