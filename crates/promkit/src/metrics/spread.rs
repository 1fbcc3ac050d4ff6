//! `Spread`: a total kept in one cache-line-padded cell per CPU slot, for a counter that
//! threads update at the same time.
//!
//! Two threads adding to one atomic word take turns owning its cache line, and each add then
//! costs a transfer of that line between cores. A counter starts with one word (small, and
//! the fastest while one thread at a time updates it); the first time an update finds that
//! word changed under it, the counter spreads: it gets these cells, and from then on each
//! thread adds to its own slot's cell, so two threads usually touch different lines. The
//! total is the counter's first word plus every cell (what Java's `LongAdder` does).
//!
//! A thread's slot starts at its [`thread_index`](crate::sync::thread_index), so two busy
//! threads may share a cell (half the time with two cells). An add to a cell probes it now
//! and then as the counter's first word is probed, and a thread that finds its cell shared
//! moves on to the next one ([`move_spread_slot`](crate::sync::move_spread_slot)), as
//! `LongAdder` rehashes a thread whose update collided.

use std::sync::atomic::Ordering;

use crossbeam_utils::CachePadded;

use crate::sync::AtomicU64;

/// How much a counter counts between two of its contention probes.
pub(super) const PROBE_SPAN: u64 = 1 << 16;

/// How many times a probe pauses and reads the value again.
const PROBE_PAUSES: usize = 4;

/// Whether the update that added `n` to `old` probes its word for contention: when the add
/// carried into a bit at or above [`PROBE_SPAN`]'s, so once per 65,536 of `inc`, once every
/// few updates of kilobytes each, on every update of 64 KiB or more. A probe takes a few
/// hundred nanoseconds at most; at one per 65,536 counted, it costs little next to what the
/// counting stands for.
///
/// Computed from the value the add returns, with no other memory access: on the test host,
/// a thread-local countdown made every update 3.5 ns slower (its store has to drain before
/// the next locked add), and a multiplicative hash of the value 1.6 ns slower.
#[inline]
pub(super) fn probe_due(old: u64, n: u64) -> bool {
    old ^ old.wrapping_add(n) >= PROBE_SPAN
}

/// Whether another thread is adding to `value` right now: the value is read, then read again
/// after each of a few spin-loop pauses, and it changes only if another thread added
/// meanwhile (the caller is inside the probe, not adding).
///
/// The pauses are the point. A compare-and-swap right after the load, as the probe was
/// before, left a window of a few cycles, while the line was still in this core's cache from
/// the add that called the probe; on an Intel host two threads sharing one counter went
/// through millions of adds at 85-130 ns each before a probe saw the other's. A pause lasts
/// tens of cycles, so the window is about one contended add.
#[cold]
#[inline(never)]
pub(super) fn moved_meanwhile(value: &AtomicU64) -> bool {
    // Relaxed: only whether the value moved matters, not what it orders. Coherence makes the
    // reads of one atomic follow its modification order, so a different value means an add
    // landed between two of them.
    let v = value.load(Ordering::Relaxed);
    (0..PROBE_PAUSES).any(|_| {
        std::hint::spin_loop();
        value.load(Ordering::Relaxed) != v
    })
}

/// Padded cells, one per CPU slot.
#[derive(Debug)]
pub(super) struct Spread {
    /// A power of two of cells, each on a cache line of its own.
    cells: Box<[CachePadded<AtomicU64>]>,
}

impl Spread {
    /// One cell per CPU slot ([`cpu_slots`](crate::sync::cpu_slots), rounded up to a power of two).
    pub(super) fn new() -> Self {
        Self::with_cells(crate::sync::cpu_slots().next_power_of_two())
    }

    /// `n` cells (a power of two).
    fn with_cells(n: usize) -> Self {
        debug_assert!(n.is_power_of_two());
        Self { cells: (0..n).map(|_| CachePadded::new(AtomicU64::new(0))).collect() }
    }

    /// Adds `n` to the calling thread's cell; now and then (as [`probe_due`] says) checks
    /// whether another thread adds to it too, and if so moves this thread to the next cell.
    #[inline]
    pub(super) fn add(&self, n: u64) {
        let cell = self.own();
        // Relaxed: a counter orders nothing else, and the add itself is atomic, so threads
        // sharing a slot lose nothing.
        let old = cell.fetch_add(n, Ordering::Relaxed);
        if probe_due(old, n) && moved_meanwhile(cell) {
            crate::sync::move_spread_slot();
        }
    }

    /// The calling thread's cell.
    #[inline]
    fn own(&self) -> &AtomicU64 {
        // The length is a power of two, so the mask keeps the index in bounds (and the bounds
        // check folds away).
        &self.cells[crate::sync::spread_slot() & (self.cells.len() - 1)]
    }

    /// The sum of every cell (wrapping, as the counter's own word does). Each cell only grows,
    /// so a read taken while threads add lies between the totals before and after it.
    pub(super) fn sum(&self) -> u64 {
        self.cells.iter().fold(0u64, |t, c| t.wrapping_add(c.load(Ordering::Relaxed)))
    }

    /// Adds `v` to the calling thread's cell, whose bits hold an `f64`: a float counter's
    /// cells. (The integer zero that [`new`](Self::new) and [`reset`](Self::reset) write has
    /// the bits of `0.0`.)
    ///
    /// A compare-and-swap that fails saw another thread's add to the same cell: the loop
    /// retries, and this thread moves on to the next cell for its later adds.
    #[inline]
    pub(super) fn add_f64(&self, v: f64) {
        let cell = self.own();
        // Relaxed compare-and-swap loop: the only invariant is the cell's value, and a thread
        // sharing the slot makes the loop retry instead of losing an add.
        let mut bits = cell.load(Ordering::Relaxed);
        let mut shared = false;
        while let Err(now) = cell.compare_exchange(
            bits,
            (f64::from_bits(bits) + v).to_bits(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            bits = now;
            shared = true;
        }
        if shared {
            crate::sync::move_spread_slot();
        }
    }

    /// The sum of every cell read as an `f64`.
    pub(super) fn sum_f64(&self) -> f64 {
        self.cells.iter().map(|c| f64::from_bits(c.load(Ordering::Relaxed))).sum()
    }

    /// Sets every cell to zero.
    pub(super) fn reset(&self) {
        for c in self.cells.iter() {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use super::{PROBE_SPAN, Spread, probe_due};

    #[test]
    fn a_word_is_probed_once_per_span_counted_whatever_the_step() {
        let span = PROBE_SPAN;
        for (step, updates, probes) in
            [(1, 3 * span, 3), (1500, 3 * span / 1500 + 1, 3), (span, 5, 5), (3 * span, 4, 4)]
        {
            let due = (0..updates).filter(|i| probe_due(i * step, step)).count();
            assert_eq!(due as u64, probes, "steps of {step} over {updates} updates");
        }
        assert!(probe_due(u64::MAX, 1), "wrapping around carries through every bit");
        assert!(!probe_due(span, span - 1), "an add that stays inside one span does not probe");
    }

    /// Two threads that start on one cell (their slots set to the same index) part: the probe
    /// of the cell sees the other's adds and moves the prober on. Each thread stops once the
    /// two slots differ, or after 256 probes' worth of adds; no add is lost meanwhile.
    #[test]
    fn two_threads_on_one_cell_move_apart() {
        const LIMIT: u64 = 256 * PROBE_SPAN;
        // Two cells whatever the machine: one CPU slot would leave nowhere to move.
        let s = Spread::with_cells(2);
        let mask = s.cells.len() - 1;
        // Each thread's slot, published before the barrier and after each add.
        let slots: Vec<std::sync::atomic::AtomicUsize> =
            (0..2).map(|_| std::sync::atomic::AtomicUsize::new(0)).collect();
        let parted = || slots[0].load(Relaxed) & mask != slots[1].load(Relaxed) & mask;
        let start = std::sync::Barrier::new(2);
        let adds: Vec<u64> = std::thread::scope(|t| {
            let threads: Vec<_> = (0..2)
                .map(|i| {
                    let (s, slots, start, parted) = (&s, &slots, &start, &parted);
                    t.spawn(move || {
                        // Both on cell 0: this thread's slot moves to a multiple of the cell count.
                        while crate::sync::spread_slot() & mask != 0 {
                            crate::sync::move_spread_slot();
                        }
                        slots[i].store(crate::sync::spread_slot(), Relaxed);
                        start.wait();
                        let mut n = 0;
                        while n < LIMIT && !parted() {
                            s.add(1);
                            n += 1;
                            slots[i].store(crate::sync::spread_slot(), Relaxed);
                        }
                        n
                    })
                })
                .collect();
            threads.into_iter().map(|h| h.join().expect("adder")).collect()
        });
        println!("parted after {adds:?} adds");
        assert!(parted(), "the threads still share a cell after {adds:?} adds");
        assert_eq!(s.sum(), adds.iter().sum::<u64>(), "no add was lost");
    }

    #[test]
    fn cells_are_a_power_of_two_on_their_own_lines_and_sum_up() {
        let s = Spread::new();
        assert!(s.cells.len().is_power_of_two());
        for (i, c) in s.cells.iter().enumerate() {
            assert_eq!(std::ptr::from_ref(c).addr() % 64, 0, "cell {i} is not cache-line aligned");
        }
        s.add(3);
        s.add(u64::MAX);
        assert_eq!(s.sum(), 2, "the sum wraps as the counter's word does");
        std::thread::scope(|t| {
            for _ in 0..4 {
                t.spawn(|| (0..1000).for_each(|_| s.add(1)));
            }
        });
        assert_eq!(s.sum(), 4002);
        s.reset();
        assert_eq!(s.sum(), 0);
    }
}
