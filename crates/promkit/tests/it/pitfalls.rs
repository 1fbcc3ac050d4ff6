//! One test per exposition-format pitfall of `peers-and-pitfalls.md` §3 that applies to
//! promkit's core (escaping, numbers, structure), named after it (`pNN_…`). Exact bytes first;
//! the oracles then confirm that the bytes mean what they should.
//!
//! Not here yet: 15 (exemplars), 16-19 (HTTP, negotiation, escaping schemes, compression),
//! 20 (Pushgateway URLs); 3 only as far as refusing names that need quoting.

use std::time::{SystemTime, UNIX_EPOCH};

use promkit::encode::CreatedSamples;
use promkit::model::{Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value};
use promkit::{
    BucketError, Buckets, BuildError, CollectError, Collector, Counter, CounterF64, Error, Format, Gauge,
    GaugeF64, Histogram, RegisterError, Registry, Untyped,
    encode::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE},
};
use promkit_oracle::{Format as Py, PyFamily};

/// Python's reading of `body`, or `None` when Python is not installed.
fn python(body: &str, format: Py) -> Option<Vec<PyFamily>> {
    promkit_oracle::python_parse(body, format)
        .map(|r| r.unwrap_or_else(|e| panic!("{format:?}: {e}\n{body}")))
}

/// Go's strict parser must accept the text and find it already canonical.
fn assert_go_canonical(text: &str) {
    if let Some(canon) = promkit_oracle::go_canon(text) {
        assert_eq!(canon.as_deref(), Ok(text), "Go's canonical form differs");
    }
}

/// The lines of `body` that belong to family `name` (its comments and samples).
fn family_lines<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.lines()
        .filter(|l| {
            let rest = l
                .strip_prefix("# HELP ")
                .or(l.strip_prefix("# TYPE "))
                .or(l.strip_prefix("# UNIT "))
                .unwrap_or(l);
            rest.strip_prefix(name).is_some_and(|r| r.starts_with([' ', '{', '_']))
        })
        .collect()
}

#[test]
fn p01_label_values_escape_exactly_three_chars() {
    let r = Registry::new();
    let g = Gauge::builder("esc").help("Escapes.").labels(["v"]).register(&r).unwrap();
    // Each value's gauge is set to its index here.
    let values = [
        r"back\slash",
        r#"say "hi""#,
        "two\nlines",
        "tab\tcr\rdel\u{7f}nul\0",
        r#"already \" escaped"#,
        r"\n is two characters",
        "ü ✓ 日本 🙂",
        "",
    ];
    for (i, v) in values.iter().enumerate() {
        g.with_label_values(&[v]).unwrap().set(i as i64);
    }
    let expected = concat!(
        "# HELP esc Escapes.\n",
        "# TYPE esc gauge\n",
        "esc{v=\"\"} 7\n",
        // Go's order: by the unescaped values' bytes, and `\` sorts before `a`.
        "esc{v=\"\\\\n is two characters\"} 5\n",
        "esc{v=\"already \\\\\\\" escaped\"} 4\n",
        "esc{v=\"back\\\\slash\"} 0\n",
        "esc{v=\"say \\\"hi\\\"\"} 1\n",
        "esc{v=\"tab\tcr\rdel\u{7f}nul\0\"} 3\n",
        "esc{v=\"two\\nlines\"} 2\n",
        "esc{v=\"ü ✓ 日本 🙂\"} 6\n",
    );
    let text = crate::text(&r);
    assert_eq!(text, expected);
    // OpenMetrics escapes label values the same way.
    let om = crate::om(&r);
    let om_samples: Vec<String> = family_lines(&om, "esc")[2..].iter().map(|l| (*l).to_owned()).collect();
    let text_samples: Vec<String> =
        family_lines(&text, "esc")[2..].iter().map(|l| format!("{l}.0")).collect();
    assert_eq!(om_samples, text_samples);
    assert_go_canonical(&text);
    for (body, format) in [(&text, Py::Text), (&om, Py::OpenMetrics)] {
        let Some(families) = python(body, format) else { continue };
        let mut read: Vec<(String, f64)> =
            families[0].samples.iter().map(|s| (s.labels["v"].clone(), s.value)).collect();
        read.sort_by(|a, b| a.1.total_cmp(&b.1));
        let written: Vec<(String, f64)> =
            values.iter().enumerate().map(|(i, v)| (v.to_string(), i as f64)).collect();
        assert_eq!(read, written, "{format:?}");
    }
}

#[test]
fn p02_help_escaping_differs_between_text_and_openmetrics() {
    let help = "Path C:\\tmp, \"quoted\",\nsecond line";
    let r = Registry::new();
    Gauge::builder("helpful").help(help).register(&r).unwrap().set(1);
    let text = crate::text(&r);
    let om = crate::om(&r);
    // Text: `\` and newline only, the quote stays raw (Go's no-quote escaper). No "." added.
    assert_eq!(
        text,
        "# HELP helpful Path C:\\\\tmp, \"quoted\",\\nsecond line\n# TYPE helpful gauge\nhelpful 1\n"
    );
    // OpenMetrics: HELP is an escaped-string, so the quote is escaped too.
    assert_eq!(
        om,
        "# HELP helpful Path C:\\\\tmp, \\\"quoted\\\",\\nsecond line\n# TYPE helpful gauge\nhelpful 1.0\n# EOF\n"
    );
    assert_go_canonical(&text);
    if let Some(report) = promkit_oracle::promtool_check(&text) {
        assert!(report.ok && report.lint.is_empty(), "{}", report.output);
    }
    for (body, format) in [(&text, Py::Text), (&om, Py::OpenMetrics)] {
        if let Some(families) = python(body, format) {
            assert_eq!(families[0].help, help, "{format:?}");
        }
    }
}

#[test]
fn p03_names_that_would_need_quoting_are_refused() {
    // UTF-8 names need `{"my.metric"}` syntax, allowed only after `escaping=allow-utf-8`
    // negotiation (not in promkit yet); promkit refuses them rather than write them raw.
    let e = Counter::builder("my.metric_total").build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid metric name `my.metric_total`: `.` is not allowed; use letters, digits, `_` and `:`"
    );
    let e = Counter::builder("ok_total").labels(["my.label"]).build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid label name `my.label` on `ok_total`: `.` is not allowed; use letters, digits and `_`"
    );
    let e = Gauge::builder("größe").build().unwrap_err();
    assert!(matches!(e, BuildError::InvalidMetricName { .. }), "{e}");
    let e = Gauge::builder("g").const_label("ü", "x").build().unwrap_err();
    assert!(matches!(e, BuildError::InvalidLabelName { .. }), "{e}");
}

#[test]
fn p04_special_values_are_nan_plus_inf_minus_inf() {
    let r = Registry::new();
    let g = GaugeF64::builder("special").help("S.").labels(["v"]).register(&r).unwrap();
    g.with_label_values(&["nan"]).unwrap().set(f64::NAN);
    g.with_label_values(&["neg"]).unwrap().set(f64::NEG_INFINITY);
    g.with_label_values(&["pos"]).unwrap().set(f64::INFINITY);
    let c = CounterF64::builder("special_total").help("S.").register(&r).unwrap();
    assert!(c.inc_by(f64::INFINITY));
    Untyped::builder("special_untyped").help("S.").register(&r).unwrap().set(f64::NAN);
    let text = crate::text(&r);
    assert_eq!(
        text,
        concat!(
            "# HELP special S.\n# TYPE special gauge\n",
            "special{v=\"nan\"} NaN\nspecial{v=\"neg\"} -Inf\nspecial{v=\"pos\"} +Inf\n",
            "# HELP special_total S.\n# TYPE special_total counter\nspecial_total +Inf\n",
            "# HELP special_untyped S.\n# TYPE special_untyped untyped\nspecial_untyped NaN\n",
        )
    );
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP special S.\n# TYPE special gauge\n",
            "special{v=\"nan\"} NaN\nspecial{v=\"neg\"} -Inf\nspecial{v=\"pos\"} +Inf\n",
            "# HELP special S.\n# TYPE special counter\nspecial_total +Inf\n",
            "# HELP special_untyped S.\n# TYPE special_untyped unknown\nspecial_untyped NaN\n",
            "# EOF\n",
        )
    );
    assert!(!text.contains(" inf") && !text.contains("-inf") && !om.contains(" inf"), "no Rust-style `inf`");
    assert_go_canonical(&text);
    if let Some(families) = python(&text, Py::Text) {
        let v: Vec<f64> = families[0].samples.iter().map(|s| s.value).collect();
        assert!(v[0].is_nan() && v[1] == f64::NEG_INFINITY && v[2] == f64::INFINITY, "{v:?}");
    }
}

/// `(value, text 0.0.4, OpenMetrics)`: Go's shortest `%g` (exponent from 1e21 up and below
/// 1e-4, two-digit exponents, `+`), and OpenMetrics adding `.0` to integers.
const FLOATS: [(f64, &str, &str); 18] = [
    (0.0, "0", "0.0"),
    (-0.0, "0", "0.0"),
    (1.0, "1", "1.0"),
    (-1.5, "-1.5", "-1.5"),
    (0.1, "0.1", "0.1"),
    (0.0001, "0.0001", "0.0001"),
    (0.00001, "1e-05", "1e-05"),
    (1.5e-7, "1.5e-07", "1.5e-07"),
    (100_000.0, "100000", "100000.0"),
    (999_999.0, "999999", "999999.0"),
    (1e6, "1e+06", "1e+06"),
    (123_456_789.0, "1.23456789e+08", "1.23456789e+08"),
    (1e21, "1e+21", "1e+21"),
    (1e-300, "1e-300", "1e-300"),
    (5e-324, "5e-324", "5e-324"),
    (f64::MAX, "1.7976931348623157e+308", "1.7976931348623157e+308"),
    (f64::MIN, "-1.7976931348623157e+308", "-1.7976931348623157e+308"),
    (2.5e-310, "2.5e-310", "2.5e-310"),
];

#[test]
fn p05_floats_use_go_shortest_form_with_exponents() {
    let r = Registry::new();
    let g = GaugeF64::builder("f").help("F.").labels(["i"]).register(&r).unwrap();
    // Label values sort as strings: zero-pad the index.
    for (i, (v, ..)) in FLOATS.iter().enumerate() {
        g.with_label_values(&[&format!("{i:02}")]).unwrap().set(*v);
    }
    let text = crate::text(&r);
    let om = crate::om(&r);
    for (i, (v, t, o)) in FLOATS.iter().enumerate() {
        let line = format!("f{{i=\"{i:02}\"}} ");
        assert!(text.contains(&format!("{line}{t}\n")), "{v:?} should be {t} in text:\n{text}");
        assert!(om.contains(&format!("{line}{o}\n")), "{v:?} should be {o} in OpenMetrics:\n{om}");
    }
    assert_go_canonical(&text);

    // Integer metrics are float64 in Go, so they switch to exponents at a million too.
    let r = Registry::new();
    Counter::builder("n_total").help("N.").register(&r).unwrap().inc_by(1_000_000);
    Counter::builder("m_total").help("M.").register(&r).unwrap().inc_by(u64::MAX);
    Gauge::builder("g").help("G.").register(&r).unwrap().set(-1_234_567);
    let text = crate::text(&r);
    assert!(text.contains("\nn_total 1e+06\n"), "{text}");
    assert!(text.contains("\nm_total 1.8446744073709552e+19\n"), "{text}");
    assert!(text.contains("\ng -1.234567e+06\n"), "{text}");
    let om = crate::om(&r);
    assert!(om.contains("\nn_total 1e+06\n") && om.contains("\ng -1.234567e+06\n"), "{om}");
    assert_go_canonical(&text);
}

#[test]
fn p06_le_is_series_identity_and_differs_between_formats() {
    let r = Registry::new();
    let h = Histogram::builder("size_bytes")
        .help("Sizes.")
        .buckets(Buckets::new([0.005, 1.0, 10.0, 1e6]).unwrap())
        .register(&r)
        .unwrap();
    h.observe(0.5);
    h.observe(2e6);
    assert_eq!(
        crate::text(&r),
        concat!(
            "# HELP size_bytes Sizes.\n# TYPE size_bytes histogram\n",
            "size_bytes_bucket{le=\"0.005\"} 0\n",
            "size_bytes_bucket{le=\"1\"} 1\n",
            "size_bytes_bucket{le=\"10\"} 1\n",
            "size_bytes_bucket{le=\"1e+06\"} 1\n",
            "size_bytes_bucket{le=\"+Inf\"} 2\n",
            "size_bytes_sum 2.0000005e+06\n",
            "size_bytes_count 2\n",
        )
    );
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP size_bytes Sizes.\n# TYPE size_bytes histogram\n",
            "size_bytes_bucket{le=\"0.005\"} 0\n",
            "size_bytes_bucket{le=\"1.0\"} 1\n",
            "size_bytes_bucket{le=\"10.0\"} 1\n",
            "size_bytes_bucket{le=\"1e+06\"} 1\n",
            "size_bytes_bucket{le=\"+Inf\"} 2\n",
            "size_bytes_sum 2.0000005e+06\n",
            "size_bytes_count 2\n",
            "# EOF\n",
        )
    );
    assert_go_canonical(&crate::text(&r));
    // The Python OpenMetrics parser insists on canonical `le` values (`1.0`, not `1`).
    if let Some(families) = python(&om, Py::OpenMetrics) {
        let les: Vec<&str> =
            families[0].samples.iter().filter_map(|s| s.labels.get("le").map(String::as_str)).collect();
        assert_eq!(les, ["0.005", "1.0", "10.0", "1e+06", "+Inf"]);
    }
}

#[test]
fn p07_openmetrics_counts_are_integers_and_counters_never_negative_or_nan() {
    let r = Registry::new();
    let h = Histogram::builder("h").help("H.").buckets(Buckets::new([1.0]).unwrap()).register(&r).unwrap();
    for v in [0.5, 0.5, 3.0] {
        h.observe(v);
    }
    let c = CounterF64::builder("c_total").help("C.").register(&r).unwrap();
    assert!(c.inc_by(2.0));
    assert!(!c.inc_by(-1.0), "a negative amount is refused");
    assert!(!c.inc_by(f64::NAN), "NaN is refused");
    assert_eq!(c.get(), 2.0);
    Counter::builder("n_total").help("N.").register(&r).unwrap().inc_by(5);
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP c C.\n# TYPE c counter\nc_total 2.0\n",
            "# HELP h H.\n# TYPE h histogram\n",
            "h_bucket{le=\"1.0\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.0\nh_count 3\n",
            "# HELP n N.\n# TYPE n counter\nn_total 5.0\n",
            "# EOF\n",
        )
    );
    if let Some(families) = python(&om, Py::OpenMetrics) {
        assert_eq!(families.len(), 3);
    }
}

#[test]
fn p07_a_histogram_with_negative_buckets_has_no_sum_in_openmetrics() {
    // A negative bucket bound makes the sum no counter: OpenMetrics then forbids `_sum`, and
    // `_count` goes with `_sum`. Text 0.0.4 has no such rule and keeps both, as Go does.
    let r = Registry::new();
    let h = Histogram::builder("temp_celsius")
        .help("T.")
        .buckets(Buckets::new([-10.0, 0.0, 25.0]).unwrap())
        .register(&r)
        .unwrap();
    for v in [-20.0, -5.0, 30.0] {
        h.observe(v);
    }
    let text = crate::text(&r);
    assert_eq!(
        text,
        concat!(
            "# HELP temp_celsius T.\n# TYPE temp_celsius histogram\n",
            "temp_celsius_bucket{le=\"-10\"} 1\ntemp_celsius_bucket{le=\"0\"} 2\n",
            "temp_celsius_bucket{le=\"25\"} 2\ntemp_celsius_bucket{le=\"+Inf\"} 3\n",
            "temp_celsius_sum 5\ntemp_celsius_count 3\n",
        )
    );
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP temp_celsius T.\n# TYPE temp_celsius histogram\n",
            "temp_celsius_bucket{le=\"-10.0\"} 1\ntemp_celsius_bucket{le=\"0.0\"} 2\n",
            "temp_celsius_bucket{le=\"25.0\"} 2\ntemp_celsius_bucket{le=\"+Inf\"} 3\n",
            "# EOF\n",
        )
    );
    assert_go_canonical(&text);
    // The strict Python parser refuses `_sum` with negative buckets ("Cannot have _sum with
    // negative buckets") and `_count` without `_sum`.
    if let Some(families) = python(&om, Py::OpenMetrics) {
        assert_eq!(families[0].samples.len(), 4);
    }
}

/// Samples with explicit timestamps, from a collector of its own.
struct Stamped;

impl Stamped {
    const STAMPS: [(&str, i64); 3] = [("a", 1_700_000_000_123), ("b", 1_500), ("c", 0)];
}

impl Collector for Stamped {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: "stamped".into(),
            help: "S.".into(),
            unit: String::new(),
            kind: MetricType::Gauge,
            label_names: vec!["k".into()],
            const_labels: Vec::new(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&FamilyHeader { name: "stamped", help: "S.", unit: "", kind: MetricType::Gauge });
        for (k, ms) in Self::STAMPS {
            sink.sample(&Labels::Pairs(&[("k", k)]), Value::GaugeF64(1.0), &SampleMeta::at(ms));
        }
        Ok(())
    }
}

#[test]
fn p08_timestamps_are_milliseconds_in_text_and_seconds_in_openmetrics() {
    let r = Registry::new();
    r.register(Stamped).unwrap();
    let text = crate::text(&r);
    assert_eq!(
        text,
        concat!(
            "# HELP stamped S.\n# TYPE stamped gauge\n",
            "stamped{k=\"a\"} 1 1700000000123\n",
            "stamped{k=\"b\"} 1 1500\n",
            "stamped{k=\"c\"} 1 0\n",
        )
    );
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP stamped S.\n# TYPE stamped gauge\n",
            "stamped{k=\"a\"} 1.0 1.700000000123e+09\n",
            "stamped{k=\"b\"} 1.0 1.5\n",
            "stamped{k=\"c\"} 1.0 0.0\n",
            "# EOF\n",
        )
    );
    assert_go_canonical(&text);
    if let Some(families) = python(&text, Py::Text) {
        let ts: Vec<Option<f64>> = families[0].samples.iter().map(|s| s.timestamp).collect();
        assert_eq!(ts, [Some(1_700_000_000.123), Some(1.5), Some(0.0)]);
    }
    if let Some(families) = python(&om, Py::OpenMetrics) {
        // Only b and c: prometheus_client 0.26 misreads `1.700000000123e+09` as 1.7 s (its
        // `sec.nsec` fast path takes the nine digits after the point and ignores the exponent).
        let ts: Vec<Option<f64>> = families[0].samples[1..].iter().map(|s| s.timestamp).collect();
        assert_eq!(ts, [Some(1.5), Some(0.0)]);
    }
}

/// Checks the family structure of an exposition: each family's HELP and TYPE (and UNIT) come
/// once, before its samples, and its lines are contiguous; no family appears twice.
fn assert_grouped(body: &str) {
    let mut seen: Vec<String> = Vec::new();
    let mut current: Option<(String, bool)> = None; // (family, samples started)
    for line in body.lines() {
        if line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let (kind, rest) = rest.split_once(' ').unwrap();
            let name = rest.split(' ').next().unwrap();
            match &mut current {
                Some((family, started)) if family == name => {
                    assert!(!*started, "{kind} after samples of {name}:\n{body}");
                    assert!(kind != "HELP", "second HELP for {name}:\n{body}");
                }
                _ => {
                    assert_eq!(kind, "HELP", "a family starts with HELP:\n{body}");
                    assert!(!seen.contains(&name.to_owned()), "{name} appears twice:\n{body}");
                    seen.push(name.to_owned());
                    current = Some((name.to_owned(), false));
                }
            }
        } else {
            let (family, started) = current.as_mut().expect("a sample before any HELP");
            assert!(line.starts_with(family.as_str()), "{line} is not in family {family}:\n{body}");
            *started = true;
        }
    }
}

#[test]
fn p09_help_and_type_once_per_family_before_its_samples() {
    let (r, _) = crate::oracles::rich();
    assert_grouped(&crate::text(&r));
    assert_grouped(&crate::om(&r));
    assert_grouped(&crate::encode(&r, Format::OpenMetrics { created_samples: CreatedSamples::Write }));

    // Two registries exporting one family merge into one block, not two.
    let (a, b) = (Registry::new(), Registry::new());
    for (reg, v) in [(&a, "1"), (&b, "2")] {
        Counter::builder("m_total")
            .help("M.")
            .labels(["r"])
            .register(reg)
            .unwrap()
            .with_label_values(&[v])
            .unwrap()
            .inc();
    }
    let mut out = Vec::new();
    promkit::registry::Gatherers::new([&a, &b]).encode(Format::Text, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, "# HELP m_total M.\n# TYPE m_total counter\nm_total{r=\"1\"} 1\nm_total{r=\"2\"} 1\n");
    assert_go_canonical(&text);
}

#[test]
fn p09_duplicate_registration_is_refused_not_appended() {
    let r = Registry::new();
    Counter::builder("dup_total").help("D.").register(&r).unwrap().inc();
    let e = Counter::builder("dup_total").help("D.").register(&r).unwrap_err();
    assert!(matches!(e, Error::Register(RegisterError::AlreadyRegistered { .. })), "{e}");
    // A collector describing one family twice is refused as a whole.
    struct Twice;
    impl Collector for Twice {
        fn describe(&self) -> Vec<Desc> {
            let d = Desc {
                name: "twice".into(),
                help: String::new(),
                unit: String::new(),
                kind: MetricType::Gauge,
                label_names: Vec::new(),
                const_labels: Vec::new(),
            };
            vec![d.clone(), d]
        }
        fn collect(&self, _: &mut dyn Sink) -> Result<(), CollectError> {
            Ok(())
        }
    }
    let e = r.register(Twice).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the collector describes `twice` twice; a collector must describe each family once"
    );
    // Still exactly one family, once.
    assert_eq!(crate::text(&r), "# HELP dup_total D.\n# TYPE dup_total counter\ndup_total 1\n");
}

#[test]
fn p10_histogram_invariants() {
    // A trailing +Inf from the user is dropped: there is exactly one +Inf bucket.
    let b = Buckets::new([1.0, 2.0, f64::INFINITY]).unwrap();
    assert_eq!(b.bounds(), [1.0, 2.0]);
    let r = Registry::new();
    let h = Histogram::builder("lat").help("L.").labels(["p"]).buckets(b).register(&r).unwrap();
    for (p, obs) in [("x", &[0.5, 1.0, 1.5, 2.0, 9.0, f64::INFINITY][..]), ("y", &[][..])] {
        let s = h.with_label_values(&[p]).unwrap();
        obs.iter().for_each(|&v| s.observe(v));
    }
    let text = crate::text(&r);
    assert_eq!(
        text,
        concat!(
            "# HELP lat L.\n# TYPE lat histogram\n",
            "lat_bucket{p=\"x\",le=\"1\"} 2\nlat_bucket{p=\"x\",le=\"2\"} 4\nlat_bucket{p=\"x\",le=\"+Inf\"} 6\n",
            "lat_sum{p=\"x\"} +Inf\nlat_count{p=\"x\"} 6\n",
            "lat_bucket{p=\"y\",le=\"1\"} 0\nlat_bucket{p=\"y\",le=\"2\"} 0\nlat_bucket{p=\"y\",le=\"+Inf\"} 0\n",
            "lat_sum{p=\"y\"} 0\nlat_count{p=\"y\"} 0\n",
        )
    );
    assert_go_canonical(&text);

    // A NaN observation lands in +Inf and makes the sum NaN, as in Go.
    let n = Histogram::builder("n").buckets(Buckets::new([1.0]).unwrap()).build().unwrap();
    n.metric().observe(f64::NAN);
    assert_eq!(n.metric().snapshot().0, [0, 1]);
    assert!(n.metric().sum().is_nan());

    // Bounds are validated where they are made.
    assert_eq!(Buckets::new([2.0, 1.0]), Err(BucketError::NotSorted { index: 1, value: 1.0, previous: 2.0 }));
    assert_eq!(Buckets::new([1.0, 1.0]), Err(BucketError::Duplicate { index: 1, value: 1.0 }));
    assert_eq!(Buckets::new([f64::NAN]), Err(BucketError::NaN { index: 0 }));
    assert_eq!(Buckets::new([f64::NEG_INFINITY, 1.0]), Err(BucketError::NegativeInfinity { index: 0 }));
    assert_eq!(Buckets::new([f64::INFINITY]), Err(BucketError::Empty));
    assert_eq!(
        Buckets::new([1.0, f64::INFINITY, 2.0]).unwrap_err().to_string(),
        "the bucket bound at index 1 is +Inf, which may only be the last bound; leave it out (the +Inf bucket \
         is always there)"
    );

    // `le` is the histogram's own label.
    let e = Histogram::builder("h").labels(["le"]).build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "label `le` is reserved on histogram `h`: Prometheus writes each bucket's upper bound in it; name your \
         label something else"
    );
    let e = Histogram::builder("h").const_label("le", "1").build().unwrap_err();
    assert!(matches!(e, BuildError::ReservedLabel { .. }), "{e}");
    // Other types may use it.
    assert!(Gauge::builder("g").labels(["le"]).build().is_ok());
}

#[test]
fn p11_counter_total_in_openmetrics() {
    let r = Registry::new();
    Counter::builder("jobs_total").help("Jobs.").register(&r).unwrap().inc_by(3);
    Counter::builder("jobs_done").help("No suffix.").register(&r).unwrap().inc_by(2);
    CounterF64::builder("x_total_total").help("Doubled by the user.").register(&r).unwrap().inc();
    // Text: the family is the full name; `_total` is only a naming convention.
    assert_eq!(
        crate::text(&r),
        concat!(
            "# HELP jobs_done No suffix.\n# TYPE jobs_done counter\njobs_done 2\n",
            "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 3\n",
            "# HELP x_total_total Doubled by the user.\n# TYPE x_total_total counter\nx_total_total 1\n",
        )
    );
    // OpenMetrics: the family drops `_total`, the sample keeps it; nothing is appended, so
    // no `_total_total` appears that the user did not write; without `_total`, `unknown`.
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP jobs_done No suffix.\n# TYPE jobs_done unknown\njobs_done 2.0\n",
            "# HELP jobs Jobs.\n# TYPE jobs counter\njobs_total 3.0\n",
            "# HELP x_total Doubled by the user.\n# TYPE x_total counter\nx_total_total 1.0\n",
            "# EOF\n",
        )
    );
    if let Some(families) = python(&om, Py::OpenMetrics) {
        let kinds: Vec<(&str, &str)> =
            families.iter().map(|f| (f.name.as_str(), f.r#type.as_str())).collect();
        assert_eq!(kinds, [("jobs_done", "unknown"), ("jobs", "counter"), ("x_total", "counter")]);
    }
    if let Some(go) = promkit_oracle::go_openmetrics(&crate::text(&r)) {
        assert_eq!(go.as_deref(), Ok(om.as_str()), "Go writes the same OpenMetrics");
    }
}

#[test]
fn p12_created_samples_are_opt_in_and_only_for_counters_and_histograms() {
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let r = Registry::new();
    let c = Counter::builder("c_total").help("C.").register(&r).unwrap();
    let h = Histogram::builder("h").help("H.").buckets(Buckets::new([1.0]).unwrap()).register(&r).unwrap();
    Counter::builder("plain").help("Without the suffix: unknown.").register(&r).unwrap();
    Gauge::builder("g").help("G.").register(&r).unwrap();
    Untyped::builder("u").help("U.").register(&r).unwrap();

    assert!(!crate::text(&r).contains("_created"));
    assert!(!crate::om(&r).contains("_created"), "off by default");

    let om = crate::encode(&r, Format::OpenMetrics { created_samples: CreatedSamples::Write });
    let created: Vec<&str> = om.lines().filter(|l| l.contains("_created")).collect();
    assert_eq!(created.len(), 2, "{om}");
    let (c_line, h_line) = (created[0], created[1]);
    // Right after the total, and after `_count`.
    assert!(om.contains(&format!("c_total 0.0\n{c_line}\n")), "{om}");
    assert!(om.contains(&format!("h_count 0\n{h_line}\n")), "{om}");
    for (line, prefix, expected) in [(c_line, "c_created ", c.created()), (h_line, "h_created ", h.created())]
    {
        let value = line.strip_prefix(prefix).unwrap_or_else(|| panic!("{line}"));
        // Float seconds (Go's form: `1.7e+09`-style), the metric's creation time.
        assert!(value.contains(['.', 'e']), "{line}");
        let v: f64 = value.parse().unwrap();
        assert_eq!(v, expected, "{line}");
        assert!(v >= before - 1.0 && v < before + 600.0, "{line}");
    }
    if let Some(families) = python(&om, Py::OpenMetrics) {
        let names: Vec<&str> = families.iter().flat_map(|f| &f.samples).map(|s| s.name.as_str()).collect();
        assert!(names.contains(&"c_created") && names.contains(&"h_created"), "{names:?}");
    }

    // A real metric named like a `_created` sample is refused.
    let e = Gauge::builder("c_created").register(&r).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`c_created` would write samples named `c_created`, which family `c_total` writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)"
    );
}

#[test]
fn p13_unit_only_in_openmetrics_and_a_suffix_of_the_name() {
    let r = Registry::new();
    Histogram::builder("job_seconds")
        .help("Job time.")
        .unit("seconds")
        .buckets(Buckets::new([1.0]).unwrap())
        .register(&r)
        .unwrap();
    CounterF64::builder("cpu_seconds_total").help("CPU.").unit("seconds").register(&r).unwrap();
    Gauge::builder("no_unit").help("Unitless.").unit("").register(&r).unwrap();
    assert!(!crate::text(&r).contains("UNIT"));
    let om = crate::om(&r);
    assert_eq!(
        om,
        concat!(
            "# HELP cpu_seconds CPU.\n# TYPE cpu_seconds counter\n# UNIT cpu_seconds seconds\ncpu_seconds_total 0.0\n",
            "# HELP job_seconds Job time.\n# TYPE job_seconds histogram\n# UNIT job_seconds seconds\n",
            "job_seconds_bucket{le=\"1.0\"} 0\njob_seconds_bucket{le=\"+Inf\"} 0\njob_seconds_sum 0.0\njob_seconds_count 0\n",
            "# HELP no_unit Unitless.\n# TYPE no_unit gauge\nno_unit 0.0\n",
            "# EOF\n",
        )
    );
    if let Some(families) = python(&om, Py::OpenMetrics) {
        let units: Vec<&str> = families.iter().map(|f| f.unit.as_str()).collect();
        assert_eq!(units, ["seconds", "seconds", ""]);
    }
    let e = Gauge::builder("size_bytes").unit("seconds").build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "the name `size_bytes` does not end in its unit `seconds`, as OpenMetrics requires: name it \
         `size_bytes_seconds`, or leave the unit out"
    );
    let e = Counter::builder("seconds_total_x").unit("seconds").build().unwrap_err();
    assert!(matches!(e, BuildError::UnitNotSuffix { .. }), "{e}");
}

#[test]
fn p14_openmetrics_ends_with_eof_and_has_no_blank_or_stray_lines() {
    let empty = Registry::new();
    assert_eq!(crate::text(&empty), "");
    assert_eq!(crate::om(&empty), "# EOF\n");
    let (r, _) = crate::oracles::rich();
    for format in [Format::OPENMETRICS, Format::OpenMetrics { created_samples: CreatedSamples::Write }] {
        let om = crate::encode(&r, format);
        assert!(om.ends_with("\n# EOF\n"), "{om}");
        assert_eq!(om.matches("# EOF").count(), 1);
        assert!(!om.starts_with('\u{feff}'), "no BOM");
        for line in om.lines() {
            assert!(!line.is_empty(), "blank line in\n{om}");
            assert!(!line.ends_with('\r'), "CR line ending in\n{om}");
            if line.starts_with('#') {
                assert!(
                    line == "# EOF" || ["# HELP ", "# TYPE ", "# UNIT "].iter().any(|p| line.starts_with(p)),
                    "stray comment {line:?}"
                );
            }
        }
    }
    let text = crate::text(&r);
    assert!(!text.contains("# EOF") && !text.contains("\n\n"), "{text}");
}

#[test]
fn p16_content_types_are_exact() {
    // Negotiation is promkit-http's; the core's constants must be exactly these.
    assert_eq!(TEXT_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(OPENMETRICS_CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_eq!(Format::Text.content_type(), TEXT_CONTENT_TYPE);
    assert_eq!(Format::OPENMETRICS.content_type(), OPENMETRICS_CONTENT_TYPE);
    assert_eq!(
        Format::OpenMetrics { created_samples: CreatedSamples::Write }.content_type(),
        OPENMETRICS_CONTENT_TYPE
    );
}
