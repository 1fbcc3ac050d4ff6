//! The 20 format pitfalls of `peers-and-pitfalls.md`, one parser case each (`pNN_`).

use promkit::model::{MetricType, SampleValue};
use promkit_parse::model::{self, Format};
use promkit_parse::{ErrorKind, ParseError, Record, openmetrics, text};

fn om(input: &str) -> Result<Vec<promkit::model::MetricFamily>, ParseError> {
    model::from_openmetrics(input.as_bytes())
}

fn txt(input: &str) -> Result<Vec<promkit::model::MetricFamily>, ParseError> {
    model::from_text(input.as_bytes())
}

fn value(f: &promkit::model::MetricFamily, i: usize) -> f64 {
    f.samples[i].value.as_f64()
}

#[test]
fn p01_label_values_unescape_exactly_once() {
    // A literal backslash-quote (written `\\\"`) comes back as backslash-quote, not a bare quote.
    for input in ["a{v=\"x\\\\\\\"y\\n\"} 1\n", "a{v=\"x\\\\\\\"y\\n\"} 1\n# EOF\n"] {
        let f = if input.ends_with("# EOF\n") { om(input) } else { txt(input) }.unwrap();
        assert_eq!(f[0].samples[0].labels[0].1, "x\\\"y\n");
    }
}

#[test]
fn p02_help_escapes_differ_between_formats() {
    let t = txt("# HELP a Say \"hi\" \\\" \\\\ \\n.\na 1\n").unwrap();
    assert_eq!(t[0].help, "Say \"hi\" \\\" \\ \n.");
    let o = om("# HELP a Say \\\"hi\\\" \\\\ \\n.\na 1\n# EOF\n").unwrap();
    assert_eq!(o[0].help, "Say \"hi\" \\ \n.");
}

#[test]
fn p03_quoted_utf8_names_are_read_and_bare_ones_refused() {
    // The quoted syntax is read in both formats; a UTF-8 name written bare is not a name.
    let input = "{\"my.metric\",\"my.label\"=\"v\"} 1\n";
    let t = txt(input).unwrap();
    assert_eq!(
        (t[0].name.as_str(), t[0].samples[0].labels.as_slice()),
        ("my.metric", &[("my.label".to_owned(), "v".to_owned())][..])
    );
    let o = om(&format!("{input}# EOF\n")).unwrap();
    assert_eq!(o[0].name, "my.metric");
    assert!(txt("my.metric 1\n").is_err());
    assert!(om("my.metric 1\n# EOF\n").is_err());
}

#[test]
fn p04_special_values_in_their_spellings() {
    let t = txt("a NaN\nb +Inf\nc -Inf\nd inf\n").unwrap();
    assert!(value(&t[0], 0).is_nan());
    assert_eq!(
        [value(&t[1], 0), value(&t[2], 0), value(&t[3], 0)],
        [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]
    );
    let o = om("a NaN\nb +Inf\nc -Inf\n# EOF\n").unwrap();
    assert_eq!(value(&o[1], 0), f64::INFINITY);
    // `le` must say +Inf exactly
    assert!(om("# TYPE h histogram\nh_bucket{le=\"inf\"} 1\n# EOF\n").is_err());
}

#[test]
fn p05_exponent_forms_and_long_decimals() {
    let max = format!("{:.0}", f64::MAX); // 309 digits, as Rust's Display writes it
    let t = txt(&format!("a 1e+21\nb 1e-05\nc {max}\nd 1e-300\n")).unwrap();
    assert_eq!(
        [value(&t[0], 0), value(&t[1], 0), value(&t[2], 0), value(&t[3], 0)],
        [1e21, 1e-5, f64::MAX, 1e-300]
    );
    assert!(om(&format!("c {max}\n# EOF\n")).is_ok());
}

#[test]
fn p06_le_and_quantile_are_numbers_whatever_their_spelling() {
    let go =
        txt("# TYPE h histogram\nh_bucket{le=\"1e+06\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")
            .unwrap();
    let om_ = om("# TYPE h histogram\nh_bucket{le=\"1000000.0\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# EOF\n").unwrap();
    let (SampleValue::Histogram(a), SampleValue::Histogram(b)) =
        (&go[0].samples[0].value, &om_[0].samples[0].value)
    else {
        panic!()
    };
    assert_eq!(a.buckets.bounds(), [1e6]);
    assert_eq!(a.buckets, b.buckets);
    let q = om("# TYPE s summary\ns{quantile=\"0.50\"} 1\ns{quantile=\"9e-1\"} 2\n# EOF\n").unwrap();
    let SampleValue::Summary(s) = &q[0].samples[0].value else { panic!() };
    assert_eq!(s.quantiles.objectives(), [(0.5, 0.0), (0.9, 0.0)]);
}

#[test]
fn p07_openmetrics_integers_counts_and_negative_buckets() {
    assert!(om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1.5\n# EOF\n").is_err());
    assert!(om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2.0\n# EOF\n").is_ok());
    assert!(om("# TYPE c counter\nc_total NaN\n# EOF\n").is_err());
    assert!(om("# TYPE c counter\nc_total -1\n# EOF\n").is_err());
    let neg = "# TYPE h histogram\nh_bucket{le=\"-1\"} 1\nh_bucket{le=\"+Inf\"} 1\n";
    assert!(om(&format!("{neg}# EOF\n")).is_ok());
    assert!(om(&format!("{neg}h_sum -1\nh_count 1\n# EOF\n")).is_err());
}

#[test]
fn p08_timestamps_are_milliseconds_in_text_and_seconds_in_openmetrics() {
    let t = txt("a 1 1500\n").unwrap();
    let o = om("a 1 1.5\n# EOF\n").unwrap();
    assert_eq!((t[0].samples[0].timestamp_ms, o[0].samples[0].timestamp_ms), (Some(1500), Some(1500)));
    assert!(matches!(txt("a 1 1.5\n").unwrap_err().kind, ErrorKind::InvalidTimestamp { .. }));
    let ex = om("# TYPE c counter\nc_total 1 # {t=\"x\"} 1 1.5\n# EOF\n").unwrap();
    assert_eq!(ex[0].samples[0].exemplar.as_ref().unwrap().timestamp_nanos(), Some(1_500_000_000));
}

#[test]
fn p09_family_grouping() {
    assert!(matches!(txt("# HELP a x\n# HELP a y\n").unwrap_err().kind, ErrorKind::DuplicateMetadata { .. }));
    assert!(matches!(txt("a 1\n# TYPE a gauge\n").unwrap_err().kind, ErrorKind::MetadataAfterSamples { .. }));
    assert!(matches!(om("a 1\nb 1\na 1\n# EOF\n").unwrap_err().kind, ErrorKind::InterleavedFamily { .. }));
    assert!(matches!(
        om("a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 1\n# EOF\n").unwrap_err().kind,
        ErrorKind::InterleavedMetric { .. }
    ));
}

#[test]
fn p10_histogram_invariants() {
    let e = om(
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
    );
    assert!(matches!(e.unwrap_err().kind, ErrorKind::Histogram { .. }));
    assert!(om("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# EOF\n").is_err());
    assert!(om("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n# EOF\n").is_err());
    // Text is lenient as Go: no +Inf bucket, the count stands in for it.
    let t = txt("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 3\nh_count 2\n").unwrap();
    let SampleValue::Histogram(h) = &t[0].samples[0].value else { panic!() };
    assert_eq!(h.cumulative, [1, 2]);
    // A bucket without `le` is dropped, as Go drops it; a non-numeric `le` is refused.
    assert!(txt("# TYPE h histogram\nh_bucket 1\n").is_ok());
    assert!(matches!(
        txt("# TYPE h histogram\nh_bucket{le=\"one\"} 1\n").unwrap_err().kind,
        ErrorKind::LabelRule { .. }
    ));
}

#[test]
fn p11_counter_total_per_format() {
    let t = txt("# TYPE a_total counter\na_total 1\n").unwrap();
    let o = om("# TYPE a counter\na_total 1\n# EOF\n").unwrap();
    assert_eq!((t[0].name.as_str(), t[0].kind), ("a_total", MetricType::Counter));
    assert_eq!(t, o);
    assert!(matches!(om("# TYPE a counter\na 1\n# EOF\n").unwrap_err().kind, ErrorKind::BadSuffix { .. }));
    // Go writes a counter without `_total` as unknown; it reads back untyped.
    assert_eq!(om("# TYPE b unknown\nb 1\n# EOF\n").unwrap()[0].kind, MetricType::Untyped);
}

#[test]
fn p12_created_is_float_seconds_and_only_for_counters_histograms_summaries() {
    let o = om("# TYPE a counter\na_total 1\na_created 1.7e9\n# EOF\n").unwrap();
    assert_eq!(o[0].samples[0].created, Some(1.7e9));
    // A gauge's `_created` is a family of its own.
    let g = om("# TYPE g gauge\ng 1\ng_created 2\n# EOF\n").unwrap();
    assert_eq!(g.len(), 2);
    assert!(om("# TYPE a counter\na_total 1\n# TYPE a_created gauge\n# EOF\n").is_err());
}

#[test]
fn p13_unit_is_a_suffix_and_empty_means_absent() {
    assert_eq!(
        om("# TYPE a_seconds gauge\n# UNIT a_seconds seconds\na_seconds 1\n# EOF\n").unwrap()[0].unit,
        "seconds"
    );
    assert!(matches!(om("# UNIT a seconds\n# EOF\n").unwrap_err().kind, ErrorKind::Unit { .. }));
    assert_eq!(om("# UNIT a \n# HELP a \na 1\n# EOF\n").unwrap()[0].unit, "");
}

#[test]
fn p14_openmetrics_framing() {
    assert!(matches!(om("a 1\n").unwrap_err().kind, ErrorKind::MissingEof));
    assert!(matches!(om("a 1\n\n# EOF\n").unwrap_err().kind, ErrorKind::BlankLine));
    assert!(om("a 1\r\n# EOF\n").is_err());
    assert!(om("\u{feff}a 1\n# EOF\n").is_err());
    assert!(om("# comment\na 1\n# EOF\n").is_err());
    assert!(om("a 1\n# EOF\nb 1\n").is_err());
    // Text 0.0.4 does allow blank lines and comments.
    assert!(txt("a 1\n\n# comment\nb 1\n").is_ok());
}

#[test]
fn p15_exemplars_where_and_how_long() {
    let o = om("# TYPE c counter\nc_total 1 # {} 0.5\n# EOF\n").unwrap();
    assert!(o[0].samples[0].exemplar.as_ref().unwrap().labels().is_empty());
    assert!(om("g 1 # {a=\"b\"} 1\n# EOF\n").is_err());
    let long = format!("# TYPE c counter\nc_total 1 # {{trace_id=\"{}\"}} 1\n# EOF\n", "x".repeat(121));
    assert!(matches!(om(&long).unwrap_err().kind, ErrorKind::Exemplar { .. }));
    assert!(txt("c_total 1 # {a=\"b\"} 1\n").is_err());
}

#[test]
fn p16_content_type_picks_the_parser() {
    assert_eq!(Format::from_content_type("text/plain; version=0.0.4; charset=utf-8"), Format::Text);
    assert_eq!(
        Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Format::OpenMetrics
    );
    assert_eq!(Format::from_content_type(promkit::encode::PROTOBUF_CONTENT_TYPE), Format::Protobuf);
}

#[test]
fn p17_unknown_or_missing_content_types_fall_back_to_text() {
    for ct in ["", "text/plain", "application/json", "TEXT/PLAIN; version=0.0.4"] {
        assert_eq!(Format::from_content_type(ct), Format::Text, "{ct}");
    }
    assert_eq!(Format::from_content_type("Application/OpenMetrics-Text"), Format::OpenMetrics);
}

#[test]
fn p18_escaped_names_read_as_the_legacy_names_they_are() {
    // `values` and `underscores` escaping produce legacy names; the parser keeps them verbatim.
    let t = txt("U__my_2e_metric{U__a_2e_b=\"v\"} 1\nmy_metric 2\n").unwrap();
    assert_eq!(t[0].name, "U__my_2e_metric");
    assert_eq!(t[0].samples[0].labels[0].0, "U__a_2e_b");
}

#[test]
fn p19_compressed_bodies_are_refused_not_misread() {
    let gzip = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, b'\n'];
    assert!(model::from_text(&gzip).is_err());
    assert!(model::from_openmetrics(&gzip).is_err());
    assert!(model::from_protobuf(&gzip).is_err());
}

#[test]
fn p20_pushgateway_grouping_values_survive_parsing() {
    // Values that need base64 or escaping in a Pushgateway URL are ordinary label values here.
    let t = txt("a{job=\"batch\",path=\"/var/x\",empty=\"\"} 1\n").unwrap();
    assert_eq!(
        t[0].samples[0].labels,
        [("empty".into(), String::new()), ("job".into(), "batch".into()), ("path".into(), "/var/x".into())]
    );
    // The records keep the written order; only the model sorts.
    let r: Vec<Record<'_>> = text::parse(b"a{z=\"1\",a=\"2\"} 1\n").collect::<Result<_, _>>().unwrap();
    let Record::Sample(s) = r[0] else { panic!() };
    assert_eq!(s.labels.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["z", "a"]);
    assert_eq!(openmetrics::parse(b"# EOF\n").count(), 0);
}
