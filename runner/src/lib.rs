//! runner: checks that web forms on customer sites can still be filled and submitted, runs
//! those checks as concurrent jobs, and reports every job through Prometheus.

pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod driver;
pub mod egress;
pub mod flowfile;
mod loopback;
pub mod metrics;
pub mod pool;
pub mod retention;
pub mod scheduler;
pub mod secrets;
pub mod service;
pub mod store;
pub mod web;

/// Milliseconds since the Unix epoch: the store's time unit.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
