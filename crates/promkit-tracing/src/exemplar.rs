//! `TraceExemplar`: the trace and span ids of a sampled OpenTelemetry span, as exemplar labels.

use std::fmt;

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The exemplar label holding the trace id: `trace_id`, the name OpenMetrics uses in its
/// examples and Grafana looks for.
pub const TRACE_ID_LABEL: &str = "trace_id";

/// The exemplar label holding the span id: `span_id`.
pub const SPAN_ID_LABEL: &str = "span_id";

/// The trace id (32 lowercase hex digits) and span id (16) of a sampled span: the labels of an
/// exemplar that links a sample to its trace.
///
/// Held inline, so taking one allocates nothing. [`labels`](Self::labels) gives them in the form
/// promkit's `*_with_exemplar` methods take; together they are 63 code points, well inside the
/// 128 an exemplar may carry, so those methods never refuse them.
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
/// use promkit_tracing::TraceExemplar;
///
/// let cx = SpanContext::new(
///     TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736),
///     SpanId::from(0x00f067aa0ba902b7),
///     TraceFlags::SAMPLED,
///     false,
///     TraceState::default(),
/// );
/// let exemplar = TraceExemplar::from_span_context(&cx).unwrap();
/// assert_eq!(exemplar.labels(), [
///     ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
///     ("span_id", "00f067aa0ba902b7"),
/// ]);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceExemplar {
    trace_id: [u8; 32],
    span_id: [u8; 16],
}

impl TraceExemplar {
    /// The ids of `cx` when it is valid (non-zero ids) and sampled; `None` otherwise, since an
    /// exemplar pointing at a trace the tracing backend never received leads nowhere.
    pub fn from_span_context(cx: &SpanContext) -> Option<Self> {
        if !cx.is_valid() || !cx.is_sampled() {
            return None;
        }
        let mut trace_id = [0; 32];
        let mut span_id = [0; 16];
        hex(&cx.trace_id().to_bytes(), &mut trace_id);
        hex(&cx.span_id().to_bytes(), &mut span_id);
        Some(Self { trace_id, span_id })
    }

    /// The ids of the span active in the OpenTelemetry context `cx`, if valid and sampled.
    pub fn from_context(cx: &Context) -> Option<Self> {
        Self::from_span_context(cx.span().span_context())
    }

    /// The ids of the OpenTelemetry span behind the `tracing` span `span`, if valid and
    /// sampled. `None` when the subscriber has no `tracing_opentelemetry` layer or the span is
    /// disabled.
    pub fn from_span(span: &tracing::Span) -> Option<Self> {
        Self::from_context(&span.context())
    }

    /// The trace id: 32 lowercase hex digits, as OpenTelemetry prints it.
    pub fn trace_id(&self) -> &str {
        // The buffer holds only ASCII hex digits written by `hex`.
        std::str::from_utf8(&self.trace_id).unwrap_or_default()
    }

    /// The span id: 16 lowercase hex digits.
    pub fn span_id(&self) -> &str {
        std::str::from_utf8(&self.span_id).unwrap_or_default()
    }

    /// `[("trace_id", ..), ("span_id", ..)]`: the labels for `observe_with_exemplar`,
    /// `inc_with_exemplar` and `stop_with_exemplar`.
    pub fn labels(&self) -> [(&'static str, &str); 2] {
        [(TRACE_ID_LABEL, self.trace_id()), (SPAN_ID_LABEL, self.span_id())]
    }

    /// The labels as owned pairs, the form an HTTP middleware exemplar hook returns.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.labels().iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }
}

impl fmt::Debug for TraceExemplar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceExemplar")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .finish()
    }
}

/// The current trace: the ids of the current `tracing` span's OpenTelemetry span, else of the
/// span in the current OpenTelemetry context (code that uses the OpenTelemetry API directly),
/// when that span is valid and sampled. `None` outside any span, without a
/// `tracing_opentelemetry` layer, or for an unsampled span.
///
/// ```
/// use promkit::Histogram;
///
/// let latency = Histogram::with_options(&Default::default());
/// // Outside a traced span there is no exemplar, and the observation is plain.
/// match promkit_tracing::current_trace() {
///     Some(trace) => latency.observe_with_exemplar(0.25, &trace.labels())?,
///     None => latency.observe(0.25),
/// }
/// assert_eq!(latency.count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn current_trace() -> Option<TraceExemplar> {
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let span_cx = span.span_context();
    if span_cx.is_valid() {
        return TraceExemplar::from_span_context(span_cx);
    }
    TraceExemplar::from_context(&Context::current())
}

/// Writes `bytes` as lowercase hex into `out`, which is twice as long.
fn hex(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt;

    /// A subscriber whose spans become OpenTelemetry spans sampled by `sampler`, and the
    /// exporter that receives them when they end.
    pub(crate) fn traced(
        sampler: Sampler,
    ) -> (impl tracing::Subscriber + Send + Sync, InMemorySpanExporter, SdkTracerProvider) {
        let exporter = InMemorySpanExporter::default();
        let provider =
            SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).with_sampler(sampler).build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("promkit-tracing-test"));
        (tracing_subscriber::registry().with(layer), exporter, provider)
    }

    #[test]
    fn ids_print_as_opentelemetry_prints_them() {
        for (t, s) in [(1u128, 1u64), (u128::MAX, u64::MAX), (0x0102_0304 << 64, 0xab00)] {
            let cx = SpanContext::new(
                TraceId::from(t),
                SpanId::from(s),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            );
            let e = TraceExemplar::from_span_context(&cx).unwrap();
            assert_eq!(e.trace_id(), TraceId::from(t).to_string());
            assert_eq!(e.span_id(), SpanId::from(s).to_string());
            assert_eq!(e.trace_id().len(), 32);
            assert_eq!(e.span_id().len(), 16);
        }
    }

    #[test]
    fn invalid_or_unsampled_contexts_give_none() {
        let unsampled = SpanContext::new(
            TraceId::from(7),
            SpanId::from(7),
            TraceFlags::default(),
            false,
            TraceState::default(),
        );
        assert_eq!(TraceExemplar::from_span_context(&unsampled), None);
        let zero = SpanContext::new(
            TraceId::INVALID,
            SpanId::from(7),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        assert_eq!(TraceExemplar::from_span_context(&zero), None);
        assert_eq!(TraceExemplar::from_span_context(&SpanContext::empty_context()), None);
    }

    #[test]
    fn no_span_gives_none() {
        let (subscriber, _exporter, _provider) = traced(Sampler::AlwaysOn);
        tracing::subscriber::with_default(subscriber, || {
            assert_eq!(current_trace(), None);
        });
        // No subscriber at all.
        assert_eq!(current_trace(), None);
    }

    #[test]
    fn an_unsampled_span_gives_none() {
        let (subscriber, exporter, provider) = traced(Sampler::AlwaysOff);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("work");
            let _entered = span.enter();
            assert!(span.context().span().span_context().is_valid(), "the span exists, unsampled");
            assert_eq!(current_trace(), None);
        });
        provider.force_flush().unwrap();
        assert!(exporter.get_finished_spans().unwrap().is_empty());
    }

    #[test]
    fn a_span_started_through_the_opentelemetry_api_counts_too() {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let (_subscriber, _exporter, provider) = traced(Sampler::AlwaysOn);
        let span = provider.tracer("direct").start("direct");
        let want = span.span_context().clone();
        let _attached = Context::current_with_span(span).attach();
        let seen = current_trace().unwrap();
        assert_eq!(seen.trace_id(), want.trace_id().to_string());
        assert_eq!(seen.span_id(), want.span_id().to_string());
    }

    #[test]
    fn a_sampled_span_gives_its_own_ids() {
        let (subscriber, exporter, provider) = traced(Sampler::AlwaysOn);
        let seen = tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("outer");
            let _o = outer.enter();
            let inner = tracing::info_span!("inner");
            let _i = inner.enter();
            current_trace().unwrap()
        });
        provider.force_flush().unwrap();
        let spans = exporter.get_finished_spans().unwrap();
        let inner = spans.iter().find(|s| s.name == "inner").unwrap();
        let outer = spans.iter().find(|s| s.name == "outer").unwrap();
        assert_eq!(seen.trace_id(), inner.span_context.trace_id().to_string());
        assert_eq!(seen.span_id(), inner.span_context.span_id().to_string(), "the innermost span");
        assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
    }
}
