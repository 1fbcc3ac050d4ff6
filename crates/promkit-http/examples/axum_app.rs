//! An axum 0.8 shop instrumented with promkit, from `main` to graceful shutdown.
//!
//! - Two routes (`POST /orders/{plan}`, `PUT /cart`) behind three of promkit-http's layers
//!   (requests, duration, in flight): `HttpMetrics` registers only those three families.
//! - `/metrics` mounted with `route_service` *before* `.layer(..)`, and `exclude_path("/metrics")`
//!   so scrapes do not count as shop traffic.
//! - The default registry, which holds the process collector (`process_*`), plus the
//!   handler's own `promhttp_metric_handler_*` metrics.
//! - Business metrics: a counter with a derived label set, a histogram with custom buckets
//!   and a gauge.
//!
//! ```sh
//! cargo run -p promkit-http --example axum_app
//! curl -X POST -d 120 127.0.0.1:3000/orders/pro
//! curl 127.0.0.1:3000/metrics
//! ```
//!
//! Ctrl-C stops it after the requests in progress have been answered. The crate's integration
//! tests serve this very file on a loopback port and check its `/metrics` value by value.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use promkit::{Buckets, Counter, Gauge, Histogram, LabelSet, LabelValue, Registry, TypedFamily};
use promkit_http::MetricsHandler;
use promkit_http::middleware::{HttpMetrics, ServerMetric};
use tokio::net::TcpListener;

/// The plans a customer can order on: the `plan` label can take no other value.
#[derive(Clone, Copy, Debug, LabelValue)]
#[label(rename_all = "lowercase")]
enum Plan {
    Free,
    Pro,
}

/// What became of an order.
#[derive(Clone, Copy, Debug, LabelValue)]
#[label(rename_all = "lowercase")]
enum Outcome {
    Accepted,
    Rejected,
}

/// The labels of `shop_orders_total`: a misspelt label or a free-text value does not compile.
#[derive(Clone, Debug, LabelSet)]
struct OrderLabels {
    plan: Plan,
    outcome: Outcome,
}

/// The shop's own metrics, declared once and shared by the handlers.
#[derive(Debug)]
struct ShopMetrics {
    orders: TypedFamily<OrderLabels, Counter>,
    order_value: Histogram,
    cart_items: Gauge,
}

impl ShopMetrics {
    fn new(registry: &Registry) -> Result<Self, promkit::Error> {
        Ok(Self {
            orders: Counter::builder("shop_orders_total")
                .help("Orders received, by plan and outcome.")
                .typed_labels::<OrderLabels>()
                .register(registry)?,
            order_value: Histogram::builder("shop_order_value_dollars")
                .help("Value of accepted orders, in dollars.")
                .buckets(Buckets::new([10.0, 50.0, 100.0, 500.0])?)
                .register(registry)?,
            cart_items: Gauge::builder("shop_cart_items").help("Items in the cart.").register(registry)?,
        })
    }
}

/// `POST /orders/{plan}` with the order's value in dollars as the body.
async fn order(
    State(metrics): State<Arc<ShopMetrics>>,
    Path(plan): Path<String>,
    body: String,
) -> (StatusCode, &'static str) {
    let plan = match plan.as_str() {
        "free" => Plan::Free,
        "pro" => Plan::Pro,
        _ => return (StatusCode::NOT_FOUND, "no such plan\n"),
    };
    match body.trim().parse::<f64>() {
        Ok(value) if value > 0.0 => {
            metrics.orders.get(&OrderLabels { plan, outcome: Outcome::Accepted }).inc();
            metrics.order_value.observe(value);
            (StatusCode::CREATED, "accepted\n")
        }
        _ => {
            metrics.orders.get(&OrderLabels { plan, outcome: Outcome::Rejected }).inc();
            (StatusCode::UNPROCESSABLE_ENTITY, "the body must be a positive amount\n")
        }
    }
}

/// `PUT /cart` with the number of items as the body.
async fn cart(State(metrics): State<Arc<ShopMetrics>>, body: String) -> StatusCode {
    match body.trim().parse::<i64>() {
        Ok(items) if items >= 0 => {
            metrics.cart_items.set(items);
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The whole app, its metrics registered in `registry`.
///
/// # Errors
/// When `registry` already holds one of the app's metric names (calling this twice on one
/// registry, say).
pub(crate) fn app(registry: &Registry) -> Result<Router, promkit::Error> {
    let shop = Arc::new(ShopMetrics::new(registry)?);
    let http = HttpMetrics::builder()
        .only([ServerMetric::Requests, ServerMetric::Duration, ServerMetric::InFlight])
        .exclude_path("/metrics")
        .register(registry)?;
    // `instrument` puts the handler's own metrics beside the app's; for the default registry
    // they are there anyway (one shared set, as Go's `promhttp.Handler()`).
    let metrics = MetricsHandler::builder(registry).instrument(registry).build()?;
    Ok(Router::new()
        .route("/orders/{plan}", post(order))
        .route("/cart", put(cart))
        // Before `.layer(..)`: the layers then see `/metrics` too, and `exclude_path` leaves it
        // out. Layers apply to the routes added before them, after routing, where axum's
        // `MatchedPath` gives the `route` label its template.
        .route_service("/metrics", metrics)
        .layer(http.in_flight())
        .layer(http.count())
        .layer(http.duration())
        .with_state(shop))
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets the requests in progress
/// finish.
///
/// # Errors
/// When the metrics cannot be registered ([`app`]), or the server fails.
pub(crate) async fn serve(
    listener: TcpListener,
    registry: &Registry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let app = app(registry)?;
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let addr = std::env::var("SHOP_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("serving on http://{}/ (metrics at /metrics); Ctrl-C stops", listener.local_addr()?);
    // The default registry: the process collector is in it already, as in Go.
    serve(listener, promkit::default_registry(), async {
        // An error here means no signal handler could be installed: stop at once.
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
