//! Server middleware: the layers on an axum router, driven with `oneshot` and over loopback.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use promkit::{Buckets, Registry};
use promkit_http::middleware::{HttpMetrics, HttpMetricsBuilder, MeteredBody};
use tokio::sync::oneshot;
use tower::{ServiceExt, service_fn};
use tower_layer::Layer;

/// The lines of one family (its `# HELP` line up to the next family's) in a text exposition;
/// empty when the family is not written (a labelled family without series, as in Go).
pub(crate) fn family(text: &str, name: &str) -> String {
    let start = format!("# HELP {name} ");
    let Some(from) = text.find(&start) else { return String::new() };
    let rest = &text[from..];
    let end = rest[1..].find("# HELP ").map_or(rest.len(), |i| i + 1);
    rest[..end].to_owned()
}

/// The sample lines of `name` (histogram samples included) whose labels contain `labels`.
pub(crate) fn samples(text: &str, name: &str, labels: &str) -> Vec<String> {
    family(text, name)
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(labels))
        .map(str::to_owned)
        .collect()
}

/// Small size buckets, so histogram blocks stay short enough to compare whole.
fn builder() -> HttpMetricsBuilder {
    HttpMetrics::builder().size_buckets(Buckets::new([4.0, 64.0]).unwrap()).exclude_path("/metrics")
}

async fn get_user(Path(id): Path<String>) -> String {
    format!("user {id}")
}

async fn post_user(Path(_id): Path<String>, body: String) -> (StatusCode, String) {
    (StatusCode::CREATED, body)
}

/// The test app: two routes (and `/metrics`, excluded) with every layer applied.
fn app(metrics: &HttpMetrics) -> Router {
    Router::new()
        .route("/users/{id}", get(get_user).post(post_user))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(|| async { "# scrape" }))
        .layer(metrics.all())
}

async fn send(app: &Router, method: &str, uri: &str, body: &'static str) -> (StatusCode, Bytes) {
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri)
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn counts_by_method_code_and_route_template() {
    let registry = Registry::new();
    let metrics = builder().register(&registry).unwrap();
    let app = app(&metrics);

    assert_eq!(send(&app, "GET", "/users/1", "").await, (StatusCode::OK, Bytes::from("user 1")));
    assert_eq!(send(&app, "GET", "/users/22", "").await.0, StatusCode::OK);
    assert_eq!(send(&app, "POST", "/users/3", "hello").await, (StatusCode::CREATED, Bytes::from("hello")));
    assert_eq!(send(&app, "GET", "/health", "").await.0, StatusCode::OK);
    assert_eq!(send(&app, "GET", "/no/such/page", "").await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, "BREW", "/health", "").await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(send(&app, "GET", "/metrics", "").await.0, StatusCode::OK);

    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        family(&text, "http_server_requests_total"),
        "\
# HELP http_server_requests_total HTTP requests served, by method, status code and route.
# TYPE http_server_requests_total counter
http_server_requests_total{code=\"200\",method=\"GET\",route=\"/health\"} 1
http_server_requests_total{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 2
http_server_requests_total{code=\"201\",method=\"POST\",route=\"/users/{id}\"} 1
http_server_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1
http_server_requests_total{code=\"405\",method=\"other\",route=\"/health\"} 1
"
    );
    // Every request is timed once, under the same labels.
    let counts: Vec<String> = family(&text, "http_server_request_duration_seconds")
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_count"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        counts,
        [
            "http_server_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/health\"} 1",
            "http_server_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 2",
            "http_server_request_duration_seconds_count{code=\"201\",method=\"POST\",route=\"/users/{id}\"} 1",
            "http_server_request_duration_seconds_count{code=\"404\",method=\"GET\",route=\"unmatched\"} 1",
            "http_server_request_duration_seconds_count{code=\"405\",method=\"other\",route=\"/health\"} 1",
        ]
    );
    assert_eq!(
        family(&text, "http_server_requests_in_flight"),
        "\
# HELP http_server_requests_in_flight HTTP requests being served.
# TYPE http_server_requests_in_flight gauge
http_server_requests_in_flight{method=\"GET\",route=\"/health\"} 0
http_server_requests_in_flight{method=\"GET\",route=\"/users/{id}\"} 0
http_server_requests_in_flight{method=\"GET\",route=\"unmatched\"} 0
http_server_requests_in_flight{method=\"POST\",route=\"/users/{id}\"} 0
http_server_requests_in_flight{method=\"other\",route=\"/health\"} 0
"
    );
    // Request bodies: "hello" is 5 bytes; the rest are empty.
    assert_eq!(
        samples(&text, "http_server_request_size_bytes", "method=\"POST\""),
        [
            "http_server_request_size_bytes_bucket{method=\"POST\",route=\"/users/{id}\",le=\"4\"} 0",
            "http_server_request_size_bytes_bucket{method=\"POST\",route=\"/users/{id}\",le=\"64\"} 1",
            "http_server_request_size_bytes_bucket{method=\"POST\",route=\"/users/{id}\",le=\"+Inf\"} 1",
            "http_server_request_size_bytes_sum{method=\"POST\",route=\"/users/{id}\"} 5",
            "http_server_request_size_bytes_count{method=\"POST\",route=\"/users/{id}\"} 1",
        ]
    );
    assert_eq!(
        samples(&text, "http_server_request_size_bytes", "{method=\"GET\",route=\"/users/{id}\"}"),
        [
            "http_server_request_size_bytes_sum{method=\"GET\",route=\"/users/{id}\"} 0",
            "http_server_request_size_bytes_count{method=\"GET\",route=\"/users/{id}\"} 2",
        ]
    );
    // Response bodies: "user 1" + "user 22" = 13 bytes, "hello" 5, "ok" 2, the 404 and 405 none.
    let sums: Vec<String> = family(&text, "http_server_response_size_bytes")
        .lines()
        .filter(|l| l.contains("_sum") || l.contains("_count"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        sums,
        [
            "http_server_response_size_bytes_sum{code=\"200\",method=\"GET\",route=\"/health\"} 2",
            "http_server_response_size_bytes_count{code=\"200\",method=\"GET\",route=\"/health\"} 1",
            "http_server_response_size_bytes_sum{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 13",
            "http_server_response_size_bytes_count{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 2",
            "http_server_response_size_bytes_sum{code=\"201\",method=\"POST\",route=\"/users/{id}\"} 5",
            "http_server_response_size_bytes_count{code=\"201\",method=\"POST\",route=\"/users/{id}\"} 1",
            "http_server_response_size_bytes_sum{code=\"404\",method=\"GET\",route=\"unmatched\"} 0",
            "http_server_response_size_bytes_count{code=\"404\",method=\"GET\",route=\"unmatched\"} 1",
            "http_server_response_size_bytes_sum{code=\"405\",method=\"other\",route=\"/health\"} 0",
            "http_server_response_size_bytes_count{code=\"405\",method=\"other\",route=\"/health\"} 1",
        ]
    );
    // The excluded path left no trace in any family, by path or by template.
    assert!(!text.contains("/metrics"), "{text}");
}

#[tokio::test]
async fn one_layer_alone_registers_all_but_writes_only_its_family() {
    let registry = Registry::new();
    let metrics = builder().register(&registry).unwrap();
    let app = Router::new().route("/users/{id}", get(get_user)).layer(metrics.count());
    send(&app, "GET", "/users/1", "").await;

    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_requests_total", ""),
        ["http_server_requests_total{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 1"]
    );
    for unused in [
        "http_server_request_duration_seconds",
        "http_server_requests_in_flight",
        "http_server_request_size_bytes",
        "http_server_response_size_bytes",
    ] {
        // No series, so no family at all: client_golang writes nothing for an empty vector.
        assert!(!text.contains(unused), "{unused} in:\n{text}");
    }
}

#[tokio::test]
async fn in_flight_is_one_while_a_request_is_pending() {
    let registry = Registry::new();
    let metrics = builder().register(&registry).unwrap();
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let slot = Arc::new(Mutex::new(Some((entered_tx, release_rx))));
    let app = Router::new()
        .route(
            "/slow",
            get(move || {
                let (entered, release) = slot.lock().unwrap().take().unwrap();
                async move {
                    entered.send(()).unwrap();
                    release.await.unwrap();
                    "done"
                }
            }),
        )
        .layer(metrics.in_flight())
        .layer(metrics.count());

    let pending = tokio::spawn(app.oneshot(Request::get("/slow").body(Body::empty()).unwrap()));
    entered_rx.await.unwrap();
    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_requests_in_flight", ""),
        ["http_server_requests_in_flight{method=\"GET\",route=\"/slow\"} 1"]
    );
    assert_eq!(samples(&text, "http_server_requests_total", ""), Vec::<String>::new());

    release_tx.send(()).unwrap();
    let response = pending.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_requests_in_flight", ""),
        ["http_server_requests_in_flight{method=\"GET\",route=\"/slow\"} 0"]
    );
    assert_eq!(
        samples(&text, "http_server_requests_total", ""),
        ["http_server_requests_total{code=\"200\",method=\"GET\",route=\"/slow\"} 1"]
    );
}

#[tokio::test]
async fn a_dropped_request_leaves_the_in_flight_gauge_and_is_not_counted() {
    let registry = Registry::new();
    let metrics = builder().register(&registry).unwrap();
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let slot = Arc::new(Mutex::new(Some(entered_tx)));
    let app = Router::new()
        .route(
            "/hang",
            get(move || {
                let entered = slot.lock().unwrap().take().unwrap();
                async move {
                    entered.send(()).unwrap();
                    std::future::pending::<()>().await;
                }
            }),
        )
        .layer(metrics.all());

    let pending = tokio::spawn(app.oneshot(Request::get("/hang").body(Body::empty()).unwrap()));
    entered_rx.await.unwrap();
    let in_flight = "http_server_requests_in_flight{method=\"GET\",route=\"/hang\"}";
    assert_eq!(
        samples(&registry.encode_text_string().unwrap(), "http_server_requests_in_flight", ""),
        [format!("{in_flight} 1")]
    );
    pending.abort();
    assert!(pending.await.unwrap_err().is_cancelled());
    let text = registry.encode_text_string().unwrap();
    assert_eq!(samples(&text, "http_server_requests_in_flight", ""), [format!("{in_flight} 0")]);
    assert_eq!(samples(&text, "http_server_requests_total", ""), Vec::<String>::new());
    assert_eq!(samples(&text, "http_server_request_duration_seconds", ""), Vec::<String>::new());
}

#[tokio::test]
async fn exclusion_by_template_and_the_unmatched_options() {
    let registry = Registry::new();
    let metrics =
        builder().exclude_path("/users/{id}").unmatched_route("other_route").register(&registry).unwrap();
    let app = Router::new()
        .route("/users/{id}", get(get_user))
        .route("/health", get(|| async { "ok" }))
        .layer(metrics.count());
    send(&app, "GET", "/users/1", "").await;
    send(&app, "GET", "/health", "").await;
    send(&app, "GET", "/nope", "").await;
    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_requests_total", ""),
        [
            "http_server_requests_total{code=\"200\",method=\"GET\",route=\"/health\"} 1",
            "http_server_requests_total{code=\"404\",method=\"GET\",route=\"other_route\"} 1",
        ]
    );
}

#[tokio::test]
async fn outside_the_router_routes_come_from_the_normaliser_only() {
    // Wrapped around the whole router, the layer runs before routing: no MatchedPath.
    let inner = Router::new().route("/users/{id}", get(get_user));
    let registry = Registry::new();
    let plain = builder().register(&registry).unwrap().count().layer(inner.clone());
    plain.oneshot(Request::get("/users/5").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(
        samples(&registry.encode_text_string().unwrap(), "http_server_requests_total", ""),
        ["http_server_requests_total{code=\"200\",method=\"GET\",route=\"unmatched\"} 1"]
    );

    let registry = Registry::new();
    let metrics = builder()
        .path_normalizer(|path| {
            let first = path.split('/').nth(1).unwrap_or("");
            if first == "users" { "/users/:id".to_owned() } else { "/other".to_owned() }
        })
        .max_series(10)
        .register(&registry)
        .unwrap();
    let normalised = metrics.count().layer(inner);
    for uri in ["/users/5", "/users/6", "/elsewhere"] {
        normalised.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    }
    assert_eq!(
        samples(&registry.encode_text_string().unwrap(), "http_server_requests_total", ""),
        [
            "http_server_requests_total{code=\"200\",method=\"GET\",route=\"/users/:id\"} 2",
            "http_server_requests_total{code=\"404\",method=\"GET\",route=\"/other\"} 1",
        ]
    );
}

#[tokio::test]
async fn inner_errors_are_counted_with_code_error() {
    let registry = Registry::new();
    let metrics = builder().path_normalizer(|p| p.to_owned()).register(&registry).unwrap();
    let failing = metrics.all().layer(service_fn(|_: Request<MeteredBody<Full<Bytes>>>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("backend down"))
    }));
    let err =
        failing.oneshot(Request::get("/fail").body(Full::new(Bytes::from("xy"))).unwrap()).await.unwrap_err();
    assert_eq!(err.to_string(), "backend down");

    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_requests_total", ""),
        ["http_server_requests_total{code=\"error\",method=\"GET\",route=\"/fail\"} 1"]
    );
    assert_eq!(
        samples(&text, "http_server_request_duration_seconds", "_count"),
        ["http_server_request_duration_seconds_count{code=\"error\",method=\"GET\",route=\"/fail\"} 1"]
    );
    assert_eq!(
        samples(&text, "http_server_requests_in_flight", ""),
        ["http_server_requests_in_flight{method=\"GET\",route=\"/fail\"} 0"]
    );
    // The request body was dropped unread: it counts as the 2 bytes its size hint declares.
    assert_eq!(
        samples(&text, "http_server_request_size_bytes", "_sum"),
        ["http_server_request_size_bytes_sum{method=\"GET\",route=\"/fail\"} 2"]
    );
    // No response, no response size.
    assert_eq!(samples(&text, "http_server_response_size_bytes", ""), Vec::<String>::new());
}

/// A response body of several chunks, to see them counted as they stream.
struct Chunks(VecDeque<&'static str>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|c| Ok(Frame::data(Bytes::from_static(c.as_bytes())))))
    }
}

#[tokio::test]
async fn response_sizes_count_streamed_bytes_until_the_end_or_the_drop() {
    let registry = Registry::new();
    let metrics = builder().path_normalizer(|p| p.to_owned()).register(&registry).unwrap();
    let service = metrics.response_size().layer(service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(Chunks(VecDeque::from(["abc", "defg", "hi"]))))
    }));

    let full = service.clone().oneshot(Request::get("/whole").body(()).unwrap()).await.unwrap();
    assert_eq!(full.into_body().collect().await.unwrap().to_bytes(), "abcdefghi");

    // A client that goes away after the first chunk: only what was sent counts.
    let mut partial = service.oneshot(Request::get("/part").body(()).unwrap()).await.unwrap().into_body();
    let first = partial.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "abc");
    assert_eq!(partial.bytes(), 3);
    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(
            &text,
            "http_server_response_size_bytes",
            "_count{code=\"200\",method=\"GET\",route=\"/part\"}"
        ),
        ["http_server_response_size_bytes_count{code=\"200\",method=\"GET\",route=\"/part\"} 0"]
    );
    drop(partial);

    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_response_size_bytes", "_sum"),
        [
            "http_server_response_size_bytes_sum{code=\"200\",method=\"GET\",route=\"/part\"} 3",
            "http_server_response_size_bytes_sum{code=\"200\",method=\"GET\",route=\"/whole\"} 9",
        ]
    );
}

#[tokio::test]
async fn an_unread_request_body_counts_its_content_length() {
    let registry = Registry::new();
    let metrics = builder().register(&registry).unwrap();
    // The handler ignores the body it was sent.
    let app = Router::new()
        .route("/ignore", axum::routing::post(|| async { "ignored" }))
        .layer(metrics.request_size());
    send(&app, "POST", "/ignore", "twelve bytes").await;
    assert_eq!(
        samples(&registry.encode_text_string().unwrap(), "http_server_request_size_bytes", "_sum"),
        ["http_server_request_size_bytes_sum{method=\"POST\",route=\"/ignore\"} 12"]
    );
}

#[tokio::test]
async fn over_loopback_with_a_real_server_and_client() {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let registry = Registry::new();
    let metrics = builder().register(&registry).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app(&metrics))
            .with_graceful_shutdown(async { stop_rx.await.unwrap_or(()) })
            .into_future(),
    );

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let call = |method: Method, path: &str, body: &'static str| {
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        let client = client.clone();
        async move {
            let response = client.request(request).await.unwrap();
            let status = response.status();
            (status, response.into_body().collect().await.unwrap().to_bytes())
        }
    };
    assert_eq!(call(Method::GET, "/users/7", "").await, (StatusCode::OK, Bytes::from("user 7")));
    assert_eq!(call(Method::POST, "/users/8", "abcdef").await, (StatusCode::CREATED, Bytes::from("abcdef")));
    assert_eq!(call(Method::GET, "/missing", "").await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(Method::GET, "/metrics", "").await.0, StatusCode::OK);

    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        samples(&text, "http_server_requests_total", ""),
        [
            "http_server_requests_total{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 1",
            "http_server_requests_total{code=\"201\",method=\"POST\",route=\"/users/{id}\"} 1",
            "http_server_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1",
        ]
    );
    assert_eq!(
        samples(&text, "http_server_request_size_bytes", "_sum"),
        [
            "http_server_request_size_bytes_sum{method=\"GET\",route=\"/users/{id}\"} 0",
            "http_server_request_size_bytes_sum{method=\"GET\",route=\"unmatched\"} 0",
            "http_server_request_size_bytes_sum{method=\"POST\",route=\"/users/{id}\"} 6",
        ]
    );
    assert_eq!(
        samples(&text, "http_server_response_size_bytes", "_sum"),
        [
            "http_server_response_size_bytes_sum{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 6",
            "http_server_response_size_bytes_sum{code=\"201\",method=\"POST\",route=\"/users/{id}\"} 6",
            "http_server_response_size_bytes_sum{code=\"404\",method=\"GET\",route=\"unmatched\"} 0",
        ]
    );
    assert!(samples(&text, "http_server_requests_in_flight", "").iter().all(|l| l.ends_with(" 0")), "{text}");
    assert!(!text.contains("/metrics"), "{text}");

    // Close the pooled keep-alive connection, so the graceful shutdown has nothing to wait for.
    drop(client);
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_app_with_three_layers_exports_exactly_their_three_families() {
    use promkit_http::middleware::ServerMetric;

    let registry = Registry::new();
    let metrics = builder()
        .only([ServerMetric::InFlight, ServerMetric::Requests, ServerMetric::Duration])
        .duration_buckets(Buckets::new([1.0]).unwrap())
        .register(&registry)
        .unwrap();
    let app = Router::new()
        .route("/users/{id}", get(get_user))
        .layer(metrics.in_flight())
        .layer(metrics.count())
        .layer(metrics.duration());
    assert_eq!(send(&app, "GET", "/users/7", "").await, (StatusCode::OK, Bytes::from("user 7")));
    assert_eq!(send(&app, "GET", "/nowhere", "").await.0, StatusCode::NOT_FOUND);

    let text = registry.encode_text_string().unwrap();
    let families: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).collect();
    assert_eq!(
        families,
        [
            "http_server_request_duration_seconds histogram",
            "http_server_requests_in_flight gauge",
            "http_server_requests_total counter",
        ]
    );
    assert_eq!(
        samples(&text, "http_server_requests_total", ""),
        [
            "http_server_requests_total{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 1",
            "http_server_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1",
        ]
    );
    assert_eq!(
        samples(&text, "http_server_requests_in_flight", ""),
        [
            "http_server_requests_in_flight{method=\"GET\",route=\"/users/{id}\"} 0",
            "http_server_requests_in_flight{method=\"GET\",route=\"unmatched\"} 0",
        ]
    );
    assert_eq!(
        samples(&text, "http_server_request_duration_seconds", "_count{code=\"200\""),
        ["http_server_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/users/{id}\"} 1"]
    );

    // The two left out took no name: the app may register its own under them.
    promkit::Histogram::builder("http_server_request_size_bytes").help("Mine.").register(&registry).unwrap();
    let names: Vec<String> = registry.descs().into_iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        [
            "http_server_request_duration_seconds",
            "http_server_request_size_bytes",
            "http_server_requests_in_flight",
            "http_server_requests_total",
        ]
    );
}

#[tokio::test]
async fn the_exemplar_hook_labels_the_counter_and_the_duration_bucket() {
    let registry = Registry::new();
    let metrics = builder()
        .duration_buckets(Buckets::new([60.0]).unwrap())
        .exemplar_from(|head: &http::request::Parts| {
            let id = head.headers.get("x-trace")?.to_str().ok()?;
            // A name the exemplar check refuses: the request must still be measured.
            let name = if id == "bad" { "bad-name" } else { "trace_id" };
            Some(vec![(name.to_owned(), id.to_owned())])
        })
        .register(&registry)
        .unwrap();
    let app = app(&metrics);
    for trace in [Some("t-1"), None, Some("bad")] {
        let mut request = Request::get("/health");
        if let Some(t) = trace {
            request = request.header("x-trace", t);
        }
        let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let om = registry.encode_string(promkit::Format::OPENMETRICS).unwrap();
    let route = "code=\"200\",method=\"GET\",route=\"/health\"";
    let counted = samples(&om, "http_server_requests", route);
    // Three requests counted; the exemplar is the last valid one (`None` and the refused one
    // leave it in place).
    assert_eq!(counted.len(), 1, "{om}");
    assert!(
        counted[0]
            .starts_with(&format!("http_server_requests_total{{{route}}} 3.0 # {{trace_id=\"t-1\"}} 1.0 ")),
        "{om}"
    );
    let buckets = samples(&om, "http_server_request_duration_seconds", route);
    let first = buckets.iter().find(|l| l.contains("le=\"60.0\"")).unwrap();
    assert!(first.contains(" 3 # {trace_id=\"t-1\"} "), "{first}");
    assert!(buckets.iter().filter(|l| l.contains(" # {")).count() == 1, "{buckets:?}");
}
