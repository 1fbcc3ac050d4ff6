//! Classic histograms: observations counted into cumulative buckets, with their count and sum.

mod cells;
mod native;
mod native_bounds;
mod native_key;
mod native_window;
mod timer;

use std::time::{Duration, Instant};

pub use native::{DEFAULT_ZERO_THRESHOLD, NativeOptions};
pub use timer::Timer;

use crate::model::{
    Buckets, Exemplar, HistogramSource, Labels, MetricType, NativeSnapshot, SampleMeta, Sink, Value,
};

use crate::model::ExemplarError;
use crate::sync::{Mutex, OnceBox, SeriesArc, lock, unix_now};

use super::Metric;
use cells::Cells;

/// Observations (latencies, sizes) counted into buckets, with their count and sum.
///
/// The thread that observes a classic histogram first owns a shard of it, and its `observe` is
/// plain stores under a sequence lock, with no atomic read-modify-write; any other thread's is
/// one compare-and-swap plus plain stores on a locked shard, spread over CPU slots once two
/// collide. A scrape is never torn (see the `cells` module docs): `_count` always equals the
/// `+Inf` bucket and buckets never decrease.
///
/// ```
/// use promkit::{Buckets, Histogram, Registry};
/// let registry = Registry::new();
/// let latency = Histogram::builder("job_seconds")
///     .help("Job latency.")
///     .buckets(Buckets::new([0.1, 1.0])?)
///     .register(&registry)?;
/// latency.observe(0.05);
/// latency.observe(0.5);
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP job_seconds Job latency.
/// ## TYPE job_seconds histogram
/// job_seconds_bucket{le=\"0.1\"} 1
/// job_seconds_bucket{le=\"1\"} 2
/// job_seconds_bucket{le=\"+Inf\"} 2
/// job_seconds_sum 0.55
/// job_seconds_count 2
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Histogram {
    core: SeriesArc<Core>,
}

#[derive(Debug)]
struct Core {
    buckets: Buckets,
    storage: Storage,
    created: f64,
    /// One slot per bucket and `+Inf`, allocated on the first exemplar.
    exemplars: OnceBox<Box<[Mutex<Option<Exemplar>>]>>,
}

/// Where observations are counted.
#[derive(Debug)]
enum Storage {
    /// Classic buckets only: one CAS per observation.
    Classic(Cells),
    /// Native buckets (and classic ones if configured): a short mutex section per observation.
    /// Boxed, so a classic histogram is not as large as a native one.
    Native(Box<native::NativeCells>),
}

/// How a histogram is built: its buckets and how many shards it spreads observers over.
#[derive(Clone, Debug, Default)]
pub struct HistogramOptions {
    /// Classic bucket bounds. `None` means Go's default buckets, or none at all when `native`
    /// is set (Go's rule: a native histogram gets classic buckets only when given some).
    pub buckets: Option<Buckets>,
    /// Native (sparse, exponential) buckets, exposed through protobuf.
    pub native: Option<NativeOptions>,
    /// Shards (rounded up to a power of two). 0, the default, means the first observer's own
    /// unpadded shard, one locked shard for the other threads once one comes, and one per CPU
    /// (at most 8) once two of those collide: a family of many quiet series stays small. Any
    /// other count gives a classic histogram that many cache-line-aligned locked shards from
    /// the start and no owner, and it keeps them: with 1, every observer shares one shard and
    /// a collision waits.
    pub shards: usize,
}

impl Histogram {
    /// A histogram with these options, not registered anywhere.
    pub fn with_options(options: &HistogramOptions) -> Self {
        let fixed = (options.shards > 0).then_some(options.shards);
        let buckets = match (&options.buckets, &options.native) {
            (Some(b), _) => b.clone(),
            (None, None) => Buckets::default(),
            (None, Some(_)) => Buckets::none(),
        };
        let storage = match &options.native {
            Some(n) => Storage::Native(Box::new(native::NativeCells::new(
                buckets.len(),
                fixed.unwrap_or_else(crate::sync::cpu_slots),
                n.clone(),
            ))),
            None => Storage::Classic(Cells::new(buckets.len(), fixed)),
        };
        // Built now, so no observation pays for it.
        buckets.search();
        Self {
            core: SeriesArc::new(Core { storage, buckets, created: unix_now(), exemplars: OnceBox::new() }),
        }
    }

    /// Records one observation. NaN lands in the `+Inf` bucket and makes the sum NaN, as in Go.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.core.observe(self.core.buckets.search_index(v), v);
    }

    /// Records an observation and an exemplar for its bucket (a trace id, say), replacing that
    /// bucket's previous exemplar. The observation always happens; an invalid exemplar is
    /// refused with an error.
    ///
    /// # Errors
    /// [`ExemplarError`] for an invalid label name or more than 128 code points of labels.
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), ExemplarError> {
        let bucket = self.core.buckets.search_index(v);
        self.core.observe(bucket, v);
        let stamp = Exemplar::stamp(labels)?;
        if let Storage::Native(n) = &self.core.storage {
            n.add_exemplar(Exemplar::checked(labels, v, stamp));
        }
        let slots = self
            .core
            .exemplars
            .get_or_init(|| (0..=self.core.buckets.len()).map(|_| Mutex::new(None)).collect());
        Exemplar::overwrite(&mut lock(&slots[bucket]), labels, v, stamp);
        Ok(())
    }

    /// Records a duration in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Starts a timer that observes the elapsed seconds when stopped or dropped.
    pub fn start_timer(&self) -> Timer {
        Timer::new(self.clone())
    }

    /// Runs `f`, observes how many seconds it took, and returns its result.
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let r = f();
        self.observe(start.elapsed().as_secs_f64());
        r
    }

    /// The bucket bounds.
    pub fn buckets(&self) -> &Buckets {
        &self.core.buckets
    }

    /// A consistent snapshot: cumulative counts per bucket (last is `+Inf`), and the sum.
    pub fn snapshot(&self) -> (Vec<u64>, f64) {
        let mut counts = Vec::with_capacity(self.core.buckets.len() + 1);
        let sum = self.core.read(&mut counts);
        (counts, sum)
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.snapshot().0.last().copied().unwrap_or(0)
    }

    /// The sum of observations.
    pub fn sum(&self) -> f64 {
        self.snapshot().1
    }

    /// Creation time in seconds since the Unix epoch.
    pub fn created(&self) -> f64 {
        self.core.created
    }
}

impl Core {
    #[inline]
    fn observe(&self, bucket: usize, v: f64) {
        match &self.storage {
            Storage::Classic(c) => c.observe(bucket, v),
            Storage::Native(n) => n.observe(bucket, v),
        }
    }

    fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        match &self.storage {
            Storage::Classic(c) => c.read(cumulative),
            Storage::Native(n) => n.read(cumulative),
        }
    }
}

impl HistogramSource for Histogram {
    fn bounds(&self) -> &Buckets {
        &self.core.buckets
    }

    fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        self.core.read(cumulative)
    }

    fn native(&self, visit: &mut dyn FnMut(&NativeSnapshot)) -> bool {
        match &self.core.storage {
            Storage::Native(n) => {
                n.with_snapshot(visit);
                true
            }
            Storage::Classic(_) => false,
        }
    }

    fn exemplar(&self, i: usize, visit: &mut dyn FnMut(&Exemplar)) -> bool {
        // Lent under the slot's lock: an exemplar recorded meanwhile waits for this one write.
        let Some(slot) = self.core.exemplars.get().and_then(|slots| slots.get(i)) else {
            return false;
        };
        let exemplar = lock(slot);
        exemplar.as_ref().map(visit).is_some()
    }
}

impl Metric for Histogram {
    type Options = HistogramOptions;
    const KIND: MetricType = MetricType::Histogram;

    fn create(options: &HistogramOptions) -> Self {
        Self::with_options(options)
    }

    fn write(&self, _: &HistogramOptions, labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::Histogram(self), &SampleMeta::created(self.core.created));
    }

    fn reset(&self) {
        match &self.core.storage {
            Storage::Classic(c) => c.reset(),
            Storage::Native(n) => n.reset(),
        }
        if let Some(slots) = self.core.exemplars.get() {
            slots.iter().for_each(|slot| *lock(slot) = None);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_right_buckets() {
        let h = Histogram::with_options(&HistogramOptions {
            buckets: Some(crate::model::linear_buckets(0.0, 20.0, 20).unwrap()),
            ..HistogramOptions::default()
        });
        for v in [0.0, 12.5, 20.0, 187.25, 200.0, 233.3, 380.0, 512.0] {
            h.observe(v);
        }
        let (counts, sum) = h.snapshot();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[1], 3);
        assert_eq!(counts[10], 5);
        assert_eq!(counts[19], 7);
        assert_eq!(counts[20], 8);
        assert_eq!(sum, 1545.05);
    }

    #[test]
    fn timers_observe_once_or_not_at_all() {
        let h = Histogram::with_options(&HistogramOptions::default());
        let t = h.start_timer();
        assert!(t.stop() >= 0.0);
        h.start_timer().discard();
        drop(h.start_timer());
        assert_eq!(h.time(|| 7), 7);
        h.observe_duration(Duration::from_millis(1500));
        assert_eq!(h.count(), 4);
        assert!(h.sum() >= 1.5);
    }

    #[test]
    fn concurrent_observers_and_scrapes_never_see_a_torn_histogram() {
        let h = Histogram::with_options(&HistogramOptions {
            buckets: Some(Buckets::new([1.0, 2.0, 3.0]).unwrap()),
            ..HistogramOptions::default()
        });
        let threads = 4;
        let per = 100_000;
        std::thread::scope(|s| {
            for t in 0..threads {
                let h = h.clone();
                s.spawn(move || {
                    for i in 0..per {
                        // Each observation is 1, 2, 3 or 4: the sum stays an exact integer.
                        h.observe(f64::from((i + t) % 4 + 1));
                    }
                });
            }
            let h = h.clone();
            s.spawn(move || {
                let mut last = vec![0; 4];
                for _ in 0..2000 {
                    let (counts, sum) = h.snapshot();
                    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "not cumulative: {counts:?}");
                    assert!(counts.iter().zip(&last).all(|(n, o)| n >= o), "went backwards");
                    // Sum of whole observations: 1 per obs in bucket 0, 2 in bucket 1, …
                    let per_bucket: Vec<u64> =
                        std::iter::once(counts[0]).chain(counts.windows(2).map(|w| w[1] - w[0])).collect();
                    let expected: u64 = per_bucket.iter().enumerate().map(|(i, n)| (i as u64 + 1) * n).sum();
                    assert_eq!(sum, expected as f64, "sum does not match the counted observations");
                    last = counts;
                }
            });
        });
        let (counts, sum) = h.snapshot();
        assert_eq!(counts, [100_000, 200_000, 300_000, 400_000]);
        assert_eq!(sum, 1_000_000.0);
    }
}
