//! Everything promkit writes parses back to the model it was written from, in every format.

use promkit::encode::encode_families;
use promkit::model::{MetricFamily, MetricType, Quantiles, SampleValue};
use promkit::{
    Buckets, Counter, CounterF64, EnumStateSet, Format, Gauge, GaugeF64, GaugeHistogram, Histogram, Info,
    NativeOptions, Registry, StateSet, Summary, Untyped,
};
use promkit_parse::model;

/// What a format cannot carry, removed from a gathered model so it compares with the parse.
pub(crate) fn expected(mut families: Vec<MetricFamily>, format: Format) -> Vec<MetricFamily> {
    for f in &mut families {
        // Only OpenMetrics has info and stateset (the others write gauges, whose labels a
        // parser sorts), and text has no gauge histogram.
        if !matches!(format, Format::OpenMetrics { .. }) {
            if matches!(f.kind, MetricType::Info | MetricType::StateSet) {
                f.samples.iter_mut().for_each(|s| s.labels.sort());
                f.kind = MetricType::Gauge;
            }
            if matches!(format, Format::Text) && f.kind == MetricType::GaugeHistogram {
                f.kind = MetricType::Histogram;
            }
        }
        if matches!(format, Format::Text) {
            f.unit.clear();
            // Text HELP loses its leading blanks (Go's parser skips them too).
            f.help = f.help.trim_start_matches([' ', '\t']).to_owned();
        }
        for s in &mut f.samples {
            if matches!(format, Format::Text) {
                s.created = None;
                s.exemplar = None;
            }
            if matches!(format, Format::OpenMetrics { .. }) && f.kind != MetricType::Counter {
                s.exemplar = None;
            }
            match &mut s.value {
                SampleValue::Histogram(h) => {
                    if !matches!(format, Format::Protobuf) {
                        h.native = None;
                    }
                    if matches!(format, Format::Text) {
                        h.exemplars.clear();
                    }
                }
                SampleValue::Summary(q) => {
                    // The rank errors are not in any exposition.
                    q.quantiles =
                        Quantiles::new(q.quantiles.objectives().iter().map(|&(q, _)| (q, 0.0))).unwrap();
                }
                _ => {}
            }
        }
    }
    families
}

/// Float times lose nanoseconds on the way through OpenMetrics (float seconds) and protobuf
/// (seconds + nanos): they are compared within a microsecond, then cleared.
pub(crate) fn settle_times(a: &mut [MetricFamily], b: &mut [MetricFamily]) {
    fn times(f: &mut [MetricFamily]) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for f in f.iter_mut() {
            for s in &mut f.samples {
                if let Some(c) = s.created.take() {
                    out.push((format!("{} created", f.name), c));
                    s.created = Some(0.0);
                }
                let mut ex: Vec<&mut promkit::Exemplar> = s.exemplar.iter_mut().collect();
                if let SampleValue::Histogram(h) = &mut s.value {
                    ex.extend(h.exemplars.iter_mut().flatten());
                    if let Some(n) = &mut h.native {
                        ex.extend(n.exemplars.iter_mut());
                    }
                }
                for e in ex {
                    #[allow(clippy::cast_precision_loss)]
                    if let Some(ns) = e.timestamp_nanos() {
                        out.push((format!("{} exemplar", f.name), ns as f64 / 1e9));
                    }
                    *e = e.clone().with_timestamp_nanos(None);
                }
            }
        }
        out
    }
    let (ta, tb) = (times(a), times(b));
    assert_eq!(ta.len(), tb.len(), "{ta:?} vs {tb:?}");
    for ((what, x), (_, y)) in ta.iter().zip(&tb) {
        assert!((x - y).abs() < 1e-6, "{what}: {x} vs {y}");
    }
}

pub(crate) fn assert_round_trip(families: &[MetricFamily], format: Format) {
    let mut bytes = Vec::new();
    encode_families(families, format, &mut bytes);
    let parse_format = match format {
        Format::Text => model::Format::Text,
        Format::OpenMetrics { .. } => model::Format::OpenMetrics,
        _ => model::Format::Protobuf,
    };
    let mut parsed = model::parse(parse_format, &bytes)
        .unwrap_or_else(|e| panic!("{format:?}: {e}\n{}", String::from_utf8_lossy(&bytes)));
    let mut want = expected(families.to_vec(), format);
    settle_times(&mut want, &mut parsed);
    assert_eq!(parsed, want, "{format:?}:\n{}", String::from_utf8_lossy(&bytes));
}

pub(crate) const FORMATS: [Format; 3] = [
    Format::Text,
    Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Write },
    Format::Protobuf,
];

/// A registry with every kind of series promkit writes.
fn everything() -> Registry {
    let r = Registry::new();
    let c = Counter::builder("jobs_total")
        .help("Jobs \"done\", by queue.\n\\o/")
        .labels(["queue"])
        .register(&r)
        .unwrap();
    c.with_label_values(&["fast"]).unwrap().inc_by(3);
    c.with_label_values(&["q\"uote\\back\nline ✓"])
        .unwrap()
        .inc_with_exemplar(&[("trace_id", "abc123")])
        .unwrap();
    CounterF64::builder("cpu_seconds_total").help("CPU.").unit("seconds").register(&r).unwrap().inc_by(1.25);
    Gauge::builder("temperature")
        .help("Temp.")
        .labels(["room"])
        .register(&r)
        .unwrap()
        .with_label_values(&["a"])
        .unwrap()
        .set(-3);
    let g = GaugeF64::builder("ratio").help("").labels(["case"]).register(&r).unwrap();
    for (case, v) in [
        ("inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("tiny", 1e-300),
        ("huge", 1.5e300),
        ("neg_zero", -0.0),
    ] {
        g.with_label_values(&[case]).unwrap().set(v);
    }
    Untyped::builder("legacy").help("Untyped.").register(&r).unwrap().set(7.5);
    let h = Histogram::builder("latency_seconds")
        .help("Latency.")
        .unit("seconds")
        .labels(["path"])
        .buckets(Buckets::new([0.005, 0.1, 1.0, 1e6]).unwrap())
        .register(&r)
        .unwrap();
    let root = h.with_label_values(&["/"]).unwrap();
    for v in [0.001, 0.05, 0.5, 2.0, 3e6] {
        root.observe(v);
    }
    root.observe_with_exemplar(0.07, &[("trace_id", "t1")]).unwrap();
    h.with_label_values(&["/empty"]).unwrap();
    let s = Summary::builder("payload_bytes")
        .help("Payload.")
        .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).unwrap())
        .register(&r)
        .unwrap();
    for v in [1.5, 2.0, 3.25, 4.0, 10.0] {
        s.observe(v);
    }
    Summary::builder("plain_summary").help("Count and sum only.").register(&r).unwrap().observe(2.5);
    let n = Histogram::builder("native_seconds")
        .help("Native and classic.")
        .buckets(Buckets::new([0.5, 1.0]).unwrap())
        .native(NativeOptions::with_factor(1.1))
        .register(&r)
        .unwrap();
    for v in [0.0, 0.3, 0.7, 1.2, -2.0, 100.0] {
        n.observe(v);
    }
    n.observe_with_exemplar(0.9, &[("trace_id", "n1")]).unwrap();
    let only = Histogram::builder("native_only_seconds")
        .help("Native only.")
        .native(NativeOptions::with_factor(2.0))
        .register(&r)
        .unwrap();
    only.observe(3.0);
    r
}

#[test]
fn every_format_promkit_writes_parses_back_equal() {
    let families = everything().gather().unwrap();
    assert!(
        families
            .iter()
            .any(|f| matches!(&f.samples[0].value, SampleValue::Histogram(h) if h.native.is_some()))
    );
    for format in FORMATS {
        assert_round_trip(&families, format);
    }
}

#[test]
fn the_registry_encoders_and_the_snapshot_replay_parse_the_same() {
    let r = everything();
    for (format, pf) in [
        (Format::Text, model::Format::Text),
        (
            Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Write },
            model::Format::OpenMetrics,
        ),
        (Format::Protobuf, model::Format::Protobuf),
    ] {
        let mut direct = Vec::new();
        r.encode(format, &mut direct).unwrap();
        let mut a = model::parse(pf, &direct).unwrap();
        let mut b = expected(r.gather().unwrap(), format);
        settle_times(&mut a, &mut b);
        assert_eq!(a, b, "{format:?}");
    }
}

#[test]
fn the_reader_and_the_slice_parser_agree_on_a_large_exposition() {
    let r = everything();
    let mut text = Vec::new();
    r.encode(Format::Text, &mut text).unwrap();
    let mut om = Vec::new();
    r.encode(Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Write }, &mut om)
        .unwrap();
    let slice_text: Vec<String> =
        promkit_parse::text::parse(&text).map(|r| format!("{:?}", r.unwrap())).collect();
    let mut reader = promkit_parse::text::reader(std::io::BufReader::with_capacity(7, &text[..]));
    let mut read_text = Vec::new();
    while let Some(r) = reader.next_record() {
        read_text.push(format!("{:?}", r.unwrap()));
    }
    assert_eq!(slice_text, read_text);
    let slice_om: Vec<String> =
        promkit_parse::openmetrics::parse(&om).map(|r| format!("{:?}", r.unwrap())).collect();
    let mut read_om = Vec::new();
    promkit_parse::openmetrics::reader(std::io::BufReader::with_capacity(5, &om[..]))
        .for_each(|r| read_om.push(format!("{r:?}")))
        .unwrap();
    assert_eq!(slice_om, read_om);
}

/// Info, StateSet and GaugeHistogram keep their types through OpenMetrics; text and protobuf
/// carry them as Go maps them.
#[test]
fn openmetrics_types_round_trip() {
    let r = Registry::new();
    Info::builder("app_build_info").help("Build.").const_label("version", "1.2").register(&r).unwrap();
    let f = Info::builder("app_config_info").help("Config.").labels(["mode"]).register(&r).unwrap();
    f.set_info(&["batch \"x\""]).unwrap();
    let s = StateSet::builder("breaker")
        .help("B.")
        .labels(["zone"])
        .states(["open", "closed"])
        .register(&r)
        .unwrap();
    s.with_label_values(&["eu"]).unwrap().set("closed").unwrap();
    s.with_label_values(&["us"]).unwrap().set_state("open", true).unwrap();
    EnumStateSet::<bool>::builder("flag").help("F.").register(&r).unwrap().set(true);
    let g = GaugeHistogram::builder("queue_seconds")
        .help("Q.")
        .unit("seconds")
        .labels(["q"])
        .buckets(Buckets::new([-1.0, 1.0]).unwrap())
        .register(&r)
        .unwrap();
    let mail = g.with_label_values(&["mail"]).unwrap();
    [-2.0, 0.5, 7.0].into_iter().for_each(|v| mail.observe(v));
    let families = r.gather().unwrap();
    let kinds: Vec<MetricType> = families.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            MetricType::Info,
            MetricType::Info,
            MetricType::StateSet,
            MetricType::StateSet,
            MetricType::GaugeHistogram
        ]
    );
    for format in FORMATS {
        assert_round_trip(&families, format);
    }
}
