//! The server and client middleware with the `request_exemplar` hook, traced in memory.

use std::convert::Infallible;

use opentelemetry_sdk::trace::Sampler;
use promkit::{Format, Registry};
use promkit_http::client::ClientMetrics;
use promkit_parse::protobuf::{self, Exemplar, MetricFamily};
use tower::{Layer, ServiceExt};

use crate::{App, OM1, PROMETHEUS_2_ACCEPT, PROTOBUF_ACCEPT, REQUEST_SPAN, Tracing, line, om_exemplar};

const COUNTER: &str = "http_server_requests_total{code=\"200\",method=\"GET\",route=\"/checkout\"}";

/// `(trace_id, span_id)` of a protobuf exemplar.
fn ids(e: &Exemplar) -> (String, String) {
    let get = |n: &str| {
        e.label
            .iter()
            .find(|l| l.name.as_deref() == Some(n))
            .and_then(|l| l.value.clone())
            .unwrap_or_default()
    };
    (get("trace_id"), get("span_id"))
}

fn family<'a>(families: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    families.iter().find(|f| f.name.as_deref() == Some(name)).unwrap_or_else(|| panic!("no family {name}"))
}

#[test]
fn a_traced_request_puts_its_span_on_the_counter_and_the_duration() {
    let tracing = Tracing::new(Sampler::AlwaysOn);
    let registry = Registry::new();
    let app = App::start(&registry, tracing.dispatch.clone(), true);
    let (status, body) = app.get("/checkout", &[]);
    assert_eq!(status, 200);
    drop(app); // the request span has ended and been exported once the server is down

    let spans = tracing.spans(REQUEST_SPAN);
    assert_eq!(spans.len(), 1, "{spans:?}");
    let trace_id = spans[0].span_context.trace_id().to_string();
    let span_id = spans[0].span_context.span_id().to_string();
    assert_eq!(String::from_utf8(body).unwrap(), format!("{trace_id} {span_id}"), "the handler's own view");

    // OpenMetrics: the counter and the bucket the duration fell in carry the span's ids.
    let om = registry.encode_string(Format::OPENMETRICS).unwrap();
    let exemplar = om_exemplar(&trace_id, &span_id);
    let counted = line(&om, COUNTER);
    assert!(counted.starts_with(&format!("{COUNTER} 1.0 {exemplar} 1.0 ")), "{counted}");
    let with_exemplar: Vec<&str> = om
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_bucket{") && l.contains(&exemplar))
        .collect();
    assert_eq!(with_exemplar.len(), 1, "one bucket holds it:\n{om}");
    eprintln!("{counted}\n{}", with_exemplar[0]);

    // Protobuf: the same ids on the counter and on exactly one bucket.
    let mut bytes = Vec::new();
    registry.encode(Format::Protobuf, &mut bytes).unwrap();
    let families: Vec<MetricFamily> = protobuf::parse(&bytes).collect::<Result<_, _>>().unwrap();
    let requests = family(&families, "http_server_requests_total");
    let counter = requests.metric[0].counter.as_ref().unwrap();
    assert_eq!(ids(counter.exemplar.as_ref().unwrap()), (trace_id.clone(), span_id.clone()));
    let duration = family(&families, "http_server_request_duration_seconds");
    let buckets = &duration.metric[0].histogram.as_ref().unwrap().bucket;
    let held: Vec<(String, String)> = buckets.iter().filter_map(|b| b.exemplar.as_ref()).map(ids).collect();
    assert_eq!(held, [(trace_id, span_id)]);
}

#[test]
fn the_exemplar_reaches_the_scrape_in_openmetrics_and_protobuf() {
    let tracing = Tracing::new(Sampler::AlwaysOn);
    let registry = Registry::new();
    let app = App::start(&registry, tracing.dispatch.clone(), true);
    let (_, body) = app.get("/checkout", &[]);
    let seen = String::from_utf8(body).unwrap();
    let (trace_id, span_id) = seen.split_once(' ').unwrap();

    let (status, om) = app.get("/metrics", &[("accept", PROMETHEUS_2_ACCEPT)]);
    assert_eq!(status, 200);
    let om = String::from_utf8(om).unwrap();
    assert!(line(&om, COUNTER).contains(&om_exemplar(trace_id, span_id)), "{om}");
    assert!(om.ends_with("# EOF\n"), "OpenMetrics ({OM1})");

    let (status, proto) = app.get("/metrics", &[("accept", PROTOBUF_ACCEPT)]);
    assert_eq!(status, 200);
    let families: Vec<MetricFamily> = protobuf::parse(&proto).collect::<Result<_, _>>().unwrap();
    let counter = family(&families, "http_server_requests_total").metric[0].counter.clone().unwrap();
    assert_eq!(ids(&counter.exemplar.unwrap()), (trace_id.to_owned(), span_id.to_owned()));
}

#[test]
fn unsampled_and_untraced_requests_carry_no_exemplar() {
    for (sampler, traced, want_body) in
        [(Sampler::AlwaysOff, true, "untraced"), (Sampler::AlwaysOn, false, "untraced")]
    {
        let tracing = Tracing::new(sampler);
        let registry = Registry::new();
        let app = App::start(&registry, tracing.dispatch.clone(), traced);
        let (status, body) = app.get("/checkout", &[]);
        assert_eq!((status, String::from_utf8(body).unwrap().as_str()), (200, want_body));
        drop(app);
        let om = registry.encode_string(Format::OPENMETRICS).unwrap();
        assert_eq!(line(&om, COUNTER), format!("{COUNTER} 1.0"), "traced={traced}");
        assert!(!om.contains(" # {"), "no exemplar anywhere (traced={traced}):\n{om}");
        assert!(tracing.spans(REQUEST_SPAN).is_empty(), "nothing sampled, nothing exported");
    }
}

#[test]
fn client_metrics_take_the_callers_span() {
    let tracing = Tracing::new(Sampler::AlwaysOn);
    let registry = Registry::new();
    let metrics = ClientMetrics::builder()
        .exemplar_from(promkit_tracing::request_exemplar)
        .register(&registry)
        .unwrap();
    let upstream =
        tower::service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(http::Response::new(())) });
    let client = metrics.count().layer(metrics.duration().layer(upstream));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    tracing::dispatcher::with_default(&tracing.dispatch, || {
        let span = tracing::info_span!("call_inventory");
        let _entered = span.enter();
        let request = http::Request::get("http://inventory.internal/stock").body(()).unwrap();
        rt.block_on(client.oneshot(request)).unwrap();
        // Outside any span: counted, with no new exemplar.
    });
    let spans = tracing.spans("call_inventory");
    let (trace_id, span_id) =
        (spans[0].span_context.trace_id().to_string(), spans[0].span_context.span_id().to_string());
    let om = registry.encode_string(Format::OPENMETRICS).unwrap();
    let counter = "http_client_requests_total{code=\"200\",host=\"inventory.internal\",method=\"GET\"}";
    assert!(
        line(&om, counter).starts_with(&format!("{counter} 1.0 {}", om_exemplar(&trace_id, &span_id))),
        "{om}"
    );
}
