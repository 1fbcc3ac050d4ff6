//! `WordsArc`: a reference-counted header and the atomic words after it, in one allocation.
//!
//! A classic histogram's state is a small header (its buckets, its creation time) and the
//! first observer's shard: a run of atomic words whose length the buckets decide. As an `Arc`
//! of the header holding a `Box<[AtomicU64]>`, that is two allocations, a pointer and a length
//! in the header, and two malloc headers: with Go's default buckets a 56-byte block in a
//! 64-byte chunk and a 64-byte one in an 80-byte chunk. Here it is one 88-byte block in a
//! 96-byte chunk, behind one 8-byte pointer, and the header says how many words follow it,
//! so no length is stored either (`triomphe::ThinArc` keeps one).
//!
//! The count's orderings are `std::sync::Arc`'s: a relaxed increment on clone, a release
//! decrement on drop and an acquire fence before the last owner frees the allocation.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering;

use super::{AtomicU64, AtomicUsize, fence};

/// A header that knows how many words follow it.
///
/// # Safety
/// [`words`](Self::words) must return the same number for the header's whole life: the
/// allocation is freed with the layout it gives at drop time, and the words are lent out as a
/// slice of that length.
pub(crate) unsafe trait Trailing {
    /// How many atomic words follow the header.
    fn words(&self) -> usize;
}

/// What the pointer points to; the words follow it, [`WordsArc::OFFSET`] bytes from its start.
#[repr(C)]
struct Inner<H> {
    count: AtomicUsize,
    header: H,
}

/// A shared `H` and `H::words()` atomic words, all zero when made, freed with the last clone.
pub(crate) struct WordsArc<H: Trailing> {
    ptr: NonNull<Inner<H>>,
    /// Owns an `Inner<H>` (for the drop check and the auto traits, which `Send`/`Sync` below
    /// refine).
    _owns: PhantomData<Inner<H>>,
}

// SAFETY: a `WordsArc` shares its header and words between threads like an `Arc` does, so it
// is `Send` and `Sync` exactly when `H` is both (an `Arc<H>` needs the same). The words are
// atomics, and the count is only touched atomically.
unsafe impl<H: Trailing + Send + Sync> Send for WordsArc<H> {}
// SAFETY: as for `Send`.
unsafe impl<H: Trailing + Send + Sync> Sync for WordsArc<H> {}

/// The allocation's layout for `words` words, and the words' offset from its start.
fn layout<H>(words: usize) -> (Layout, usize) {
    let words = Layout::array::<AtomicU64>(words).unwrap_or_else(|_| capacity_overflow());
    let (layout, offset) = Layout::new::<Inner<H>>().extend(words).unwrap_or_else(|_| capacity_overflow());
    (layout.pad_to_align(), offset)
}

/// A run of words too long to allocate: a histogram with more buckets than memory holds.
#[cold]
fn capacity_overflow() -> ! {
    panic!("a series' words do not fit in memory")
}

impl<H: Trailing> WordsArc<H> {
    /// Where the words start: `Inner<H>`'s size rounded up to a word's alignment, which is
    /// the offset [`Layout::extend`] gives (a constant, so a lookup of the words is one add).
    const OFFSET: usize = size_of::<Inner<H>>().next_multiple_of(align_of::<AtomicU64>());

    /// `header` with a count of one and `header.words()` words, each zero.
    pub(crate) fn new(header: H) -> Self {
        let words = header.words();
        let (layout, offset) = layout::<H>(words);
        debug_assert_eq!(offset, Self::OFFSET);
        // SAFETY: the layout is never zero-sized (it holds the count).
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw.cast::<Inner<H>>()) else { handle_alloc_error(layout) };
        // SAFETY: the allocation is `layout`, which holds an `Inner<H>` at its start (aligned:
        // the layout's alignment is at least `Inner<H>`'s) and `words` `AtomicU64`s from
        // `offset` (aligned by `Layout::extend`); each is written once, before anyone reads it.
        unsafe {
            ptr.as_ptr().write(Inner { count: AtomicUsize::new(1), header });
            let first = raw.add(offset).cast::<AtomicU64>();
            for i in 0..words {
                first.add(i).write(AtomicU64::new(0));
            }
        }
        Self { ptr, _owns: PhantomData }
    }

    fn inner(&self) -> &Inner<H> {
        // SAFETY: the allocation lives while any clone does, and this one does.
        unsafe { self.ptr.as_ref() }
    }

    /// The header.
    #[inline]
    pub(crate) fn header(&self) -> &H {
        &self.inner().header
    }

    /// The words after the header.
    #[inline]
    pub(crate) fn words(&self) -> &[AtomicU64] {
        // SAFETY: `new` wrote `header().words()` words from `OFFSET`, and `Trailing`
        // promises the number has not changed; they live as long as `self` does, and are only
        // ever shared (atomics, so shared references are how they are written too).
        unsafe {
            let first = self.ptr.as_ptr().cast::<u8>().add(Self::OFFSET).cast::<AtomicU64>();
            std::slice::from_raw_parts(first, self.header().words())
        }
    }
}

impl<H: Trailing> Clone for WordsArc<H> {
    fn clone(&self) -> Self {
        // Relaxed: a new reference is made from an existing one, which keeps the allocation
        // alive meanwhile; nothing is published by the increment (as in `Arc::clone`).
        let old = self.inner().count.fetch_add(1, Ordering::Relaxed);
        // As `Arc` does: a count past `isize::MAX` means clones were leaked in a loop, and
        // wrapping it would free the state under live handles.
        if old > isize::MAX as usize {
            std::process::abort();
        }
        Self { ptr: self.ptr, _owns: PhantomData }
    }
}

impl<H: Trailing> Drop for WordsArc<H> {
    fn drop(&mut self) {
        // Release: this clone's uses of the state happen-before the decrement, so before
        // whichever drop frees the state.
        if self.inner().count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Acquire: pairs with every other clone's Release decrement, so all their uses
        // happen-before the frees below.
        fence(Ordering::Acquire);
        let words = self.header().words();
        let (layout, offset) = layout::<H>(words);
        // SAFETY: this was the last reference, so nothing else reads the allocation. The
        // header and the words were written by `new` and are dropped once here, then the
        // allocation is freed with the layout `new` made it with (`Trailing` keeps `words`).
        unsafe {
            let raw = self.ptr.as_ptr();
            let first = raw.cast::<u8>().add(offset).cast::<AtomicU64>();
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(first, words));
            ptr::drop_in_place(raw);
            dealloc(raw.cast::<u8>(), layout);
        }
    }
}

impl<H: Trailing + std::fmt::Debug> std::fmt::Debug for WordsArc<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordsArc").field("header", self.header()).field("words", &self.words()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A header that counts its drops and asks for `n` words.
    #[derive(Debug)]
    struct Header {
        n: usize,
        drops: Arc<std::sync::atomic::AtomicUsize>,
    }

    // SAFETY: `n` never changes.
    unsafe impl Trailing for Header {
        fn words(&self) -> usize {
            self.n
        }
    }

    impl Drop for Header {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn header(n: usize) -> (Header, Arc<std::sync::atomic::AtomicUsize>) {
        let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        (Header { n, drops: Arc::clone(&drops) }, drops)
    }

    #[test]
    fn the_words_follow_the_header_zeroed_and_clones_share_them() {
        for n in [0, 1, 14, 300] {
            let (h, drops) = header(n);
            let a = WordsArc::new(h);
            assert_eq!(a.words().len(), n);
            assert!(a.words().iter().all(|w| w.load(Ordering::Relaxed) == 0), "{n} words not zeroed");
            let b = a.clone();
            for (i, w) in a.words().iter().enumerate() {
                w.store(i as u64 * 3 + 1, Ordering::Relaxed);
            }
            let seen: Vec<u64> = b.words().iter().map(|w| w.load(Ordering::Relaxed)).collect();
            assert_eq!(seen, (0..n as u64).map(|i| i * 3 + 1).collect::<Vec<_>>());
            assert_eq!(b.header().n, n);
            drop(a);
            assert_eq!(drops.load(Ordering::Relaxed), 0, "freed while a clone lives");
            drop(b);
            assert_eq!(drops.load(Ordering::Relaxed), 1, "the header is dropped once, with the last clone");
        }
    }

    #[test]
    fn a_default_histograms_state_is_one_block_of_88_bytes() {
        // The count, two header words and eight words: the figure the module docs give.
        let (block, offset) = layout::<[u64; 2]>(8);
        assert_eq!((block.size(), offset), (88, 24));
        // A header that ends unaligned for the words is padded, not overlapped.
        let (block, offset) = layout::<u32>(2);
        assert_eq!((block.size(), offset), (32, 16));
        assert_eq!(WordsArc::<Header>::OFFSET, layout::<Header>(0).1);
    }

    #[test]
    fn clones_dropped_on_many_threads_free_the_state_exactly_once() {
        let (h, drops) = header(4);
        let a = WordsArc::new(h);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let mine: Vec<_> = (0..1000).map(|_| a.clone()).collect();
                s.spawn(move || {
                    for c in mine {
                        c.words()[0].fetch_add(t, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(a.words()[0].load(Ordering::Relaxed), 1000 * (1 + 2 + 3));
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[derive(Debug)]
    struct Header(crate::sync::Arc<AtomicUsize>);

    // SAFETY: always one word.
    unsafe impl Trailing for Header {
        fn words(&self) -> usize {
            1
        }
    }

    impl Drop for Header {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Two clones dropped on two threads after each wrote the words: the state is freed once,
    /// after both writes, by whichever drop comes last.
    #[test]
    fn loom_the_last_clone_frees_the_state_after_every_use() {
        loom::model(|| {
            let drops = crate::sync::Arc::new(AtomicUsize::new(0));
            let a = WordsArc::new(Header(crate::sync::Arc::clone(&drops)));
            let b = a.clone();
            let t = loom::thread::spawn(move || {
                b.words()[0].fetch_add(1, Ordering::Relaxed);
            });
            a.words()[0].fetch_add(2, Ordering::Relaxed);
            drop(a);
            t.join().unwrap();
            assert_eq!(drops.load(Ordering::Relaxed), 1, "freed exactly once");
        });
    }
}
