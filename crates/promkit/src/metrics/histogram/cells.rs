//! The histogram's storage: spin-locked groups of cells ("shards"), one to begin with and one
//! per CPU slot once observers collide.
//!
//! An observation takes a shard's lock (one compare-and-swap), bumps one bucket and the sum
//! with plain loads and stores, and releases the lock with a plain store: one atomic
//! read-modify-write in all. A scrape takes each shard's lock in turn, so it reads every shard
//! as a whole: the `+Inf` bucket always equals the count, buckets never decrease and the sum
//! matches the counted observations (what Go's hot/cold swap guarantees, at a quarter of its
//! atomic operations).
//!
//! A histogram starts with one unpadded shard, so a family of many histograms that nobody
//! observes from two threads at once costs little more than their counts. The first time an
//! observer finds that shard locked by another, the histogram spreads out: it gets one
//! cache-line-aligned shard per CPU slot, and from then on each thread observes into its own
//! slot's shard, so two threads observing one histogram usually touch different cache lines.
//! The first shard keeps what it counted and scrapes keep adding it in.

use std::sync::atomic::Ordering;

use crate::sync::{AtomicU64, OnceBox};

/// Words per cache line.
const LINE: usize = 8;
/// Word 0 of a shard is its lock, word 1 the sum's bits, then one count per bucket and `+Inf`.
const LOCK: usize = 0;
const SUM: usize = 1;
const FIRST_BUCKET: usize = 2;

#[derive(Debug)]
pub(crate) struct Cells {
    /// The shard every observer uses until two collide: unpadded, one allocation. Empty for a
    /// histogram with a fixed number of shards.
    first: Box<[AtomicU64]>,
    /// One padded shard per CPU slot, made on the first collision on `first`, or at once for a
    /// histogram built with a fixed number of shards.
    spread: OnceBox<Shards>,
}

/// Cache-line-aligned shards, one per CPU slot.
#[derive(Debug)]
struct Shards {
    words: Box<[AtomicU64]>,
    /// Index of shard 0's lock word: the first word on a cache-line boundary.
    base: usize,
    /// Words per shard, a whole number of cache lines.
    stride: usize,
    /// Shards minus one (the shard count is a power of two).
    mask: usize,
    /// Words a shard uses: the lock, the sum and the buckets.
    used: usize,
}

impl Shards {
    /// `shards` shards (rounded up to a power of two, at least one) of `used` words each.
    fn new(used: usize, shards: usize) -> Self {
        let shards = shards.max(1).next_power_of_two();
        let stride = used.div_ceil(LINE) * LINE;
        let words: Box<[AtomicU64]> = (0..shards * stride + LINE - 1).map(|_| AtomicU64::new(0)).collect();
        // The allocation is 8-aligned; skip to the first 64-byte boundary so shards never
        // share a cache line (no false sharing between threads on different shards).
        let addr = words.as_ptr() as usize;
        let base = ((64 - addr % 64) % 64) / 8;
        Self { words, base, stride, mask: shards - 1, used }
    }

    /// Shard `i` modulo the shard count.
    #[inline]
    fn shard(&self, i: usize) -> &[AtomicU64] {
        let start = self.base + (i & self.mask) * self.stride;
        &self.words[start..start + self.used]
    }

    /// The calling thread's shard, locked.
    #[inline]
    fn lock_own(&self) -> &[AtomicU64] {
        let shard = self.shard(crate::sync::thread_index());
        lock(&shard[LOCK]);
        shard
    }
}

impl Cells {
    /// Cells for `finite_buckets` bounds plus `+Inf`. With `fixed`, the histogram has that many
    /// shards (rounded up to a power of two) from the start and never changes them: one shard
    /// means every observer shares it and a collision waits. Without, it starts with one
    /// unpadded shard and spreads to [`cpu_slots`](crate::sync::cpu_slots) on the first collision.
    pub(crate) fn new(finite_buckets: usize, fixed: Option<usize>) -> Self {
        let used = FIRST_BUCKET + finite_buckets + 1;
        let first = if fixed.is_some() { 0 } else { used };
        let cells = Self { first: (0..first).map(|_| AtomicU64::new(0)).collect(), spread: OnceBox::new() };
        if let Some(n) = fixed {
            cells.spread.get_or_init(|| Shards::new(used, n));
        }
        cells
    }

    /// Words in a shard: the lock, the sum and the buckets.
    fn used(&self) -> usize {
        self.spread.get().map_or(self.first.len(), |s| s.used)
    }

    #[inline]
    pub(crate) fn observe(&self, bucket: usize, v: f64) {
        let shard = match self.spread.get() {
            Some(spread) => spread.lock_own(),
            None if try_lock(&self.first[LOCK]) => &self.first,
            None => self.collided(),
        };
        // Relaxed loads and stores inside the critical section: the lock's Acquire/Release
        // order them against every other holder, observers and scrapes alike.
        let b = &shard[FIRST_BUCKET + bucket];
        b.store(b.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let s = &shard[SUM];
        s.store((f64::from_bits(s.load(Ordering::Relaxed)) + v).to_bits(), Ordering::Relaxed);
        shard[LOCK].store(0, Ordering::Release);
    }

    /// An observer found the first shard locked: the histogram spreads out (once) and the
    /// observer takes its own shard. A histogram with fixed shards never gets here: its
    /// `spread` is set from the start.
    #[cold]
    #[inline(never)]
    fn collided(&self) -> &[AtomicU64] {
        self.spread.get_or_init(|| Shards::new(self.first.len(), crate::sync::cpu_slots())).lock_own()
    }

    /// Every shard, the first one (if any) first.
    fn each_shard(&self, mut f: impl FnMut(&[AtomicU64])) {
        if !self.first.is_empty() {
            f(&self.first);
        }
        if let Some(spread) = self.spread.get() {
            (0..=spread.mask).for_each(|i| f(spread.shard(i)));
        }
    }

    /// Reads all shards into `cumulative` (one entry per bucket and `+Inf`) and returns the sum.
    pub(crate) fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        cumulative.clear();
        cumulative.resize(self.used() - FIRST_BUCKET, 0);
        let mut sum = 0.0;
        self.each_shard(|shard| {
            lock(&shard[LOCK]);
            for (c, w) in cumulative.iter_mut().zip(&shard[FIRST_BUCKET..]) {
                *c += w.load(Ordering::Relaxed);
            }
            sum += f64::from_bits(shard[SUM].load(Ordering::Relaxed));
            shard[LOCK].store(0, Ordering::Release);
        });
        let mut running = 0;
        for c in cumulative.iter_mut() {
            running += *c;
            *c = running;
        }
        sum
    }

    /// Zeroes every shard (for families that reset a series in place).
    pub(crate) fn reset(&self) {
        self.each_shard(|shard| {
            lock(&shard[LOCK]);
            for w in &shard[SUM..] {
                w.store(0, Ordering::Relaxed);
            }
            shard[LOCK].store(0, Ordering::Release);
        });
    }
}

/// Takes a shard lock if it is free. Acquire on success pairs with the Release that freed it,
/// so this holder sees every store of the previous one.
#[inline]
fn try_lock(word: &AtomicU64) -> bool {
    // A strong CAS: on x86 it is the same instruction, and it keeps loom's model finite.
    word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
}

/// Takes a shard lock, waiting for it if it is held (ordering as in [`try_lock`]).
#[inline]
fn lock(word: &AtomicU64) {
    if !try_lock(word) {
        lock_contended(word);
    }
}

/// [`lock`] after a failed first attempt: out of line, so an uncontended observe makes no
/// call and keeps its values in registers.
#[cold]
#[inline(never)]
fn lock_contended(word: &AtomicU64) {
    // Acquire on success, as in `lock`.
    while word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
        let mut spins = 0u32;
        // Wait with plain loads (no cache-line ping-pong), then yield: a preempted holder
        // needs the CPU more than a spinning waiter does.
        while word.load(Ordering::Relaxed) != 0 {
            if spins < 64 {
                spins += 1;
                spin_hint();
            } else {
                yield_now();
            }
        }
    }
}

#[cfg(not(loom))]
fn spin_hint() {
    std::hint::spin_loop();
}
#[cfg(not(loom))]
fn yield_now() {
    std::thread::yield_now();
}
#[cfg(loom)]
fn spin_hint() {
    loom::thread::yield_now();
}
#[cfg(loom)]
fn yield_now() {
    loom::thread::yield_now();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn eager_shards_are_cache_line_aligned_and_read_adds_them_up() {
        let c = Cells::new(3, Some(4));
        let spread = c.spread.get().expect("a fixed shard count spreads at once");
        for i in 0..4 {
            assert_eq!(spread.shard(i).as_ptr() as usize % 64, 0);
        }
        c.observe(0, 0.5);
        c.observe(3, 10.0);
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 10.5);
        assert_eq!(out, [1, 1, 1, 2]);
        c.reset();
        assert_eq!(c.read(&mut out), 0.0);
        assert_eq!(out, [0, 0, 0, 0]);
    }

    #[test]
    fn a_histogram_nobody_contends_keeps_one_unpadded_shard() {
        let c = Cells::new(11, None);
        for i in 0..1000 {
            c.observe(i % 12, 1.0);
        }
        assert!(c.spread.get().is_none(), "spread out without a collision");
        assert_eq!(c.first.len(), 2 + 12, "the lock, the sum and twelve buckets");
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 1000.0);
        assert_eq!(out.last(), Some(&1000));
    }

    #[test]
    fn a_collision_spreads_the_histogram_and_scrapes_add_both_parts() {
        let c = Cells::new(1, None);
        c.observe(0, 1.0);
        // Another holder of the first shard, as an observer on another thread would be.
        assert!(try_lock(&c.first[LOCK]));
        c.observe(1, 5.0);
        let spread = c.spread.get().expect("the collision spread the histogram");
        c.first[LOCK].store(0, Ordering::Release);
        assert_eq!(spread.shard(crate::sync::thread_index())[FIRST_BUCKET + 1].load(Ordering::Relaxed), 1);
        c.observe(1, 2.0);
        assert_eq!(c.first[FIRST_BUCKET + 1].load(Ordering::Relaxed), 0, "observed into the old shard");
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 8.0);
        assert_eq!(out, [1, 3]);
        c.reset();
        assert_eq!(c.read(&mut out), 0.0);
        assert_eq!(out, [0, 0]);
    }

    #[test]
    fn a_single_shard_histogram_waits_instead_of_spreading() {
        let c = Cells::new(1, Some(1));
        let spread = c.spread.get().expect("a fixed shard count is made at once");
        let only = spread.shard(0);
        assert!(try_lock(&only[LOCK]));
        std::thread::scope(|s| {
            let observer = s.spawn(|| c.observe(0, 1.0));
            only[LOCK].store(0, Ordering::Release);
            observer.join().unwrap();
        });
        assert_eq!(spread.mask, 0, "one shard, shared by every observer");
        assert!(c.first.is_empty(), "a fixed-shard histogram has no first shard");
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 1.0);
        assert_eq!(out, [1, 1]);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::Arc;

    /// An observer racing a scrape: the scrape sees the observation whole or not at all
    /// (count and sum agree), and the final state is exact.
    #[test]
    fn loom_scrape_never_sees_a_torn_observation() {
        // Spin locks make an unbounded model infinite; two preemptions cover the interleavings
        // of one critical section against another.
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let cells = Arc::new(Cells::new(1, Some(1)));
            let a = Arc::clone(&cells);
            let t = loom::thread::spawn(move || a.observe(1, 2.0));
            let mut out = Vec::new();
            let sum = cells.read(&mut out);
            match out[1] {
                0 => assert_eq!(sum, 0.0),
                1 => assert_eq!(sum, 2.0),
                n => panic!("impossible count {n}"),
            }
            assert_eq!(out[0], 0);
            t.join().unwrap();
            cells.observe(0, 1.0);
            assert_eq!(cells.read(&mut out), 3.0);
            assert_eq!(out, [1, 2]);
        });
    }

    /// Two observers racing each other and a scrape on a histogram that spreads on its first
    /// collision: the spread shards are published before anyone uses them, the scrape sees
    /// each observation whole or not at all, and the final state is exact wherever the
    /// observations landed.
    #[test]
    fn loom_spreading_out_loses_and_tears_nothing() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let cells = Arc::new(Cells::new(1, None));
            let observers: Vec<_> = [(0, 1.0), (1, 2.0)]
                .into_iter()
                .map(|(bucket, v)| {
                    let c = Arc::clone(&cells);
                    loom::thread::spawn(move || c.observe(bucket, v))
                })
                .collect();
            let mut out = Vec::new();
            let sum = cells.read(&mut out);
            let expected = match (out[0], out[1] - out[0]) {
                (0, 0) => 0.0,
                (1, 0) => 1.0,
                (0, 1) => 2.0,
                (1, 1) => 3.0,
                counts => panic!("impossible counts {counts:?}"),
            };
            assert_eq!(sum, expected, "the sum does not match the counted observations");
            observers.into_iter().for_each(|t| t.join().unwrap());
            assert_eq!(cells.read(&mut out), 3.0);
            assert_eq!(out, [1, 2]);
        });
    }
}
