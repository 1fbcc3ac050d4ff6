//! The data model metric types and formats share: what a family and a series are, how
//! labels are stored, and the [`Sink`] contract through which every metric reaches an encoder.
//!
//! Metric types produce this model (through [`Collector::collect`]); encoders consume it (as
//! [`Sink`]s); gathering turns it into the owned [`MetricFamily`] snapshot, which a parser
//! produces too. Nothing here knows a metric type, a format or the registry.

pub(crate) mod bucket_search;
mod buckets;
mod collector;
pub(crate) mod desc;
pub(crate) mod error;
mod exemplar;
mod kind;
mod labels;
mod native;
mod quantiles;
mod sample;
mod snapshot;
mod validation;

pub use buckets::{Buckets, DEFAULT_BUCKETS, exponential_buckets, exponential_buckets_range, linear_buckets};
#[doc(hidden)]
pub use collector::LimitStats;
pub use collector::{Collector, Sink};
pub use desc::Desc;
pub use error::{BucketError, BuildError, CollectError, ExemplarError};
pub use exemplar::{EXEMPLAR_MAX_RUNES, Exemplar};
pub use kind::{FamilyHeader, MetricType};
pub use labels::{LabelTemplate, Labels};
pub use native::NativeSnapshot;
pub use quantiles::Quantiles;
pub use sample::{HistogramSource, SampleMeta, StoredSample, SummarySource, Value};
pub use snapshot::{MetricFamily, Sample, SampleValue, SnapshotHistogram, SnapshotSummary};
pub use validation::NameValidation;

/// Prometheus 3's name escaping, from the crate's formatting rules: byte-identical to
/// prometheus/common's `model.EscapeName` and `UnescapeName`.
pub use crate::syntax::name_escape::{EscapingScheme, escape_name, unescape_name};
