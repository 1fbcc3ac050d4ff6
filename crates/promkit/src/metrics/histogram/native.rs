//! Native (sparse, exponential) histograms: bucket math and storage.
//!
//! Bucket `k` of schema `s` holds observations in `(2^((k-1)/2^s), 2^(k/2^s)]` (mirrored for
//! negative values); observations within the zero threshold go to the zero bucket. The key of
//! a value is computed as Go's client_golang does (`frexp`, and for positive schemas a search
//! in Go's own bound table), so every observation lands in the same bucket as in Go.
//!
//! Storage: per-thread shards, each a mutex over the whole state of its share of the
//! observations (classic bucket counts, count, sum, zero bucket, sparse buckets in hash maps),
//! so one observation is one short critical section and a scrape, which locks every shard at
//! once, sees whole observations only, with one schema and one zero threshold. When the number
//! of populated buckets passes the limit, the histogram resets (after `min_reset_duration`),
//! widens its zero bucket (up to `max_zero_threshold`), or halves its resolution, in that order,
//! as Go does.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use hashbrown::HashMap;

use super::native_bounds::BOUNDS;
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

/// `v = frac * 2^exp` with `frac` in `[0.5, 1)`, for finite positive `v` (Go's `math.Frexp`).
fn frexp(v: f64) -> (f64, i32) {
    let bits = v.to_bits();
    #[allow(clippy::cast_possible_wrap)] // an 11-bit field
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    if raw_exp == 0 {
        // Subnormal: scale into the normal range first.
        let (f, e) = frexp(v * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
        return (f, e - 54);
    }
    let frac = f64::from_bits((bits & 0x800f_ffff_ffff_ffff) | (1022 << 52));
    (frac, raw_exp - 1022)
}

/// `x * 2^e`, exact wherever the result is normal (Go's `math.Ldexp`).
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(u64::try_from(k + 1023).unwrap_or(0) << 52);
    while e > 1023 {
        x *= pow2(1023);
        e -= 1023;
    }
    while e < -1022 {
        x *= pow2(-1022);
        e += 1022;
    }
    x * pow2(e)
}

/// The bucket key of `|v|` (positive, finite or infinite) at `schema`.
pub(crate) fn key(abs: f64, schema: i32) -> i32 {
    let (abs, inf) = if abs.is_infinite() { (f64::MAX, true) } else { (abs, false) };
    let (frac, exp) = frexp(abs);
    let k = if schema > 0 {
        let bounds = BOUNDS[usize::try_from(schema).unwrap_or(0)];
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // at most 256
        let idx = bounds.partition_point(|&b| b < frac) as i32;
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let len = bounds.len() as i32;
        idx + (exp - 1) * len
    } else {
        let k = if frac == 0.5 { exp - 1 } else { exp };
        let offset = (1 << -schema) - 1;
        (k + offset) >> -schema
    };
    // ±Inf get a bucket of their own above the one holding f64::MAX.
    if inf { k + 1 } else { k }
}

/// The upper bound of bucket `key` at `schema` (Go's `getLe`), with the bucket that holds
/// `f64::MAX` bounded by `f64::MAX` rather than `+Inf`.
pub(crate) fn upper_bound(key: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = key << -schema;
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac_idx = key & ((1 << schema) - 1);
    let frac = BOUNDS[usize::try_from(schema).unwrap_or(0)][usize::try_from(frac_idx).unwrap_or(0)];
    let exp = (key >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

/// Sparse bucket counts by key. A fixed hasher: keys are small integers from our own math, not
/// input an attacker picks the hashes of.
type Buckets = HashMap<i32, u64, foldhash::fast::FixedState>;

#[derive(Debug, Default)]
struct Shard {
    /// Non-cumulative classic counts, `+Inf` last.
    classic: Vec<u64>,
    count: u64,
    sum: f64,
    zero: u64,
    positive: Buckets,
    negative: Buckets,
}

impl Shard {
    fn clear(&mut self) {
        self.classic.iter_mut().for_each(|c| *c = 0);
        self.count = 0;
        self.sum = 0.0;
        self.zero = 0;
        self.positive.clear();
        self.negative.clear();
    }

    fn populated(&self) -> usize {
        self.positive.len() + self.negative.len()
    }
}

/// Storage of a histogram with native buckets (and optionally classic ones).
#[derive(Debug)]
pub(crate) struct NativeCells {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
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
            CachePadded::new(Mutex::new(Shard { classic: vec![0; classic_buckets + 1], ..Shard::default() }))
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
        let created = {
            let mut s = lock(shard);
            Self::apply(&mut s, classic_bucket, v, &self.schema, &self.zero_threshold)
        };
        if created {
            // Relaxed: the count only triggers the limit check, which re-counts under locks.
            let n = self.populated.fetch_add(1, Ordering::Relaxed) + 1;
            if self.options.max_buckets > 0 && n > self.options.max_buckets {
                self.limit(classic_bucket, v);
            }
        }
    }

    /// Adds one observation to a locked shard; true when it populated a new sparse bucket.
    fn apply(s: &mut Shard, classic_bucket: usize, v: f64, schema: &AtomicI32, zt: &AtomicU64) -> bool {
        if let Some(c) = s.classic.get_mut(classic_bucket) {
            *c += 1;
        }
        s.count += 1;
        s.sum += v;
        if v.is_nan() {
            return false;
        }
        // Relaxed: written only while every shard lock is held, and we hold one.
        let schema = schema.load(Ordering::Relaxed);
        let zt = f64::from_bits(zt.load(Ordering::Relaxed));
        let bump = |m: &mut Buckets, k: i32| {
            let slot = m.entry(k).or_insert(0);
            *slot += 1;
            *slot == 1
        };
        if v > zt {
            bump(&mut s.positive, key(v, schema))
        } else if v < -zt {
            bump(&mut s.negative, key(-v, schema))
        } else {
            s.zero += 1;
            false
        }
    }

    fn lock_all(&self) -> Vec<MutexGuard<'_, Shard>> {
        // Always in index order, by scrapes and by the limit alike: no deadlock.
        self.shards.iter().map(|s| lock(s)).collect()
    }

    /// Calls `f` on every shard with every shard locked at once, as `lock_all` does (in index
    /// order, each guard held until the last call returns), without `lock_all`'s vector of
    /// guards: each guard lives in its own stack frame, one per shard. Reading a shard as soon
    /// as it is locked sees what reading all of them after the last lock would: the shards
    /// already read stay locked, so nothing changes them meanwhile (two-phase locking).
    fn for_each_locked(&self, f: &mut dyn FnMut(&Shard)) {
        fn from(shards: &[CachePadded<Mutex<Shard>>], f: &mut dyn FnMut(&Shard)) {
            if let Some((first, rest)) = shards.split_first() {
                let guard = lock(first);
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
        let recount = |shards: &[MutexGuard<'_, Shard>]| -> u32 {
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
                let smallest =
                    shards.iter().flat_map(|s| s.positive.keys().chain(s.negative.keys())).copied().min();
                if let Some(k) = smallest {
                    let new_zt = upper_bound(k, schema);
                    if new_zt <= self.options.max_zero_threshold {
                        for s in shards.iter_mut() {
                            let moved =
                                s.positive.remove(&k).unwrap_or(0) + s.negative.remove(&k).unwrap_or(0);
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
            let halve = |m: &mut Buckets| {
                let old = std::mem::take(m);
                for (k, c) in old {
                    // Bucket k at schema s lies in bucket ceil(k/2) at schema s-1.
                    *m.entry((k + 1).div_euclid(2)).or_insert(0) += c;
                }
            };
            for s in shards.iter_mut() {
                halve(&mut s.positive);
                halve(&mut s.negative);
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
        snap.count = 0;
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
            snap.count += s.count;
            snap.sum += s.sum;
            snap.zero_count += s.zero;
            snap.cumulative.iter_mut().zip(&s.classic).for_each(|(c, n)| *c += n);
            snap.positive.extend(s.positive.iter().map(|(&k, &c)| (k, c)));
            snap.negative.extend(s.negative.iter().map(|(&k, &c)| (k, c)));
        });
        let mut running = 0;
        for c in &mut snap.cumulative {
            running += *c;
            *c = running;
        }
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
    use proptest::prelude::*;

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
    fn keys_at_exact_boundaries_go_to_the_lower_bucket() {
        // Upper bounds are inclusive: 1 is in bucket 0, 2 in bucket 1 (schema 0).
        assert_eq!(key(1.0, 0), 0);
        assert_eq!(key(2.0, 0), 1);
        assert_eq!(key(1.5, 0), 1);
        assert_eq!(key(0.5, 0), -1);
        assert_eq!(key(4.0, -1), 1);
        assert_eq!(key(5.0, -1), 2);
        assert_eq!(key(1.0, 3), 0);
        assert_eq!(key(2.0, 3), 8);
        assert_eq!(key(f64::MAX, 0), 1024);
        assert_eq!(key(f64::INFINITY, 0), 1025);
        assert_eq!(upper_bound(1024, 0), f64::MAX);
        assert_eq!(upper_bound(1025, 0), f64::INFINITY);
        // Subnormals and the smallest positive value.
        assert_eq!(key(f64::from_bits(1), 0), -1074);
        assert_eq!(key(f64::MIN_POSITIVE, 0), -1022);
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

    #[test]
    fn shards_merge_into_one_snapshot_and_the_scrape_buffer_is_rewritten_each_time() {
        let cells = NativeCells::new(1, 2, NativeOptions::with_factor(2.0));
        // Two shards filled directly: the same keys in both add up, the others sort in.
        for (shard, values) in [(0, [1.0, 4.0, -2.0]), (1, [4.0, 16.0, -2.0])] {
            let mut s = lock(&cells.shards[shard]);
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

    proptest! {
        /// Every finite value lies in its bucket: above the previous bound, at most its own.
        #[test]
        fn values_lie_within_their_bucket(bits in any::<u64>(), schema in -4i32..=8) {
            let v = f64::from_bits(bits).abs();
            prop_assume!(v.is_finite() && v > 0.0);
            let k = key(v, schema);
            let upper = upper_bound(k, schema);
            let lower = upper_bound(k - 1, schema);
            prop_assert!(v <= upper, "{v} > upper {upper} (key {k}, schema {schema})");
            prop_assert!(v > lower, "{v} <= lower {lower} (key {k}, schema {schema})");
        }

        /// Keys are monotone in the value.
        #[test]
        fn keys_are_monotone(a in any::<u64>(), b in any::<u64>(), schema in -4i32..=8) {
            let (x, y) = (f64::from_bits(a).abs(), f64::from_bits(b).abs());
            prop_assume!(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0 && x <= y);
            prop_assert!(key(x, schema) <= key(y, schema));
        }
    }
}
