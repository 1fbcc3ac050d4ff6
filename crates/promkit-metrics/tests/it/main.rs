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

use promkit::{Format, Registry};

#[global_allocator]
static ALLOCATOR: promkit_oracle::alloc::CountingAllocator = promkit_oracle::alloc::CountingAllocator;

pub(crate) use promkit_oracle::alloc::count_allocations;

/// The registry in text 0.0.4.
pub(crate) fn text(registry: &Registry) -> String {
    registry.encode_string(Format::Text).expect("encodes")
}

/// The registry in OpenMetrics.
pub(crate) fn om(registry: &Registry) -> String {
    registry.encode_string(Format::OPENMETRICS).expect("encodes")
}
