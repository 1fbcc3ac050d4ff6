//! `RequestSizeLayer`: observes the size of request bodies.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use http_body::Body;
use promkit::{Histogram, TypedFamily};
use tower_layer::Layer;
use tower_service::Service;

use super::MeteredBody;
use super::labels::{Labels2, Resolver};

/// Observes the size of each request body in bytes, into
/// `http_server_request_size_bytes{method,route}`.
///
/// From [`HttpMetrics::request_size`](super::HttpMetrics::request_size). The inner service gets
/// the body wrapped in a [`MeteredBody`] that counts the bytes it reads; the size is recorded
/// when the body ends or is dropped. A body dropped unread or half read counts as its declared
/// size (`Content-Length`, or the body's own size hint) when that is larger: what the client
/// sent, read or not. The series has no
/// `code` label: the body is usually finished before the response exists.
///
/// With axum, apply it with `Router::layer`: axum's routes accept any body type.
#[derive(Clone, Debug)]
pub struct RequestSizeLayer {
    resolver: Arc<Resolver>,
    family: TypedFamily<Labels2, Histogram>,
}

impl RequestSizeLayer {
    pub(crate) fn new(resolver: Arc<Resolver>, family: TypedFamily<Labels2, Histogram>) -> Self {
        Self { resolver, family }
    }
}

impl<S> Layer<S> for RequestSizeLayer {
    type Service = RequestSizeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestSizeService { inner, layer: self.clone() }
    }
}

/// The service of a [`RequestSizeLayer`]: passes requests on with a [`MeteredBody`].
#[derive(Clone, Debug)]
pub struct RequestSizeService<S> {
    inner: S,
    layer: RequestSizeLayer,
}

impl<S, B> Service<Request<B>> for RequestSizeService<S>
where
    S: Service<Request<MeteredBody<B>>>,
    B: Body,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (request, target) = self.layer.resolver.resolve(request);
        let series = target.map(|t| self.layer.family.get(&t.labels2()));
        let header = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(0);
        // hyper's body knows its Content-Length too; an in-process body may know its size.
        let declared = header.max(request.body().size_hint().lower());
        self.inner.call(request.map(|body| MeteredBody::new(body, series, declared)))
    }
}
