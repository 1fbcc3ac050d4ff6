//! `ClientMetricsLayer`: the three client layers as one.

use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use crate::middleware::{
    CountLayer, CountService, DurationLayer, DurationService, InFlightLayer, InFlightService,
};

/// The three client layers stacked, from [`ClientMetrics::all`](super::ClientMetrics::all).
///
/// Outermost first: [`InFlightLayer`], [`CountLayer`], [`DurationLayer`]; the same as
/// applying each in turn, with one service type to name.
#[derive(Clone, Debug)]
pub struct ClientMetricsLayer {
    pub(crate) in_flight: InFlightLayer,
    pub(crate) count: CountLayer,
    pub(crate) duration: DurationLayer,
}

type Chain<S> = InFlightService<CountService<DurationService<S>>>;

impl<S> Layer<S> for ClientMetricsLayer {
    type Service = ClientMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = self.duration.layer(inner);
        let inner = self.count.layer(inner);
        ClientMetricsService { inner: self.in_flight.layer(inner) }
    }
}

/// The service of a [`ClientMetricsLayer`]: requests and responses pass through unchanged.
#[derive(Clone, Debug)]
pub struct ClientMetricsService<S> {
    inner: Chain<S>,
}

impl<S, B> Service<Request<B>> for ClientMetricsService<S>
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
