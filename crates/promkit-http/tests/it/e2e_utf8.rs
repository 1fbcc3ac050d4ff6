//! A real Prometheus scrapes a registry with UTF-8 names through the handler, and PromQL finds
//! the series under the names the negotiated escaping gave them.
//!
//! Debian 12's Prometheus 2.42 names no `escaping=` in its `Accept` header, so the handler
//! answers with `underscores`, Go's default: `http.server.duration` arrives as
//! `http_server_duration`, which that server can store. A Prometheus 3 (which asks for
//! `allow-utf-8`) would get the quoted names instead and store them as they are; the query
//! for that case runs when the server is a 3.x.

use std::time::Duration;

use promkit::{Buckets, Counter, Histogram, NameValidation, Registry};
use promkit_http::{Exporter, MetricsHandler};
use promkit_oracle::prometheus::{PrometheusServer, Target, http_get};
use tokio::sync::oneshot;

use crate::{OM1, PROMETHEUS_2_ACCEPT};

/// Upper bound for the first successful scrape: discovery takes about 5 s.
const UP_WITHIN: Duration = Duration::from_secs(30);

/// Asserts that `promql` evaluates to exactly `want`, printing the pair for the test log.
fn expect(prom: &PrometheusServer, promql: &str, want: f64) {
    let got = prom.query_scalar(promql).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    eprintln!("PromQL {promql} => {got:?}");
    assert_eq!(got, Some(want), "{promql}");
}

#[test]
fn prometheus_stores_escaped_utf8_names_and_promql_finds_them() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let registry = Registry::builder().name_validation(NameValidation::Utf8).build();
    let latency = Histogram::builder("http.server.duration")
        .help("Request latency.")
        .buckets(Buckets::new([0.1, 1.0]).unwrap())
        .labels(["http.route", "code"])
        .register(&registry)
        .unwrap();
    let ok = latency.with_label_values(&["/api/v1", "200"]).unwrap();
    for v in [0.05, 0.5, 0.7] {
        ok.observe(v);
    }
    Counter::builder("jobs.done_total").help("Jobs.").register(&registry).unwrap().inc_by(4);

    let handler = MetricsHandler::builder(&registry).must_build();
    let exporter = rt.block_on(Exporter::bind("127.0.0.1:0".parse().unwrap(), handler)).unwrap();
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

    // What Prometheus 2 gets for its own header: OpenMetrics, names escaped with underscores.
    let resp = http_get(addr, "/metrics", &[("Accept", PROMETHEUS_2_ACCEPT)]).unwrap();
    assert_eq!(resp.header("content-type"), Some(OM1));
    let body = resp.text();
    assert!(body.contains("\nhttp_server_duration_count{code=\"200\",http_route=\"/api/v1\"} 3\n"), "{body}");
    assert!(!body.contains("{\""), "no quoted name for Prometheus 2:\n{body}");

    let target = Target::new("utf8", addr);
    let Some(prom) = PrometheusServer::start(std::slice::from_ref(&target), &[]) else {
        let _ = stop.send(());
        rt.block_on(server).unwrap();
        return;
    };
    prom.wait_up(&target.job, UP_WITHIN).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    let version = prom.version().unwrap();
    eprintln!("Prometheus {version}");
    if version.starts_with("2.") {
        let sel = "{job=\"utf8\", http_route=\"/api/v1\", code=\"200\"}";
        expect(&prom, &format!("http_server_duration_count{sel}"), 3.0);
        expect(&prom, &format!("http_server_duration_sum{sel}"), 1.25);
        expect(&prom, &format!("count(http_server_duration_bucket{sel})"), 3.0);
        expect(&prom, &format!("histogram_quantile(1, http_server_duration_bucket{sel})"), 1.0);
        expect(&prom, "jobs_done_total{job=\"utf8\"}", 4.0);
    } else {
        // Prometheus 3 asked for `allow-utf-8`: the names are stored as they are.
        let sel = "{\"http.server.duration_count\", job=\"utf8\", \"http.route\"=\"/api/v1\"}";
        expect(&prom, sel, 3.0);
        expect(&prom, "{\"jobs.done_total\", job=\"utf8\"}", 4.0);
    }

    drop(prom);
    let _ = stop.send(());
    rt.block_on(server).unwrap();
}
