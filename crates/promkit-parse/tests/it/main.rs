//! promkit-parse's integration tests: the OpenMetrics suite (when present), round trips of
//! everything promkit writes, Go's and Python's output, the format pitfalls, and properties.

mod go_text;
mod om_suite;
mod oracles;
mod pitfalls;
mod properties;
mod roundtrip;
mod utf8;
