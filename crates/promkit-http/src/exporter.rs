//! `serve`: a standalone `/metrics` server for programs without an HTTP server of their own.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use axum::serve::ListenerExt;
use promkit::Registry;
use tokio::net::TcpListener;

use crate::MetricsHandler;

/// Why the exporter could not serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound (in use, or not an address of this machine).
    #[error("cannot listen on {addr}: {source}; pick a free port or another address")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("metrics server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// A standalone metrics server: `/metrics` from a [`MetricsHandler`], a small page at `/`.
///
/// ```no_run
/// # async fn run() -> Result<(), promkit_http::ServeError> {
/// use promkit_http::{Exporter, MetricsHandler};
/// let registry = promkit::default_registry();
/// let exporter = Exporter::bind("127.0.0.1:9100".parse().unwrap(), MetricsHandler::builder(registry).must_build()).await?;
/// println!("metrics on http://{}/metrics", exporter.local_addr());
/// exporter.run_until(async { tokio::signal::ctrl_c().await.ok(); }).await
/// # }
/// ```
#[derive(Debug)]
pub struct Exporter {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
}

impl Exporter {
    /// Binds `addr` (port 0 picks a free port) to serve `handler` at `/metrics`.
    ///
    /// # Errors
    /// [`ServeError::Bind`].
    pub async fn bind(addr: SocketAddr, handler: MetricsHandler) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
        // `run_until` sets TCP_NODELAY on every connection, so the handler may stream.
        let router =
            Router::new().route_service("/metrics", handler.in_nodelay_server()).route("/", get(landing));
        Ok(Self { listener, router, addr })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting and lets open requests finish.
    ///
    /// # Errors
    /// [`ServeError::Serve`].
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        // No Nagle delay: a streamed exposition goes out in several writes, and a small
        // write held back until the scraper acknowledges the one before it can cost the
        // scrape the scraper's delayed-ACK time (40 ms on Linux). Go's net/http sets this too.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.router).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve)
    }
}

async fn landing() -> Html<&'static str> {
    Html("<!doctype html><title>Metrics</title><h1>Metrics</h1><p><a href=\"/metrics\">/metrics</a></p>\n")
}

/// Serves `registry` at `http://addr/metrics` until ctrl-c or SIGTERM, then shuts down
/// gracefully.
///
/// # Errors
/// [`ServeError`] when the address cannot be bound or the server fails.
pub async fn serve(addr: SocketAddr, registry: &Registry) -> Result<(), ServeError> {
    let exporter = Exporter::bind(addr, MetricsHandler::builder(registry).must_build()).await?;
    exporter.run_until(shutdown_signal()).await
}

/// Completes on ctrl-c, or on SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! { () = ctrl_c => {}, () = term => {} }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
