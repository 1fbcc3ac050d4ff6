//! Summaries: observations summarised by streaming quantile estimates over a sliding window.

mod quantiles;

pub use quantiles::Quantiles;
