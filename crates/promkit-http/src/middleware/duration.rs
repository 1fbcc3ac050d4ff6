//! `DurationLayer`: observes how long requests take until their response is ready.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{Request, Response};
use pin_project_lite::pin_project;
use promkit::{Histogram, TypedFamily};
use tower_layer::Layer;
use tower_service::Service;

use super::labels::{LabelText, Labels3, Resolver, exemplar_pairs};

/// Observes request latency in seconds, into
/// `http_server_request_duration_seconds{method,code,route}` (or
/// `http_client_request_duration_seconds{method,code,host}`).
///
/// From [`HttpMetrics::duration`](super::HttpMetrics::duration) or
/// [`ClientMetrics::duration`](crate::client::ClientMetrics::duration).
///
/// The clock runs from the call into the service until its response future resolves: for a
/// server, until the response *head* (status and headers) is ready; for a client, until the
/// response head has arrived. Streaming the body afterwards is not included, so a long
/// download or a server-sent event stream takes as long as its head. A call whose inner
/// service fails is observed with `code="error"`; a call whose future is dropped before it
/// finishes is not observed.
#[derive(Clone, Debug)]
pub struct DurationLayer {
    resolver: Arc<Resolver>,
    family: TypedFamily<Labels3, Histogram>,
}

impl DurationLayer {
    pub(crate) fn new(resolver: Arc<Resolver>, family: TypedFamily<Labels3, Histogram>) -> Self {
        Self { resolver, family }
    }
}

impl<S> Layer<S> for DurationLayer {
    type Service = DurationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DurationService { inner, layer: self.clone() }
    }
}

/// The service of a [`DurationLayer`].
#[derive(Clone, Debug)]
pub struct DurationService<S> {
    inner: S,
    layer: DurationLayer,
}

impl<S, B, ResBody> Service<Request<B>> for DurationService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = DurationFuture<S::Future>;

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
        // Started after resolving, so a user's route closure is not part of the latency.
        DurationFuture { inner: self.inner.call(request), pending, exemplar, start: Instant::now() }
    }
}

pin_project! {
    /// The response future of a [`DurationService`].
    #[derive(Debug)]
    pub struct DurationFuture<F> {
        #[pin]
        inner: F,
        // `None` for an excluded request, or once observed.
        pending: Option<(TypedFamily<Labels3, Histogram>, Labels3)>,
        // The exemplar hook's labels; `None` without a hook.
        exemplar: Option<Vec<(String, String)>>,
        start: Instant,
    }
}

impl<F, ResBody, E> Future for DurationFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some((family, mut labels)) = this.pending.take() {
            let seconds = this.start.elapsed().as_secs_f64();
            labels[1] = LabelText::code(&result);
            match this.exemplar.take() {
                None => family.with(&labels, |h| h.observe(seconds)),
                Some(exemplar) => {
                    family.with(&labels, |h| {
                        // An invalid label set from the hook is dropped; the request is timed
                        // all the same.
                        let _ = h.observe_with_exemplar(seconds, &exemplar_pairs(&exemplar));
                    });
                }
            }
        }
        Poll::Ready(result)
    }
}
