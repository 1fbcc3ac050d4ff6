//! promkit: Prometheus instrumentation for Rust.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod encode;
mod error;
pub mod labels;
mod metrics;
pub mod registry;
mod sync;

pub use encode::{
    Format, OPENMETRICS_CONTENT_TYPE, OpenMetricsEncoder, TEXT_CONTENT_TYPE, TextEncoder,
};
pub use error::{BucketError, BuildError, CollectError, Error, LabelError, RegisterError};
pub use labels::{LabelSet, LabelValue};
pub use metrics::{
    Buckets, Builder, Counter, CounterF64, CounterFn, DEFAULT_BUCKETS, Family, Gauge, GaugeF64,
    GaugeFn, Histogram, HistogramOptions, InflightGuard, LocalCounter, Metric,
    OVERFLOW_LABEL_VALUE, Timer, TypedFamily, Untyped, exponential_buckets,
    exponential_buckets_range, linear_buckets,
};
#[cfg(feature = "derive")]
pub use promkit_derive::{LabelSet, LabelValue};
pub use registry::{Collector, CollectorId, Registry, default_registry};
