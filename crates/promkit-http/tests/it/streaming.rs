//! The streamed answer: an exposition sent in pieces while it is encoded, what it looks like
//! to a client in every format and coding, and what a failing collector or a scraper that goes
//! away does to it.

use std::net::SocketAddr;

use bytes::Bytes;
use http::Response;
use http_body::Body as _;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use promkit::registry::{EncodeOptions, OnError};
use promkit::{Counter, Format, Registry};
use promkit_http::{ErrorHandling, Exporter, MetricsBody, MetricsHandler, ServeError};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::{Failing, OM1, PATIENCE, TEXT, decode, fixture, header, http_get, line, request, settled};

/// What Prometheus sends with native histograms on: protobuf first.
const PROTOBUF_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,text/plain;version=0.0.4;q=0.2";

/// Registers a family of 1,000 labelled counters (about 53 kB of text) per name.
fn register_big(registry: &Registry, names: &[&str]) {
    for name in names {
        let family =
            Counter::builder(*name).help("Requests.").labels(["path", "code"]).register(registry).unwrap();
        for i in 0..1_000u64 {
            family.with_label_values(&[&format!("/api/item/{i}"), "200"]).unwrap().inc_by(i);
        }
    }
}

/// A registry of `families` such families: an exposition of several pieces.
fn big(families: usize) -> Registry {
    let registry = Registry::new();
    let names: Vec<String> = (0..families).map(|i| format!("family_{i:02}_total")).collect();
    register_big(&registry, &names.iter().map(String::as_str).collect::<Vec<_>>());
    registry
}

/// A streaming handler's answer through its tower service: the head, and the body's data
/// frames (or the error that ended it).
async fn frames(
    handler: &MetricsHandler,
    headers: &[(&str, &str)],
) -> (Response<()>, Result<Vec<Bytes>, String>) {
    let resp = handler.clone().oneshot(request("/metrics", headers)).await.unwrap();
    let (head, mut body) = resp.into_parts();
    let mut frames = Vec::new();
    let ended = loop {
        match body.frame().await {
            None => break Ok(frames),
            Some(Ok(f)) => frames.push(f.into_data().expect("only data frames")),
            Some(Err(e)) => break Err(e.to_string()),
        }
    };
    (Response::from_parts(head, ()), ended)
}

/// An [`Exporter`] for `handler` on a free loopback port, serving until the task is aborted.
async fn exporter(handler: MetricsHandler) -> (SocketAddr, JoinHandle<Result<(), ServeError>>) {
    let exporter = Exporter::bind("127.0.0.1:0".parse().unwrap(), handler).await.unwrap();
    let addr = exporter.local_addr();
    (addr, tokio::spawn(exporter.run_until(std::future::pending())))
}

/// The whole exposition of `registry` in `format`.
fn encoded(registry: &Registry, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    registry.encode(format, &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_the_whole_encode_in_every_format_and_coding() {
    let registry = big(6);
    let handler = MetricsHandler::builder(&registry).streaming(true).without_self_metrics().must_build();
    let formats: [(&str, Format, &str); 3] = [
        ("*/*", Format::Text, TEXT),
        ("application/openmetrics-text;version=1.0.0", Format::OPENMETRICS, OM1),
        (PROTOBUF_ACCEPT, Format::Protobuf, promkit::encode::PROTOBUF_CONTENT_TYPE),
    ];
    for (accept, format, content_type) in formats {
        let want = encoded(&registry, format);
        for coding in ["identity", "gzip", "zstd"] {
            let (head, body) = frames(&handler, &[("accept", accept), ("accept-encoding", coding)]).await;
            let frames = body.unwrap_or_else(|e| panic!("{accept} {coding}: {e}"));
            assert_eq!(head.status().as_u16(), 200);
            assert_eq!(header(&head, "content-type"), Some(content_type));
            assert_eq!(header(&head, "content-encoding"), Some(coding).filter(|c| *c != "identity"));
            let mut body = Response::new(frames.concat());
            *body.headers_mut() = head.headers().clone();
            assert!(decode(&body) == want, "{accept} {coding}: the streamed body differs from the encode");
            if coding == "identity" {
                // Six families of about 53 kB of text, handed over at 256 KiB between
                // families: five in the first piece, the sixth with the end.
                assert_eq!(
                    frames.len(),
                    2,
                    "{accept}: {:?}",
                    frames.iter().map(Bytes::len).collect::<Vec<_>>()
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exporter_streams_chunked_and_a_small_exposition_keeps_its_length() {
    let registry = big(6);
    let (addr, server) = exporter(MetricsHandler::builder(&registry).must_build()).await;

    let resp = http_get(addr, "/metrics", &[]).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(header(&resp, "transfer-encoding"), Some("chunked"));
    assert_eq!(header(&resp, "content-length"), None);
    // A registry of our own, without the handler's metrics: the body is exactly the encode.
    let body = resp.body();
    assert!(body[..] == encoded(&registry, Format::Text)[..], "the streamed body differs from the encode");
    let gz = http_get(addr, "/metrics", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&gz, "transfer-encoding"), Some("chunked"));
    assert!(
        decode(&gz) == encoded(&registry, Format::Text),
        "the streamed gzip body differs from the encode"
    );
    server.abort();

    // Under one piece: answered whole, with its length, as before streaming.
    let small = fixture();
    let (addr, server) = exporter(MetricsHandler::builder(&small).must_build()).await;
    let resp = http_get(addr, "/metrics", &[]).await;
    assert_eq!(header(&resp, "content-length"), Some(crate::FIXTURE_TEXT.len().to_string().as_str()));
    assert_eq!(header(&resp, "transfer-encoding"), None);
    assert_eq!(crate::text(&resp), crate::FIXTURE_TEXT);
    server.abort();
}

#[tokio::test]
async fn a_handler_streams_only_when_asked_or_in_the_exporter() {
    let registry = big(6);
    let whole = |b: MetricsBody| b.size_hint().exact();
    let length = encoded(&registry, Format::Text).len() as u64;
    let call =
        |h: MetricsHandler| async move { h.oneshot(request("/metrics", &[])).await.unwrap().into_body() };

    let mounted = MetricsHandler::builder(&registry).without_self_metrics().must_build();
    assert_eq!(whole(call(mounted).await), Some(length), "a handler in another server answers whole");
    let asked = MetricsHandler::builder(&registry).streaming(true).without_self_metrics().must_build();
    assert_eq!(whole(call(asked.clone()).await), None, "streaming(true) streams");
    let zstd = asked.oneshot(request("/metrics", &[("accept-encoding", "zstd")])).await.unwrap();
    assert_eq!(header(&zstd, "content-encoding"), Some("zstd"));
    assert!(whole(zstd.into_body()).is_some(), "a zstd answer is whole");
    // A timeout must be able to become a 503, and a panic must reach the serving task.
    let timed = MetricsHandler::builder(&registry).streaming(true).timeout(PATIENCE).must_build();
    assert_eq!(whole(call(timed).await), Some(length));
    let panics =
        MetricsHandler::builder(&registry).streaming(true).error_handling(ErrorHandling::Panic).must_build();
    assert_eq!(whole(call(panics).await), Some(length));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_failing_after_the_first_piece_cuts_the_body_off() {
    let registry = big(6);
    registry.register(Failing("zzz_broken")).unwrap();
    let own = Registry::new();
    let handler = MetricsHandler::builder(&registry).streaming(true).instrument(&own).must_build();

    let (head, body) = frames(&handler, &[]).await;
    assert_eq!(head.status().as_u16(), 200, "the head went out with the first piece");
    assert_eq!(
        body.unwrap_err(),
        "the /metrics answer was cut off: error gathering metrics: collector for `zzz_broken` failed: disk gone"
    );
    let metrics = settled(&own).await;
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_errors_total{cause=\"gathering\"}"),
        "promhttp_metric_handler_errors_total{cause=\"gathering\"} 1"
    );
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 1"
    );

    // Over a real connection the server aborts the answer: the client reads an error (before
    // the head or in the body, as far as the server got to write), never a short exposition.
    let (addr, server) = exporter(handler.clone()).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let read = match client.get(format!("http://{addr}/metrics").parse().unwrap()).await {
        Ok(resp) => resp.into_body().collect().await.map(|b| b.to_bytes().len()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    assert!(read.is_err(), "the client read a whole body of {read:?} bytes from a failed encoding");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_failing_before_the_first_piece_is_still_a_500() {
    let registry = Registry::new();
    registry.register(Failing("aaa_broken")).unwrap();
    register_big(&registry, &["zzz_total", "zzz_more_total"]);
    let handler = MetricsHandler::builder(&registry).streaming(true).without_self_metrics().must_build();
    let (head, body) = frames(&handler, &[]).await;
    assert_eq!(head.status().as_u16(), 500);
    assert_eq!(
        String::from_utf8(body.unwrap().concat()).unwrap(),
        "An error has occurred while serving metrics:\n\ncollector for `aaa_broken` failed: disk gone\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_on_error_streams_everything_but_the_failed_collector() {
    let registry = Registry::new();
    register_big(&registry, &["aaa_total", "aab_total", "aac_total", "aad_total", "aae_total", "aaf_total"]);
    registry.register(Failing("mmm_broken")).unwrap();
    register_big(&registry, &["zzz_total", "zzz_more_total"]);
    let own = Registry::new();
    let handler = MetricsHandler::builder(&registry)
        .streaming(true)
        .error_handling(ErrorHandling::ContinueOnError)
        .instrument(&own)
        .must_build();
    let mut want = Vec::new();
    let failures =
        registry.encode_with(&mut want, &EncodeOptions::new(Format::Text).on_error(OnError::Skip)).unwrap();
    assert_eq!(failures.len(), 1);

    let (head, body) = frames(&handler, &[]).await;
    assert_eq!(head.status().as_u16(), 200);
    let frames = body.unwrap();
    assert!(frames.len() >= 2, "one piece only: {:?}", frames.iter().map(Bytes::len).collect::<Vec<_>>());
    let got = frames.concat();
    assert!(!String::from_utf8_lossy(&got).contains("mmm_broken"));
    assert!(got == want, "the streamed body differs from the encode that skips the failure");
    let metrics = settled(&own).await;
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_errors_total{cause=\"gathering\"}"),
        "promhttp_metric_handler_errors_total{cause=\"gathering\"} 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scraper_that_goes_away_frees_the_encoder() {
    // Nine pieces: more than the connection may have waiting, so an encoder still sending
    // into a dropped body would block for good.
    let registry = big(48);
    let own = Registry::new();
    let handler = MetricsHandler::builder(&registry).streaming(true).instrument(&own).must_build();
    let resp = handler.clone().oneshot(request("/metrics", &[])).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    drop(resp);
    let metrics = settled(&own).await;
    assert_eq!(
        line(&metrics, "promhttp_metric_handler_requests_total{code=\"200\"}"),
        "promhttp_metric_handler_requests_total{code=\"200\"} 1"
    );
    // The next scrape is whole and correct.
    let (_, body) = frames(&handler, &[]).await;
    assert!(body.unwrap().concat() == encoded(&registry, Format::Text));
}
