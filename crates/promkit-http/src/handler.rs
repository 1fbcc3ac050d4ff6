//! `MetricsHandler`: the `/metrics` endpoint, with the options of Go's `promhttp.HandlerOpts`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode, request};
use promkit::Format;
use promkit::encode::{CreatedSamples, encode_families_with};
use promkit::registry::Gatherers;
use promkit::{
    CollectError, Counter, Family, Gauge, Registry,
    registry::{EncodeOptions, OnError},
};
use tokio::sync::{mpsc, oneshot};

use crate::compress::{Encoding, compress, negotiate_encoding};
use crate::negotiate::{FormatOffer, Negotiated, Offer, negotiate};
use crate::stream::{Compressor, MetricsBody, Piece};

/// What the handler does when a collector fails (Go's `promhttp.HandlerErrorHandling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorHandling {
    /// Answer 500 with the error: Prometheus records a failed scrape (`up == 0`).
    #[default]
    HttpError,
    /// Serve every family that could be collected, leave out the failing collectors, and count
    /// the failure in `promhttp_metric_handler_errors_total{cause="gathering"}`.
    ContinueOnError,
    /// Panic in the serving task (for programs that would rather crash than serve partial
    /// data).
    Panic,
}

/// The `/metrics` handler for [`promkit::default_registry`], with the handler's own
/// `promhttp_metric_handler_*` metrics registered there: Go's `promhttp.Handler()`.
///
/// Built once per process; every call returns a clone of that handler (clones share their
/// state), so calling it again never registers anything twice. When the default registry
/// already holds one of the `promhttp_metric_handler_*` names (a program that registered its
/// own), the handler serves without its own metrics rather than fail.
///
/// ```
/// let handler = promkit_http::handler(); // mount: Router::route_service("/metrics", handler)
/// let req = http::Request::get("/metrics").body(()).unwrap();
/// let resp = handler.respond(&req.into_parts().0);
/// assert_eq!(resp.status(), 200);
/// let body = std::str::from_utf8(resp.body()).unwrap();
/// assert!(body.contains("promhttp_metric_handler_requests_total{code=\"200\"} 0\n"), "{body}");
/// ```
pub fn handler() -> MetricsHandler {
    static HANDLER: std::sync::OnceLock<MetricsHandler> = std::sync::OnceLock::new();
    HANDLER
        .get_or_init(|| {
            let registry = promkit::default_registry();
            MetricsHandler::builder(registry)
                .instrument(registry)
                .build()
                .unwrap_or_else(|_| MetricsHandler::builder(registry).must_build())
        })
        .clone()
}

/// Where the handler's metrics come from.
#[derive(Debug, Clone)]
enum Source {
    Registry(Registry),
    Gatherers(Gatherers),
}

/// Serves a registry's metrics over HTTP.
///
/// A tower [`Service`](tower_service::Service) for any request body (mount it in axum with
/// `Router::route_service("/metrics", handler)`), and [`respond`](Self::respond) for other
/// servers. Encoding runs on tokio's blocking pool so a large registry never stalls the async
/// workers; buffers are reused between scrapes.
///
/// ```
/// use promkit::{Counter, Registry};
/// use promkit_http::MetricsHandler;
///
/// let registry = Registry::new();
/// Counter::builder("hits_total").help("Hits.").register(&registry)?;
/// let handler = MetricsHandler::builder(&registry).must_build();
///
/// let req = http::Request::get("/metrics").header("accept", "text/plain").body(()).unwrap();
/// let resp = handler.respond(&req.into_parts().0);
/// assert_eq!(resp.status(), 200);
/// assert_eq!(resp.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
/// assert_eq!(resp.body(), "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 0\n");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetricsHandler {
    shared: Arc<Shared>,
    /// Whether the server this handler is mounted in streams when the builder left it open
    /// ([`HandlerBuilder::streaming`]): the [`Exporter`](crate::Exporter) does.
    server_streams: bool,
}

#[derive(Debug)]
struct Shared {
    source: Source,
    error_handling: ErrorHandling,
    max_in_flight: usize,
    timeout: Option<Duration>,
    streaming: Option<bool>,
    openmetrics: FormatOffer,
    protobuf: FormatOffer,
    created_samples: CreatedSamples,
    encodings: Vec<Encoding>,
    process_start: Option<u64>,
    in_flight: AtomicUsize,
    /// Encode buffers kept between scrapes, so steady-state scrapes do not regrow them.
    buffers: Mutex<Vec<Vec<u8>>>,
    metrics: Option<SelfMetrics>,
}

/// The handler's own metrics (Go's `InstrumentMetricHandler` plus the errors counter).
#[derive(Debug, Clone)]
struct SelfMetrics {
    requests: Family<Counter>,
    in_flight: Gauge,
    errors: Family<Counter>,
}

/// Configures a [`MetricsHandler`]; from [`MetricsHandler::builder`].
#[derive(Debug)]
#[must_use = "call build() to get the handler"]
pub struct HandlerBuilder {
    source: Source,
    error_handling: ErrorHandling,
    max_in_flight: usize,
    timeout: Option<Duration>,
    streaming: Option<bool>,
    openmetrics: FormatOffer,
    protobuf: FormatOffer,
    created_samples: CreatedSamples,
    encodings: Vec<Encoding>,
    process_start: Option<u64>,
    instrument: Instrument,
}

/// Where the handler's own `promhttp_*` metrics go.
#[derive(Debug)]
enum Instrument {
    /// Into the default registry when serving it (as Go's `promhttp.Handler()`), else nowhere.
    Auto,
    /// Nowhere.
    Off,
    /// Into this registry.
    In(Registry),
}

/// The self-metrics of every handler instrumented in the default registry: registered once and
/// shared, as Go's `InstrumentMetricHandler` reuses the collectors already registered.
static DEFAULT_SELF_METRICS: Mutex<Option<SelfMetrics>> = Mutex::new(None);

impl MetricsHandler {
    /// Starts configuring a handler for one registry (the handler keeps a handle on it).
    pub fn builder(registry: &Registry) -> HandlerBuilder {
        HandlerBuilder::new(Source::Registry(registry.clone()))
    }

    /// Starts configuring a handler for several registries gathered together (duplicate
    /// series between them fail the scrape instead of being written twice).
    pub fn for_gatherers(gatherers: Gatherers) -> HandlerBuilder {
        HandlerBuilder::new(Source::Gatherers(gatherers))
    }

    /// Answers a scrape synchronously from the request's parts (method, URI, headers), for
    /// servers that are not tower-based. Applies every option except the timeout.
    pub fn respond(&self, parts: &request::Parts) -> Response<Bytes> {
        let resp = match self.enter() {
            Some(guard) => {
                let resp = self.render(parts);
                drop(guard);
                resp
            }
            None => self.too_many(),
        };
        self.count(resp.status());
        resp
    }

    /// Answers a scrape: the in-flight limit first, then encoding on the blocking pool under
    /// the timeout. Needs a tokio runtime.
    pub async fn serve(&self, parts: request::Parts) -> Response<Bytes> {
        // Counted here, once per answer: a scrape that timed out is a 503, not also the 200
        // its collection produces later for nobody.
        let resp = self.answer(parts).await;
        self.count(resp.status());
        resp
    }

    /// The tower service's answer: [`serve`](Self::serve)'s, or with
    /// [`streaming`](HandlerBuilder::streaming) a registry's exposition streamed to the
    /// connection while it is encoded. Never with a timeout (a scrape that runs late must
    /// still be able to become a 503; Go's `http.TimeoutHandler` buffers the answer too) nor
    /// with [`ErrorHandling::Panic`] (its panic belongs in the serving task, which has
    /// answered by the time a late failure happens).
    async fn serve_streamed(&self, parts: request::Parts) -> Response<MetricsBody> {
        let s = &self.shared;
        let registry = match &s.source {
            Source::Registry(r)
                if s.streaming.unwrap_or(self.server_streams)
                    && s.timeout.is_none()
                    && s.error_handling != ErrorHandling::Panic =>
            {
                r.clone()
            }
            _ => return self.serve(parts).await.map(MetricsBody::whole),
        };
        let resp = match self.enter() {
            None => self.too_many().map(MetricsBody::whole),
            Some(guard) => {
                let this = self.clone();
                let (head, answer) = oneshot::channel();
                // The in-flight slot is held until the encoding ends, as in `answer`.
                let task =
                    tokio::task::spawn_blocking(move || this.render_streamed(&registry, &parts, head, guard));
                match answer.await {
                    Ok(resp) => resp,
                    // The task ended without an answer: a collector panicked before the first
                    // piece. The panic goes on in the serving task, as with `serve`.
                    Err(_) => match task.await {
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        _ => self
                            .error_response(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "scrape task ended without an answer\n".into(),
                            )
                            .map(MetricsBody::whole),
                    },
                }
            }
        };
        self.count(resp.status());
        resp
    }

    async fn answer(&self, parts: request::Parts) -> Response<Bytes> {
        let Some(guard) = self.enter() else { return self.too_many() };
        let this = self.clone();
        // The in-flight slot moves into the blocking task: a collector that hangs past the
        // timeout keeps holding its slot, so hung scrapes cannot pile up without bound.
        let task = tokio::task::spawn_blocking(move || {
            let resp = this.render(&parts);
            drop(guard);
            resp
        });
        let joined = match self.shared.timeout {
            Some(limit) => match tokio::time::timeout(limit, task).await {
                Ok(joined) => joined,
                Err(_) => {
                    let body = format!("Exceeded configured timeout of {limit:?}.\n");
                    return self.error_response(StatusCode::SERVICE_UNAVAILABLE, body);
                }
            },
            None => task.await,
        };
        match joined {
            Ok(resp) => resp,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => {
                self.error_response(StatusCode::INTERNAL_SERVER_ERROR, format!("scrape task failed: {e}\n"))
            }
        }
    }

    /// This handler as mounted in a server that sets `TCP_NODELAY`: it streams unless its
    /// builder said otherwise.
    #[cfg_attr(not(feature = "exporter"), allow(dead_code))]
    pub(crate) fn in_nodelay_server(mut self) -> Self {
        self.server_streams = true;
        self
    }

    fn enter(&self) -> Option<InFlight> {
        let s = &self.shared;
        // Relaxed: the counter only bounds concurrency; nothing is published through it.
        let before = s.in_flight.fetch_add(1, Ordering::Relaxed);
        if s.max_in_flight > 0 && before >= s.max_in_flight {
            s.in_flight.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        if let Some(m) = &s.metrics {
            m.in_flight.inc();
        }
        Some(InFlight { shared: Arc::clone(&self.shared) })
    }

    fn too_many(&self) -> Response<Bytes> {
        let body = format!(
            "Limit of concurrent requests reached ({}), try again later.\n",
            self.shared.max_in_flight
        );
        self.error_response(StatusCode::SERVICE_UNAVAILABLE, body)
    }

    fn error_response(&self, status: StatusCode, body: String) -> Response<Bytes> {
        let mut resp = Response::new(Bytes::from(body));
        *resp.status_mut() = status;
        resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        resp
    }

    fn count(&self, status: StatusCode) {
        if let Some(m) = &self.shared.metrics
            && let Ok(c) = m.requests.with_label_values(&[status.as_str()])
        {
            c.inc();
        }
    }

    fn count_error(&self, cause: &str) {
        if let Some(m) = &self.shared.metrics
            && let Ok(c) = m.errors.with_label_values(&[cause])
        {
            c.inc();
        }
    }

    /// What a request asks for: the negotiated format and coding, and the `name[]` filter.
    fn plan(&self, parts: &request::Parts) -> Plan {
        let s = &self.shared;
        let header = |name| parts.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        let negotiated =
            negotiate(header(ACCEPT), Offer { openmetrics: s.openmetrics, protobuf: s.protobuf });
        let encoding = negotiate_encoding(header(ACCEPT_ENCODING), &s.encodings);
        let names: Vec<String> = parts
            .uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k == "name[]")
                    .map(|(_, v)| v.into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let format = negotiated.encoder_format(s.created_samples);
        let on_error = match s.error_handling {
            ErrorHandling::ContinueOnError => OnError::Skip,
            _ => OnError::Stop,
        };
        Plan { negotiated, encoding, names, format, on_error }
    }

    fn take_buffer(&self) -> Vec<u8> {
        let mut buf =
            self.shared.buffers.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        buf.clear();
        buf
    }

    fn render(&self, parts: &request::Parts) -> Response<Bytes> {
        let s = &self.shared;
        let Plan { negotiated, encoding, names, format, on_error } = self.plan(parts);
        let mut buf = self.take_buffer();
        let result: Result<Vec<CollectError>, CollectError> = match &s.source {
            Source::Registry(r) => {
                let mut opts =
                    EncodeOptions::new(format).on_error(on_error).escaping(negotiated.name_escaping());
                if !names.is_empty() {
                    opts = opts.only(&names);
                }
                r.encode_with(&mut buf, &opts)
            }
            Source::Gatherers(g) => g.gather().map(|mut families| {
                if !names.is_empty() {
                    families.retain(|f| names.contains(&f.name));
                }
                encode_families_with(&families, format, negotiated.name_escaping(), &mut buf);
                Vec::new()
            }),
        };
        match result {
            Ok(failures) => {
                self.count_failures(&failures);
                self.ok_response(buf, &negotiated.content_type(), encoding)
            }
            Err(e) => {
                give_back(s, buf);
                self.failed_response(&e)
            }
        }
    }

    fn count_failures(&self, failures: &[CollectError]) {
        for _ in failures {
            self.count_error("gathering");
        }
    }

    /// The 500 for a collector's failure (or the panic that [`ErrorHandling::Panic`] asks for).
    fn failed_response(&self, e: &CollectError) -> Response<Bytes> {
        self.count_error("gathering");
        if self.shared.error_handling == ErrorHandling::Panic {
            panic!("error gathering metrics: {e}");
        }
        let body = format!("An error has occurred while serving metrics:\n\n{e}\n");
        self.error_response(StatusCode::INTERNAL_SERVER_ERROR, body)
    }

    /// Encodes a registry for the tower service, handing the answer to `head` as soon as its
    /// first piece is ready and the rest to the body as it is encoded. An exposition that
    /// fits in one piece, or a failure before the first piece, is answered whole.
    fn render_streamed(
        &self,
        registry: &Registry,
        parts: &request::Parts,
        head: oneshot::Sender<Response<MetricsBody>>,
        slot: InFlight,
    ) {
        let Plan { negotiated, encoding, names, format, on_error } = self.plan(parts);
        if encoding == Encoding::Zstd {
            // zstd compresses a whole body faster than a stream of pieces (see `Compressor`).
            let resp = self.render(parts);
            drop(slot);
            let _ = head.send(resp.map(MetricsBody::whole));
            return;
        }
        let mut opts = EncodeOptions::new(format).on_error(on_error).escaping(negotiated.name_escaping());
        if !names.is_empty() {
            opts = opts.only(&names);
        }
        let content_type = negotiated.content_type();
        let mut stream = Streaming {
            handler: self,
            head: Some(head),
            slot: Some(slot),
            content_type: &content_type,
            encoding,
            compressor: None,
            pieces: None,
        };
        let mut buf = self.take_buffer();
        let result = registry.encode_in_chunks(&mut buf, &opts, STREAM_PIECE, |out| stream.send(out));
        match result {
            Ok(failures) => {
                self.count_failures(&failures);
                stream.finish(buf);
            }
            Err(e) => {
                give_back(&self.shared, buf);
                stream.fail(&e);
            }
        }
    }

    /// The 200 answer. An uncompressed body is the encode buffer itself, returned to the pool
    /// when the server has written it and drops the body, so a scrape does not allocate and
    /// fill a copy of the exposition (5 MB at 100,000 series). A compressed body is new; the
    /// buffer goes back now.
    fn ok_response(&self, buf: Vec<u8>, content_type: &str, encoding: Encoding) -> Response<Bytes> {
        let (body, encoding) = match encoding {
            Encoding::Identity => (self.pooled(buf), encoding),
            _ => {
                let compressed = compress(encoding, &buf);
                match compressed {
                    Ok(compressed) => {
                        give_back(&self.shared, buf);
                        (Bytes::from(compressed), encoding)
                    }
                    Err(_) => {
                        // Content-Encoding is only sent when the body really is compressed.
                        self.count_error("encoding");
                        (self.pooled(buf), Encoding::Identity)
                    }
                }
            }
        };
        self.with_headers(Response::new(body), content_type, encoding)
    }

    /// A body of `buf` that gives the buffer back to the pool when the server drops it.
    fn pooled(&self, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled { buf, shared: Arc::clone(&self.shared) })
    }

    /// A 200's headers: the format, the coding and the process start time.
    fn with_headers<B>(&self, mut resp: Response<B>, content_type: &str, encoding: Encoding) -> Response<B> {
        let headers = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, v);
        }
        if let Some(enc) = encoding.header() {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(enc));
        }
        if let Some(start) = self.shared.process_start {
            headers.insert("process-start-time-unix", HeaderValue::from(start));
        }
        resp
    }
}

/// What a request asks for, from its `Accept`, `Accept-Encoding` and query.
struct Plan {
    negotiated: Negotiated,
    encoding: Encoding,
    names: Vec<String>,
    format: Format,
    on_error: OnError,
}

/// The bytes at which a streamed answer hands a piece to the connection (between two
/// collectors, so a piece is at least this long): small enough that the first bytes go out
/// while most of a large registry is still to be encoded, large enough that an exposition of
/// a few hundred kB goes in one or two writes. Measured on a 2-core machine against 32 KiB,
/// which made a 10,000-series scrape slower than answering it whole: each piece is a wakeup
/// of the connection's task and a write, paid on the same cores as the encoding.
const STREAM_PIECE: usize = 256 * 1024;

/// How many pieces may wait for the connection before the encoder waits for it: a slow
/// scraper holds back the encoding instead of the whole exposition piling up in memory.
const PIECES_IN_FLIGHT: usize = 4;

/// One streamed answer in the making: the head until it is sent, then the body's channel.
struct Streaming<'a> {
    handler: &'a MetricsHandler,
    head: Option<oneshot::Sender<Response<MetricsBody>>>,
    /// The scrape's in-flight slot, given back before the last of the answer is sent (as the
    /// whole answer gives it back before it is sent), so a scraper that reads the end and
    /// scrapes again finds it free.
    slot: Option<InFlight>,
    content_type: &'a str,
    encoding: Encoding,
    compressor: Option<Compressor>,
    pieces: Option<mpsc::Sender<Piece>>,
}

impl Streaming<'_> {
    /// Sends the encoded bytes in `out` (leaving it empty, with a buffer from the pool): the
    /// answer's head with them the first time.
    fn send(&mut self, out: &mut Vec<u8>) {
        if self.head.is_none() && self.pieces.is_none() {
            // Cut off, or the scraper went away: the rest is encoded for nobody.
            out.clear();
            return;
        }
        if let Some(head) = self.head.take() {
            let (tx, rx) = mpsc::channel(PIECES_IN_FLIGHT);
            let resp = Response::new(MetricsBody::streamed(rx));
            // A scraper that went away before the head: the pieces go nowhere.
            let _ = head.send(self.handler.with_headers(resp, self.content_type, self.encoding));
            self.pieces = Some(tx);
            self.compressor = match Compressor::new(self.encoding) {
                Ok(c) => Some(c),
                Err(e) => return self.abort(&format!("cannot start {:?} compression: {e}", self.encoding)),
            };
        }
        let piece = match self.compressor.as_mut().map(|c| c.push(out)) {
            Some(Ok(Some(compressed))) => {
                out.clear();
                if compressed.is_empty() {
                    // The compressor kept it all for now: nothing to send yet.
                    return;
                }
                Bytes::from(compressed)
            }
            Some(Err(e)) => return self.abort(&format!("compression failed: {e}")),
            // Identity: the buffer itself goes, and the encoder goes on in another.
            Some(Ok(None)) | None => {
                let next = self.handler.take_buffer();
                self.handler.pooled(std::mem::replace(out, next))
            }
        };
        self.put(Piece::Data(piece));
    }

    /// Sends one piece, waiting while the connection is behind; a body that was dropped (the
    /// scraper went away) takes nothing more.
    fn put(&mut self, piece: Piece) {
        if let Some(tx) = &self.pieces
            && tx.blocking_send(piece).is_err()
        {
            self.pieces = None;
        }
    }

    /// Ends the answer with the rest of the exposition in `buf`: the whole answer when
    /// nothing was sent yet.
    fn finish(mut self, buf: Vec<u8>) {
        self.slot = None;
        if let Some(head) = self.head.take() {
            let _ = head.send(
                self.handler.ok_response(buf, self.content_type, self.encoding).map(MetricsBody::whole),
            );
            return;
        }
        let last = match self.compressor.take().map(|c| c.finish(&buf)) {
            Some(Ok(Some(compressed))) => {
                give_back(&self.handler.shared, buf);
                Bytes::from(compressed)
            }
            Some(Err(e)) => return self.abort(&format!("compression failed: {e}")),
            Some(Ok(None)) | None => self.handler.pooled(buf),
        };
        self.put(if last.is_empty() { Piece::End } else { Piece::Last(last) });
    }

    /// A collector failed: a 500 if nothing was sent yet, else the body is cut off.
    fn fail(mut self, e: &CollectError) {
        self.slot = None;
        if let Some(head) = self.head.take() {
            let _ = head.send(self.handler.failed_response(e).map(MetricsBody::whole));
            return;
        }
        self.handler.count_error("gathering");
        self.abort(&format!("error gathering metrics: {e}"));
    }

    /// Cuts the body off with `why`; nothing more is sent.
    fn abort(&mut self, why: &str) {
        self.compressor = None;
        self.put(Piece::Abort(why.to_owned()));
        self.pieces = None;
    }
}

/// Keeps up to four encode buffers for later scrapes (more would only hold memory after a burst).
fn give_back(shared: &Shared, buf: Vec<u8>) {
    let mut pool = shared.buffers.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < 4 {
        pool.push(buf);
    }
}

/// An encode buffer lent to a response body; back in the pool when the body is dropped.
struct Pooled {
    buf: Vec<u8>,
    shared: Arc<Shared>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give_back(&self.shared, std::mem::take(&mut self.buf));
    }
}

/// Holds one in-flight slot; released on drop.
struct InFlight {
    shared: Arc<Shared>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Some(m) = &self.shared.metrics {
            m.in_flight.dec();
        }
    }
}

impl HandlerBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            error_handling: ErrorHandling::default(),
            max_in_flight: 0,
            timeout: None,
            streaming: None,
            openmetrics: FormatOffer::Offered,
            protobuf: FormatOffer::Offered,
            created_samples: CreatedSamples::Omit,
            encodings: Encoding::available().to_vec(),
            process_start: None,
            instrument: Instrument::Auto,
        }
    }

    /// What to do when a collector fails (default: answer 500).
    pub fn error_handling(mut self, policy: ErrorHandling) -> Self {
        self.error_handling = policy;
        self
    }

    /// Answer 503 to scrapes beyond this many at once (0, the default, is no limit).
    pub fn max_requests_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// Answer 503 when collecting and encoding takes longer than this (the work itself runs on
    /// and keeps its in-flight slot until it ends).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Stream the exposition to the connection while it is encoded, or encode it whole and
    /// then send it with its length. By default the [`Exporter`](crate::Exporter) streams
    /// (it sets `TCP_NODELAY`, see below) and a handler mounted in another server does not.
    /// Applies to the tower service
    /// serving one registry, without a timeout, with [`ErrorHandling::HttpError`] or
    /// [`ErrorHandling::ContinueOnError`]; otherwise the answer is whole.
    ///
    /// The encoder hands a piece to the connection whenever it has written 256 KiB or more
    /// between two collectors, so sending overlaps encoding: on a 2-core machine, one scrape
    /// at a time of 100,000 series (5.5 MB, a 1.6 ms encode) answered in 2.9–3.0 ms streamed
    /// against 3.4–3.5 ms whole; four at a time took about 10% longer each, the wakeups of the
    /// pieces competing with the encoding for the cores. An exposition smaller than one
    /// piece, and a zstd answer (zstd compresses a whole body faster), are answered whole.
    ///
    /// What changes:
    /// - a collector that fails after the first piece was sent cannot turn the answer into a
    ///   500 any more: the body is cut off ([`ScrapeAborted`](crate::ScrapeAborted)), which
    ///   a scraper records as a failed scrape just the same, and the failure is counted in
    ///   `promhttp_metric_handler_errors_total{cause="gathering"}`;
    /// - the body is chunked, so it has no `Content-Length`;
    /// - the server's sockets should have `TCP_NODELAY` set (Go's net/http sets it; tokio
    ///   does not by default). Without it a piece written while the previous one is not yet
    ///   acknowledged can wait for the scraper's delayed acknowledgement, 40 ms on Linux.
    ///   [`Exporter`](crate::Exporter) sets it; with axum, `axum::serve(listener.tap_io(|tcp|
    ///   { let _ = tcp.set_nodelay(true); }), app)` does.
    pub fn streaming(mut self, on: bool) -> Self {
        self.streaming = Some(on);
        self
    }

    /// Whether negotiation offers OpenMetrics (default: [`FormatOffer::Offered`]).
    pub fn openmetrics(mut self, offer: FormatOffer) -> Self {
        self.openmetrics = offer;
        self
    }

    /// Whether negotiation offers the delimited protobuf format (default: [`FormatOffer::Offered`]).
    /// Prometheus asks for it first only when its native-histogram feature is on; it is the
    /// only format that carries native histograms.
    pub fn protobuf(mut self, offer: FormatOffer) -> Self {
        self.protobuf = offer;
        self
    }

    /// Whether OpenMetrics responses carry `_created` samples (default:
    /// [`CreatedSamples::Omit`]).
    pub fn created_samples(mut self, created_samples: CreatedSamples) -> Self {
        self.created_samples = created_samples;
        self
    }

    /// The content codings offered, in preference order at equal q (default: every one this
    /// build has; an empty list sends everything uncompressed).
    pub fn compression(mut self, encodings: &[Encoding]) -> Self {
        self.encodings = encodings.to_vec();
        if !self.encodings.contains(&Encoding::Identity) {
            self.encodings.push(Encoding::Identity);
        }
        self
    }

    /// Send `Process-Start-Time-Unix` with this time, as Go's `ProcessStartTime` option does.
    pub fn process_start_time(mut self, start: SystemTime) -> Self {
        self.process_start = start.duration_since(SystemTime::UNIX_EPOCH).ok().map(|d| d.as_secs());
        self
    }

    /// Register the handler's own metrics in `registry`:
    /// `promhttp_metric_handler_requests_total{code}`,
    /// `promhttp_metric_handler_requests_in_flight` and
    /// `promhttp_metric_handler_errors_total{cause}`.
    ///
    /// A handler serving [`promkit::default_registry`] has them there without this call, as
    /// Go's `promhttp.Handler()` does (every such handler shares one set); a handler serving a
    /// registry of your own has none unless asked, since that registry is yours to shape.
    pub fn instrument(mut self, registry: &Registry) -> Self {
        self.instrument = Instrument::In(registry.clone());
        self
    }

    /// No `promhttp_*` metrics at all, not even for a handler serving the default registry.
    pub fn without_self_metrics(mut self) -> Self {
        self.instrument = Instrument::Off;
        self
    }

    /// Builds the handler.
    ///
    /// # Errors
    /// When `instrument` was given a registry (other than the default one) that already has
    /// the handler's metrics.
    pub fn build(self) -> Result<MetricsHandler, promkit::Error> {
        let default = promkit::default_registry();
        let target = match &self.instrument {
            Instrument::Off => None,
            Instrument::In(r) => Some(r),
            Instrument::Auto => match &self.source {
                Source::Registry(r) if r.same_as(default) => Some(default),
                _ => None,
            },
        };
        let metrics = match target {
            Some(r) if r.same_as(default) => {
                // Held while registering, so two first builds cannot both register.
                let mut shared = DEFAULT_SELF_METRICS.lock().unwrap_or_else(PoisonError::into_inner);
                match &*shared {
                    Some(m) => Some(m.clone()),
                    None => Some(shared.insert(self_metrics(default)?).clone()),
                }
            }
            Some(r) => Some(self_metrics(r)?),
            None => None,
        };
        Ok(MetricsHandler {
            server_streams: false,
            shared: Arc::new(Shared {
                source: self.source,
                error_handling: self.error_handling,
                max_in_flight: self.max_in_flight,
                timeout: self.timeout,
                streaming: self.streaming,
                openmetrics: self.openmetrics,
                protobuf: self.protobuf,
                created_samples: self.created_samples,
                encodings: self.encodings,
                process_start: self.process_start,
                in_flight: AtomicUsize::new(0),
                buffers: Mutex::new(Vec::new()),
                metrics,
            }),
        })
    }

    /// As [`build`](Self::build), panicking on error.
    ///
    /// # Panics
    /// When `instrument` was given a registry that already has the handler's metrics (a
    /// start-up mistake); [`build`](Self::build) returns the error instead.
    #[track_caller]
    pub fn must_build(self) -> MetricsHandler {
        self.build().unwrap_or_else(|e| panic!("{e}"))
    }
}

impl<B: Send + 'static> tower_service::Service<Request<B>> for MetricsHandler {
    type Response = Response<MetricsBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        let (parts, _) = req.into_parts();
        Box::pin(async move { Ok(this.serve_streamed(parts).await) })
    }
}

/// Registers the handler's own metrics in `r`, with the series Go creates up front.
fn self_metrics(r: &Registry) -> Result<SelfMetrics, promkit::Error> {
    let requests = Counter::builder("promhttp_metric_handler_requests_total")
        .help("Total number of scrapes by HTTP status code.")
        .labels(["code"])
        .register(r)?;
    for code in ["200", "500", "503"] {
        requests.with_label_values(&[code])?;
    }
    let in_flight = Gauge::builder("promhttp_metric_handler_requests_in_flight")
        .help("Current number of scrapes being served.")
        .register(r)?;
    let errors = Counter::builder("promhttp_metric_handler_errors_total")
        .help("Total number of internal errors encountered by the promhttp metric handler.")
        .labels(["cause"])
        .register(r)?;
    for cause in ["gathering", "encoding"] {
        errors.with_label_values(&[cause])?;
    }
    Ok(SelfMetrics { requests, in_flight, errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncompressed_body_is_the_pooled_buffer_which_returns_when_the_body_drops() {
        let registry = Registry::new();
        Counter::builder("hits_total").help("Hits.").register(&registry).unwrap();
        let handler = MetricsHandler::builder(&registry).must_build();
        let parts = Request::get("/metrics").body(()).unwrap().into_parts().0;
        let pooled = || handler.shared.buffers.lock().unwrap().len();

        let first = handler.respond(&parts);
        assert_eq!(first.body(), "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 0\n");
        assert_eq!(pooled(), 0, "the body holds the encode buffer");
        let address = first.body().as_ptr();
        drop(first);
        assert_eq!(pooled(), 1, "dropping the body returns the buffer");
        let second = handler.respond(&parts);
        assert_eq!(second.body().as_ptr(), address, "the next scrape encodes into the same buffer");
        assert_eq!(second.body(), "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 0\n");

        let gzip = Request::get("/metrics").header("accept-encoding", "gzip").body(()).unwrap();
        let compressed = handler.respond(&gzip.into_parts().0);
        assert_eq!(compressed.headers()[CONTENT_ENCODING], "gzip");
        assert_eq!(pooled(), 1, "the compressed answer returned its buffer at once");
        drop(second);
        assert_eq!(pooled(), 2, "and the identity body its own when dropped");
    }
}
