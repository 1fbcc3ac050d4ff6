//! What the low-level parsers yield: metadata and samples borrowed from the input line.

use std::borrow::Cow;

use crate::labels::{Dialect, Labels, unescape};

/// A family's type, as the formats name them (OpenMetrics has more than promkit's model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricKind {
    /// `counter`
    Counter,
    /// `gauge`
    Gauge,
    /// `histogram`
    Histogram,
    /// OpenMetrics `gaugehistogram`
    GaugeHistogram,
    /// `summary`
    Summary,
    /// OpenMetrics `stateset`
    StateSet,
    /// OpenMetrics `info`
    Info,
    /// OpenMetrics `unknown`, text `untyped`, or no `# TYPE` at all.
    Unknown,
}

impl MetricKind {
    /// The OpenMetrics `# TYPE` word.
    pub fn as_openmetrics(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::StateSet => "stateset",
            Self::Info => "info",
            Self::Unknown => "unknown",
        }
    }

    pub(crate) fn from_openmetrics(word: &str) -> Option<Self> {
        Some(match word {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "gaugehistogram" => Self::GaugeHistogram,
            "summary" => Self::Summary,
            "stateset" => Self::StateSet,
            "info" => Self::Info,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }

    /// The sample-name suffixes a family of this type has in OpenMetrics (`""` is the bare name).
    pub(crate) fn om_suffixes(self) -> &'static [Suffix] {
        use Suffix::*;
        match self {
            Self::Counter => &[Total, Created],
            Self::Gauge | Self::StateSet | Self::Unknown => &[Bare],
            Self::Histogram => &[Bucket, Count, Sum, Created],
            Self::GaugeHistogram => &[Bucket, GCount, GSum],
            Self::Summary => &[Bare, Count, Sum, Created],
            Self::Info => &[Info],
        }
    }
}

/// The part of a sample name after its family name: which value of the metric it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Suffix {
    /// The family name itself (gauge, unknown, stateset, a summary quantile, a text counter).
    Bare,
    /// `_total`
    Total,
    /// `_created`
    Created,
    /// `_bucket`
    Bucket,
    /// `_count`
    Count,
    /// `_sum`
    Sum,
    /// `_gcount`
    GCount,
    /// `_gsum`
    GSum,
    /// `_info`
    Info,
}

impl Suffix {
    /// The suffix text (`""` for [`Suffix::Bare`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bare => "",
            Self::Total => "_total",
            Self::Created => "_created",
            Self::Bucket => "_bucket",
            Self::Count => "_count",
            Self::Sum => "_sum",
            Self::GCount => "_gcount",
            Self::GSum => "_gsum",
            Self::Info => "_info",
        }
    }
}

/// A HELP text as written, unescaped on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Help<'a> {
    raw: &'a str,
    dialect: Dialect,
}

impl<'a> Help<'a> {
    pub(crate) fn new(raw: &'a str, dialect: Dialect) -> Self {
        Self { raw, dialect }
    }

    /// The text as written, escapes intact.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The unescaped text (borrowed when it has no escape).
    pub fn text(&self) -> Cow<'a, str> {
        match self.dialect {
            Dialect::OpenMetrics => unescape(self.raw, Dialect::OpenMetrics),
            Dialect::Text => unescape_text_help(self.raw),
        }
    }
}

/// Text 0.0.4 HELP escapes only `\\` and `\n`; any other backslash is kept as written.
fn unescape_text_help(s: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\\', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('\\')) => {
                chars.next();
                out.push('\\');
            }
            ('\\', Some('n')) => {
                chars.next();
                out.push('\n');
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A sample timestamp in the unit its format uses.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Timestamp {
    /// Text 0.0.4: integer milliseconds since the epoch.
    Millis(i64),
    /// OpenMetrics: float seconds since the epoch.
    Seconds(f64),
}

impl Timestamp {
    /// Milliseconds since the epoch (OpenMetrics seconds rounded to the nearest millisecond).
    pub fn as_millis(self) -> i64 {
        match self {
            Self::Millis(ms) => ms,
            #[allow(clippy::cast_possible_truncation)] // saturating, and checked finite
            Self::Seconds(s) => (s * 1000.0).round() as i64,
        }
    }
}

/// An exemplar on an OpenMetrics sample line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exemplar<'a> {
    /// Its labels.
    pub labels: Labels<'a>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in seconds, if written.
    pub timestamp: Option<f64>,
}

/// One sample line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    /// The full sample name (`http_requests_total`).
    pub name: &'a str,
    /// How the name extends its family's (`_total`); the family name is `name` without it.
    pub suffix: Suffix,
    /// The family's type.
    pub kind: MetricKind,
    /// The labels, `le` and `quantile` included.
    pub labels: Labels<'a>,
    /// The value of `le` (a `_bucket` sample) or `quantile` (a summary's bare sample).
    pub bound: Option<f64>,
    /// The value.
    pub value: f64,
    /// An explicit timestamp.
    pub timestamp: Option<Timestamp>,
    /// An exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
    /// The 1-based line it was on.
    pub line: u64,
}

impl<'a> Sample<'a> {
    /// The family name: the sample name without its suffix.
    pub fn family(&self) -> &'a str {
        &self.name[..self.name.len() - self.suffix.as_str().len()]
    }
}

/// One item of an exposition, in input order.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Record<'a> {
    /// `# HELP name text`
    Help {
        /// Family name.
        name: &'a str,
        /// The text.
        help: Help<'a>,
    },
    /// `# TYPE name kind`
    Type {
        /// Family name.
        name: &'a str,
        /// The type.
        kind: MetricKind,
    },
    /// `# UNIT name unit` (OpenMetrics only); an empty unit is reported as written.
    Unit {
        /// Family name.
        name: &'a str,
        /// The unit.
        unit: &'a str,
    },
    /// A sample line.
    Sample(Sample<'a>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_unescapes_per_format() {
        assert_eq!(Help::new(r#"a\\b\nc\"d"#, Dialect::Text).text(), "a\\b\nc\\\"d");
        assert_eq!(Help::new(r#"a\\b\nc\"d"#, Dialect::OpenMetrics).text(), "a\\b\nc\"d");
        assert_eq!(Help::new("x", Dialect::Text).raw(), "x");
    }

    #[test]
    fn timestamps_convert_to_millis() {
        assert_eq!(Timestamp::Seconds(1.5).as_millis(), 1500);
        assert_eq!(Timestamp::Millis(-3).as_millis(), -3);
        assert_eq!(MetricKind::from_openmetrics("untyped"), None);
        assert_eq!(MetricKind::GaugeHistogram.as_openmetrics(), "gaugehistogram");
        assert_eq!(Suffix::GSum.as_str(), "_gsum");
    }
}
