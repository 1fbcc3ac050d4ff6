//! promkit-tracing integration tests: one binary, a module per topic.
//!
//! - `middleware`: an axum app with promkit-http's server metrics and the `request_exemplar`
//!   hook, traced through `tracing-opentelemetry` into an in-memory exporter; the exemplars in
//!   OpenMetrics and protobuf carry the ids of the span the exporter received. Also the client
//!   metrics, and the cases that must give no exemplar.
//! - `e2e`: a real Prometheus with exemplar storage scrapes that app and returns the trace id
//!   from `/api/v1/query_exemplars`.
//! - `alloc`: what the middleware's exemplar hook costs in allocations per request, and that
//!   without it a request allocates nothing in the metrics layers.
//!
//! The app runs on a thread of its own with a current-thread runtime, so the test's tracing
//! subscriber can be that thread's default instead of the process-wide one.

mod alloc;
mod e2e;
mod middleware;

use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};
use promkit::Registry;
use promkit_http::MetricsHandler;
use promkit_http::middleware::HttpMetrics;
use tokio::sync::oneshot;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static ALLOCATOR: promkit_oracle::alloc::CountingAllocator = promkit_oracle::alloc::CountingAllocator;

pub(crate) use promkit_oracle::alloc::count_allocations;

/// The Content-Type of OpenMetrics 1.0.0.
pub(crate) const OM1: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The `Accept` header Prometheus 2.42 sends when scraping (OpenMetrics first).
pub(crate) const PROMETHEUS_2_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// The `Accept` header that asks for delimited protobuf.
pub(crate) const PROTOBUF_ACCEPT: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

/// A tracing set-up as an application has it: spans become OpenTelemetry spans, sampled by
/// the given sampler, exported to memory when they end.
pub(crate) struct Tracing {
    pub(crate) dispatch: tracing::Dispatch,
    pub(crate) exporter: InMemorySpanExporter,
    pub(crate) provider: SdkTracerProvider,
}

impl Tracing {
    pub(crate) fn new(sampler: Sampler) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider =
            SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).with_sampler(sampler).build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("promkit-tracing-it"));
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        Self { dispatch, exporter, provider }
    }

    /// The finished spans called `name`.
    pub(crate) fn spans(&self, name: &str) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        self.exporter.get_finished_spans().unwrap().into_iter().filter(|s| s.name == name).collect()
    }
}

/// The span the app's tracing middleware opens around every request to a traced route.
pub(crate) const REQUEST_SPAN: &str = "http_request";

/// The app's tracing middleware: each request is served inside its own span (the part of
/// tower-http's `TraceLayer` that matters here).
async fn trace_requests(request: Request, next: Next) -> Response {
    let span = tracing::info_span!("http_request", path = request.uri().path());
    next.run(request).instrument(span).await
}

/// The app under test, served on loopback from a thread of its own; stopped on drop.
pub(crate) struct App {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl App {
    /// `/checkout` (answers the trace id it runs under, or `untraced`) with the server metrics
    /// (counter and duration, exemplars from `request_exemplar`) inside a request span when
    /// `traced`, and `/metrics` for `registry`, outside both.
    pub(crate) fn start(registry: &Registry, dispatch: tracing::Dispatch, traced: bool) -> Self {
        let metrics = HttpMetrics::builder()
            .exemplar_from(promkit_tracing::request_exemplar)
            .register(registry)
            .unwrap();
        let checkout = || async {
            match promkit_tracing::current_trace() {
                Some(t) => format!("{} {}", t.trace_id(), t.span_id()),
                None => "untraced".to_owned(),
            }
        };
        // Layers wrap the routes added before them; the last added is the outermost, so the
        // span is entered before the metrics layers see the request.
        let mut app =
            Router::new().route("/checkout", get(checkout)).layer(metrics.count()).layer(metrics.duration());
        if traced {
            app = app.layer(from_fn(trace_requests));
        }
        let app = app.route_service("/metrics", MetricsHandler::builder(registry).must_build());

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            tracing::dispatcher::with_default(&dispatch, || {
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .unwrap();
                });
            });
        });
        App { addr, stop: Some(stop), thread: Some(thread) }
    }

    /// GETs `path` and returns the status and body.
    pub(crate) fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
        let resp = promkit_oracle::prometheus::http_get(self.addr, path, headers).unwrap();
        (resp.status, resp.body)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread surfaces here unless the test is already failing.
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("the app's server thread panicked");
            }
        }
    }
}

/// The exemplar labels `{span_id, trace_id}` as OpenMetrics writes them (sorted by name).
pub(crate) fn om_exemplar(trace_id: &str, span_id: &str) -> String {
    format!("# {{span_id=\"{span_id}\",trace_id=\"{trace_id}\"}}")
}

/// The line of `text` whose sample name and labels are `prefix`, whole.
pub(crate) fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no line {prefix} in:\n{text}"))
}
