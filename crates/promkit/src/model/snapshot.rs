//! The owned snapshot of families and series: what gathering produces (Go's `dto` types), what
//! a parser reads into, and what can be replayed into any [`Sink`].

use super::buckets::Buckets;
use super::collector::Sink;
use super::exemplar::Exemplar;
use super::kind::{FamilyHeader, MetricType};
use super::labels::Labels;
use super::native::NativeSnapshot;
use super::quantiles::Quantiles;
use super::sample::{HistogramSource, SampleMeta, SummarySource, Value};

/// One family as gathered: the owned form of what the encoders write (Go's `dto.MetricFamily`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// Family name.
    pub name: String,
    /// Help text, unescaped.
    pub help: String,
    /// Unit, or empty.
    pub unit: String,
    /// Type.
    pub kind: MetricType,
    /// Series, sorted by label values.
    pub samples: Vec<Sample>,
}

/// One series of a gathered family.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label pairs, unescaped, in written order (sorted by name).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: SampleValue,
    /// An explicit timestamp in milliseconds.
    pub timestamp_ms: Option<i64>,
    /// Creation time in seconds since the epoch.
    pub created: Option<f64>,
    /// A counter's exemplar.
    pub exemplar: Option<Exemplar>,
}

/// The value of a gathered series.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SampleValue {
    /// A counter total.
    Counter(f64),
    /// A gauge value.
    Gauge(f64),
    /// An untyped value.
    Untyped(f64),
    /// A histogram.
    Histogram(SnapshotHistogram),
    /// A summary.
    Summary(SnapshotSummary),
}

/// A summary's state at gather time.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotSummary {
    /// The quantiles reported.
    pub quantiles: Quantiles,
    /// One value per quantile.
    pub values: Vec<f64>,
    /// Number of observations.
    pub count: u64,
    /// Sum of observations.
    pub sum: f64,
}

impl SummarySource for SnapshotSummary {
    fn quantiles(&self) -> &Quantiles {
        &self.quantiles
    }

    fn read(&self, values: &mut Vec<f64>) -> (u64, f64) {
        values.clear();
        values.extend_from_slice(&self.values);
        (self.count, self.sum)
    }
}

impl SampleValue {
    /// The value of a counter, gauge or untyped series; a histogram's count.
    pub fn as_f64(&self) -> f64 {
        match self {
            SampleValue::Counter(v) | SampleValue::Gauge(v) | SampleValue::Untyped(v) => *v,
            // counts beyond 2^53 lose precision, as in Go
            SampleValue::Histogram(h) => h.count() as f64,
            SampleValue::Summary(s) => s.count as f64,
        }
    }
}

/// A histogram's state at gather time.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotHistogram {
    /// The bucket bounds.
    pub buckets: Buckets,
    /// Cumulative counts, one per bound plus the last for `+Inf`.
    pub cumulative: Vec<u64>,
    /// Sum of observations.
    pub sum: f64,
    /// Exemplars by bucket (`+Inf` last); empty when none was recorded.
    pub exemplars: Vec<Option<Exemplar>>,
    /// The native buckets, for histograms that have them.
    pub native: Option<NativeSnapshot>,
}

impl SnapshotHistogram {
    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

impl HistogramSource for SnapshotHistogram {
    fn bounds(&self) -> &Buckets {
        &self.buckets
    }

    fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        cumulative.clear();
        cumulative.extend_from_slice(&self.cumulative);
        self.sum
    }

    fn exemplar(&self, i: usize, visit: &mut dyn FnMut(&Exemplar)) -> bool {
        self.exemplars.get(i).and_then(Option::as_ref).map(visit).is_some()
    }

    fn native(&self, visit: &mut dyn FnMut(&NativeSnapshot)) -> bool {
        self.native.as_ref().map(visit).is_some()
    }
}

impl MetricFamily {
    /// Hands this family to a sink, as a collector would.
    pub fn replay(&self, sink: &mut dyn Sink) {
        sink.family(&FamilyHeader { name: &self.name, help: &self.help, unit: &self.unit, kind: self.kind });
        for s in &self.samples {
            let labels = if s.labels.is_empty() { Labels::None } else { Labels::Owned(&s.labels) };
            let meta = SampleMeta {
                timestamp_ms: s.timestamp_ms,
                created: s.created,
                exemplar: s.exemplar.as_ref(),
            };
            let value = match &s.value {
                SampleValue::Counter(v) => Value::CounterF64(*v),
                SampleValue::Gauge(v) => Value::GaugeF64(*v),
                SampleValue::Untyped(v) => Value::Untyped(*v),
                SampleValue::Histogram(h) => Value::Histogram(h),
                SampleValue::Summary(s) => Value::Summary(s),
            };
            sink.sample(&labels, value, &meta);
        }
    }
}
