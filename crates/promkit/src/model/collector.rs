//! `Collector` and `Sink`: how metrics reach an encoder without an intermediate copy.
//!
//! A collector walks its families and series and hands each one to a [`Sink`]; the text and
//! OpenMetrics encoders are sinks that write bytes directly, and gathering is a sink that
//! builds an owned snapshot ([`MetricFamily`](super::MetricFamily)). Series labels arrive
//! pre-escaped from promkit's own metrics, so an encoder copies them instead of escaping them
//! on every scrape.

use super::desc::Desc;
use super::error::CollectError;
use super::kind::FamilyHeader;
use super::labels::{LabelTemplate, Labels};
use super::sample::{SampleMeta, StoredSample, Value};

/// Receives families and samples from collectors: the encoders and the gatherer implement it.
pub trait Sink {
    /// Starts a family; every following sample belongs to it until the next call.
    fn family(&mut self, header: &FamilyHeader<'_>);
    /// One series of the current family.
    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>);

    /// A run of series of the current family in promkit's stored form (no timestamp, no
    /// exemplar), in order: what promkit's families hand over, one call per run instead of
    /// one per series, so an encoder sets up its output once per run. The default passes
    /// each to [`sample`](Self::sample).
    fn stored_samples(&mut self, template: &LabelTemplate, samples: &[StoredSample<'_>]) {
        for s in samples {
            let meta = SampleMeta { created: s.created, ..SampleMeta::default() };
            self.sample(&Labels::Stored { template, values: s.key }, s.value, &meta);
        }
    }
}

/// Something the registry can ask for metrics at scrape time.
///
/// promkit's metric types and families implement it; implement it yourself to export values
/// you compute at scrape time (as Go's `Collector` with `NewConstMetric`). `describe` is
/// called once, at registration; `collect` on every scrape, from any thread. Samples are
/// "const metrics": values handed to the sink with their labels, nothing stored.
///
/// ```
/// use promkit::model::{Collector, Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value};
/// use promkit::{CollectError, Registry};
///
/// /// Exports the size of each queue of a system promkit does not own.
/// struct Queues;
///
/// impl Collector for Queues {
///     fn describe(&self) -> Vec<Desc> {
///         vec![Desc {
///             name: "queue_length".into(),
///             help: "Items waiting, by queue.".into(),
///             unit: String::new(),
///             kind: MetricType::Gauge,
///             label_names: vec!["queue".into()],
///             const_labels: vec![],
///         }]
///     }
///
///     fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
///         let header = FamilyHeader { name: "queue_length", help: "Items waiting, by queue.", unit: "", kind: MetricType::Gauge };
///         sink.family(&header);
///         for (queue, len) in [("email", 3.0), ("sms", 0.0)] {
///             sink.sample(&Labels::Pairs(&[("queue", queue)]), Value::GaugeF64(len), &SampleMeta::default());
///         }
///         Ok(())
///     }
/// }
///
/// let registry = Registry::new();
/// registry.register(Queues)?;
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP queue_length Items waiting, by queue.
/// ## TYPE queue_length gauge
/// queue_length{queue=\"email\"} 3
/// queue_length{queue=\"sms\"} 0
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
pub trait Collector: std::any::Any + Send + Sync {
    /// The families `collect` will produce (used for registration-time checks).
    fn describe(&self) -> Vec<Desc>;

    /// Hands the current families and samples to `sink`.
    ///
    /// # Errors
    /// A collector that cannot produce its values (a file it reads is gone, say) returns a
    /// [`CollectError`]; the registry and the HTTP handler apply their error policy to it.
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError>;

    /// For families with a series limit: the overflow statistics the registry exports as
    /// `promkit_series_overflow_total{family="..."}`. Other collectors keep the default.
    #[doc(hidden)]
    fn series_limit(&self) -> Option<std::sync::Arc<dyn LimitStats>> {
        None
    }
}

/// How often a family with a series limit sent a lookup to its overflow series.
#[doc(hidden)]
pub trait LimitStats: Send + Sync + 'static {
    /// The family name.
    fn family(&self) -> &str;
    /// Lookups that found the limit reached.
    fn overflowed(&self) -> u64;
}
