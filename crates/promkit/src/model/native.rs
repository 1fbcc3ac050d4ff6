//! `NativeSnapshot`: a native (sparse, exponential) histogram's state, as the protobuf
//! exposition carries it.

use super::exemplar::Exemplar;

/// A native histogram's state at one instant: what the protobuf exposition carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NativeSnapshot {
    /// Bucket schema, -4 to 8.
    pub schema: i32,
    /// Zero bucket width.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: u64,
    /// All observations (NaN included).
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// Populated positive buckets, `(key, count)` by increasing key.
    pub positive: Vec<(i32, u64)>,
    /// Populated negative buckets, `(key, count)` by increasing key.
    pub negative: Vec<(i32, u64)>,
    /// Classic buckets, cumulative, `+Inf` last (just `+Inf` for a native-only histogram).
    pub cumulative: Vec<u64>,
    /// Recent exemplars, oldest first.
    pub exemplars: Vec<Exemplar>,
}
