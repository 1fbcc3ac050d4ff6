//! A job worker instrumented with promkit's core alone: a counter with a derived label set, a
//! custom collector that reads queue lengths at scrape time, a summary with quantiles, and a
//! native histogram. It runs a fixed batch of jobs and prints what a scrape would see.
//!
//! ```text
//! cargo run -p promkit --example worker
//! ```
//!
//! The crate's integration tests compile this file in and check the exposition value by value.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use promkit::metrics::NativeOptions;
use promkit::model::{
    Collector, Desc, FamilyHeader, Labels, MetricType, SampleMeta, SampleValue, Sink, Value,
};
use promkit::{
    CollectError, Counter, Histogram, LabelSet, LabelValue, Quantiles, Registry, Summary, TypedFamily,
};

/// The queues jobs come from: the `queue` label can take no other value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, LabelValue)]
#[label(rename_all = "lowercase")]
pub(crate) enum Queue {
    Email,
    Sms,
}

/// The labels of `worker_jobs_total`, checked by the compiler.
#[derive(Clone, Debug, LabelSet)]
struct JobLabels {
    queue: Queue,
    ok: bool,
}

/// One job of the batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job {
    pub(crate) queue: Queue,
    pub(crate) payload_bytes: f64,
    pub(crate) seconds: f64,
    pub(crate) ok: bool,
}

/// Jobs waiting, per queue: state the worker owns, which a collector reports when scraped.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    email: AtomicU64,
    sms: AtomicU64,
}

impl Backlog {
    fn slot(&self, queue: Queue) -> &AtomicU64 {
        match queue {
            Queue::Email => &self.email,
            Queue::Sms => &self.sms,
        }
    }

    /// Sets how many jobs wait in `queue`.
    pub(crate) fn set(&self, queue: Queue, waiting: u64) {
        // Relaxed: each length stands alone; a scrape may see one queue's update before another's.
        self.slot(queue).store(waiting, Ordering::Relaxed);
    }
}

const BACKLOG_NAME: &str = "worker_backlog_jobs";
const BACKLOG_HELP: &str = "Jobs waiting, by queue.";

/// A custom collector: reads the backlog on every scrape, stores nothing itself (Go's
/// `Collector` with `NewConstMetric`).
#[derive(Debug)]
struct BacklogCollector(Arc<Backlog>);

impl Collector for BacklogCollector {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: BACKLOG_NAME.into(),
            help: BACKLOG_HELP.into(),
            unit: String::new(),
            kind: MetricType::Gauge,
            label_names: vec!["queue".into()],
            const_labels: vec![],
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&FamilyHeader {
            name: BACKLOG_NAME,
            help: BACKLOG_HELP,
            unit: "",
            kind: MetricType::Gauge,
        });
        for (queue, name) in [(Queue::Email, "email"), (Queue::Sms, "sms")] {
            let waiting = self.0.slot(queue).load(Ordering::Relaxed);
            #[allow(clippy::cast_possible_wrap)] // a queue of 2^63 jobs is not a thing
            let value = Value::GaugeI64(waiting as i64);
            sink.sample(&Labels::Pairs(&[("queue", name)]), value, &SampleMeta::default());
        }
        Ok(())
    }
}

/// The worker's metrics, declared once at start-up.
#[derive(Debug)]
pub(crate) struct WorkerMetrics {
    jobs: TypedFamily<JobLabels, Counter>,
    payload: Summary,
    duration: Histogram,
}

impl WorkerMetrics {
    /// Declares the metrics and registers them, and the backlog collector, in `registry`.
    ///
    /// # Errors
    /// When `registry` already holds one of the names.
    pub(crate) fn register(registry: &Registry, backlog: &Arc<Backlog>) -> Result<Self, promkit::Error> {
        registry.register(BacklogCollector(Arc::clone(backlog)))?;
        Ok(Self {
            jobs: Counter::builder("worker_jobs_total")
                .help("Jobs finished, by queue and success.")
                .typed_labels::<JobLabels>()
                .register(registry)?,
            // A summary: quantiles of this instance's recent payloads (they cannot be averaged
            // across instances; prefer a histogram when that matters).
            payload: Summary::builder("worker_payload_bytes")
                .help("Size of job payloads, in bytes.")
                .unit("bytes")
                .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01)])?)
                .register(registry)?,
            // A native histogram: exponential buckets of about 9% width, chosen as values
            // arrive. Text formats show its count and sum; the buckets travel in protobuf.
            duration: Histogram::builder("worker_job_duration_seconds")
                .help("Time to run a job, in seconds.")
                .unit("seconds")
                .native(NativeOptions::with_factor(1.1))
                .register(registry)?,
        })
    }

    /// Records one finished job.
    pub(crate) fn finished(&self, job: &Job) {
        self.jobs.get(&JobLabels { queue: job.queue, ok: job.ok }).inc();
        self.payload.observe(job.payload_bytes);
        self.duration.observe(job.seconds);
    }
}

/// The batch this example runs.
pub(crate) const BATCH: [Job; 5] = [
    Job { queue: Queue::Email, payload_bytes: 512.0, seconds: 0.25, ok: true },
    Job { queue: Queue::Email, payload_bytes: 2048.0, seconds: 0.5, ok: true },
    Job { queue: Queue::Sms, payload_bytes: 128.0, seconds: 1.0, ok: true },
    Job { queue: Queue::Sms, payload_bytes: 160.0, seconds: 1.0, ok: false },
    Job { queue: Queue::Email, payload_bytes: 4096.0, seconds: 3.0, ok: true },
];

/// Runs `jobs` against a fresh registry, leaving 7 e-mails and no SMS waiting.
///
/// # Errors
/// None in practice: the names are fixed and valid, and the registry is new.
pub(crate) fn run(jobs: &[Job]) -> Result<Registry, promkit::Error> {
    let registry = Registry::new();
    let backlog = Arc::new(Backlog::default());
    let metrics = WorkerMetrics::register(&registry, &backlog)?;
    for job in jobs {
        metrics.finished(job);
    }
    backlog.set(Queue::Email, 7);
    Ok(registry)
}

/// The native buckets of the duration histogram, as `(upper bound, count)`: what Prometheus
/// stores when it scrapes the protobuf format.
///
/// # Errors
/// When gathering fails (it cannot here: every collector of the example succeeds).
pub(crate) fn native_buckets(registry: &Registry) -> Result<(i32, Vec<(f64, u64)>), CollectError> {
    let families = registry.gather()?;
    let native = families
        .iter()
        .filter(|f| f.name == "worker_job_duration_seconds")
        .flat_map(|f| &f.samples)
        .find_map(|s| match &s.value {
            SampleValue::Histogram(h) => h.native.clone(),
            _ => None,
        });
    Ok(native.map_or((0, Vec::new()), |n| {
        // Bucket `k` of schema `s` ends at 2^(k / 2^s).
        let per_octave = f64::from(1_u32 << n.schema.clamp(0, 8));
        (n.schema, n.positive.iter().map(|&(k, c)| ((f64::from(k) / per_octave).exp2(), c)).collect())
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = run(&BATCH)?;
    print!("{}", registry.encode_text_string()?);
    let (schema, buckets) = native_buckets(&registry)?;
    println!("\n# native buckets of worker_job_duration_seconds (schema {schema}):");
    for (upper, count) in buckets {
        println!("#   ..{upper:.4}: {count}");
    }
    Ok(())
}
