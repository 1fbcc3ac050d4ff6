//! `SeriesRef`: the series a [`Family`](super::Family) lookup returns, borrowed from the
//! calling thread's lookup cache so that a repeated lookup moves no reference count.
//!
//! The one place promkit uses `unsafe`: a guard reads a handle through a pointer into its
//! thread's cache, valid because the cache does not modify a slot while any guard is alive.
#![allow(unsafe_code)]

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    /// Relaxed: `pins` is written by the thread that owns the cache entry, and read with
    /// Acquire by whichever thread next wants to modify it; see `Drop`.
    pub(crate) fn pin(pins: &AtomicUsize) -> bool {
        // A leaked (`mem::forget`) guard never decrements: refuse before the count could wrap,
        // so a count of zero always means no guard is alive.
        if pins.load(Ordering::Relaxed) >= usize::MAX / 2 {
            return false;
        }
        pins.fetch_add(1, Ordering::Relaxed);
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
            // new thread): a read-modify-write, so two threads never lose a count.
            pins.fetch_sub(1, Ordering::Release);
        }
    }
}

impl<M: Metric + fmt::Debug> fmt::Debug for SeriesRef<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SeriesRef").field(&**self).finish()
    }
}
