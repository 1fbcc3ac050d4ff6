//! A real Prometheus (2.42 in CI) with `--enable-feature=exemplar-storage` scrapes the traced
//! app over OpenMetrics, and `/api/v1/query_exemplars` returns the trace id of the request's
//! span.

use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;
use promkit::Registry;
use promkit_oracle::prometheus::{PrometheusServer, Target};
use serde_json::Value;

use crate::{App, REQUEST_SPAN, Tracing};

/// Bound for the first scrape (static targets are discovered about 5 s after start) and for
/// the exemplars to be queryable after it.
const WITHIN: Duration = Duration::from_secs(30);

/// `(trace_id, span_id, value)` of every exemplar `/api/v1/query_exemplars` returns for
/// `promql`, once there is at least one (polled, within [`WITHIN`]).
fn wait_exemplars(prom: &PrometheusServer, promql: &str) -> Vec<(String, String, String)> {
    let data = prom.wait_exemplars(promql, 1, WITHIN).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("query_exemplars {promql} => {data}");
    let mut out = Vec::new();
    for series in data.as_array().into_iter().flatten() {
        for e in series["exemplars"].as_array().into_iter().flatten() {
            let label = |n: &str| e["labels"][n].as_str().unwrap_or_default().to_owned();
            let value = match &e["value"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push((label("trace_id"), label("span_id"), value));
        }
    }
    out
}

#[test]
fn prometheus_stores_the_request_trace_id_as_an_exemplar() {
    let tracing = Tracing::new(Sampler::AlwaysOn);
    let registry = Registry::new();
    let app = App::start(&registry, tracing.dispatch.clone(), true);
    let (status, body) = app.get("/checkout", &[]);
    assert_eq!(status, 200);
    let seen = String::from_utf8(body).unwrap();
    let (trace_id, span_id) = seen.split_once(' ').unwrap();

    let Some(prom) =
        PrometheusServer::start(&[Target::new("app", app.addr)], &["--enable-feature=exemplar-storage"])
    else {
        return;
    };
    eprintln!("Prometheus {}", prom.version().unwrap());
    prom.wait_up("app", WITHIN).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));

    let counted = wait_exemplars(&prom, "http_server_requests_total{job=\"app\"}");
    assert_eq!(counted, [(trace_id.to_owned(), span_id.to_owned(), "1".to_owned())]);
    let timed = wait_exemplars(&prom, "http_server_request_duration_seconds_bucket{job=\"app\"}");
    assert_eq!(timed.len(), 1, "{timed:?}");
    assert_eq!((timed[0].0.as_str(), timed[0].1.as_str()), (trace_id, span_id));

    // And these are the ids of the span the tracer exported.
    drop(prom);
    drop(app);
    let spans = tracing.spans(REQUEST_SPAN);
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].span_context.trace_id().to_string(), trace_id);
    assert_eq!(spans[0].span_context.span_id().to_string(), span_id);
}
