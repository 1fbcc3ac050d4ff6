//! `SeriesRef`: the series a [`Family`](super::Family) lookup returns, borrowed from the
//! calling thread's lookup cache so that a repeated lookup moves no reference count.
//!
//! One of the two places promkit uses `unsafe` (the other is `sync::OnceBox`): a guard reads
//! a handle through a pointer into its thread's cache, valid because the cache does not modify
//! a slot while any guard is alive.
#![allow(unsafe_code)]

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use crate::sync::AtomicUsize;

use super::Metric;

/// A series of a [`Family`](super::Family), borrowed for as long as the family is.
///
/// It dereferences to the metric handle, so `family.with_label_values(&[..])?.inc()` reads
/// as before; a repeated lookup from the same thread borrows the handle this thread's lookup
/// cache holds, so it takes no lock, allocates nothing and moves no reference count (a clone
/// and its drop are two atomic read-modify-writes on a line every thread updating that series
/// also writes). To keep the series beyond the borrow (in a struct, in another thread) take an
/// owned handle with [`to_owned`](Self::to_owned) or [`into_owned`](Self::into_owned): that clone is the
/// one reference-count increment, paid once.
///
/// It is neither `Send` nor `Sync`: it stands for the calling thread's cache entry.
///
/// ```
/// use promkit::{Counter, Registry};
/// let registry = Registry::new();
/// let requests = Counter::builder("requests_total").labels(["code"]).register(&registry)?;
/// requests.with_label_values(&["200"])?.inc(); // borrowed: no reference count moves on a hit
/// let ok: Counter = requests.with_label_values(&["200"])?.to_owned(); // owned, to keep
/// std::thread::spawn(move || ok.inc()).join().unwrap();
/// assert_eq!(requests.with_label_values(&["200"])?.get(), 2);
/// # Ok::<(), promkit::Error>(())
/// ```
pub struct SeriesRef<'a, M: Metric> {
    inner: Inner<'a, M>,
}

enum Inner<'a, M> {
    /// A handle in this thread's lookup cache, which the cache keeps (and never moves, drops or
    /// overwrites) while `pins` is non-zero; this guard counts one in `pins`.
    Pinned { metric: NonNull<M>, pins: &'a AtomicUsize },
    /// An owned clone: the overflow series, a nested lookup, or a lookup that could not pin.
    Owned(M),
}

impl<'a, M: Metric> SeriesRef<'a, M> {
    /// A guard on a cached handle.
    ///
    /// # Safety
    /// `metric` points to a handle that stays valid, unmoved and unmodified while `pins` is
    /// non-zero, and `pins` was incremented (with the `Relaxed` increment of
    /// [`pin`](Self::pin)) for this guard; dropping the guard decrements it.
    pub(crate) unsafe fn pinned(metric: NonNull<M>, pins: &'a AtomicUsize) -> Self {
        Self { inner: Inner::Pinned { metric, pins } }
    }

    /// A guard owning a clone.
    pub(crate) fn owned(metric: M) -> Self {
        Self { inner: Inner::Owned(metric) }
    }

    /// Counts one more guard in `pins`; false (nothing counted) if it cannot count more.
    /// A load and a store, not a read-modify-write: only the thread that owns the cache entry
    /// writes `pins` (see `Drop` for the one exception, which never overlaps an owner's write).
    pub(crate) fn pin(pins: &AtomicUsize) -> bool {
        let n = pins.load(Ordering::Relaxed);
        // A leaked (`mem::forget`) guard never decrements: refuse before the count could wrap,
        // so a count of zero always means no guard is alive.
        if n >= usize::MAX / 2 {
            return false;
        }
        pins.store(n + 1, Ordering::Relaxed);
        true
    }

    /// An owned handle on the same series (one reference-count increment), to keep or send.
    #[allow(clippy::should_implement_trait)]
    #[must_use]
    pub fn to_owned(&self) -> M {
        M::clone(self)
    }

    /// The owned handle (one reference-count increment), ending the borrow.
    #[must_use]
    pub fn into_owned(self) -> M {
        M::clone(&self)
    }
}

impl<M: Metric> Deref for SeriesRef<'_, M> {
    type Target = M;

    #[inline]
    fn deref(&self) -> &M {
        match &self.inner {
            // SAFETY: `pinned`'s contract: the handle stays valid and unmodified while this
            // guard (one count in `pins`) is alive, and only shared references are made to it.
            Inner::Pinned { metric, .. } => unsafe { metric.as_ref() },
            Inner::Owned(m) => m,
        }
    }
}

impl<M: Metric> Drop for SeriesRef<'_, M> {
    #[inline]
    fn drop(&mut self) {
        if let Inner::Pinned { pins, .. } = &self.inner {
            // Release: this guard's last read of the handle happens-before the modification of
            // the cache entry by whichever thread reads zero here with Acquire. That is this
            // thread, except when the guard is dropped by a thread-local destructor after the
            // thread gave its cache entry back (the `thread_local` crate hands it to the next
            // new thread). That thread takes the entry over only once it reads zero, so until
            // then this thread is the only writer, and afterwards no guard of this thread
            // counts in it (it could not create one: a lookup from a thread that gave its
            // entry back gets a new entry). So a load and a store lose no count.
            pins.store(pins.load(Ordering::Relaxed) - 1, Ordering::Release);
        }
    }
}

impl<M: Metric + fmt::Debug> fmt::Debug for SeriesRef<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SeriesRef").field(&**self).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::metrics::{Builder, Family, Metric};
    use crate::model::{Labels, MetricType, SampleMeta, Sink, Value};

    thread_local! {
        /// Clones of `Probe` made by this thread: each is a reference-count increment.
        static CLONES: Cell<usize> = const { Cell::new(0) };
    }

    /// A counter whose clones are counted, so a test sees every reference-count increment.
    #[derive(Debug)]
    struct Probe(Arc<AtomicU64>);

    impl Clone for Probe {
        fn clone(&self) -> Self {
            CLONES.with(|c| c.set(c.get() + 1));
            Self(Arc::clone(&self.0))
        }
    }

    impl Probe {
        fn inc(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        fn get(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
    }

    impl Metric for Probe {
        type Options = ();
        const KIND: MetricType = MetricType::Counter;
        fn create((): &()) -> Self {
            Self(Arc::new(AtomicU64::new(0)))
        }
        fn write(&self, (): &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
            sink.sample(labels, Value::CounterU64(self.get()), &SampleMeta::default());
        }
        fn reset(&self) {
            self.0.store(0, Ordering::Relaxed);
        }
    }

    fn family(labels: &[&str]) -> Family<Probe> {
        Builder::<Probe>::new("probe_total").labels(labels.iter().copied()).build().expect("valid")
    }

    fn clones() -> usize {
        CLONES.with(Cell::get)
    }

    fn value(f: &Family<Probe>, values: &[&str]) -> u64 {
        f.get_existing(values).expect("arity").map_or(0, |p| p.get())
    }

    #[test]
    fn a_hit_moves_no_reference_count() {
        let f = family(&["k"]);
        f.with_label_values(&["a"]).unwrap().inc(); // miss: fills the cache
        let before = clones();
        for _ in 0..100 {
            f.with_label_values(&["a"]).unwrap().inc();
        }
        let held = f.with_label_values(&["a"]).unwrap();
        let again = f.with_label_values(&["a"]).unwrap(); // a hit while pinned
        held.inc();
        again.inc();
        assert_eq!(clones(), before, "a cached lookup cloned the handle");
        drop((held, again));
        let owned = f.with_label_values(&["a"]).unwrap().into_owned();
        assert_eq!(clones(), before + 1, "into_owned is one clone");
        assert_eq!(value(&f, &["a"]), 103);
        assert_eq!(owned.get(), 103);
    }

    #[test]
    fn a_guard_survives_lookups_that_would_evict_its_slot() {
        let f = family(&["k"]);
        let g = f.with_label_values(&["held"]).unwrap();
        let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        for k in &keys {
            f.with_label_values(&[k]).unwrap().inc();
            f.with_series(&[k], |p| p.inc()).unwrap();
            g.inc();
        }
        assert_eq!(g.get(), 40);
        drop(g);
        for k in &keys {
            assert_eq!(value(&f, &[k]), 2, "{k}");
        }
        // Unpinned again: the cache fills and hits as before.
        f.with_label_values(&["k0"]).unwrap().inc();
        let before = clones();
        f.with_label_values(&["k0"]).unwrap().inc();
        assert_eq!(clones(), before);
        assert_eq!(value(&f, &["k0"]), 4);
    }

    #[test]
    fn a_removal_while_a_guard_is_alive_hands_out_the_new_series() {
        let f = family(&["k"]);
        let old = f.with_label_values(&["a"]).unwrap();
        old.inc();
        assert!(f.remove(&["a"]).unwrap());
        let new = f.with_label_values(&["a"]).unwrap();
        new.inc();
        new.inc();
        old.inc(); // still valid, no longer exported
        assert_eq!((old.get(), new.get()), (2, 2));
        drop(old);
        assert_eq!(value(&f, &["a"]), 2);
        drop(new);
        assert!(f.remove(&["a"]).unwrap());
        assert_eq!(f.with_label_values(&["a"]).unwrap().get(), 0, "a removed series came back");
    }

    #[test]
    fn a_leaked_guard_freezes_the_cache_but_lookups_stay_right() {
        let f = family(&["k"]);
        std::mem::forget(f.with_label_values(&["a"]).unwrap());
        for _ in 0..3 {
            f.with_label_values(&["a"]).unwrap().inc();
            f.with_label_values(&["b"]).unwrap().inc(); // a miss while pinned: owned
        }
        assert!(f.remove(&["a"]).unwrap());
        f.with_label_values(&["a"]).unwrap().inc(); // stale cache: not read
        assert_eq!((value(&f, &["a"]), value(&f, &["b"])), (1, 3));
    }

    #[test]
    fn nested_lookups_in_either_order() {
        let f = family(&["k"]);
        let g = f.with_label_values(&["a"]).unwrap();
        f.with_series(&["a"], |p| {
            p.inc();
            let inner = f.with_label_values(&["b"]).unwrap();
            inner.inc();
        })
        .unwrap();
        drop(g);
        f.with_series(&["a"], |p| {
            let inner = f.with_label_values(&["a"]).unwrap(); // a hit: borrowed as well
            inner.inc();
            p.inc();
        })
        .unwrap();
        assert_eq!((value(&f, &["a"]), value(&f, &["b"])), (3, 1));
    }

    #[test]
    fn a_nested_hit_borrows_from_the_cache_and_its_guard_may_outlive_the_closure() {
        let f = family(&["k"]);
        f.with_label_values(&["a"]).unwrap().inc(); // miss: fills the cache
        let before = clones();
        let kept = f
            .with_series(&["a"], |p| {
                p.inc();
                let inner = f.with_label_values(&["a"]).unwrap(); // a hit inside the closure
                inner.inc();
                inner
            })
            .unwrap();
        assert_eq!(clones(), before, "a nested hit cloned the handle");
        // The guard outlives the closure: lookups that would evict its slot get owned clones.
        let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        for k in &keys {
            f.with_label_values(&[k]).unwrap().inc();
            f.with_series(&[k], |p| p.inc()).unwrap();
        }
        kept.inc();
        drop(kept);
        assert_eq!(value(&f, &["a"]), 4);
        for k in &keys {
            assert_eq!(value(&f, &[k]), 2, "{k}");
        }
    }

    #[test]
    fn the_overflow_series_and_curried_lookups() {
        let f: Family<Probe> =
            Builder::<Probe>::new("probe_total").labels(["k", "c"]).max_series(1).build().expect("valid");
        f.with_label_values(&["a", "x"]).unwrap().inc();
        let over = f.with_label_values(&["b", "x"]).unwrap();
        over.inc();
        f.with_label_values(&["c", "x"]).unwrap().inc();
        drop(over);
        let o = crate::metrics::OVERFLOW_LABEL_VALUE;
        assert_eq!(value(&f, &[o, o]), 2);
        let g = family(&["k", "c"]);
        let curried = g.curry_with(&[("c", "x")]).unwrap();
        let held = curried.with_label_values(&["a"]).unwrap();
        held.inc();
        curried.with_label_values(&["a"]).unwrap().inc();
        drop(held);
        assert_eq!(value(&g, &["a", "x"]), 2);
    }

    #[test]
    fn a_guard_dropped_by_a_thread_local_destructor() {
        let f: &'static Family<Probe> = Box::leak(Box::new(family(&["k"])));
        thread_local! {
            static HELD: RefCell<Vec<super::SeriesRef<'static, Probe>>> = const { RefCell::new(Vec::new()) };
        }
        for round in 0..20 {
            std::thread::scope(|s| {
                // This thread's destructors may drop its guard after the thread's cache entry
                // was handed to one of the threads below.
                s.spawn(|| {
                    HELD.with(|h| h.borrow_mut().push(f.with_label_values(&["a"]).unwrap()));
                    HELD.with(|h| h.borrow()[0].inc());
                });
                for _ in 0..2 {
                    s.spawn(|| {
                        for i in 0..200 {
                            f.with_label_values(&["a"]).unwrap().inc();
                            f.with_series(&[&format!("k{}", i % 16)], |p| p.inc()).unwrap();
                        }
                    });
                }
            });
            assert_eq!(value(f, &["a"]), (round + 1) * 401);
        }
    }

    #[test]
    fn threads_remove_and_re_add_keys_under_held_guards() {
        let f = family(&["k"]);
        let keys = ["a", "b", "c"];
        std::thread::scope(|s| {
            for (t, key) in keys.iter().enumerate() {
                let f = &f;
                // The only thread incrementing `key`: its counts are exact.
                s.spawn(move || {
                    for i in 0..2000 {
                        let g = f.with_label_values(&[key]).unwrap();
                        let other = f.with_label_values(&[keys[(t + i) % 3]]).unwrap();
                        let before = g.get();
                        for _ in 0..5 {
                            g.inc();
                            f.with_label_values(&[&format!("x{}", i % 12)]).unwrap().get();
                        }
                        assert_eq!(g.get(), before + 5);
                        drop(other);
                    }
                });
                // Another removes and re-adds it.
                s.spawn(move || {
                    for i in 0..2000 {
                        let held = f.with_label_values(&[keys[(t + 1) % 3]]).unwrap();
                        if i % 3 == 0 {
                            f.remove(&[key]).unwrap();
                        }
                        let _ = f.with_label_values(&[key]).unwrap().get();
                        drop(held);
                    }
                });
            }
        });
        for key in keys {
            assert!(value(&f, &[key]) <= 10_000);
        }
    }
}
