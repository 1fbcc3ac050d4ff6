//! OpenMetrics 1.0.0 text, written as Go's `expfmt.MetricFamilyToOpenMetrics` does.

use crate::model::{
    EscapingScheme, Exemplar, FamilyHeader, LabelTemplate, Labels, MetricType, SampleMeta, Sink,
    StoredSample, Value,
};

use super::line::{LineKind, Pieces, Room};
use super::{CreatedSamples, Encoder, FamilyName, with_bucket_buffer, with_quantile_buffer, write_series};
use crate::syntax::escape::{write_help_openmetrics, write_label_value};
use crate::syntax::float::{write_int, write_om_float, write_om_timestamp_ms, write_om_u64};

/// A [`Sink`] that appends OpenMetrics 1.0.0 text to a byte buffer; call
/// [`finish`](Self::finish) for the closing `# EOF`.
///
/// A counter's family name drops `_total` and its sample keeps it; a counter named without
/// `_total` is written as `unknown` (a valid OpenMetrics family) as Go does. Floats are the
/// canonical `1.0` form, bucket counts and `_count` integers, timestamps seconds. A histogram
/// with a negative bucket bound has no `_sum` and no `_count`, as OpenMetrics requires.
///
/// A name outside the legacy character set is escaped with the [`EscapingScheme`] (before a
/// counter's `_total` is dropped, as Go does), or, with [`EscapingScheme::AllowUtf8`], quoted
/// as Go's `writeOpenMetricsNameAndLabelPairs` does: `{"a.b_total"} 1.0` and
/// `# TYPE "a.b" counter`, the UTF-8 syntax Prometheus 3 reads in OpenMetrics 1.0.0.
#[derive(Debug)]
pub struct OpenMetricsEncoder<'a> {
    out: &'a mut Vec<u8>,
    created_samples: CreatedSamples,
    /// Name written on sample lines: the family name (a counter's without `_total`).
    name: FamilyName,
    /// Whether the current family is a counter written as an OpenMetrics counter.
    counter: bool,
    /// The suffix the current family's value samples carry: `_total` on a counter, `_info`
    /// on an info (both stripped from the family name), or empty.
    suffix: &'static str,
    /// Whether the current family is a gauge histogram (`_gsum` and `_gcount`).
    gauge_histogram: bool,
    escaping: EscapingScheme,
    /// The current family's line pieces, for series in promkit's stored form.
    pieces: Pieces,
}

impl<'a> OpenMetricsEncoder<'a> {
    /// An encoder appending to `out`, with or without `_created` lines, escaping names with
    /// the default scheme ([`EscapingScheme::Underscores`], as Go's encoder without an
    /// `escaping=`).
    pub fn new(out: &'a mut Vec<u8>, created_samples: CreatedSamples) -> Self {
        Self {
            out,
            created_samples,
            name: FamilyName::new(),
            counter: false,
            suffix: "",
            gauge_histogram: false,
            escaping: EscapingScheme::default(),
            pieces: Pieces::take(),
        }
    }

    /// The same encoder, names written as `escaping` says.
    #[must_use]
    pub fn escaping(mut self, escaping: EscapingScheme) -> Self {
        self.escaping = escaping;
        self
    }

    /// Appends the closing `# EOF` line.
    pub fn finish(mut self) {
        self.pieces.trim(self.out);
        self.out.extend_from_slice(b"# EOF\n");
    }

    /// Writes a run of scalar series in the stored form through the line pieces, in room made
    /// once for the run: the value line, and a counter's `_created` line when asked for.
    fn scalar_run(&mut self, template: &LabelTemplate, run: &[StoredSample<'_>]) {
        let write_created = self.counter && self.created_samples == CreatedSamples::Write;
        let kinds =
            [LineKind { suffix: self.suffix, extra: false }, LineKind { suffix: "_created", extra: false }];
        let Pieces { shape, scratch, slack } = &mut self.pieces;
        shape.prepare(template, self.escaping, &self.name, &kinds, "");
        let keys: usize = run.iter().map(|s| s.key.len()).sum();
        let lines = if write_created { 2 } else { 1 };
        let estimate = lines * (keys + run.len() * shape.line_bound(0, 0));
        let mut room = Room::new(self.out, slack, scratch, estimate);
        for s in run {
            let key = s.key.as_bytes();
            room.series(shape, 0, key, s.readable, false);
            let counter_value = match s.value {
                Value::CounterU64(v) => {
                    room.om_u64(v);
                    true
                }
                Value::CounterF64(v) => {
                    room.om_float(v);
                    true
                }
                // Go holds every value as float64
                Value::GaugeI64(v) => {
                    room.om_float(v as f64);
                    false
                }
                Value::GaugeF64(v) | Value::Untyped(v) => {
                    room.om_float(v);
                    false
                }
                Value::Histogram(_) | Value::Summary(_) => false,
            };
            room.byte(b'\n');
            // `_created`, after the point's value line.
            if let (true, true, Some(created)) = (write_created, counter_value, s.created) {
                room.series(shape, 1, key, s.readable, false);
                room.om_float(created);
                room.byte(b'\n');
            }
        }
    }

    /// Writes one series in the stored form, with no timestamp and no counter exemplar,
    /// through the line pieces (gauge histograms take the general path).
    fn stored_sample(&mut self, template: &LabelTemplate, key: &str, value: Value<'_>, created: Option<f64>) {
        const HISTOGRAM: &[LineKind] = &[
            LineKind { suffix: "_bucket", extra: true },
            LineKind { suffix: "_sum", extra: false },
            LineKind { suffix: "_count", extra: false },
            LineKind { suffix: "_created", extra: false },
        ];
        const SUMMARY: &[LineKind] = &[
            LineKind { suffix: "", extra: true },
            LineKind { suffix: "_sum", extra: false },
            LineKind { suffix: "_count", extra: false },
            LineKind { suffix: "_created", extra: false },
        ];
        if is_scalar(value) {
            return self.scalar_run(template, &[StoredSample::new(key, value, created)]);
        }
        let created = created.filter(|_| self.created_samples == CreatedSamples::Write);
        let Pieces { shape, scratch, slack } = &mut self.pieces;
        let key = key.as_bytes();
        let (name, esc) = (&self.name, self.escaping);
        // `_created`, after the point's other lines: the last head of every kind.
        let write_created = |room: &mut Room<'_>, shape: &super::line::Shape, head: usize| {
            if let Some(created) = created {
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, head, key, key, false);
                room.om_float(created);
                room.byte(b'\n');
            }
        };
        match value {
            // Written above.
            Value::CounterU64(_)
            | Value::GaugeI64(_)
            | Value::CounterF64(_)
            | Value::GaugeF64(_)
            | Value::Untyped(_) => {}
            Value::Histogram(h) => with_bucket_buffer(|counts| {
                let sum = h.read(counts);
                let bounds = h.bounds();
                shape.prepare(template, esc, name, HISTOGRAM, "le");
                let estimate = (counts.len() + 3) * shape.line_bound(key.len(), 24);
                let mut room = Room::new(self.out, slack, scratch, estimate);
                for (i, &count) in counts.iter().enumerate() {
                    let le = if i < bounds.len() { bounds.le_openmetrics(i) } else { "+Inf" };
                    room.ensure(shape.line_bound(key.len(), le.len()));
                    room.series(shape, 0, key, key, true);
                    room.bytes(le.as_bytes());
                    room.close_extra();
                    room.int(count);
                    h.exemplar(i, &mut |e| room.with_scratch(|out| write_exemplar(out, e)));
                    room.byte(b'\n');
                }
                // As the general path: no `_sum` and `_count` with a negative bucket bound.
                if bounds.bounds().first().is_none_or(|&lowest| lowest >= 0.0) {
                    room.ensure(shape.line_bound(key.len(), 0));
                    room.series(shape, 1, key, key, false);
                    room.om_float(sum);
                    room.byte(b'\n');
                    room.ensure(shape.line_bound(key.len(), 0));
                    room.series(shape, 2, key, key, false);
                    room.int(counts.last().copied().unwrap_or(0));
                    room.byte(b'\n');
                }
                write_created(&mut room, shape, 3);
            }),
            Value::Summary(q) => with_quantile_buffer(|values| {
                let (count, sum) = q.read(values);
                let quantiles = q.quantiles();
                shape.prepare(template, esc, name, SUMMARY, "quantile");
                let estimate = (values.len() + 3) * shape.line_bound(key.len(), 24);
                let mut room = Room::new(self.out, slack, scratch, estimate);
                for (i, &v) in values.iter().enumerate() {
                    let label = quantiles.label_openmetrics(i);
                    room.ensure(shape.line_bound(key.len(), label.len()));
                    room.series(shape, 0, key, key, true);
                    room.bytes(label.as_bytes());
                    room.close_extra();
                    room.om_float(v);
                    room.byte(b'\n');
                }
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, 1, key, key, false);
                room.om_float(sum);
                room.byte(b'\n');
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, 2, key, key, false);
                room.int(count);
                room.byte(b'\n');
                write_created(&mut room, shape, 3);
            }),
        }
    }
}

impl Drop for OpenMetricsEncoder<'_> {
    /// Leaves only the output in the buffer: the stored series' room is cut off.
    fn drop(&mut self) {
        self.pieces.trim(self.out);
    }
}

/// Whether `value` is written as one line (and a counter's `_created`).
fn is_scalar(value: Value<'_>) -> bool {
    matches!(
        value,
        Value::CounterU64(_)
            | Value::GaugeI64(_)
            | Value::CounterF64(_)
            | Value::GaugeF64(_)
            | Value::Untyped(_)
    )
}

/// Ends a sample line: the timestamp, then the exemplar (only counters' `_total` lines and
/// histogram buckets pass one, the only places OpenMetrics allows them).
fn end(out: &mut Vec<u8>, meta: &SampleMeta<'_>, exemplar: Option<&Exemplar>) {
    if let Some(ts) = meta.timestamp_ms {
        out.push(b' ');
        write_om_timestamp_ms(out, ts);
    }
    if let Some(e) = exemplar {
        write_exemplar(out, e);
    }
    out.push(b'\n');
}

/// Appends ` # {labels} value [timestamp]`.
fn write_exemplar(out: &mut Vec<u8>, e: &Exemplar) {
    out.extend_from_slice(b" # {");
    for (i, (n, v)) in e.labels().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b"=\"");
        write_label_value(out, v);
        out.push(b'"');
    }
    out.extend_from_slice(b"} ");
    write_om_float(out, e.value());
    if let Some(nanos) = e.timestamp_nanos() {
        out.push(b' ');
        // Go writes float64(nanoseconds) / 1e9 in its OpenMetrics float form.
        write_om_float(out, nanos as f64 / 1e9);
    }
}

/// What a sample line needs besides its value: the encoder's fields, borrowed apart.
struct Line<'s> {
    out: &'s mut Vec<u8>,
    name: &'s FamilyName,
    escaping: EscapingScheme,
    created_samples: CreatedSamples,
}

impl Line<'_> {
    fn series(&mut self, suffix: &str, labels: &Labels<'_>, extra: Option<(&str, &str)>) {
        write_series(self.out, self.name, suffix, labels, self.escaping, extra);
    }

    fn created(&mut self, labels: &Labels<'_>, meta: &SampleMeta<'_>) {
        if let (CreatedSamples::Write, Some(created)) = (self.created_samples, meta.created) {
            self.series("_created", labels, None);
            write_om_float(self.out, created);
            // The `_created` sample belongs to the same MetricPoint as the value, so it carries
            // the point's timestamp too, as Go's `writeOpenMetricsCreated` writes it.
            end(self.out, meta, None);
        }
    }
}

impl Encoder for OpenMetricsEncoder<'_> {
    fn buffer(&mut self) -> &mut Vec<u8> {
        self.pieces.trim(self.out);
        self.out
    }

    fn finish(self) {
        OpenMetricsEncoder::finish(self);
    }
}

impl Sink for OpenMetricsEncoder<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        // Escaped first, then `_total` (or an info's `_info`) dropped, as Go escapes the family
        // before writing it (a quoted name ends in the same suffix: quote escaping leaves ASCII
        // letters alone). A counter (or info) named without its suffix is no valid OpenMetrics
        // counter (or info): it is written as `unknown`, as Go does for counters.
        self.name.set(header.name, self.escaping);
        self.pieces.reset();
        self.pieces.trim(self.out);
        let suffix = header.kind.family_suffix();
        let kind = if suffix.is_empty() {
            header.kind.as_openmetrics()
        } else {
            match self.name.body.strip_suffix(suffix) {
                Some(short) => {
                    let len = short.len();
                    self.name.body.truncate(len);
                    header.kind.as_openmetrics()
                }
                None => "unknown",
            }
        };
        self.counter = kind == "counter";
        self.suffix = if kind == "unknown" { "" } else { suffix };
        self.gauge_histogram = header.kind == MetricType::GaugeHistogram;
        let out = &mut *self.out;
        out.extend_from_slice(b"# HELP ");
        self.name.write(out);
        out.push(b' ');
        write_help_openmetrics(out, header.help);
        out.extend_from_slice(b"\n# TYPE ");
        self.name.write(out);
        out.push(b' ');
        out.extend_from_slice(kind.as_bytes());
        out.push(b'\n');
        if !header.unit.is_empty() {
            out.extend_from_slice(b"# UNIT ");
            self.name.write(out);
            out.push(b' ');
            out.extend_from_slice(header.unit.as_bytes());
            out.push(b'\n');
        }
    }

    fn stored_samples(&mut self, template: &LabelTemplate, samples: &[StoredSample<'_>]) {
        if !self.gauge_histogram && samples.iter().all(|s| is_scalar(s.value)) {
            return self.scalar_run(template, samples);
        }
        for s in samples {
            let meta = SampleMeta { created: s.created, ..SampleMeta::default() };
            self.sample(&Labels::Stored { template, values: s.key }, s.value, &meta);
        }
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        if let (Labels::Stored { template, values }, None, None, false) =
            (labels, meta.timestamp_ms, meta.exemplar, self.gauge_histogram)
        {
            return self.stored_sample(template, values, value, meta.created);
        }
        self.pieces.trim(self.out);
        let counter = self.counter;
        let gauge_histogram = self.gauge_histogram;
        let total = self.suffix;
        let mut line = Line {
            out: self.out,
            name: &self.name,
            escaping: self.escaping,
            created_samples: self.created_samples,
        };
        match value {
            Value::CounterU64(v) => {
                line.series(total, labels, None);
                write_om_u64(line.out, v);
                end(line.out, meta, meta.exemplar.filter(|_| counter));
                if counter {
                    line.created(labels, meta);
                }
            }
            Value::CounterF64(v) => {
                line.series(total, labels, None);
                write_om_float(line.out, v);
                end(line.out, meta, meta.exemplar.filter(|_| counter));
                if counter {
                    line.created(labels, meta);
                }
            }
            Value::GaugeI64(v) => {
                line.series(total, labels, None);
                // Go holds every value as float64
                write_om_float(line.out, v as f64);
                end(line.out, meta, None);
            }
            Value::GaugeF64(v) | Value::Untyped(v) => {
                line.series(total, labels, None);
                write_om_float(line.out, v);
                end(line.out, meta, None);
            }
            Value::Histogram(h) => with_bucket_buffer(|counts| {
                let sum = h.read(counts);
                let bounds = h.bounds();
                for (i, &count) in counts.iter().enumerate() {
                    let le = if i < bounds.len() { bounds.le_openmetrics(i) } else { "+Inf" };
                    line.series("_bucket", labels, Some(("le", le)));
                    write_int(line.out, count);
                    if !h.exemplar(i, &mut |e| end(line.out, meta, Some(e))) {
                        end(line.out, meta, None);
                    }
                }
                // A gauge histogram's `_gsum` may be negative: it is always written, with
                // `_gcount`, and no `_created` (it is a gauge).
                if gauge_histogram {
                    line.series("_gsum", labels, None);
                    write_om_float(line.out, sum);
                    end(line.out, meta, None);
                    line.series("_gcount", labels, None);
                    write_int(line.out, counts.last().copied().unwrap_or(0));
                    end(line.out, meta, None);
                    return;
                }
                // OpenMetrics: with a negative bucket bound the sum is no counter, so there MUST
                // be no `_sum`, and `_count` appears if and only if `_sum` does. (Go writes both,
                // which strict parsers reject.) Bounds are sorted: the first is the lowest.
                if bounds.bounds().first().is_none_or(|&lowest| lowest >= 0.0) {
                    line.series("_sum", labels, None);
                    write_om_float(line.out, sum);
                    end(line.out, meta, None);
                    line.series("_count", labels, None);
                    write_int(line.out, counts.last().copied().unwrap_or(0));
                    end(line.out, meta, None);
                }
                line.created(labels, meta);
            }),
            Value::Summary(q) => with_quantile_buffer(|values| {
                let (count, sum) = q.read(values);
                let quantiles = q.quantiles();
                for (i, &v) in values.iter().enumerate() {
                    line.series("", labels, Some(("quantile", quantiles.label_openmetrics(i))));
                    write_om_float(line.out, v);
                    end(line.out, meta, None);
                }
                line.series("_sum", labels, None);
                write_om_float(line.out, sum);
                end(line.out, meta, None);
                line.series("_count", labels, None);
                write_int(line.out, count);
                end(line.out, meta, None);
                line.created(labels, meta);
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point with an explicit timestamp writes it on every one of its lines, `_created`
    /// included (OpenMetrics keeps a MetricPoint's samples at one time; Go writes it so, and
    /// Python's parser refuses the point when `_created` lacks it: "Mix of timestamp presence
    /// within a group").
    #[test]
    fn a_created_line_carries_its_points_timestamp() {
        let mut out = Vec::new();
        let mut enc = OpenMetricsEncoder::new(&mut out, CreatedSamples::Write);
        enc.family(&FamilyHeader { name: "jobs_total", help: "Jobs.", unit: "", kind: MetricType::Counter });
        let meta = SampleMeta { timestamp_ms: Some(1_500), created: Some(1.25), exemplar: None };
        enc.sample(&Labels::None, Value::CounterU64(3), &meta);
        enc.finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP jobs Jobs.\n# TYPE jobs counter\njobs_total 3.0 1.5\njobs_created 1.25 1.5\n# EOF\n"
        );
    }
}
