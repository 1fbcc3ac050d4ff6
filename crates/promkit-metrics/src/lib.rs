#![doc = include_str!("../README.md")]
//!
//! # How it maps
//!
//! | facade | promkit |
//! |---|---|
//! | `counter!` (`u64`): `increment`, `absolute` (raise to at least the value) | [`Counter`](promkit::Counter) series |
//! | `gauge!` (`f64`): `set`, `increment`, `decrement` | [`GaugeF64`](promkit::GaugeF64) series |
//! | `histogram!` | [`Histogram`](promkit::Histogram) (classic or native) or [`Summary`](promkit::Summary) series: [`HistogramMode`] |
//! | `describe_*!(name, unit, help)` | `# HELP`, and `# UNIT` when the name ends with the unit (OpenMetrics requires it) |
//! | a name, label key | [`names`]: mapped as metrics-exporter-prometheus maps them |
//!
//! Each facade name is one registered collector: a registry that already holds that name
//! (of another type, or with another description) refuses it, the refusal is logged once
//! through `tracing` (target `promkit_metrics`), and the facade's handles for the name do
//! nothing. The application never panics for it. Likewise a name used as a counter and then
//! as a gauge: the first use wins, the second is logged once.
//!
//! One name may carry different label names at different call sites (the facade allows it);
//! each label-name set is its own promkit family, written under one header.
//!
//! **Handles are cached.** The first `counter!("x", "method" => "GET")` creates the series
//! and caches its handle under the facade's key; a later call on the same thread usually
//! finds it in that thread's table of up to 32 recent keys per kind, with no lock, and
//! otherwise with one sharded read lock; either way it clones an `Arc` and allocates nothing
//! (a key new to the thread's table is copied into it once). The cache holds the first 4,096 keys a
//! recorder sees (a key copies its name and labels, which would cost more than the series
//! itself); a key past that bound, typically one with runtime label values, is resolved
//! through its promkit family on each call, which hashes the raw values and allocates nothing
//! in promkit. Memory per series stays at a third of metrics-exporter-prometheus' (see
//! BENCHMARKS.md).
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod family;
mod handles;
pub mod names;
mod recent;
mod recorder;

pub use recorder::{
    HistogramMode, InstallError, Matcher, PromkitRecorder, PromkitRecorderBuilder, install, must_install,
};
