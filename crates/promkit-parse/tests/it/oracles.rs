//! Go's and Python's expositions of the same data parse to the model promkit gathers.
//!
//! Go: client_golang's output for the oracle's golden registry (`tools/go-oracle/main.go`),
//! checked in under `testdata/golden/` and, when the oracle is installed, taken live.
//! Python: `tools/oracle/golden.py`, run in the project's venv; skipped (or, under CI,
//! failed) when the venv is missing.

use std::path::PathBuf;
use std::process::Command;

use promkit::model::MetricFamily;
use promkit::{Buckets, exponential_buckets, linear_buckets};
use promkit::{Counter, CounterF64, Format, Gauge, GaugeF64, Histogram, Quantiles, Registry, Summary};
use promkit_parse::model;

use crate::roundtrip::{expected, settle_times};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The calls at the top of `tools/go-oracle/main.go`, replayed on promkit.
fn go_golden_registry() -> Registry {
    let r = Registry::new();
    let completion = Histogram::builder("completion_duration_histogram_ms")
        .help("Latency for mapping completion in ms")
        .buckets(linear_buckets(0.0, 20.0, 20).unwrap()) // Go: LinearBuckets(200-5*40, 0.5*40, 20)
        .register(&r)
        .unwrap();
    for v in [0.0, 12.5, 20.0, 187.25, 200.0, 233.3, 380.0, 512.0] {
        completion.observe(v);
    }
    let success = Counter::builder("success_counter")
        .help("Count of successful mapping completions")
        .register(&r)
        .unwrap();
    success.inc_by(6);
    let failure =
        Counter::builder("failure_counter").help("Count of failed mapping completions").register(&r).unwrap();
    failure.inc_by(2);
    let escapes = CounterF64::builder("escape_test_total")
        .help("Label values that need escaping")
        .labels(["value", "case"])
        .register(&r)
        .unwrap();
    for (case, value, n) in [
        ("backslash", r"a\b", 1.0),
        ("quote", r#"say "hi""#, 2.0),
        ("newline", "line1\nline2", 3.0),
        ("tab", "a\tb", 4.0),
        ("unicode", "ü ✓ 日本 🙂", 5.0),
        ("empty", "", 6.0),
    ] {
        escapes.with_label_values(&[value, case]).unwrap().inc_by(n);
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
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
    ] {
        floats.with_label_values(&[case]).unwrap().set(v);
    }
    // NaN is set last: it is compared apart, a model holding NaN never equals itself.
    floats.with_label_values(&["nan"]).unwrap().set(f64::NAN);
    let requests = Histogram::builder("request_duration_seconds")
        .help("Exponential-bucket histogram")
        .buckets(exponential_buckets(0.001, 10.0, 7).unwrap())
        .register(&r)
        .unwrap();
    for v in [0.0005, 0.001, 0.0042, 0.5, 3.0, 75.0, 2500.0] {
        requests.observe(v);
    }
    let summary = Summary::builder("payload_size_bytes")
        .help("Summary with objectives")
        .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).unwrap())
        .register(&r)
        .unwrap();
    for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
        summary.observe(v);
    }
    Gauge::builder("help_escape_test")
        .help("Help with a backslash \\ a \"quote\" and a\nnewline")
        .register(&r)
        .unwrap()
        .set(42);
    r
}

/// Replaces NaN values by a marker (after checking they sit at the same places), so models
/// compare with `==`.
fn denan(a: &mut [MetricFamily], b: &mut [MetricFamily]) {
    use promkit::model::SampleValue::Gauge as G;
    for (fa, fb) in a.iter_mut().zip(b.iter_mut()) {
        for (sa, sb) in fa.samples.iter_mut().zip(fb.samples.iter_mut()) {
            if let (G(x), G(y)) = (&mut sa.value, &mut sb.value) {
                assert_eq!(x.is_nan(), y.is_nan(), "{} {:?}", fa.name, sa.labels);
                if x.is_nan() {
                    (*x, *y) = (-42.0, -42.0);
                }
            }
        }
    }
}

/// Compares two models; families in name order (an exposition's order is its writer's choice).
fn assert_same_model(mut parsed: Vec<MetricFamily>, mut want: Vec<MetricFamily>, what: &str) {
    parsed.sort_by(|a, b| a.name.cmp(&b.name));
    want.sort_by(|a, b| a.name.cmp(&b.name));
    denan(&mut parsed, &mut want);
    settle_times(&mut parsed, &mut want);
    assert_eq!(parsed, want, "{what}");
}

#[test]
fn client_golang_text_parses_to_what_promkit_gathers() {
    let mut texts = vec![std::fs::read_to_string(repo("testdata/golden/client_golang.txt")).unwrap()];
    texts.extend(promkit_oracle::go_golden());
    let want = expected(go_golden_registry().gather().unwrap(), Format::Text);
    for text in texts {
        let parsed = model::from_text(text.as_bytes()).unwrap();
        assert_same_model(parsed, want.clone(), "client_golang text");
    }
}

#[test]
fn client_golang_openmetrics_parses_to_what_promkit_writes() {
    let mut texts = vec![std::fs::read_to_string(repo("testdata/golden/client_golang.om.txt")).unwrap()];
    texts.extend(promkit_oracle::go_golden_openmetrics());
    let mut ours = Vec::new();
    go_golden_registry()
        .encode(Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Omit }, &mut ours)
        .unwrap();
    for text in texts {
        let parsed = model::from_openmetrics(text.as_bytes()).unwrap();
        let want = model::from_openmetrics(&ours).unwrap();
        assert_same_model(parsed, want, "client_golang OpenMetrics");
    }
}

#[test]
fn go_reads_the_text_the_model_encodes_back() {
    // Parse client_golang's text, encode the model with promkit: Go's parser must accept it and
    // its canonical form must be the golden text again.
    let golden = std::fs::read_to_string(repo("testdata/golden/client_golang.txt")).unwrap();
    let families = model::from_text(golden.as_bytes()).unwrap();
    let mut text = Vec::new();
    promkit::encode::encode_families(&families, Format::Text, &mut text);
    assert_eq!(String::from_utf8(text.clone()).unwrap(), golden);
    if let Some(canon) = promkit_oracle::go_canon(std::str::from_utf8(&text).unwrap()) {
        assert_eq!(canon.unwrap(), golden);
    }
}

/// Runs `tools/oracle/golden.py`; `None` (after a SKIP line) when the venv is missing outside CI.
fn python_golden(format: &str) -> Option<String> {
    let venv = std::env::var_os("PROMKIT_VENV").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/promkit/venv")
    });
    let python = venv.join("bin/python");
    let missing = || {
        assert!(
            !promkit_oracle::ci(),
            "python venv {} with prometheus-client not found; run scripts/install-deps",
            venv.display()
        );
        eprintln!(
            "SKIP: python venv {} with prometheus-client not found (scripts/install-deps)",
            venv.display()
        );
        None
    };
    if !python.exists() {
        return missing();
    }
    let out = Command::new(&python).arg(repo("tools/oracle/golden.py")).arg(format).output().unwrap();
    match out.status.code() {
        Some(0) => Some(String::from_utf8(out.stdout).unwrap()),
        Some(77) => missing(),
        _ => panic!("golden.py {format}: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// The metrics of `tools/oracle/golden.py`, made with promkit.
fn python_golden_registry() -> Registry {
    let r = Registry::new();
    let jobs = CounterF64::builder("jobs_total").help("Jobs done.").labels(["queue"]).register(&r).unwrap();
    jobs.with_label_values(&["fast"]).unwrap().inc_by(3.0);
    jobs.with_label_values(&["slow"]).unwrap().inc_by(1.5);
    let temp = GaugeF64::builder("temperature")
        .help("Temp \\ \"quoted\"\nline.")
        .labels(["room"])
        .register(&r)
        .unwrap();
    temp.with_label_values(&["a"]).unwrap().set(-3.0);
    temp.with_label_values(&["b"]).unwrap().set(1e-05);
    let lat = Histogram::builder("latency_seconds")
        .help("Latency.")
        .buckets(Buckets::new([0.1, 1.0, 10.0]).unwrap())
        .register(&r)
        .unwrap();
    for v in [0.05, 0.5, 5.0, 50.0] {
        lat.observe(v);
    }
    let payload = Summary::builder("payload_bytes").help("Payload.").register(&r).unwrap();
    for v in [2.5, 4.0] {
        payload.observe(v);
    }
    r
}

#[test]
fn python_client_output_parses_to_what_promkit_gathers() {
    let Some(text) = python_golden("text") else { return };
    let Some(om) = python_golden("openmetrics") else { return };
    let gathered = python_golden_registry().gather().unwrap();
    let mut want_text = expected(gathered.clone(), Format::Text);
    let mut want_om =
        expected(gathered, Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Omit });
    for f in want_text.iter_mut().chain(want_om.iter_mut()) {
        for s in &mut f.samples {
            s.created = None; // disabled in golden.py: they carry the wall clock
        }
    }
    assert_same_model(model::from_text(text.as_bytes()).unwrap(), want_text, "Python text");
    assert_same_model(model::from_openmetrics(om.as_bytes()).unwrap(), want_om, "Python OpenMetrics");
}
