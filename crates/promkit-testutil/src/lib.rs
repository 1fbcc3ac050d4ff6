//! Test helpers for promkit metrics, after client_golang's `testutil`, and a linter after its
//! `promlint`.
//!
//! This is its own crate rather than a `testutil` feature of `promkit`: comparing against
//! expected text means parsing it, and the core crate must not depend on a parser. Tests add
//! it under `[dev-dependencies]`; production builds never see it.
//!
//! Comparisons parse both sides into promkit's model, so order, whitespace and float spelling
//! do not matter while types, help and values do. A mismatch is a [`Mismatch`] whose
//! `Display` is a line diff of the two sides as promkit's text encoder writes them.
#![doc = include_str!("../README.md")]

use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use promkit::encode::{Format as EncodeFormat, encode_families};
use promkit::metrics::Metric;
use promkit::model::{Collector, FamilyHeader, Labels, MetricFamily, MetricType, SampleMeta, Sink, Value};
use promkit::{CollectError, Registry};
use promkit_parse::ParseError;
use promkit_parse::model::{Format, parse};

pub mod lint;

pub use lint::{Problem, lint};

/// Why a helper could not give an answer (a comparison that found a difference is a
/// [`Error::Mismatch`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The metric or collector has no series, or more than one.
    SeriesCount(usize),
    /// The single series is a histogram or summary, which has no single value.
    NotAScalar(MetricType),
    /// Collecting or gathering failed.
    Collect(CollectError),
    /// The expected text (or a scraped body) does not parse.
    Parse(ParseError),
    /// The scrape failed.
    Scrape(String),
    /// Both sides parsed, and differ.
    Mismatch(Mismatch),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SeriesCount(n) => write!(f, "collected {n} series, want exactly one"),
            Self::NotAScalar(kind) => {
                write!(f, "a {} series has no single value", kind.as_text())
            }
            Self::Collect(e) => write!(f, "collecting failed: {e}"),
            Self::Parse(e) => write!(f, "the exposition does not parse: {e}"),
            Self::Scrape(e) => write!(f, "scrape failed: {e}"),
            Self::Mismatch(m) => m.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Collect(e) => Some(e),
            Self::Parse(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CollectError> for Error {
    fn from(e: CollectError) -> Self {
        Self::Collect(e)
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

/// Two expositions that differ: both sides in canonical text form, and a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was expected, as promkit's text encoder writes it.
    pub expected: String,
    /// What was found, in the same form.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "metrics differ (- expected, + actual):")?;
        for line in diff_lines(&self.expected, &self.actual) {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// A longest-common-subsequence line diff: `  ` common, `- ` only in `a`, `+ ` only in `b`.
pub fn diff_lines(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the common subsequence length of a[i..] and b[j..]
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(format!("  {}", a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    out
}

/// Collects what sinks receive from one metric or collector: (family kind, value) per series.
#[derive(Default)]
struct Values {
    kind: Option<MetricType>,
    values: Vec<(MetricType, Option<f64>)>,
}

impl Sink for Values {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        self.kind = Some(header.kind);
    }

    fn sample(&mut self, _labels: &Labels<'_>, value: Value<'_>, _meta: &SampleMeta<'_>) {
        let kind = self.kind.unwrap_or(MetricType::Untyped);
        let v = match value {
            Value::CounterU64(v) => Some(v as f64),
            Value::CounterF64(v) | Value::GaugeF64(v) | Value::Untyped(v) => Some(v),
            Value::GaugeI64(v) => Some(v as f64),
            _ => None,
        };
        self.values.push((kind, v));
    }
}

impl Values {
    fn single(self) -> Result<f64, Error> {
        match self.values.as_slice() {
            [(_, Some(v))] => Ok(*v),
            [(kind, None)] => Err(Error::NotAScalar(*kind)),
            other => Err(Error::SeriesCount(other.len())),
        }
    }
}

/// The value of a single counter, gauge or untyped metric (Go's `ToFloat64`).
///
/// # Errors
/// [`Error::NotAScalar`] for a histogram or summary.
pub fn to_f64<M: Metric>(metric: &M) -> Result<f64, Error> {
    let mut sink = Values { kind: Some(M::KIND), values: Vec::new() };
    metric.write(&M::Options::default(), &Labels::None, &mut sink);
    sink.single()
}

/// The value of the single series a collector (a family, a registered metric) produces.
///
/// # Errors
/// [`Error::SeriesCount`] unless there is exactly one series; [`Error::NotAScalar`] when it is
/// a histogram or summary; the collector's own failure.
pub fn collector_to_f64(collector: &(impl Collector + ?Sized)) -> Result<f64, Error> {
    let mut sink = Values::default();
    collector.collect(&mut sink)?;
    sink.single()
}

/// The families a collector produces, read back through promkit's text form.
fn collect(collector: &(impl Collector + ?Sized)) -> Result<Vec<MetricFamily>, Error> {
    let mut out = Vec::new();
    {
        let mut encoder = promkit::encode::TextEncoder::new(&mut out);
        collector.collect(&mut encoder)?;
    }
    Ok(parse(Format::Text, &out)?)
}

/// Keeps the families named in `names` (all of them when `names` is empty).
fn filter(mut families: Vec<MetricFamily>, names: &[&str]) -> Vec<MetricFamily> {
    if !names.is_empty() {
        families.retain(|f| names.contains(&f.name.as_str()));
    }
    families
}

/// The canonical text form of families: sorted by name, series by labels, as promkit's text
/// encoder writes them.
pub fn canonical_text(families: &[MetricFamily]) -> String {
    let mut families = families.to_vec();
    for f in &mut families {
        f.samples.iter_mut().for_each(|s| s.labels.sort());
        f.samples.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    families.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    encode_families(&families, EncodeFormat::Text, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Compares two sets of families in canonical text form, only the families in `names` (all
/// when empty).
///
/// # Errors
/// The [`Mismatch`] when they differ.
pub fn compare_families(
    expected: Vec<MetricFamily>,
    actual: Vec<MetricFamily>,
    names: &[&str],
) -> Result<(), Mismatch> {
    let expected = canonical_text(&filter(expected, names));
    let actual = canonical_text(&filter(actual, names));
    if expected == actual { Ok(()) } else { Err(Mismatch { expected, actual }) }
}

/// Compares families with an expected exposition (any format [`parse`] reads; text is tried
/// first, then OpenMetrics when it ends in `# EOF`).
///
/// # Errors
/// [`Error::Parse`] when `expected` does not parse; [`Error::Mismatch`] when they differ.
pub fn compare(actual: Vec<MetricFamily>, expected: &str, names: &[&str]) -> Result<(), Error> {
    let format = if expected.trim_end().ends_with("# EOF") { Format::OpenMetrics } else { Format::Text };
    compare_families(parse(format, expected.as_bytes())?, actual, names).map_err(Error::Mismatch)
}

/// Compares what a collector produces with `expected` text, only the families in `names`
/// (all when empty). Go's `CollectAndCompare`.
///
/// # Errors
/// See [`compare`].
pub fn collect_and_compare(
    collector: &(impl Collector + ?Sized),
    expected: &str,
    names: &[&str],
) -> Result<(), Error> {
    compare(collect(collector)?, expected, names)
}

/// Compares what a registry gathers with `expected` text. Go's `GatherAndCompare`.
///
/// # Errors
/// See [`compare`].
pub fn gather_and_compare(registry: &Registry, expected: &str, names: &[&str]) -> Result<(), Error> {
    compare(registry.gather()?, expected, names)
}

/// How many series a collector produces in the families `names` (all when empty). Go's
/// `CollectAndCount`.
///
/// # Errors
/// The collector's failure.
pub fn collect_and_count(collector: &(impl Collector + ?Sized), names: &[&str]) -> Result<usize, Error> {
    let mut sink = Counting { names, current: false, count: 0 };
    collector.collect(&mut sink)?;
    Ok(sink.count)
}

struct Counting<'a> {
    names: &'a [&'a str],
    current: bool,
    count: usize,
}

impl Sink for Counting<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        self.current = self.names.is_empty() || self.names.contains(&header.name);
    }

    fn sample(&mut self, _: &Labels<'_>, _: Value<'_>, _: &SampleMeta<'_>) {
        self.count += usize::from(self.current);
    }
}

/// A scraped exposition: the format its `Content-Type` named, and the parsed families.
#[derive(Debug, Clone)]
pub struct Scrape {
    /// The response's `Content-Type`.
    pub content_type: String,
    /// The format read.
    pub format: Format,
    /// The body's size in bytes.
    pub size: usize,
    /// The families.
    pub families: Vec<MetricFamily>,
}

/// Prometheus 2.x's scrape `Accept` header.
pub const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// GETs a plain `http://` URL (blocking, 30 s timeout) with Prometheus' `Accept` header and
/// parses the body in the format its `Content-Type` names.
///
/// # Errors
/// [`Error::Scrape`] for a bad URL, an I/O error or a non-200 status; [`Error::Parse`].
pub fn scrape(url: &str) -> Result<Scrape, Error> {
    let (content_type, body) = http_get(url, PROMETHEUS_ACCEPT).map_err(Error::Scrape)?;
    let format = Format::from_content_type(&content_type);
    let families = parse(format, &body)?;
    Ok(Scrape { content_type, format, size: body.len(), families })
}

/// Scrapes `url` and compares with `expected` text. Go's `ScrapeAndCompare`.
///
/// # Errors
/// See [`scrape`] and [`compare`].
pub fn scrape_and_compare(url: &str, expected: &str, names: &[&str]) -> Result<(), Error> {
    compare(scrape(url)?.families, expected, names)
}

/// Lints what a collector produces, only the families in `names` (all when empty).
///
/// # Errors
/// The collector's failure.
pub fn collect_and_lint(
    collector: &(impl Collector + ?Sized),
    names: &[&str],
) -> Result<Vec<Problem>, Error> {
    Ok(lint(&filter(collect(collector)?, names)))
}

/// Lints what a registry gathers, only the families in `names` (all when empty).
///
/// # Errors
/// The registry's collect failure.
pub fn gather_and_lint(registry: &Registry, names: &[&str]) -> Result<Vec<Problem>, Error> {
    Ok(lint(&filter(registry.gather()?, names)))
}

/// A minimal HTTP/1.0 GET: (content type, body). HTTP/1.0 keeps servers from chunking.
pub fn http_get(url: &str, accept: &str) -> Result<(String, Vec<u8>), String> {
    let rest =
        url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let io = |e: std::io::Error| format!("{url}: {e}");
    let mut stream = TcpStream::connect(&addr).map_err(io)?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: {accept}\r\nUser-Agent: promkit\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(io)?;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{url}: no HTTP header in the response"))?;
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{url}: {status}"));
    }
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    Ok((content_type, response[end + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use promkit::{Counter, Gauge, Histogram};

    #[test]
    fn to_f64_reads_counters_and_gauges_and_refuses_histograms() {
        let r = Registry::new();
        let c = Counter::builder("c_total").help("C.").register(&r).unwrap();
        c.inc_by(4);
        assert_eq!(to_f64(&c).unwrap(), 4.0);
        let g = Gauge::builder("g").help("G.").register(&r).unwrap();
        g.set(-2);
        assert_eq!(to_f64(&g).unwrap(), -2.0);
        let h = Histogram::builder("h").help("H.").register(&r).unwrap();
        assert!(matches!(to_f64(&h), Err(Error::NotAScalar(MetricType::Histogram))));
        let fam = Counter::builder("f_total").help("F.").labels(["x"]).register(&r).unwrap();
        assert!(matches!(collector_to_f64(&fam), Err(Error::SeriesCount(0))));
        fam.with_label_values(&["a"]).unwrap().inc();
        assert_eq!(collector_to_f64(&fam).unwrap(), 1.0);
        fam.with_label_values(&["b"]).unwrap();
        assert_eq!(collector_to_f64(&fam).unwrap_err().to_string(), "collected 2 series, want exactly one");
        assert_eq!(collect_and_count(&fam, &[]).unwrap(), 2);
        assert_eq!(collect_and_count(&fam, &["other"]).unwrap(), 0);
    }

    #[test]
    fn openmetrics_types_read_as_their_samples() {
        assert_eq!(to_f64(&promkit::Info::new()).unwrap(), 1.0);
        let r = Registry::new();
        let s = promkit::StateSet::builder("mode")
            .help("M.")
            .states(["a", "b"])
            .labels(["x"])
            .register(&r)
            .unwrap();
        s.with_label_values(&["1"]).unwrap().set("b").unwrap();
        let s = s.with_label_values(&["1"]).unwrap().into_owned();
        // One sample per state: no single value.
        assert!(matches!(to_f64(&s), Err(Error::SeriesCount(2))));
        let g = promkit::GaugeHistogram::builder("q").help("Q.").register(&r).unwrap();
        assert!(matches!(to_f64(&g), Err(Error::NotAScalar(MetricType::GaugeHistogram))));
        let family = promkit::StateSet::builder("other").states(["a", "b"]).labels(["x"]).build().unwrap();
        family.with_label_values(&["1"]).unwrap();
        assert_eq!(collect_and_count(&family, &[]).unwrap(), 2);
    }

    #[test]
    fn comparison_ignores_order_and_spelling_but_not_values() {
        let r = Registry::new();
        let c = Counter::builder("c_total").help("C.").labels(["x", "y"]).register(&r).unwrap();
        c.with_label_values(&["1", "2"]).unwrap().inc_by(10);
        c.with_label_values(&["0", "2"]).unwrap().inc();
        Gauge::builder("g").help("G.").register(&r).unwrap().set(1);
        let expected = "# TYPE c_total counter\n# HELP c_total C.\nc_total{y=\"2\",x=\"1\"}   1e1\n  \
                        c_total{x=\"0\",y=\"2\"} 1.0\n";
        gather_and_compare(&r, expected, &["c_total"]).unwrap();
        collect_and_compare(&c, expected, &[]).unwrap();
        let wrong = expected.replace("1e1", "11");
        let e = gather_and_compare(&r, &wrong, &["c_total"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "metrics differ (- expected, + actual):\n  # HELP c_total C.\n  # TYPE c_total counter\n  \
             c_total{x=\"0\",y=\"2\"} 1\n- c_total{x=\"1\",y=\"2\"} 11\n+ c_total{x=\"1\",y=\"2\"} 10\n"
        );
        // help matters
        assert!(gather_and_compare(&r, &expected.replace("C.", "D."), &["c_total"]).is_err());
        // a broken expectation is a parse error, not a mismatch
        assert!(matches!(gather_and_compare(&r, "c_total{", &[]), Err(Error::Parse(_))));
    }

    #[test]
    fn diff_marks_changed_lines() {
        assert_eq!(diff_lines("a\nb\nc", "a\nc\nd"), ["  a", "- b", "  c", "+ d"]);
    }
}
