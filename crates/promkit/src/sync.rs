//! The synchronisation primitives promkit's lock-free cells use, swapped for loom's models
//! under `--cfg loom` so the interleavings can be checked exhaustively.

mod created_once;
mod once_box;
mod words_arc;
pub(crate) use created_once::CreatedOnce;
pub(crate) use once_box::OnceBox;
pub(crate) use words_arc::{Trailing, WordsArc};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, AtomicUsize, fence};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, AtomicUsize, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Mutex};

/// Loom's `Arc`, so the models see a handle's count like any other atomic.
#[cfg(loom)]
pub(crate) use loom::sync::Arc as SeriesArc;
/// The reference-counted pointer a series handle shares its state through.
///
/// A handle is never downgraded, so `std::sync::Arc`'s weak count would be 8 dead bytes on
/// every series (a tenth of a labelled counter); `triomphe`'s `Arc` is the same pointer with
/// one count. Its orderings are std's: a relaxed increment on clone, a release decrement on
/// drop and an acquire fence before the last owner frees the state.
#[cfg(not(loom))]
pub(crate) use triomphe::Arc as SeriesArc;

/// Locks a mutex, recovering the data if a panicking thread poisoned it: the data promkit keeps
/// under its mutexes (slot lists, sort orders) stays valid whatever a panic interrupted.
#[cfg(not(loom))]
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Loom's mutex, for the same call sites.
#[cfg(loom)]
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> loom::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Seconds since the Unix epoch as a float, for created timestamps.
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// How many shards a spread-out cell gets by default: one per CPU, at most 8, so threads on
/// different CPUs usually update different cache lines. Histograms, summaries and counters
/// all spread to this many.
pub(crate) fn cpu_slots() -> usize {
    static SLOTS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8))
}

/// A small per-thread number, assigned on first use, that spreads threads over shards.
///
/// Numbers are never handed out twice in a process (they would have to count past `2^63`),
/// so a histogram's owner shard, claimed by number, is never written by a later thread that
/// happens to reuse a dead owner's thread id.
///
/// Inline, and a `const` thread-local with a sentinel rather than a lazily initialised one: an
/// observation reads it with one thread-relative load and a predicted compare, where it made a
/// call (and spilled its registers around it) before.
#[cfg(not(loom))]
#[inline]
pub(crate) fn thread_index() -> usize {
    thread_local! {
        static INDEX: std::cell::Cell<usize> = const { std::cell::Cell::new(UNASSIGNED) };
    }
    INDEX.with(|i| match i.get() {
        UNASSIGNED => assign_thread_index(i),
        n => n,
    })
}

/// Loom runs its model threads on one OS thread, so the index lives in loom's own thread-local:
/// each model thread gets its own, as the histogram's owner shard requires.
#[cfg(loom)]
pub(crate) fn thread_index() -> usize {
    loom::thread_local! {
        static INDEX: std::cell::Cell<usize> = std::cell::Cell::new(UNASSIGNED);
    }
    INDEX.with(|i| match i.get() {
        UNASSIGNED => assign_thread_index(i),
        n => n,
    })
}

/// [`thread_index`]'s value before the thread's first call.
const UNASSIGNED: usize = usize::MAX;

#[cfg(not(loom))]
std::thread_local! {
    static SPREAD_SLOT: std::cell::Cell<usize> = const { std::cell::Cell::new(UNASSIGNED) };
}
#[cfg(loom)]
loom::thread_local! {
    static SPREAD_SLOT: std::cell::Cell<usize> = std::cell::Cell::new(UNASSIGNED);
}

/// The cell the calling thread adds to in a spread-out counter (masked to the cell count): its
/// [`thread_index`] until an add finds that cell shared, then the next one and so on (see
/// [`move_spread_slot`]). Kept apart from `thread_index`, which also names the thread that
/// owns a histogram shard and so must never change.
#[inline]
pub(crate) fn spread_slot() -> usize {
    SPREAD_SLOT.with(|s| match s.get() {
        UNASSIGNED => first_spread_slot(s),
        n => n,
    })
}

/// The thread's first [`spread_slot`]: out of line, as [`assign_thread_index`] is, so an add
/// inlines only the load and the compare.
#[cold]
#[inline(never)]
fn first_spread_slot(slot: &std::cell::Cell<usize>) -> usize {
    let i = thread_index();
    slot.set(i);
    i
}

/// Moves the calling thread to the next cell of every spread-out counter: called when an add
/// found its cell shared with another thread. Masked so it never reaches the sentinel.
#[cold]
pub(crate) fn move_spread_slot() {
    let next = spread_slot().wrapping_add(1) & (usize::MAX >> 1);
    SPREAD_SLOT.with(|s| s.set(next));
}

#[cold]
#[inline(never)]
fn assign_thread_index(slot: &std::cell::Cell<usize>) -> usize {
    use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering};
    static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
    // Relaxed: the number only has to differ between threads, not order anything. Masked so
    // it never reaches the sentinel.
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1);
    slot.set(n);
    n
}

/// A race of initialisers, for the tests of [`OnceBox`] and [`CreatedOnce`].
#[cfg(all(test, not(loom)))]
pub(crate) mod race {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A value that counts the live ones, so a leaked loser or a double drop shows.
    pub(crate) struct Tracked(pub(crate) usize, Arc<AtomicUsize>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.1.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Four threads each `publish` into `once` a value from the maker they are handed and
    /// return the number of the value they read: all must read the same one, only the
    /// winner's may stay alive, and dropping `once` must drop it.
    pub(crate) fn four_racers_agree<O: Sync>(
        once: O,
        publish: impl Fn(&O, &dyn Fn() -> Tracked) -> usize + Sync,
    ) {
        let live = Arc::new(AtomicUsize::new(0));
        let seen: Vec<usize> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|i| {
                    let (once, live, publish) = (&once, &live, &publish);
                    s.spawn(move || {
                        publish(once, &|| {
                            live.fetch_add(1, Ordering::Relaxed);
                            Tracked(i, Arc::clone(live))
                        })
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "callers saw different values: {seen:?}");
        assert_eq!(live.load(Ordering::Relaxed), 1, "losers' values are dropped, the winner's kept");
        drop(once);
        assert_eq!(live.load(Ordering::Relaxed), 0, "the winner's value is dropped with its owner");
    }
}
