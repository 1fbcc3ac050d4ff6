//! Byte-identical to client_golang: the Go oracle's golden registry replayed on promkit.
//!
//! `tools/go-oracle/main.go` lists the metrics and the calls; client_golang's output for them
//! is checked in under `testdata/golden/` (so these tests mean something without Go) and, when
//! the oracle is installed, compared with the oracle's live output too.

use std::path::PathBuf;

use promkit::encode::encode_families;
use promkit::{
    Counter, CounterF64, Format, Gauge, GaugeF64, Histogram, Registry, exponential_buckets, linear_buckets,
};

/// Which promkit type replays client_golang's (float64) counters.
#[derive(Debug, Clone, Copy)]
enum Counters {
    /// `Counter`, promkit's integer counter.
    U64,
    /// `CounterF64`, like Go's.
    F64,
}

/// A counter handle of either kind, incremented by whole amounts.
enum AnyCounter {
    U64(Counter),
    F64(CounterF64),
}

impl AnyCounter {
    fn add(&self, n: u32) {
        match self {
            AnyCounter::U64(c) => c.inc_by(u64::from(n)),
            AnyCounter::F64(c) => assert!(c.inc_by(f64::from(n))),
        }
    }
}

/// Looks up a counter series by label values.
type Lookup = Box<dyn Fn(&[&str]) -> AnyCounter>;

/// Registers a counter family (or single counter, `labels` empty) of the chosen kind and
/// returns a lookup for its series.
fn counter(registry: &Registry, kind: Counters, name: &str, help: &str, labels: &[&str]) -> Lookup {
    match (kind, labels.is_empty()) {
        (Counters::U64, true) => {
            let c = Counter::builder(name).help(help).register(registry).unwrap();
            Box::new(move |_| AnyCounter::U64(c.clone()))
        }
        (Counters::F64, true) => {
            let c = CounterF64::builder(name).help(help).register(registry).unwrap();
            Box::new(move |_| AnyCounter::F64(c.clone()))
        }
        (Counters::U64, false) => {
            let f =
                Counter::builder(name).help(help).labels(labels.iter().copied()).register(registry).unwrap();
            Box::new(move |v| AnyCounter::U64(f.with_label_values(v).unwrap().into_owned()))
        }
        (Counters::F64, false) => {
            let f = CounterF64::builder(name)
                .help(help)
                .labels(labels.iter().copied())
                .register(registry)
                .unwrap();
            Box::new(move |v| AnyCounter::F64(f.with_label_values(v).unwrap().into_owned()))
        }
    }
}

/// The calls listed at the top of `tools/go-oracle/main.go`, in their order, on a fresh
/// registry, the summary included.
fn golden_registry(counters: Counters) -> Registry {
    let r = Registry::new();

    let (norm_mean, norm_domain) = (200.0, 40.0);
    let completion = Histogram::builder("completion_duration_histogram_ms")
        .help("Latency for mapping completion in ms")
        .buckets(linear_buckets(norm_mean - 5.0 * norm_domain, 0.5 * norm_domain, 20).unwrap())
        .register(&r)
        .unwrap();
    for v in [0.0, 12.5, 20.0, 187.25, 200.0, 233.3, 380.0, 512.0] {
        completion.observe(v);
    }

    let success = counter(&r, counters, "success_counter", "Count of successful mapping completions", &[]);
    for _ in 0..6 {
        success(&[]).add(1);
    }
    let failure = counter(&r, counters, "failure_counter", "Count of failed mapping completions", &[]);
    for _ in 0..2 {
        failure(&[]).add(1);
    }

    let escapes =
        counter(&r, counters, "escape_test_total", "Label values that need escaping", &["value", "case"]);
    for (case, value, n) in [
        ("backslash", r"a\b", 1),
        ("quote", r#"say "hi""#, 2),
        ("newline", "line1\nline2", 3),
        ("tab", "a\tb", 4),
        ("unicode", "ü ✓ 日本 🙂", 5),
        ("empty", "", 6),
    ] {
        escapes(&[value, case]).add(n);
    }

    let floats = GaugeF64::builder("float_format_test")
        .help("Gauge values that test float formatting")
        .labels(["case"])
        .register(&r)
        .unwrap();
    for (case, v) in [
        ("zero", 0.0),
        ("neg_zero", -0.0),
        ("small", 1e-05),
        ("million", 1e+06),
        ("int", 123_456_789.0),
        ("huge", 1.5e300),
        ("nan", f64::NAN),
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
    ] {
        floats.with_label_values(&[case]).unwrap().set(v);
    }

    let requests = Histogram::builder("request_duration_seconds")
        .help("Exponential-bucket histogram")
        .buckets(exponential_buckets(0.001, 10.0, 7).unwrap())
        .register(&r)
        .unwrap();
    for v in [0.0005, 0.001, 0.0042, 0.5, 3.0, 75.0, 2500.0] {
        requests.observe(v);
    }

    let summary = promkit::Summary::builder("payload_size_bytes")
        .help("Summary with objectives")
        .objectives(promkit::Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).unwrap())
        .register(&r)
        .unwrap();
    for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
        summary.observe(v);
    }

    // Go's gauge is a float64; promkit's integer `Gauge` writes 42 the same way.
    Gauge::builder("help_escape_test")
        .help("Help with a backslash \\ a \"quote\" and a\nnewline")
        .register(&r)
        .unwrap()
        .set(42);
    r
}

fn golden_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/golden").join(file)
}

/// The checked-in copy of the oracle's output; checked against the oracle's live output when
/// it is installed (and rewritten from it with `PROMKIT_UPDATE_GOLDEN=1`).
fn checked_in(file: &str, live: Option<String>) -> String {
    let path = golden_path(file);
    let copy =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let Some(live) = live else {
        return copy;
    };
    if live != copy {
        if std::env::var_os("PROMKIT_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &live).unwrap();
            return live;
        }
        panic!(
            "{} is out of date with the Go oracle; regenerate it with \
             PROMKIT_UPDATE_GOLDEN=1 cargo test -p promkit --test it golden\n\
             --- checked in\n{copy}\n--- oracle\n{live}",
            path.display()
        );
    }
    copy
}

fn assert_same(ours: &str, golden: &str, what: &str) {
    if ours != golden {
        let line = ours
            .lines()
            .zip(golden.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.lines().count().min(golden.lines().count()));
        panic!(
            "{what}: promkit differs from client_golang at line {}\n--- promkit\n{ours}\n--- client_golang\n{golden}",
            line + 1
        );
    }
}

#[test]
fn text_is_byte_identical_to_client_golang() {
    let golden = checked_in("client_golang.txt", promkit_oracle::go_golden());
    for counters in [Counters::U64, Counters::F64] {
        let r = golden_registry(counters);
        assert_same(&crate::text(&r), &golden, &format!("text, {counters:?}"));
    }
}

#[test]
fn openmetrics_is_byte_identical_to_client_golang() {
    // client_golang writes its counters without `_total` as `# TYPE x unknown` and every
    // counter value as a float (`6.0`); promkit does the same with either counter type.
    let golden = checked_in("client_golang.om.txt", promkit_oracle::go_golden_openmetrics());
    for counters in [Counters::U64, Counters::F64] {
        let r = golden_registry(counters);
        assert_same(&crate::om(&r), &golden, &format!("OpenMetrics, {counters:?}"));
    }
}

#[test]
fn a_gathered_snapshot_encodes_to_the_same_bytes() {
    let r = golden_registry(Counters::U64);
    let families = r.gather().unwrap();
    for format in [Format::Text, Format::OPENMETRICS] {
        let mut replayed = Vec::new();
        encode_families(&families, format, &mut replayed);
        assert_same(
            &String::from_utf8(replayed).unwrap(),
            &crate::encode(&r, format),
            &format!("gathered, {format:?}"),
        );
    }
}

#[test]
fn the_golden_text_is_go_canonical_and_goes_to_the_same_openmetrics() {
    // Go re-reading promkit's text must find nothing to change, and its OpenMetrics rendering
    // of that text must be promkit's own OpenMetrics.
    let r = golden_registry(Counters::U64);
    let text = crate::text(&r);
    if let Some(canon) = promkit_oracle::go_canon(&text) {
        assert_same(&canon.unwrap(), &text, "Go canon of promkit's text");
    }
    if let Some(om) = promkit_oracle::go_openmetrics(&text) {
        assert_same(&crate::om(&r), &om.unwrap(), "Go's OpenMetrics of promkit's text");
    }
}

/// The oracle's empty-families registry replayed: vectors without series, one emptied by
/// removal, an empty histogram family beside a used one, an unlabelled counter at zero.
fn empty_registry() -> Registry {
    let r = Registry::new();
    let _empty =
        Counter::builder("empty_total").help("Never had a series").labels(["kind"]).register(&r).unwrap();
    let deleted =
        Counter::builder("deleted_total").help("Every series deleted").labels(["kind"]).register(&r).unwrap();
    let buckets = promkit::Buckets::new(vec![0.1, 1.0]).unwrap();
    let _empty_h = Histogram::builder("empty_seconds")
        .help("Empty histogram vec")
        .buckets(buckets.clone())
        .labels(["route"])
        .register(&r)
        .unwrap();
    let used = Histogram::builder("used_seconds")
        .help("Used histogram vec")
        .buckets(buckets)
        .labels(["route"])
        .register(&r)
        .unwrap();
    let _plain = Counter::builder("plain_total").help("Unlabelled").register(&r).unwrap();
    deleted.must_with_label_values(&["a"]).inc();
    assert!(deleted.remove(&["a"]).unwrap());
    used.must_with_label_values(&["/a"]).observe(0.5);
    r
}

#[test]
fn empty_families_are_left_out_as_client_golang_does() {
    let r = empty_registry();
    let text = checked_in("client_golang.empty.txt", promkit_oracle::go_empty());
    assert_same(&crate::text(&r), &text, "text, empty families");
    let om = checked_in("client_golang.empty.om.txt", promkit_oracle::go_empty_openmetrics());
    assert_same(&crate::om(&r), &om, "OpenMetrics, empty families");
    #[cfg(feature = "protobuf")]
    {
        let mut proto = Vec::new();
        r.encode(Format::Protobuf, &mut proto).unwrap();
        if let Some(decoded) = promkit_oracle::go_decode_protobuf(&proto) {
            assert_same(&decoded.unwrap(), &text, "protobuf decoded by Go, empty families");
        }
    }
}

#[test]
fn a_family_asking_to_be_shown_keeps_its_header_while_empty() {
    let r = Registry::new();
    let f = Counter::builder("shown_total")
        .help("Kept visible")
        .labels(["kind"])
        .when_empty(promkit::WhenEmpty::Header)
        .register(&r)
        .unwrap();
    let header = "# HELP shown_total Kept visible\n# TYPE shown_total counter\n";
    assert_eq!(crate::text(&r), header);
    f.must_with_label_values(&["a"]).inc();
    f.clear();
    assert_eq!(crate::text(&r), header);
    assert_eq!(crate::om(&r), "# HELP shown Kept visible\n# TYPE shown counter\n# EOF\n");
}
