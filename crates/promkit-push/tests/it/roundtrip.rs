//! Pushes to a real Pushgateway, read back from its `/metrics` and `/api/v1/metrics`: PUT
//! replaces the group, POST replaces only the pushed families, DELETE removes the group, and
//! every job and grouping value arrives as it was given.

use promkit::{Counter, Gauge, Histogram, Registry, linear_buckets};
use promkit_push::Pusher;
use serde_json::json;

use crate::gateway::gateway_or_skip;

#[tokio::test]
async fn push_replaces_add_merges_delete_removes() {
    let gw = gateway_or_skip!();

    // Another group, which none of the requests below may touch.
    let other = Registry::new();
    Gauge::builder("pk_other").help("Other group.").register(&other).unwrap().set(9);
    let other_pusher =
        Pusher::builder(&gw.url, "pk/batch").grouping("zone", "us/east").registry(&other).build().unwrap();
    other_pusher.push().await.unwrap();

    let a = Registry::new();
    let rows = Counter::builder("pk_rows_total").help("Rows.").labels(["table"]).register(&a).unwrap();
    let orders = rows.with_label_values(&["orders"]).unwrap();
    orders.inc_by(3);
    let temp = Gauge::builder("pk_temp").help("Temperature.").labels(["room"]).register(&a).unwrap();
    temp.with_label_values(&["küche"]).unwrap().set(21);
    temp.with_label_values(&["attic \"top\""]).unwrap().set(-4);
    let took = Histogram::builder("pk_duration_seconds")
        .help("Duration.")
        .buckets(linear_buckets(0.5, 0.5, 2).unwrap())
        .register(&a)
        .unwrap();
    took.observe(0.7);

    let pusher = Pusher::builder(&gw.url, "pk/batch")
        .grouping("zone", "eu/west")
        .grouping("shard", "zürich ost")
        .registry(&a)
        .build()
        .unwrap();
    assert_eq!(
        pusher.url(),
        format!("{}/metrics/job@base64/cGsvYmF0Y2g/zone@base64/ZXUvd2VzdA/shard/z%C3%BCrich%20ost", gw.url)
    );

    // PUT: the group holds exactly what was pushed, with job, instance and the grouping key.
    pusher.push().await.unwrap();
    let g = r#"instance="",job="pk/batch",shard="zürich ost""#;
    let full = format!(
        "# HELP pk_duration_seconds Duration.
# TYPE pk_duration_seconds histogram
pk_duration_seconds_bucket{{{g},zone=\"eu/west\",le=\"0.5\"}} 0
pk_duration_seconds_bucket{{{g},zone=\"eu/west\",le=\"1\"}} 1
pk_duration_seconds_bucket{{{g},zone=\"eu/west\",le=\"+Inf\"}} 1
pk_duration_seconds_sum{{{g},zone=\"eu/west\"}} 0.7
pk_duration_seconds_count{{{g},zone=\"eu/west\"}} 1
pk_other{{instance=\"\",job=\"pk/batch\",zone=\"us/east\"}} 9
# HELP pk_rows_total Rows.
# TYPE pk_rows_total counter
pk_rows_total{{{g},table=\"orders\",zone=\"eu/west\"}} 3
# HELP pk_temp Temperature.
# TYPE pk_temp gauge
pk_temp{{instance=\"\",job=\"pk/batch\",room=\"attic \\\"top\\\"\",shard=\"zürich ost\",zone=\"eu/west\"}} -4
pk_temp{{instance=\"\",job=\"pk/batch\",room=\"küche\",shard=\"zürich ost\",zone=\"eu/west\"}} 21
"
    );
    gw.expect_exposition("pk_", with_other_family(&full));

    let groups = gw.groups();
    let labels: Vec<_> = groups.iter().map(|g| g["labels"].clone()).collect();
    assert_eq!(
        labels,
        [
            json!({"job": "pk/batch", "shard": "zürich ost", "zone": "eu/west"}),
            json!({"job": "pk/batch", "zone": "us/east"}),
        ]
    );
    let ours = &groups[0];
    assert_eq!(ours["last_push_successful"], true);
    let series = |family: &str| {
        let mut m = ours[family]["metrics"].as_array().cloned().unwrap_or_default();
        m.sort_by_key(|s| s["labels"].to_string());
        m
    };
    assert_eq!(ours["pk_rows_total"]["type"], "COUNTER");
    assert_eq!(ours["pk_rows_total"]["help"], "Rows.");
    assert_eq!(
        series("pk_rows_total"),
        [
            json!({"labels": {"instance": "", "job": "pk/batch", "shard": "zürich ost", "table": "orders", "zone": "eu/west"}, "value": "3"})
        ]
    );
    let temps: Vec<_> =
        series("pk_temp").iter().map(|s| (s["labels"]["room"].clone(), s["value"].clone())).collect();
    assert_eq!(temps, [(json!("attic \"top\""), json!("-4")), (json!("küche"), json!("21"))]);
    let h = &series("pk_duration_seconds")[0];
    // Pushed in protobuf (the default), which leaves the `+Inf` bucket implicit as Go does:
    // the gateway's JSON lists the buckets it was sent (its `/metrics` above has `+Inf`).
    assert_eq!(
        (&h["count"], &h["sum"], &h["buckets"]),
        (&json!("1"), &json!("0.7"), &json!({"0.5": "0", "1": "1"}))
    );

    // POST: the pushed families are replaced whole (pk_temp loses a series), others are kept.
    let b = Registry::new();
    let temp_b = Gauge::builder("pk_temp").help("Temperature.").labels(["room"]).register(&b).unwrap();
    temp_b.with_label_values(&["küche"]).unwrap().set(22);
    Gauge::builder("pk_extra").help("Extra.").register(&b).unwrap().set(1);
    let adder = Pusher::builder(&gw.url, "pk/batch")
        .grouping("zone", "eu/west")
        .grouping("shard", "zürich ost")
        .registry(&b)
        .build()
        .unwrap();
    adder.add().await.unwrap();
    let merged = format!(
        "# HELP pk_duration_seconds Duration.
# TYPE pk_duration_seconds histogram
pk_duration_seconds_bucket{{{g},zone=\"eu/west\",le=\"0.5\"}} 0
pk_duration_seconds_bucket{{{g},zone=\"eu/west\",le=\"1\"}} 1
pk_duration_seconds_bucket{{{g},zone=\"eu/west\",le=\"+Inf\"}} 1
pk_duration_seconds_sum{{{g},zone=\"eu/west\"}} 0.7
pk_duration_seconds_count{{{g},zone=\"eu/west\"}} 1
# HELP pk_extra Extra.
# TYPE pk_extra gauge
pk_extra{{{g},zone=\"eu/west\"}} 1
pk_other{{instance=\"\",job=\"pk/batch\",zone=\"us/east\"}} 9
# HELP pk_rows_total Rows.
# TYPE pk_rows_total counter
pk_rows_total{{{g},table=\"orders\",zone=\"eu/west\"}} 3
# HELP pk_temp Temperature.
# TYPE pk_temp gauge
pk_temp{{instance=\"\",job=\"pk/batch\",room=\"küche\",shard=\"zürich ost\",zone=\"eu/west\"}} 22
"
    );
    gw.expect_exposition("pk_", with_other_family(&merged));

    // PUT again: pk_extra is gone, the registry's current values are there.
    orders.inc_by(2);
    pusher.push().await.unwrap();
    gw.expect_exposition(
        "pk_",
        with_other_family(&full.replace("\"orders\",zone=\"eu/west\"} 3", "\"orders\",zone=\"eu/west\"} 5")),
    );

    // DELETE: the group is gone, the other one is still there.
    pusher.delete().await.unwrap();
    gw.expect_groups([json!({"job": "pk/batch", "zone": "us/east"})]);
    gw.expect_exposition("pk_", "# HELP pk_other Other group.\n# TYPE pk_other gauge\npk_other{instance=\"\",job=\"pk/batch\",zone=\"us/east\"} 9\n");
    other_pusher.delete().await.unwrap();
    gw.expect_groups(Vec::<serde_json::Value>::new());
    gw.expect_exposition("pk_", "");
}

/// `pk_other`'s HELP and TYPE lines sit before its sample, in name order among the families.
fn with_other_family(text: &str) -> String {
    text.replace("pk_other{", "# HELP pk_other Other group.\n# TYPE pk_other gauge\npk_other{")
}

/// Go's escaping of a label value in the text format.
fn escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Values that need escaping or base64, each as a grouping value and in the job name.
const VALUES: &[&str] = &[
    "",
    ".",
    "..",
    "...",
    "a/b",
    "/",
    "//",
    "/leading",
    "x/../y",
    "a b",
    " ",
    "50%",
    "%2F",
    "a+b",
    "a?b#c&d=e",
    "@base64",
    "say \"hi\"\\",
    "zürich",
    "日本/東京",
    "emoji 🚀/x",
    "~tilde-_.",
];

#[tokio::test]
async fn grouping_values_arrive_as_given() {
    let gw = gateway_or_skip!();
    let r = Registry::new();
    Gauge::builder("pk_value").help("V.").register(&r).unwrap().set(1);
    let pushers: Vec<_> = VALUES
        .iter()
        .map(|v| Pusher::builder(&gw.url, "pk_values").grouping("v", *v).registry(&r).build().unwrap())
        .collect();
    for p in &pushers {
        p.push().await.unwrap_or_else(|e| panic!("{}: {e}", p.url()));
    }

    let mut want: Vec<_> = VALUES.iter().map(|v| json!({"job": "pk_values", "v": v})).collect();
    want.sort_by_key(ToString::to_string);
    gw.expect_groups(want);

    let mut lines: Vec<_> = VALUES
        .iter()
        .map(|v| format!("pk_value{{instance=\"\",job=\"pk_values\",v=\"{}\"}} 1", escaped(v)))
        .collect();
    lines.sort();
    let text = gw.exposition("pk_value");
    let mut got: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).map(str::to_owned).collect();
    got.sort();
    assert_eq!(got, lines);

    for p in &pushers {
        p.delete().await.unwrap_or_else(|e| panic!("{}: {e}", p.url()));
    }
    gw.expect_groups(Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn job_names_arrive_as_given() {
    let gw = gateway_or_skip!();
    let r = Registry::new();
    Gauge::builder("pk_job").help("J.").register(&r).unwrap().set(1);
    let jobs: Vec<_> = VALUES.iter().filter(|v| !v.is_empty()).collect();
    for job in &jobs {
        let p = Pusher::builder(&gw.url, job).registry(&r).build().unwrap();
        p.add().await.unwrap_or_else(|e| panic!("{}: {e}", p.url()));
    }
    let mut want: Vec<_> = jobs.iter().map(|j| json!({"job": j})).collect();
    want.sort_by_key(ToString::to_string);
    gw.expect_groups(want);
    for job in &jobs {
        Pusher::builder(&gw.url, job).build().unwrap().delete().await.unwrap();
    }
    gw.expect_groups(Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn collectors_and_several_registries_are_pushed_together() {
    let gw = gateway_or_skip!();
    let (a, b) = (Registry::new(), Registry::new());
    let fam_a = Counter::builder("pk_hits_total").help("Hits.").labels(["path"]).register(&a).unwrap();
    fam_a.with_label_values(&["/a"]).unwrap().inc_by(1);
    let fam_b = Counter::builder("pk_hits_total").help("Hits.").labels(["path"]).register(&b).unwrap();
    fam_b.with_label_values(&["/b"]).unwrap().inc_by(2);
    let solo = Gauge::builder("pk_solo").help("Solo.").build().unwrap();
    solo.metric().set(5);

    Pusher::builder(&gw.url, "pk_multi")
        .registry(&a)
        .registry(&b)
        .collector(solo)
        .build()
        .unwrap()
        .push()
        .await
        .unwrap();
    gw.expect_exposition(
        "pk_",
        "# HELP pk_hits_total Hits.
# TYPE pk_hits_total counter
pk_hits_total{instance=\"\",job=\"pk_multi\",path=\"/a\"} 1
pk_hits_total{instance=\"\",job=\"pk_multi\",path=\"/b\"} 2
# HELP pk_solo Solo.
# TYPE pk_solo gauge
pk_solo{instance=\"\",job=\"pk_multi\"} 5
",
    );
}
