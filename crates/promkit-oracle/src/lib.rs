//! Real programs that judge promkit's output, for promkit's own tests.
//!
//! Each oracle is a program of the Prometheus ecosystem, run as a child process with
//! the exposition on its standard input:
//!
//! | function | runs | answers |
//! | --- | --- | --- |
//! | [`promtool_check`] | `promtool check metrics` (Prometheus 2.42) | parsed or not, lint warnings |
//! | [`prometheus::PrometheusServer`] | `prometheus` (2.42) scraping test servers, in a temporary directory | PromQL answers through its HTTP API |
//! | [`python_parse`] | `tools/oracle/parse.py`: the `prometheus_client` text or OpenMetrics parser | the families and samples it read |
//! | [`go`], [`go_parse`], [`go_canon`], [`go_openmetrics`], [`go_golden`], [`go_golden_openmetrics`], [`go_decode_protobuf`] | `tools/go-oracle/main.go`: Go's `expfmt` (prometheus/common 0.39) and client_golang 1.14 | accepted or not, Go's own re-encoding, client_golang's output for a fixed set of metrics |
//!
//! `scripts/install-deps` installs all of them. Where each is looked for:
//!
//! - promtool: `$PROMTOOL`, else `promtool` on `PATH`.
//! - Python: `$PROMKIT_VENV/bin/python` (default `~/.cache/promkit/venv`), a venv with
//!   `prometheus-client`.
//! - Go: `$PROMKIT_CACHE/go-oracle-<sha>` (default cache `~/.cache/promkit`), the build of
//!   the current `tools/go-oracle/main.go`; when that is absent and Go with Debian's
//!   `/usr/share/gocode` is installed it is built on the spot (once per source version,
//!   a few seconds); failing that, the `$PROMKIT_CACHE/go-oracle` link to whatever
//!   `scripts/install-deps` built last.
//!
//! # When a tool is missing
//!
//! Every oracle returns an [`Option`]: `None` means the tool is not installed and the
//! test should end early, after `SKIP: <tool> not found (<how to install>)` on stderr.
//! Under CI ([`ci`]) a missing tool is a failure instead: the oracle panics, naming the
//! tool and `scripts/install-deps`, so CI never passes by skipping.
//!
//! # Example
//!
//! ```
//! let text = "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3\n";
//! if let Some(report) = promkit_oracle::promtool_check(text) {
//!     assert!(report.ok);
//!     assert!(report.lint.is_empty(), "{}", report.output);
//! }
//! if let Some(canon) = promkit_oracle::go_canon(text) {
//!     assert_eq!(canon.as_deref(), Ok(text)); // already in Go's canonical form
//! }
//! ```

pub mod alloc;
mod go;
mod locate;
mod policy;
pub mod prometheus;
mod promtool;
mod python;
mod run;

pub use go::{
    GoOutput, go, go_canon, go_decode_protobuf, go_empty, go_empty_openmetrics, go_golden,
    go_golden_openmetrics, go_openmetrics, go_parse,
};
pub use locate::{free_port, which};
pub use policy::ci;
pub use promtool::{PromtoolReport, promtool_check};
pub use python::{Format, PyExemplar, PyFamily, PySample, python_parse};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
