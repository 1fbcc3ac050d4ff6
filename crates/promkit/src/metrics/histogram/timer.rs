//! Timing code into a histogram or summary: a guard that observes on drop.

use std::time::{Duration, Instant};

use super::Histogram;
use crate::metrics::summary::Summary;

/// Observes the seconds since it was started into its histogram or summary when stopped or
/// dropped; from [`Histogram::start_timer`] or [`Summary::start_timer`].
/// [`discard`](Self::discard) drops it without observing.
#[derive(Debug)]
#[must_use = "the timer observes when dropped; dropping it at once records about zero"]
pub struct Timer {
    target: Option<Target>,
    start: Instant,
}

/// What a timer observes into.
#[derive(Debug)]
pub(crate) enum Target {
    Histogram(Histogram),
    Summary(Summary),
}

impl Target {
    fn observe(&self, secs: f64) {
        match self {
            Target::Histogram(h) => h.observe(secs),
            Target::Summary(s) => s.observe(secs),
        }
    }
}

impl From<Histogram> for Target {
    fn from(h: Histogram) -> Self {
        Target::Histogram(h)
    }
}

impl From<Summary> for Target {
    fn from(s: Summary) -> Self {
        Target::Summary(s)
    }
}

impl Timer {
    pub(crate) fn new(target: impl Into<Target>) -> Self {
        Self { target: Some(target.into()), start: Instant::now() }
    }

    /// The time elapsed so far, without observing.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Observes the elapsed seconds now and returns them.
    pub fn stop(mut self) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        if let Some(t) = self.target.take() {
            t.observe(secs);
        }
        secs
    }

    /// Drops the timer without observing anything.
    pub fn discard(mut self) {
        self.target = None;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            t.observe(self.start.elapsed().as_secs_f64());
        }
    }
}
