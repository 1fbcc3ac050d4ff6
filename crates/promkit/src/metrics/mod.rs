//! Metric types, one file each, the families that hold labelled series of them, and the
//! [`Builder`] that declares both (its shapes, options and guards are named here).

mod builder;
mod counter;
mod entries;
mod error;
mod family;
mod func;
mod gauge;
mod gauge_histogram;
pub(crate) mod histogram;
mod info;
mod keys;
mod series_ref;
mod slab;
mod spread;
mod stateset;
mod store;
pub(crate) mod summary;
mod typed;

pub use builder::{Builder, Described, Func, Labelled, Single, Typed, WhenEmpty};
pub use counter::{Counter, CounterF64, LocalCounter};
pub use error::LabelError;
pub use family::{Family, OVERFLOW_LABEL_VALUE};
pub use func::{CounterFn, GaugeFn, UntypedFn};
pub use gauge::{Gauge, GaugeF64, InflightGuard, Untyped};
pub use gauge_histogram::{GaugeHistogram, GaugeHistogramOptions};
pub use histogram::{DEFAULT_ZERO_THRESHOLD, Histogram, HistogramOptions, NativeOptions, Timer};
pub use info::Info;
pub use series_ref::SeriesRef;
pub use stateset::{EnumStateSet, MAX_STATES, StateSet, StateSetOptions};
pub use summary::{Summary, SummaryOptions};
pub use typed::TypedFamily;

use crate::model::{BuildError, Desc, Labels, MetricType, Sink, Value};

/// A metric type that can be a series in a [`Family`]: a cheap-to-clone handle on shared state.
pub trait Metric: Clone + Send + Sync + 'static {
    /// What every series of a family is built with (histogram buckets, say).
    type Options: Clone + Default + Send + Sync + std::fmt::Debug + 'static;

    /// The family type this metric writes.
    const KIND: MetricType;

    /// Checks the options against the validated description and completes them, once, when
    /// the metric or family is built (a stateset takes its state label's name from the family
    /// name, and refuses to be built without states). Most types keep the default.
    ///
    /// # Errors
    /// A [`BuildError`] naming what to fix.
    fn prepare(options: &mut Self::Options, desc: &Desc) -> Result<(), BuildError> {
        let _ = (options, desc);
        Ok(())
    }

    /// A new series at its zero value.
    fn create(options: &Self::Options) -> Self;

    /// Hands this series' current value to `sink`, with these labels.
    fn write(&self, options: &Self::Options, labels: &Labels<'_>, sink: &mut dyn Sink);

    /// This series' current value and creation time, when that is all it has to write (one
    /// sample, no exemplar): a family then hands runs of such series to the sink at once
    /// ([`Sink::stored_samples`]). `None` (the default)
    /// sends the series through [`write`](Self::write).
    fn plain_value(&self) -> Option<(Value<'_>, Option<f64>)> {
        None
    }

    /// Sets the series back to its zero value (used when a dense family removes a series).
    fn reset(&self);
}
