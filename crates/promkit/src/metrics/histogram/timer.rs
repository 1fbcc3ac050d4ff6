//! Timing code into a histogram or summary: a guard that observes on drop.

use std::time::{Duration, Instant};

use super::Histogram;
use crate::metrics::summary::Summary;
use crate::model::ExemplarError;

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

    /// Observes the elapsed seconds now with an exemplar (Go's
    /// `ObserveDurationWithExemplar`), and returns them. A summary has no exemplars: it
    /// observes the duration alone, as Go's does.
    ///
    /// ```
    /// # use promkit::{Histogram, Registry};
    /// # let registry = Registry::new();
    /// let took = Histogram::builder("job_seconds").register(&registry)?;
    /// let timer = took.start_timer();
    /// let secs = timer.stop_with_exemplar(&[("trace_id", "4bf92f3577b34da6")])?;
    /// assert!(secs >= 0.0);
    /// assert_eq!(took.count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ExemplarError`] for exemplar labels that are invalid or too long; the duration is
    /// observed all the same.
    pub fn stop_with_exemplar(mut self, labels: &[(&str, &str)]) -> Result<f64, ExemplarError> {
        let secs = self.start.elapsed().as_secs_f64();
        match self.target.take() {
            Some(Target::Histogram(h)) => h.observe_with_exemplar(secs, labels)?,
            Some(t) => t.observe(secs),
            None => {}
        }
        Ok(secs)
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

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{Buckets, Format, Histogram, Quantiles, Registry, Summary};

    #[test]
    fn a_timer_stopped_with_an_exemplar_attaches_it_to_its_bucket() {
        let r = Registry::new();
        let h =
            Histogram::builder("t_seconds").buckets(Buckets::new([3600.0]).unwrap()).register(&r).unwrap();
        let secs = h.start_timer().stop_with_exemplar(&[("trace_id", "abc")]).unwrap();
        assert!(secs >= 0.0);
        let om = r.encode_string(Format::OPENMETRICS).unwrap();
        let line = om.lines().find(|l| l.starts_with("t_seconds_bucket{le=\"3600.0\"}")).unwrap();
        assert!(line.starts_with("t_seconds_bucket{le=\"3600.0\"} 1 # {trace_id=\"abc\"} "), "{om}");
        // Invalid labels: an error, and the duration still counted.
        let long = "x".repeat(200);
        assert!(h.start_timer().stop_with_exemplar(&[("trace_id", &long)]).is_err());
        assert_eq!(h.count(), 2);
        // A summary has no exemplars: the duration alone.
        let s = Summary::builder("s_seconds").objectives(Quantiles::default()).register(&r).unwrap();
        s.start_timer().stop_with_exemplar(&[("trace_id", "abc")]).unwrap();
        assert_eq!(s.count(), 1);
    }
}
