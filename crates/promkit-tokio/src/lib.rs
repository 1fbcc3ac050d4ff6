#![doc = include_str!("../README.md")]
//!
//! # Families
//!
//! | family | type | labels | tokio |
//! |---|---|---|---|
//! | `tokio_runtime_workers` | gauge | | `num_workers` |
//! | `tokio_runtime_alive_tasks` | gauge | | `num_alive_tasks` |
//! | `tokio_runtime_global_queue_depth` | gauge | | `global_queue_depth` |
//! | `tokio_runtime_worker_busy_seconds_total` | counter (seconds) | `worker` | `worker_total_busy_duration` |
//! | `tokio_runtime_worker_parks_total` | counter | `worker` | `worker_park_count` |
//! | `tokio_runtime_worker_park_unparks_total` | counter | `worker` | `worker_park_unpark_count` |
//!
//! Built with `RUSTFLAGS="--cfg tokio_unstable"` (tokio's unstable metrics), also:
//! `tokio_runtime_blocking_threads`, `tokio_runtime_idle_blocking_threads`,
//! `tokio_runtime_blocking_queue_depth`, `tokio_runtime_spawned_tasks_total`,
//! `tokio_runtime_remote_schedules_total`, `tokio_runtime_budget_forced_yields_total`, and per
//! worker `tokio_runtime_worker_{polls,steals,steal_operations,noops,local_schedules,overflows}_total`,
//! `tokio_runtime_worker_local_queue_depth` and `tokio_runtime_worker_mean_poll_time_seconds`.
//!
//! The per-worker counters need 64-bit atomics, as tokio's do. With several runtimes every
//! series also carries `runtime`.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod collector;
mod table;

pub use collector::{RuntimeCollector, RuntimeCollectorBuilder, RuntimeError};
