//! What a family is: its type and the header a [`Sink`](super::Sink) receives before its samples.

/// What kind of metric a family holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MetricType {
    /// A monotonically increasing total.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets, with their count and sum.
    Histogram,
    /// Observations summarised by quantiles, count and sum.
    Summary,
    /// A value of unknown kind.
    Untyped,
}

impl MetricType {
    /// The `# TYPE` word in text 0.0.4.
    pub fn as_text(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
            Self::Untyped => "untyped",
        }
    }

    /// The sample-name suffixes this type adds in any format, used for collision checks.
    pub(crate) fn suffixes(self) -> &'static [&'static str] {
        match self {
            Self::Counter => &["_total", "_created"],
            Self::Gauge | Self::Untyped => &[],
            Self::Histogram => &["_bucket", "_sum", "_count", "_created"],
            Self::Summary => &["_sum", "_count", "_created"],
        }
    }
}

/// The header of one family, given to a [`Sink`](super::Sink) before its samples.
#[derive(Debug, Clone, Copy)]
pub struct FamilyHeader<'a> {
    /// The family name as registered (a counter keeps its `_total`).
    pub name: &'a str,
    /// The help text, unescaped.
    pub help: &'a str,
    /// The unit (`seconds`), or empty.
    pub unit: &'a str,
    /// The family's type.
    pub kind: MetricType,
}
