//! Prometheus text format 0.0.4, written exactly as Go's `expfmt.MetricFamilyToText` does.

use crate::model::{FamilyHeader, Labels, SampleMeta, Sink, Value};

use super::{Encoder, with_bucket_buffer, with_quantile_buffer, write_series};
use crate::syntax::escape::write_help_text;
use crate::syntax::float::{write_go_float, write_go_u64, write_int};

/// A [`Sink`] that appends text 0.0.4 to a byte buffer.
///
/// HELP escapes `\` and newline (quotes stay raw), label values escape `\`, `"` and newline,
/// numbers are Go's shortest `%g` (`1e+06`, `+Inf`), and explicit timestamps are milliseconds.
#[derive(Debug)]
pub struct TextEncoder<'a> {
    out: &'a mut Vec<u8>,
    name: String,
}

impl<'a> TextEncoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out, name: super::take_name_buffer() }
    }

    fn end(&mut self, meta: &SampleMeta<'_>) {
        if let Some(ts) = meta.timestamp_ms {
            self.out.push(b' ');
            write_int(self.out, ts);
        }
        self.out.push(b'\n');
    }
}

impl Drop for TextEncoder<'_> {
    fn drop(&mut self) {
        super::return_name_buffer(std::mem::take(&mut self.name));
    }
}

impl Encoder for TextEncoder<'_> {
    fn buffer(&mut self) -> &mut Vec<u8> {
        self.out
    }

    fn finish(self) {}
}

impl Sink for TextEncoder<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        // The name is kept for the samples that follow; `clear` + `push_str` reuses the
        // allocation, so a warm encoder does not allocate.
        self.name.clear();
        self.name.push_str(header.name);
        let out = &mut *self.out;
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(header.name.as_bytes());
        out.push(b' ');
        write_help_text(out, header.help);
        out.extend_from_slice(b"\n# TYPE ");
        out.extend_from_slice(header.name.as_bytes());
        out.push(b' ');
        out.extend_from_slice(header.kind.as_text().as_bytes());
        out.push(b'\n');
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        let name = std::mem::take(&mut self.name);
        match value {
            Value::CounterU64(v) => {
                write_series(self.out, &name, "", labels, None);
                write_go_u64(self.out, v);
                self.end(meta);
            }
            Value::GaugeI64(v) => {
                write_series(self.out, &name, "", labels, None);
                // Go holds every value as float64
                write_go_float(self.out, v as f64);
                self.end(meta);
            }
            Value::CounterF64(v) | Value::GaugeF64(v) | Value::Untyped(v) => {
                write_series(self.out, &name, "", labels, None);
                write_go_float(self.out, v);
                self.end(meta);
            }
            Value::Histogram(h) => with_bucket_buffer(|counts| {
                let sum = h.read(counts);
                let bounds = h.bounds();
                for (i, &count) in counts.iter().enumerate() {
                    let le = if i < bounds.len() { bounds.le_text(i) } else { "+Inf" };
                    write_series(self.out, &name, "_bucket", labels, Some(("le", le)));
                    write_go_u64(self.out, count);
                    self.end(meta);
                }
                write_series(self.out, &name, "_sum", labels, None);
                write_go_float(self.out, sum);
                self.end(meta);
                write_series(self.out, &name, "_count", labels, None);
                write_go_u64(self.out, counts.last().copied().unwrap_or(0));
                self.end(meta);
            }),
            Value::Summary(q) => with_quantile_buffer(|values| {
                let (count, sum) = q.read(values);
                let quantiles = q.quantiles();
                for (i, &v) in values.iter().enumerate() {
                    write_series(self.out, &name, "", labels, Some(("quantile", quantiles.label_text(i))));
                    write_go_float(self.out, v);
                    self.end(meta);
                }
                write_series(self.out, &name, "_sum", labels, None);
                write_go_float(self.out, sum);
                self.end(meta);
                write_series(self.out, &name, "_count", labels, None);
                write_go_u64(self.out, count);
                self.end(meta);
            }),
        }
        self.name = name;
    }
}
