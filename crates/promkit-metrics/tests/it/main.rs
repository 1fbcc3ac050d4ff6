//! promkit-metrics' integration tests: one binary, a module per topic.
//!
//! | module | what it pins |
//! | --- | --- |
//! | `facade` | each facade call's effect on the exposition: types, labels, names, help, unit, histogram modes |
//! | `conflicts` | a name the registry refuses, or used as two types: logged once, no panic, no-op handles |
//! | `alloc` | a repeated `counter!` with labels allocates nothing |
//! | `global` | `install` sets the process' recorder once |
//! | `e2e` | an app using only the facade macros, scraped by the real Prometheus |
//!
//! Oracles (`promkit_oracle`) return `None` when their program is missing; the tests then
//! end early, except under `CI=true`, where a missing oracle fails.

mod alloc;
mod conflicts;
mod e2e;
mod facade;
mod global;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use promkit::{Format, Registry};

/// The system allocator, counting the allocations of threads that asked for it.
struct CountingAllocator;

thread_local! {
    // `const` initialisers without destructors: reading them never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

impl CountingAllocator {
    fn note() {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// extra work is bumping a thread-local counter, which neither allocates nor unwinds.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::note();
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::note();
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::note();
        // SAFETY: as `alloc`; `ptr` came from this allocator, which is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the number of allocations this thread made meanwhile.
pub(crate) fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.with(Cell::get))
}

/// The registry in text 0.0.4.
pub(crate) fn text(registry: &Registry) -> String {
    registry.encode_string(Format::Text).expect("encodes")
}

/// The registry in OpenMetrics.
pub(crate) fn om(registry: &Registry) -> String {
    registry.encode_string(Format::OPENMETRICS).expect("encodes")
}
