//! Properties: a random model survives encode → parse in every format; no input makes a parser
//! panic (arbitrary bytes and mutated valid expositions: the bounded, stable-Rust stand-in for
//! the cargo-fuzz targets in `fuzz/`).

use promkit::model::{
    Exemplar, MetricFamily, MetricType, Quantiles, Sample, SampleValue, SnapshotHistogram, SnapshotSummary,
};
use promkit::{Buckets, Format};
use proptest::prelude::*;

use crate::roundtrip::{FORMATS, assert_round_trip};

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9 ]{0,8}", Just("q\"uote\\back\nline".to_owned()), "\\PC{0,6}", Just(String::new()),]
}

fn labels() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z][a-z0-9_]{0,4}", label_value(), 0..3)
        .prop_map(|m| m.into_iter().filter(|(n, _)| n != "le" && n != "quantile").collect())
}

/// Finite, or ±Inf where the format allows it.
fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6..1e6f64,
        Just(0.0),
        Just(1e-300),
        Just(1.5e300),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        any::<f64>().prop_filter("no NaN", |v| !v.is_nan())
    ]
}

fn nonneg() -> impl Strategy<Value = f64> {
    prop_oneof![0.0..1e9f64, Just(0.0), Just(123_456_789.0), Just(f64::INFINITY)]
}

/// Times that survive float seconds and protobuf's seconds + nanos exactly.
fn stamps() -> impl Strategy<Value = (Option<i64>, Option<f64>)> {
    prop_oneof![
        Just((None, None)),
        (0i64..4_000_000_000_000).prop_map(|ms| (Some(ms), None)),
        (1_000_000_000i64..2_000_000_000, 0..4u8)
            .prop_map(|(s, q)| (None, Some(s as f64 + f64::from(q) * 0.25))),
    ]
}

fn exemplar() -> impl Strategy<Value = Option<Exemplar>> {
    proptest::option::of((label_value(), -1e3..1e3f64, proptest::option::of(1_000_000_000i64..2_000_000_000)))
        .prop_map(|o| {
            o.map(|(v, value, secs)| {
                let v: String = v.chars().take(100).collect();
                Exemplar::new([("trace_id", v.as_str())], value)
                    .unwrap()
                    .with_timestamp_nanos(secs.map(|s| s * 1_000_000_000))
            })
        })
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Untyped,
    Histogram,
    Summary,
}

fn value(kind: Kind) -> BoxedStrategy<SampleValue> {
    match kind {
        Kind::Counter => nonneg().prop_map(SampleValue::Counter).boxed(),
        Kind::Gauge => float().prop_map(SampleValue::Gauge).boxed(),
        Kind::Untyped => float().prop_map(SampleValue::Untyped).boxed(),
        Kind::Histogram => (
            proptest::collection::btree_set(0u32..2000, 1..5),
            proptest::collection::vec(0u64..1000, 5),
            0.0..1e6f64,
        )
            .prop_map(|(bounds, incs, sum)| {
                let bounds: Vec<f64> = bounds.into_iter().map(|b| f64::from(b) / 8.0).collect();
                let mut total = 0;
                let cumulative: Vec<u64> = incs
                    .iter()
                    .take(bounds.len() + 1)
                    .map(|i| {
                        total += i;
                        total
                    })
                    .collect();
                SampleValue::Histogram(SnapshotHistogram {
                    buckets: Buckets::new(bounds).unwrap(),
                    cumulative,
                    sum,
                    exemplars: Vec::new(),
                    native: None,
                })
            })
            .boxed(),
        Kind::Summary => {
            (proptest::collection::btree_map(0u32..=100, 0.0..1e6f64, 0..4), 0u64..1_000_000, 0.0..1e6f64)
                .prop_map(|(q, count, sum)| {
                    let quantiles = Quantiles::new(q.keys().map(|&k| (f64::from(k) / 100.0, 0.0))).unwrap();
                    SampleValue::Summary(SnapshotSummary {
                        quantiles,
                        values: q.values().copied().collect(),
                        count,
                        sum,
                    })
                })
                .boxed()
        }
    }
}

fn family(i: usize) -> impl Strategy<Value = MetricFamily> {
    let kind = prop_oneof![
        Just(Kind::Counter),
        Just(Kind::Gauge),
        Just(Kind::Untyped),
        Just(Kind::Histogram),
        Just(Kind::Summary)
    ];
    (kind, "[a-z]{1,6}", "\\PC{0,12}", prop_oneof![Just(String::new()), Just("seconds".to_owned())])
        .prop_flat_map(move |(kind, word, help, unit)| {
            let series = (labels(), value(kind), stamps(), exemplar());
            proptest::collection::vec(series, 0..4).prop_map(move |series| {
                let mut name = format!("f{i}_{word}");
                if !unit.is_empty() {
                    name.push_str("_seconds");
                }
                let mtype = match kind {
                    Kind::Counter => {
                        name.push_str("_total");
                        MetricType::Counter
                    }
                    Kind::Gauge => MetricType::Gauge,
                    Kind::Untyped => MetricType::Untyped,
                    Kind::Histogram => MetricType::Histogram,
                    Kind::Summary => MetricType::Summary,
                };
                let mut seen = std::collections::BTreeSet::new();
                let samples = series
                    .into_iter()
                    .filter(|(l, ..)| seen.insert(l.clone()))
                    .map(|(labels, value, (timestamp_ms, created), exemplar)| Sample {
                        labels,
                        value,
                        timestamp_ms,
                        created: created
                            .filter(|_| matches!(kind, Kind::Counter | Kind::Histogram | Kind::Summary)),
                        exemplar: exemplar.filter(|_| matches!(kind, Kind::Counter)),
                    })
                    .collect();
                // An OpenMetrics unit is written for every type; text drops it.
                MetricFamily { name, help: help.clone(), unit: unit.clone(), kind: mtype, samples }
            })
        })
}

fn families() -> impl Strategy<Value = Vec<MetricFamily>> {
    (0usize..5).prop_flat_map(|n| (0..n).map(family).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_models_survive_every_format(families in families()) {
        for format in FORMATS {
            assert_round_trip(&families, format);
        }
    }
}

/// Valid expositions in each format, to mutate.
fn seeds() -> Vec<(u8, Vec<u8>)> {
    let r = promkit::Registry::new();
    let h = promkit::Histogram::builder("h_seconds")
        .help("H.")
        .labels(["a"])
        .native(promkit::NativeOptions::with_factor(1.1))
        .register(&r)
        .unwrap();
    h.with_label_values(&["x\"y"]).unwrap().observe_with_exemplar(0.3, &[("t", "1")]).unwrap();
    let c = promkit::Counter::builder("c_total").help("C \\ \n.").labels(["b"]).register(&r).unwrap();
    c.with_label_values(&["1"]).unwrap().inc_with_exemplar(&[("t", "2")]).unwrap();
    promkit::Summary::builder("s")
        .objectives(Quantiles::new([(0.5, 0.1)]).unwrap())
        .register(&r)
        .unwrap()
        .observe(1.0);
    let mut out = Vec::new();
    for (tag, format) in [
        (0u8, Format::Text),
        (1, Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Write }),
        (2, Format::Protobuf),
    ] {
        let mut b = Vec::new();
        r.encode(format, &mut b).unwrap();
        out.push((tag, b));
    }
    out
}

fn parse_all(tag: u8, input: &[u8]) {
    // Every entry point; only panics matter here.
    match tag % 3 {
        0 => {
            let _ = promkit_parse::model::from_text(input);
            let mut r = promkit_parse::text::reader(std::io::BufReader::with_capacity(3, input)).max_line(64);
            while let Some(rec) = r.next_record() {
                let _ = rec.map(|r| format!("{r:?}"));
            }
        }
        1 => {
            let _ = promkit_parse::model::from_openmetrics(input);
            for rec in promkit_parse::openmetrics::parse(input).flatten() {
                if let promkit_parse::Record::Sample(s) = rec {
                    let _ = s.labels.iter().count();
                }
            }
        }
        _ => {
            let _ = promkit_parse::model::from_protobuf(input);
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let tokens = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b",".to_vec()),
        Just(b"# ".to_vec()),
        Just(b"# EOF\n".to_vec()),
        Just(b"le=\"+Inf\"".to_vec()),
        Just(b"_total".to_vec()),
        Just(b"_bucket".to_vec()),
        Just(b"NaN".to_vec()),
        Just(b"-1".to_vec()),
        Just(vec![0xff]),
        Just(vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        proptest::collection::vec(any::<u8>(), 1..6),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), tokens).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<usize>(), 1usize..20).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..60).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(mut b: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let at = |i: usize, b: &Vec<u8>| if b.is_empty() { 0 } else { i % (b.len() + 1) };
        match e {
            Edit::Flip(i, x) if !b.is_empty() => {
                let i = i % b.len();
                b[i] ^= x;
            }
            Edit::Insert(i, t) => {
                let i = at(*i, &b);
                b.splice(i..i, t.iter().copied());
            }
            Edit::Delete(i, n) => {
                let i = at(*i, &b);
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Edit::Duplicate(i, n) => {
                let i = at(*i, &b);
                let end = (i + n).min(b.len());
                let chunk = b[i..end].to_vec();
                b.splice(i..i, chunk);
            }
            Edit::Flip(..) => {}
        }
    }
    b
}

/// 1000 cases, or `PROPTEST_CASES` (`scripts/fuzz` asks for more).
fn fuzz_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    #[test]
    fn arbitrary_bytes_never_panic(tag in 0u8..3, input in proptest::collection::vec(any::<u8>(), 0..300)) {
        parse_all(tag, &input);
    }

    #[test]
    fn arbitrary_text_never_panics(tag in 0u8..2, input in "[ -~\n\t\\\\\"{}#=,]{0,200}") {
        parse_all(tag, input.as_bytes());
    }

    #[test]
    fn mutated_expositions_never_panic(seed in 0usize..3, edits in proptest::collection::vec(edit(), 1..6)) {
        let seeds = seeds();
        let (tag, bytes) = &seeds[seed];
        parse_all(*tag, &apply(bytes.clone(), &edits));
    }
}
