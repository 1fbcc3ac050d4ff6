//! Benchmarks of promkit against peer Prometheus crates: the shared fixtures.
//!
//! The criterion suite (`benches/peers.rs`), the memory probe (`src/bin/memory.rs`) and the
//! report (`src/main.rs`, `cargo run -p bench --release -- report`) all build the same series
//! through one module per crate in [`peers`], so every crate is measured on the same data:
//! the same metric names, label values, counter values and observations. [`check`] parses
//! what each crate encodes and verifies it against the expected totals before anything is
//! timed, so a benchmark that encodes less (or counts nothing) fails instead of winning.
//!
//! This crate is not published and is not a default member of the workspace.

pub mod check;
pub mod parse_fixture;
pub mod peers;
pub mod section;

/// Go's default histogram buckets, which every crate is configured with.
pub const GO_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The values of the `method` label; series `j` gets `METHODS[j % 4]`.
pub const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

/// The names of the two labels of every fixture series.
pub const LABEL_NAMES: [&str; 2] = ["method", "id"];

/// How many observations each fixture histogram series gets.
pub const OBSERVATIONS_PER_SERIES: usize = 5;

/// The number of counter families in the encode fixtures.
pub const ENCODE_FAMILIES: usize = 10;

/// A spread of observations covering every default bucket and `+Inf`, cycled through by the
/// histogram benchmarks (the same sequence for every crate).
pub fn observations() -> [f64; 64] {
    // Geometric from 1 ms to ~6.7 s with ratio 1.15, then a few past the last bucket.
    let mut out = [0.0; 64];
    for (i, o) in out.iter_mut().enumerate() {
        *o = if i < 60 { 0.001 * 1.15f64.powi(i as i32) } else { 12.5 * (i - 59) as f64 };
    }
    out
}

/// The `i`-th observation of fixture histogram series `j`.
pub fn series_observation(j: usize, i: usize) -> f64 {
    observations()[(j * OBSERVATIONS_PER_SERIES + i) % 64]
}

/// The value of counter series `j` of family `f` in the fixtures (non-zero, varied).
pub fn series_value(f: usize, j: usize) -> u64 {
    ((f * 7919 + j * 31) % 1000 + 1) as u64
}

/// The `id` label values `id-0 .. id-{n-1}`, made before anything is measured.
pub fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("id-{i}")).collect()
}

/// The name of counter family `f` in the fixtures, with the `_total` suffix.
pub fn family_name(f: usize) -> String {
    format!("bench_requests_{f}_total")
}

/// The help text of counter family `f`.
pub fn family_help(f: usize) -> String {
    format!("Requests served, fixture family {f}.")
}

/// The name of the fixture histogram family.
pub const HISTOGRAM_NAME: &str = "bench_latency_seconds";

/// The help text of the fixture histogram family.
pub const HISTOGRAM_HELP: &str = "Request latency in seconds.";
