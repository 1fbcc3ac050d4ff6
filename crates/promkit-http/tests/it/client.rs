//! Client instrumentation: a hyper-util client wrapped in the layers, calling a local axum server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use promkit::Registry;
use promkit_http::client::{ClientLabel, ClientMetrics, ClientMetricsService};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::{ServiceExt, service_fn};
use tower_layer::Layer;

use crate::middleware::samples;

type Instrumented = ClientMetricsService<Client<HttpConnector, Full<Bytes>>>;

/// An axum server on a loopback port, stopped by the returned sender.
async fn serve(router: Router) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(async { stop_rx.await.unwrap_or(()) })
            .into_future(),
    );
    (addr, stop_tx, server)
}

fn instrumented(metrics: &ClientMetrics) -> Instrumented {
    metrics.all().layer(Client::builder(TokioExecutor::new()).build_http())
}

async fn call(client: &Instrumented, method: Method, uri: String, body: &'static str) -> (StatusCode, Bytes) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let response = client.clone().oneshot(request).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn a_hyper_client_counts_and_times_its_calls() {
    let router = Router::new()
        .route(
            "/users/{id}",
            get(|Path(id): Path<u32>| async move { format!("user {id}") }).post(|b: String| async { b }),
        )
        .route("/health", get(|| async { "ok" }));
    let (addr, stop, server) = serve(router).await;
    let registry = Registry::new();
    let metrics = ClientMetrics::builder().register(&registry).unwrap();
    let client = instrumented(&metrics);

    assert_eq!(
        call(&client, Method::GET, format!("http://{addr}/health"), "").await,
        (StatusCode::OK, Bytes::from("ok"))
    );
    assert_eq!(call(&client, Method::GET, format!("http://{addr}/health"), "").await.0, StatusCode::OK);
    assert_eq!(call(&client, Method::GET, format!("http://{addr}/users/1"), "").await.0, StatusCode::OK);
    assert_eq!(
        call(&client, Method::POST, format!("http://{addr}/users/2"), "abc").await.1,
        Bytes::from("abc")
    );
    assert_eq!(call(&client, Method::GET, format!("http://{addr}/nope"), "").await.0, StatusCode::NOT_FOUND);

    let host = format!("host=\"{addr}\"");
    let text = registry.encode_text_string().unwrap();
    assert_eq!(
        crate::middleware::family(&text, "http_client_requests_total"),
        format!(
            "\
# HELP http_client_requests_total HTTP requests sent, by method, status code and host.
# TYPE http_client_requests_total counter
http_client_requests_total{{code=\"200\",{host},method=\"GET\"}} 3
http_client_requests_total{{code=\"200\",{host},method=\"POST\"}} 1
http_client_requests_total{{code=\"404\",{host},method=\"GET\"}} 1
"
        )
    );
    assert_eq!(
        samples(&text, "http_client_request_duration_seconds", "_count"),
        [
            format!("http_client_request_duration_seconds_count{{code=\"200\",{host},method=\"GET\"}} 3"),
            format!("http_client_request_duration_seconds_count{{code=\"200\",{host},method=\"POST\"}} 1"),
            format!("http_client_request_duration_seconds_count{{code=\"404\",{host},method=\"GET\"}} 1"),
        ]
    );
    // Every observation is a positive duration below the largest default bucket.
    for line in samples(&text, "http_client_request_duration_seconds", "_sum") {
        let seconds: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(seconds > 0.0 && seconds < 10.0, "{line}");
    }
    assert_eq!(
        samples(&text, "http_client_requests_in_flight", ""),
        [
            format!("http_client_requests_in_flight{{{host},method=\"GET\"}} 0"),
            format!("http_client_requests_in_flight{{{host},method=\"POST\"}} 0"),
        ]
    );

    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn in_flight_is_one_while_the_server_holds_the_request() {
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let slot = Arc::new(Mutex::new(Some((entered_tx, release_rx))));
    let router = Router::new().route(
        "/slow",
        get(move || {
            let (entered, release) = slot.lock().unwrap().take().unwrap();
            async move {
                entered.send(()).unwrap();
                release.await.unwrap();
                "done"
            }
        }),
    );
    let (addr, stop, server) = serve(router).await;
    let registry = Registry::new();
    let metrics = ClientMetrics::builder().register(&registry).unwrap();
    let client = instrumented(&metrics);

    let pending = tokio::spawn({
        let client = client.clone();
        async move { call(&client, Method::GET, format!("http://{addr}/slow"), "").await }
    });
    entered_rx.await.unwrap();
    let gauge = format!("http_client_requests_in_flight{{host=\"{addr}\",method=\"GET\"}}");
    let text = registry.encode_text_string().unwrap();
    assert_eq!(samples(&text, "http_client_requests_in_flight", ""), [format!("{gauge} 1")]);
    assert_eq!(samples(&text, "http_client_requests_total", ""), Vec::<String>::new());

    release_tx.send(()).unwrap();
    assert_eq!(pending.await.unwrap(), (StatusCode::OK, Bytes::from("done")));
    let text = registry.encode_text_string().unwrap();
    assert_eq!(samples(&text, "http_client_requests_in_flight", ""), [format!("{gauge} 0")]);
    assert_eq!(
        samples(&text, "http_client_requests_total", ""),
        [format!("http_client_requests_total{{code=\"200\",host=\"{addr}\",method=\"GET\"}} 1")]
    );

    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn failed_requests_are_counted_with_code_error() {
    let registry = Registry::new();
    let metrics = ClientMetrics::builder().register(&registry).unwrap();
    let client = instrumented(&metrics);

    // Nothing listens on a port just freed: the connection is refused.
    let refused = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let request = Request::get(format!("http://{refused}/x")).body(Full::default()).unwrap();
    assert!(client.clone().oneshot(request).await.unwrap_err().is_connect());
    // hyper-util's client wants absolute URIs: refused before any connection, with no host.
    let relative = Request::get("/x").body(Full::default()).unwrap();
    client.clone().oneshot(relative).await.unwrap_err();

    promkit_testutil::gather_and_compare(
        &registry,
        &format!(
            "# HELP http_client_requests_total HTTP requests sent, by method, status code and host.
# TYPE http_client_requests_total counter
http_client_requests_total{{method=\"GET\",code=\"error\",host=\"unknown\"}} 1
http_client_requests_total{{method=\"GET\",code=\"error\",host=\"{refused}\"}} 1
"
        ),
        &["http_client_requests_total"],
    )
    .unwrap();
    let text = registry.encode_text_string().unwrap();
    assert_eq!(samples(&text, "http_client_request_duration_seconds", "_count").len(), 2);
    assert!(samples(&text, "http_client_requests_in_flight", "").iter().all(|l| l.ends_with(" 0")), "{text}");
}

#[tokio::test]
async fn a_target_closure_and_renamed_label_replace_the_host() {
    let registry = Registry::new();
    let metrics = ClientMetrics::builder()
        .label_name(ClientLabel::Host, "upstream")
        .target(|parts| match parts.uri.path().split('/').nth(1) {
            Some("billing") => "billing".to_owned(),
            _ => "other".to_owned(),
        })
        .register(&registry)
        .unwrap();
    let client = metrics.count().layer(service_fn(|request: Request<()>| async move {
        let status = if request.method() == Method::DELETE { 204 } else { 200 };
        Ok::<_, Infallible>(Response::builder().status(status).body(()).unwrap())
    }));
    for (method, uri) in [
        (Method::GET, "http://a.example/billing/1"),
        (Method::DELETE, "http://b.example/billing/2"),
        (Method::from_bytes(b"PURGE").unwrap(), "http://c.example/cache"),
    ] {
        let request = Request::builder().method(method).uri(uri).body(()).unwrap();
        client.clone().oneshot(request).await.unwrap();
    }
    assert_eq!(
        samples(&registry.encode_text_string().unwrap(), "http_client_requests_total", ""),
        [
            "http_client_requests_total{code=\"200\",method=\"GET\",upstream=\"billing\"} 1",
            "http_client_requests_total{code=\"200\",method=\"other\",upstream=\"other\"} 1",
            "http_client_requests_total{code=\"204\",method=\"DELETE\",upstream=\"billing\"} 1",
        ]
    );
}
