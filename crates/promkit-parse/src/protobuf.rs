//! Length-delimited protobuf (`io.prometheus.client.MetricFamily`), native histograms included.
//!
//! The messages are client_model's `metrics.proto`, declared with prost's derive (no `protoc`),
//! field for field as promkit's encoder declares them. [`parse`] yields one decoded family per
//! message, checking the framing (every length within the input and below a bound), the
//! message, the metric type and that each metric carries the value its type needs.

#![allow(missing_docs)] // wire types mirror the proto one to one

use prost::{Enumeration, Message};

use crate::error::{ErrorKind, ParseError};

/// The largest message accepted by [`parse`] (Prometheus refuses larger scrapes anyway).
pub const MAX_MESSAGE: usize = 64 << 20;

#[derive(Clone, PartialEq, Message)]
pub struct LabelPair {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Counter = 0,
    Gauge = 1,
    Summary = 2,
    Untyped = 3,
    Histogram = 4,
    GaugeHistogram = 5,
}

#[derive(Clone, PartialEq, Message)]
pub struct Gauge {
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Counter {
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
    #[prost(message, optional, tag = "2")]
    pub exemplar: Option<Exemplar>,
    #[prost(message, optional, tag = "3")]
    pub created_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Quantile {
    #[prost(double, optional, tag = "1")]
    pub quantile: Option<f64>,
    #[prost(double, optional, tag = "2")]
    pub value: Option<f64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(uint64, optional, tag = "1")]
    pub sample_count: Option<u64>,
    #[prost(double, optional, tag = "2")]
    pub sample_sum: Option<f64>,
    #[prost(message, repeated, tag = "3")]
    pub quantile: Vec<Quantile>,
    #[prost(message, optional, tag = "4")]
    pub created_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Untyped {
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Histogram {
    #[prost(uint64, optional, tag = "1")]
    pub sample_count: Option<u64>,
    #[prost(double, optional, tag = "4")]
    pub sample_count_float: Option<f64>,
    #[prost(double, optional, tag = "2")]
    pub sample_sum: Option<f64>,
    #[prost(message, repeated, tag = "3")]
    pub bucket: Vec<Bucket>,
    #[prost(message, optional, tag = "15")]
    pub created_timestamp: Option<Timestamp>,
    #[prost(sint32, optional, tag = "5")]
    pub schema: Option<i32>,
    #[prost(double, optional, tag = "6")]
    pub zero_threshold: Option<f64>,
    #[prost(uint64, optional, tag = "7")]
    pub zero_count: Option<u64>,
    #[prost(double, optional, tag = "8")]
    pub zero_count_float: Option<f64>,
    #[prost(message, repeated, tag = "9")]
    pub negative_span: Vec<BucketSpan>,
    #[prost(sint64, repeated, packed = "false", tag = "10")]
    pub negative_delta: Vec<i64>,
    #[prost(double, repeated, packed = "false", tag = "11")]
    pub negative_count: Vec<f64>,
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    #[prost(sint64, repeated, packed = "false", tag = "13")]
    pub positive_delta: Vec<i64>,
    #[prost(double, repeated, packed = "false", tag = "14")]
    pub positive_count: Vec<f64>,
    #[prost(message, repeated, tag = "16")]
    pub exemplars: Vec<Exemplar>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Bucket {
    #[prost(uint64, optional, tag = "1")]
    pub cumulative_count: Option<u64>,
    #[prost(double, optional, tag = "4")]
    pub cumulative_count_float: Option<f64>,
    #[prost(double, optional, tag = "2")]
    pub upper_bound: Option<f64>,
    #[prost(message, optional, tag = "3")]
    pub exemplar: Option<Exemplar>,
}

#[derive(Clone, PartialEq, Message)]
pub struct BucketSpan {
    #[prost(sint32, optional, tag = "1")]
    pub offset: Option<i32>,
    #[prost(uint32, optional, tag = "2")]
    pub length: Option<u32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Exemplar {
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    #[prost(double, optional, tag = "2")]
    pub value: Option<f64>,
    #[prost(message, optional, tag = "3")]
    pub timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Metric {
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    #[prost(message, optional, tag = "2")]
    pub gauge: Option<Gauge>,
    #[prost(message, optional, tag = "3")]
    pub counter: Option<Counter>,
    #[prost(message, optional, tag = "4")]
    pub summary: Option<Summary>,
    #[prost(message, optional, tag = "5")]
    pub untyped: Option<Untyped>,
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
    #[prost(int64, optional, tag = "6")]
    pub timestamp_ms: Option<i64>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MetricFamily {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub help: Option<String>,
    #[prost(enumeration = "MetricType", optional, tag = "3")]
    pub r#type: Option<i32>,
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
    #[prost(string, optional, tag = "5")]
    pub unit: Option<String>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// Seconds since the epoch as a float.
    pub fn as_secs_f64(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // as Go converts them
        let s = self.seconds as f64 + f64::from(self.nanos) / 1e9;
        s
    }

    /// Nanoseconds since the epoch, saturating.
    pub fn as_nanos(&self) -> i64 {
        self.seconds.saturating_mul(1_000_000_000).saturating_add(i64::from(self.nanos))
    }
}

/// Decoded families of a delimited protobuf exposition, one per message.
#[derive(Debug)]
pub struct Families<'a> {
    rest: &'a [u8],
    offset: usize,
    message: u64,
    done: bool,
}

/// Parses a delimited protobuf exposition.
///
/// ```
/// let families = promkit_parse::protobuf::parse(&[]).collect::<Result<Vec<_>, _>>()?;
/// assert!(families.is_empty());
/// assert!(promkit_parse::protobuf::parse(&[0x05, 0x0a]).next().unwrap().is_err());
/// # Ok::<(), promkit_parse::ParseError>(())
/// ```
pub fn parse(input: &[u8]) -> Families<'_> {
    Families { rest: input, offset: 0, message: 0, done: false }
}

impl Families<'_> {
    fn fail(&mut self, what: String) -> Option<Result<MetricFamily, ParseError>> {
        self.done = true;
        Some(Err(ParseError::new(self.message, self.offset, "", ErrorKind::Protobuf(what))))
    }
}

impl Iterator for Families<'_> {
    type Item = Result<MetricFamily, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        self.message += 1;
        let mut cursor = self.rest;
        let Ok(len) = prost::encoding::decode_varint(&mut cursor) else {
            return self.fail("a message length MUST be a varint".into());
        };
        let header = self.rest.len() - cursor.len();
        let Some(len) = usize::try_from(len).ok().filter(|&l| l <= cursor.len() && l <= MAX_MESSAGE) else {
            return self
                .fail(format!("message length {len} runs past the input ({} bytes left)", cursor.len()));
        };
        let family = match MetricFamily::decode(&cursor[..len]) {
            Ok(f) => f,
            Err(e) => return self.fail(format!("invalid MetricFamily: {e}")),
        };
        if let Err(what) = check(&family) {
            return self.fail(what);
        }
        self.rest = &cursor[len..];
        self.offset += header + len;
        Some(Ok(family))
    }
}

/// The rules a decoded family must follow to mean anything.
fn check(f: &MetricFamily) -> Result<(), String> {
    let name = f.name.as_deref().unwrap_or("");
    if name.is_empty() {
        return Err("a MetricFamily MUST have a name".into());
    }
    let kind = f.r#type.unwrap_or(0);
    let Ok(kind) = MetricType::try_from(kind) else {
        return Err(format!("family `{name}`: unknown metric type {kind}"));
    };
    for (i, m) in f.metric.iter().enumerate() {
        let has = match kind {
            MetricType::Counter => m.counter.is_some(),
            MetricType::Gauge => m.gauge.is_some(),
            MetricType::Summary => m.summary.is_some(),
            MetricType::Untyped => m.untyped.is_some(),
            MetricType::Histogram | MetricType::GaugeHistogram => m.histogram.is_some(),
        };
        if !has {
            return Err(format!("family `{name}`: metric {i} has no {kind:?} value"));
        }
        if m.label.iter().any(|l| l.name.as_deref().unwrap_or("").is_empty()) {
            return Err(format!("family `{name}`: metric {i} has a label without a name"));
        }
        if let Some(h) = &m.histogram {
            for spans in [&h.positive_span, &h.negative_span] {
                let total: u64 = spans.iter().map(|s| u64::from(s.length.unwrap_or(0))).sum();
                let deltas = if std::ptr::eq(spans, &h.positive_span) {
                    h.positive_delta.len()
                } else {
                    h.negative_delta.len()
                };
                if total != deltas as u64 {
                    return Err(format!(
                        "family `{name}`: metric {i}: spans cover {total} buckets but {deltas} deltas are given"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_errors_say_which_message() {
        let f =
            MetricFamily { name: Some("a".into()), r#type: Some(1), metric: vec![], help: None, unit: None };
        let mut buf = Vec::new();
        f.encode_length_delimited(&mut buf).unwrap();
        let good = buf.clone();
        buf.extend_from_slice(&[0x7f, 0x01]);
        let all: Vec<_> = parse(&buf).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].as_ref().unwrap(), &f);
        let e = all[1].as_ref().unwrap_err();
        assert_eq!((e.line(), e.column() as usize), (2, good.len() + 1));
        let nameless = MetricFamily { name: None, ..f.clone() }.encode_length_delimited_to_vec();
        assert!(parse(&nameless).next().unwrap().is_err());
        let typeless = MetricFamily { metric: vec![Metric { gauge: None, ..Default::default() }], ..f }
            .encode_length_delimited_to_vec();
        assert!(parse(&typeless).next().unwrap().unwrap_err().to_string().contains("no Gauge value"));
    }
}
