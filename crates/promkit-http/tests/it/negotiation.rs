//! Tables of `Accept` and `Accept-Encoding` headers, sent through the handler's tower `Service`,
//! and the Content-Type / Content-Encoding each gets; the negotiated bodies checked by the
//! official Python parsers.
//!
//! The scraper headers are copied from Prometheus' source: 2.5 to 2.48 send a constant
//! (`scrape/scrape.go`); from 2.49 `acceptHeader(scrape_protocols)` builds one, weights counting
//! down from `0.<len(ScrapeProtocolsHeaders)+1>` (`config/config.go`); Prometheus 3.0 appends
//! `escaping=allow-utf-8` to every range, later 3.x only to the 1.0.0 formats, with the scrape
//! config's `metric_name_escaping_scheme` (`allow-utf-8` by default, `underscores` when name
//! validation is `legacy`).

use promkit::Format as EncodeFormat;
use promkit_http::{FormatOffer, MetricsHandler};
use promkit_oracle::{Format, python_parse};

use crate::{
    FIXTURE_OM, FIXTURE_TEXT, OM0, OM1, PROMETHEUS_2_ACCEPT, TEXT, call, decode, fixture, header, text,
};

const TEXT1: &str = "text/plain; version=1.0.0; charset=utf-8";
const PROTO: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// Prometheus 2.49 to 2.55, default `scrape_protocols` (four protocols known, so weights
/// start at 0.5).
const PROMETHEUS_2_49: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Prometheus 2.49 to 2.55 with native histograms on (`PrometheusProto` first).
const PROMETHEUS_2_49_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,application/openmetrics-text;version=0.0.1;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// Prometheus 3.0: UTF-8 names, `escaping=allow-utf-8` on every range.
const PROMETHEUS_3_0: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;escaping=allow-utf-8;q=0.3,*/*;q=0.2";
/// Later Prometheus 3.x, default: escaping only on the 1.0.0 formats.
const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Later Prometheus 3.x with `metric_name_validation_scheme: legacy`.
const PROMETHEUS_3_LEGACY: &str = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Later Prometheus 3.x with native histograms on (`scrape_native_histograms`): protobuf first.
const PROMETHEUS_3_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// Prometheus 3 with `scrape_protocols: [PrometheusText1.0.0]`.
const PROMETHEUS_3_TEXT1_ONLY: &str = "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,*/*;q=0.5";
/// Prometheus 3 with `scrape_protocols: [PrometheusText0.0.4]`.
const PROMETHEUS_3_TEXT_ONLY: &str = "text/plain;version=0.0.4;q=0.6,*/*;q=0.5";

/// `(what, Accept or None, Content-Type with everything offered, with OpenMetrics and
/// protobuf switched off)`.
fn accept_table() -> Vec<(&'static str, Option<&'static str>, String, String)> {
    let s = |x: &str| x.to_owned();
    let esc = |base: &str, scheme: &str| format!("{base}; escaping={scheme}");
    vec![
        ("Prometheus 2.5-2.48", Some(PROMETHEUS_2_ACCEPT), s(OM1), s(TEXT)),
        ("Prometheus 2.49-2.55", Some(PROMETHEUS_2_49), s(OM1), s(TEXT)),
        ("Prometheus 2.49-2.55 native histograms", Some(PROMETHEUS_2_49_NATIVE), s(PROTO), s(TEXT)),
        ("Prometheus 3.0", Some(PROMETHEUS_3_0), esc(OM1, "allow-utf-8"), esc(TEXT1, "allow-utf-8")),
        ("Prometheus 3", Some(PROMETHEUS_3), esc(OM1, "allow-utf-8"), esc(TEXT1, "allow-utf-8")),
        (
            "Prometheus 3 legacy names",
            Some(PROMETHEUS_3_LEGACY),
            esc(OM1, "underscores"),
            esc(TEXT1, "underscores"),
        ),
        // The protobuf range has no escaping parameter, so none is echoed.
        ("Prometheus 3 native histograms", Some(PROMETHEUS_3_NATIVE), s(PROTO), esc(TEXT1, "allow-utf-8")),
        (
            "Prometheus 3 text 1.0.0 only",
            Some(PROMETHEUS_3_TEXT1_ONLY),
            esc(TEXT1, "allow-utf-8"),
            esc(TEXT1, "allow-utf-8"),
        ),
        ("Prometheus 3 text 0.0.4 only", Some(PROMETHEUS_3_TEXT_ONLY), s(TEXT), s(TEXT)),
        ("curl", Some("*/*"), s(TEXT), s(TEXT)),
        ("no header", None, s(TEXT), s(TEXT)),
        ("empty header", Some(""), s(TEXT), s(TEXT)),
        (
            "browser",
            Some("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
            s(TEXT),
            s(TEXT),
        ),
        ("text/plain", Some("text/plain"), s(TEXT), s(TEXT)),
        ("text/plain 0.0.4", Some("text/plain; version=0.0.4"), s(TEXT), s(TEXT)),
        ("text/plain 1.0.0", Some("text/plain;version=1.0.0"), s(TEXT1), s(TEXT1)),
        ("OpenMetrics without version", Some("application/openmetrics-text"), s(OM0), s(TEXT)),
        ("OpenMetrics 0.0.1", Some("application/openmetrics-text; version=0.0.1"), s(OM0), s(TEXT)),
        (
            "OpenMetrics 1.0.0, spaces",
            Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            s(OM1),
            s(TEXT),
        ),
        (
            "OpenMetrics 1.0.0, quoted version",
            Some("application/openmetrics-text;version=\"1.0.0\""),
            s(OM1),
            s(TEXT),
        ),
        ("media type in capitals", Some("Application/OpenMetrics-Text;version=1.0.0"), s(OM1), s(TEXT)),
        // q-values decide, not the order of the list.
        (
            "q: text preferred",
            Some("application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.3"),
            s(TEXT),
            s(TEXT),
        ),
        (
            "q: OpenMetrics preferred",
            Some("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0"),
            s(OM1),
            s(TEXT),
        ),
        (
            "q: equal, first listed",
            Some(
                "application/openmetrics-text;version=0.0.1;q=0.5,application/openmetrics-text;version=1.0.0;q=0.5",
            ),
            s(OM0),
            s(TEXT),
        ),
        (
            "q: 1.0 spelled out",
            Some("text/plain;q=0.999,application/openmetrics-text;version=1.0.0;q=1.000"),
            s(OM1),
            s(TEXT),
        ),
        // Wildcards: `*/*` and `type/*` match nothing but the default, and rank below a
        // specific type at equal q.
        ("wildcard first", Some("*/*,application/openmetrics-text;version=1.0.0"), s(OM1), s(TEXT)),
        ("type wildcard", Some("application/*"), s(TEXT), s(TEXT)),
        ("text wildcard", Some("text/*;q=1,application/openmetrics-text;q=0.1"), s(OM0), s(TEXT)),
        // q=0 means "not acceptable".
        ("q=0", Some("application/openmetrics-text;version=1.0.0;q=0"), s(TEXT), s(TEXT)),
        (
            "q=0.000 before a wildcard",
            Some("application/openmetrics-text;version=1.0.0;q=0.000,*/*"),
            s(TEXT),
            s(TEXT),
        ),
        (
            "q=0 on the better one",
            Some(
                "application/openmetrics-text;version=1.0.0;q=0,application/openmetrics-text;version=0.0.1;q=0.1",
            ),
            s(OM0),
            s(TEXT),
        ),
        // Versions promkit does not write are not that format.
        ("unknown OpenMetrics version", Some("application/openmetrics-text;version=2.0.0"), s(TEXT), s(TEXT)),
        (
            "unknown text version, OpenMetrics next",
            Some("text/plain;version=9.9.9,application/openmetrics-text;version=1.0.0;q=0.5"),
            s(OM1),
            s(TEXT),
        ),
        (
            "protobuf without encoding",
            Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily"),
            s(TEXT),
            s(TEXT),
        ),
        (
            "protobuf text encoding",
            Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"),
            s(TEXT),
            s(TEXT),
        ),
        (
            "protobuf, other message",
            Some("application/vnd.google.protobuf;proto=foo.Bar;encoding=delimited"),
            s(TEXT),
            s(TEXT),
        ),
        // Escaping schemes are echoed; unknown ones are ignored.
        (
            "escaping underscores",
            Some("text/plain;version=1.0.0;escaping=underscores"),
            esc(TEXT1, "underscores"),
            esc(TEXT1, "underscores"),
        ),
        (
            "escaping dots",
            Some("text/plain;version=1.0.0;escaping=dots"),
            esc(TEXT1, "dots"),
            esc(TEXT1, "dots"),
        ),
        (
            // Switched off, OpenMetrics is passed over but its escaping is kept, as Go does.
            "escaping values",
            Some("application/openmetrics-text;version=1.0.0;escaping=values"),
            esc(OM1, "values"),
            esc(TEXT, "values"),
        ),
        ("escaping unknown", Some("text/plain;escaping=bogus"), s(TEXT), s(TEXT)),
        // Garbage is text, never an error.
        ("garbage", Some(";;;,,,q=x/"), s(TEXT), s(TEXT)),
        ("no slash", Some("openmetrics"), s(TEXT), s(TEXT)),
        ("bad q", Some("application/openmetrics-text;version=1.0.0;q=bogus"), s(TEXT), s(TEXT)),
        ("q above 1", Some("application/openmetrics-text;version=1.0.0;q=2"), s(TEXT), s(TEXT)),
        ("negative q", Some("application/openmetrics-text;version=1.0.0;q=-1"), s(TEXT), s(TEXT)),
        ("parameter without value", Some("application/openmetrics-text;version;q"), s(OM0), s(TEXT)),
        // Quotes around a parameter value are trimmed, leniently: a lone one too.
        ("unterminated quote", Some("application/openmetrics-text;version=\"1.0.0"), s(OM1), s(TEXT)),
    ]
}

#[tokio::test]
async fn accept_headers_choose_the_content_type() {
    let all = MetricsHandler::builder(&fixture()).must_build();
    let text_only = MetricsHandler::builder(&fixture())
        .openmetrics(FormatOffer::Withheld)
        .protobuf(FormatOffer::Withheld)
        .must_build();
    let mut failures = Vec::new();
    for (what, accept, want_all, want_text_only) in accept_table() {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        for (handler, want, which) in [(&all, &want_all, "all"), (&text_only, &want_text_only, "text only")] {
            let resp = call(handler, "/metrics", &headers).await;
            let got = header(&resp, "content-type").unwrap_or("(none)");
            if resp.status() != 200 || got != want {
                failures.push(format!(
                    "{what} ({which}): {accept:?}\n   got {} {got}\n  want 200 {want}",
                    resp.status()
                ));
            }
            // The body matches the Content-Type.
            let body = decode(&resp);
            let expect: &[u8] = if got.starts_with("application/openmetrics-text") {
                FIXTURE_OM.as_bytes()
            } else if got.starts_with("text/plain") {
                FIXTURE_TEXT.as_bytes()
            } else {
                &body
            };
            if body != expect {
                failures.push(format!(
                    "{what} ({which}): body does not match {got}:\n{}",
                    String::from_utf8_lossy(&body)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn protobuf_body_for_native_histogram_scrapers() {
    // One registry for both, so the `_created` timestamps agree.
    let registry = fixture();
    let handler = MetricsHandler::builder(&registry).must_build();
    let resp = call(&handler, "/metrics", &[("accept", PROMETHEUS_3_NATIVE)]).await;
    assert_eq!(header(&resp, "content-type"), Some(PROTO));
    let mut want = Vec::new();
    registry.encode(EncodeFormat::Protobuf, &mut want).unwrap();
    assert_eq!(resp.body().as_ref(), want.as_slice());
    // Go's decoder reads it back as the fixture's families.
    if let Some(decoded) = promkit_oracle::go_decode_protobuf(resp.body()) {
        let canon = decoded.unwrap_or_else(|e| panic!("Go rejects the protobuf body: {e}"));
        assert!(canon.contains("jobs_total 3"), "{canon}");
        assert!(canon.contains("job_duration_seconds_count 4"), "{canon}");
    }
}

/// `(Accept-Encoding, Content-Encoding with every coding offered)`.
const ENCODING_TABLE: &[(&str, Option<&str>)] = &[
    ("gzip", Some("gzip")), // Prometheus, enable_compression: true (default)
    ("identity", None),     // Prometheus, enable_compression: false
    ("gzip;q=0", None),
    ("gzip;q=0, identity;q=0", None), // nothing acceptable: identity beats a 406
    ("*;q=0", None),
    ("br", None),
    ("deflate", None),
    ("zstd", Some("zstd")),
    ("ZSTD", Some("zstd")),
    ("GZip", Some("gzip")),
    ("*", Some("zstd")),                       // equal q: promkit's preference, zstd first
    ("gzip, deflate, br", Some("gzip")),       // older browsers
    ("gzip, deflate, br, zstd", Some("zstd")), // current browsers
    ("zstd;q=0.5, gzip", Some("gzip")),
    ("gzip;q=0.5, *;q=0.8", Some("zstd")), // `*` stands for zstd, at 0.8
    ("gzip;q=0.5, identity", None),
    ("gzip ; q=0.7 , zstd ; q=0.6", Some("gzip")),
    ("", None),
    (",,;;==", None),
    ("gzip;q=nonsense", None),
    ("gzip;q=1.5", None),
    ("x-gzip", None),
];

#[tokio::test]
async fn accept_encoding_chooses_the_coding() {
    let handler = MetricsHandler::builder(&fixture()).must_build();
    let mut failures = Vec::new();
    for &(accept_encoding, want) in ENCODING_TABLE {
        #[cfg(not(feature = "zstd"))]
        let want = match want {
            Some("zstd") => Some("gzip"),
            other => other,
        };
        let resp = call(&handler, "/metrics", &[("accept-encoding", accept_encoding)]).await;
        let got = header(&resp, "content-encoding");
        if resp.status() != 200 || got != want {
            failures.push(format!("{accept_encoding:?}: got {} {got:?}, want 200 {want:?}", resp.status()));
        } else if decode(&resp) != FIXTURE_TEXT.as_bytes() {
            failures.push(format!("{accept_encoding:?}: body does not decode to the identity body"));
        }
        assert_eq!(header(&resp, "content-type"), Some(TEXT));
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// A parsed family as `(name, type, [(sample name, value)])`.
type FamilySummary = (String, String, Vec<(String, f64)>);

#[tokio::test]
async fn negotiated_bodies_parse_with_the_python_parsers() {
    let handler = MetricsHandler::builder(&fixture()).must_build();
    // (Accept, parser) for each text format and both OpenMetrics versions, gzip-compressed.
    let cases = [
        (None, Format::Text),
        (Some(PROMETHEUS_3_TEXT1_ONLY), Format::Text),
        (Some(PROMETHEUS_2_ACCEPT), Format::OpenMetrics),
        (Some("application/openmetrics-text"), Format::OpenMetrics),
    ];
    for (accept, format) in cases {
        let mut headers = vec![("accept-encoding", "gzip")];
        headers.extend(accept.map(|a| ("accept", a)));
        let resp = call(&handler, "/metrics", &headers).await;
        let body = String::from_utf8(decode(&resp)).unwrap();
        let Some(parsed) = python_parse(&body, format) else { return };
        let families = parsed.unwrap_or_else(|e| panic!("{accept:?} as {format:?}: {e}\n{body}"));
        let summary: Vec<FamilySummary> = families
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    f.r#type.clone(),
                    f.samples.iter().map(|s| (s.name.clone(), s.value)).collect(),
                )
            })
            .collect();
        let samples =
            |pairs: &[(&str, f64)]| pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect::<Vec<_>>();
        assert_eq!(
            summary,
            vec![
                (
                    "job_duration_seconds".to_owned(),
                    "histogram".to_owned(),
                    samples(&[
                        ("job_duration_seconds_bucket", 1.0),
                        ("job_duration_seconds_bucket", 3.0),
                        ("job_duration_seconds_bucket", 4.0),
                        ("job_duration_seconds_bucket", 4.0),
                        ("job_duration_seconds_sum", 6.5),
                        ("job_duration_seconds_count", 4.0),
                    ])
                ),
                ("jobs".to_owned(), "counter".to_owned(), samples(&[("jobs_total", 3.0)])),
                ("queue_depth".to_owned(), "gauge".to_owned(), samples(&[("queue_depth", 7.0)])),
            ],
            "{accept:?} {}",
            text(&resp).len()
        );
        let unit = &families[0].unit;
        assert_eq!(unit, if format == Format::OpenMetrics { "seconds" } else { "" });
    }
}

/// A UTF-8 registry: one histogram whose metric name and one label name need quoting.
fn utf8_fixture() -> promkit::Registry {
    use promkit::{Buckets, Histogram, NameValidation, Registry};
    let r = Registry::builder().name_validation(NameValidation::Utf8).build();
    let h = Histogram::builder("http.server.duration")
        .help("Latency.")
        .buckets(Buckets::new([0.5]).unwrap())
        .labels(["http.route"])
        .register(&r)
        .unwrap();
    h.with_label_values(&["/a"]).unwrap().observe(0.25);
    r
}

/// `(what, Accept, Content-Type, the `_count` line of the body)`: the scheme the scrape names
/// decides how the UTF-8 names are written, and a scrape naming none gets `underscores`.
fn utf8_table() -> Vec<(&'static str, &'static str, String, &'static str)> {
    let esc = |base: &str, scheme: &str| format!("{base}; escaping={scheme}");
    vec![
        (
            "Prometheus 3",
            PROMETHEUS_3,
            esc(OM1, "allow-utf-8"),
            r#"{"http.server.duration_count","http.route"="/a"} 1"#,
        ),
        (
            "Prometheus 3 text 1.0.0 only",
            PROMETHEUS_3_TEXT1_ONLY,
            esc(TEXT1, "allow-utf-8"),
            r#"{"http.server.duration_count","http.route"="/a"} 1"#,
        ),
        (
            "Prometheus 3 legacy names",
            PROMETHEUS_3_LEGACY,
            esc(OM1, "underscores"),
            r#"http_server_duration_count{http_route="/a"} 1"#,
        ),
        (
            "Prometheus 2",
            PROMETHEUS_2_ACCEPT,
            OM1.to_owned(),
            r#"http_server_duration_count{http_route="/a"} 1"#,
        ),
        (
            "Prometheus 3 text 0.0.4 only",
            PROMETHEUS_3_TEXT_ONLY,
            TEXT.to_owned(),
            r#"http_server_duration_count{http_route="/a"} 1"#,
        ),
        ("curl", "*/*", TEXT.to_owned(), r#"http_server_duration_count{http_route="/a"} 1"#),
        (
            "dots",
            "text/plain;version=1.0.0;escaping=dots",
            esc(TEXT1, "dots"),
            r#"http_dot_server_dot_duration_count{http_dot_route="/a"} 1"#,
        ),
        (
            "values",
            "application/openmetrics-text;version=1.0.0;escaping=values",
            esc(OM1, "values"),
            r#"U__http_2e_server_2e_duration_count{U__http_2e_route="/a"} 1"#,
        ),
        (
            "unknown scheme: the default",
            "text/plain;version=1.0.0;escaping=bogus",
            TEXT1.to_owned(),
            r#"http_server_duration_count{http_route="/a"} 1"#,
        ),
        // Bad input: scheme names are case-sensitive (as Go's), an empty one is no scheme,
        // the last of two wins (Go keeps parameters in a map), and the scheme of a range that
        // was looked at carries over to the format finally chosen.
        (
            "scheme in capitals",
            "text/plain;version=1.0.0;escaping=ALLOW-UTF-8",
            TEXT1.to_owned(),
            r#"http_server_duration_count{http_route="/a"} 1"#,
        ),
        (
            "empty scheme",
            "text/plain;version=1.0.0;escaping=",
            TEXT1.to_owned(),
            r#"http_server_duration_count{http_route="/a"} 1"#,
        ),
        (
            "two schemes",
            "text/plain;version=1.0.0;escaping=dots;escaping=values",
            esc(TEXT1, "values"),
            r#"U__http_2e_server_2e_duration_count{U__http_2e_route="/a"} 1"#,
        ),
        (
            "scheme on a wildcard",
            "*/*;escaping=allow-utf-8",
            esc(TEXT, "allow-utf-8"),
            r#"{"http.server.duration_count","http.route"="/a"} 1"#,
        ),
        (
            "scheme of a format not offered",
            "application/openmetrics-text;version=9.9.9;escaping=dots,text/plain;q=0.5",
            esc(TEXT, "dots"),
            r#"http_dot_server_dot_duration_count{http_dot_route="/a"} 1"#,
        ),
    ]
}

#[tokio::test]
async fn utf8_names_follow_the_negotiated_escaping() {
    let registry = utf8_fixture();
    let handler = MetricsHandler::builder(&registry).must_build();
    let mut failures = Vec::new();
    for (what, accept, want_type, want_line) in utf8_table() {
        let resp = call(&handler, "/metrics", &[("accept", accept)]).await;
        let got_type = header(&resp, "content-type").unwrap_or("(none)").to_owned();
        let body = String::from_utf8(decode(&resp)).unwrap();
        if got_type != want_type || !body.lines().any(|l| l == want_line) {
            failures.push(format!("{what}: got {got_type}\n{body}\n  want {want_type} with {want_line}"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn utf8_names_reach_the_python_parsers_quoted() {
    let handler = MetricsHandler::builder(&utf8_fixture()).must_build();
    for (accept, format) in [(PROMETHEUS_3, Format::OpenMetrics), (PROMETHEUS_3_TEXT1_ONLY, Format::Text)] {
        let resp = call(&handler, "/metrics", &[("accept", accept)]).await;
        let body = String::from_utf8(decode(&resp)).unwrap();
        let Some(parsed) = python_parse(&body, format) else { return };
        let families = parsed.unwrap_or_else(|e| panic!("{format:?}: {e}\n{body}"));
        assert_eq!(families[0].name, "http.server.duration", "{body}");
        let count =
            families[0].samples.iter().find(|s| s.name == "http.server.duration_count").expect("a count");
        assert_eq!(count.labels.get("http.route").map(String::as_str), Some("/a"));
        assert_eq!(count.value, 1.0);
    }
}

#[tokio::test]
async fn protobuf_names_are_escaped_unless_utf8_is_allowed() {
    let handler = MetricsHandler::builder(&utf8_fixture()).must_build();
    // Prometheus 3 with native histograms: the protobuf range names no scheme.
    let resp = call(&handler, "/metrics", &[("accept", PROMETHEUS_3_NATIVE)]).await;
    assert_eq!(header(&resp, "content-type"), Some(PROTO));
    if let Some(decoded) = promkit_oracle::go_decode_protobuf(resp.body()) {
        let canon = decoded.unwrap_or_else(|e| panic!("Go rejects the protobuf body: {e}"));
        assert!(canon.contains("http_server_duration_count{http_route=\"/a\"} 1"), "{canon}");
    }
    // Asked for UTF-8, the names travel as they are (the format needs no quoting).
    let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8";
    let resp = call(&handler, "/metrics", &[("accept", accept)]).await;
    assert_eq!(header(&resp, "content-type"), Some(format!("{PROTO}; escaping=allow-utf-8").as_str()));
    let body = resp.body();
    assert!(body.windows(b"http.server.duration".len()).any(|w| w == b"http.server.duration"));
    assert!(body.windows(b"http.route".len()).any(|w| w == b"http.route"));
}
