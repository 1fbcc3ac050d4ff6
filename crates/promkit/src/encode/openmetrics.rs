//! OpenMetrics 1.0.0 text, written as Go's `expfmt.MetricFamilyToOpenMetrics` does.

use crate::model::{Exemplar, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value};

use super::{CreatedSamples, Encoder, with_bucket_buffer, with_quantile_buffer, write_series};
use crate::syntax::escape::{write_help_openmetrics, write_label_value};
use crate::syntax::float::{write_int, write_om_float, write_om_timestamp_ms, write_om_u64};

/// A [`Sink`] that appends OpenMetrics 1.0.0 text to a byte buffer; call
/// [`finish`](Self::finish) for the closing `# EOF`.
///
/// A counter's family name drops `_total` and its sample keeps it; a counter named without
/// `_total` is written as `unknown` (a valid OpenMetrics family) as Go does. Floats are the
/// canonical `1.0` form, bucket counts and `_count` integers, timestamps seconds. A histogram
/// with a negative bucket bound has no `_sum` and no `_count`, as OpenMetrics requires.
#[derive(Debug)]
pub struct OpenMetricsEncoder<'a> {
    out: &'a mut Vec<u8>,
    created_samples: CreatedSamples,
    /// Name written on sample lines: the family name (a counter's without `_total`).
    name: String,
    /// Whether the current family is a counter written as an OpenMetrics counter.
    counter: bool,
    /// The suffix the current family's value samples carry: `_total` on a counter, `_info`
    /// on an info (both stripped from the family name), or empty.
    suffix: &'static str,
    /// Whether the current family is a gauge histogram (`_gsum` and `_gcount`).
    gauge_histogram: bool,
}

impl<'a> OpenMetricsEncoder<'a> {
    /// An encoder appending to `out`, with or without `_created` lines.
    pub fn new(out: &'a mut Vec<u8>, created_samples: CreatedSamples) -> Self {
        Self {
            out,
            created_samples,
            name: super::take_name_buffer(),
            counter: false,
            suffix: "",
            gauge_histogram: false,
        }
    }

    /// Appends the closing `# EOF` line.
    pub fn finish(self) {
        self.out.extend_from_slice(b"# EOF\n");
    }

    /// Ends a sample line: the timestamp, then the exemplar (only counters' `_total` lines and
    /// histogram buckets pass one, the only places OpenMetrics allows them).
    fn end(&mut self, meta: &SampleMeta<'_>, exemplar: Option<&Exemplar>) {
        if let Some(ts) = meta.timestamp_ms {
            self.out.push(b' ');
            write_om_timestamp_ms(self.out, ts);
        }
        if let Some(e) = exemplar {
            self.out.extend_from_slice(b" # {");
            for (i, (n, v)) in e.labels().iter().enumerate() {
                if i > 0 {
                    self.out.push(b',');
                }
                self.out.extend_from_slice(n.as_bytes());
                self.out.extend_from_slice(b"=\"");
                write_label_value(self.out, v);
                self.out.push(b'"');
            }
            self.out.extend_from_slice(b"} ");
            write_om_float(self.out, e.value());
            if let Some(nanos) = e.timestamp_nanos() {
                self.out.push(b' ');
                // Go writes float64(nanoseconds) / 1e9 in its OpenMetrics float form.
                write_om_float(self.out, nanos as f64 / 1e9);
            }
        }
        self.out.push(b'\n');
    }

    fn created(&mut self, name: &str, labels: &Labels<'_>, meta: &SampleMeta<'_>) {
        if let (CreatedSamples::Write, Some(created)) = (self.created_samples, meta.created) {
            write_series(self.out, name, "_created", labels, None);
            write_om_float(self.out, created);
            self.out.push(b'\n');
        }
    }
}

impl Drop for OpenMetricsEncoder<'_> {
    fn drop(&mut self) {
        super::return_name_buffer(std::mem::take(&mut self.name));
    }
}

impl Encoder for OpenMetricsEncoder<'_> {
    fn buffer(&mut self) -> &mut Vec<u8> {
        self.out
    }

    fn finish(self) {
        OpenMetricsEncoder::finish(self);
    }
}

impl Sink for OpenMetricsEncoder<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        // A counter (or info) named without its suffix is no valid OpenMetrics counter (or
        // info): it is written as `unknown`, as Go does for counters.
        let suffix = header.kind.family_suffix();
        let (short, kind) = if suffix.is_empty() {
            (header.name, header.kind.as_openmetrics())
        } else {
            match header.name.strip_suffix(suffix) {
                Some(short) => (short, header.kind.as_openmetrics()),
                None => (header.name, "unknown"),
            }
        };
        self.counter = kind == "counter";
        self.suffix = if kind == "unknown" { "" } else { suffix };
        self.gauge_histogram = header.kind == MetricType::GaugeHistogram;
        self.name.clear();
        self.name.push_str(short);
        let out = &mut *self.out;
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(short.as_bytes());
        out.push(b' ');
        write_help_openmetrics(out, header.help);
        out.extend_from_slice(b"\n# TYPE ");
        out.extend_from_slice(short.as_bytes());
        out.push(b' ');
        out.extend_from_slice(kind.as_bytes());
        out.push(b'\n');
        if !header.unit.is_empty() {
            out.extend_from_slice(b"# UNIT ");
            out.extend_from_slice(short.as_bytes());
            out.push(b' ');
            out.extend_from_slice(header.unit.as_bytes());
            out.push(b'\n');
        }
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        let name = std::mem::take(&mut self.name);
        let total = self.suffix;
        match value {
            Value::CounterU64(v) => {
                write_series(self.out, &name, total, labels, None);
                write_om_u64(self.out, v);
                self.end(meta, meta.exemplar.filter(|_| self.counter));
                if self.counter {
                    self.created(&name, labels, meta);
                }
            }
            Value::CounterF64(v) => {
                write_series(self.out, &name, total, labels, None);
                write_om_float(self.out, v);
                self.end(meta, meta.exemplar.filter(|_| self.counter));
                if self.counter {
                    self.created(&name, labels, meta);
                }
            }
            Value::GaugeI64(v) => {
                write_series(self.out, &name, total, labels, None);
                // Go holds every value as float64
                write_om_float(self.out, v as f64);
                self.end(meta, None);
            }
            Value::GaugeF64(v) | Value::Untyped(v) => {
                write_series(self.out, &name, total, labels, None);
                write_om_float(self.out, v);
                self.end(meta, None);
            }
            Value::Histogram(h) => with_bucket_buffer(|counts| {
                let sum = h.read(counts);
                let bounds = h.bounds();
                for (i, &count) in counts.iter().enumerate() {
                    let le = if i < bounds.len() { bounds.le_openmetrics(i) } else { "+Inf" };
                    write_series(self.out, &name, "_bucket", labels, Some(("le", le)));
                    write_int(self.out, count);
                    let exemplar = h.exemplar(i);
                    self.end(meta, exemplar.as_ref());
                }
                // A gauge histogram's `_gsum` may be negative: it is always written, with
                // `_gcount`, and no `_created` (it is a gauge).
                if self.gauge_histogram {
                    write_series(self.out, &name, "_gsum", labels, None);
                    write_om_float(self.out, sum);
                    self.end(meta, None);
                    write_series(self.out, &name, "_gcount", labels, None);
                    write_int(self.out, counts.last().copied().unwrap_or(0));
                    self.end(meta, None);
                    return;
                }
                // OpenMetrics: with a negative bucket bound the sum is no counter, so there MUST
                // be no `_sum`, and `_count` appears if and only if `_sum` does. (Go writes both,
                // which strict parsers reject.) Bounds are sorted: the first is the lowest.
                if bounds.bounds().first().is_none_or(|&lowest| lowest >= 0.0) {
                    write_series(self.out, &name, "_sum", labels, None);
                    write_om_float(self.out, sum);
                    self.end(meta, None);
                    write_series(self.out, &name, "_count", labels, None);
                    write_int(self.out, counts.last().copied().unwrap_or(0));
                    self.end(meta, None);
                }
                self.created(&name, labels, meta);
            }),
            Value::Summary(q) => with_quantile_buffer(|values| {
                let (count, sum) = q.read(values);
                let quantiles = q.quantiles();
                for (i, &v) in values.iter().enumerate() {
                    write_series(
                        self.out,
                        &name,
                        "",
                        labels,
                        Some(("quantile", quantiles.label_openmetrics(i))),
                    );
                    write_om_float(self.out, v);
                    self.end(meta, None);
                }
                write_series(self.out, &name, "_sum", labels, None);
                write_om_float(self.out, sum);
                self.end(meta, None);
                write_series(self.out, &name, "_count", labels, None);
                write_int(self.out, count);
                self.end(meta, None);
                self.created(&name, labels, meta);
            }),
        }
        self.name = name;
    }
}
