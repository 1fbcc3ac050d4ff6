//! The examples, run: each example file is compiled into this binary (see `main.rs`), served on
//! a loopback port, driven with requests and scraped, then shut down gracefully.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::axum_app;
use crate::handler::DEFAULT_REGISTRY;
use crate::middleware::family;

/// Sends one request over loopback; the status and the body as text.
async fn send(addr: SocketAddr, method: Method, path: &str, body: &'static str) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request =
        Request::builder().method(method).uri(format!("http://{addr}{path}")).body(Full::from(body)).unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// `promhttp_metric_handler_requests_total{code="200"}` in a scrape.
fn scrapes_served(text: &str) -> u64 {
    let line = "promhttp_metric_handler_requests_total{code=\"200\"} ";
    text.lines()
        .find_map(|l| l.strip_prefix(line))
        .unwrap_or_else(|| panic!("no {line} in:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
#[allow(clippy::await_holding_lock)] // a std lock on a current-thread runtime: no other task waits
async fn the_axum_example_serves_its_metrics_and_shuts_down_gracefully() {
    // The example uses the default registry, as its `main` does; the tests on that registry
    // take turns.
    let _turn = DEFAULT_REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(axum_app::serve(listener, promkit::default_registry(), async {
        let _ = stopped.await;
    }));

    assert_eq!(send(addr, Method::POST, "/orders/pro", "120").await, (201, "accepted\n".into()));
    assert_eq!(send(addr, Method::POST, "/orders/pro", "30").await.0, 201);
    assert_eq!(send(addr, Method::POST, "/orders/free", "nothing").await.0, 422);
    assert_eq!(send(addr, Method::POST, "/orders/gold", "5").await, (404, "no such plan\n".into()));
    assert_eq!(send(addr, Method::PUT, "/cart", "3").await.0, 204);
    assert_eq!(send(addr, Method::GET, "/nowhere", "").await.0, 404);

    let (status, first) = send(addr, Method::GET, "/metrics", "").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        family(&first, "shop_orders_total"),
        "\
# HELP shop_orders_total Orders received, by plan and outcome.
# TYPE shop_orders_total counter
shop_orders_total{outcome=\"accepted\",plan=\"pro\"} 2
shop_orders_total{outcome=\"rejected\",plan=\"free\"} 1
"
    );
    assert_eq!(
        family(&first, "shop_order_value_dollars"),
        "\
# HELP shop_order_value_dollars Value of accepted orders, in dollars.
# TYPE shop_order_value_dollars histogram
shop_order_value_dollars_bucket{le=\"10\"} 0
shop_order_value_dollars_bucket{le=\"50\"} 1
shop_order_value_dollars_bucket{le=\"100\"} 1
shop_order_value_dollars_bucket{le=\"500\"} 2
shop_order_value_dollars_bucket{le=\"+Inf\"} 2
shop_order_value_dollars_sum 150
shop_order_value_dollars_count 2
"
    );
    assert_eq!(
        family(&first, "shop_cart_items"),
        "# HELP shop_cart_items Items in the cart.\n# TYPE shop_cart_items gauge\nshop_cart_items 3\n"
    );
    // Route templates, not paths; the unrouted 404 as `unmatched`; no `/metrics`.
    assert_eq!(
        family(&first, "http_server_requests_total"),
        "\
# HELP http_server_requests_total HTTP requests served, by method, status code and route.
# TYPE http_server_requests_total counter
http_server_requests_total{code=\"201\",method=\"POST\",route=\"/orders/{plan}\"} 2
http_server_requests_total{code=\"204\",method=\"PUT\",route=\"/cart\"} 1
http_server_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1
http_server_requests_total{code=\"404\",method=\"POST\",route=\"/orders/{plan}\"} 1
http_server_requests_total{code=\"422\",method=\"POST\",route=\"/orders/{plan}\"} 1
"
    );
    assert!(first.contains(
        "http_server_request_duration_seconds_count{code=\"201\",method=\"POST\",route=\"/orders/{plan}\"} 2\n"
    ));
    assert!(first.contains("http_server_requests_in_flight{method=\"PUT\",route=\"/cart\"} 0\n"));
    // Only the three layers the app uses have families.
    for unused in ["http_server_request_size_bytes", "http_server_response_size_bytes"] {
        assert!(!first.contains(unused), "{unused} in:\n{first}");
    }
    if cfg!(any(target_os = "linux", target_os = "android")) {
        assert!(first.contains("# TYPE process_start_time_seconds gauge\n"), "{first}");
    }
    // The handler counts a scrape once it has been answered.
    let (_, second) = send(addr, Method::GET, "/metrics", "").await;
    assert_eq!(scrapes_served(&second), scrapes_served(&first) + 1);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting on {addr} after shutdown");
}

/// The one convention the examples rely on: every API that takes a registry takes `&Registry`
/// (a component that keeps one clones the handle). These coercions stop compiling if one
/// starts taking it by value.
#[test]
fn every_api_takes_the_registry_by_reference() {
    use promkit::Registry;
    use promkit_http::client::{ClientMetrics, ClientMetricsBuilder};
    use promkit_http::middleware::{HttpMetrics, HttpMetricsBuilder};
    use promkit_http::{HandlerBuilder, MetricsHandler};

    let _: fn(&Registry) -> HandlerBuilder = MetricsHandler::builder;
    let _: fn(HandlerBuilder, &Registry) -> HandlerBuilder = HandlerBuilder::instrument;
    let _: fn(HttpMetricsBuilder, &Registry) -> Result<HttpMetrics, promkit::Error> =
        HttpMetricsBuilder::register;
    let _: fn(ClientMetricsBuilder, &Registry) -> Result<ClientMetrics, promkit::Error> =
        ClientMetricsBuilder::register;
    let _: fn(promkit::Builder<promkit::Counter>, &Registry) -> Result<promkit::Counter, promkit::Error> =
        promkit::Builder::<promkit::Counter, promkit::metrics::Single>::register;
    let _: fn(&Registry, &str, &[&str]) -> Result<(), promkit_testutil::Error> =
        promkit_testutil::gather_and_compare;
    let registry = Registry::new();
    let _ = promkit::registry::Gatherers::new([&registry, promkit::default_registry()]);
}
