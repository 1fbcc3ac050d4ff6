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
    /// OpenMetrics `info`: a series whose labels are the information, its value always 1
    /// (`build_info{version="1.2"} 1`). The family name ends in `_info`, which OpenMetrics
    /// strips from its `# TYPE` line; text 0.0.4 and protobuf write it as a gauge, as Go and
    /// Prometheus map it.
    Info,
    /// OpenMetrics `stateset`: one series per state, labelled with the family's own name as
    /// the label name, valued 1 for the states that hold and 0 for the others. Text 0.0.4 and
    /// protobuf write it as a gauge.
    StateSet,
    /// OpenMetrics `gaugehistogram`: a histogram whose buckets go down as well as up (items in
    /// a queue by age, say), written with `_gcount` and `_gsum` in OpenMetrics, as protobuf's
    /// `GAUGE_HISTOGRAM`, and as a histogram in text 0.0.4.
    GaugeHistogram,
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
            // Text 0.0.4 has none of OpenMetrics' extra types: Go and Prometheus read them
            // as these.
            Self::Info | Self::StateSet => "gauge",
            Self::GaugeHistogram => "histogram",
        }
    }

    /// The `# TYPE` word in OpenMetrics 1.0.0 (`unknown` for untyped; a counter without
    /// `_total` is also written as `unknown`, which the encoder decides).
    pub fn as_openmetrics(self) -> &'static str {
        match self {
            Self::Untyped => "unknown",
            Self::Info => "info",
            Self::StateSet => "stateset",
            Self::GaugeHistogram => "gaugehistogram",
            other => other.as_text(),
        }
    }

    /// The suffix the family name carries and OpenMetrics strips from its `# TYPE` line
    /// (`_total` for a counter, `_info` for an info), or empty.
    pub fn family_suffix(self) -> &'static str {
        match self {
            Self::Counter => "_total",
            Self::Info => "_info",
            _ => "",
        }
    }

    /// The sample-name suffixes this type adds in any format, used for collision checks.
    pub(crate) fn suffixes(self) -> &'static [&'static str] {
        match self {
            Self::Counter => &["_total", "_created"],
            Self::Gauge | Self::Untyped | Self::StateSet => &[],
            // The name already ends in `_info`, and that is its one sample.
            Self::Info => &[],
            // Text 0.0.4 writes a gauge histogram as a histogram: `_sum` and `_count` too.
            Self::GaugeHistogram => &["_bucket", "_gsum", "_gcount", "_sum", "_count"],
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
