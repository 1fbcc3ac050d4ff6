//! Parsers for the three Prometheus exposition formats, into promkit's owned model.
//!
//! | format | module | reading |
//! |---|---|---|
//! | Prometheus text 0.0.4 | [`text`] | lenient, as Go's `expfmt.TextParser`: missing HELP or TYPE, untyped families, blank lines and comments, `NaN`/`Inf` in any case, millisecond timestamps |
//! | OpenMetrics 1.0.0 | [`openmetrics`] | strict: every MUST of the specification is an error naming the line, the column and the rule |
//! | delimited protobuf | [`protobuf`] | `io.prometheus.client.MetricFamily` messages, native histograms included |
//!
//! Two layers. The low-level parsers stream [`Record`]s (metadata and samples) that borrow
//! from the input line: names, label values without escapes and HELP text are not copied, and
//! each format's rules are checked as the lines go by, so an error names the exact line and
//! column. [`model`] assembles promkit's owned [`MetricFamily`](promkit::model::MetricFamily)
//! values from those records, so that what promkit writes parses back equal.
//!
//! ```
//! use promkit::model::SampleValue;
//! use promkit_parse::{Format, model};
//!
//! let text = "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{queue=\"a\"} 3\n";
//! let families = model::parse(Format::Text, text.as_bytes())?;
//! assert_eq!(families[0].name, "jobs_total");
//! assert_eq!(families[0].samples[0].value, SampleValue::Counter(3.0));
//!
//! let om = "# TYPE jobs counter\njobs_total{queue=\"a\"} -3\n# EOF\n";
//! let err = model::parse(Format::OpenMetrics, om.as_bytes()).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "2:23: counter-like values (_total, _sum, _count, _bucket, _gcount) MUST NOT be negative (at `-3`)"
//! );
//! # Ok::<(), promkit_parse::ParseError>(())
//! ```
//!
//! Input comes from a byte slice ([`text::parse`], [`openmetrics::parse`]: iterators over
//! records borrowing from it) or any [`BufRead`](std::io::BufRead) ([`text::reader`],
//! [`openmetrics::reader`]: one line in memory at a time, bounded by
//! [`Reader::max_line`]). Work is linear in the input: label names are checked for
//! duplicates with a hash set past eight labels, metrics are remembered by a hash of their
//! label set, and no line is scanned twice. No input makes a parser panic (a proptest of
//! arbitrary and mutated inputs runs in `cargo test`; `fuzz/` has cargo-fuzz targets).
//!
//! # Why a crate of its own
//!
//! The core `promkit` crate is what every instrumented program links: it declares, updates and
//! writes metrics, and its users should not compile, nor audit, a parser they never call.
//! Readers of expositions are a different audience (tests, the `promkit` command, scrapers,
//! proxies), and a `parse` feature on the core would still make the core's build and API
//! documentation carry them. A crate keeps the dependency arrow one way (`promkit-parse` →
//! `promkit`'s model, never back), which is also how regex splits `regex-syntax` and
//! client_golang splits `expfmt` from `prometheus`.
//!
//! # Where the formats leave room
//!
//! - OpenMetrics: `le` and `quantile` values need not be canonical (the specification says
//!   parsers MUST NOT reject them for that), but `+Inf` must be spelled so; a raw `"` in HELP is
//!   accepted and a sample repeated at one timestamp is kept, as the reference parser does.
//! - Text: hex floats (`0x1p-3`, which Go reads) are refused.
//! - Both text formats read Prometheus 3's quoted UTF-8 names (`{"http.server.duration",
//!   "http.route"="/a",le="0.5"} 3`, `# TYPE "http.server.duration" histogram`), with the
//!   metric name first inside the braces. Ambiguous input is an
//!   [`ErrorKind::QuotedName`] error: a name both before the braces and quoted inside them, a
//!   second quoted name, the empty name. Names are borrowed from the line, so a quoted name
//!   holding an escape sequence (`\"`, `\\`, `\n`) is refused with the same error rather than
//!   read wrongly.
//! - Info, stateset and gauge histogram families keep their type from OpenMetrics (and a
//!   gauge histogram from protobuf); see [`model`] for how each is held.

mod error;
mod labels;
pub mod model;
mod number;
pub mod openmetrics;
pub mod protobuf;
mod record;
mod source;
pub mod text;

pub use error::{ErrorKind, ParseError, Position};
pub use labels::{Labels, RawIter};
pub use model::{Builder, Format};
pub use record::{Exemplar, Help, MetricKind, Record, Sample, Suffix, Timestamp};
pub use source::{DEFAULT_MAX_LINE, LineRules, Reader, Records};

/// The README's code blocks, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
