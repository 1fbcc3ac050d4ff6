//! The sliding window of a summary (Go's `MaxAge` and `AgeBuckets`): a ring of streams that
//! all receive every observation and are reset in turn, one per period of
//! `max_age / age_buckets`.
//!
//! The head is the stream reset longest ago; quantiles are read from it alone. When a period
//! ends the head is reset and its successor becomes the head, so an observation counts for
//! between `(age_buckets − 1)` and `age_buckets` periods after the one it arrived in: 8 to 10
//! minutes with Go's defaults. Periods are numbered from 1 (the one the summary was created
//! in) on a fixed grid, as Go's `headStreamExpTime` advances by whole periods.

use std::time::{Duration, Instant};

use super::Quantiles;
use super::ckms::{BUFFER, Stream, Targets, exact, sort};

/// Where a summary reads the time: [`Instant::now`], or a clock a test moves by hand.
#[derive(Clone, Default)]
pub(crate) struct Clock(Option<std::sync::Arc<dyn Fn() -> Instant + Send + Sync>>);

impl Clock {
    /// A clock that asks `now`.
    #[cfg(test)]
    pub(crate) fn from_fn(now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        Self(Some(std::sync::Arc::new(now)))
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match &self.0 {
            None => Instant::now(),
            Some(now) => now(),
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Clock(manual)" } else { "Clock(Instant::now)" })
    }
}

/// The period grid: period `k ≥ 1` is `(start + (k − 1)·length, start + k·length]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Periods {
    start: Instant,
    length: Duration,
}

impl Periods {
    pub(super) fn new(start: Instant, length: Duration) -> Self {
        Self { start, length: length.max(Duration::from_nanos(1)) }
    }

    /// The period `now` falls in (the first, for instants before the start).
    pub(super) fn of(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.start).as_nanos();
        let k = elapsed.div_ceil(self.length.as_nanos()).max(1);
        u64::try_from(k).unwrap_or(u64::MAX)
    }

    /// When `period` ends (the start itself if that is past what an `Instant` can hold, which
    /// only makes every observation look late and flush).
    pub(super) fn end(&self, period: u64) -> Instant {
        let nanos = self.length.as_nanos().saturating_mul(u128::from(period));
        let offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.start.checked_add(offset).unwrap_or(self.start)
    }
}

/// Observations from one shard's buffer, waiting in `Window::staging` for their period.
#[derive(Debug, Clone, Copy)]
struct Segment {
    period: u64,
    start: usize,
    end: usize,
}

/// The ring of streams, the buffer they share, and the staging area a flush collects the
/// shards' buffers in.
#[derive(Debug)]
pub(super) struct Window {
    targets: Targets,
    streams: Box<[Stream]>,
    head: usize,
    /// The period the head stream is current for.
    head_period: u64,
    /// Observations every stream is yet to merge (sorted when `sorted`).
    buffer: Vec<f64>,
    sorted: bool,
    staging: Vec<f64>,
    segments: Vec<Segment>,
}

impl Window {
    pub(super) fn new(quantiles: &Quantiles, age_buckets: u32) -> Self {
        Self {
            targets: Targets::new(quantiles.objectives()),
            streams: (0..age_buckets.max(1)).map(|_| Stream::default()).collect(),
            head: 0,
            head_period: 1,
            buffer: Vec::new(),
            sorted: true,
            staging: Vec::new(),
            segments: Vec::new(),
        }
    }

    /// Queues `values`, all observed in `period`, for [`absorb`](Self::absorb).
    pub(super) fn stage(&mut self, period: u64, values: &[f64]) {
        let start = self.staging.len();
        self.staging.extend_from_slice(values);
        self.segments.push(Segment { period, start, end: self.staging.len() });
    }

    /// Inserts the staged observations, oldest period first, rotating the ring up to each
    /// one's period before inserting it, then up to `now_period`. Observations staged for a
    /// period the ring has passed (an observer that read the clock just before a flush)
    /// count as the head period's.
    pub(super) fn absorb(&mut self, now_period: u64) {
        self.segments.sort_unstable_by_key(|s| s.period);
        for i in 0..self.segments.len() {
            let s = self.segments[i];
            self.rotate_to(s.period);
            let mut at = s.start;
            while at < s.end {
                at = self.insert(at, s.end);
            }
        }
        self.staging.clear();
        self.segments.clear();
        self.rotate_to(now_period);
    }

    /// Adds the staged observations from `start` on, up to `end` or as many as the shared
    /// buffer takes, to every stream; where it stopped.
    fn insert(&mut self, start: usize, end: usize) -> usize {
        let stop = end.min(start + BUFFER.saturating_sub(self.buffer.len()));
        // The buffer grows as it fills, doubling up to `BUFFER` and never past it: a summary
        // that sees a few observations between scrapes keeps a buffer of about that many, and
        // only a busy one takes the whole `BUFFER`.
        let need = self.buffer.len() + (stop - start);
        if need > self.buffer.capacity() {
            // `need` is at most `BUFFER`, by `stop`.
            let target = (2 * self.buffer.capacity()).clamp(need, BUFFER);
            self.buffer.reserve_exact(target - self.buffer.len());
        }
        self.buffer.extend_from_slice(&self.staging[start..stop]);
        self.sorted = false;
        if self.buffer.len() >= BUFFER {
            self.merge_buffer(0);
        }
        stop
    }

    /// Sorts the buffer once and merges it into every stream but the `skip` oldest (which are
    /// about to be reset).
    fn merge_buffer(&mut self, skip: usize) {
        if self.buffer.is_empty() {
            return;
        }
        if !self.sorted {
            sort(&mut self.buffer);
        }
        let len = self.streams.len();
        for i in skip..len {
            self.streams[(self.head + i) % len].merge(&self.buffer, &self.targets);
        }
        self.buffer.clear();
        self.sorted = true;
    }

    /// Resets the head and moves on, once per period ended, as Go's `maybeRotateStreams`.
    fn rotate_to(&mut self, period: u64) {
        let behind = period.saturating_sub(self.head_period);
        if behind == 0 {
            return;
        }
        let len = self.streams.len();
        // The buffered observations belong to the streams that outlive this rotation.
        self.merge_buffer(usize::try_from(behind).unwrap_or(usize::MAX).min(len));
        if behind >= len as u64 {
            // A whole window (or more) went by: every stream would be reset in turn.
            self.streams.iter_mut().for_each(Stream::reset);
            let steps = (behind % len as u64) as usize;
            self.head = (self.head + steps) % len;
        } else {
            for _ in 0..behind {
                self.streams[self.head].reset();
                self.head = (self.head + 1) % len;
            }
        }
        self.head_period = period;
    }

    /// One value per objective from the head stream; NaN when it holds nothing.
    pub(super) fn query(&mut self, quantiles: &Quantiles, out: &mut Vec<f64>) {
        if self.streams[self.head].count() == 0 {
            // Everything the head has is still in the buffer: answer exactly from it.
            if !self.sorted {
                sort(&mut self.buffer);
                self.sorted = true;
            }
            for &(q, _) in quantiles.objectives() {
                out.push(exact(&self.buffer, q));
            }
            return;
        }
        self.merge_buffer(0);
        let head = &self.streams[self.head];
        out.extend(quantiles.objectives().iter().map(|&(q, e)| head.query(q, e)));
    }

    /// Forgets every observation; the ring keeps its position in time.
    pub(super) fn reset(&mut self) {
        self.streams.iter_mut().for_each(Stream::reset);
        self.buffer.clear();
        self.sorted = true;
        self.staging.clear();
        self.segments.clear();
    }

    /// Observations the head stream holds, buffered ones included.
    #[cfg(all(test, not(loom)))]
    fn head_count(&self) -> u64 {
        self.streams[self.head].count() + self.buffer.len() as u64
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn periods_end_on_a_fixed_grid_and_include_their_end() {
        let start = Instant::now();
        let p = Periods::new(start, Duration::from_secs(120));
        assert_eq!(p.of(start), 1);
        assert_eq!(p.of(start + Duration::from_secs(120)), 1);
        assert_eq!(p.of(start + Duration::from_nanos(120_000_000_001)), 2);
        assert_eq!(p.of(start + Duration::from_secs(600)), 5);
        assert_eq!(p.end(1), start + Duration::from_secs(120));
        assert_eq!(p.end(3), start + Duration::from_secs(360));
        assert_eq!(Periods::new(start, Duration::ZERO).of(start + Duration::from_nanos(5)), 5);
    }

    #[test]
    fn the_buffer_grows_with_what_arrives_between_merges_up_to_its_size() {
        let q = Quantiles::new([(0.5, 0.05)]).unwrap();
        let mut w = Window::new(&q, 5);
        let mut out = Vec::new();
        // A quiet summary: a few observations per period (each period's end merges them, and
        // so does every scrape once the head holds some).
        for period in 1..=100 {
            w.stage(period, &[f64::from(u32::try_from(period).unwrap()); 10]);
            w.absorb(period);
            w.query(&q, &mut out);
        }
        assert!(w.buffer.capacity() < 64, "a quiet summary holds {} slots", w.buffer.capacity());
        // A busy one: the buffer fills and merges at `BUFFER`, and never grows past it.
        let batch: Vec<f64> = (0..250).map(f64::from).collect();
        for _ in 0..100 {
            w.stage(100, &batch);
            w.absorb(100);
            assert!(w.buffer.len() < BUFFER);
        }
        assert_eq!(w.buffer.capacity(), BUFFER);
        // The head holds periods 96 to 100: five quiet rounds, and the busy ones (period 100).
        assert_eq!(w.head_count(), 5 * 10 + 100 * 250);
    }

    #[test]
    fn rotation_resets_the_head_and_long_gaps_reset_everything() {
        let q = Quantiles::new([(1.0, 0.0)]).unwrap();
        let mut w = Window::new(&q, 3);
        let max = |w: &mut Window| {
            let mut out = Vec::new();
            w.query(&q, &mut out);
            out[0]
        };
        w.stage(1, &[10.0]);
        w.absorb(1);
        w.stage(2, &[5.0]);
        w.absorb(2);
        // Stream 0 (reset for period 2) lacks 10; streams 1 and 2 hold both.
        assert_eq!((w.head, max(&mut w)), (1, 10.0));
        w.absorb(3);
        assert_eq!((w.head, max(&mut w)), (2, 10.0));
        w.absorb(4);
        assert_eq!((w.head, max(&mut w)), (0, 5.0));
        w.absorb(5);
        assert_eq!(w.head, 1);
        assert!(max(&mut w).is_nan());
        w.stage(5, &[1.0]);
        w.absorb(5);
        w.absorb(5 + 3 * 7 + 2);
        assert_eq!((w.head, w.head_period), (0, 28));
        assert!(w.streams.iter().all(|s| s.count() == 0));
        assert_eq!(w.head_count(), 0);
    }

    #[test]
    fn staged_values_land_before_the_rotations_after_their_period() {
        let q = Quantiles::new([(0.0, 0.0)]).unwrap();
        let mut w = Window::new(&q, 2);
        // Staged out of order, as shards drain in index order.
        w.stage(2, &[2.0]);
        w.stage(1, &[1.0]);
        w.absorb(2);
        assert_eq!(w.head_count(), 2);
        // Late values (period 1, ring at 2) join the head period.
        w.stage(1, &[0.5]);
        w.absorb(2);
        assert_eq!(w.head_count(), 3);
        // Stream 0 was reset for period 2 after 1.0 went in, before 2.0 and 0.5.
        w.absorb(3);
        assert_eq!(w.head_count(), 2);
        let mut out = Vec::new();
        w.query(&q, &mut out);
        assert_eq!(out, [0.5]);
    }
}
