//! `MeteredBody`: a body that counts its data bytes as they stream and records the total once,
//! when the body ends or is dropped.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use promkit::Histogram;

pin_project! {
    /// A request or response body that counts the data bytes passing through it and records the
    /// total in a size histogram when the body ends or is dropped, whichever comes first.
    ///
    /// From [`RequestSizeLayer`](super::RequestSizeLayer) (the body the inner service reads)
    /// and [`ResponseSizeLayer`](super::ResponseSizeLayer) (the body the server writes). Frames,
    /// size hints and end-of-stream pass through unchanged; trailers are not counted.
    #[derive(Debug)]
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        meter: Meter,
    }
}

/// The count so far and where it goes; records on `finish` or on drop, once.
#[derive(Debug)]
struct Meter {
    /// `None` for an excluded request, or once recorded.
    series: Option<Histogram>,
    bytes: u64,
    /// The least size to record: a request's declared size, so a body the service drops
    /// unread still counts as what the client sent.
    floor: u64,
}

impl Meter {
    fn finish(&mut self) {
        if let Some(series) = self.series.take() {
            // exact below 2^53 bytes (8 PiB)
            series.observe(self.bytes.max(self.floor) as f64);
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: Body> MeteredBody<B> {
    /// Counts `inner` into `series` (nothing when `None`), recording at least `floor` bytes.
    pub(crate) fn new(inner: B, series: Option<Histogram>, floor: u64) -> Self {
        let mut meter = Meter { series, bytes: 0, floor };
        // An empty body is often never polled (hyper skips it): record it now, not whenever
        // it happens to be dropped.
        if inner.is_end_stream() {
            meter.finish();
        }
        Self { inner, meter }
    }
}

impl<B> MeteredBody<B> {
    /// The data bytes that have passed through so far.
    pub fn bytes(&self) -> u64 {
        self.meter.bytes
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let frame = ready!(inner.as_mut().poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    this.meter.bytes += data.remaining() as u64;
                }
                // The last frame: record before the caller writes it out, so a peer that has
                // the whole body can already see it counted (hyper never polls past this).
                if inner.is_end_stream() {
                    this.meter.finish();
                }
            }
            // An error leaves the body unfinished: what was read is recorded on drop.
            Some(Err(_)) => {}
            None => this.meter.finish(),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use promkit::{Buckets, Registry};
    use std::collections::VecDeque;
    use std::convert::Infallible;

    fn histogram() -> Histogram {
        Histogram::builder("size_bytes")
            .buckets(Buckets::new([10.0]).unwrap())
            .register(&Registry::new())
            .unwrap()
    }

    /// A body of several frames, to see each one counted.
    struct Frames(VecDeque<Frame<Bytes>>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }

    #[test]
    fn records_streamed_bytes_once_at_the_end() {
        let h = histogram();
        let frames = Frames(VecDeque::from([
            Frame::data(Bytes::from_static(b"abc")),
            Frame::data(Bytes::from_static(b"de")),
            Frame::trailers(http::HeaderMap::new()),
        ]));
        let body = MeteredBody::new(frames, Some(h.clone()), 0);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let collected = rt.block_on(body.collect()).unwrap();
        assert_eq!(collected.to_bytes(), "abcde");
        assert_eq!((h.count(), h.sum()), (1, 5.0));
    }

    #[test]
    fn a_dropped_body_records_what_was_read_or_its_floor() {
        let h = histogram();
        drop(MeteredBody::new(Full::new(Bytes::from_static(b"0123456789")), Some(h.clone()), 10));
        assert_eq!((h.count(), h.sum()), (1, 10.0));
        drop(MeteredBody::new(Full::new(Bytes::new()), Some(h.clone()), 0));
        assert_eq!((h.count(), h.sum()), (2, 10.0));
        drop(MeteredBody::new(Full::new(Bytes::from_static(b"x")), None, 1));
        assert_eq!(h.count(), 2);
    }
}
