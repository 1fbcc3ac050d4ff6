//! promkit's integration tests: one binary, a module per topic.
//!
//! | module | what it pins |
//! | --- | --- |
//! | `golden` | byte-identical output to client_golang for the oracle's golden registry |
//! | `oracles` | a rich exposition judged by promtool, Go's `expfmt` and the Python parsers |
//! | `roundtrip` | arbitrary label values, HELP text and floats survive every parser |
//! | `pitfalls` | one test per exposition-format pitfall (peers-and-pitfalls.md §3) |
//! | `alloc` | warm encoding and series lookups allocate nothing |
//! | `concurrency` | scrapes during heavy updates are never torn; totals are exact |
//! | `features` | exemplars, summaries, `_created` and protobuf, as the oracles read them |
//! | `openmetrics_types` | Info, StateSet, GaugeHistogram: bytes in each format, suffix rules; Python, Go, promtool and Prometheus reading them |
//! | `registry` | registration errors, unregister, gatherers, wrapping, limits |
//! | `examples` | the files in `examples/`, compiled in here, run, their output checked |
//! | `layering` | `src/` imports point down the layers of the crate guide's "How it works" |
//! | `names` | UTF-8 names: validation per registry, quoted syntax, escaping schemes as Go, Python reads them |
//!
//! Oracles (`promkit_oracle`) return `None` when their program is missing; the tests then
//! end early, except under `CI=true`, where a missing oracle fails.

mod alloc;
mod concurrency;
mod examples;
mod features;
mod golden;
mod layering;
mod messages;
mod names;
mod openmetrics_types;
mod oracles;
mod pitfalls;
mod registry;
mod roundtrip;
// The example's `main` is for `cargo run --example`; the tests call its parts.
#[allow(dead_code)]
#[path = "../../examples/worker.rs"]
mod worker;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use promkit::{Format, Registry};

/// The system allocator, counting the allocations of threads that asked for it.
struct CountingAllocator;

thread_local! {
    // `const` initialisers without destructors: reading them never allocates, so the
    // allocator can use them without recursing into itself.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

impl CountingAllocator {
    fn note() {
        // `try_with`: during thread teardown the slots may be gone; nothing counts then.
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
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
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

/// Runs `f` and returns its result with the number of allocations (and reallocations) this
/// thread made meanwhile. Per thread, so tests running in parallel do not disturb the count.
pub(crate) fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.with(Cell::get))
}

/// The registry in text 0.0.4.
pub(crate) fn text(registry: &Registry) -> String {
    encode(registry, Format::Text)
}

/// The registry in OpenMetrics, without `_created` samples.
pub(crate) fn om(registry: &Registry) -> String {
    encode(registry, Format::OPENMETRICS)
}

/// The registry in `format`, checked to be UTF-8.
pub(crate) fn encode(registry: &Registry, format: Format) -> String {
    let mut out = Vec::new();
    registry.encode(format, &mut out).expect("encodes");
    String::from_utf8(out).expect("an exposition is UTF-8")
}
