//! An application that instruments only through the `metrics` facade's macros, served by
//! promkit-http and scraped by a real Prometheus: PromQL reads back exactly the values the
//! macros recorded, under the mapped names, with the help text `describe_*!` gave.

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, gauge, histogram, with_local_recorder};
use promkit::{Buckets, Registry};
use promkit_http::{Exporter, MetricsHandler};
use promkit_metrics::{Matcher, PromkitRecorder};
use promkit_oracle::prometheus::{PrometheusServer, Target};
use tokio::sync::oneshot;

/// Upper bound for the first successful scrape: target discovery takes about 5 s.
const UP_WITHIN: Duration = Duration::from_secs(30);

/// The "application": a library-style function that only knows the facade.
fn handle_requests() {
    describe_counter!("app_requests_total", "Requests handled, by method.");
    describe_histogram!("app.latency_seconds", Unit::Seconds, "Request latency.");
    for (method, n) in [("GET", 5), ("POST", 2)] {
        for _ in 0..n {
            counter!("app_requests_total", "method" => method).increment(1);
        }
    }
    counter!("app_bytes_total").absolute(4096);
    gauge!("app_connections", "pool" => "main").set(7.0);
    gauge!("app_connections", "pool" => "main").decrement(2.0);
    for v in [0.05, 0.2, 0.2, 3.0] {
        histogram!("app.latency_seconds", "route" => "/x").record(v);
    }
}

fn expect(prom: &PrometheusServer, promql: &str, want: f64) {
    let got = prom.query_scalar(promql).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("PromQL {promql} => {got:?}");
    assert_eq!(got, Some(want), "{promql}");
}

#[test]
fn prometheus_scrapes_what_the_facade_macros_recorded() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::builder(&registry)
        .buckets_for(Matcher::Suffix("_seconds".into()), Buckets::new([0.1, 0.5, 1.0]).unwrap())
        .build();
    with_local_recorder(&recorder, handle_requests);

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let exporter = rt
        .block_on(Exporter::bind(
            "127.0.0.1:0".parse().unwrap(),
            MetricsHandler::builder(&registry).must_build(),
        ))
        .unwrap();
    let addr = exporter.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = rt.spawn(async move {
        exporter
            .run_until(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });

    let target = Target::new("facade", addr);
    if let Some(prom) = PrometheusServer::start(std::slice::from_ref(&target), &[]) {
        prom.wait_up("facade", UP_WITHIN).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
        expect(&prom, "app_requests_total{job=\"facade\", method=\"GET\"}", 5.0);
        expect(&prom, "app_requests_total{job=\"facade\", method=\"POST\"}", 2.0);
        expect(&prom, "app_bytes_total{job=\"facade\"}", 4096.0);
        expect(&prom, "app_connections{job=\"facade\", pool=\"main\"}", 5.0);
        expect(&prom, "app_latency_seconds_count{job=\"facade\", route=\"/x\"}", 4.0);
        expect(&prom, "app_latency_seconds_sum{job=\"facade\", route=\"/x\"}", 3.45);
        expect(&prom, "app_latency_seconds_bucket{job=\"facade\", route=\"/x\", le=\"0.5\"}", 3.0);
        expect(&prom, "count(app_latency_seconds_bucket{job=\"facade\"})", 4.0);
        // The help text reached Prometheus' metadata API (the exporter negotiated OpenMetrics,
        // where a counter family is named without its `_total`).
        let meta = prom.api("/api/v1/metadata?metric=app_requests").unwrap();
        eprintln!("metadata app_requests => {meta}");
        assert_eq!(meta["app_requests"][0]["help"], "Requests handled, by method.", "{meta}");
        assert_eq!(meta["app_requests"][0]["type"], "counter", "{meta}");
        let meta = prom.api("/api/v1/metadata?metric=app_latency_seconds").unwrap();
        assert_eq!(meta["app_latency_seconds"][0]["help"], "Request latency.", "{meta}");
        eprintln!("metadata app_latency_seconds => {meta}");
        assert_eq!(meta["app_latency_seconds"][0]["unit"], "seconds", "{meta}");
    }
    let _ = stop.send(());
    rt.block_on(server).unwrap();
}
