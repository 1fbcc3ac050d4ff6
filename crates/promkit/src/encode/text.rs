//! Prometheus text format 0.0.4, written exactly as Go's `expfmt.MetricFamilyToText` does.

use crate::model::{
    EscapingScheme, FamilyHeader, LabelTemplate, Labels, SampleMeta, Sink, StoredSample, Value,
};

use super::line::{LineKind, Pieces, Room};
use super::{Encoder, FamilyName, with_bucket_buffer, with_quantile_buffer, write_series};
use crate::syntax::escape::write_help_text;
use crate::syntax::float::{write_go_float, write_go_u64, write_int};

/// A [`Sink`] that appends text 0.0.4 to a byte buffer.
///
/// HELP escapes `\` and newline (quotes stay raw), label values escape `\`, `"` and newline,
/// numbers are Go's shortest `%g` (`1e+06`, `+Inf`), and explicit timestamps are milliseconds.
/// A name outside the legacy character set is escaped with the [`EscapingScheme`], or, with
/// [`EscapingScheme::AllowUtf8`], quoted as Go's `writeName` does (`{"a.b",le="1"} 3`, and
/// `# TYPE "a.b" histogram`): the syntax of text 1.0.0, which Prometheus 3 reads.
#[derive(Debug)]
pub struct TextEncoder<'a> {
    out: &'a mut Vec<u8>,
    name: FamilyName,
    escaping: EscapingScheme,
    /// The current family's line pieces, for series in promkit's stored form.
    pieces: Pieces,
}

impl<'a> TextEncoder<'a> {
    /// An encoder appending to `out`, escaping names with the default scheme
    /// ([`EscapingScheme::Underscores`], as Go's encoder without an `escaping=`).
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self::with_escaping(out, EscapingScheme::default())
    }

    /// An encoder appending to `out`, names written as `escaping` says.
    pub fn with_escaping(out: &'a mut Vec<u8>, escaping: EscapingScheme) -> Self {
        Self { out, name: FamilyName::new(), escaping, pieces: Pieces::take() }
    }

    /// Writes a run of scalar series in the stored form through the line pieces, in room made
    /// once for the run.
    fn scalar_run(&mut self, template: &LabelTemplate, run: &[StoredSample<'_>]) {
        const SCALAR: &[LineKind] = &[LineKind { suffix: "", extra: false }];
        let Pieces { shape, scratch, slack } = &mut self.pieces;
        shape.prepare(template, self.escaping, &self.name, SCALAR, "");
        let keys: usize = run.iter().map(|s| s.key.len()).sum();
        let mut room = Room::new(self.out, slack, scratch, keys + run.len() * shape.line_bound(0, 0));
        for s in run {
            room.series(shape, 0, s.key.as_bytes(), s.readable, false);
            match s.value {
                Value::CounterU64(v) => room.go_u64(v),
                // Go holds every value as float64
                Value::GaugeI64(v) => room.go_float(v as f64),
                Value::CounterF64(v) | Value::GaugeF64(v) | Value::Untyped(v) => room.go_float(v),
                Value::Histogram(_) | Value::Summary(_) => {}
            }
            room.byte(b'\n');
        }
    }

    /// Writes one series in the stored form, with no timestamp, through the line pieces.
    fn stored_sample(&mut self, template: &LabelTemplate, key: &str, value: Value<'_>) {
        const HISTOGRAM: &[LineKind] = &[
            LineKind { suffix: "_bucket", extra: true },
            LineKind { suffix: "_sum", extra: false },
            LineKind { suffix: "_count", extra: false },
        ];
        const SUMMARY: &[LineKind] = &[
            LineKind { suffix: "", extra: true },
            LineKind { suffix: "_sum", extra: false },
            LineKind { suffix: "_count", extra: false },
        ];
        if is_scalar(value) {
            return self.scalar_run(template, &[StoredSample::new(key, value, None)]);
        }
        let Pieces { shape, scratch, slack } = &mut self.pieces;
        let key = key.as_bytes();
        let (name, esc) = (&self.name, self.escaping);
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
                let estimate = (counts.len() + 2) * shape.line_bound(key.len(), 24);
                let mut room = Room::new(self.out, slack, scratch, estimate);
                for (i, &count) in counts.iter().enumerate() {
                    let le = if i < bounds.len() { bounds.le_text(i) } else { "+Inf" };
                    room.ensure(shape.line_bound(key.len(), le.len()));
                    room.series(shape, 0, key, key, true);
                    room.bytes(le.as_bytes());
                    room.close_extra();
                    room.go_u64(count);
                    room.byte(b'\n');
                }
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, 1, key, key, false);
                room.go_float(sum);
                room.byte(b'\n');
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, 2, key, key, false);
                room.go_u64(counts.last().copied().unwrap_or(0));
                room.byte(b'\n');
            }),
            Value::Summary(q) => with_quantile_buffer(|values| {
                let (count, sum) = q.read(values);
                let quantiles = q.quantiles();
                shape.prepare(template, esc, name, SUMMARY, "quantile");
                let estimate = (values.len() + 2) * shape.line_bound(key.len(), 24);
                let mut room = Room::new(self.out, slack, scratch, estimate);
                for (i, &v) in values.iter().enumerate() {
                    let label = quantiles.label_text(i);
                    room.ensure(shape.line_bound(key.len(), label.len()));
                    room.series(shape, 0, key, key, true);
                    room.bytes(label.as_bytes());
                    room.close_extra();
                    room.go_float(v);
                    room.byte(b'\n');
                }
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, 1, key, key, false);
                room.go_float(sum);
                room.byte(b'\n');
                room.ensure(shape.line_bound(key.len(), 0));
                room.series(shape, 2, key, key, false);
                room.go_u64(count);
                room.byte(b'\n');
            }),
        }
    }
}

/// Whether `value` is written as one line.
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

fn end(out: &mut Vec<u8>, meta: &SampleMeta<'_>) {
    if let Some(ts) = meta.timestamp_ms {
        out.push(b' ');
        write_int(out, ts);
    }
    out.push(b'\n');
}

impl Encoder for TextEncoder<'_> {
    fn buffer(&mut self) -> &mut Vec<u8> {
        self.pieces.trim(self.out);
        self.out
    }

    fn finish(self) {}
}

impl Drop for TextEncoder<'_> {
    /// Leaves only the output in the buffer: the stored series' room is cut off.
    fn drop(&mut self) {
        self.pieces.trim(self.out);
    }
}

impl Sink for TextEncoder<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        // The name is kept for the samples that follow, rendered into a reused buffer, so a
        // warm encoder does not allocate.
        self.name.set(header.name, self.escaping);
        self.pieces.reset();
        self.pieces.trim(self.out);
        let out = &mut *self.out;
        out.extend_from_slice(b"# HELP ");
        self.name.write(out);
        out.push(b' ');
        write_help_text(out, header.help);
        out.extend_from_slice(b"\n# TYPE ");
        self.name.write(out);
        out.push(b' ');
        out.extend_from_slice(header.kind.as_text().as_bytes());
        out.push(b'\n');
    }

    fn stored_samples(&mut self, template: &LabelTemplate, samples: &[StoredSample<'_>]) {
        if samples.iter().all(|s| is_scalar(s.value)) {
            return self.scalar_run(template, samples);
        }
        for s in samples {
            self.stored_sample(template, s.key, s.value);
        }
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        if let (Labels::Stored { template, values }, None) = (labels, meta.timestamp_ms) {
            return self.stored_sample(template, values, value);
        }
        self.pieces.trim(self.out);
        let Self { out, name, escaping, .. } = self;
        let (out, name, esc) = (&mut **out, &*name, *escaping);
        match value {
            Value::CounterU64(v) => {
                write_series(out, name, "", labels, esc, None);
                write_go_u64(out, v);
                end(out, meta);
            }
            Value::GaugeI64(v) => {
                write_series(out, name, "", labels, esc, None);
                // Go holds every value as float64
                write_go_float(out, v as f64);
                end(out, meta);
            }
            Value::CounterF64(v) | Value::GaugeF64(v) | Value::Untyped(v) => {
                write_series(out, name, "", labels, esc, None);
                write_go_float(out, v);
                end(out, meta);
            }
            Value::Histogram(h) => with_bucket_buffer(|counts| {
                let sum = h.read(counts);
                let bounds = h.bounds();
                for (i, &count) in counts.iter().enumerate() {
                    let le = if i < bounds.len() { bounds.le_text(i) } else { "+Inf" };
                    write_series(out, name, "_bucket", labels, esc, Some(("le", le)));
                    write_go_u64(out, count);
                    end(out, meta);
                }
                write_series(out, name, "_sum", labels, esc, None);
                write_go_float(out, sum);
                end(out, meta);
                write_series(out, name, "_count", labels, esc, None);
                write_go_u64(out, counts.last().copied().unwrap_or(0));
                end(out, meta);
            }),
            Value::Summary(q) => with_quantile_buffer(|values| {
                let (count, sum) = q.read(values);
                let quantiles = q.quantiles();
                for (i, &v) in values.iter().enumerate() {
                    write_series(out, name, "", labels, esc, Some(("quantile", quantiles.label_text(i))));
                    write_go_float(out, v);
                    end(out, meta);
                }
                write_series(out, name, "_sum", labels, esc, None);
                write_go_float(out, sum);
                end(out, meta);
                write_series(out, name, "_count", labels, esc, None);
                write_go_u64(out, count);
                end(out, meta);
            }),
        }
    }
}
