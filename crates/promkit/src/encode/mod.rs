//! Exposition formats: each format in its own file, and the one place a [`Format`] picks its
//! encoder. Adding a format touches this module only.

mod line;
mod openmetrics;
#[cfg(feature = "protobuf")]
mod protobuf;
mod text;

use std::cell::{Cell, RefCell};

pub use openmetrics::OpenMetricsEncoder;
#[cfg(feature = "protobuf")]
pub use protobuf::{PROTOBUF_CONTENT_TYPE, ProtobufEncoder};
pub use text::TextEncoder;

/// Prometheus 3's name escaping, chosen per encoding (see
/// [`EncodeOptions::escaping`](crate::registry::EncodeOptions::escaping)).
pub use crate::model::EscapingScheme;

use crate::model::{CollectError, Labels, MetricFamily, Sink};

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
        /// Whether counters, histograms and summaries get `_created` samples.
        created_samples: CreatedSamples,
    },
    /// Length-delimited `io.prometheus.client.MetricFamily` protobuf messages (feature
    /// `protobuf`), with created timestamps.
    #[cfg(feature = "protobuf")]
    Protobuf,
}

impl Format {
    /// OpenMetrics without `_created` samples.
    pub const OPENMETRICS: Format = Format::OpenMetrics { created_samples: CreatedSamples::Omit };

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

/// An encoder of one format: a [`Sink`] appending to a byte buffer, whose output can be cut
/// back to a mark (to drop a failed collector's partial output) and that is finished once.
pub(crate) trait Encoder: Sink {
    /// The buffer the encoder appends to.
    fn buffer(&mut self) -> &mut Vec<u8>;

    /// Writes out whatever the encoder holds back (protobuf keeps the family in progress).
    fn flush(&mut self) {}

    /// Forgets whatever the encoder holds back.
    fn discard(&mut self) {}

    /// Ends the output (OpenMetrics' `# EOF`, protobuf's last family).
    fn finish(self);

    /// A point the output can later be cut back to, at a family boundary.
    fn mark(&mut self) -> usize {
        self.flush();
        self.buffer().len()
    }

    /// Cuts the output back to `mark`, dropping everything written (or held back) since.
    fn truncate(&mut self, mark: usize) {
        self.discard();
        self.buffer().truncate(mark);
    }
}

/// Work done with whichever encoder a format selects: collecting a registry, replaying a
/// snapshot.
pub(crate) trait EncodeJob {
    /// What the job returns on success.
    type Output;

    /// Feeds `encoder`.
    ///
    /// # Errors
    /// A failure that stops the encoding; the output is then left unfinished.
    fn run<E: Encoder>(self, encoder: &mut E) -> Result<Self::Output, CollectError>;
}

/// Runs `job` with the encoder for `format` appending to `out`, names outside the legacy
/// character set written as `escaping` says, and finishes the output when the job succeeds
/// (on failure `out` holds what was written before it). The one place a format is mapped to
/// its encoder.
///
/// # Errors
/// The job's.
pub(crate) fn encode<J: EncodeJob>(
    format: Format,
    escaping: EscapingScheme,
    out: &mut Vec<u8>,
    job: J,
) -> Result<J::Output, CollectError> {
    fn run<E: Encoder, J: EncodeJob>(mut encoder: E, job: J) -> Result<J::Output, CollectError> {
        let output = job.run(&mut encoder)?;
        encoder.finish();
        Ok(output)
    }
    match format {
        Format::Text => run(TextEncoder::with_escaping(out, escaping), job),
        Format::OpenMetrics { created_samples } => {
            run(OpenMetricsEncoder::new(out, created_samples).escaping(escaping), job)
        }
        #[cfg(feature = "protobuf")]
        Format::Protobuf => run(ProtobufEncoder::with_escaping(out, escaping), job),
    }
}

/// Appends gathered (or parsed) families in `format`, names outside the legacy character set
/// escaped with the default scheme ([`EscapingScheme::Underscores`], as Go's encoder without
/// an `escaping=`); [`encode_families_with`] chooses.
pub fn encode_families(families: &[MetricFamily], format: Format, out: &mut Vec<u8>) {
    encode_families_with(families, format, EscapingScheme::default(), out);
}

/// Appends gathered (or parsed) families in `format`, names outside the legacy character set
/// written as `escaping` says.
pub fn encode_families_with(
    families: &[MetricFamily],
    format: Format,
    escaping: EscapingScheme,
    out: &mut Vec<u8>,
) {
    struct Replay<'a>(&'a [MetricFamily]);
    impl EncodeJob for Replay<'_> {
        type Output = ();
        fn run<E: Encoder>(self, encoder: &mut E) -> Result<(), CollectError> {
            self.0.iter().for_each(|f| f.replay(encoder));
            Ok(())
        }
    }
    // Replaying a snapshot cannot fail.
    let _ = encode(format, escaping, out, Replay(families));
}

/// Whether OpenMetrics output carries `_created` samples (Go's
/// `EnableOpenMetricsTextCreatedSamples`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CreatedSamples {
    /// No `_created` lines (the default: without Prometheus' created-timestamp feature they
    /// double the series).
    #[default]
    Omit,
    /// A `_created` line, in seconds since the epoch, after each counter, histogram and summary
    /// series (never gauges).
    Write,
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

/// A family name as the text formats write it under one escaping scheme: the name (escaped,
/// or escaped for quotes), and whether it is quoted inside the braces.
#[derive(Debug, Default)]
pub(crate) struct FamilyName {
    /// The rendered name; a buffer reused from family to family.
    pub(crate) body: String,
    /// Written `{"body",...}` rather than `body{...}`.
    pub(crate) quoted: bool,
}

impl FamilyName {
    /// A name with the thread's reusable buffer.
    pub(crate) fn new() -> Self {
        Self { body: take_name_buffer(), quoted: false }
    }

    /// Renders `name` for `scheme`, reusing the buffer.
    pub(crate) fn set(&mut self, name: &str, scheme: EscapingScheme) {
        self.quoted = crate::syntax::name_escape::render_family_name(&mut self.body, name, scheme);
    }

    /// Appends the name alone, as `# HELP` / `# TYPE` / `# UNIT` lines write it.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        if self.quoted {
            out.push(b'"');
            out.extend_from_slice(self.body.as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(self.body.as_bytes());
        }
    }
}

impl Drop for FamilyName {
    fn drop(&mut self) {
        return_name_buffer(std::mem::take(&mut self.body));
    }
}

/// Appends `name suffix {labels, extra="value"}` (braces only when there is a label), or
/// `{"name suffix", labels, extra="value"}` for a quoted name, as Go's
/// `writeNameAndLabelPairs`; label names written as `scheme` says.
#[inline]
pub(crate) fn write_series(
    out: &mut Vec<u8>,
    name: &FamilyName,
    suffix: &str,
    labels: &Labels<'_>,
    scheme: EscapingScheme,
    extra: Option<(&str, &str)>,
) {
    let has_labels = !labels.is_empty();
    if name.quoted {
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(name.body.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        out.push(b'"');
        if has_labels || extra.is_some() {
            out.push(b',');
        }
    } else {
        out.extend_from_slice(name.body.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        if has_labels || extra.is_some() {
            out.push(b'{');
        }
    }
    if has_labels || extra.is_some() || name.quoted {
        labels.write_escaped(out, scheme);
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
