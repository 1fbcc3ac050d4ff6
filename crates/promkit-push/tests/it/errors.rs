//! Pushes that must fail: refused before sending, or refused by a real Pushgateway.

use std::io::ErrorKind;
use std::net::TcpListener;

use promkit::{Counter, Gauge, Registry};
use promkit_push::{PushError, PushFormat, Pusher};

use crate::gateway::gateway_or_skip;

#[tokio::test]
async fn series_with_job_or_grouping_labels_are_refused_before_any_request() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());

    let with_job = Registry::new();
    Counter::builder("pk_a_total").help("A.").register(&with_job).unwrap();
    Counter::builder("pk_b_total").help("B.").const_label("job", "mine").register(&with_job).unwrap();
    let pusher = Pusher::builder(&url, "j").registry(&with_job).build().unwrap();
    for e in [pusher.push().await.unwrap_err(), pusher.add().await.unwrap_err(), pusher.body().unwrap_err()] {
        assert!(
            matches!(&e, PushError::LabelConflict { family, label } if family == "pk_b_total" && label == "job"),
            "{e}"
        );
    }

    let with_zone = Registry::new();
    let g = Gauge::builder("pk_load").help("L.").labels(["zone"]).register(&with_zone).unwrap();
    g.with_label_values(&["eu"]).unwrap().set(1);
    let pusher = Pusher::builder(&url, "j").grouping("zone", "us").registry(&with_zone).build().unwrap();
    let e = pusher.push().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "pushed metric `pk_load` already has label `zone`; remove it from the metric, or don't push that \
         metric (the Pushgateway sets `zone` from the grouping key)"
    );
    // A family without series cannot conflict: it is left out, as Go leaves out an empty
    // vector, or written as a bare header when it asks to be shown.
    let empty = Registry::new();
    Gauge::builder("pk_idle").help("I.").labels(["zone"]).register(&empty).unwrap();
    let body = Pusher::builder(&url, "j")
        .grouping("zone", "us")
        .registry(&empty)
        .format(PushFormat::Text)
        .build()
        .unwrap()
        .body();
    assert_eq!(String::from_utf8(body.unwrap()).unwrap(), "");
    let shown = Registry::new();
    Gauge::builder("pk_idle")
        .help("I.")
        .labels(["zone"])
        .when_empty(promkit::WhenEmpty::Header)
        .register(&shown)
        .unwrap();
    let body = Pusher::builder(&url, "j")
        .grouping("zone", "us")
        .registry(&shown)
        .format(PushFormat::Text)
        .build()
        .unwrap()
        .body();
    assert_eq!(String::from_utf8(body.unwrap()).unwrap(), "# HELP pk_idle I.\n# TYPE pk_idle gauge\n");

    // Nothing ever connected.
    assert_eq!(listener.accept().map(|_| ()).unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[tokio::test]
async fn registries_that_disagree_are_a_gather_error() {
    let (a, b) = (Registry::new(), Registry::new());
    Counter::builder("pk_x_total").help("X.").register(&a).unwrap();
    Counter::builder("pk_x_total").help("Other help.").register(&b).unwrap();
    let e =
        Pusher::builder("gw:9091", "j").registry(&a).registry(&b).build().unwrap().push().await.unwrap_err();
    assert!(matches!(e, PushError::Gather(promkit::CollectError::InconsistentFamily { .. })), "{e}");
}

#[tokio::test]
async fn the_gateway_refusing_an_inconsistent_push_is_a_status_400_with_its_message() {
    let gw = gateway_or_skip!();
    let counters = Registry::new();
    Counter::builder("pk_kind").help("Kind.").register(&counters).unwrap().inc();
    Pusher::builder(&gw.url, "pk_a").registry(&counters).build().unwrap().push().await.unwrap();

    // The same name as a gauge in another group: the gateway could not expose both.
    let gauges = Registry::new();
    Gauge::builder("pk_kind").help("Kind.").register(&gauges).unwrap().set(2);
    let pusher = Pusher::builder(&gw.url, "pk_b").registry(&gauges).build().unwrap();
    let e = pusher.push().await.unwrap_err();
    let PushError::Status { method, status, body, url } = &e else { panic!("{e}") };
    assert_eq!((*method, *status, url.as_str()), ("PUT", 400, pusher.url()));
    assert!(body.starts_with("pushed metrics are invalid or inconsistent with existing metrics: "), "{body}");
    assert!(body.contains("pk_kind"), "{body}");
    assert!(e.to_string().contains("answered 400: pushed metrics are invalid"), "{e}");

    // The refused push stored no metric; the gateway only notes the failure in the group.
    let groups = gw.groups();
    assert_eq!(groups.len(), 2);
    let refused = &groups[1];
    assert_eq!(refused["labels"], serde_json::json!({"job": "pk_b"}));
    assert_eq!(refused["last_push_successful"], false);
    assert_eq!(refused.get("pk_kind"), None);
    assert_eq!(refused["push_time_seconds"]["metrics"][0]["value"], "0");
    assert_ne!(refused["push_failure_time_seconds"]["metrics"][0]["value"], "0");
    gw.expect_exposition(
        "pk_",
        "# HELP pk_kind Kind.\n# TYPE pk_kind counter\npk_kind{instance=\"\",job=\"pk_a\"} 1\n",
    );
}

#[tokio::test]
async fn a_wrong_base_path_is_a_404_with_a_hint() {
    let gw = gateway_or_skip!();
    let e = Pusher::builder(format!("{}/prefix", gw.url), "j").build().unwrap().push().await.unwrap_err();
    let PushError::Status { status: 404, body, .. } = &e else { panic!("{e}") };
    assert_eq!(body.trim_end(), "404 page not found");
    assert!(e.to_string().ends_with("; no Pushgateway push API at this URL: give the gateway's base URL (with its route prefix, if any)"), "{e}");
}
