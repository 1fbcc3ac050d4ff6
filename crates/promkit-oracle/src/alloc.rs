//! A counting global allocator, for tests that assert a path allocates nothing (or exactly
//! so much). A test binary installs it once:
//!
//! ```
//! use promkit_oracle::alloc::{CountingAllocator, count_allocations};
//!
//! #[global_allocator]
//! static ALLOCATOR: CountingAllocator = CountingAllocator;
//!
//! let (v, n) = count_allocations(|| vec![1, 2, 3]);
//! assert_eq!((v.len(), n), (3, 1));
//! ```
//!
//! [`heap_growth`] also counts bytes: what a thread allocated and freed, for tests that bound
//! what a structure costs per entry.
//!
//! Counts are per thread, so tests running in parallel do not disturb each other; without the
//! allocator installed every count is 0.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the allocations (and reallocations) of threads inside
/// [`count_allocations`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

thread_local! {
    // `const` initialisers without destructors: reading them never allocates, so the
    // allocator can use them without recursing into itself.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    static FREED: Cell<u64> = const { Cell::new(0) };
}

impl CountingAllocator {
    /// Counts an allocation (or reallocation) of `bytes`.
    fn note(bytes: usize) {
        // `try_with`: during thread teardown the slots may be gone; nothing counts then.
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            let _ = ALLOCATED.try_with(|n| n.set(n.get() + bytes as u64));
        }
    }

    /// Counts `bytes` given back (freed, or the old block of a reallocation).
    fn note_freed(bytes: usize) {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = FREED.try_with(|n| n.set(n.get() + bytes as u64));
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// extra work is bumping a thread-local counter, which neither allocates nor unwinds.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::note(layout.size());
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::note(layout.size());
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::note(new_size);
        Self::note_freed(layout.size());
        // SAFETY: as `alloc`; `ptr` came from this allocator, which is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::note_freed(layout.size());
        // SAFETY: as `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns its result with the number of allocations (and reallocations) this
/// thread made meanwhile. 0 unless the binary installed [`CountingAllocator`].
pub fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let (r, heap) = heap_growth(f);
    (r, heap.allocations)
}

/// What a thread's allocations did to the heap while [`heap_growth`] ran its closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapGrowth {
    /// Allocations and reallocations.
    pub allocations: u64,
    /// Bytes requested by them (a reallocation counts its new size).
    pub allocated: u64,
    /// Bytes given back (a reallocation counts its old size).
    pub freed: u64,
}

impl HeapGrowth {
    /// Bytes still allocated at the end: what the closure's work keeps on the heap.
    pub fn live(&self) -> i64 {
        self.allocated as i64 - self.freed as i64
    }
}

/// Runs `f` and returns its result with what this thread allocated and freed meanwhile, in
/// requested bytes (what a structure asks for, not what the system allocator rounds it up
/// to). All zero unless the binary installed [`CountingAllocator`].
///
/// ```
/// use promkit_oracle::alloc::{CountingAllocator, heap_growth};
///
/// #[global_allocator]
/// static ALLOCATOR: CountingAllocator = CountingAllocator;
///
/// let (v, heap) = heap_growth(|| {
///     drop(vec![0u8; 100]);
///     vec![0u64; 4]
/// });
/// assert_eq!((heap.allocations, heap.allocated, heap.freed, heap.live()), (2, 132, 100, 32));
/// # drop(v);
/// ```
pub fn heap_growth<R>(f: impl FnOnce() -> R) -> (R, HeapGrowth) {
    ALLOCATIONS.with(|n| n.set(0));
    ALLOCATED.with(|n| n.set(0));
    FREED.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    let heap = HeapGrowth {
        allocations: ALLOCATIONS.with(Cell::get),
        allocated: ALLOCATED.with(Cell::get),
        freed: FREED.with(Cell::get),
    };
    (r, heap)
}
