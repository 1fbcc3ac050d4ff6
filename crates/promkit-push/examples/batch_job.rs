//! A nightly import job that ends before Prometheus could scrape it, so it pushes its metrics
//! to a Pushgateway when it is done, as Go's `push` package is used.
//!
//! ```sh
//! prometheus-pushgateway &               # listens on :9091
//! cargo run -p promkit-push --example batch_job
//! curl -s 127.0.0.1:9091/metrics | grep import_
//! ```
//!
//! `PUSHGATEWAY_URL` points it elsewhere. The crate's integration tests run this very file
//! against a real Pushgateway and read the group back.

use std::time::{SystemTime, UNIX_EPOCH};

use promkit::{Counter, Gauge, Registry};
use promkit_push::Pusher;

/// What `run` fails with: a promkit error while declaring, or a [`promkit_push::PushError`].
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The job's name at the gateway: its group is `job="nightly_import"` plus the grouping key.
pub(crate) const JOB: &str = "nightly_import";

/// Imports `rows` (a row that is not a number is rejected), then pushes the job's metrics
/// to the gateway at `gateway`, replacing what the last run of this job on `shard` pushed.
/// `now` is when the job finished (the current time in `main`).
///
/// Metrics of a batch job live in a registry of their own: the push sends just them, and no
/// process metrics of this short-lived process.
///
/// # Errors
/// When the gateway cannot be reached or refuses the push (a [`promkit_push::PushError`]):
/// the job reports it, and its last-success time at the gateway stays where the last good run
/// left it.
pub(crate) async fn run(gateway: &str, shard: &str, rows: &[&str], now: SystemTime) -> Result<(), BoxError> {
    let registry = Registry::new();
    let outcomes = Counter::builder("import_rows_total")
        .help("Rows processed, by outcome.")
        .labels(["outcome"])
        .register(&registry)?;
    let last_success = Gauge::builder("import_last_success_timestamp_seconds")
        .help("When the import last finished, in seconds since the epoch.")
        .register(&registry)?;
    // Resolved once: the loop below only adds.
    let imported = outcomes.with_label_values(&["imported"])?;
    let rejected = outcomes.with_label_values(&["rejected"])?;

    for row in rows {
        match row.parse::<i64>() {
            Ok(_) => imported.inc(),
            Err(_) => rejected.inc(),
        }
    }
    // A gauge of whole seconds: the alert on a stale import needs no more.
    let finished = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    last_success.set(i64::try_from(finished).unwrap_or(i64::MAX));

    let pusher = Pusher::builder(gateway, JOB).grouping("shard", shard).registry(&registry).build()?;
    // PUT: the group is replaced whole, so a family this run did not produce does not linger.
    pusher.push().await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let gateway = std::env::var("PUSHGATEWAY_URL").unwrap_or_else(|_| "http://127.0.0.1:9091".to_owned());
    let rows = ["17", "4", "n/a", "23"];
    run(&gateway, "eu-1", &rows, SystemTime::now()).await?;
    eprintln!("pushed {} rows' metrics to {gateway}", rows.len());
    Ok(())
}
