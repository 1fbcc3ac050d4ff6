//! `HttpMetricsLayer`: all five server layers as one.

use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{
    CountLayer, CountService, DurationLayer, DurationService, InFlightLayer, InFlightService,
    RequestSizeLayer, RequestSizeService, ResponseSizeLayer, ResponseSizeService,
};

/// The five server layers stacked, from [`HttpMetrics::all`](super::HttpMetrics::all).
///
/// Outermost first: [`InFlightLayer`], [`CountLayer`], [`DurationLayer`],
/// [`RequestSizeLayer`], [`ResponseSizeLayer`]; the same as applying each in turn, with one
/// service type to name.
#[derive(Clone, Debug)]
pub struct HttpMetricsLayer {
    pub(crate) in_flight: InFlightLayer,
    pub(crate) count: CountLayer,
    pub(crate) duration: DurationLayer,
    pub(crate) request_size: RequestSizeLayer,
    pub(crate) response_size: ResponseSizeLayer,
}

type Chain<S> = InFlightService<CountService<DurationService<RequestSizeService<ResponseSizeService<S>>>>>;

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = self.response_size.layer(inner);
        let inner = self.request_size.layer(inner);
        let inner = self.duration.layer(inner);
        let inner = self.count.layer(inner);
        HttpMetricsService { inner: self.in_flight.layer(inner) }
    }
}

/// The service of an [`HttpMetricsLayer`]: the inner service gets requests with a
/// [`MeteredBody`](super::MeteredBody) and its responses leave with one.
#[derive(Clone, Debug)]
pub struct HttpMetricsService<S> {
    inner: Chain<S>,
}

impl<S, B> Service<Request<B>> for HttpMetricsService<S>
where
    Chain<S>: Service<Request<B>>,
{
    type Response = <Chain<S> as Service<Request<B>>>::Response;
    type Error = <Chain<S> as Service<Request<B>>>::Error;
    type Future = <Chain<S> as Service<Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.inner.call(request)
    }
}
