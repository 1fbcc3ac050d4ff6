//! Exposition formats: each format, and each rule shared by formats, in its own file.

mod openmetrics;
#[cfg(feature = "protobuf")]
mod protobuf;
mod text;

use std::cell::{Cell, RefCell};

pub use openmetrics::OpenMetricsEncoder;
#[cfg(feature = "protobuf")]
pub use protobuf::{PROTOBUF_CONTENT_TYPE, ProtobufEncoder};
pub use text::TextEncoder;

use crate::model::Labels;

/// The Content-Type of the Prometheus text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The Content-Type of OpenMetrics 1.0.0 text.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format and its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// Prometheus text format 0.0.4, byte-identical to Go's `expfmt`.
    #[default]
    Text,
    /// OpenMetrics 1.0.0 text, ending in `# EOF`.
    OpenMetrics {
        /// Write `_created` samples for counters, histograms and summaries (off by default:
        /// without Prometheus' created-timestamp feature they double the series).
        created_samples: bool,
    },
    /// Length-delimited `io.prometheus.client.MetricFamily` protobuf messages (feature
    /// `protobuf`), with created timestamps.
    #[cfg(feature = "protobuf")]
    Protobuf,
}

impl Format {
    /// OpenMetrics without `_created` samples.
    pub const OPENMETRICS: Format = Format::OpenMetrics { created_samples: false };

    /// The Content-Type header value for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            Format::OpenMetrics { .. } => OPENMETRICS_CONTENT_TYPE,
            #[cfg(feature = "protobuf")]
            Format::Protobuf => PROTOBUF_CONTENT_TYPE,
        }
    }
}

thread_local! {
    /// Cumulative bucket counts of the histogram being written, reused across scrapes so a warm
    /// thread encodes without allocating.
    static BUCKETS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// The name buffer an encoder keeps the current family's name in, handed from one encoder
    /// to the next: a registry makes a new encoder per scrape, and a fresh `String` per scrape
    /// would allocate (and grow) every time.
    static NAME: Cell<String> = const { Cell::new(String::new()) };
}

/// The thread's reusable name buffer (empty if another encoder holds it, or during teardown).
pub(crate) fn take_name_buffer() -> String {
    NAME.try_with(Cell::take).unwrap_or_default()
}

/// Gives the name buffer back for the thread's next encoder.
pub(crate) fn return_name_buffer(name: String) {
    let _ = NAME.try_with(|cell| cell.set(name));
}

thread_local! {
    /// Quantile values of the summary being written, reused like `BUCKETS`.
    static QUANTILES: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the thread's reusable quantile buffer.
pub(crate) fn with_quantile_buffer<R>(f: impl FnOnce(&mut Vec<f64>) -> R) -> R {
    QUANTILES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

/// Runs `f` with the thread's reusable bucket buffer.
pub(crate) fn with_bucket_buffer<R>(f: impl FnOnce(&mut Vec<u64>) -> R) -> R {
    BUCKETS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

/// Appends `name suffix {labels, extra="value"}` (braces only when there is a label).
#[inline]
pub(crate) fn write_series(
    out: &mut Vec<u8>,
    name: &str,
    suffix: &str,
    labels: &Labels<'_>,
    extra: Option<(&str, &str)>,
) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    let has_labels = !labels.is_empty();
    if has_labels || extra.is_some() {
        out.push(b'{');
        labels.write_escaped(out);
        if let Some((n, v)) = extra {
            if has_labels {
                out.push(b',');
            }
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b"=\"");
            out.extend_from_slice(v.as_bytes());
            out.push(b'"');
        }
        out.push(b'}');
    }
    out.push(b' ');
}
