//! `GaugeHistogram`: OpenMetrics' gaugehistogram type, a histogram of what is there now, whose
//! buckets go down as well as up.

use std::sync::atomic::Ordering;

use crate::model::{Buckets, HistogramSource, Labels, MetricType, SampleMeta, Sink, Value};
use crate::sync::{AtomicU64, SeriesArc};

use super::Metric;
use super::builder::Builder;

/// How a gauge histogram is built: its bucket bounds (Go's default buckets otherwise).
#[derive(Clone, Debug, Default)]
pub struct GaugeHistogramOptions {
    /// The bucket bounds; `None` means [`DEFAULT_BUCKETS`](crate::model::DEFAULT_BUCKETS).
    pub buckets: Option<Buckets>,
}

/// The current distribution of things that come and go: queued jobs by age, open connections
/// by idle time, cache entries by size (OpenMetrics' `gaugehistogram` type).
///
/// [`observe`](Self::observe) adds an item, [`remove`](Self::remove) takes one away again.
/// OpenMetrics writes `_bucket`, `_gsum` and `_gcount`; protobuf the `GAUGE_HISTOGRAM` type;
/// text 0.0.4, which has no such type, a histogram (`_bucket`, `_sum`, `_count`), as Go and
/// Prometheus read it.
///
/// Each bucket is its own atomic count, and `_gcount` is their sum at the scrape, so the
/// buckets and `_gcount` always agree; `_gsum` may lag an update that is in flight while the
/// scrape runs (it is a second atomic).
///
/// ```
/// use promkit::{Buckets, Format, GaugeHistogram, Registry};
///
/// let registry = Registry::new();
/// let waiting = GaugeHistogram::builder("queue_wait_seconds")
///     .help("Queued jobs by time waited.")
///     .buckets(Buckets::new([1.0, 10.0])?)
///     .register(&registry)?;
/// waiting.observe(0.5);
/// waiting.observe(4.0);
/// waiting.observe(30.0);
/// assert!(waiting.remove(4.0)); // that job started
///
/// assert_eq!(registry.encode_string(Format::OPENMETRICS)?, "\
/// ## HELP queue_wait_seconds Queued jobs by time waited.
/// ## TYPE queue_wait_seconds gaugehistogram
/// queue_wait_seconds_bucket{le=\"1.0\"} 1
/// queue_wait_seconds_bucket{le=\"10.0\"} 1
/// queue_wait_seconds_bucket{le=\"+Inf\"} 2
/// queue_wait_seconds_gsum 30.5
/// queue_wait_seconds_gcount 2
/// ## EOF
/// ");
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP queue_wait_seconds Queued jobs by time waited.
/// ## TYPE queue_wait_seconds histogram
/// queue_wait_seconds_bucket{le=\"1\"} 1
/// queue_wait_seconds_bucket{le=\"10\"} 1
/// queue_wait_seconds_bucket{le=\"+Inf\"} 2
/// queue_wait_seconds_sum 30.5
/// queue_wait_seconds_count 2
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct GaugeHistogram {
    core: SeriesArc<Core>,
}

#[derive(Debug)]
struct Core {
    buckets: Buckets,
    /// Items per bucket (not cumulative), `+Inf` last.
    counts: Box<[AtomicU64]>,
    /// The sum of the items' values, as `f64` bits.
    sum: AtomicU64,
}

impl GaugeHistogram {
    /// A gauge histogram with these buckets.
    pub fn new(buckets: Buckets) -> Self {
        let counts = (0..=buckets.len()).map(|_| AtomicU64::new(0)).collect();
        Self { core: SeriesArc::new(Core { buckets, counts, sum: AtomicU64::new(0f64.to_bits()) }) }
    }

    /// Adds an item of value `v` (NaN counts in `+Inf`, as in a histogram).
    #[inline]
    pub fn observe(&self, v: f64) {
        let i = self.core.buckets.index(v);
        // Relaxed: each bucket is its own count; a scrape derives `_gcount` from the buckets
        // it read, so they agree whatever the interleaving.
        self.core.counts[i].fetch_add(1, Ordering::Relaxed);
        self.add_sum(v);
    }

    /// Takes away an item of value `v` observed before; false (and nothing changes) when its
    /// bucket is empty, so counts never go below zero.
    #[inline]
    pub fn remove(&self, v: f64) -> bool {
        let i = self.core.buckets.index(v);
        // Relaxed, as `observe`; the checked decrement refuses to go below zero.
        let taken =
            self.core.counts[i].fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_sub(1));
        if taken.is_ok() {
            self.add_sum(-v);
        }
        taken.is_ok()
    }

    /// Empties every bucket.
    pub fn clear(&self) {
        for c in &*self.core.counts {
            c.store(0, Ordering::Relaxed);
        }
        self.core.sum.store(0f64.to_bits(), Ordering::Relaxed);
    }

    /// The number of items now.
    pub fn count(&self) -> u64 {
        self.core.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The sum of the items' values now.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.core.sum.load(Ordering::Relaxed))
    }

    fn add_sum(&self, v: f64) {
        // Relaxed CAS loop: concurrent additions all land; nothing else is ordered by the sum.
        let _ = self
            .core
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some((f64::from_bits(b) + v).to_bits()));
    }
}

impl HistogramSource for Core {
    fn bounds(&self) -> &Buckets {
        &self.buckets
    }

    fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        cumulative.clear();
        let mut total = 0u64;
        for c in &*self.counts {
            total = total.saturating_add(c.load(Ordering::Relaxed));
            cumulative.push(total);
        }
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }
}

impl Metric for GaugeHistogram {
    type Options = GaugeHistogramOptions;
    const KIND: MetricType = MetricType::GaugeHistogram;

    fn create(options: &GaugeHistogramOptions) -> Self {
        Self::new(options.buckets.clone().unwrap_or_default())
    }

    fn write(&self, _: &GaugeHistogramOptions, labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::Histogram(&*self.core), &SampleMeta::default());
    }

    fn reset(&self) {
        self.clear();
    }
}

impl<S> Builder<GaugeHistogram, S> {
    /// The bucket bounds (Go's default buckets otherwise).
    pub fn buckets(mut self, buckets: Buckets) -> Self {
        self.options_mut().buckets = Some(buckets);
        self
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn observe_and_remove_move_buckets_both_ways() {
        let g = GaugeHistogram::new(Buckets::new([1.0, 2.0]).unwrap());
        g.observe(0.5);
        g.observe(1.5);
        g.observe(f64::NAN);
        assert_eq!(g.count(), 3);
        assert!(g.remove(1.5));
        assert!(!g.remove(1.5), "the bucket is empty");
        let mut c = Vec::new();
        let sum = g.core.read(&mut c);
        assert_eq!(c, [1, 1, 2]);
        assert!(sum.is_nan());
        g.clear();
        assert_eq!((g.count(), g.sum()), (0, 0.0));
    }

    #[test]
    fn concurrent_observe_and_remove_balance() {
        let g = GaugeHistogram::new(Buckets::new([1.0]).unwrap());
        std::thread::scope(|s| {
            for _ in 0..4 {
                let g = g.clone();
                s.spawn(move || {
                    for _ in 0..10_000 {
                        g.observe(0.5);
                        assert!(g.remove(0.5));
                    }
                });
            }
        });
        assert_eq!((g.count(), g.sum()), (0, 0.0));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// An item added and one taken away race a scrape: the scrape's buckets and `_gcount`
    /// agree whatever it saw, and a removal never takes a bucket below zero.
    #[test]
    fn loom_counts_agree_and_never_go_negative() {
        loom::model(|| {
            let g = GaugeHistogram::new(Buckets::new([1.0]).unwrap());
            g.observe(0.5);
            let (a, b) = (g.clone(), g.clone());
            let adder = loom::thread::spawn(move || a.observe(0.5));
            let remover = loom::thread::spawn(move || assert!(b.remove(0.5)));
            let mut out = Vec::new();
            g.core.read(&mut out);
            assert!(out[0] <= 2 && out[1] == out[0], "{out:?}");
            adder.join().unwrap();
            remover.join().unwrap();
            g.core.read(&mut out);
            assert_eq!(out, [1, 1]);
            assert!(!g.remove(5.0), "the +Inf bucket is empty");
        });
    }
}
