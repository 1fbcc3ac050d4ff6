//! `Collector` and `Sink`: how metrics reach an encoder without an intermediate copy.
//!
//! A collector walks its families and series and hands each one to a [`Sink`]; the text and
//! OpenMetrics encoders are sinks that write bytes directly, and [`gather`](crate::Registry::gather)
//! is a sink that builds an owned snapshot. Series labels arrive pre-escaped from promkit's own
//! metrics, so an encoder copies them instead of escaping them on every scrape.

use crate::error::CollectError;
use crate::metrics::Exemplar;
use crate::metrics::histogram::Buckets as Bounds;

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

/// The header of one family, given to a [`Sink`] before its samples.
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

/// The labels of one series, in the form the collector has them.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Labels<'a> {
    /// No labels.
    None,
    /// promkit's stored form: the label names come from a [`LabelTemplate`] and the values are
    /// already escaped, sorted by label name and joined by newlines (which an escaped value
    /// never contains raw).
    Stored {
        /// Names and constant labels of the family.
        template: &'a LabelTemplate,
        /// The escaped values, newline-joined.
        values: &'a str,
    },
    /// Unescaped pairs, written in the given order (sorted by name by convention).
    Pairs(&'a [(&'a str, &'a str)]),
    /// Unescaped owned pairs, as in a gathered snapshot.
    Owned(&'a [(String, String)]),
}

impl Labels<'_> {
    /// True when there is no label to write.
    pub fn is_empty(&self) -> bool {
        match self {
            Labels::None => true,
            Labels::Stored { template, .. } => template.is_empty(),
            Labels::Pairs(p) => p.is_empty(),
            Labels::Owned(p) => p.is_empty(),
        }
    }

    /// Appends the labels as `name="escaped",...` (no braces).
    pub(crate) fn write_escaped(&self, out: &mut Vec<u8>) {
        match *self {
            Labels::None => {}
            Labels::Stored { template, values } => template.write(out, values),
            Labels::Pairs(pairs) => write_pairs(out, pairs.iter().map(|(n, v)| (*n, *v))),
            Labels::Owned(pairs) => {
                write_pairs(out, pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            }
        }
    }

    /// Calls `f(name, value)` with unescaped pairs in written order.
    pub fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        match *self {
            Labels::None => {}
            Labels::Stored { template, values } => template.for_each(values, &mut f),
            Labels::Pairs(pairs) => pairs.iter().for_each(|(n, v)| f(n, v)),
            Labels::Owned(pairs) => pairs.iter().for_each(|(n, v)| f(n, v)),
        }
    }
}

fn write_pairs<'a>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        crate::encode::escape::write_label_value(out, value);
        out.push(b'"');
    }
}

/// The label names of a family (variable and constant), pre-rendered so a series' stored values
/// slot in between: `lits[0] v0 lits[1] v1 … lits[n]`.
#[derive(Debug, Clone)]
pub struct LabelTemplate {
    lits: Box<[Box<[u8]>]>,
    /// Total length of the literals, to reserve once per series.
    len: usize,
    /// `(name, Some(const value) | None for the next variable value)`, sorted by name.
    names: Box<[TemplateLabel]>,
}

impl LabelTemplate {
    /// Builds the template for variable label names `vars` (in sorted order) and constant labels.
    pub(crate) fn new(vars_sorted: &[&str], consts: &[(String, String)]) -> Self {
        let mut names: Vec<TemplateLabel> = vars_sorted
            .iter()
            .map(|n| (Box::from(*n), None))
            .chain(consts.iter().map(|(n, v)| (Box::from(n.as_str()), Some(Box::from(v.as_str())))))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut lits = Vec::with_capacity(vars_sorted.len() + 1);
        let mut cur = Vec::new();
        for (i, (name, konst)) in names.iter().enumerate() {
            if i > 0 {
                cur.push(b',');
            }
            cur.extend_from_slice(name.as_bytes());
            cur.extend_from_slice(b"=\"");
            if let Some(v) = konst {
                crate::encode::escape::write_label_value(&mut cur, v);
            } else {
                // A variable value goes here: the literal ends, the next starts with its quote.
                lits.push(std::mem::take(&mut cur).into_boxed_slice());
            }
            cur.push(b'"');
        }
        lits.push(cur.into_boxed_slice());
        let len = lits.iter().map(|l| l.len()).sum();
        Self { lits: lits.into_boxed_slice(), len, names: names.into_boxed_slice() }
    }

    /// True when the family has no label at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    #[inline]
    fn write(&self, out: &mut Vec<u8>, values: &str) {
        out.reserve(self.len + values.len());
        let (first, rest) = self.lits.split_first().map_or((&[][..], &[][..]), |(f, r)| (&f[..], r));
        out.extend_from_slice(first);
        // Segments are short: a plain byte scan beats the general `str::split` machinery.
        let mut values = values.as_bytes();
        let last = rest.len().saturating_sub(1);
        for (i, lit) in rest.iter().enumerate() {
            let end = if i == last {
                values.len()
            } else {
                values.iter().position(|&b| b == b'\n').unwrap_or(values.len())
            };
            out.extend_from_slice(&values[..end]);
            out.extend_from_slice(lit);
            values = values.get(end + 1..).unwrap_or_default();
        }
    }

    fn for_each(&self, values: &str, f: &mut impl FnMut(&str, &str)) {
        let mut segs = values.split('\n');
        for (name, konst) in self.names.iter() {
            match konst {
                Some(v) => f(name, v),
                None => {
                    f(name, &crate::encode::escape::unescape_label_value(segs.next().unwrap_or_default()))
                }
            }
        }
    }
}

/// One label of a template: its name, and its value when it is constant.
type TemplateLabel = (Box<str>, Option<Box<str>>);

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

/// A histogram's current state, read by the encoder when it writes the series.
pub trait HistogramSource {
    /// The bucket upper bounds (without `+Inf`).
    fn bounds(&self) -> &Bounds;
    /// Fills `cumulative` with one cumulative count per bound plus a last one for `+Inf` (equal
    /// to the total count), from one consistent snapshot, and returns the sum.
    fn read(&self, cumulative: &mut Vec<u64>) -> f64;
    /// The native buckets and everything else, from one consistent moment, for histograms
    /// that have native buckets.
    fn native(&self) -> Option<crate::metrics::NativeSnapshot> {
        None
    }
    /// The exemplar of bucket `i` (`i == bounds().len()` is `+Inf`), if one was recorded.
    fn exemplar(&self, i: usize) -> Option<Exemplar> {
        let _ = i;
        None
    }
}

/// A summary's current state, read by the encoder when it writes the series.
pub trait SummarySource {
    /// The quantiles reported (possibly none).
    fn quantiles(&self) -> &crate::metrics::Quantiles;
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

/// Receives families and samples from collectors: the encoders and the gatherer implement it.
pub trait Sink {
    /// Starts a family; every following sample belongs to it until the next call.
    fn family(&mut self, header: &FamilyHeader<'_>);
    /// One series of the current family.
    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>);
}

/// Describes one family a collector produces, for the registry's consistency checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desc {
    /// Family name.
    pub name: String,
    /// Help text.
    pub help: String,
    /// Unit, or empty.
    pub unit: String,
    /// Type.
    pub kind: MetricType,
    /// Variable label names, in declared order.
    pub label_names: Vec<String>,
    /// Constant labels, sorted by name.
    pub const_labels: Vec<(String, String)>,
}

/// Something the registry can ask for metrics at scrape time.
///
/// promkit's metric types and families implement it; implement it yourself to export values
/// you compute at scrape time (as Go's `Collector` with `NewConstMetric`). `describe` is
/// called once, at registration; `collect` on every scrape, from any thread. Samples are
/// "const metrics": values handed to the sink with their labels, nothing stored.
///
/// ```
/// use promkit::registry::{Collector, Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value};
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
pub trait Collector: Send + Sync + 'static {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &LabelTemplate, values: &str) -> String {
        let mut out = Vec::new();
        t.write(&mut out, values);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn template_interleaves_constants_in_name_order() {
        let t = LabelTemplate::new(&["code", "method"], &[("app".into(), "x\"y".into())]);
        assert_eq!(render(&t, "200\nGET"), r#"app="x\"y",code="200",method="GET""#);
        let t = LabelTemplate::new(&["a", "z"], &[("m".into(), "c".into())]);
        assert_eq!(render(&t, "1\n2"), r#"a="1",m="c",z="2""#);
        let t = LabelTemplate::new(&[], &[("m".into(), "c".into())]);
        assert_eq!(render(&t, ""), r#"m="c""#);
        let t = LabelTemplate::new(&["a"], &[]);
        assert_eq!(render(&t, "v"), r#"a="v""#);
        assert!(LabelTemplate::new(&[], &[]).is_empty());
    }

    #[test]
    fn template_yields_unescaped_pairs() {
        let t = LabelTemplate::new(&["a", "b"], &[("c".into(), "k".into())]);
        let mut seen = Vec::new();
        t.for_each("x\\\"y\nline\\n", &mut |n, v| seen.push(format!("{n}={v}")));
        assert_eq!(seen, ["a=x\"y", "b=line\n", "c=k"]);
    }
}
