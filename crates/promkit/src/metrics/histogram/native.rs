//! Native (sparse, exponential) histograms: options and storage.
//!
//! Bucket `k` of schema `s` holds observations in `(2^((k-1)/2^s), 2^(k/2^s)]` (mirrored for
//! negative values); observations within the zero threshold go to the zero bucket. The key of
//! a value is Go's (see `native_key`), so every observation lands in the same bucket as in Go.
//!
//! Storage: per-thread shards, each a spin lock over the whole state of its share of the
//! observations (classic bucket counts, which add up to its count, sum, zero bucket, and the
//! native buckets of each sign in a dense window of keys, see `native_window`), so one
//! observation is one short critical section with no hashing and a scrape, which locks every
//! shard at once, sees whole observations only, with one schema and one zero threshold; the
//! sparse spans are built only then. When the number of populated buckets passes the limit,
//! the histogram resets (after `min_reset_duration`), widens its zero bucket (up to
//! `max_zero_threshold`), or halves its resolution, in that order, as Go does.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use spin::mutex::{SpinMutex, SpinMutexGuard};
use spin::relax::RelaxStrategy;

use super::native_key::{key, upper_bound};
use super::native_window::Window;
use crate::model::{Exemplar, NativeSnapshot};

/// Go's default zero threshold, `2^-128`: values this close to zero count as zero.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// How the native buckets of a histogram behave (Go's `NativeHistogram*` options).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NativeOptions {
    /// The largest ratio between neighbouring bucket bounds; the schema is the coarsest one
    /// that is at least this fine (1.1 gives schema 3, a factor of about 1.09).
    pub bucket_factor: f64,
    /// Values in `[-zero_threshold, zero_threshold]` count in the zero bucket.
    pub zero_threshold: f64,
    /// The most populated buckets before the histogram reacts (0: no limit).
    pub max_buckets: u32,
    /// Reset the whole histogram when over the limit, at most this often (zero: never).
    pub min_reset_duration: Duration,
    /// How far the zero bucket may widen to absorb buckets when over the limit (at or below
    /// `zero_threshold`: never widen).
    pub max_zero_threshold: f64,
    /// How many recent exemplars to keep for the native part.
    pub max_exemplars: usize,
}

impl Default for NativeOptions {
    fn default() -> Self {
        Self {
            bucket_factor: 1.1,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            max_buckets: 160,
            min_reset_duration: Duration::ZERO,
            max_zero_threshold: 0.0,
            max_exemplars: 10,
        }
    }
}

impl NativeOptions {
    /// Options with this bucket factor and the defaults otherwise: zero threshold `2^-128`, at
    /// most 160 buckets (then halve the resolution), 10 exemplars.
    pub fn with_factor(bucket_factor: f64) -> Self {
        Self { bucket_factor, ..Self::default() }
    }

    /// Sets the bucket limit and what happens beyond it.
    #[must_use]
    pub fn limit(mut self, max_buckets: u32, min_reset_duration: Duration, max_zero_threshold: f64) -> Self {
        self.max_buckets = max_buckets;
        self.min_reset_duration = min_reset_duration;
        self.max_zero_threshold = max_zero_threshold;
        self
    }

    /// Sets the zero threshold.
    #[must_use]
    pub fn zero_threshold(mut self, zero_threshold: f64) -> Self {
        self.zero_threshold = zero_threshold;
        self
    }
}

/// The schema for a bucket factor: the coarsest whose neighbouring bounds are within `factor`
/// (Go's `pickSchema`).
pub(crate) fn pick_schema(factor: f64) -> i32 {
    let floor = factor.log2().log2().floor();
    if floor <= -8.0 {
        8
    } else if floor >= 4.0 {
        -4
    } else {
        #[allow(clippy::cast_possible_truncation)] // within -3..=7 here
        let f = floor as i32;
        -f
    }
}

#[derive(Debug, Default)]
struct Shard {
    /// Non-cumulative classic counts, `+Inf` last. Every observation counts in exactly one of
    /// them (NaN in `+Inf`), so their sum is the shard's count: no separate count to bump.
    classic: Vec<u64>,
    sum: f64,
    zero: u64,
    positive: Window,
    negative: Window,
}

impl Shard {
    fn clear(&mut self) {
        self.classic.iter_mut().for_each(|c| *c = 0);
        self.sum = 0.0;
        self.zero = 0;
        self.positive.clear();
        self.negative.clear();
    }

    fn populated(&self) -> usize {
        self.positive.populated() + self.negative.populated()
    }
}

/// How a thread waits for a shard another holds: it yields its CPU. Observers hold a shard for a
/// few dozen instructions, and each thread has its own shard, so waiting is rare and mostly for
/// a scrape or the bucket limit (which hold every shard while they merge); a preempted holder
/// needs the CPU more than a spinning waiter does.
struct Yield;

impl RelaxStrategy for Yield {
    fn relax() {
        std::thread::yield_now();
    }
}

/// A shard's lock: a compare-and-swap to take (Acquire), a plain store to release (Release),
/// one atomic read-modify-write per observation where `std::sync::Mutex` takes two. No
/// poisoning: a shard's counts are whole after any panic, as no code between the two can panic
/// halfway through an update that matters (an index is checked before it is written).
type ShardLock = SpinMutex<Shard, Yield>;

/// Storage of a histogram with native buckets (and optionally classic ones).
#[derive(Debug)]
pub(crate) struct NativeCells {
    shards: Box<[CachePadded<ShardLock>]>,
    mask: usize,
    /// Changed only with every shard locked, so a shard's holder always sees the schema and
    /// zero threshold its buckets are keyed by.
    schema: AtomicI32,
    zero_threshold: AtomicU64,
    /// Populated buckets summed over shards: at least the populated buckets of the merged
    /// histogram, so the limit holds for the merge.
    populated: AtomicU32,
    options: NativeOptions,
    last_reset: Mutex<Instant>,
    exemplars: Mutex<VecDeque<Exemplar>>,
    /// The snapshot a scrape fills and lends to the encoder, kept so its buffers are reused
    /// from scrape to scrape. Taken only by scrapes (never while a shard lock is held), so
    /// observers never wait for it. Boxed: only scrapes touch it, and the histogram stays small.
    scratch: Box<Mutex<NativeSnapshot>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl NativeCells {
    pub(crate) fn new(classic_buckets: usize, shards: usize, options: NativeOptions) -> Self {
        let shards = shards.max(1).next_power_of_two();
        let shard = || {
            CachePadded::new(ShardLock::new(Shard {
                classic: vec![0; classic_buckets + 1],
                ..Shard::default()
            }))
        };
        Self {
            shards: (0..shards).map(|_| shard()).collect(),
            mask: shards - 1,
            schema: AtomicI32::new(pick_schema(options.bucket_factor)),
            zero_threshold: AtomicU64::new(options.zero_threshold.max(0.0).to_bits()),
            populated: AtomicU32::new(0),
            last_reset: Mutex::new(Instant::now()),
            exemplars: Mutex::new(VecDeque::new()),
            scratch: Box::default(),
            options,
        }
    }

    pub(crate) fn observe(&self, classic_bucket: usize, v: f64) {
        let shard = &self.shards[crate::sync::thread_index() & self.mask];
        // The usual case takes the free shard at once; waiting for a held one and counting a
        // newly populated bucket are calls of their own, so it saves fewer registers.
        let created = match shard.try_lock() {
            Some(mut s) => Self::apply(&mut s, classic_bucket, v, &self.schema, &self.zero_threshold),
            None => self.observe_waiting(shard, classic_bucket, v),
        };
        if created {
            self.populated_one(classic_bucket, v);
        }
    }

    /// [`observe`](Self::observe) when the shard is held (by a scrape, the bucket limit, or
    /// another thread on the same shard): waits for it.
    #[cold]
    #[inline(never)]
    fn observe_waiting(&self, shard: &ShardLock, classic_bucket: usize, v: f64) -> bool {
        Self::apply(&mut shard.lock(), classic_bucket, v, &self.schema, &self.zero_threshold)
    }

    /// Counts a newly populated sparse bucket, and applies the bucket limit when it is passed.
    #[cold]
    #[inline(never)]
    fn populated_one(&self, classic_bucket: usize, v: f64) {
        // Relaxed: the count only triggers the limit check, which re-counts under locks.
        let n = self.populated.fetch_add(1, Ordering::Relaxed) + 1;
        if self.options.max_buckets > 0 && n > self.options.max_buckets {
            self.limit(classic_bucket, v);
        }
    }

    /// Adds one observation to a locked shard; true when it populated a new sparse bucket.
    #[inline(always)] // Once per observation, inside the critical section: no call there.
    fn apply(s: &mut Shard, classic_bucket: usize, v: f64, schema: &AtomicI32, zt: &AtomicU64) -> bool {
        if let Some(c) = s.classic.get_mut(classic_bucket) {
            *c += 1;
        }
        s.sum += v;
        if v.is_nan() {
            return false;
        }
        // Relaxed: written only while every shard lock is held, and we hold one.
        let schema = schema.load(Ordering::Relaxed);
        let zt = f64::from_bits(zt.load(Ordering::Relaxed));
        if v > zt {
            s.positive.bump(key(v, schema))
        } else if v < -zt {
            s.negative.bump(key(-v, schema))
        } else {
            s.zero += 1;
            false
        }
    }

    fn lock_all(&self) -> Vec<SpinMutexGuard<'_, Shard>> {
        // Always in index order, by scrapes and by the limit alike: no deadlock.
        self.shards.iter().map(|s| s.lock()).collect()
    }

    /// Calls `f` on every shard with every shard locked at once, as `lock_all` does (in index
    /// order, each guard held until the last call returns), without `lock_all`'s vector of
    /// guards: each guard lives in its own stack frame, one per shard. Reading a shard as soon
    /// as it is locked sees what reading all of them after the last lock would: the shards
    /// already read stay locked, so nothing changes them meanwhile (two-phase locking).
    fn for_each_locked(&self, f: &mut dyn FnMut(&Shard)) {
        fn from(shards: &[CachePadded<ShardLock>], f: &mut dyn FnMut(&Shard)) {
            if let Some((first, rest)) = shards.split_first() {
                let guard = first.lock();
                f(&guard);
                from(rest, f);
            }
        }
        from(&self.shards, f);
    }

    /// Over the bucket limit: reset, widen the zero bucket, or halve the resolution.
    #[cold]
    fn limit(&self, classic_bucket: usize, v: f64) {
        let mut last_reset = lock(&self.last_reset);
        let mut shards = self.lock_all();
        let recount = |shards: &[SpinMutexGuard<'_, Shard>]| -> u32 {
            u32::try_from(shards.iter().map(|s| s.populated()).sum::<usize>()).unwrap_or(u32::MAX)
        };
        // Go applies one step per new bucket, which can leave the histogram over its limit;
        // repeating until it fits keeps the bound (widening and halving always terminate).
        loop {
            let populated = recount(&shards);
            self.populated.store(populated, Ordering::Relaxed);
            if populated <= self.options.max_buckets {
                return;
            }
            let now = Instant::now();
            let min_reset = self.options.min_reset_duration;
            if !min_reset.is_zero() && now.duration_since(*last_reset) >= min_reset {
                shards.iter_mut().for_each(|s| s.clear());
                // Keep the latest observation, as Go does, so the reset loses as little as it can.
                let created =
                    Self::apply(&mut shards[0], classic_bucket, v, &self.schema, &self.zero_threshold);
                self.populated.store(u32::from(created), Ordering::Relaxed);
                *last_reset = now;
                return;
            }
            let schema = self.schema.load(Ordering::Relaxed);
            let zt = f64::from_bits(self.zero_threshold.load(Ordering::Relaxed));
            if zt < self.options.max_zero_threshold {
                let smallest = shards
                    .iter()
                    .flat_map(|s| s.positive.iter().chain(s.negative.iter()))
                    .map(|(k, _)| k)
                    .min();
                if let Some(k) = smallest {
                    let new_zt = upper_bound(k, schema);
                    if new_zt <= self.options.max_zero_threshold {
                        for s in shards.iter_mut() {
                            let moved = s.positive.remove(k) + s.negative.remove(k);
                            s.zero += moved;
                        }
                        self.zero_threshold.store(new_zt.to_bits(), Ordering::Relaxed);
                        continue;
                    }
                }
            }
            if schema <= -4 {
                return; // As coarse as it gets: nothing more to merge.
            }
            for s in shards.iter_mut() {
                s.positive.halve();
                s.negative.halve();
            }
            self.schema.store(schema - 1, Ordering::Relaxed);
        }
    }

    /// Records an exemplar for the native part, keeping the most recent ones.
    pub(crate) fn add_exemplar(&self, e: Exemplar) {
        let mut ex = lock(&self.exemplars);
        if self.options.max_exemplars == 0 {
            return;
        }
        while ex.len() >= self.options.max_exemplars {
            ex.pop_front();
        }
        ex.push_back(e);
    }

    /// Classic cumulative counts and the sum, from one consistent moment.
    pub(crate) fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        cumulative.clear();
        let mut sum = 0.0;
        self.for_each_locked(&mut |s| {
            if cumulative.is_empty() {
                cumulative.resize(s.classic.len(), 0);
            }
            cumulative.iter_mut().zip(&s.classic).for_each(|(c, n)| *c += n);
            sum += s.sum;
        });
        let mut running = 0;
        for c in cumulative.iter_mut() {
            running += *c;
            *c = running;
        }
        sum
    }

    /// Everything, from one consistent moment (a fresh snapshot: tests read it whole).
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> NativeSnapshot {
        let mut snap = NativeSnapshot::default();
        self.snapshot_into(&mut snap);
        snap
    }

    /// Calls `visit` with everything, from one consistent moment, filled into this
    /// histogram's scrape buffer: once that buffer has grown to the histogram's size (and its
    /// exemplars' labels to theirs), a scrape allocates nothing.
    pub(crate) fn with_snapshot(&self, visit: &mut dyn FnMut(&NativeSnapshot)) {
        let mut snap = lock(&self.scratch);
        self.snapshot_into(&mut snap);
        visit(&snap);
    }

    /// Everything, from one consistent moment, written over `snap` (its buffers reused).
    fn snapshot_into(&self, snap: &mut NativeSnapshot) {
        {
            let exemplars = lock(&self.exemplars);
            snap.exemplars.truncate(exemplars.len());
            let kept = snap.exemplars.len();
            snap.exemplars.iter_mut().zip(exemplars.iter()).for_each(|(to, from)| to.clone_from(from));
            snap.exemplars.extend(exemplars.iter().skip(kept).cloned());
        }
        snap.sum = 0.0;
        snap.zero_count = 0;
        snap.cumulative.clear();
        snap.positive.clear();
        snap.negative.clear();
        let mut first = true;
        self.for_each_locked(&mut |s| {
            if first {
                first = false;
                // Relaxed: both change only with every shard locked, and we hold one.
                snap.schema = self.schema.load(Ordering::Relaxed);
                snap.zero_threshold = f64::from_bits(self.zero_threshold.load(Ordering::Relaxed));
                snap.cumulative.resize(s.classic.len(), 0);
            }
            snap.sum += s.sum;
            snap.zero_count += s.zero;
            snap.cumulative.iter_mut().zip(&s.classic).for_each(|(c, n)| *c += n);
            snap.positive.extend(s.positive.iter());
            snap.negative.extend(s.negative.iter());
        });
        let mut running = 0;
        for c in &mut snap.cumulative {
            running += *c;
            *c = running;
        }
        snap.count = running;
        merge_by_key(&mut snap.positive);
        merge_by_key(&mut snap.negative);
    }

    pub(crate) fn reset(&self) {
        self.lock_all().iter_mut().for_each(|s| s.clear());
        self.populated.store(0, Ordering::Relaxed);
        lock(&self.exemplars).clear();
    }
}

/// Sorts `(key, count)` pairs gathered from every shard by key and adds up the counts of
/// equal keys, in place (no map: nothing to allocate once the vector has its size).
fn merge_by_key(buckets: &mut Vec<(i32, u64)>) {
    buckets.sort_unstable_by_key(|&(k, _)| k);
    buckets.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_from_factors_as_go_picks_them() {
        assert_eq!(pick_schema(1.1), 3);
        assert_eq!(pick_schema(2.0), 0);
        assert_eq!(pick_schema(1.5), 1);
        assert_eq!(pick_schema(1.0001), 8);
        assert_eq!(pick_schema(65536.0), -4);
        assert_eq!(pick_schema(4.0), -1);
    }

    #[test]
    fn the_limit_halves_resolution_then_keeps_counts() {
        let opts = NativeOptions::with_factor(1.1).limit(4, Duration::ZERO, 0.0);
        let cells = NativeCells::new(0, 1, opts);
        for v in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0] {
            cells.observe(0, v);
        }
        let snap = cells.snapshot();
        let buckets: u64 = snap.positive.iter().map(|(_, c)| c).sum();
        assert_eq!(buckets, 7);
        assert_eq!(snap.count, 7);
        assert!(snap.positive.len() <= 4, "{snap:?}");
        assert!(snap.schema < 3);
        // Every value still lies within its bucket's bounds at the final schema.
        for v in [1.0f64, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0] {
            let k = key(v, snap.schema);
            assert!(snap.positive.iter().any(|(kk, _)| *kk == k));
        }
    }

    #[test]
    fn the_limit_widens_the_zero_bucket_when_allowed() {
        let opts = NativeOptions::with_factor(2.0).limit(2, Duration::ZERO, 1.0);
        let cells = NativeCells::new(0, 1, opts);
        for v in [0.25, 1.0, 100.0] {
            cells.observe(0, v);
        }
        let snap = cells.snapshot();
        assert_eq!(snap.zero_threshold, 0.25);
        assert_eq!(snap.zero_count, 1);
        assert_eq!(snap.positive.len(), 2);
    }

    #[test]
    fn the_limit_resets_after_the_minimum_duration() {
        let opts = NativeOptions::with_factor(2.0).limit(1, Duration::from_nanos(1), 0.0);
        let cells = NativeCells::new(0, 1, opts);
        cells.observe(0, 1.0);
        std::thread::sleep(Duration::from_millis(2));
        cells.observe(0, 100.0);
        let snap = cells.snapshot();
        assert_eq!(snap.count, 1, "reset kept only the latest observation: {snap:?}");
        assert_eq!(snap.positive, vec![(key(100.0, 0), 1)]);
    }

    /// Several observers and a scraper at once: every snapshot is whole (the native count is
    /// the zero bucket plus every bucket, and the classic buckets, one per value, agree with the
    /// native ones and the sum), and no observation is lost.
    fn stress(options: NativeOptions) {
        // Classic buckets one per value (-2, 0, 1, 2, 3), so the sum follows from them.
        const VALUES: [f64; 5] = [-2.0, 0.0, 1.0, 2.0, 3.0];
        let cells = NativeCells::new(VALUES.len(), 4, options);
        let (threads, per) = (4, 50_000);
        std::thread::scope(|s| {
            for t in 0..threads {
                let cells = &cells;
                s.spawn(move || {
                    for i in 0..per {
                        let c = (i + t) % VALUES.len();
                        // Far-apart values too, so windows grow and the limit acts meanwhile.
                        let spread = f64::from(u32::try_from(i % 64).unwrap()).exp2();
                        cells.observe(c, VALUES[c] * if i % 3 == 0 { spread } else { 1.0 });
                    }
                });
            }
            let cells = &cells;
            s.spawn(move || {
                for _ in 0..500 {
                    let snap = cells.snapshot();
                    let buckets: u64 = snap.positive.iter().chain(&snap.negative).map(|(_, c)| c).sum();
                    assert_eq!(snap.count, snap.zero_count + buckets, "torn: {snap:?}");
                    assert_eq!(snap.cumulative.last(), Some(&snap.count));
                    let negative: u64 = snap.negative.iter().map(|(_, c)| c).sum();
                    assert_eq!(negative, snap.cumulative[0], "negative buckets against classic");
                    assert_eq!(snap.zero_count, snap.cumulative[1] - snap.cumulative[0]);
                    assert!(snap.positive.windows(2).all(|w| w[0].0 < w[1].0), "unsorted or repeated keys");
                }
            });
        });
        let snap = cells.snapshot();
        let total = threads * per;
        assert_eq!(snap.count, total as u64);
        let buckets: u64 = snap.positive.iter().chain(&snap.negative).map(|(_, c)| c).sum();
        assert_eq!(snap.count, snap.zero_count + buckets);
        assert_eq!(snap.zero_count, (total / VALUES.len()) as u64);
        let mut classic = Vec::new();
        cells.read(&mut classic);
        assert_eq!(classic, snap.cumulative);
    }

    #[test]
    fn shards_merge_into_one_snapshot_and_the_scrape_buffer_is_rewritten_each_time() {
        let cells = NativeCells::new(1, 2, NativeOptions::with_factor(2.0));
        // Two shards filled directly: the same keys in both add up, the others sort in.
        for (shard, values) in [(0, [1.0, 4.0, -2.0]), (1, [4.0, 16.0, -2.0])] {
            let mut s = cells.shards[shard].lock();
            for v in values {
                NativeCells::apply(&mut s, usize::from(v > 3.0), v, &cells.schema, &cells.zero_threshold);
            }
        }
        let mut seen = Vec::new();
        cells.with_snapshot(&mut |s| seen.push(s.clone()));
        let snap = seen[0].clone();
        assert_eq!(snap.positive, vec![(key(1.0, 0), 1), (key(4.0, 0), 2), (key(16.0, 0), 1)]);
        assert_eq!(snap.negative, vec![(key(2.0, 0), 2)]);
        assert_eq!((snap.count, snap.sum, snap.cumulative.clone()), (6, 21.0, vec![3, 6]));
        cells.reset();
        cells.with_snapshot(&mut |s| seen.push(s.clone()));
        assert_eq!(
            seen[1],
            NativeSnapshot {
                schema: 0,
                zero_threshold: snap.zero_threshold,
                cumulative: vec![0, 0],
                ..NativeSnapshot::default()
            }
        );
    }

    #[test]
    fn concurrent_observers_and_scrapes_never_see_a_torn_histogram() {
        stress(NativeOptions::with_factor(1.1).limit(0, Duration::ZERO, 0.0));
    }

    #[test]
    fn concurrent_observers_scrapes_and_the_bucket_limit_keep_every_observation() {
        stress(NativeOptions::with_factor(1.1).limit(20, Duration::ZERO, 0.0));
    }

    /// Heap bytes of a histogram's native buckets for a typical latency spread (1 ms to 10 s at
    /// schema 3, about 107 buckets, all in one shard): a dense window against the hash map
    /// the buckets used to live in.
    #[test]
    fn a_typical_spread_takes_less_room_than_a_hash_map() {
        let mut window = Window::default();
        let mut map: hashbrown::HashMap<i32, u64, foldhash::fast::FixedState> = hashbrown::HashMap::default();
        let mut v = 0.001f64;
        while v <= 10.0 {
            let k = key(v, 3);
            window.bump(k);
            *map.entry(k).or_insert(0) += 1;
            v *= 1.01;
        }
        let (dense, sparse) = (window.heap_bytes(), map.allocation_size());
        println!("{} buckets: window {dense} bytes, hash map {sparse} bytes", map.len());
        assert!(dense < sparse, "window {dense} bytes, hash map {sparse} bytes");
    }

    /// A shard, lock and all, still fits the two cache lines its padding gives it.
    #[test]
    fn a_shard_fits_its_padding() {
        println!("shard {} bytes", std::mem::size_of::<ShardLock>());
        assert!(std::mem::size_of::<CachePadded<ShardLock>>() <= 256);
    }
}
