//! The histogram's storage: per-thread shards, each a small spin-locked group of cells.
//!
//! An observation takes its shard's lock (one compare-and-swap), bumps one bucket and the sum
//! with plain loads and stores, and releases the lock with a plain store: one atomic
//! read-modify-write in all. A scrape takes each shard's lock in turn, so it reads every shard
//! as a whole: the `+Inf` bucket always equals the count, buckets never decrease and the sum
//! matches the counted observations (what Go's hot/cold swap guarantees, at a quarter of its
//! atomic operations). Threads are spread over the shards, so two threads observing the same
//! histogram usually touch different cache lines.

use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

/// Words per cache line.
const LINE: usize = 8;
/// Word 0 of a shard is its lock, word 1 the sum's bits, then one count per bucket and `+Inf`.
const LOCK: usize = 0;
const SUM: usize = 1;
const FIRST_BUCKET: usize = 2;

#[derive(Debug)]
pub(crate) struct Cells {
    words: Box<[AtomicU64]>,
    /// Index of shard 0's lock word: the first word on a cache-line boundary.
    base: usize,
    /// Words per shard, a whole number of cache lines.
    stride: usize,
    /// Shards minus one (the shard count is a power of two).
    mask: usize,
    /// Buckets including `+Inf`.
    buckets: usize,
}

impl Cells {
    pub(crate) fn new(finite_buckets: usize, shards: usize) -> Self {
        let shards = shards.max(1).next_power_of_two();
        let buckets = finite_buckets + 1;
        let stride = (FIRST_BUCKET + buckets).div_ceil(LINE) * LINE;
        let words: Box<[AtomicU64]> = (0..shards * stride + LINE - 1).map(|_| AtomicU64::new(0)).collect();
        // The allocation is 8-aligned; skip to the first 64-byte boundary so shards never
        // share a cache line (no false sharing between threads on different shards).
        let addr = words.as_ptr() as usize;
        let base = ((64 - addr % 64) % 64) / 8;
        Self { words, base, stride, mask: shards - 1, buckets }
    }

    #[inline]
    fn shard(&self, i: usize) -> &[AtomicU64] {
        let start = self.base + i * self.stride;
        &self.words[start..start + FIRST_BUCKET + self.buckets]
    }

    #[inline]
    pub(crate) fn observe(&self, bucket: usize, v: f64) {
        let shard = self.shard(crate::sync::thread_index() & self.mask);
        lock(&shard[LOCK]);
        // Relaxed loads and stores inside the critical section: the lock's Acquire/Release
        // order them against every other holder, observers and scrapes alike.
        let b = &shard[FIRST_BUCKET + bucket];
        b.store(b.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let s = &shard[SUM];
        s.store((f64::from_bits(s.load(Ordering::Relaxed)) + v).to_bits(), Ordering::Relaxed);
        shard[LOCK].store(0, Ordering::Release);
    }

    /// Reads all shards into `cumulative` (one entry per bucket and `+Inf`) and returns the sum.
    pub(crate) fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        cumulative.clear();
        cumulative.resize(self.buckets, 0);
        let mut sum = 0.0;
        for i in 0..=self.mask {
            let shard = self.shard(i);
            lock(&shard[LOCK]);
            for (c, w) in cumulative.iter_mut().zip(&shard[FIRST_BUCKET..]) {
                *c += w.load(Ordering::Relaxed);
            }
            sum += f64::from_bits(shard[SUM].load(Ordering::Relaxed));
            shard[LOCK].store(0, Ordering::Release);
        }
        let mut running = 0;
        for c in cumulative.iter_mut() {
            running += *c;
            *c = running;
        }
        sum
    }

    /// Zeroes every shard (for families that reset a series in place).
    pub(crate) fn reset(&self) {
        for i in 0..=self.mask {
            let shard = self.shard(i);
            lock(&shard[LOCK]);
            for w in &shard[SUM..] {
                w.store(0, Ordering::Relaxed);
            }
            shard[LOCK].store(0, Ordering::Release);
        }
    }
}

/// Takes a shard lock. Acquire on success pairs with the Release that freed it, so this holder
/// sees every store of the previous one.
#[inline]
fn lock(word: &AtomicU64) {
    // A strong CAS: on x86 it is the same instruction, and it keeps loom's model finite.
    if word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
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

/// The number of shards a histogram gets by default: one per CPU, at most 8, so threads on
/// different CPUs usually observe into different cache lines.
pub(crate) fn default_shards() -> usize {
    static SHARDS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SHARDS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn shards_are_cache_line_aligned_and_read_adds_them_up() {
        let c = Cells::new(3, 4);
        for i in 0..4 {
            assert_eq!(c.shard(i).as_ptr() as usize % 64, 0);
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
            let cells = Arc::new(Cells::new(1, 1));
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
}
