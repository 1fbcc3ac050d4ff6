//! `InFlightLayer`: a gauge of the requests being served right now.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Request;
use pin_project_lite::pin_project;
use promkit::{Gauge, TypedFamily, metrics::InflightGuard};
use tower_layer::Layer;
use tower_service::Service;

use super::labels::{Labels2, Resolver};

/// Counts the requests in progress, in `http_server_requests_in_flight{method,route}` (or
/// `http_client_requests_in_flight{method,host}`); there is no `code` label, as a request in
/// flight has none yet.
///
/// From [`HttpMetrics::in_flight`](super::HttpMetrics::in_flight) or
/// [`ClientMetrics::in_flight`](crate::client::ClientMetrics::in_flight). A request is in flight
/// from the call into the service until its response future resolves (the response head is
/// ready), fails, or is dropped: the gauge always comes back down.
#[derive(Clone, Debug)]
pub struct InFlightLayer {
    resolver: Arc<Resolver>,
    family: TypedFamily<Labels2, Gauge>,
}

impl InFlightLayer {
    pub(crate) fn new(resolver: Arc<Resolver>, family: TypedFamily<Labels2, Gauge>) -> Self {
        Self { resolver, family }
    }
}

impl<S> Layer<S> for InFlightLayer {
    type Service = InFlightService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InFlightService { inner, layer: self.clone() }
    }
}

/// The service of an [`InFlightLayer`].
#[derive(Clone, Debug)]
pub struct InFlightService<S> {
    inner: S,
    layer: InFlightLayer,
}

impl<S, B> Service<Request<B>> for InFlightService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = InFlightFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (request, target) = self.layer.resolver.resolve(request);
        let guard = target.map(|t| self.layer.family.get(&t.labels2()).track_inflight());
        InFlightFuture { inner: self.inner.call(request), guard }
    }
}

pin_project! {
    /// The response future of an [`InFlightService`].
    #[derive(Debug)]
    pub struct InFlightFuture<F> {
        #[pin]
        inner: F,
        // Decrements on drop: when the response is ready, or when the future is dropped unfinished.
        guard: Option<InflightGuard>,
    }
}

impl<F: Future> Future for InFlightFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        // Down as soon as the response is ready, not whenever the caller drops this future.
        this.guard.take();
        Poll::Ready(output)
    }
}
