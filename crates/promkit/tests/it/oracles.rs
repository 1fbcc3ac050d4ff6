//! One rich exposition, every promkit type and label path in it, judged by real programs:
//! promtool, Go's strict parser and canonical encoder, and the Python text and OpenMetrics
//! parsers, which must read back exactly what was written.

use std::collections::BTreeMap;

use promkit::model::{Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value};
use promkit::{
    Buckets, CollectError, Collector, Counter, CounterF64, CounterFn, Format, Gauge, GaugeF64, GaugeFn,
    Histogram, LabelSet, LabelValue, Registry, Untyped,
};
use promkit_oracle::{PyFamily, PySample};

/// A family as written: what each parser must read back.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// The name as registered (a counter keeps `_total`).
    pub(crate) name: String,
    pub(crate) kind: MetricType,
    pub(crate) help: String,
    pub(crate) unit: String,
    pub(crate) samples: Vec<WrittenSample>,
    /// A histogram with a negative bucket bound: no `_sum` or `_count` in OpenMetrics.
    pub(crate) negative_buckets: bool,
}

/// One sample line as written (a histogram series is several).
#[derive(Debug, Clone)]
pub(crate) struct WrittenSample {
    /// `""`, `_bucket`, `_sum` or `_count`.
    pub(crate) suffix: &'static str,
    /// Every label but `le`, constant ones included, unescaped.
    pub(crate) labels: Vec<(String, String)>,
    /// `le` as text 0.0.4 and OpenMetrics write it.
    pub(crate) le: Option<(String, String)>,
    pub(crate) value: f64,
    pub(crate) timestamp_ms: Option<i64>,
}

/// What a test wrote, family by family, in the order the registry writes them (by name).
#[derive(Debug, Default)]
pub(crate) struct Spec {
    pub(crate) families: Vec<Written>,
}

fn owned(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
}

impl Spec {
    pub(crate) fn family(&mut self, name: &str, kind: MetricType, help: &str, unit: &str) {
        self.families.push(Written {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            unit: unit.to_owned(),
            samples: Vec::new(),
            negative_buckets: false,
        });
    }

    fn last(&mut self) -> &mut Written {
        self.families.last_mut().expect("a family first")
    }

    pub(crate) fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        self.sample_at(labels, value, None);
    }

    pub(crate) fn sample_at(&mut self, labels: &[(&str, &str)], value: f64, timestamp_ms: Option<i64>) {
        let labels = owned(labels);
        self.last().samples.push(WrittenSample { suffix: "", labels, le: None, value, timestamp_ms });
    }

    /// A histogram series: `bounds` are `(bound, le in text, le in OpenMetrics)`; the counts are
    /// worked out here from the observations, independently of promkit.
    pub(crate) fn histogram(
        &mut self,
        labels: &[(&str, &str)],
        bounds: &[(f64, &str, &str)],
        observations: &[f64],
    ) {
        let labels = owned(labels);
        let mut samples = Vec::new();
        for &(bound, text, om) in bounds.iter().chain([&(f64::INFINITY, "+Inf", "+Inf")]) {
            let count = observations.iter().filter(|&&v| v <= bound || bound == f64::INFINITY).count();
            samples.push(WrittenSample {
                suffix: "_bucket",
                labels: labels.clone(),
                le: Some((text.to_owned(), om.to_owned())),
                value: count as f64,
                timestamp_ms: None,
            });
        }
        let sum = observations.iter().sum();
        for (suffix, value) in [("_sum", sum), ("_count", observations.len() as f64)] {
            samples.push(WrittenSample {
                suffix,
                labels: labels.clone(),
                le: None,
                value,
                timestamp_ms: None,
            });
        }
        let family = self.last();
        family.samples.extend(samples);
        family.negative_buckets |= bounds.first().is_some_and(|b| b.0 < 0.0);
    }

    /// What `prometheus_client`'s parser for `format` should return for these families.
    pub(crate) fn python_view(&self, format: promkit_oracle::Format) -> Vec<PyFamily> {
        let om = format == promkit_oracle::Format::OpenMetrics;
        self.families
            .iter()
            .map(|f| {
                let stripped = f.name.strip_suffix("_total");
                // Python names a counter family without `_total` and its samples with it. In
                // OpenMetrics promkit writes a counter without `_total` as `unknown` (as Go does),
                // so it is an unknown family there; the text parser appends `_total` itself.
                let (family, kind, sample_name) = match (f.kind, stripped, om) {
                    (MetricType::Counter, Some(short), _) => (short.to_owned(), "counter", f.name.clone()),
                    (MetricType::Counter, None, false) => {
                        (f.name.clone(), "counter", format!("{}_total", f.name))
                    }
                    (MetricType::Counter, None, true) => (f.name.clone(), "unknown", f.name.clone()),
                    (MetricType::Gauge, ..) => (f.name.clone(), "gauge", f.name.clone()),
                    (MetricType::Histogram, ..) => (f.name.clone(), "histogram", f.name.clone()),
                    (MetricType::Untyped, ..) => (f.name.clone(), "unknown", f.name.clone()),
                    (other, ..) => panic!("no {other:?} in these tests"),
                };
                let samples = f
                    .samples
                    .iter()
                    .filter(|s| !(om && f.negative_buckets && matches!(s.suffix, "_sum" | "_count")))
                    .map(|s| {
                        let mut labels: BTreeMap<String, String> = s.labels.iter().cloned().collect();
                        if let Some((text, openmetrics)) = &s.le {
                            labels.insert("le".into(), if om { openmetrics.clone() } else { text.clone() });
                        }
                        let name = if s.suffix.is_empty() {
                            sample_name.clone()
                        } else {
                            format!("{}{}", f.name, s.suffix)
                        };
                        PySample {
                            name,
                            labels,
                            value: s.value,
                            timestamp: s.timestamp_ms.map(|ms| ms as f64 / 1000.0),
                            exemplar: None,
                        }
                    })
                    .collect();
                PyFamily {
                    name: family,
                    r#type: kind.to_owned(),
                    help: if om { python_openmetrics_help(&f.help) } else { python_text_help(&f.help) },
                    unit: if om { f.unit.clone() } else { String::new() },
                    samples,
                }
            })
            .collect()
    }

    /// The number of sample lines in text 0.0.4.
    pub(crate) fn sample_lines(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}

/// HELP as the Python text parser reads it back: it strips the line (`str.strip`, Unicode
/// whitespace) and skips ASCII whitespace after the name, so whitespace at the end and ASCII
/// whitespace at the start of the text are lost. (A newline is written escaped: it stays.)
pub(crate) fn python_text_help(help: &str) -> String {
    let python_isspace = |c: char| c != '\n' && (c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    help.trim_end_matches(python_isspace).trim_start_matches([' ', '\t', '\r', '\u{b}', '\u{c}']).to_owned()
}

/// HELP as the Python OpenMetrics parser reads it back: it splits the line at spaces and skips
/// those after the name, so spaces at the start of the text are lost.
pub(crate) fn python_openmetrics_help(help: &str) -> String {
    help.trim_start_matches(' ').to_owned()
}

/// Asserts that Python read back `expected`, numbers compared exactly (NaN as NaN) and samples
/// compared in a canonical order.
pub(crate) fn assert_python_reads(actual: &[PyFamily], expected: &[PyFamily], what: &str) {
    let summary = |fs: &[PyFamily]| fs.iter().map(|f| format!("{} {}", f.name, f.r#type)).collect::<Vec<_>>();
    assert_eq!(summary(actual), summary(expected), "{what}: families");
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!((&a.help, &a.unit), (&e.help, &e.unit), "{what}: help and unit of {}", e.name);
        let key = |s: &PySample| (s.name.clone(), s.labels.clone());
        let mut a_samples = a.samples.clone();
        let mut e_samples = e.samples.clone();
        a_samples.sort_by_key(key);
        e_samples.sort_by_key(key);
        assert_eq!(
            a_samples.iter().map(key).collect::<Vec<_>>(),
            e_samples.iter().map(key).collect::<Vec<_>>(),
            "{what}: series of {}",
            e.name
        );
        for (x, y) in a_samples.iter().zip(&e_samples) {
            let same = x.value == y.value && x.value.is_sign_negative() == y.value.is_sign_negative()
                || x.value.is_nan() && y.value.is_nan()
                // -0 is written `0` (as Go does), so its sign does not come back.
                || x.value == 0.0 && y.value == 0.0;
            assert!(same, "{what}: {} {:?}: read {:?}, wrote {:?}", x.name, x.labels, x.value, y.value);
            assert_eq!(x.timestamp, y.timestamp, "{what}: timestamp of {} {:?}", x.name, x.labels);
            assert_eq!(x.exemplar, None);
        }
    }
}

#[derive(Debug, Clone, Copy, LabelValue)]
#[label(rename_all = "snake_case")]
enum JobKind {
    Import,
    ExportCsv,
    #[label(rename = "re\"index\\")]
    Reindex,
}

#[derive(Debug, Clone, LabelSet)]
struct Job {
    kind: JobKind,
    #[label(rename = "ok")]
    succeeded: bool,
}

/// A collector of its own: samples with explicit timestamps, labels handed over unescaped.
struct LastSeen;

impl LastSeen {
    const NAME: &str = "app_last_seen";
    const HELP: &str = "When each peer was last seen (explicit timestamps).";
    /// Timestamps whose OpenMetrics form (`1.7e+09`) the Python parser reads right; see
    /// `pitfalls::p08` for the ones it misreads.
    const PEERS: [(&str, f64, i64); 3] =
        [("alpha", 1.0, 1_700_000_000_000), ("b\"e\\t\na", 2.5, 1_234_500), ("gamma", -1.0, 0)];
}

impl Collector for LastSeen {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: Self::NAME.into(),
            help: Self::HELP.into(),
            unit: String::new(),
            kind: MetricType::Gauge,
            label_names: vec!["peer".into()],
            const_labels: Vec::new(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&FamilyHeader { name: Self::NAME, help: Self::HELP, unit: "", kind: MetricType::Gauge });
        for (peer, value, ms) in Self::PEERS {
            sink.sample(&Labels::Pairs(&[("peer", peer)]), Value::GaugeF64(value), &SampleMeta::at(ms));
        }
        Ok(())
    }
}

/// Label values that exercise escaping: every escaped character, and characters that must
/// stay raw (tab, carriage return, DEL, non-ASCII, an escape sequence's look-alike).
const AWKWARD: [&str; 9] = [
    "",
    "plain",
    r"C:\path\",
    r#"say "hi""#,
    "two\nlines",
    "tab\there\rcr\u{7f}",
    r#"\"already escaped?\""#,
    "ü ✓ 日本 🙂",
    r"\n is not a newline",
];

/// A registry with every kind of promkit metric, and the spec of what it writes.
pub(crate) fn rich() -> (Registry, Spec) {
    let r = Registry::new();
    let mut spec = Spec::default();
    // Families in name order, as the registry writes them.

    let entries = 42.5;
    r.register(
        GaugeFn::new(
            GaugeFn::builder("app_cache_entries").help("Entries.").const_label("cache", "l1"),
            move || entries,
        )
        .unwrap(),
    )
    .unwrap();
    spec.family("app_cache_entries", MetricType::Gauge, "Entries.", "");
    spec.sample(&[("cache", "l1")], entries);

    r.register(
        CounterFn::new(CounterFn::builder("app_cache_hits_total").help("Cache hits."), || 7.0).unwrap(),
    )
    .unwrap();
    spec.family("app_cache_hits_total", MetricType::Counter, "Cache hits.", "");
    spec.sample(&[], 7.0);

    let host = "a\"b\\c\nd";
    let cpu = CounterF64::builder("app_cpu_seconds_total")
        .help("CPU time.")
        .unit("seconds")
        .const_label("host", host)
        .register(&r)
        .unwrap();
    cpu.inc_by(12.5);
    cpu.inc_by(0.125);
    spec.family("app_cpu_seconds_total", MetricType::Counter, "CPU time.", "seconds");
    spec.sample(&[("host", host)], 12.625);

    // A counter without `_total`: text keeps the name, OpenMetrics makes it `unknown`.
    let events = Counter::builder("app_events").help("Events (no _total).").register(&r).unwrap();
    events.inc_by(1_000_000);
    spec.family("app_events", MetricType::Counter, "Events (no _total).", "");
    spec.sample(&[], 1e6);

    let help = "Requests by \"method\" and code.\nSee C:\\docs\\http.";
    let requests = Counter::builder("app_http_requests_total")
        .help(help)
        .labels(["method", "code"])
        .const_label("service", "api")
        .register(&r)
        .unwrap();
    spec.family("app_http_requests_total", MetricType::Counter, help, "");
    for (i, method) in AWKWARD.iter().enumerate() {
        let code = ["200", "404", "500"][i % 3];
        let n = i as u64 * 3 + 1;
        requests.with_label_values(&[method, code]).unwrap().inc_by(n);
        spec.sample(&[("code", code), ("method", method), ("service", "api")], n as f64);
    }

    let jobs =
        Counter::builder("app_jobs_total").help("Jobs by kind.").typed_labels::<Job>().register(&r).unwrap();
    assert!(jobs.is_dense());
    spec.family("app_jobs_total", MetricType::Counter, "Jobs by kind.", "");
    for (kind, text, ok, n) in [
        (JobKind::Import, "import", true, 3),
        (JobKind::ExportCsv, "export_csv", false, 1),
        (JobKind::Reindex, "re\"index\\", true, 2),
    ] {
        jobs.with(&Job { kind, succeeded: ok }, |c| c.inc_by(n));
        spec.sample(&[("kind", text), ("ok", if ok { "true" } else { "false" })], n as f64);
    }

    spec.family(LastSeen::NAME, MetricType::Gauge, LastSeen::HELP, "");
    for (peer, value, ms) in LastSeen::PEERS {
        spec.sample_at(&[("peer", peer)], value, Some(ms));
    }
    r.register(LastSeen).unwrap();

    let legacy = Untyped::builder("app_legacy_value")
        .help("Bridged.")
        .const_label("source", "snmp")
        .register(&r)
        .unwrap();
    legacy.set(3.25e10);
    spec.family("app_legacy_value", MetricType::Untyped, "Bridged.", "");
    spec.sample(&[("source", "snmp")], 3.25e10);

    let queue = Gauge::builder("app_queue_depth").help("Depth.").labels(["queue"]).register(&r).unwrap();
    spec.family("app_queue_depth", MetricType::Gauge, "Depth.", "");
    for (q, v) in [("min", i64::MIN), ("neg", -5), ("zero", 0), ("max", i64::MAX), ("big", 1 << 53)] {
        queue.with_label_values(&[q]).unwrap().set(v);
        spec.sample(&[("queue", q)], v as f64);
    }

    let ratio =
        GaugeF64::builder("app_ratio").help("Floats of every shape.").labels(["case"]).register(&r).unwrap();
    spec.family("app_ratio", MetricType::Gauge, "Floats of every shape.", "");
    for (case, v) in [
        ("nan", f64::NAN),
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("neg_zero", -0.0),
        ("min_subnormal", 5e-324),
        ("min_positive", f64::MIN_POSITIVE),
        ("max", f64::MAX),
        ("lowest", f64::MIN),
        ("tiny", 1e-300),
        ("tenth", 0.1),
        ("e21", 1e21),
        ("plain", 123_456.789),
        ("neg_small", -1.5e-7),
        ("ten_thousandth", 0.0001),
        ("hundred_thousandth", 0.00001),
    ] {
        ratio.with_label_values(&[case]).unwrap().set(v);
        spec.sample(&[("case", case)], v);
    }

    let bounds: [(f64, &str, &str); 5] = [
        (0.005, "0.005", "0.005"),
        (0.25, "0.25", "0.25"),
        (1.0, "1", "1.0"),
        (2.5, "2.5", "2.5"),
        (1e6, "1e+06", "1e+06"),
    ];
    let latency = Histogram::builder("app_request_duration_seconds")
        .help("Latency.")
        .unit("seconds")
        .buckets(Buckets::new(bounds.iter().map(|b| b.0).chain([f64::INFINITY])).unwrap())
        .labels(["route"])
        .const_label("service", "api")
        .register(&r)
        .unwrap();
    spec.family("app_request_duration_seconds", MetricType::Histogram, "Latency.", "seconds");
    for (route, obs) in [
        ("/", &[0.001, 0.25, 0.5, 1.0, 3.0, 2e6][..]),
        ("/a\"b", &[][..]),
        ("/x\ny", &[0.0, 0.005, 0.0050001, 1e6, 1e6][..]),
    ] {
        let h = latency.with_label_values(&[route]).unwrap();
        obs.iter().for_each(|&v| h.observe(v));
        spec.histogram(&[("route", route), ("service", "api")], &bounds, obs);
    }

    let sessions = Gauge::builder("app_sessions")
        .help("Sessions by place.")
        .typed_labels_named::<[&str; 2], _>(["region", "zone"])
        .register(&r)
        .unwrap();
    spec.family("app_sessions", MetricType::Gauge, "Sessions by place.", "");
    for (region, zone, n) in [("eu", "a", 3), ("eu", "b\\", 4), ("us\"", "", 5)] {
        sessions.get(&[region, zone]).set(n);
        spec.sample(&[("region", region), ("zone", zone)], n as f64);
    }

    // Wrapped registration: a prefix and labels added to every series.
    let sub = r.wrap("sub_", vec![("shard".into(), "7\"".into())]);
    let g = Gauge::builder("queue").help("Sub-queue.").labels(["name"]).build().unwrap();
    g.with_label_values(&["q1"]).unwrap().set(9);
    sub.register(g).unwrap();
    spec.family("sub_queue", MetricType::Gauge, "Sub-queue.", "");
    spec.sample(&[("name", "q1"), ("shard", "7\"")], 9.0);

    (r, spec)
}

/// promtool's lint findings on the rich exposition: all deliberate (a counter without
/// `_total` to exercise the OpenMetrics fallback).
const EXPECTED_LINT: [&str; 1] = ["app_events counter metrics should have \"_total\" suffix"];

#[test]
fn promtool_parses_the_rich_exposition() {
    let (r, _) = rich();
    let text = crate::text(&r);
    let Some(report) = promkit_oracle::promtool_check(&text) else {
        return;
    };
    assert!(report.ok, "promtool rejected it: {}\n{text}", report.output);
    eprintln!("promtool lint: {:?}", report.lint);
    for finding in &report.lint {
        assert!(EXPECTED_LINT.contains(&finding.as_str()), "unexpected lint finding: {finding}\n{text}");
    }
}

#[test]
fn go_parses_the_rich_exposition_strictly_and_consistently() {
    let (r, spec) = rich();
    let text = crate::text(&r);
    let Some(verdict) = promkit_oracle::go_parse(&text) else {
        return;
    };
    assert_eq!(
        verdict,
        Ok(format!("ok: {} families, {} samples\n", spec.families.len(), spec.sample_lines())),
        "{text}"
    );
}

#[test]
fn go_rewrites_the_rich_exposition_to_the_same_bytes() {
    let (r, _) = rich();
    let text = crate::text(&r);
    let Some(canon) = promkit_oracle::go_canon(&text) else {
        return;
    };
    let canon = canon.unwrap();
    assert!(canon == text, "Go's canonical form differs\n--- promkit\n{text}\n--- Go\n{canon}");
}

#[test]
fn go_writes_the_same_openmetrics_as_promkit() {
    // Go reads promkit's text and writes OpenMetrics; that must be promkit's OpenMetrics,
    // except for `# UNIT` lines (text 0.0.4 carries no unit for Go to pass on).
    let (r, _) = rich();
    let Some(go) = promkit_oracle::go_openmetrics(&crate::text(&r)) else {
        return;
    };
    let go = go.unwrap();
    let ours: String = crate::om(&r).split_inclusive('\n').filter(|l| !l.starts_with("# UNIT ")).collect();
    assert!(ours == go, "--- promkit\n{ours}\n--- Go\n{go}");
}

#[test]
fn python_text_parser_reads_back_what_was_written() {
    let (r, spec) = rich();
    let text = crate::text(&r);
    let Some(parsed) = promkit_oracle::python_parse(&text, promkit_oracle::Format::Text) else {
        return;
    };
    let families = parsed.unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_python_reads(&families, &spec.python_view(promkit_oracle::Format::Text), "python text");
}

#[test]
fn python_openmetrics_parser_reads_back_what_was_written() {
    let (r, spec) = rich();
    let om = crate::om(&r);
    let Some(parsed) = promkit_oracle::python_parse(&om, promkit_oracle::Format::OpenMetrics) else {
        return;
    };
    let families = parsed.unwrap_or_else(|e| panic!("{e}\n{om}"));
    assert_python_reads(
        &families,
        &spec.python_view(promkit_oracle::Format::OpenMetrics),
        "python openmetrics",
    );
}

#[test]
fn python_openmetrics_parser_accepts_created_samples() {
    let (r, spec) = rich();
    let om = crate::encode(&r, Format::OpenMetrics { created_samples: true });
    let Some(parsed) = promkit_oracle::python_parse(&om, promkit_oracle::Format::OpenMetrics) else {
        return;
    };
    let families = parsed.unwrap_or_else(|e| panic!("{e}\n{om}"));
    // The same families; counters (with `_total`) and histograms gain one `_created` sample
    // per series, a recent time in seconds.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let mut without_created = families.clone();
    for f in &mut without_created {
        f.samples.retain(|s| !s.name.ends_with("_created"));
    }
    assert_python_reads(&without_created, &spec.python_view(promkit_oracle::Format::OpenMetrics), "created");
    for f in &families {
        let created: Vec<&PySample> = f.samples.iter().filter(|s| s.name.ends_with("_created")).collect();
        let written =
            spec.families.iter().find(|w| w.name == f.name || w.name == format!("{}_total", f.name)).unwrap();
        // promkit's own counters (written as OpenMetrics counters, so with `_total`) and
        // histograms know when they were created; function counters do not.
        let has_created = match written.kind {
            MetricType::Counter => written.name.ends_with("_total") && written.name != "app_cache_hits_total",
            MetricType::Histogram => true,
            _ => false,
        };
        let series = written.samples.iter().filter(|s| s.suffix.is_empty() || s.suffix == "_count").count();
        let expected = if has_created { series } else { 0 };
        assert_eq!(created.len(), expected, "_created samples of {}", f.name);
        for c in created {
            assert!(c.value > now - 600.0 && c.value <= now + 1.0, "{} {}", c.name, c.value);
        }
    }
}
