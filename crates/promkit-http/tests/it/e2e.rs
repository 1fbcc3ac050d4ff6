//! A real Prometheus server scrapes promkit's endpoints, and PromQL over its HTTP API reads
//! back the values the test recorded.
//!
//! One Prometheus run scrapes five jobs, so the whole test takes one target-discovery delay
//! (about 5 s) instead of five:
//!
//! - `exporter_text`: the standalone [`Exporter`] with a handler that offers text only;
//! - `exporter_om`: another `Exporter` for the same registry with the default handler, so
//!   Prometheus negotiates OpenMetrics;
//! - `axum`: an axum app with `/metrics` mounted through `route_service` and the server
//!   middleware on every route;
//! - `exporter_streamed`: an `Exporter` streaming a 12,000-series exposition in pieces;
//! - `exporter_cut`: the same with a collector failing after the first piece, whose cut-off
//!   answer Prometheus must record as a failed scrape.
//!
//! The registry holds the fixture (a counter, a gauge and a histogram with known observations)
//! and the process collector. Assertions are on exact values: nothing depends on a rate or on
//! when a scrape happened, except the two checks on Prometheus' own scrapes, which poll.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use promkit::{Registry, collectors::ProcessCollector};
use promkit_http::middleware::HttpMetrics;
use promkit_http::{Exporter, FormatOffer, MetricsHandler};
use promkit_oracle::prometheus::{PrometheusServer, Target, http_get};
use tokio::sync::oneshot;

use crate::{OM1, PROMETHEUS_2_ACCEPT, TEXT, fixture, gunzip};

/// Upper bound for a job's first successful scrape: discovery takes about 5 s.
const UP_WITHIN: Duration = Duration::from_secs(30);

/// Asserts that `promql` evaluates to exactly `want` (a value from the first scrape, so no
/// polling), and prints the pair for the test log.
fn expect(prom: &PrometheusServer, promql: &str, want: f64) {
    let got = prom.query_scalar(promql).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("PromQL {promql} => {got:?}");
    assert_eq!(got, Some(want), "{promql}");
}

/// Asserts that `promql` has no result.
fn expect_empty(prom: &PrometheusServer, promql: &str) {
    let got = prom.query_scalar(promql).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("PromQL {promql} => {got:?}");
    assert_eq!(got, None, "{promql}");
}

#[test]
fn prometheus_scrapes_the_exporter_and_an_axum_app() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // (a) The standalone exporter, twice over one registry: text only, and negotiated.
    let registry = fixture();
    ProcessCollector::builder().register(&registry).unwrap();
    let text_handler = MetricsHandler::builder(&registry).openmetrics(FormatOffer::Withheld).must_build();
    let om_handler = MetricsHandler::builder(&registry).must_build();
    let mut stops = Vec::new();
    let mut servers = Vec::new();
    let mut start_exporter = |handler| {
        let exporter = rt.block_on(Exporter::bind("127.0.0.1:0".parse().unwrap(), handler)).unwrap();
        let addr = exporter.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        servers.push(rt.spawn(async move {
            exporter
                .run_until(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        }));
        addr
    };
    let text_addr = start_exporter(text_handler);
    let om_addr = start_exporter(om_handler);

    // Two more exporters: one streaming an exposition larger than one piece (about 450 kB,
    // gzip-compressed as it goes since Prometheus asks for gzip), and one whose collector fails
    // after the first piece went out, a cut-off answer.
    let big = Registry::new();
    let sum_of_one_family = (0..1_000u64).sum::<u64>() as f64;
    for f in 0..12 {
        let family = promkit::Counter::builder(format!("streamed_{f:02}_total"))
            .help("A family of a thousand series.")
            .labels(["path"])
            .register(&big)
            .unwrap();
        for i in 0..1_000u64 {
            family.with_label_values(&[&format!("/api/item/{i}")]).unwrap().inc_by(i);
        }
    }
    let streamed_addr = start_exporter(MetricsHandler::builder(&big).must_build());
    let cut = Registry::new();
    for f in 0..12 {
        let family =
            promkit::Counter::builder(format!("cut_{f:02}_total")).labels(["path"]).register(&cut).unwrap();
        for i in 0..1_000u64 {
            family.with_label_values(&[&format!("/api/item/{i}")]).unwrap().inc();
        }
    }
    cut.register(crate::Failing("zzz_broken")).unwrap();
    // Text, uncompressed: neither OpenMetrics' `# EOF` nor a gzip trailer would be missing
    // from a short body, so only the cut itself can tell Prometheus the scrape failed.
    let cut_handler = MetricsHandler::builder(&cut).openmetrics(FormatOffer::Withheld).compression(&[]);
    let cut_addr = start_exporter(cut_handler.must_build());

    // (b) An axum app: /metrics through route_service, the server middleware on every route.
    let app_registry = Registry::new();
    let http_metrics = HttpMetrics::builder().register(&app_registry).unwrap();
    let app_handler = MetricsHandler::builder(&app_registry).instrument(&app_registry).must_build();
    let app = Router::new()
        .route("/hello", get(|| async { "hello\n" }))
        .route_service("/metrics", app_handler)
        .layer(http_metrics.all());
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let app_addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    stops.push(stop);
    servers.push(rt.spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    }));

    // Traffic with known counts before Prometheus starts: three GETs of /hello.
    for _ in 0..3 {
        let resp = http_get(app_addr, "/hello", &[]).unwrap();
        assert_eq!((resp.status, resp.text().as_str()), (200, "hello\n"));
    }

    // What each exporter answers to Prometheus 2's own headers: text from one, OpenMetrics
    // from the other, gzip-compressed as asked.
    let prometheus_headers = [("Accept", PROMETHEUS_2_ACCEPT), ("Accept-Encoding", "gzip")];
    for (addr, content_type) in [(text_addr, TEXT), (om_addr, OM1), (app_addr, OM1)] {
        let resp = http_get(addr, "/metrics", &prometheus_headers).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some(content_type), "{addr}");
        assert_eq!(resp.header("content-encoding"), Some("gzip"), "{addr}");
        let body = String::from_utf8(gunzip(&resp.body)).unwrap();
        assert_eq!(body.ends_with("# EOF\n"), content_type == OM1, "{addr}:\n{body}");
    }

    let streamed = http_get(streamed_addr, "/metrics", &prometheus_headers).unwrap();
    assert_eq!(streamed.header("transfer-encoding"), Some("chunked"));
    assert_eq!(streamed.header("content-encoding"), Some("gzip"));
    let body = String::from_utf8(gunzip(&streamed.body)).unwrap();
    assert_eq!(body.lines().filter(|l| l.starts_with("streamed_")).count(), 12_000);
    assert!(body.ends_with("# EOF\n"));

    let targets = [
        Target::new("exporter_text", text_addr),
        Target::new("exporter_om", om_addr),
        Target::new("axum", app_addr),
        Target::new("exporter_streamed", streamed_addr),
        Target::new("exporter_cut", cut_addr),
    ];
    let Some(prom) = PrometheusServer::start(&targets, &[]) else {
        shut_down(&rt, stops, servers);
        return;
    };
    for target in &targets[..4] {
        prom.wait_up(&target.job, UP_WITHIN).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    }
    let version = prom.version().unwrap();
    eprintln!("Prometheus {version}");
    // The cut-off answer is a failed scrape (polled: `up` appears with the first attempt).
    let cut_up = prom.wait_for("up{job=\"exporter_cut\"}", |v| v == 0.0, UP_WITHIN);
    eprintln!("PromQL up{{job=\"exporter_cut\"}} == 0 => {cut_up:?}");
    cut_up.unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    expect_empty(&prom, "cut_00_total{job=\"exporter_cut\"}");
    expect(&prom, "count(up == 1)", 4.0);

    // The streamed exposition arrived whole.
    expect(&prom, "count({__name__=~\"streamed_.._total\", job=\"exporter_streamed\"})", 12_000.0);
    expect(&prom, "sum(streamed_11_total{job=\"exporter_streamed\"})", sum_of_one_family);
    expect(&prom, "streamed_00_total{job=\"exporter_streamed\", path=\"/api/item/999\"}", 999.0);

    for job in ["exporter_text", "exporter_om"] {
        let sel = format!("{{job=\"{job}\"}}");
        expect(&prom, &format!("jobs_total{sel}"), 3.0);
        expect(&prom, &format!("queue_depth{sel}"), 7.0);
        expect(&prom, &format!("job_duration_seconds_count{sel}"), 4.0);
        expect(&prom, &format!("job_duration_seconds_sum{sel}"), 6.5);
        expect(&prom, &format!("count(job_duration_seconds_bucket{sel})"), 4.0);
        // Rank 2 of 4 falls in (1, 2], which holds observations 2 and 3 of the bucket counts
        // 1, 3: 1 + (2 - 1) * (2 - 1) / (3 - 1) = 1.5, exactly.
        expect(&prom, &format!("histogram_quantile(0.5, job_duration_seconds_bucket{sel})"), 1.5);
        expect(&prom, &format!("histogram_quantile(1, job_duration_seconds_bucket{sel})"), 4.0);
        // The process collector: a start time in the past, and the one process behind both jobs.
        let start = prom.query_scalar(&format!("process_start_time_seconds{sel}")).unwrap();
        eprintln!("PromQL process_start_time_seconds{sel} => {start:?}");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(start.is_some_and(|s| s > 0.0 && s <= now), "{start:?}");
        expect(&prom, &format!("count(process_resident_memory_bytes{sel} > 0)"), 1.0);
    }
    expect_empty(
        &prom,
        "process_start_time_seconds{job=\"exporter_text\"} != on() process_start_time_seconds{job=\"exporter_om\"}",
    );
    // Which format Prometheus read: 2.x stores `le` as written, and OpenMetrics writes "1.0"
    // where text writes "1" (3.x normalizes both to "1.0").
    if version.starts_with("2.") {
        expect(&prom, "count(job_duration_seconds_bucket{job=\"exporter_om\", le=\"1.0\"})", 1.0);
        expect(&prom, "count(job_duration_seconds_bucket{job=\"exporter_text\", le=\"1\"})", 1.0);
        expect_empty(&prom, "job_duration_seconds_bucket{job=\"exporter_text\", le=\"1.0\"}");
    }

    // The axum app: the middleware counted the three GETs under their route template, and
    // counts Prometheus' scrapes of /metrics as they come (polled: they land one scrape late).
    expect(
        &prom,
        "http_server_requests_total{job=\"axum\", route=\"/hello\", method=\"GET\", code=\"200\"}",
        3.0,
    );
    expect(&prom, "http_server_request_duration_seconds_count{job=\"axum\", route=\"/hello\"}", 3.0);
    let sel = "{job=\"axum\", route=\"/metrics\", method=\"GET\", code=\"200\"}";
    let scrapes = prom.wait_for(&format!("http_server_requests_total{sel}"), |v| v >= 2.0, UP_WITHIN);
    eprintln!("PromQL http_server_requests_total{sel} >= 2 => {scrapes:?}");
    scrapes.unwrap();
    let own = prom.wait_for(
        "promhttp_metric_handler_requests_total{job=\"axum\", code=\"200\"}",
        |v| v >= 2.0,
        UP_WITHIN,
    );
    eprintln!("PromQL promhttp_metric_handler_requests_total{{job=\"axum\", code=\"200\"}} >= 2 => {own:?}");
    own.unwrap();
    expect(&prom, "promhttp_metric_handler_requests_total{job=\"axum\", code=\"503\"}", 0.0);

    drop(prom);
    shut_down(&rt, stops, servers);
}

/// Stops the servers and waits for them.
fn shut_down(
    rt: &tokio::runtime::Runtime,
    stops: Vec<oneshot::Sender<()>>,
    servers: Vec<tokio::task::JoinHandle<()>>,
) {
    for stop in stops {
        let _ = stop.send(());
    }
    for server in servers {
        rt.block_on(server).unwrap();
    }
}
