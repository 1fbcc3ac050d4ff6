//! Encode → parse round trips with arbitrary data: any label value (control characters,
//! quotes, backslashes, newlines, any Unicode), any HELP text, any `f64` bit pattern and any
//! `u64`, batched into one exposition per case so each oracle runs once per case.
//!
//! The Python text and OpenMetrics parsers must read back the same label values, HELP and
//! numbers; Go must find the text already in its canonical form (byte-identical), which pins
//! the number formatting to Go's `%g` and the escaping to exactly three characters.

use promkit::model::MetricType;
use promkit::{Buckets, Counter, CounterF64, GaugeF64, Histogram, Registry};
use promkit_oracle::{Format, PyFamily};
use proptest::prelude::*;

use crate::oracles::{Spec, assert_python_reads};

/// Characters that matter to the formats or to line-based parsers, mixed into arbitrary ones.
const SPECIAL: [char; 17] = [
    '\\', '"', '\n', '\r', '\t', '\0', ' ', '{', '}', ',', '=', '#', '\u{7f}', '\u{85}', '\u{a0}',
    '\u{2028}', '\u{feff}',
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![3 => any::<char>(), 2 => prop::sample::select(&SPECIAL[..])], 0..12)
        .prop_map(|chars| chars.into_iter().collect())
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<u64>().prop_map(f64::from_bits),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE,
            5e-324, 1e6, 999_999.0, 1e21, 1e-5, 1e-4, 123_456_789.0, 0.1,
        ]),
        1 => -1e7..1e7f64,
        1 => any::<i32>().prop_map(f64::from),
    ]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), 0..2_000_000u64, Just(u64::MAX), Just(1 << 53), Just((1 << 53) + 1)]
}

/// One batch: a HELP text, a constant label value, series `(label value, float, integer)`, and
/// histogram bounds.
#[derive(Debug, Clone)]
struct Batch {
    help: String,
    constant: String,
    series: Vec<(String, f64, u64)>,
    bounds: Vec<f64>,
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        text(),
        text(),
        prop::collection::vec((text(), float(), count()), 1..40),
        prop::collection::vec(float(), 1..6),
    )
        .prop_map(|(help, constant, series, bounds)| Batch { help, constant, series, bounds })
}

/// Registers the batch on a fresh registry and records what was written.
fn write(batch: &Batch) -> (Registry, Spec) {
    let r = Registry::new();
    let mut spec = Spec::default();
    let help = batch.help.as_str();
    let konst = batch.constant.as_str();

    // Families in name order, as the registry writes them.
    let counts = Counter::builder("rt_count_total").help(help).labels(["v", "i"]).register(&r).unwrap();
    let floats = CounterF64::builder("rt_float_total").help(help).labels(["v", "i"]).register(&r).unwrap();
    let gauges = GaugeF64::builder("rt_gauge")
        .help(help)
        .labels(["v", "i"])
        .const_label("k", konst)
        .register(&r)
        .unwrap();
    let mut bounds: Vec<f64> = batch.bounds.iter().copied().filter(|b| b.is_finite()).collect();
    bounds.sort_by(f64::total_cmp);
    // By `==`: -0 and 0 are one bound too.
    bounds.dedup();
    let histogram = match Buckets::new(bounds.clone()) {
        Ok(buckets) => Some(
            Histogram::builder("rt_histogram")
                .help(help)
                .labels(["v"])
                .buckets(buckets)
                .register(&r)
                .unwrap(),
        ),
        Err(_) => None,
    };

    let index: Vec<String> = (0..batch.series.len()).map(|i| i.to_string()).collect();
    spec.family("rt_count_total", MetricType::Counter, help, "");
    for ((v, _, n), i) in batch.series.iter().zip(&index) {
        counts.with_label_values(&[v, i]).unwrap().inc_by(*n);
        // Go holds counts as float64; so does every parser.
        spec.sample(&[("i", i), ("v", v)], *n as f64);
    }
    spec.family("rt_float_total", MetricType::Counter, help, "");
    for ((v, x, _), i) in batch.series.iter().zip(&index) {
        // A counter ignores negative and NaN amounts; its magnitude is added.
        let added = floats.with_label_values(&[v, i]).unwrap().inc_by(x.abs());
        assert_eq!(added, !x.is_nan());
        spec.sample(&[("i", i), ("v", v)], if x.is_nan() { 0.0 } else { x.abs() });
    }
    spec.family("rt_gauge", MetricType::Gauge, help, "");
    for ((v, x, _), i) in batch.series.iter().zip(&index) {
        gauges.with_label_values(&[v, i]).unwrap().set(*x);
        spec.sample(&[("i", i), ("k", konst), ("v", v)], *x);
    }
    if let Some(h) = histogram {
        // One series, every float (but NaN) observed by magnitude: OpenMetrics wants a
        // non-negative, non-NaN `_sum`. The `le` strings are compared as numbers (see
        // `numeric_le`); their exact text is pinned by Go's canonical form.
        let observations: Vec<f64> = batch.series.iter().map(|s| s.1.abs()).filter(|x| !x.is_nan()).collect();
        let series = h.with_label_values(&[konst]).unwrap();
        observations.iter().for_each(|&x| series.observe(x));
        let les: Vec<(f64, String, String)> =
            bounds.iter().map(|&b| (b, format!("{b:?}"), format!("{b:?}"))).collect();
        let les: Vec<(f64, &str, &str)> = les.iter().map(|(b, t, o)| (*b, t.as_str(), o.as_str())).collect();
        spec.family("rt_histogram", MetricType::Histogram, help, "");
        spec.histogram(&[("v", konst)], &les, &observations);
    }
    (r, spec)
}

/// `text` with HELP lines as Go's parser reads them back: it skips the blanks and tabs after
/// the name, so leading ones are lost and a HELP of nothing else is no HELP at all.
/// (client_golang itself writes `# HELP name ` for an empty help, as promkit does.)
fn as_go_reads_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let Some(rest) = line.strip_prefix("# HELP ") else {
            out.push_str(line);
            continue;
        };
        let (name, help) = rest.split_once(' ').expect("a HELP line has a name and a space");
        let help = help.trim_start_matches([' ', '\t']);
        if help != "\n" {
            out.push_str("# HELP ");
            out.push_str(name);
            out.push(' ');
            out.push_str(help);
        }
    }
    out
}

/// A scoped thread's result, its panic passed on as is (a missing oracle under CI, say).
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Rewrites every `le` label as Rust's `{:?}` of its value, so label text that differs only in
/// form (`1e+06` vs `1000000.0`) compares equal; the text itself is Go's canon's business.
fn numeric_le(families: &mut [PyFamily]) {
    for s in families.iter_mut().flat_map(|f| &mut f.samples) {
        if let Some(le) = s.labels.get_mut("le") {
            let v: f64 = le.parse().unwrap_or_else(|e| panic!("le {le:?}: {e}"));
            // A bound of -0 is written `0`, as Go writes it.
            *le = format!("{:?}", if v == 0.0 { 0.0 } else { v });
        }
    }
}

fn check(batch: &Batch) -> Result<(), TestCaseError> {
    let (r, spec) = write(batch);
    let text = crate::text(&r);
    let om = crate::om(&r);

    // The three oracles at once: each is a process of its own, mostly start-up time.
    let (canon, python_text, python_om) = std::thread::scope(|s| {
        let canon = s.spawn(|| promkit_oracle::go_canon(&text));
        let python_text = s.spawn(|| promkit_oracle::python_parse(&text, Format::Text));
        let python_om = s.spawn(|| promkit_oracle::python_parse(&om, Format::OpenMetrics));
        (join(canon), join(python_text), join(python_om))
    });
    if let Some(canon) = canon {
        let canon = canon.map_err(|e| TestCaseError::fail(format!("Go rejects the text: {e}\n{text}")))?;
        let expected = as_go_reads_help(&text);
        prop_assert!(
            canon == expected,
            "Go's canonical form differs\n--- promkit\n{}\n--- Go\n{}",
            text,
            canon
        );
    }
    for (format, body, parsed) in [(Format::Text, &text, python_text), (Format::OpenMetrics, &om, python_om)]
    {
        let Some(parsed) = parsed else {
            continue;
        };
        let mut families = parsed.map_err(|e| TestCaseError::fail(format!("{format:?}: {e}\n{body}")))?;
        let mut expected = spec.python_view(format);
        numeric_le(&mut families);
        numeric_le(&mut expected);
        // Panics (rather than prop_assert) inside: proptest still shrinks them.
        assert_python_reads(&families, &expected, &format!("python {format:?}"));
    }
    Ok(())
}

proptest! {
    // Each case starts Go once and Python twice (~0.2 s of CPU each), hence few, large cases:
    // 32 by default (the whole binary stays well under a minute on a busy two-core machine),
    // more with PROPTEST_CASES.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(32),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_labels_help_and_numbers_survive_every_parser(batch in batch()) {
        check(&batch)?;
    }
}

#[test]
fn the_special_characters_alone_survive_every_parser() {
    // The characters proptest mixes in, each alone and all together, as label value, constant
    // label and HELP: a fixed case that runs even when proptest's draws miss one.
    let all: String = SPECIAL.iter().collect();
    let mut series: Vec<(String, f64, u64)> =
        SPECIAL.iter().enumerate().map(|(i, c)| (c.to_string(), i as f64 - 3.5, i as u64)).collect();
    series.push((all.clone(), f64::NAN, u64::MAX));
    check(&Batch { help: format!("x{all}x"), constant: all, series, bounds: vec![-1.0, 0.0, 1e6] }).unwrap();
}
