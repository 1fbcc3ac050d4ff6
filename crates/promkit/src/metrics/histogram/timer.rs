//! Timing code into a histogram: a guard that observes on drop, and closure timing.

use std::time::{Duration, Instant};

use super::Histogram;

/// Observes the seconds since it was started into its histogram when stopped or dropped;
/// from [`Histogram::start_timer`]. [`discard`](Self::discard) drops it without observing.
#[derive(Debug)]
#[must_use = "the timer observes when dropped; dropping it at once records about zero"]
pub struct Timer {
    histogram: Option<Histogram>,
    start: Instant,
}

impl Timer {
    pub(super) fn new(histogram: Histogram) -> Self {
        Self { histogram: Some(histogram), start: Instant::now() }
    }

    /// The time elapsed so far, without observing.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Observes the elapsed seconds now and returns them.
    pub fn stop(mut self) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        if let Some(h) = self.histogram.take() {
            h.observe(secs);
        }
        secs
    }

    /// Drops the timer without observing anything.
    pub fn discard(mut self) {
        self.histogram = None;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(h) = self.histogram.take() {
            h.observe(self.start.elapsed().as_secs_f64());
        }
    }
}
