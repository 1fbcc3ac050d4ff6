//! Owned promkit families built from parsed records: the one file that knows promkit's model.
//!
//! OpenMetrics' own types keep their type: an `info` family is named `<family>_info` (as
//! promkit names it) with gauge samples of value 1, a `stateset` has one gauge sample per state
//! (the state label kept last, where promkit writes it), a `gaugehistogram` is a histogram
//! whose `_gcount`/`_gsum` are its count and sum; `unknown` is untyped. Text 0.0.4 and
//! protobuf have no info or stateset: those arrive as the gauges they are written as, and a
//! protobuf `GAUGE_HISTOGRAM` stays a gauge histogram. A counter read from OpenMetrics is named
//! with its `_total`, as promkit names counters. Summary quantiles get a rank error of 0 (the
//! exposition does not carry it).

use std::collections::HashMap;

use promkit::model::{
    Buckets, Exemplar as ModelExemplar, MetricFamily, MetricType, NativeSnapshot, Quantiles,
    Sample as Series, SampleValue, SnapshotHistogram, SnapshotSummary,
};

use crate::error::{ErrorKind, ParseError};
use crate::protobuf as pb;
use crate::record::{Exemplar, MetricKind, Record, Sample, Suffix};

/// Which exposition format an input is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Prometheus text 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
    /// Length-delimited protobuf.
    Protobuf,
}

impl Format {
    /// The format a `Content-Type` names, as Prometheus reads it (text when unsure).
    pub fn from_content_type(content_type: &str) -> Self {
        let ct = content_type.to_ascii_lowercase();
        if ct.starts_with("application/openmetrics-text") {
            Self::OpenMetrics
        } else if ct.starts_with("application/vnd.google.protobuf") {
            Self::Protobuf
        } else {
            Self::Text
        }
    }
}

/// Parses `input` in `format` into promkit's owned families, in the order they appear.
///
/// ```
/// use promkit::model::SampleValue;
/// use promkit_parse::model::{Format, parse};
/// let families = parse(Format::Text, b"# TYPE up gauge\nup{job=\"a\"} 1\n")?;
/// assert_eq!(families[0].samples[0].value, SampleValue::Gauge(1.0));
/// # Ok::<(), promkit_parse::ParseError>(())
/// ```
///
/// # Errors
/// The first [`ParseError`] of the input, or [`ErrorKind::Model`] for data promkit's model
/// cannot hold (unsorted histogram buckets, a quantile outside [0, 1] in text).
pub fn parse(format: Format, input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    match format {
        Format::Text => from_text(input),
        Format::OpenMetrics => from_openmetrics(input),
        Format::Protobuf => from_protobuf(input),
    }
}

/// Parses a text 0.0.4 exposition into families.
///
/// # Errors
/// As [`parse`].
pub fn from_text(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    let mut b = Builder::new(false);
    for r in crate::text::parse(input) {
        b.push(&r?)?;
    }
    b.finish()
}

/// Parses an OpenMetrics exposition into families.
///
/// # Errors
/// As [`parse`].
pub fn from_openmetrics(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    let mut b = Builder::new(true);
    for r in crate::openmetrics::parse(input) {
        b.push(&r?)?;
    }
    b.finish()
}

/// Parses a delimited protobuf exposition into families.
///
/// # Errors
/// As [`parse`].
pub fn from_protobuf(input: &[u8]) -> Result<Vec<MetricFamily>, ParseError> {
    let mut out = Vec::new();
    for (i, f) in crate::protobuf::parse(input).enumerate() {
        out.push(from_proto(f?).map_err(|m| ParseError::new(i as u64 + 1, 0, "", ErrorKind::Model(m)))?);
    }
    Ok(out)
}

/// Assembles owned families from the records of a text or OpenMetrics parser.
#[derive(Debug)]
pub struct Builder {
    openmetrics: bool,
    families: Vec<Acc>,
    index: HashMap<String, usize>,
    /// The family of the last record: samples come in runs.
    last: usize,
}

#[derive(Debug)]
struct Acc {
    name: String,
    help: String,
    unit: String,
    kind: MetricKind,
    /// Series of counters, gauges and the like, in their final form.
    direct: Vec<Series>,
    /// Series of histograms, summaries and OpenMetrics counters, assembled from several lines.
    series: Vec<SeriesAcc>,
    by_labels: HashMap<Vec<(String, String)>, usize>,
}

#[derive(Debug, Default)]
struct SeriesAcc {
    labels: Vec<(String, String)>,
    timestamp_ms: Option<i64>,
    value: Option<f64>,
    created: Option<f64>,
    exemplar: Option<ModelExemplar>,
    /// Histogram and summary parts, boxed to keep the common series small.
    parts: Option<Box<Parts>>,
    line: u64,
}

#[derive(Debug, Default)]
struct Parts {
    buckets: Vec<(f64, f64, Option<ModelExemplar>)>,
    quantiles: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
}

fn model_error(line: u64, what: String) -> ParseError {
    ParseError::new(line, 0, "", ErrorKind::Model(what))
}

fn exemplar(e: &Exemplar<'_>, line: u64) -> Result<ModelExemplar, ParseError> {
    let pairs: Vec<(&str, std::borrow::Cow<'_, str>)> = e.labels.iter().collect();
    let ex = ModelExemplar::new(pairs.iter().map(|(n, v)| (*n, v.as_ref())), e.value)
        .map_err(|err| model_error(line, err.to_string()))?;
    #[allow(clippy::cast_possible_truncation)] // saturating; checked finite
    Ok(ex.with_timestamp_nanos(e.timestamp.map(|s| (s * 1e9).round() as i64)))
}

impl Builder {
    /// A builder for text 0.0.4 (`openmetrics` false) or OpenMetrics records.
    pub fn new(openmetrics: bool) -> Self {
        Self { openmetrics, families: Vec::new(), index: HashMap::new(), last: 0 }
    }

    fn family(&mut self, name: &str) -> &mut Acc {
        if self.families.get(self.last).is_some_and(|f| f.name == name) {
            return &mut self.families[self.last];
        }
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.families.push(Acc {
                    name: name.to_owned(),
                    help: String::new(),
                    unit: String::new(),
                    kind: MetricKind::Unknown,
                    direct: Vec::new(),
                    series: Vec::new(),
                    by_labels: HashMap::new(),
                });
                self.index.insert(name.to_owned(), self.families.len() - 1);
                self.families.len() - 1
            }
        };
        self.last = i;
        &mut self.families[i]
    }

    /// Adds one record.
    ///
    /// # Errors
    /// [`ErrorKind::Model`] for an exemplar promkit refuses.
    pub fn push(&mut self, record: &Record<'_>) -> Result<(), ParseError> {
        match record {
            Record::Help { name, help } => self.family(name).help = help.text().into_owned(),
            Record::Type { name, kind } => self.family(name).kind = *kind,
            Record::Unit { name, unit } => self.family(name).unit = (*unit).to_owned(),
            Record::Sample(s) => self.sample(s)?,
        }
        Ok(())
    }

    fn sample(&mut self, s: &Sample<'_>) -> Result<(), ParseError> {
        let om = self.openmetrics;
        let fam = self.family(s.family());
        fam.kind = s.kind;
        let bound_label = match (s.kind, s.suffix) {
            (MetricKind::Histogram | MetricKind::GaugeHistogram, Suffix::Bucket) => Some("le"),
            (MetricKind::Summary, Suffix::Bare) => Some("quantile"),
            _ => None,
        };
        let compound =
            matches!(s.kind, MetricKind::Histogram | MetricKind::GaugeHistogram | MetricKind::Summary)
                || (s.kind == MetricKind::Counter && s.suffix != Suffix::Bare);
        let index = if compound {
            let last_matches = fam.series.last().is_some_and(|last| {
                let mut mine = s.labels.iter().filter(|(n, _)| Some(*n) != bound_label);
                let mut sorted = true;
                let mut prev = "";
                let eq = last.labels.iter().all(|(ln, lv)| {
                    mine.next().is_some_and(|(n, v)| {
                        sorted &= prev <= n;
                        prev = n;
                        n == ln && v == lv.as_str()
                    })
                });
                eq && mine.next().is_none() && sorted
            });
            if last_matches {
                fam.series.len() - 1
            } else if om {
                // OpenMetrics metrics are never interleaved (the parser checked): a series is
                // the last one or a new one.
                let labels = owned_labels(s, bound_label);
                if fam.series.last().is_some_and(|last| last.labels == labels) {
                    fam.series.len() - 1
                } else {
                    fam.series.push(SeriesAcc { labels, line: s.line, ..SeriesAcc::default() });
                    fam.series.len() - 1
                }
            } else {
                let labels = owned_labels(s, bound_label);
                match fam.by_labels.get(&labels) {
                    Some(&i) => i,
                    None => {
                        fam.series.push(SeriesAcc {
                            labels: labels.clone(),
                            line: s.line,
                            ..SeriesAcc::default()
                        });
                        fam.by_labels.insert(labels, fam.series.len() - 1);
                        fam.series.len() - 1
                    }
                }
            }
        } else {
            // One line, one series: straight into the model's form.
            let value = match s.kind {
                MetricKind::Counter => SampleValue::Counter(s.value),
                MetricKind::Unknown => SampleValue::Untyped(s.value),
                _ => SampleValue::Gauge(s.value),
            };
            // A stateset's state label stays last, where promkit writes it (as `le`).
            let labels = if s.kind == MetricKind::StateSet {
                let mut labels = owned_labels(s, Some(&fam.name));
                labels.extend(
                    s.labels
                        .iter()
                        .find(|(n, _)| *n == fam.name)
                        .map(|(n, v)| (n.to_owned(), v.into_owned())),
                );
                labels
            } else {
                owned_labels(s, None)
            };
            fam.direct.push(Series {
                labels,
                value,
                timestamp_ms: s.timestamp.map(|t| t.as_millis()),
                created: None,
                exemplar: s.exemplar.as_ref().map(|e| exemplar(e, s.line)).transpose()?,
            });
            return Ok(());
        };
        let ex = s.exemplar.as_ref().map(|e| exemplar(e, s.line)).transpose()?;
        let series = &mut fam.series[index];
        if series.timestamp_ms.is_none() {
            series.timestamp_ms = s.timestamp.map(|t| t.as_millis());
        }
        let parts = || Box::<Parts>::default();
        match s.suffix {
            // Go drops a text bucket without `le` and a quantile without `quantile`.
            Suffix::Bucket | Suffix::Bare if s.bound.is_none() && bound_label.is_some() => {}
            Suffix::Bucket => series.parts.get_or_insert_with(parts).buckets.push((
                s.bound.unwrap_or(f64::NAN),
                s.value,
                ex,
            )),
            Suffix::Sum | Suffix::GSum => series.parts.get_or_insert_with(parts).sum = Some(s.value),
            Suffix::Count | Suffix::GCount => series.parts.get_or_insert_with(parts).count = Some(s.value),
            Suffix::Created => series.created = Some(s.value),
            Suffix::Bare if s.kind == MetricKind::Summary => {
                series.parts.get_or_insert_with(parts).quantiles.push((s.bound.unwrap_or(f64::NAN), s.value));
            }
            _ => {
                series.value = Some(s.value);
                series.exemplar = ex;
            }
        }
        Ok(())
    }

    /// The families, in the order they first appeared.
    ///
    /// # Errors
    /// [`ErrorKind::Model`] for a histogram or summary promkit's model cannot hold.
    pub fn finish(self) -> Result<Vec<MetricFamily>, ParseError> {
        let om = self.openmetrics;
        self.families.into_iter().map(|f| f.finish(om)).collect()
    }
}

fn owned_labels(s: &Sample<'_>, skip: Option<&str>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = s
        .labels
        .iter()
        .filter(|(n, _)| Some(*n) != skip)
        .map(|(n, v)| (n.to_owned(), v.into_owned()))
        .collect();
    v.sort();
    v
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // validated or saturating
fn count(v: f64) -> u64 {
    v as u64
}

impl Acc {
    fn finish(self, openmetrics: bool) -> Result<MetricFamily, ParseError> {
        let (kind, name) = match self.kind {
            MetricKind::Counter if openmetrics => (MetricType::Counter, format!("{}_total", self.name)),
            MetricKind::Counter => (MetricType::Counter, self.name),
            MetricKind::Gauge => (MetricType::Gauge, self.name),
            MetricKind::StateSet => (MetricType::StateSet, self.name),
            MetricKind::Info => (MetricType::Info, format!("{}_info", self.name)),
            MetricKind::Histogram => (MetricType::Histogram, self.name),
            MetricKind::GaugeHistogram => (MetricType::GaugeHistogram, self.name),
            MetricKind::Summary => (MetricType::Summary, self.name),
            MetricKind::Unknown => (MetricType::Untyped, self.name),
        };
        if self.series.is_empty() {
            return Ok(MetricFamily { name, help: self.help, unit: self.unit, kind, samples: self.direct });
        }
        let mut samples = Vec::with_capacity(self.series.len());
        // Series of a family share their bounds: validated and rendered once.
        let mut bounds: Option<Buckets> = None;
        for s in self.series {
            let value = match kind {
                MetricType::Counter => SampleValue::Counter(s.value.unwrap_or(0.0)),
                MetricType::Gauge | MetricType::Info | MetricType::StateSet => {
                    SampleValue::Gauge(s.value.unwrap_or(0.0))
                }
                MetricType::Histogram | MetricType::GaugeHistogram => {
                    SampleValue::Histogram(histogram(&name, &s, &mut bounds)?)
                }
                MetricType::Summary => SampleValue::Summary(summary(&name, &s)?),
                _ => SampleValue::Untyped(s.value.unwrap_or(0.0)),
            };
            samples.push(Series {
                labels: s.labels,
                value,
                timestamp_ms: s.timestamp_ms,
                created: s.created,
                exemplar: s.exemplar,
            });
        }
        Ok(MetricFamily { name, help: self.help, unit: self.unit, kind, samples })
    }
}

fn histogram(name: &str, s: &SeriesAcc, last: &mut Option<Buckets>) -> Result<SnapshotHistogram, ParseError> {
    let none = Parts::default();
    let p = s.parts.as_deref().unwrap_or(&none);
    let mut buckets: Vec<&(f64, f64, Option<ModelExemplar>)> = p.buckets.iter().collect();
    // Text exporters may write buckets in any order (Go's parser keeps them); the model sorts.
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let inf = buckets.last().filter(|b| b.0 == f64::INFINITY).map(|b| b.1);
    let finite: Vec<&&(f64, f64, Option<ModelExemplar>)> =
        buckets.iter().filter(|b| b.0 != f64::INFINITY).collect();
    let same = last.as_ref().is_some_and(|l| {
        l.bounds().len() == finite.len() && l.bounds().iter().zip(&finite).all(|(a, b)| *a == b.0)
    });
    let bounds = match last {
        Some(l) if same => l.clone(),
        _ if finite.is_empty() => Buckets::none(),
        _ => Buckets::new(finite.iter().map(|b| b.0))
            .map_err(|e| model_error(s.line, format!("histogram `{name}`: {e}")))?,
    };
    *last = Some(bounds.clone());
    let total = inf.or(p.count).or(finite.last().map(|b| b.1)).unwrap_or(0.0);
    let mut cumulative: Vec<u64> = finite.iter().map(|b| count(b.1)).collect();
    cumulative.push(count(total));
    let mut exemplars: Vec<Option<ModelExemplar>> = finite.iter().map(|b| b.2.clone()).collect();
    exemplars.push(buckets.last().filter(|b| b.0 == f64::INFINITY).and_then(|b| b.2.clone()));
    if exemplars.iter().all(Option::is_none) {
        exemplars.clear();
    }
    Ok(SnapshotHistogram { buckets: bounds, cumulative, sum: p.sum.unwrap_or(0.0), exemplars, native: None })
}

fn summary(name: &str, s: &SeriesAcc) -> Result<SnapshotSummary, ParseError> {
    let none = Parts::default();
    let p = s.parts.as_deref().unwrap_or(&none);
    let mut q = p.quantiles.clone();
    q.sort_by(|a, b| a.0.total_cmp(&b.0));
    let quantiles = Quantiles::new(q.iter().map(|&(q, _)| (q, 0.0)))
        .map_err(|e| model_error(s.line, format!("summary `{name}`: {e}")))?;
    Ok(SnapshotSummary {
        quantiles,
        values: q.iter().map(|&(_, v)| v).collect(),
        count: count(p.count.unwrap_or(0.0)),
        sum: p.sum.unwrap_or(0.0),
    })
}

fn proto_exemplar(e: &pb::Exemplar) -> Result<ModelExemplar, String> {
    let ex = ModelExemplar::new(
        e.label.iter().map(|l| (l.name.as_deref().unwrap_or(""), l.value.as_deref().unwrap_or(""))),
        e.value.unwrap_or(0.0),
    )
    .map_err(|err| err.to_string())?;
    Ok(ex.with_timestamp_nanos(e.timestamp.as_ref().map(pb::Timestamp::as_nanos)))
}

fn native_buckets(spans: &[pb::BucketSpan], deltas: &[i64]) -> Vec<(i32, u64)> {
    let mut out = Vec::new();
    let mut key = 0i32;
    let mut count = 0i64;
    let mut d = deltas.iter();
    for (i, span) in spans.iter().enumerate() {
        let offset = span.offset.unwrap_or(0);
        key = if i == 0 { offset } else { key.saturating_add(offset) };
        for _ in 0..span.length.unwrap_or(0) {
            count = count.wrapping_add(d.next().copied().unwrap_or(0));
            if count != 0 {
                out.push((key, u64::try_from(count).unwrap_or(0)));
            }
            key = key.saturating_add(1);
        }
    }
    out
}

fn from_proto(f: pb::MetricFamily) -> Result<MetricFamily, String> {
    let kind = match pb::MetricType::try_from(f.r#type.unwrap_or(0)).unwrap_or(pb::MetricType::Untyped) {
        pb::MetricType::Counter => MetricType::Counter,
        pb::MetricType::Gauge => MetricType::Gauge,
        pb::MetricType::Summary => MetricType::Summary,
        pb::MetricType::Untyped => MetricType::Untyped,
        pb::MetricType::Histogram => MetricType::Histogram,
        pb::MetricType::GaugeHistogram => MetricType::GaugeHistogram,
    };
    let name = f.name.unwrap_or_default();
    let mut samples = Vec::with_capacity(f.metric.len());
    for m in f.metric {
        let mut labels: Vec<(String, String)> =
            m.label.into_iter().map(|l| (l.name.unwrap_or_default(), l.value.unwrap_or_default())).collect();
        labels.sort();
        let mut created = None;
        let mut ex = None;
        let value = match kind {
            MetricType::Counter => {
                let c = m.counter.unwrap_or_default();
                created = c.created_timestamp.as_ref().map(pb::Timestamp::as_secs_f64);
                ex = c.exemplar.as_ref().map(proto_exemplar).transpose()?;
                SampleValue::Counter(c.value.unwrap_or(0.0))
            }
            MetricType::Gauge => SampleValue::Gauge(m.gauge.and_then(|g| g.value).unwrap_or(0.0)),
            MetricType::Summary => {
                let s = m.summary.unwrap_or_default();
                created = s.created_timestamp.as_ref().map(pb::Timestamp::as_secs_f64);
                let mut q: Vec<(f64, f64)> =
                    s.quantile.iter().map(|q| (q.quantile.unwrap_or(0.0), q.value.unwrap_or(0.0))).collect();
                q.sort_by(|a, b| a.0.total_cmp(&b.0));
                let quantiles = Quantiles::new(q.iter().map(|&(q, _)| (q, 0.0)))
                    .map_err(|e| format!("summary `{name}`: {e}"))?;
                SampleValue::Summary(SnapshotSummary {
                    quantiles,
                    values: q.iter().map(|&(_, v)| v).collect(),
                    count: s.sample_count.unwrap_or(0),
                    sum: s.sample_sum.unwrap_or(0.0),
                })
            }
            MetricType::Histogram | MetricType::GaugeHistogram => {
                let h = m.histogram.unwrap_or_default();
                created = h.created_timestamp.as_ref().map(pb::Timestamp::as_secs_f64);
                let total = h.sample_count.or(h.sample_count_float.map(count)).unwrap_or(0);
                let finite: Vec<&pb::Bucket> =
                    h.bucket.iter().filter(|b| b.upper_bound.unwrap_or(0.0) != f64::INFINITY).collect();
                let bounds = if finite.is_empty() {
                    Buckets::none()
                } else {
                    Buckets::new(finite.iter().map(|b| b.upper_bound.unwrap_or(0.0)))
                        .map_err(|e| format!("histogram `{name}`: {e}"))?
                };
                let mut cumulative: Vec<u64> = finite
                    .iter()
                    .map(|b| b.cumulative_count.or(b.cumulative_count_float.map(count)).unwrap_or(0))
                    .collect();
                cumulative.push(total);
                let inf = h.bucket.iter().find(|b| b.upper_bound == Some(f64::INFINITY));
                let mut exemplars = finite
                    .iter()
                    .copied()
                    .chain([inf].into_iter().flatten())
                    .map(|b| b.exemplar.as_ref().map(proto_exemplar).transpose())
                    .collect::<Result<Vec<_>, _>>()?;
                exemplars.resize(cumulative.len(), None);
                if exemplars.iter().all(Option::is_none) {
                    exemplars.clear();
                }
                let is_native = h.schema.is_some()
                    || !h.positive_span.is_empty()
                    || !h.negative_span.is_empty()
                    || h.zero_threshold.is_some_and(|z| z != 0.0)
                    || h.zero_count.is_some_and(|z| z != 0);
                let native = if is_native {
                    Some(NativeSnapshot {
                        schema: h.schema.unwrap_or(0),
                        zero_threshold: h.zero_threshold.unwrap_or(0.0),
                        zero_count: h.zero_count.or(h.zero_count_float.map(count)).unwrap_or(0),
                        count: total,
                        sum: h.sample_sum.unwrap_or(0.0),
                        positive: native_buckets(&h.positive_span, &h.positive_delta),
                        negative: native_buckets(&h.negative_span, &h.negative_delta),
                        cumulative: cumulative.clone(),
                        exemplars: h.exemplars.iter().map(proto_exemplar).collect::<Result<_, _>>()?,
                    })
                } else {
                    None
                };
                SampleValue::Histogram(SnapshotHistogram {
                    buckets: bounds,
                    cumulative,
                    sum: h.sample_sum.unwrap_or(0.0),
                    exemplars,
                    native,
                })
            }
            _ => SampleValue::Untyped(m.untyped.and_then(|u| u.value).unwrap_or(0.0)),
        };
        samples.push(Series { labels, value, timestamp_ms: m.timestamp_ms, created, exemplar: ex });
    }
    Ok(MetricFamily {
        name,
        help: f.help.unwrap_or_default(),
        unit: f.unit.unwrap_or_default(),
        kind,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_types_map_onto_promkit_types() {
        let input = "# TYPE c counter\nc_total 2\nc_created 1.5\n# TYPE i info\ni_info{v=\"1\"} 1\n\
                     # TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# TYPE g gaugehistogram\n\
                     g_bucket{le=\"1.0\"} 1\ng_bucket{le=\"+Inf\"} 2\ng_gcount 2\ng_gsum 3\nu 4\n# EOF\n";
        let f = from_openmetrics(input.as_bytes()).unwrap();
        let names: Vec<_> = f.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            names,
            [
                ("c_total", MetricType::Counter),
                ("i_info", MetricType::Info),
                ("s", MetricType::StateSet),
                ("g", MetricType::GaugeHistogram),
                ("u", MetricType::Untyped)
            ]
        );
        assert_eq!(f[0].samples[0].created, Some(1.5));
        assert_eq!(f[2].samples.len(), 2);
        let SampleValue::Histogram(h) = &f[3].samples[0].value else { panic!() };
        assert_eq!((h.cumulative.as_slice(), h.sum), (&[1, 2][..], 3.0));
    }

    #[test]
    fn text_histograms_may_interleave_series_and_only_have_inf() {
        let input = "# TYPE h histogram\nh_bucket{a=\"1\",le=\"+Inf\"} 2\nh_bucket{a=\"2\",le=\"+Inf\"} 1\n\
                     h_sum{a=\"1\"} 3\nh_count{a=\"1\"} 2\nh_sum{a=\"2\"} 1\nh_count{a=\"2\"} 1\n";
        let f = from_text(input.as_bytes()).unwrap();
        assert_eq!(f[0].samples.len(), 2);
        let SampleValue::Histogram(h) = &f[0].samples[1].value else { panic!() };
        assert!(h.buckets.is_empty());
        assert_eq!((h.cumulative.as_slice(), h.sum), (&[1][..], 1.0));
        let bad = "# TYPE s summary\ns{quantile=\"2\"} 1\n";
        assert!(matches!(from_text(bad.as_bytes()).unwrap_err().kind, ErrorKind::Model(_)));
        assert_eq!(
            Format::from_content_type("application/openmetrics-text; version=1.0.0"),
            Format::OpenMetrics
        );
        assert_eq!(Format::from_content_type("text/plain"), Format::Text);
    }

    #[test]
    fn native_spans_decode_to_populated_keys() {
        let spans = [
            pb::BucketSpan { offset: Some(-1), length: Some(2) },
            pb::BucketSpan { offset: Some(3), length: Some(1) },
        ];
        assert_eq!(native_buckets(&spans, &[1, -1, 4]), [(-1, 1), (4, 4)]);
    }
}
