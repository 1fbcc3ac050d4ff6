//! `ResponseSizeLayer`: observes the size of response bodies as they are written.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use promkit::{Histogram, TypedFamily};
use tower_layer::Layer;
use tower_service::Service;

use super::MeteredBody;
use super::labels::{LabelText, Labels3, Resolver};

/// Observes the size of each response body in bytes, into
/// `http_server_response_size_bytes{method,code,route}`.
///
/// From [`HttpMetrics::response_size`](super::HttpMetrics::response_size). The response body is
/// wrapped in a [`MeteredBody`] that counts the data bytes the server takes from it, and the
/// size is recorded when the body ends or is dropped: a streamed body counts what was actually
/// sent, a client that disconnects mid-stream counts what it got, and a `HEAD` response, whose
/// body the server never reads, counts 0. A call whose inner service fails has no body and is
/// not observed.
#[derive(Clone, Debug)]
pub struct ResponseSizeLayer {
    resolver: Arc<Resolver>,
    family: TypedFamily<Labels3, Histogram>,
}

impl ResponseSizeLayer {
    pub(crate) fn new(resolver: Arc<Resolver>, family: TypedFamily<Labels3, Histogram>) -> Self {
        Self { resolver, family }
    }
}

impl<S> Layer<S> for ResponseSizeLayer {
    type Service = ResponseSizeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResponseSizeService { inner, layer: self.clone() }
    }
}

/// The service of a [`ResponseSizeLayer`]: its responses carry a [`MeteredBody`].
#[derive(Clone, Debug)]
pub struct ResponseSizeService<S> {
    inner: S,
    layer: ResponseSizeLayer,
}

impl<S, B, ResBody> Service<Request<B>> for ResponseSizeService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    ResBody: Body,
{
    type Response = Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseSizeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (request, target) = self.layer.resolver.resolve(request);
        let pending = target.map(|t| (self.layer.family.clone(), t.labels3()));
        ResponseSizeFuture { inner: self.inner.call(request), pending }
    }
}

pin_project! {
    /// The response future of a [`ResponseSizeService`].
    #[derive(Debug)]
    pub struct ResponseSizeFuture<F> {
        #[pin]
        inner: F,
        // `None` for an excluded request, or once the response is out.
        pending: Option<(TypedFamily<Labels3, Histogram>, Labels3)>,
    }
}

impl<F, ResBody, E> Future for ResponseSizeFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: Body,
{
    type Output = Result<Response<MeteredBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let series = this.pending.take().map(|(family, mut labels)| {
            labels[1] = LabelText::Code(response.status());
            family.get(&labels)
        });
        Poll::Ready(Ok(response.map(|body| MeteredBody::new(body, series, 0))))
    }
}
