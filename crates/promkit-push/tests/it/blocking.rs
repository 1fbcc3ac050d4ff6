//! The blocking flavour against a real Pushgateway: the same requests, no runtime.

use promkit::{Counter, Gauge, Registry};
use promkit_push::{PushError, PushFormat, Pusher};
use serde_json::json;

use crate::gateway::gateway_or_skip;
use crate::server::serve_once;

#[test]
fn blocking_push_add_delete() {
    let gw = gateway_or_skip!();
    let r = Registry::new();
    let rows = Counter::builder("pk_rows_total").help("Rows.").register(&r).unwrap();
    rows.inc_by(4);
    let pusher = Pusher::builder(&gw.url, "pk_blocking")
        .grouping("path", "/srv/data")
        .registry(&r)
        .build_blocking()
        .unwrap();
    assert_eq!(pusher.url(), format!("{}/metrics/job/pk_blocking/path@base64/L3Nydi9kYXRh", gw.url));

    pusher.push().unwrap();
    let line = "pk_rows_total{instance=\"\",job=\"pk_blocking\",path=\"/srv/data\"}";
    gw.expect_exposition(
        "pk_",
        format!("# HELP pk_rows_total Rows.\n# TYPE pk_rows_total counter\n{line} 4\n"),
    );

    let extra = Registry::new();
    Gauge::builder("pk_extra").help("Extra.").register(&extra).unwrap().set(-1);
    Pusher::builder(&gw.url, "pk_blocking")
        .grouping("path", "/srv/data")
        .registry(&extra)
        .build_blocking()
        .unwrap()
        .add()
        .unwrap();
    gw.expect_exposition("pk_", format!(
            "# HELP pk_extra Extra.\n# TYPE pk_extra gauge\npk_extra{{instance=\"\",job=\"pk_blocking\",path=\"/srv/data\"}} -1\n\
             # HELP pk_rows_total Rows.\n# TYPE pk_rows_total counter\n{line} 4\n"
        ));
    gw.expect_groups([json!({"job": "pk_blocking", "path": "/srv/data"})]);

    pusher.delete().unwrap();
    gw.expect_exposition("pk_", "");
    gw.expect_groups(Vec::<serde_json::Value>::new());
}

#[test]
fn blocking_errors_match_the_async_ones() {
    let (url, server) = serve_once(400, "text format parsing error in line 1\n");
    let r = Registry::new();
    Gauge::builder("pk_g").help("G.").register(&r).unwrap();
    let e = Pusher::builder(&url, "j")
        .registry(&r)
        .format(PushFormat::Text)
        .build_blocking()
        .unwrap()
        .push()
        .unwrap_err();
    let got = server.join().unwrap();
    assert_eq!(got.request_line, "PUT /metrics/job/j HTTP/1.1");
    assert_eq!(got.header("content-type"), ["text/plain; version=0.0.4; charset=utf-8"]);
    assert_eq!(got.body, "# HELP pk_g G.\n# TYPE pk_g gauge\npk_g 0\n");
    assert!(
        matches!(&e, PushError::Status { status: 400, body, method: "PUT", .. } if body == "text format parsing error in line 1\n"),
        "{e}"
    );

    let conflicting = Registry::new();
    Gauge::builder("pk_c").help("C.").const_label("zone", "x").register(&conflicting).unwrap();
    let e = Pusher::builder(&url, "j")
        .grouping("zone", "y")
        .registry(&conflicting)
        .build_blocking()
        .unwrap()
        .push()
        .unwrap_err();
    assert!(matches!(&e, PushError::LabelConflict { label, .. } if label == "zone"), "{e}");
}
