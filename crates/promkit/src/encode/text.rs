//! Prometheus text format 0.0.4, written exactly as Go's `expfmt.MetricFamilyToText` does.

use crate::model::{EscapingScheme, FamilyHeader, Labels, SampleMeta, Sink, Value};

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
}

impl<'a> TextEncoder<'a> {
    /// An encoder appending to `out`, escaping names with the default scheme
    /// ([`EscapingScheme::Underscores`], as Go's encoder without an `escaping=`).
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self::with_escaping(out, EscapingScheme::default())
    }

    /// An encoder appending to `out`, names written as `escaping` says.
    pub fn with_escaping(out: &'a mut Vec<u8>, escaping: EscapingScheme) -> Self {
        Self { out, name: FamilyName::new(), escaping }
    }
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
        self.out
    }

    fn finish(self) {}
}

impl Sink for TextEncoder<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        // The name is kept for the samples that follow, rendered into a reused buffer, so a
        // warm encoder does not allocate.
        self.name.set(header.name, self.escaping);
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

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
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
