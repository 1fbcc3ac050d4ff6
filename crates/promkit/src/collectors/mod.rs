//! Ready-made collectors: the process's own metrics ([`ProcessCollector`]) and the build-info
//! metric ([`BuildInfoCollector`], [`build_info!`](crate::build_info!)).
//!
//! [`default_registry`](crate::default_registry) holds a [`ProcessCollector`] for the current
//! process, as Go's default registry does, so a plain `/metrics` shows `process_*`; a
//! `Registry::new()` starts empty, and takes either with `register`:
//!
//! ```
//! use promkit::collectors::ProcessCollector;
//! use promkit::Registry;
//!
//! let registry = Registry::new();
//! ProcessCollector::builder().register(&registry)?;
//! promkit::build_info!("myapp").register(&registry)?;
//! # Ok::<(), promkit::Error>(())
//! ```

mod build_info;
mod process;

#[doc(hidden)]
pub use build_info::__first_set;
pub use build_info::{BuildInfoBuilder, BuildInfoCollector};
pub use process::{ProcessCollector, ProcessCollectorBuilder, ProcessError, ReadErrors};

use crate::registry::Registry;

/// Fills a new default registry: the current process's collector, skipping read errors so a
/// scrape never fails for them (Go's default registry does the same).
pub(crate) fn register_defaults(registry: &Registry) {
    // An empty registry and fixed, valid names: this cannot fail.
    ProcessCollector::builder().errors(ReadErrors::Skip).must_register(registry);
}
