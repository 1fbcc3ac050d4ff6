//! Ready-made collectors: the process's own metrics ([`ProcessCollector`]) and the build-info
//! metric ([`BuildInfoCollector`], [`build_info!`](crate::build_info!)).
//!
//! [`default_registry`] holds a [`ProcessCollector`] for the current
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

use std::sync::LazyLock;

use crate::registry::Registry;

/// The process-wide registry (Go's `DefaultRegisterer`/`DefaultGatherer`), created on first use.
///
/// Libraries should accept a `&Registry` instead where they can; the default registry is for
/// metrics declared at file scope, as in:
///
/// ```
/// use promkit::{Counter, default_registry};
/// use std::sync::LazyLock;
///
/// static JOBS: LazyLock<Counter> = LazyLock::new(|| {
///     Counter::builder("seed_jobs_total").help("Jobs run.").must_register(default_registry())
/// });
///
/// // At the start of main: force the statics, so the exposition shows them (at 0) from the
/// // start instead of after their first use.
/// LazyLock::force(&JOBS);
/// assert!(default_registry().encode_text_string()?.contains("seed_jobs_total 0\n"));
/// JOBS.inc();
/// # Ok::<(), promkit::Error>(())
/// ```
pub fn default_registry() -> &'static Registry {
    // As Go's default registry: process metrics on a plain `/metrics`.
    static DEFAULT: LazyLock<Registry> = LazyLock::new(|| {
        let registry = Registry::new();
        // An empty registry and fixed, valid names: this cannot fail. Read errors are skipped
        // so a scrape never fails for them (Go's default registry does the same).
        ProcessCollector::builder().errors(ReadErrors::Skip).must_register(&registry);
        registry
    });
    &DEFAULT
}
