//! promkit-http integration tests: one binary, a module per topic.
//!
//! - `handler`: the `/metrics` handler through its tower `Service` and `respond`: headers,
//!   compression, the `name[]` filter, its own metrics.
//! - `negotiation`: tables of `Accept` / `Accept-Encoding` headers (the ones Prometheus 2 and 3,
//!   curl and browsers send) and the format and coding each gets.
//! - `bad_input`: malformed headers, failing and hanging collectors, a flood of scrapes.
//! - `streaming`: the exposition streamed while it is encoded: every format and coding, a
//!   collector failing before and after the first piece, a scraper that goes away.
//! - `e2e`: a real Prometheus server scraping the exporter and an axum app, asked with PromQL.
//! - `e2e_utf8`: a real Prometheus scraping UTF-8 names, escaped as its `Accept` asks.
//! - `middleware`, `client`: the server and client instrumentation layers.
//! - `examples`: the files in `examples/`, compiled in here (not built by a nested cargo), served
//!   on loopback and scraped.
//!
//! The helpers below are shared by the modules: request builders, decompression, and test
//! collectors that fail or block on command.

// The example's `main` is for `cargo run --example`; the tests call its `serve`.
#[allow(dead_code)]
#[path = "../../examples/axum_app.rs"]
mod axum_app;
mod bad_input;
mod client;
mod e2e;
mod e2e_native;
mod e2e_utf8;
mod examples;
mod handler;
mod middleware;
mod negotiation;
mod streaming;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use promkit::model::{Collector, Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value};
use promkit::{Buckets, CollectError, Counter, Gauge, Histogram, Registry};
use promkit_http::MetricsHandler;
use tower::ServiceExt;

/// The Content-Type of text 0.0.4.
pub(crate) const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The Content-Type of OpenMetrics 1.0.0.
pub(crate) const OM1: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Content-Type of OpenMetrics 0.0.1 (asked for without a version).
pub(crate) const OM0: &str = "application/openmetrics-text; version=0.0.1; charset=utf-8";
/// The Content-Type of error answers (500, 503).
pub(crate) const PLAIN: &str = "text/plain; charset=utf-8";

/// The `Accept` header of Prometheus 2.5 to 2.48 (2.42 is Debian 12's): a constant in
/// `scrape/scrape.go`.
pub(crate) const PROMETHEUS_2_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The fixture's text exposition: a histogram with four observations, a counter and a gauge.
pub(crate) const FIXTURE_TEXT: &str = "\
# HELP job_duration_seconds Job latency.
# TYPE job_duration_seconds histogram
job_duration_seconds_bucket{le=\"1\"} 1
job_duration_seconds_bucket{le=\"2\"} 3
job_duration_seconds_bucket{le=\"4\"} 4
job_duration_seconds_bucket{le=\"+Inf\"} 4
job_duration_seconds_sum 6.5
job_duration_seconds_count 4
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total 3
# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth 7
";

/// The same in OpenMetrics 1.0.0.
pub(crate) const FIXTURE_OM: &str = "\
# HELP job_duration_seconds Job latency.
# TYPE job_duration_seconds histogram
# UNIT job_duration_seconds seconds
job_duration_seconds_bucket{le=\"1.0\"} 1
job_duration_seconds_bucket{le=\"2.0\"} 3
job_duration_seconds_bucket{le=\"4.0\"} 4
job_duration_seconds_bucket{le=\"+Inf\"} 4
job_duration_seconds_sum 6.5
job_duration_seconds_count 4
# HELP jobs Jobs done.
# TYPE jobs counter
jobs_total 3.0
# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth 7.0
# EOF
";

/// Registers the fixture's metrics in `registry` with known values: `jobs_total` 3,
/// `queue_depth` 7, and `job_duration_seconds` (buckets 1, 2, 4) observing 0.5, 1.5, 1.5 and 3,
/// so its median from the raw buckets is exactly 1.5.
pub(crate) fn register_fixture(registry: &Registry) {
    let jobs = Counter::builder("jobs_total").help("Jobs done.").register(registry).unwrap();
    jobs.inc_by(3);
    let queue = Gauge::builder("queue_depth").help("Jobs waiting.").register(registry).unwrap();
    queue.set(7);
    let took = Histogram::builder("job_duration_seconds")
        .help("Job latency.")
        .unit("seconds")
        .buckets(Buckets::new([1.0, 2.0, 4.0]).unwrap())
        .register(registry)
        .unwrap();
    for v in [0.5, 1.5, 1.5, 3.0] {
        took.observe(v);
    }
}

/// A new registry holding the fixture.
pub(crate) fn fixture() -> Registry {
    let registry = Registry::new();
    register_fixture(&registry);
    registry
}

/// A GET request for `uri` with `headers`.
pub(crate) fn request(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
    let mut req = Request::get(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(()).unwrap()
}

/// The parts of [`request`], for `MetricsHandler::respond`.
pub(crate) fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
    request(uri, headers).into_parts().0
}

/// The parts of a GET request with one header of raw bytes (which need not be valid text).
pub(crate) fn parts_raw(name: &'static str, value: &[u8]) -> Parts {
    let mut p = parts("/metrics", &[]);
    p.headers.insert(name, HeaderValue::from_bytes(value).unwrap());
    p
}

/// Sends `req` through the handler's tower `Service` (a fresh clone, as axum does) and
/// collects the body.
pub(crate) async fn call_service(handler: &MetricsHandler, req: Request<()>) -> Response<Bytes> {
    let resp = handler.clone().oneshot(req).await.unwrap();
    let (head, body) = resp.into_parts();
    Response::from_parts(head, body.collect().await.unwrap().to_bytes())
}

/// [`call_service`] for a GET of `uri` with `headers`.
pub(crate) async fn call(handler: &MetricsHandler, uri: &str, headers: &[(&str, &str)]) -> Response<Bytes> {
    call_service(handler, request(uri, headers)).await
}

/// A response header as text; `None` when absent.
pub(crate) fn header<'a, B>(resp: &'a Response<B>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

/// A response body as text.
pub(crate) fn text<B: AsRef<[u8]>>(resp: &Response<B>) -> &str {
    std::str::from_utf8(resp.body().as_ref()).unwrap()
}

/// Decompresses a gzip body.
pub(crate) fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out).unwrap();
    out
}

/// Decompresses a body as its `Content-Encoding` says (identity when absent).
pub(crate) fn decode<B: AsRef<[u8]>>(resp: &Response<B>) -> Vec<u8> {
    let body = resp.body().as_ref();
    match header(resp, "content-encoding") {
        None => body.to_vec(),
        Some("gzip") => gunzip(body),
        #[cfg(feature = "zstd")]
        Some("zstd") => zstd::stream::decode_all(body).unwrap(),
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
}

/// The line of `text` that starts with `prefix` (a sample name and labels), whole.
pub(crate) fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no line {prefix} in:\n{text}"))
}

/// A generous bound for anything that should take milliseconds; never an assertion on time.
pub(crate) const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits (polling, up to [`PATIENCE`]) until the handler metrics in `registry` show no scrape
/// in flight, and returns its exposition then.
pub(crate) async fn settled(registry: &Registry) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let body = registry.encode_string(promkit::Format::Text).unwrap();
        if line(&body, "promhttp_metric_handler_requests_in_flight")
            == "promhttp_metric_handler_requests_in_flight 0"
        {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "a scrape stayed in flight:\n{body}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A GET over loopback (a new connection each time) with `headers`; the body collected.
pub(crate) async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response<Bytes> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut req = Request::get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = client.request(req.body(Empty::new()).unwrap()).await.unwrap();
    let (head, body) = resp.into_parts();
    Response::from_parts(head, body.collect().await.unwrap().to_bytes())
}

fn gauge_desc(name: &str) -> Desc {
    Desc {
        name: name.to_owned(),
        help: format!("Test collector {name}."),
        unit: String::new(),
        kind: MetricType::Gauge,
        label_names: Vec::new(),
        const_labels: Vec::new(),
    }
}

fn emit_gauge(sink: &mut dyn Sink, name: &str, help: &str, value: i64) {
    sink.family(&FamilyHeader { name, help, unit: "", kind: MetricType::Gauge });
    sink.sample(&Labels::None, Value::GaugeI64(value), &SampleMeta::default());
}

/// A collector that writes its family and one sample, then fails with "disk gone": its partial
/// output must not reach a scrape.
#[derive(Debug)]
pub(crate) struct Failing(pub(crate) &'static str);

impl Collector for Failing {
    fn describe(&self) -> Vec<Desc> {
        vec![gauge_desc(self.0)]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        emit_gauge(sink, self.0, &format!("Test collector {}.", self.0), 1);
        Err(CollectError::failed(self.0, "disk gone"))
    }
}

/// A collector (`gate_open 1`) whose first collection blocks until [`GateHandle::release`]
/// or until the handle is dropped, so a test that fails midway never leaves a blocked thread
/// behind. Later collections pass straight through.
#[derive(Debug)]
pub(crate) struct Gate {
    armed: AtomicBool,
    entered: tokio::sync::mpsc::UnboundedSender<()>,
    release: Mutex<mpsc::Receiver<()>>,
}

/// Controls a [`Gate`].
#[derive(Debug)]
pub(crate) struct GateHandle {
    entered: tokio::sync::mpsc::UnboundedReceiver<()>,
    release: mpsc::Sender<()>,
}

/// A [`Gate`] and its handle.
pub(crate) fn gate() -> (Gate, GateHandle) {
    let (entered_tx, entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let (release_tx, release_rx) = mpsc::channel();
    (
        Gate { armed: AtomicBool::new(true), entered: entered_tx, release: Mutex::new(release_rx) },
        GateHandle { entered: entered_rx, release: release_tx },
    )
}

impl GateHandle {
    /// Waits until a scrape is blocked inside the gate.
    pub(crate) async fn entered(&mut self) {
        self.entered.recv().await.expect("the gate was dropped before a scrape entered it");
    }

    /// Lets the blocked scrape go on.
    pub(crate) fn release(&self) {
        // Err: nobody is blocked any more (the gate is gone), which is fine.
        let _ = self.release.send(());
    }
}

impl Collector for Gate {
    fn describe(&self) -> Vec<Desc> {
        vec![gauge_desc("gate_open")]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        // SeqCst: exactly one collection may win the swap and block.
        if self.armed.swap(false, Ordering::SeqCst) {
            let _ = self.entered.send(());
            // Err means the handle was dropped: stop blocking either way.
            let _ = self.release.lock().unwrap_or_else(PoisonError::into_inner).recv();
        }
        emit_gauge(sink, "gate_open", "Test collector gate_open.", 1);
        Ok(())
    }
}
