//! Quoted UTF-8 names (Prometheus 3's syntax) in text and OpenMetrics: everything promkit
//! writes with `allow-utf-8` parses back equal, and ambiguous or malformed quoted names are
//! typed errors naming the rule.

use promkit::encode::encode_families_with;
use promkit::model::SampleValue;
use promkit::{Buckets, Counter, EscapingScheme, Format, Gauge, Histogram, NameValidation, Registry};
use promkit_parse::{ErrorKind, model};

use crate::roundtrip::{FORMATS, expected};

fn utf8_registry() -> Registry {
    let r = Registry::builder().name_validation(NameValidation::Utf8).build();
    let h = Histogram::builder("http.server.duration")
        .help("Latency.")
        .buckets(Buckets::new([0.5, 1.0]).unwrap())
        .labels(["http.route", "code", "a=b"])
        .register(&r)
        .unwrap();
    h.with_label_values(&["/a", "200", "x"]).unwrap().observe(0.25);
    Counter::builder("jobs.done_total").help("Jobs.").register(&r).unwrap().inc_by(2);
    Gauge::builder("temperature °C")
        .help("Heat.")
        .const_label("room name", "kitchen")
        .register(&r)
        .unwrap()
        .set(21);
    Gauge::builder("plain_gauge")
        .help("Legacy.")
        .labels(["k8s.pod"])
        .register(&r)
        .unwrap()
        .with_label_values(&["p-1"])
        .unwrap()
        .set(1);
    r
}

#[test]
fn quoted_names_round_trip_in_text_and_openmetrics() {
    let families = utf8_registry().gather().unwrap();
    for format in FORMATS {
        let mut bytes = Vec::new();
        encode_families_with(&families, format, EscapingScheme::AllowUtf8, &mut bytes);
        let parse_format = match format {
            Format::Text => model::Format::Text,
            Format::OpenMetrics { .. } => model::Format::OpenMetrics,
            _ => model::Format::Protobuf,
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let parsed = model::parse(parse_format, &bytes).unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"));
        let mut want = expected(families.clone(), format);
        // Created times differ only by the format's precision; none of these is compared here.
        let mut got = parsed;
        for f in want.iter_mut().chain(got.iter_mut()) {
            f.samples.iter_mut().for_each(|s| s.created = None);
        }
        assert_eq!(got, want, "{format:?}:\n{text}");
    }
}

#[test]
fn text_reads_quoted_names_with_blanks_and_a_trailing_comma() {
    let text = "# HELP \"a.b\" Help.\n# TYPE \"a.b\" gauge\n{ \"a.b\" , \"x.y\" = \"1\" , } 3\n{\"a.b\"} 4\n";
    let families = model::parse(model::Format::Text, text.as_bytes()).unwrap();
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].name, "a.b");
    assert_eq!(families[0].help, "Help.");
    let samples: Vec<(Vec<(String, String)>, SampleValue)> =
        families[0].samples.iter().map(|s| (s.labels.clone(), s.value.clone())).collect();
    assert_eq!(
        samples,
        [
            (vec![("x.y".to_owned(), "1".to_owned())], SampleValue::Gauge(3.0)),
            (vec![], SampleValue::Gauge(4.0))
        ]
    );
}

/// What an error's kind must be.
type Check = Box<dyn Fn(&ErrorKind) -> bool>;

#[test]
fn ambiguous_and_malformed_quoted_names_are_typed_errors() {
    let quoted = |rule_part: &str| {
        let rule_part = rule_part.to_owned();
        move |k: &ErrorKind| matches!(k, ErrorKind::QuotedName { rule } if rule.contains(&rule_part))
    };
    let twice = quoted("a quoted string without `=` is the metric name");
    // (format, input, column, what the kind must be)
    let cases: Vec<(model::Format, &str, usize, Check)> = vec![
        // Two metric names for one sample: before the braces and quoted inside them.
        (model::Format::Text, "a{\"b\"} 1\n", 2, Box::new(twice.clone())),
        (model::Format::OpenMetrics, "a{\"b\"} 1\n# EOF\n", 2, Box::new(twice.clone())),
        // Two quoted metric names.
        (model::Format::Text, "{\"a\",\"b\"} 1\n", 5, Box::new(twice.clone())),
        // A quoted name after a label.
        (model::Format::Text, "{\"a\",x=\"1\",\"b\"} 1\n", 11, Box::new(twice)),
        (model::Format::Text, "{\"\"} 1\n", 1, Box::new(quoted("cannot be empty"))),
        (model::Format::Text, "{\"a\",\"\"=\"v\"} 1\n", 5, Box::new(quoted("cannot be empty"))),
        (model::Format::Text, "# TYPE \"\" gauge\n", 7, Box::new(quoted("cannot be empty"))),
        (model::Format::Text, "{\"a.b 1\n", 1, Box::new(quoted("ends with an unescaped"))),
        // Escapes in names are refused, not misread.
        (model::Format::Text, "{\"a\\\"b\"} 1\n", 3, Box::new(quoted("escape sequences in quoted names"))),
        (model::Format::OpenMetrics, "{\"a\\nb\"} 1\n# EOF\n", 3, Box::new(quoted("escape sequences"))),
        // Labels without any metric name, quoted or not.
        (
            model::Format::Text,
            "{\"a\"=\"b\"} 1\n",
            1,
            Box::new(|k: &ErrorKind| matches!(k, ErrorKind::InvalidMetricName)),
        ),
        (
            model::Format::Text,
            "{a=\"b\"} 1\n",
            0,
            Box::new(|k: &ErrorKind| matches!(k, ErrorKind::InvalidMetricName)),
        ),
        // OpenMetrics allows no blank and no trailing comma.
        (
            model::Format::OpenMetrics,
            "{\"a\",} 1\n# EOF\n",
            5,
            Box::new(|k: &ErrorKind| matches!(k, ErrorKind::Expected { .. })),
        ),
        (
            model::Format::OpenMetrics,
            "{ \"a\"} 1\n# EOF\n",
            0,
            Box::new(|k: &ErrorKind| matches!(k, ErrorKind::InvalidMetricName)),
        ),
        (
            model::Format::Text,
            "{\"a\" x=\"1\"} 1\n",
            5,
            Box::new(|k: &ErrorKind| matches!(k, ErrorKind::Expected { .. })),
        ),
    ];
    let mut failures = Vec::new();
    for (format, input, column, check) in cases {
        match model::parse(format, input.as_bytes()) {
            Ok(f) => failures.push(format!("{format:?} {input:?}: parsed as {f:?}")),
            Err(e) if e.pos.column != column as u64 + 1 || !check(&e.kind) => {
                failures.push(format!("{format:?} {input:?}: {e} (column {})", e.pos.column));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Any name without an escape sequence survives promkit's quoted output and this parser,
    /// in both text formats (the family name, the sample name and a label name).
    #[test]
    fn arbitrary_utf8_names_round_trip(
        name in "[^\"\\\\\n\r]{1,10}",
        label in "[^\"\\\\\n\r]{1,10}",
    ) {
        proptest::prop_assume!(!label.starts_with("__"));
        let r = Registry::builder().name_validation(NameValidation::Utf8).build();
        let g = Gauge::builder(name.clone()).help("H.").labels([label.clone()]).register(&r).unwrap();
        g.with_label_values(&["v"]).unwrap().set(5);
        for (format, parse_format) in
            [(Format::Text, model::Format::Text), (Format::OPENMETRICS, model::Format::OpenMetrics)]
        {
            let mut bytes = Vec::new();
            let options = promkit::registry::EncodeOptions::new(format).escaping(EscapingScheme::AllowUtf8);
            r.encode_with(&mut bytes, &options).unwrap();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let parsed = model::parse(parse_format, &bytes);
            proptest::prop_assert!(parsed.is_ok(), "{:?}: {:?}\n{}", format, parsed.err(), text);
            let parsed = parsed.unwrap();
            proptest::prop_assert_eq!(&parsed[0].name, &name, "{}", text);
            proptest::prop_assert_eq!(&parsed[0].samples[0].labels, &vec![(label.clone(), "v".to_owned())], "{}", text);
        }
    }
}
