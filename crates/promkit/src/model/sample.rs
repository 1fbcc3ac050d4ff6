//! What one series carries: its value (read when written, for histograms and summaries) and
//! per-sample metadata.

use super::buckets::Buckets;
use super::exemplar::Exemplar;
use super::native::NativeSnapshot;
use super::quantiles::Quantiles;

/// Per-sample extras beyond labels and value.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct SampleMeta<'a> {
    /// An explicit timestamp in milliseconds since the Unix epoch (rarely wanted: Prometheus
    /// stamps scrapes itself).
    pub timestamp_ms: Option<i64>,
    /// When the series was created, in seconds since the epoch: OpenMetrics `_created`.
    pub created: Option<f64>,
    /// A counter's exemplar (histograms give theirs per bucket through [`HistogramSource`]).
    pub exemplar: Option<&'a Exemplar>,
}

impl<'a> SampleMeta<'a> {
    /// Metadata with a creation time.
    pub fn created(created: f64) -> Self {
        Self { created: Some(created), ..Self::default() }
    }

    /// Metadata with an explicit timestamp in milliseconds.
    pub fn at(timestamp_ms: i64) -> Self {
        Self { timestamp_ms: Some(timestamp_ms), ..Self::default() }
    }

    /// The same metadata with an exemplar.
    pub fn with_exemplar(self, exemplar: Option<&'a Exemplar>) -> Self {
        Self { exemplar, ..self }
    }
}

/// One series of a run handed to [`Sink::stored_samples`](super::Sink::stored_samples): its key (the label values in
/// promkit's stored form, see [`Labels::Stored`](super::Labels::Stored)), its value, and when
/// it was created. It stands for `sample(&Labels::Stored { template, values: key }, value,
/// &SampleMeta { created, ..SampleMeta::default() })`.
#[derive(Debug, Clone, Copy)]
pub struct StoredSample<'a> {
    /// The series' label values, escaped and newline-joined in label-name order.
    pub key: &'a str,
    /// The value.
    pub value: Value<'a>,
    /// When the series was created, in seconds since the epoch: OpenMetrics `_created`.
    pub created: Option<f64>,
    /// The key's bytes followed by whatever promkit stores after it (at least the key): an
    /// encoder copies short values with fixed-size moves that read past them.
    pub(crate) readable: &'a [u8],
}

impl<'a> StoredSample<'a> {
    /// A placeholder, to fill an array of them before a run is gathered.
    pub const EMPTY: StoredSample<'static> =
        StoredSample { key: "", value: Value::CounterU64(0), created: None, readable: b"" };

    /// One series: its key, value and creation time.
    pub fn new(key: &'a str, value: Value<'a>, created: Option<f64>) -> Self {
        StoredSample { key, value, created, readable: key.as_bytes() }
    }
}

/// A histogram's current state, read by the encoder when it writes the series.
pub trait HistogramSource {
    /// The bucket upper bounds (without `+Inf`).
    fn bounds(&self) -> &Buckets;
    /// Fills `cumulative` with one cumulative count per bound plus a last one for `+Inf` (equal
    /// to the total count), from one consistent snapshot, and returns the sum.
    fn read(&self, cumulative: &mut Vec<u64>) -> f64;
    /// For histograms that have native buckets: calls `visit` once with the native buckets
    /// and everything else, from one consistent moment, and returns true. Returns false
    /// without calling it for a classic-only histogram.
    ///
    /// The snapshot is borrowed (a histogram may reuse one buffer from scrape to scrape), so
    /// a warm encode copies nothing out of the histogram.
    fn native(&self, visit: &mut dyn FnMut(&NativeSnapshot)) -> bool {
        let _ = visit;
        false
    }
    /// Calls `visit` with the exemplar of bucket `i` (`i == bounds().len()` is `+Inf`) and
    /// returns true, if one was recorded; returns false without calling it otherwise.
    ///
    /// The exemplar is borrowed where it is kept (under its lock, for a live histogram), so
    /// writing it allocates nothing.
    fn exemplar(&self, i: usize, visit: &mut dyn FnMut(&Exemplar)) -> bool {
        let _ = (i, visit);
        false
    }
}

/// A summary's current state, read by the encoder when it writes the series.
pub trait SummarySource {
    /// The quantiles reported (possibly none).
    fn quantiles(&self) -> &Quantiles;
    /// Fills `values` with one value per quantile (NaN when nothing was observed in the
    /// window, as Go writes it), from one consistent snapshot, and returns `(count, sum)`.
    fn read(&self, values: &mut Vec<f64>) -> (u64, f64);
}

/// The value of one series.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Value<'a> {
    /// An integer counter total.
    CounterU64(u64),
    /// A float counter total.
    CounterF64(f64),
    /// An integer gauge.
    GaugeI64(i64),
    /// A float gauge.
    GaugeF64(f64),
    /// An untyped value.
    Untyped(f64),
    /// A histogram, read when written.
    Histogram(&'a dyn HistogramSource),
    /// A summary, read when written.
    Summary(&'a dyn SummarySource),
}

impl std::fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::CounterU64(v) => write!(f, "CounterU64({v})"),
            Value::CounterF64(v) => write!(f, "CounterF64({v})"),
            Value::GaugeI64(v) => write!(f, "GaugeI64({v})"),
            Value::GaugeF64(v) => write!(f, "GaugeF64({v})"),
            Value::Untyped(v) => write!(f, "Untyped({v})"),
            Value::Histogram(h) => write!(f, "Histogram({} buckets)", h.bounds().len()),
            Value::Summary(s) => write!(f, "Summary({} quantiles)", s.quantiles().len()),
        }
    }
}
