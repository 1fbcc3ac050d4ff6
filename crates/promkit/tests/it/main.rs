//! promkit's integration tests: one binary, a module per topic.
//!
//! | module | what it pins |
//! | --- | --- |
//! | `golden` | byte-identical output to client_golang for the oracle's golden registry |
//! | `oracles` | a rich exposition judged by promtool, Go's `expfmt` and the Python parsers |
//! | `roundtrip` | arbitrary label values, HELP text and floats survive every parser |
//! | `pitfalls` | one test per exposition-format pitfall (peers-and-pitfalls.md §3) |
//! | `alloc` | warm encoding and series lookups allocate nothing; a series keeps a small footprint |
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

use promkit::{Format, Registry};

#[global_allocator]
static ALLOCATOR: promkit_oracle::alloc::CountingAllocator = promkit_oracle::alloc::CountingAllocator;

pub(crate) use promkit_oracle::alloc::{count_allocations, heap_growth};

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
