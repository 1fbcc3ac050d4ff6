//! What goes wrong, and what the handler makes of it: malformed headers, a collector that fails
//! under each error policy, a collector that hangs past the timeout, and more concurrent scrapes
//! than the in-flight limit allows over a real loopback server.
//!
//! Nothing here waits for time to pass: blocked scrapes are held by a [`Gate`](crate::Gate)
//! and released by the test, and timeouts only bound how long a broken build would hang.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use promkit::{Format, Registry};
use promkit_http::{ErrorHandling, Exporter, MetricsHandler};
use tokio::task::JoinSet;

use crate::{
    FIXTURE_TEXT, Failing, PATIENCE, PLAIN, TEXT, call, fixture, gate, header, http_get, line, parts,
    parts_raw, register_fixture, settled, text,
};

#[tokio::test]
async fn malformed_headers_get_text_uncompressed() {
    let handler = MetricsHandler::builder(&fixture()).must_build();
    let long = "application/json;q=0.5,".repeat(5_000);
    let raw: Vec<(&'static str, Vec<u8>)> = vec![
        ("accept", b"\xff\xfe application/openmetrics-text".to_vec()),
        ("accept", b"application/openmetrics-text;version=1.0.0;q=\x80".to_vec()),
        ("accept", b"\t,\t;\t=\t".to_vec()),
        ("accept", b"a/b;c=\"d;e\",f/g;q=0.\"5\"".to_vec()),
        ("accept", long.clone().into_bytes()),
        ("accept-encoding", b"\xff\xfegzip".to_vec()),
        ("accept-encoding", b"gzip;q=\x80".to_vec()),
        ("accept-encoding", b";q=1, ;q=0.5".to_vec()),
        ("accept-encoding", "x;q=;,".repeat(5_000).into_bytes()),
    ];
    for (name, value) in &raw {
        let resp = handler.respond(&parts_raw(name, value));
        let shown = String::from_utf8_lossy(&value[..value.len().min(60)]).into_owned();
        assert_eq!(resp.status().as_u16(), 200, "{name}: {shown}");
        assert_eq!(header(&resp, "content-type"), Some(TEXT), "{name}: {shown}");
        assert_eq!(header(&resp, "content-encoding"), None, "{name}: {shown}");
        assert_eq!(text(&resp), FIXTURE_TEXT, "{name}: {shown}");
    }
    // The same through the Service, with both headers bad at once.
    let resp = call(&handler, "/metrics", &[("accept", ";;;,,,q=x/"), ("accept-encoding", ",,;;==")]).await;
    assert_eq!(
        (resp.status().as_u16(), header(&resp, "content-type"), header(&resp, "content-encoding")),
        (200, Some(TEXT), None)
    );
    assert_eq!(text(&resp), FIXTURE_TEXT);
    // A malformed query string filters nothing.
    for uri in ["/metrics?name[]", "/metrics?%zz=1&name%5B=2", "/metrics?name[]=%ff%fe"] {
        let resp = handler.respond(&parts(uri, &[]));
        assert_eq!(resp.status().as_u16(), 200, "{uri}");
        let body = text(&resp);
        assert!(body == FIXTURE_TEXT || body.is_empty(), "{uri}: {body}");
    }
}

/// A registry with families before (`aaa_first`) and after (`zzz_last`) the failing
/// `broken_metric`, so partial output shows what was kept.
fn registry_with_failing_collector() -> Registry {
    let registry = Registry::new();
    promkit::Gauge::builder("aaa_first").help("Before.").register(&registry).unwrap().set(1);
    registry.register(Failing("broken_metric")).unwrap();
    promkit::Gauge::builder("zzz_last").help("After.").register(&registry).unwrap().set(2);
    registry
}

const BEFORE_AND_AFTER: &str = "# HELP aaa_first Before.\n# TYPE aaa_first gauge\naaa_first 1\n# HELP zzz_last After.\n# TYPE zzz_last gauge\nzzz_last 2\n";

#[tokio::test]
async fn failing_collector_under_http_error_is_a_500() {
    let own = Registry::new();
    let handler = MetricsHandler::builder(&registry_with_failing_collector())
        .error_handling(ErrorHandling::HttpError)
        .instrument(&own)
        .must_build();
    let want =
        "An error has occurred while serving metrics:\n\ncollector for `broken_metric` failed: disk gone\n";
    let resp = call(&handler, "/metrics", &[("accept-encoding", "gzip")]).await;
    assert_eq!(resp.status().as_u16(), 500);
    assert_eq!(header(&resp, "content-type"), Some(PLAIN));
    assert_eq!(header(&resp, "content-encoding"), None);
    assert_eq!(text(&resp), want);
    let sync = handler.respond(&parts("/metrics", &[]));
    assert_eq!((sync.status().as_u16(), text(&sync)), (500, want));
    // A filter that leaves the failing collector out succeeds.
    let resp = call(&handler, "/metrics?name[]=zzz_last", &[]).await;
    assert_eq!(
        (resp.status().as_u16(), text(&resp)),
        (200, "# HELP zzz_last After.\n# TYPE zzz_last gauge\nzzz_last 2\n")
    );

    let metrics = own.encode_string(Format::Text).unwrap();
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_total{code=\"500\"}"),
        "promhttp_metric_handler_requests_total{code=\"500\"} 2"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 1"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_errors_total{cause=\"gathering\"}"),
        "promhttp_metric_handler_errors_total{cause=\"gathering\"} 2"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 0"
    );
}

#[tokio::test]
async fn failing_collector_under_continue_on_error_is_left_out() {
    let registry = registry_with_failing_collector();
    let handler = MetricsHandler::builder(&registry)
        .error_handling(ErrorHandling::ContinueOnError)
        .instrument(&registry)
        .must_build();
    let resp = call(&handler, "/metrics?name[]=aaa_first&name[]=zzz_last&name[]=broken_metric", &[]).await;
    assert_eq!((resp.status().as_u16(), header(&resp, "content-type")), (200, Some(TEXT)));
    // The failing family is absent, even the sample it wrote before failing.
    assert_eq!(text(&resp), BEFORE_AND_AFTER);
    let resp = call(
        &handler,
        "/metrics?name[]=aaa_first&name[]=zzz_last&name[]=broken_metric",
        &[("accept", "application/openmetrics-text;version=1.0.0")],
    )
    .await;
    assert_eq!(
        text(&resp),
        "# HELP aaa_first Before.\n# TYPE aaa_first gauge\naaa_first 1.0\n# HELP zzz_last After.\n# TYPE zzz_last gauge\nzzz_last 2.0\n# EOF\n"
    );
    // The third scrape counts the two failures before it.
    let body = text(&call(&handler, "/metrics", &[]).await).to_owned();
    assert!(!body.contains("broken_metric"), "{body}");
    assert!(body.contains("\naaa_first 1\n") && body.contains("\nzzz_last 2\n"), "{body}");
    assert_eq!(
        line(&body, "promhttp_metric_handler_errors_total{cause=\"gathering\"}"),
        "promhttp_metric_handler_errors_total{cause=\"gathering\"} 2"
    );
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 2"
    );
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_total{code=\"500\"}"),
        "promhttp_metric_handler_requests_total{code=\"500\"} 0"
    );
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(not a string)".to_owned())
}

#[tokio::test]
async fn failing_collector_under_panic_panics_the_task() {
    let own = Registry::new();
    let handler = MetricsHandler::builder(&registry_with_failing_collector())
        .error_handling(ErrorHandling::Panic)
        .instrument(&own)
        .must_build();
    let want = "error gathering metrics: collector for `broken_metric` failed: disk gone";

    // `respond` panics in the caller's thread.
    let caught = catch_unwind(AssertUnwindSafe(|| handler.respond(&parts("/metrics", &[]))));
    let payload = caught.expect_err("respond should panic");
    assert_eq!(panic_message(&*payload), want);

    // Through the Service, the serving task panics with the same message.
    let h = handler.clone();
    let joined = tokio::spawn(async move { call(&h, "/metrics", &[]).await }).await;
    let err = joined.expect_err("the serving task should panic");
    assert!(err.is_panic());
    assert_eq!(panic_message(&*err.into_panic()), want);

    // Nothing was answered, nothing is left in flight, and the handler still serves what it can.
    let metrics = own.encode_string(Format::Text).unwrap();
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 0"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 0"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_total{code=\"500\"}"),
        "promhttp_metric_handler_requests_total{code=\"500\"} 0"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_errors_total{cause=\"gathering\"}"),
        "promhttp_metric_handler_errors_total{cause=\"gathering\"} 2"
    );
    let resp = call(&handler, "/metrics?name[]=aaa_first", &[]).await;
    assert_eq!(
        (resp.status().as_u16(), text(&resp)),
        (200, "# HELP aaa_first Before.\n# TYPE aaa_first gauge\naaa_first 1\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_collector_times_out_and_other_scrapes_go_on() {
    let registry = fixture();
    let (g, mut gate) = gate();
    registry.register(g).unwrap();
    let handler = MetricsHandler::builder(&registry)
        .timeout(Duration::from_millis(200))
        .max_requests_in_flight(2)
        .instrument(&registry)
        .must_build();

    // The first scrape blocks in the collector; the handler gives up on it after 200 ms.
    let h = handler.clone();
    let hung = tokio::spawn(async move { call(&h, "/metrics", &[]).await });
    tokio::time::timeout(PATIENCE, gate.entered()).await.expect("the scrape never reached the collector");
    let resp = tokio::time::timeout(PATIENCE, hung).await.expect("no timeout answer").unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(header(&resp, "content-type"), Some(PLAIN));
    assert_eq!(text(&resp), "Exceeded configured timeout of 200ms.\n");

    // The hung collection still holds one of the two slots; the next scrape takes the other.
    let resp = call(&handler, "/metrics", &[]).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body = text(&resp);
    assert!(body.starts_with("# HELP gate_open "), "{body}");
    assert_eq!(
        line(body, "promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 2"
    );
    assert_eq!(
        line(body, "promhttp_metric_handler_requests_total{code=\"503\"}"),
        "promhttp_metric_handler_requests_total{code=\"503\"} 1"
    );
    assert_eq!(line(body, "jobs_total"), "jobs_total 3");

    // Released, the hung collection finishes and gives its slot back. Its response went
    // nowhere, so it is not counted as a 200.
    gate.release();
    let body = settled(&registry).await;
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 1"
    );
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_total{code=\"503\"}"),
        "promhttp_metric_handler_requests_total{code=\"503\"} 1"
    );
    // Both slots are free again.
    let (a, b) = tokio::join!(call(&handler, "/metrics", &[]), call(&handler, "/metrics", &[]));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_beyond_the_in_flight_limit_over_loopback() {
    let registry = Registry::new();
    register_fixture(&registry);
    let (g, mut gate) = gate();
    registry.register(g).unwrap();
    let handler =
        MetricsHandler::builder(&registry).max_requests_in_flight(1).instrument(&registry).must_build();
    let exporter = Exporter::bind("127.0.0.1:0".parse().unwrap(), handler).await.unwrap();
    let addr = exporter.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(exporter.run_until(async {
        let _ = stopped.await;
    }));

    // One scrape is held inside the collector, holding the only slot.
    let held = tokio::spawn(async move { http_get(addr, "/metrics", &[("accept-encoding", "gzip")]).await });
    tokio::time::timeout(PATIENCE, gate.entered()).await.expect("the scrape never reached the collector");

    // Every other scrape is turned away at once.
    const FLOOD: usize = 12;
    let mut flood = JoinSet::new();
    for i in 0..FLOOD {
        let accept = if i % 2 == 0 { "text/plain" } else { crate::PROMETHEUS_2_ACCEPT };
        flood.spawn(async move {
            http_get(addr, "/metrics", &[("accept", accept), ("accept-encoding", "gzip")]).await
        });
    }
    let refused = tokio::time::timeout(PATIENCE, flood.join_all()).await.expect("the flood hung");
    for resp in &refused {
        assert_eq!(resp.status().as_u16(), 503);
        assert_eq!(header(resp, "content-type"), Some(PLAIN));
        assert_eq!(header(resp, "content-encoding"), None);
        assert_eq!(text(resp), "Limit of concurrent requests reached (1), try again later.\n");
    }
    // The landing page is not behind the limit.
    assert_eq!(http_get(addr, "/", &[]).await.status(), 200);

    // Released, the held scrape completes in full.
    gate.release();
    let resp = tokio::time::timeout(PATIENCE, held).await.expect("the held scrape never finished").unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "content-encoding"), Some("gzip"));
    let body = String::from_utf8(crate::decode(&resp)).unwrap();
    assert!(body.starts_with("# HELP gate_open Test collector gate_open.\n"), "{body}");
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_total{code=\"503\"}"),
        format!("promhttp_metric_handler_requests_total{{code=\"503\"}} {FLOOD}")
    );

    // And scrapes succeed again, one after another.
    for _ in 0..3 {
        let resp = http_get(addr, "/metrics", &[]).await;
        assert_eq!(resp.status().as_u16(), 200, "{}", text(&resp));
    }
    let body = text(&http_get(addr, "/metrics", &[]).await).to_owned();
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 4"
    );
    assert_eq!(
        line(&body, "promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 1"
    );

    let _ = stop.send(());
    tokio::time::timeout(PATIENCE, server).await.expect("the exporter did not shut down").unwrap().unwrap();
}
