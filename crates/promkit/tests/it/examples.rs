//! The examples, run: each example file is compiled into this binary (see `main.rs`) and its
//! output checked value by value.

use crate::worker;

#[test]
fn the_worker_example_exports_its_batch() {
    let registry = worker::run(&worker::BATCH).unwrap();
    assert_eq!(
        registry.encode_text_string().unwrap(),
        "\
# HELP worker_backlog_jobs Jobs waiting, by queue.
# TYPE worker_backlog_jobs gauge
worker_backlog_jobs{queue=\"email\"} 7
worker_backlog_jobs{queue=\"sms\"} 0
# HELP worker_job_duration_seconds Time to run a job, in seconds.
# TYPE worker_job_duration_seconds histogram
worker_job_duration_seconds_bucket{le=\"+Inf\"} 5
worker_job_duration_seconds_sum 5.75
worker_job_duration_seconds_count 5
# HELP worker_jobs_total Jobs finished, by queue and success.
# TYPE worker_jobs_total counter
worker_jobs_total{ok=\"false\",queue=\"sms\"} 1
worker_jobs_total{ok=\"true\",queue=\"email\"} 3
worker_jobs_total{ok=\"true\",queue=\"sms\"} 1
# HELP worker_payload_bytes Size of job payloads, in bytes.
# TYPE worker_payload_bytes summary
worker_payload_bytes{quantile=\"0.5\"} 512
worker_payload_bytes{quantile=\"0.9\"} 4096
worker_payload_bytes_sum 6944
worker_payload_bytes_count 5
"
    );
    // Schema 3: eight buckets per doubling; 1.0 falls in the bucket that ends at 1.
    let (schema, buckets) = worker::native_buckets(&registry).unwrap();
    assert_eq!(schema, 3);
    assert_eq!(buckets, [(0.25, 1), (0.5, 1), (1.0, 2), (2f64.powf(13.0 / 8.0), 1)]);
}
