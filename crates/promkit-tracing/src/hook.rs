//! `request_exemplar`: the promkit-http middleware hook that reads the current trace.

use crate::current_trace;

/// The exemplar hook for promkit-http's server and client metrics: the current trace's ids,
/// when the span around the request is sampled. The request itself is not read.
///
/// ```
/// use promkit::Registry;
/// use promkit_http::middleware::HttpMetrics;
///
/// let registry = Registry::new();
/// let metrics = HttpMetrics::builder()
///     .exemplar_from(promkit_tracing::request_exemplar)
///     .register(&registry)?;
/// # let _ = metrics;
/// # Ok::<(), promkit::Error>(())
/// ```
///
/// The middleware asks when the request enters its layers, so the span must be entered by
/// then: with axum, add the tracing layer (tower-http's `TraceLayer`, or an
/// `axum::middleware::from_fn` that runs `next` `.instrument(span)`) after the metrics layers,
/// which makes it the outer one.
pub fn request_exemplar(_request: &http::request::Parts) -> Option<Vec<(String, String)>> {
    current_trace().map(|t| t.to_pairs())
}
