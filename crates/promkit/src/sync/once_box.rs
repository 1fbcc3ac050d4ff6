//! `OnceBox`: a value made on first use and kept until drop, in one word.
//!
//! `OnceLock<Box<T>>` takes two words (the box and the `Once` state), and `once_cell`'s
//! `OnceBox` is built on `core`'s atomics, which loom cannot see; this one is built on
//! [`crate::sync`]'s, so loom checks that the value is published before anyone reads it.
//! Racing initialisers may each build a value: the first to publish wins and the others drop
//! theirs.
#![allow(unsafe_code)]

use std::ptr;
use std::sync::atomic::Ordering;

use super::AtomicPtr;

/// A `T` made by the first [`get_or_init`](Self::get_or_init) and read by every later call.
///
/// `T: Send + Sync` is required by the type itself, so the automatic `Send`/`Sync` of the
/// atomic pointer inside can never hand a non-thread-safe value to another thread: the value
/// may be built on one thread, read from any and dropped on another.
pub(crate) struct OnceBox<T: Send + Sync> {
    /// Null until published; then a pointer from `Box::into_raw` that this struct owns.
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> Default for OnceBox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + Sync> OnceBox<T> {
    pub(crate) fn new() -> Self {
        Self { ptr: AtomicPtr::new(ptr::null_mut()) }
    }

    /// The value, if one was published.
    #[inline]
    pub(crate) fn get(&self) -> Option<&T> {
        // Acquire: pairs with the Release of the publishing compare-and-swap, so the value's
        // construction happens-before this read of it.
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `get_or_init` and is freed
        // only by `drop`, which takes `&mut self`: it outlives this borrow of `self`. Only
        // shared references to the value are ever made.
        unsafe { p.as_ref() }
    }

    /// The value, made by `make` if none was published yet.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> T) -> &T {
        if let Some(v) = self.get() {
            return v;
        }
        let new = Box::into_raw(Box::new(make()));
        // Release on success publishes the value's construction to every Acquire `get`;
        // Acquire on failure makes the winner's construction visible before we read it.
        match self.ptr.compare_exchange(ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: as in `get`: `new` is now owned by `self` and freed only by `drop`.
            Ok(_) => unsafe { &*new },
            Err(winner) => {
                // SAFETY: `new` came from `Box::into_raw` above and was never published, so
                // this is its only owner.
                drop(unsafe { Box::from_raw(new) });
                // SAFETY: as in `get`; `winner` is non-null (the exchange failed on it).
                unsafe { &*winner }
            }
        }
    }
}

impl<T: Send + Sync> Drop for OnceBox<T> {
    fn drop(&mut self) {
        // Acquire: the value's construction happens-before it is dropped here (`&mut self`
        // already orders this after every other access; the swap works on loom's atomics too,
        // which lend no `get_mut`).
        let p = self.ptr.swap(ptr::null_mut(), Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: a published pointer from `Box::into_raw`, owned by `self`, and nulled
            // above so it is freed once.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl<T: Send + Sync + std::fmt::Debug> std::fmt::Debug for OnceBox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OnceBox").field(&self.get()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::OnceBox;

    #[test]
    fn the_first_value_published_is_the_one_every_caller_reads() {
        let once: OnceBox<String> = OnceBox::new();
        assert_eq!(once.get(), None);
        assert_eq!(once.get_or_init(|| "first".to_owned()), "first");
        assert_eq!(once.get_or_init(|| "second".to_owned()), "first");
        assert_eq!(once.get().map(String::as_str), Some("first"));
        assert_eq!(std::mem::size_of::<OnceBox<String>>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn racing_initialisers_agree_on_one_value_and_drop_the_rest() {
        crate::sync::race::four_racers_agree(OnceBox::new(), |once, make| once.get_or_init(make).0);
    }
}
