//! The push URL for jobs and grouping values that need escaping or base64.

use promkit_push::{PushError, Pusher};

fn url(base: &str, job: &str, grouping: &[(&str, &str)]) -> String {
    let mut b = Pusher::builder(base, job);
    for (name, value) in grouping {
        b = b.grouping(*name, *value);
    }
    b.build().unwrap().url().to_owned()
}

#[test]
fn jobs() {
    let cases = [
        ("batch", "http://gw:9091/metrics/job/batch"),
        ("a/b", "http://gw:9091/metrics/job@base64/YS9i"),
        ("pk/batch", "http://gw:9091/metrics/job@base64/cGsvYmF0Y2g"),
        ("nightly backup", "http://gw:9091/metrics/job/nightly%20backup"),
        ("100%", "http://gw:9091/metrics/job/100%25"),
        ("zürich", "http://gw:9091/metrics/job/z%C3%BCrich"),
        ("..", "http://gw:9091/metrics/job@base64/Li4"),
    ];
    for (job, want) in cases {
        assert_eq!(url("http://gw:9091", job, &[]), want, "job {job:?}");
    }
}

#[test]
fn grouping_values() {
    let base = "http://gw:9091/metrics/job/j";
    let cases = [
        ("path", "/var/lib", "/path@base64/L3Zhci9saWI"),
        ("zone", "eu/west", "/zone@base64/ZXUvd2VzdA"),
        ("city", "zürich", "/city/z%C3%BCrich"),
        // Unicode with a `/`: base64 of the UTF-8 bytes, URL-safe alphabet (`-`, not `+`).
        ("city", "日本/東京", "/city@base64/5pel5pysL-adseS6rA"),
        ("instance", "", "/instance@base64/="),
        ("pct", "100%", "/pct/100%25"),
        ("space", " lead and trail ", "/space/%20lead%20and%20trail%20"),
        ("plus", "a+b", "/plus/a%2Bb"),
        ("query", "a?b#c&d=e", "/query/a%3Fb%23c%26d%3De"),
        ("quote", "say \"hi\"\\", "/quote/say%20%22hi%22%5C"),
        ("dot", ".", "/dot@base64/Lg"),
        ("dots", "x/../y", "/dots@base64/eC8uLi95"),
        ("unreserved", "a-b_c.d~e", "/unreserved/a-b_c.d~e"),
    ];
    for (name, value, want) in cases {
        assert_eq!(url("http://gw:9091", "j", &[(name, value)]), format!("{base}{want}"), "{name}={value:?}");
    }
}

#[test]
fn grouping_order_is_kept_and_a_repeated_name_replaced() {
    assert_eq!(
        url("gw:9091/", "j", &[("b", "1"), ("a", "x/y"), ("b", "2")]),
        "http://gw:9091/metrics/job/j/b/2/a@base64/eC95"
    );
}

#[test]
fn base_urls() {
    let cases = [
        ("gw:9091", "http://gw:9091/metrics/job/j"),
        ("http://gw:9091/", "http://gw:9091/metrics/job/j"),
        ("http://gw:9091/pgw/", "http://gw:9091/pgw/metrics/job/j"),
        ("http://[::1]:9091", "http://[::1]:9091/metrics/job/j"),
    ];
    for (base, want) in cases {
        assert_eq!(url(base, "j", &[]), want, "{base}");
    }
}

#[test]
fn invalid_settings_are_refused_by_build() {
    let err = |b: promkit_push::PusherBuilder| b.build().unwrap_err();
    assert_eq!(
        err(Pusher::builder("gw:9091", "j").grouping("job", "x")).to_string(),
        "invalid grouping label `job`: the job is set by the second argument of `Pusher::builder`; use \
         another name"
    );
    assert!(matches!(
        err(Pusher::builder("gw:9091", "j").grouping("zone-id", "x")),
        PushError::InvalidGroupingLabel { name, .. } if name == "zone-id"
    ));
    assert!(matches!(err(Pusher::builder("gw:9091", "")), PushError::InvalidJob { .. }));
    assert_eq!(
        err(Pusher::builder("http://gw:9091/metrics/job/j", "j")).to_string(),
        "invalid Pushgateway URL `http://gw:9091/metrics/job/j`: give the gateway's base URL without \
         `/metrics/job/…`: the job is the second argument of `Pusher::builder` and the grouping key is \
         set with `grouping`"
    );
}
