//! The `/metrics` handler through its tower `Service` (as axum drives it) and through
//! `respond`: status and headers to the byte, compressed bodies, the `name[]` filter, the
//! `Process-Start-Time-Unix` header, and the handler's own metrics.

use std::time::{Duration, SystemTime};

use promkit::registry::Gatherers;
use promkit::{Format, Registry};
use promkit_http::{Encoding, FormatOffer, MetricsHandler};

use crate::{
    FIXTURE_OM, FIXTURE_TEXT, OM1, PROMETHEUS_2_ACCEPT, TEXT, call, decode, fixture, gunzip, header, line,
    parts, text,
};

#[tokio::test]
async fn text_by_default_with_exact_headers_and_body() {
    let registry = fixture();
    assert_eq!(registry.encode_string(Format::Text).unwrap(), FIXTURE_TEXT);
    let handler = MetricsHandler::builder(&registry).must_build();

    let resp = call(&handler, "/metrics", &[]).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "content-type"), Some(TEXT));
    assert_eq!(header(&resp, "content-encoding"), None);
    assert_eq!(header(&resp, "process-start-time-unix"), None);
    assert_eq!(text(&resp), FIXTURE_TEXT);

    // `respond` answers the same, header for header.
    let sync = handler.respond(&parts("/metrics", &[]));
    assert_eq!(sync.status().as_u16(), resp.status());
    assert_eq!(sync.headers(), resp.headers());
    assert_eq!(sync.body(), resp.body());
}

#[tokio::test]
async fn openmetrics_for_prometheus() {
    let registry = fixture();
    assert_eq!(registry.encode_string(Format::OPENMETRICS).unwrap(), FIXTURE_OM);
    let handler = MetricsHandler::builder(&registry).must_build();
    let accept = [("accept", PROMETHEUS_2_ACCEPT)];

    let resp = call(&handler, "/metrics", &accept).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "content-type"), Some(OM1));
    assert_eq!(header(&resp, "content-encoding"), None);
    assert_eq!(text(&resp), FIXTURE_OM);
    assert_eq!(handler.respond(&parts("/metrics", &accept)).body(), resp.body());

    // Switched off, the same scraper gets text.
    let text_only = MetricsHandler::builder(&fixture()).openmetrics(FormatOffer::Withheld).must_build();
    let resp = call(&text_only, "/metrics", &accept).await;
    assert_eq!(header(&resp, "content-type"), Some(TEXT));
    assert_eq!(text(&resp), FIXTURE_TEXT);
}

#[tokio::test]
async fn compressed_bodies_decompress_to_the_identity_body() {
    let handler = MetricsHandler::builder(&fixture()).must_build();
    for accept in [None, Some(PROMETHEUS_2_ACCEPT)] {
        let accept: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let identity = call(&handler, "/metrics", &accept).await;
        assert_eq!(header(&identity, "content-encoding"), None);
        let content_type = header(&identity, "content-type").unwrap().to_owned();

        let mut gzip_headers = accept.clone();
        gzip_headers.push(("accept-encoding", "gzip"));
        let gz = call(&handler, "/metrics", &gzip_headers).await;
        assert_eq!(gz.status(), 200);
        assert_eq!(header(&gz, "content-encoding"), Some("gzip"));
        assert_eq!(header(&gz, "content-type"), Some(content_type.as_str()));
        assert_eq!(&gz.body()[..2], b"\x1f\x8b", "gzip magic");
        assert_eq!(gunzip(gz.body()), identity.body().as_ref());
        let sync = handler.respond(&parts("/metrics", &gzip_headers));
        assert_eq!(header(&sync, "content-encoding"), Some("gzip"));
        assert_eq!(gunzip(sync.body()), identity.body().as_ref());

        #[cfg(feature = "zstd")]
        {
            let mut zstd_headers = accept.clone();
            zstd_headers.push(("accept-encoding", "zstd"));
            let z = call(&handler, "/metrics", &zstd_headers).await;
            assert_eq!(header(&z, "content-encoding"), Some("zstd"));
            assert_eq!(header(&z, "content-type"), Some(content_type.as_str()));
            assert_eq!(&z.body()[..4], b"\x28\xb5\x2f\xfd", "zstd magic");
            assert_eq!(decode(&z), identity.body().as_ref());
        }
    }

    // Compression switched off: no Content-Encoding, whatever the scraper accepts.
    let plain = MetricsHandler::builder(&fixture()).compression(&[]).must_build();
    let resp = call(&plain, "/metrics", &[("accept-encoding", "gzip, zstd, *")]).await;
    assert_eq!(header(&resp, "content-encoding"), None);
    assert_eq!(text(&resp), FIXTURE_TEXT);
    // gzip only: zstd is not offered, `*` gets gzip.
    let gzip_only = MetricsHandler::builder(&fixture()).compression(&[Encoding::Gzip]).must_build();
    let resp = call(&gzip_only, "/metrics", &[("accept-encoding", "zstd")]).await;
    assert_eq!(header(&resp, "content-encoding"), None);
    let resp = call(&gzip_only, "/metrics", &[("accept-encoding", "*")]).await;
    assert_eq!(header(&resp, "content-encoding"), Some("gzip"));
    assert_eq!(gunzip(resp.body()), FIXTURE_TEXT.as_bytes());
}

/// The families of [`FIXTURE_TEXT`] named here, in exposition order.
fn fixture_families(names: &[&str]) -> String {
    FIXTURE_TEXT
        .split_inclusive('\n')
        .fold((String::new(), false), |(mut out, mut keep), l| {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                keep = names.iter().any(|n| rest.starts_with(&format!("{n} ")));
            }
            if keep {
                out.push_str(l);
            }
            (out, keep)
        })
        .0
}

#[tokio::test]
async fn name_filter_selects_families() {
    let handler = MetricsHandler::builder(&fixture()).must_build();
    let both = fixture_families(&["jobs_total", "queue_depth"]);
    assert_eq!(
        both,
        "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3\n\
         # HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth 7\n"
    );
    for uri in [
        "/metrics?name[]=jobs_total&name[]=queue_depth",
        "/metrics?name%5B%5D=jobs_total&name%5B%5D=queue_depth",
        "/metrics?name%5b%5d=queue_depth&name[]=jobs_total",
        // Repeats, unknown names and other parameters change nothing.
        "/metrics?name[]=queue_depth&name[]=queue_depth&name[]=nope&name[]=jobs_total&debug=1",
    ] {
        let resp = call(&handler, uri, &[]).await;
        assert_eq!((resp.status().as_u16(), header(&resp, "content-type")), (200, Some(TEXT)), "{uri}");
        assert_eq!(text(&resp), both, "{uri}");
        assert_eq!(handler.respond(&parts(uri, &[])).body(), resp.body(), "{uri}");
    }
    let resp = call(&handler, "/metrics?name[]=job_duration_seconds", &[]).await;
    assert_eq!(text(&resp), fixture_families(&["job_duration_seconds"]));
    // Parameters that are not `name[]` filter nothing.
    for uri in ["/metrics?name=jobs_total", "/metrics?names[]=jobs_total", "/metrics?", "/metrics?&&="] {
        assert_eq!(text(&call(&handler, uri, &[]).await), FIXTURE_TEXT, "{uri}");
    }
    // The filter matches the registered name: `jobs_total`, as in Go.
    let resp = call(&handler, "/metrics?name[]=jobs_total", &[("accept", PROMETHEUS_2_ACCEPT)]).await;
    assert_eq!(text(&resp), "# HELP jobs Jobs done.\n# TYPE jobs counter\njobs_total 3.0\n# EOF\n");
}

#[tokio::test]
async fn name_filter_matching_nothing_is_an_empty_exposition() {
    let handler = MetricsHandler::builder(&fixture()).must_build();
    let resp = call(&handler, "/metrics?name[]=nothing_here", &[]).await;
    assert_eq!((resp.status().as_u16(), header(&resp, "content-type")), (200, Some(TEXT)));
    assert_eq!(text(&resp), "");
    let resp = call(&handler, "/metrics?name[]=nothing_here", &[("accept", PROMETHEUS_2_ACCEPT)]).await;
    assert_eq!((resp.status().as_u16(), header(&resp, "content-type")), (200, Some(OM1)));
    assert_eq!(text(&resp), "# EOF\n");
    // Compressed, the empty body still decompresses to exactly nothing.
    let resp = call(&handler, "/metrics?name[]=nothing_here", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&resp, "content-encoding"), Some("gzip"));
    assert_eq!(gunzip(resp.body()), b"");
}

#[tokio::test]
async fn name_filter_works_the_same_over_gatherers() {
    let registry = fixture();
    let single = MetricsHandler::builder(&registry).must_build();
    let gathered = MetricsHandler::for_gatherers(Gatherers::new([&registry, &Registry::new()])).must_build();
    for uri in [
        "/metrics",
        "/metrics?name[]=jobs_total",
        "/metrics?name[]=queue_depth&name[]=job_duration_seconds",
        "/metrics?name[]=nothing_here",
    ] {
        for accept in ["text/plain", PROMETHEUS_2_ACCEPT] {
            let a = call(&single, uri, &[("accept", accept)]).await;
            let b = call(&gathered, uri, &[("accept", accept)]).await;
            assert_eq!(a.headers(), b.headers(), "{uri} {accept}");
            assert_eq!(text(&a), text(&b), "{uri} {accept}");
        }
    }
}

#[tokio::test]
async fn process_start_time_header() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let handler = MetricsHandler::builder(&fixture()).process_start_time(start).must_build();
    let resp = call(&handler, "/metrics", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&resp, "process-start-time-unix"), Some("1700000000"));
    let sync = handler.respond(&parts("/metrics", &[]));
    assert_eq!(header(&sync, "process-start-time-unix"), Some("1700000000"));
    // Sub-second parts are dropped, as Go's `Unix()` does.
    let start = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_999);
    let handler = MetricsHandler::builder(&fixture()).process_start_time(start).must_build();
    assert_eq!(
        header(&handler.respond(&parts("/metrics", &[])), "process-start-time-unix"),
        Some("1700000000")
    );
}

#[tokio::test]
async fn own_metrics_after_a_known_sequence() {
    let registry = fixture();
    let handler = MetricsHandler::builder(&registry).instrument(&registry).must_build();
    let fresh = registry.encode_string(Format::Text).unwrap();
    assert_eq!(
        line(&fresh, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 0"
    );
    assert_eq!(
        line(&fresh, "promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 0"
    );

    // Three scrapes through the Service, one through `respond`, in formats and codings mixed.
    call(&handler, "/metrics", &[]).await;
    call(&handler, "/metrics", &[("accept", PROMETHEUS_2_ACCEPT), ("accept-encoding", "gzip")]).await;
    call(&handler, "/metrics?name[]=jobs_total", &[]).await;
    handler.respond(&parts("/metrics", &[]));

    // The fifth scrape sees the four before it, and itself in flight.
    let body = text(&call(&handler, "/metrics", &[]).await).to_owned();
    let own = |prefix: &str| line(&body, prefix).to_owned();
    assert_eq!(
        own("promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 4"
    );
    assert_eq!(
        own("promhttp_metric_handler_requests_total{code=\"500\"}"),
        "promhttp_metric_handler_requests_total{code=\"500\"} 0"
    );
    assert_eq!(
        own("promhttp_metric_handler_requests_total{code=\"503\"}"),
        "promhttp_metric_handler_requests_total{code=\"503\"} 0"
    );
    assert_eq!(
        own("promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 1"
    );
    assert_eq!(
        own("promhttp_metric_handler_errors_total{cause=\"gathering\"}"),
        "promhttp_metric_handler_errors_total{cause=\"gathering\"} 0"
    );
    assert_eq!(
        own("promhttp_metric_handler_errors_total{cause=\"encoding\"}"),
        "promhttp_metric_handler_errors_total{cause=\"encoding\"} 0"
    );
    assert!(body.contains("# TYPE promhttp_metric_handler_requests_total counter\n"), "{body}");
    assert!(body.contains("# TYPE promhttp_metric_handler_requests_in_flight gauge\n"), "{body}");

    // Afterwards: five counted, none in flight.
    let after = registry.encode_string(Format::Text).unwrap();
    assert_eq!(
        line(&after, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 5"
    );
    assert_eq!(
        line(&after, "promhttp_metric_handler_requests_in_flight"),
        "promhttp_metric_handler_requests_in_flight 0"
    );

    // A second handler cannot take the same names in the same registry.
    let err = MetricsHandler::builder(&registry).instrument(&registry).build().unwrap_err();
    assert!(err.to_string().contains("promhttp_metric_handler_requests_total"), "{err}");
}

#[test]
fn a_handler_serving_the_default_registry_counts_its_scrapes_as_go_does() {
    let _turn = DEFAULT_REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // The one test here on the process-wide registry: that registry is what it is about.
    let default = promkit::default_registry();
    let first = MetricsHandler::builder(default).must_build();
    // A second handler on it shares the same self-metrics instead of failing to register.
    let second = MetricsHandler::builder(default).must_build();
    let before = text(&first.respond(&parts("/metrics", &[]))).to_owned();
    let count = |body: &str| -> u64 {
        line(body, "promhttp_metric_handler_requests_total{code=\"200\"}")
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(before.contains("# TYPE promhttp_metric_handler_requests_in_flight gauge"), "{before}");
    assert!(before.contains("# TYPE process_cpu_seconds_total counter"), "{before}");
    let after = text(&second.respond(&parts("/metrics", &[]))).to_owned();
    assert_eq!(count(&after), count(&before) + 1);

    // A registry of your own stays yours: no promhttp_* unless asked.
    let own = Registry::new();
    let handler = MetricsHandler::builder(&own).must_build();
    handler.respond(&parts("/metrics", &[]));
    assert_eq!(own.encode_string(Format::Text).unwrap(), "");
    // The last call wins: `without_self_metrics` after `instrument` registers nothing.
    let quiet = Registry::new();
    MetricsHandler::builder(&quiet).instrument(&quiet).without_self_metrics().must_build();
    assert_eq!(quiet.encode_string(Format::Text).unwrap(), "");
}

/// `handler()`: Go's `promhttp.Handler()`, the default registry with the handler's own
/// metrics, built once however often it is called.
#[tokio::test]
#[allow(clippy::await_holding_lock)] // a std lock on a current-thread runtime: no other task waits
async fn the_default_handler_serves_the_default_registry_with_its_own_metrics() {
    let _turn = DEFAULT_REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let first = promkit_http::handler();
    let again = promkit_http::handler(); // no second registration, no error
    let resp = call(&first, "/metrics", &[]).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "content-type"), Some(TEXT));
    let body = text(&resp);
    let served_before = served_ok(body);
    assert!(body.contains("# TYPE promhttp_metric_handler_requests_in_flight gauge\n"), "{body}");
    // The scrape being served is in flight; the 200 is counted once it is done.
    assert!(body.contains("promhttp_metric_handler_requests_in_flight 1\n"), "{body}");
    let resp = call(&again, "/metrics", &[]).await;
    let body = text(&resp);
    assert_eq!(served_ok(body), served_before + 1);
    if cfg!(any(target_os = "linux", target_os = "android")) {
        assert!(body.contains("# TYPE process_start_time_seconds gauge\n"), "{body}");
    }
}

/// Tests on the process-wide default registry take turns: they count its scrapes.
pub(crate) static DEFAULT_REGISTRY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `promhttp_metric_handler_requests_total{code="200"}` in a body, 0 when absent.
fn served_ok(body: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix("promhttp_metric_handler_requests_total{code=\"200\"} "))
        .map_or(0, |v| v.parse().unwrap())
}
