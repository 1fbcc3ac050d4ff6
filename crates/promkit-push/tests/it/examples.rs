//! The examples, run: each example file is compiled into this binary (see `main.rs`) and run
//! against a real Pushgateway, which is then read back.

use std::time::{Duration, UNIX_EPOCH};

use crate::batch_job;
use crate::gateway::gateway_or_skip;

#[tokio::test]
async fn the_batch_job_example_pushes_its_metrics_at_the_end() {
    let gw = gateway_or_skip!();
    let finished = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    batch_job::run(&gw.url, "eu-1", &["17", "4", "n/a", "23"], finished).await.unwrap();

    // The gateway sorts the labels: the grouping key's `shard` comes after `outcome`.
    let (job, shard) = (r#"instance="",job="nightly_import""#, r#"shard="eu-1""#);
    gw.expect_exposition(
        "import_",
        format!(
            "\
# HELP import_last_success_timestamp_seconds When the import last finished, in seconds since the epoch.
# TYPE import_last_success_timestamp_seconds gauge
import_last_success_timestamp_seconds{{{job},{shard}}} 1.7672256e+09
# HELP import_rows_total Rows processed, by outcome.
# TYPE import_rows_total counter
import_rows_total{{{job},outcome=\"imported\",{shard}}} 3
import_rows_total{{{job},outcome=\"rejected\",{shard}}} 1
"
        ),
    );

    // The next run replaces the group whole (PUT).
    batch_job::run(&gw.url, "eu-1", &["x"], finished + Duration::from_secs(86_400)).await.unwrap();
    gw.expect_exposition(
        "import_rows_total",
        format!(
            "\
# HELP import_rows_total Rows processed, by outcome.
# TYPE import_rows_total counter
import_rows_total{{{job},outcome=\"imported\",{shard}}} 0
import_rows_total{{{job},outcome=\"rejected\",{shard}}} 1
"
        ),
    );

    // No gateway there: the job says so instead of losing its metrics silently.
    let closed = format!("http://127.0.0.1:{}", promkit_oracle::free_port());
    let err = batch_job::run(&closed, "eu-1", &[], finished).await.unwrap_err();
    assert!(err.to_string().contains(&closed), "{err}");
}
