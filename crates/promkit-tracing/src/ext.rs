//! Extension traits: update a counter, histogram or timer with the current trace as exemplar.

use promkit::metrics::Timer;
use promkit::{Counter, CounterF64, Histogram};

use crate::current_trace;

// Every `*_with_exemplar` call below gets `TraceExemplar::labels`: two valid names and 63 code
// points in all, which no exemplar check refuses, so their `Result` is always `Ok` and dropping
// it loses nothing.

/// `observe_traced`: observe with the current trace as the bucket's exemplar.
pub trait HistogramTraced {
    /// Observes `v`; inside a sampled trace span, with that span's ids as the exemplar of the
    /// bucket `v` falls in, otherwise plainly.
    fn observe_traced(&self, v: f64);
}

impl HistogramTraced for Histogram {
    fn observe_traced(&self, v: f64) {
        match current_trace() {
            Some(t) => {
                let _ = self.observe_with_exemplar(v, &t.labels());
            }
            None => self.observe(v),
        }
    }
}

/// `inc_traced` / `inc_by_traced`: count with the current trace as the counter's exemplar.
pub trait CounterTraced {
    /// What the counter adds: `u64` for [`Counter`], `f64` for [`CounterF64`].
    type Value;

    /// Adds one; inside a sampled trace span, with that span's ids as the exemplar.
    fn inc_traced(&self);

    /// Adds `v`; inside a sampled trace span, with that span's ids as the exemplar.
    fn inc_by_traced(&self, v: Self::Value);
}

impl CounterTraced for Counter {
    type Value = u64;

    fn inc_traced(&self) {
        self.inc_by_traced(1);
    }

    fn inc_by_traced(&self, n: u64) {
        match current_trace() {
            Some(t) => {
                let _ = self.inc_by_with_exemplar(n, &t.labels());
            }
            None => self.inc_by(n),
        }
    }
}

impl CounterTraced for CounterF64 {
    type Value = f64;

    fn inc_traced(&self) {
        self.inc_by_traced(1.0);
    }

    fn inc_by_traced(&self, v: f64) {
        match current_trace() {
            Some(t) => {
                let _ = self.inc_by_with_exemplar(v, &t.labels());
            }
            None => {
                // false: a negative or NaN amount, refused as `inc_by` documents.
                let _ = self.inc_by(v);
            }
        }
    }
}

/// `stop_traced`: stop a timer with the current trace as the exemplar.
pub trait TimerTraced {
    /// Stops the timer, observes the elapsed seconds (with the current sampled span's ids as
    /// the exemplar, if any) and returns them.
    fn stop_traced(self) -> f64;
}

impl TimerTraced for Timer {
    fn stop_traced(self) -> f64 {
        match current_trace() {
            Some(t) => self.stop_with_exemplar(&t.labels()).unwrap_or_default(),
            None => self.stop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exemplar::tests::traced;
    use opentelemetry_sdk::trace::Sampler;
    use promkit::{Buckets, Format, Registry};

    #[test]
    fn every_traced_update_carries_the_span_ids_and_none_outside_a_span() {
        let (subscriber, _exporter, _provider) = traced(Sampler::AlwaysOn);
        let registry = Registry::new();
        let jobs = Counter::builder("jobs_total").help("Jobs.").register(&registry).unwrap();
        let bytes = CounterF64::builder("bytes_total").help("Bytes.").register(&registry).unwrap();
        let one = Buckets::new([1.0]).unwrap();
        let took = Histogram::builder("took_seconds")
            .help("Took.")
            .buckets(one.clone())
            .register(&registry)
            .unwrap();
        let timed =
            Histogram::builder("timed_seconds").help("Timed.").buckets(one).register(&registry).unwrap();

        // Outside any span: plain updates.
        jobs.inc_traced();
        bytes.inc_by_traced(2.5);
        took.observe_traced(0.5);
        timed.start_timer().stop_traced();
        let plain = registry.encode_string(Format::OPENMETRICS).unwrap();
        assert!(!plain.contains(" # {"), "{plain}");

        let t = tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("job").in_scope(|| {
                jobs.inc_by_traced(2);
                bytes.inc_traced();
                took.observe_traced(0.5);
                timed.start_timer().stop_traced();
                crate::current_trace().unwrap()
            })
        });
        let om = registry.encode_string(Format::OPENMETRICS).unwrap();
        let ex = format!("# {{span_id=\"{}\",trace_id=\"{}\"}}", t.span_id(), t.trace_id());
        assert!(om.contains(&format!("jobs_total 3.0 {ex} 2.0 ")), "{om}");
        assert!(om.contains(&format!("bytes_total 3.5 {ex} 1.0 ")), "{om}");
        assert!(om.contains(&format!("took_seconds_bucket{{le=\"1.0\"}} 2 {ex} 0.5 ")), "{om}");
        assert!(om.contains(&format!("timed_seconds_bucket{{le=\"1.0\"}} 2 {ex} ")), "{om}");
    }
}
