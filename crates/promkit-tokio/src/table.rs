//! The families the collector writes: one row per tokio runtime metric.

use promkit::model::{MetricType, Value};
use tokio::runtime::RuntimeMetrics;

/// How a family's value is read.
#[derive(Clone, Copy)]
pub(crate) enum Read {
    /// One value per runtime.
    Runtime(fn(&RuntimeMetrics) -> Value<'static>),
    /// One value per worker thread (label `worker`).
    Worker(fn(&RuntimeMetrics, usize) -> Value<'static>),
}

/// One family.
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) kind: MetricType,
    pub(crate) read: Read,
}

fn gauge(n: usize) -> Value<'static> {
    Value::GaugeF64(n as f64)
}

/// Stable tokio metrics (tokio 1.45+): on every build.
pub(crate) const STABLE: &[Row] = &[
    Row {
        name: "tokio_runtime_workers",
        help: "Worker threads of the runtime.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Runtime(|m| gauge(m.num_workers())),
    },
    Row {
        name: "tokio_runtime_alive_tasks",
        help: "Tasks spawned on the runtime and not yet finished.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Runtime(|m| gauge(m.num_alive_tasks())),
    },
    Row {
        name: "tokio_runtime_global_queue_depth",
        help: "Tasks waiting in the runtime's global (injection) queue.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Runtime(|m| gauge(m.global_queue_depth())),
    },
    #[cfg(target_has_atomic = "64")]
    Row {
        name: "tokio_runtime_worker_busy_seconds_total",
        help: "Time each worker thread spent running tasks.",
        unit: "seconds",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterF64(m.worker_total_busy_duration(w).as_secs_f64())),
    },
    #[cfg(target_has_atomic = "64")]
    Row {
        name: "tokio_runtime_worker_parks_total",
        help: "Times each worker thread parked (went idle).",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_park_count(w))),
    },
    #[cfg(target_has_atomic = "64")]
    Row {
        name: "tokio_runtime_worker_park_unparks_total",
        help: "Times each worker thread parked or unparked (odd while parked).",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_park_unpark_count(w))),
    },
];

/// Metrics tokio exposes only when built with `--cfg tokio_unstable`.
#[cfg(tokio_unstable)]
pub(crate) const UNSTABLE: &[Row] = &[
    Row {
        name: "tokio_runtime_blocking_threads",
        help: "Threads of the blocking pool.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Runtime(|m| gauge(m.num_blocking_threads())),
    },
    Row {
        name: "tokio_runtime_idle_blocking_threads",
        help: "Threads of the blocking pool that are idle.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Runtime(|m| gauge(m.num_idle_blocking_threads())),
    },
    Row {
        name: "tokio_runtime_blocking_queue_depth",
        help: "Tasks waiting for a thread of the blocking pool.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Runtime(|m| gauge(m.blocking_queue_depth())),
    },
    Row {
        name: "tokio_runtime_spawned_tasks_total",
        help: "Tasks spawned on the runtime.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Runtime(|m| Value::CounterU64(m.spawned_tasks_count())),
    },
    Row {
        name: "tokio_runtime_remote_schedules_total",
        help: "Tasks scheduled from outside the runtime's worker threads.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Runtime(|m| Value::CounterU64(m.remote_schedule_count())),
    },
    Row {
        name: "tokio_runtime_budget_forced_yields_total",
        help: "Times a task was made to yield because it used up its budget.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Runtime(|m| Value::CounterU64(m.budget_forced_yield_count())),
    },
    Row {
        name: "tokio_runtime_worker_polls_total",
        help: "Task polls by each worker thread.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_poll_count(w))),
    },
    Row {
        name: "tokio_runtime_worker_steals_total",
        help: "Tasks each worker thread stole from another.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_steal_count(w))),
    },
    Row {
        name: "tokio_runtime_worker_steal_operations_total",
        help: "Steal operations (of one or more tasks) by each worker thread.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_steal_operations(w))),
    },
    Row {
        name: "tokio_runtime_worker_noops_total",
        help: "Times each worker thread unparked and found no work.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_noop_count(w))),
    },
    Row {
        name: "tokio_runtime_worker_local_schedules_total",
        help: "Tasks each worker thread scheduled onto its own queue.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_local_schedule_count(w))),
    },
    Row {
        name: "tokio_runtime_worker_overflows_total",
        help: "Times each worker thread's local queue overflowed into the global queue.",
        unit: "",
        kind: MetricType::Counter,
        read: Read::Worker(|m, w| Value::CounterU64(m.worker_overflow_count(w))),
    },
    Row {
        name: "tokio_runtime_worker_local_queue_depth",
        help: "Tasks waiting in each worker thread's local queue.",
        unit: "",
        kind: MetricType::Gauge,
        read: Read::Worker(|m, w| gauge(m.worker_local_queue_depth(w))),
    },
    Row {
        name: "tokio_runtime_worker_mean_poll_time_seconds",
        help: "Each worker thread's moving average of task poll time.",
        unit: "seconds",
        kind: MetricType::Gauge,
        read: Read::Worker(|m, w| Value::GaugeF64(m.worker_mean_poll_time(w).as_secs_f64())),
    },
];

/// Every row this build exports.
pub(crate) fn rows() -> impl Iterator<Item = &'static Row> {
    #[cfg(tokio_unstable)]
    let unstable = UNSTABLE.iter();
    #[cfg(not(tokio_unstable))]
    let unstable = [].iter();
    STABLE.iter().chain(unstable)
}
