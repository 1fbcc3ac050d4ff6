//! `CountLayer`: counts finished requests by method, code and route.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use promkit::{Counter, TypedFamily};
use tower_layer::Layer;
use tower_service::Service;

use super::labels::{LabelText, Labels3, Resolver, exemplar_pairs};

/// Counts requests once their response is ready, into `http_server_requests_total{method,code,route}`
/// (or `http_client_requests_total{method,code,host}`).
///
/// From [`HttpMetrics::count`](super::HttpMetrics::count) or
/// [`ClientMetrics::count`](crate::client::ClientMetrics::count). A call whose inner service
/// fails is counted with `code="error"`; a call whose future is dropped before it finishes (the
/// peer went away) is not counted.
#[derive(Clone, Debug)]
pub struct CountLayer {
    resolver: Arc<Resolver>,
    family: TypedFamily<Labels3, Counter>,
}

impl CountLayer {
    pub(crate) fn new(resolver: Arc<Resolver>, family: TypedFamily<Labels3, Counter>) -> Self {
        Self { resolver, family }
    }
}

impl<S> Layer<S> for CountLayer {
    type Service = CountService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountService { inner, layer: self.clone() }
    }
}

/// The service of a [`CountLayer`].
#[derive(Clone, Debug)]
pub struct CountService<S> {
    inner: S,
    layer: CountLayer,
}

impl<S, B, ResBody> Service<Request<B>> for CountService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = CountFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (request, target) = self.layer.resolver.resolve(request);
        let pending = target.map(|t| (self.layer.family.clone(), t.labels3()));
        // Asked here, while the request is at hand and the caller's trace span is entered.
        let (request, exemplar) = match pending {
            Some(_) => self.layer.resolver.exemplar(request),
            None => (request, None),
        };
        CountFuture { inner: self.inner.call(request), pending, exemplar }
    }
}

pin_project! {
    /// The response future of a [`CountService`].
    #[derive(Debug)]
    pub struct CountFuture<F> {
        #[pin]
        inner: F,
        // `None` for an excluded request, or once counted.
        pending: Option<(TypedFamily<Labels3, Counter>, Labels3)>,
        // The exemplar hook's labels; `None` without a hook.
        exemplar: Option<Vec<(String, String)>>,
    }
}

impl<F, ResBody, E> Future for CountFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some((family, mut labels)) = this.pending.take() {
            labels[1] = LabelText::code(&result);
            match this.exemplar.take() {
                None => family.with(&labels, Counter::inc),
                Some(exemplar) => {
                    family.with(&labels, |c| {
                        // An invalid label set from the hook is dropped; the request is counted
                        // all the same.
                        let _ = c.inc_with_exemplar(&exemplar_pairs(&exemplar));
                    });
                }
            }
        }
        Poll::Ready(result)
    }
}
