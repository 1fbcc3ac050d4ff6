//! Where observations go first: per-thread shards, each a small mutex over a buffer and the
//! shard's count and sum, drained into the window's streams under the window lock.
//!
//! Go's summary takes one mutex per observation; here threads are spread over shards (as a
//! histogram's), so concurrent observers rarely share a lock or a cache line. An observation
//! locks its shard, appends to the buffer and adds to the count and sum. A buffer holds
//! observations of one period only, at most `cap` of them (the summary's `buf_cap` split over
//! the shards): when it fills, or the shard finds its period ended, the observer flushes.
//!
//! # When the clock is read
//!
//! A clock read costs as much as the rest of an observation (tens of nanoseconds on a
//! virtual machine), so a shard reads it on the first observation after each drain and then
//! once every [`CHECK_EVERY`] observations, not on every one. An observation is dated by the
//! shard's latest reading, so it may be dated early, never late: by no more than the time
//! since the later of its shard's last drain (every scrape drains every shard, as does every
//! flush) and its shard's `CHECK_EVERY`-th previous observation. With scrapes every 15 s and
//! Go's 2-minute periods it leaves the quantiles at most one scrape interval early; a
//! `CHECK_EVERY` observations burst in one instant is dated exactly. A flush takes the window lock, empties every shard into the
//! window (each under its own lock, briefly) and lets the window insert them period by period.
//! So at most `buf_cap` observations (rounded up to a multiple of the shard count) wait in the
//! shards; a shard's buffer is allocated once, on its first observation. Without objectives a
//! shard holds only its count and sum, and an observation reads no clock.
//!
//! What a scrape sees: it drains every shard under the window lock and reads each shard's
//! count and sum in the same critical section as its buffer, so the count and sum it reports
//! cover exactly the observations that have reached the streams before the quantiles are read,
//! no more and no fewer. Shards are drained one after another, so the scrape is a cut through
//! each shard, not one instant across all of them: an observation on an already-drained shard
//! shows up in the next scrape, in all three. Count and sum cover every observation ever made
//! (not only the window), as in Go.
//!
//! Lock order: the window before any shard; an observer never holds its shard while it waits
//! for the window.

use std::time::Instant;

use crossbeam_utils::CachePadded;

use crate::sync::{Mutex, lock};

use super::Quantiles;
use super::window::{Clock, Periods, Window};

/// Observations a shard takes between clock readings (see the module docs).
pub(super) const CHECK_EVERY: u32 = 64;

/// One shard: buffered observations of one period, and the shard's running count and sum.
#[derive(Debug)]
struct Shard {
    values: Vec<f64>,
    /// The period of the buffered values, and when it ends.
    period: u64,
    period_end: Instant,
    /// Observations left before the shard reads the clock again; 0 reads it on the next one.
    until_check: u32,
    count: u64,
    sum: f64,
}

/// The state behind a summary: shards, and the window when there are objectives.
#[derive(Debug)]
pub(super) struct Recorder {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Shards minus one (the shard count is a power of two).
    mask: usize,
    /// Observations a shard buffers before it flushes.
    cap: usize,
    /// The streams; `None` for a count-and-sum-only summary, whose shards buffer nothing.
    window: Option<Mutex<Window>>,
    periods: Periods,
    clock: Clock,
}

impl Recorder {
    /// `buf_cap` observations are buffered across `shards` shards (rounded up to a power of
    /// two); the window has `age_buckets` streams of periods `periods`.
    pub(super) fn new(
        quantiles: &Quantiles,
        age_buckets: u32,
        buf_cap: usize,
        shards: usize,
        periods: Periods,
        clock: Clock,
    ) -> Self {
        let shards = shards.max(1).next_power_of_two();
        let first_end = periods.end(1);
        Self {
            shards: (0..shards)
                .map(|_| {
                    CachePadded::new(Mutex::new(Shard {
                        values: Vec::new(),
                        period: 1,
                        period_end: first_end,
                        until_check: 0,
                        count: 0,
                        sum: 0.0,
                    }))
                })
                .collect(),
            mask: shards - 1,
            cap: buf_cap.div_ceil(shards).max(1),
            window: (!quantiles.is_empty()).then(|| Mutex::new(Window::new(quantiles, age_buckets))),
            periods,
            clock,
        }
    }

    /// Records `v` on the calling thread's shard.
    #[inline]
    pub(super) fn observe(&self, v: f64) {
        self.observe_on(crate::sync::thread_index() & self.mask, v);
    }

    fn observe_on(&self, shard: usize, v: f64) {
        let shard = &self.shards[shard];
        if self.window.is_none() {
            let mut s = lock(shard);
            s.count += 1;
            s.sum += v;
            return;
        }
        let mut s = lock(shard);
        while s.until_check == 0 || s.values.len() >= self.cap {
            // The clock is read under the shard's own lock: only this shard's observers wait,
            // once per `CHECK_EVERY` of them.
            let now = self.clock.now();
            if s.values.len() >= self.cap || (now > s.period_end && !s.values.is_empty()) {
                // Full (another observer filled it and is about to flush), or holding a period
                // that has ended (Go flushes then too): the buffered values go to the streams
                // first. The drain zeroes `until_check`, so the clock is read again.
                drop(s);
                self.flush(now);
                s = lock(shard);
                continue;
            }
            if now > s.period_end {
                s.period = self.periods.of(now);
                s.period_end = self.periods.end(s.period);
            }
            s.until_check = CHECK_EVERY;
        }
        s.until_check -= 1;
        if s.values.capacity() == 0 {
            // Once per shard: its buffer is allocated on first use.
            s.values.reserve_exact(self.cap);
        }
        s.values.push(v);
        s.count += 1;
        s.sum += v;
        let full = s.values.len() >= self.cap;
        drop(s);
        if full {
            self.flush(self.clock.now());
        }
    }

    /// Empties every shard into the streams.
    fn flush(&self, now: Instant) {
        if let Some(window) = &self.window {
            let mut w = lock(window);
            self.drain(&mut w, |_| {});
            w.absorb(self.periods.of(now));
        }
    }

    /// Moves every shard's buffer into `w`, calling `each` with every shard under its lock.
    fn drain(&self, w: &mut Window, mut each: impl FnMut(&Shard)) {
        for shard in self.shards.iter() {
            let mut s = lock(shard);
            if !s.values.is_empty() {
                w.stage(s.period, &s.values);
                s.values.clear();
            }
            // The next observation dates itself afresh (see the module docs).
            s.until_check = 0;
            each(&s);
        }
    }

    /// The scrape: fills `values` with one estimate per objective and returns the count and
    /// sum of the same observations (see the module docs).
    pub(super) fn read(&self, quantiles: &Quantiles, values: &mut Vec<f64>) -> (u64, f64) {
        values.clear();
        let mut count = 0;
        let mut sum = 0.0;
        let mut add = |s: &Shard| {
            count += s.count;
            sum += s.sum;
        };
        match &self.window {
            None => self.shards.iter().for_each(|shard| add(&lock(shard))),
            Some(window) => {
                let mut w = lock(window);
                // Read under the window lock, so the ring only ever moves forward.
                let now = self.clock.now();
                self.drain(&mut w, add);
                w.absorb(self.periods.of(now));
                w.query(quantiles, values);
            }
        }
        (count, sum)
    }

    /// The count and sum of every observation so far, without touching the streams.
    pub(super) fn count_sum(&self) -> (u64, f64) {
        self.shards.iter().fold((0, 0.0), |(count, sum), shard| {
            let s = lock(shard);
            (count + s.count, sum + s.sum)
        })
    }

    /// Forgets everything (a dense family reusing the series).
    pub(super) fn reset(&self) {
        let mut w = self.window.as_ref().map(lock);
        for shard in self.shards.iter() {
            let mut s = lock(shard);
            s.values.clear();
            s.count = 0;
            s.sum = 0.0;
        }
        if let Some(w) = &mut w {
            w.reset();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use super::*;

    fn recorder(shards: usize, cap: usize, now: std::sync::Arc<AtomicU64>) -> Recorder {
        let start = Instant::now();
        let q = Quantiles::new([(0.0, 0.0), (1.0, 0.0)]).unwrap();
        let clock = Clock::from_fn(move || start + Duration::from_secs(now.load(Ordering::Relaxed)));
        Recorder::new(&q, 2, cap, shards, Periods::new(start, Duration::from_secs(60)), clock)
    }

    fn scrape(r: &Recorder) -> (u64, f64, Vec<f64>) {
        let q = Quantiles::new([(0.0, 0.0), (1.0, 0.0)]).unwrap();
        let mut v = Vec::new();
        let (c, s) = r.read(&q, &mut v);
        (c, s, v)
    }

    #[test]
    fn full_buffers_flush_and_scrapes_drain_the_rest() {
        let now = std::sync::Arc::new(AtomicU64::new(0));
        let r = recorder(2, 4, now);
        assert_eq!(r.cap, 2);
        for v in [1.0, 2.0, 3.0] {
            r.observe_on(0, v);
        }
        // Two flushed with the second observation; one still buffered.
        assert_eq!(lock(&r.shards[0]).values, [3.0]);
        r.observe_on(1, 10.0);
        assert_eq!(r.count_sum(), (4, 16.0));
        assert_eq!(scrape(&r), (4, 16.0, vec![1.0, 10.0]));
        assert!(r.shards.iter().all(|s| lock(s).values.is_empty()));
    }

    #[test]
    fn buffered_values_keep_their_period_across_shards() {
        let now = std::sync::Arc::new(AtomicU64::new(0));
        let r = recorder(2, 100, now.clone());
        r.observe_on(0, 100.0); // period 1, stays buffered
        now.store(90, Ordering::Relaxed);
        r.observe_on(1, 1.0); // period 2, buffered on another shard
        now.store(121, Ordering::Relaxed);
        // Period 3: the 100 (period 1) was in both streams before stream 0 reset for period 2
        // and stream 1 for period 3; the 1 went in after the first reset only.
        assert_eq!(scrape(&r), (2, 101.0, vec![1.0, 1.0]));
        now.store(181, Ordering::Relaxed);
        assert_eq!(scrape(&r).2.iter().filter(|v| v.is_nan()).count(), 2);
    }

    #[test]
    fn an_ended_period_flushes_before_the_next_observation() {
        let now = std::sync::Arc::new(AtomicU64::new(0));
        let r = recorder(1, 100, now.clone());
        r.observe_on(0, 5.0);
        now.store(61, Ordering::Relaxed);
        // No clock reading until `CHECK_EVERY` observations: dated period 1 with the 5.0.
        r.observe_on(0, 5.0);
        {
            let s = lock(&r.shards[0]);
            assert_eq!((s.values.len(), s.period), (2, 1));
        }
        for _ in 2..CHECK_EVERY {
            r.observe_on(0, 5.0);
        }
        r.observe_on(0, 6.0);
        // The reading found period 2: the 5.0s reached the streams first; 6.0 waits.
        assert_eq!(lock(&r.shards[0]).values, [6.0]);
        assert_eq!(lock(&r.shards[0]).period, 2);
        let n = u64::from(CHECK_EVERY);
        assert_eq!(scrape(&r), (n + 1, 5.0 * n as f64 + 6.0, vec![5.0, 6.0]));
    }

    #[test]
    fn reset_forgets_everything() {
        let now = std::sync::Arc::new(AtomicU64::new(0));
        let r = recorder(1, 2, now);
        for v in [1.0, 2.0, 3.0] {
            r.observe_on(0, v);
        }
        r.reset();
        let (c, s, v) = scrape(&r);
        assert_eq!((c, s), (0, 0.0));
        assert!(v.iter().all(|v| v.is_nan()));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use std::time::Duration;

    use super::*;
    use crate::sync::Arc;

    /// Two observers (one buffer slot, so each flushes) and a scrape: the scrape's count and
    /// sum always describe exactly the observations its quantiles were computed from, and
    /// nothing is lost or counted twice.
    #[test]
    fn loom_scrape_sees_count_sum_and_quantiles_of_the_same_observations() {
        loom::model(|| {
            let start = Instant::now();
            let q = Quantiles::new([(1.0, 0.0)]).unwrap();
            let r = Arc::new(Recorder::new(
                &q,
                2,
                1,
                1,
                Periods::new(start, Duration::from_secs(60)),
                Clock::from_fn(move || start),
            ));
            let a = Arc::clone(&r);
            let t1 = loom::thread::spawn(move || a.observe(1.0));
            let b = Arc::clone(&r);
            let t2 = loom::thread::spawn(move || b.observe(2.0));
            let mut values = Vec::new();
            let (count, sum) = r.read(&q, &mut values);
            let max = values[0];
            match (count, sum) {
                (0, s) => assert!(s == 0.0 && max.is_nan()),
                (1, s) => assert_eq!(max, s),
                (2, s) => assert!(s == 3.0 && max == 2.0),
                other => panic!("impossible {other:?}"),
            }
            t1.join().unwrap();
            t2.join().unwrap();
            assert_eq!(r.read(&q, &mut values), (2, 3.0));
            assert_eq!(values, [2.0]);
        });
    }
}
