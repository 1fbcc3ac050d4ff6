//! `Spread`: a total kept in one cache-line-padded cell per CPU slot, for a counter that
//! threads update at the same time.
//!
//! Two threads adding to one atomic word take turns owning its cache line, and each add then
//! costs a transfer of that line between cores. A counter starts with one word (small, and
//! the fastest while one thread at a time updates it); the first time an update finds that
//! word changed under it, the counter spreads: it gets these cells, and from then on each
//! thread adds to its own slot's cell, so two threads usually touch different lines. The
//! total is the counter's first word plus every cell (what Java's `LongAdder` does).

use std::sync::atomic::Ordering;

use crossbeam_utils::CachePadded;

use crate::sync::AtomicU64;

/// Padded cells, one per CPU slot.
#[derive(Debug)]
pub(super) struct Spread {
    /// A power of two of cells, each on a cache line of its own.
    cells: Box<[CachePadded<AtomicU64>]>,
}

impl Spread {
    /// One cell per CPU slot ([`cpu_slots`](crate::sync::cpu_slots), rounded up to a power of two).
    pub(super) fn new() -> Self {
        let n = crate::sync::cpu_slots().next_power_of_two();
        Self { cells: (0..n).map(|_| CachePadded::new(AtomicU64::new(0))).collect() }
    }

    /// Adds `n` to the calling thread's cell.
    #[inline]
    pub(super) fn add(&self, n: u64) {
        // Relaxed: a counter orders nothing else, and the add itself is atomic, so threads
        // sharing a slot lose nothing.
        self.own().fetch_add(n, Ordering::Relaxed);
    }

    /// The calling thread's cell.
    #[inline]
    fn own(&self) -> &AtomicU64 {
        // The length is a power of two, so the mask keeps the index in bounds (and the bounds
        // check folds away).
        &self.cells[crate::sync::thread_index() & (self.cells.len() - 1)]
    }

    /// The sum of every cell (wrapping, as the counter's own word does). Each cell only grows,
    /// so a read taken while threads add lies between the totals before and after it.
    pub(super) fn sum(&self) -> u64 {
        self.cells.iter().fold(0u64, |t, c| t.wrapping_add(c.load(Ordering::Relaxed)))
    }

    /// Adds `v` to the calling thread's cell, whose bits hold an `f64`: a float counter's
    /// cells. (The integer zero that [`new`](Self::new) and [`reset`](Self::reset) write has
    /// the bits of `0.0`.)
    #[inline]
    pub(super) fn add_f64(&self, v: f64) {
        // Relaxed compare-and-swap loop: the only invariant is the cell's value, and a thread
        // sharing the slot makes the loop retry instead of losing an add.
        let _ = self
            .own()
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some((f64::from_bits(b) + v).to_bits()));
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
    use super::Spread;

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
