//! The requests exactly as sent: method, path, headers, body; and which answers count as
//! success.

use std::net::TcpListener;
use std::time::Duration;

use promkit::{Counter, Registry};
use promkit_push::{PushError, PushFormat, Pusher};

use crate::server::serve_once;

fn registry() -> Registry {
    let r = Registry::new();
    let c = Counter::builder("pk_rows_total").help("Rows.").labels(["table"]).register(&r).unwrap();
    c.with_label_values(&["orders"]).unwrap().inc_by(7);
    r
}

const BODY: &str = "\
# HELP pk_rows_total Rows.
# TYPE pk_rows_total counter
pk_rows_total{table=\"orders\"} 7
";

#[tokio::test]
async fn push_sends_put_with_text_body_auth_and_headers() {
    let (url, server) = serve_once(200, "");
    let pusher = Pusher::builder(&url, "pk/batch")
        .grouping("zone", "eu/west")
        .grouping("host", "h 1")
        .basic_auth("Aladdin", "open sesame")
        .header("X-Scope-OrgID", "tenant-1")
        .header("x-extra", "a")
        .header("X-Extra", "b")
        .header("Content-Type", "application/json") // the pusher's own wins
        .registry(&registry())
        .format(PushFormat::Text)
        .build()
        .unwrap();
    pusher.push().await.unwrap();
    let got = server.join().unwrap();
    assert_eq!(
        got.request_line,
        "PUT /metrics/job@base64/cGsvYmF0Y2g/zone@base64/ZXUvd2VzdA/host/h%201 HTTP/1.1"
    );
    assert_eq!(got.header("content-type"), ["text/plain; version=0.0.4; charset=utf-8"]);
    assert_eq!(got.header("authorization"), ["Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="]);
    assert_eq!(got.header("x-scope-orgid"), ["tenant-1"]);
    assert_eq!(got.header("x-extra"), ["a", "b"]);
    assert_eq!(got.header("content-length"), [BODY.len().to_string()]);
    assert_eq!(got.body, BODY);
}

#[tokio::test]
async fn protobuf_is_the_default_format_as_in_go() {
    let (url, server) = serve_once(200, "");
    let r = registry();
    let pusher = Pusher::builder(&url, "j").registry(&r).build().unwrap();
    pusher.push().await.unwrap();
    let got = server.join().unwrap();
    assert_eq!(
        got.header("content-type"),
        ["application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"]
    );
    let mut expected = Vec::new();
    promkit::encode::encode_families(&r.gather().unwrap(), promkit::Format::Protobuf, &mut expected);
    assert_eq!(got.raw, expected);
    assert_eq!(pusher.body().unwrap(), expected);
}

#[tokio::test]
async fn add_sends_post_and_delete_sends_no_body() {
    let (url, server) = serve_once(202, "");
    let pusher = Pusher::builder(&url, "j").registry(&registry()).format(PushFormat::Text).build().unwrap();
    pusher.add().await.unwrap();
    let got = server.join().unwrap();
    assert_eq!(got.request_line, "POST /metrics/job/j HTTP/1.1");
    assert_eq!(got.body, BODY);

    let (url, server) = serve_once(202, "");
    let pusher = Pusher::builder(&url, "j").grouping("instance", "").registry(&registry()).build().unwrap();
    pusher.delete().await.unwrap();
    let got = server.join().unwrap();
    assert_eq!(got.request_line, "DELETE /metrics/job/j/instance@base64/= HTTP/1.1");
    assert_eq!(got.header("content-type"), Vec::<&str>::new());
    assert_eq!(got.body, "");
}

#[tokio::test]
async fn go_status_rule_200_or_202_for_push_202_for_delete() {
    for (status, ok) in [(200, true), (202, true), (201, false), (204, false), (302, false)] {
        let (url, server) = serve_once(status, "");
        let r = Pusher::builder(&url, "j").build().unwrap().push().await;
        server.join().unwrap();
        match r {
            Ok(()) => assert!(ok, "{status} accepted"),
            Err(PushError::Status { status: s, method: "PUT", .. }) => assert!(!ok && s == status, "{s}"),
            Err(e) => panic!("{status}: {e}"),
        }
    }
    for (status, ok) in [(202, true), (200, false), (204, false)] {
        let (url, server) = serve_once(status, "");
        let r = Pusher::builder(&url, "j").build().unwrap().delete().await;
        server.join().unwrap();
        match r {
            Ok(()) => assert!(ok, "{status} accepted"),
            Err(PushError::Status { status: s, method: "DELETE", .. }) => assert!(!ok && s == status, "{s}"),
            Err(e) => panic!("{status}: {e}"),
        }
    }
}

#[tokio::test]
async fn failure_status_keeps_the_body_and_url() {
    let (url, server) = serve_once(503, "gateway overloaded\n");
    let e = Pusher::builder(&url, "j").build().unwrap().add().await.unwrap_err();
    server.join().unwrap();
    let PushError::Status { method, status, body, url: at } = &e else { panic!("{e}") };
    assert_eq!((*method, *status, body.as_str()), ("POST", 503, "gateway overloaded\n"));
    assert_eq!(*at, format!("{url}/metrics/job/j"));
    assert_eq!(
        e.to_string(),
        format!(
            "POST {url}/metrics/job/j answered 503: gateway overloaded; the gateway failed: retry later, and \
             check its log"
        )
    );
}

#[tokio::test]
async fn no_gateway_is_a_transport_error_naming_the_cause() {
    let port = promkit_oracle::free_port(); // nothing listens there
    let e = Pusher::builder(format!("127.0.0.1:{port}"), "j").build().unwrap().push().await.unwrap_err();
    let PushError::Transport { method, url, source } = &e else { panic!("{e}") };
    assert_eq!((*method, url.as_str()), ("PUT", format!("http://127.0.0.1:{port}/metrics/job/j").as_str()));
    assert!(source.is_connect(), "{source:?}");
    let message = e.to_string();
    assert!(message.starts_with(&format!("PUT http://127.0.0.1:{port}/metrics/job/j failed: ")), "{message}");
    assert!(message.contains("Connection refused"), "{message}");
    assert!(message.ends_with("; check the URL and that the Pushgateway is up"), "{message}");
}

#[tokio::test]
async fn a_silent_gateway_times_out() {
    // Connections complete in the backlog, but nobody ever answers.
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let pusher = Pusher::builder(&url, "j").timeout(Duration::from_millis(300)).build().unwrap();
    let e = pusher.push().await.unwrap_err();
    assert!(matches!(&e, PushError::Transport { source, .. } if source.is_timeout()), "{e}");
    drop(listener);
}
