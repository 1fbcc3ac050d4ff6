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
use crate::sync::{CreatedOnce, Mutex, OnceBox, Trailing, WordsArc, lock, unix_now};

use super::Metric;
use cells::{Cells, Shared, SharedSlot};

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
    /// The header, then the first observer's shard of the classic counts (see `cells`), in one
    /// allocation.
    core: WordsArc<Core>,
}

/// What a histogram keeps besides its first shard: 16 bytes, so with the count and Go's
/// default buckets' eight words the whole state is one 88-byte block.
#[derive(Debug)]
struct Core {
    buckets: Buckets,
    /// The creation time, until a second observing thread, a reset, an exemplar or native
    /// buckets make the extras, which then keep it.
    extras: CreatedOnce<Extras>,
}

/// The parts of a histogram that one thread observing classic buckets never needs.
#[derive(Debug)]
struct Extras {
    /// What other threads and resets need to share the classic counts with the owner.
    shared: Shared,
    /// Native buckets (and classic ones if configured), which count every observation
    /// themselves: the first shard is then disowned and stays empty. Boxed, so a classic
    /// histogram's extras are not as large as a native one's.
    native: Option<Box<native::NativeCells>>,
    /// One slot per bucket and `+Inf`, allocated on the first exemplar.
    exemplars: OnceBox<Box<[Mutex<Option<Exemplar>>]>>,
}

impl Extras {
    fn new(shared: Shared) -> Self {
        Self { shared, native: None, exemplars: OnceBox::new() }
    }

    /// A classic histogram's extras, made with no shards if they were not yet.
    fn of(slot: &CreatedOnce<Extras>) -> &Extras {
        slot.get_or_init(|| Extras::new(Shared::new()))
    }
}

// SAFETY: the buckets never change, so neither does their length.
#[allow(unsafe_code)] // the promise `WordsArc` needs, about the buckets: no unsafe operation
unsafe impl Trailing for Core {
    fn words(&self) -> usize {
        cells::words(self.buckets.len())
    }
}

/// The extras hold the classic counts' shared state, and are made by whichever comes first.
impl SharedSlot for CreatedOnce<Extras> {
    #[inline]
    fn shared(&self) -> Option<&Shared> {
        self.get().map(|e| &e.shared)
    }

    fn shared_or_init(&self) -> &Shared {
        &Extras::of(self).shared
    }
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
        // Built now, so no observation pays for it.
        buckets.search();
        let extras = match (&options.native, fixed) {
            (Some(n), _) => Some(Extras {
                native: Some(Box::new(native::NativeCells::new(
                    buckets.len(),
                    fixed.unwrap_or_else(crate::sync::cpu_slots),
                    n.clone(),
                ))),
                ..Extras::new(Shared::new())
            }),
            (None, Some(n)) => Some(Extras::new(Shared::fixed(buckets.len(), n))),
            (None, None) => None,
        };
        let core = WordsArc::new(Core { buckets, extras: CreatedOnce::new(unix_now()) });
        if let Some(extras) = extras {
            // Nobody owns the first shard: fixed shards have no owner, and native storage
            // counts the classic buckets itself.
            cells::disown(core.words());
            core.header().extras.get_or_init(|| extras);
        }
        Self { core }
    }

    /// Records one observation. NaN lands in the `+Inf` bucket and makes the sum NaN, as in Go.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.observe_in(self.core.header().buckets.search_index(v), v);
    }

    /// Records an observation and an exemplar for its bucket (a trace id, say), replacing that
    /// bucket's previous exemplar. The observation always happens; an invalid exemplar is
    /// refused with an error.
    ///
    /// # Errors
    /// [`ExemplarError`] for an invalid label name or more than 128 code points of labels.
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), ExemplarError> {
        let core = self.core.header();
        let bucket = core.buckets.search_index(v);
        self.observe_in(bucket, v);
        let stamp = Exemplar::stamp(labels)?;
        let extras = Extras::of(&core.extras);
        if let Some(n) = &extras.native {
            n.add_exemplar(Exemplar::checked(labels, v, stamp));
        }
        let slots =
            extras.exemplars.get_or_init(|| (0..=core.buckets.len()).map(|_| Mutex::new(None)).collect());
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
        &self.core.header().buckets
    }

    /// A consistent snapshot: cumulative counts per bucket (last is `+Inf`), and the sum.
    pub fn snapshot(&self) -> (Vec<u64>, f64) {
        let mut counts = Vec::with_capacity(self.core.header().buckets.len() + 1);
        let sum = self.read(&mut counts);
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
        self.core.header().extras.created()
    }

    /// The classic counts: the first shard and the extras' shared state.
    fn cells(&self) -> Cells<'_, CreatedOnce<Extras>> {
        Cells::new(self.core.words(), &self.core.header().extras)
    }

    /// The native storage, if the histogram has one.
    fn native_cells(&self) -> Option<&native::NativeCells> {
        self.core.header().extras.get().and_then(|e| e.native.as_deref())
    }

    /// Counts one observation in classic bucket `bucket`.
    #[inline]
    fn observe_in(&self, bucket: usize, v: f64) {
        // One Acquire load tells native storage from classic and, for classic, hands the
        // shared state (if any) to the owner's check of the reset generation.
        let extras = self.core.header().extras.get();
        if let Some(n) = extras.and_then(|e| e.native.as_deref()) {
            return n.observe(bucket, v);
        }
        self.cells().observe_with(extras.map(|e| &e.shared), bucket, v);
    }

    fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        match self.native_cells() {
            Some(n) => n.read(cumulative),
            None => self.cells().read(cumulative, self.core.header().buckets.len()),
        }
    }
}

impl HistogramSource for Histogram {
    fn bounds(&self) -> &Buckets {
        &self.core.header().buckets
    }

    fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        Histogram::read(self, cumulative)
    }

    fn native(&self, visit: &mut dyn FnMut(&NativeSnapshot)) -> bool {
        match self.native_cells() {
            Some(n) => {
                n.with_snapshot(visit);
                true
            }
            None => false,
        }
    }

    fn exemplar(&self, i: usize, visit: &mut dyn FnMut(&Exemplar)) -> bool {
        // Lent under the slot's lock: an exemplar recorded meanwhile waits for this one write.
        let slots = self.core.header().extras.get().and_then(|e| e.exemplars.get());
        let Some(slot) = slots.and_then(|slots| slots.get(i)) else {
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
        sink.sample(labels, Value::Histogram(self), &SampleMeta::created(self.created()));
    }

    fn reset(&self) {
        match self.native_cells() {
            Some(n) => n.reset(),
            None => self.cells().reset(),
        }
        if let Some(slots) = self.core.header().extras.get().and_then(|e| e.exemplars.get()) {
            slots.iter().for_each(|slot| *lock(slot) = None);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_default_histogram_trails_eight_words_after_its_header() {
        // Word 0, the sum and twelve counts two to a word: with the count and the header's two
        // words, the 88-byte block of `WordsArc`'s docs.
        let h = Histogram::with_options(&HistogramOptions::default());
        assert_eq!(h.core.words().len(), 8);
        assert_eq!(std::mem::size_of::<Core>(), 16);
    }

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
    fn every_kind_of_histogram_counts_each_observation_once_and_resets() {
        let bounds = Buckets::new([1.0, 2.0]).unwrap();
        let kinds = [
            (
                "owner shard",
                HistogramOptions { buckets: Some(bounds.clone()), ..HistogramOptions::default() },
            ),
            (
                "fixed shards",
                HistogramOptions { buckets: Some(bounds.clone()), shards: 2, ..HistogramOptions::default() },
            ),
            (
                "native and classic",
                HistogramOptions {
                    buckets: Some(bounds.clone()),
                    native: Some(NativeOptions::default()),
                    ..HistogramOptions::default()
                },
            ),
        ];
        for (kind, options) in kinds {
            let before = unix_now();
            let h = Histogram::with_options(&options);
            let created = h.created();
            assert!(created >= before && created <= unix_now(), "{kind}: created at {created}");
            h.observe(0.5);
            let other = h.clone();
            std::thread::scope(|s| s.spawn(move || other.observe(1.5)).join().unwrap());
            h.observe_with_exemplar(3.0, &[("trace_id", "abc")]).unwrap();
            assert_eq!(h.snapshot(), (vec![1, 2, 3], 5.0), "{kind}");
            let mut seen = None;
            assert!(h.exemplar(2, &mut |e| seen = Some(e.value())), "{kind}: no exemplar in +Inf");
            assert_eq!(seen, Some(3.0));
            assert_eq!(h.created(), created, "{kind}: the extras kept the creation time");
            assert_eq!(h.native(&mut |_| {}), options.native.is_some(), "{kind}");
            Metric::reset(&h);
            assert_eq!(h.snapshot(), (vec![0, 0, 0], 0.0), "{kind}: after a reset");
            assert!(!h.exemplar(2, &mut |_| {}), "{kind}: the reset kept an exemplar");
            h.observe(2.0);
            assert_eq!(h.snapshot(), (vec![0, 1, 1], 2.0), "{kind}: after a reset and one observation");
        }
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
