//! Exemplars, summaries and created timestamps, as the oracles read them back.
//!
//! - The Python OpenMetrics parser reads counter and bucket exemplars (labels, value) and
//!   `_created` samples with exactly the values recorded; promtool and the Python text parser
//!   read text 0.0.4, which never carries an exemplar or a `_created` sample.
//! - An exemplar over 128 code points is refused (`ExemplarError::TooLong`) while its
//!   observation is kept; at exactly 128 the Python parser, which enforces the same limit,
//!   accepts it.
//! - Summaries (quantiles, NaN quantiles of an empty window, count-and-sum only) read back by
//!   promtool and both Python parsers, and byte-identical to client_golang's for the same
//!   observations.
//! - Go's `expfmt` decodes promkit's protobuf into the text promkit itself writes.
//! - Created timestamps travel in protobuf. Debian's client_model (0.3) predates the
//!   `created_timestamp` fields, so Go cannot show them; [`wire`] reads them from the bytes with
//!   a protobuf walker written from `metrics.proto`, independent of promkit's prost model.
//! - Ignored until fixed: `registry::Gatherers` loses native buckets on the way to protobuf.
//!
//! Two limits of Python's `prometheus_client` 0.26 OpenMetrics parser shape the inputs: it
//! misreads exemplar timestamps written with an exponent, and rejects an exemplar label value
//! holding an escaped quote. Both are valid OpenMetrics, written as Go writes them.

use std::collections::BTreeMap;

use promkit::model::SampleValue;
use promkit::{
    Buckets, Counter, CounterF64, EXEMPLAR_MAX_RUNES, ExemplarError, Format, Gauge, GaugeF64, Histogram,
    Quantiles, Registry, Summary, Untyped,
};
use promkit_oracle::{Format as Py, PyFamily, PySample, python_parse};

/// Label pairs as the Python parser returns them.
fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The samples of family `name`, as Python read them.
fn samples<'a>(families: &'a [PyFamily], name: &str) -> &'a [PySample] {
    let f = families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no family {name}"));
    &f.samples
}

/// The one sample called `name` with exactly these labels.
fn sample<'a>(families: &'a [PyFamily], family: &str, name: &str, l: &[(&str, &str)]) -> &'a PySample {
    let want = labels(l);
    samples(families, family)
        .iter()
        .find(|s| s.name == name && s.labels == want)
        .unwrap_or_else(|| panic!("no sample {name}{want:?} in {family}: {:#?}", samples(families, family)))
}

/// The exemplar timestamp written on the line of `series` (`name{labels}` as written): the last
/// field after ` # {..} value`. Parsed here, with Rust's float parser, because the Python parser
/// misreads Go-style `1.7e+09` timestamps (see [`exemplars_read_back_exactly`]).
fn exemplar_timestamp(body: &str, series: &str) -> f64 {
    let line = body
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no line {series} in:\n{body}"));
    let (_, exemplar) = line.split_once(" # ").unwrap_or_else(|| panic!("no exemplar on {line}"));
    let ts = exemplar.rsplit(' ').next().unwrap();
    ts.parse().unwrap_or_else(|e| panic!("exemplar timestamp {ts:?} on {line}: {e}"))
}

/// A registry with exemplars on a labelled counter, a float counter and every bucket of a
/// histogram (`+Inf` included); one exemplar label value needs escaping.
fn with_exemplars() -> Registry {
    let r = Registry::new();
    let requests =
        Counter::builder("requests_total").help("Requests.").labels(["path"]).register(&r).unwrap();
    let a = requests.with_label_values(&["/a"]).unwrap();
    a.inc_by(4);
    a.inc_by_with_exemplar(3, &[("trace_id", "abc123"), ("span_id", "s1")]).unwrap();
    requests.with_label_values(&["/b"]).unwrap().inc(); // no exemplar
    let bytes = CounterF64::builder("sent_bytes_total").help("Bytes sent.").register(&r).unwrap();
    // A backslash and a non-ASCII letter to escape and unescape. Not a quote: Python 0.26's
    // exemplar reader toggles "inside quotes" on every `"`, escaped or not, and rejects the line.
    bytes.inc_by_with_exemplar(2.5, &[("trace_id", "back\\slash ü")]).unwrap();
    let latency = Histogram::builder("latency_seconds")
        .help("Latency.")
        .buckets(Buckets::new([0.1, 1.0]).unwrap())
        .register(&r)
        .unwrap();
    latency.observe_with_exemplar(0.05, &[("trace_id", "trace-a")]).unwrap();
    latency.observe(0.07);
    latency.observe_with_exemplar(0.5, &[("trace_id", "trace-b")]).unwrap();
    latency.observe_with_exemplar(5.0, &[("trace_id", "trace-inf")]).unwrap();
    r
}

#[test]
fn exemplars_read_back_exactly() {
    let r = with_exemplars();
    let om = crate::om(&r);
    let Some(parsed) = python_parse(&om, Py::OpenMetrics) else { return };
    let families = parsed.unwrap_or_else(|e| panic!("Python rejects:\n{om}\n{e}"));

    let a = sample(&families, "requests", "requests_total", &[("path", "/a")]);
    assert_eq!(a.value, 7.0);
    let e = a.exemplar.as_ref().expect("exemplar on requests_total{path=\"/a\"}");
    assert_eq!(e.labels, labels(&[("span_id", "s1"), ("trace_id", "abc123")]));
    assert_eq!(e.value, 3.0, "the exemplar holds the increment, not the total");
    assert_eq!(sample(&families, "requests", "requests_total", &[("path", "/b")]).exemplar, None);

    let sent = sample(&families, "sent_bytes", "sent_bytes_total", &[]);
    assert_eq!(sent.value, 2.5);
    let e = sent.exemplar.as_ref().unwrap();
    assert_eq!(
        e.labels,
        labels(&[("trace_id", "back\\slash ü")]),
        "escaped when written, unescaped by Python"
    );
    assert_eq!(e.value, 2.5);

    let bucket = |le| sample(&families, "latency_seconds", "latency_seconds_bucket", &[("le", le)]);
    for (le, count, trace, value) in
        [("0.1", 2.0, "trace-a", 0.05), ("1.0", 3.0, "trace-b", 0.5), ("+Inf", 4.0, "trace-inf", 5.0)]
    {
        let b = bucket(le);
        assert_eq!(b.value, count, "le={le}");
        let e = b.exemplar.as_ref().unwrap_or_else(|| panic!("no exemplar on le={le}"));
        assert_eq!((e.labels.clone(), e.value), (labels(&[("trace_id", trace)]), value), "le={le}");
    }
    // Exemplars only where OpenMetrics allows them: `_total` and `_bucket` lines.
    for f in &families {
        for s in &f.samples {
            if s.exemplar.is_some() {
                assert!(s.name.ends_with("_total") || s.name.ends_with("_bucket"), "{s:?}");
            }
        }
    }

    // Timestamps: the gathered exemplars' nanoseconds, written as Go writes them (seconds as a
    // float). Python 0.26 reads `1.7000000001234567e+09` as 1.700000000 s (its
    // `_parse_timestamp` tries `int.int` before `float`), so the lines are read here.
    let gathered = r.gather().unwrap();
    let counter_ts = gathered.iter().find(|f| f.name == "requests_total").unwrap().samples[0]
        .exemplar
        .as_ref()
        .unwrap()
        .timestamp_nanos()
        .unwrap();
    #[allow(clippy::cast_precision_loss)]
    let want = counter_ts as f64 / 1e9;
    assert_eq!(exemplar_timestamp(&om, "requests_total{path=\"/a\"}"), want);
    let SampleValue::Histogram(h) =
        &gathered.iter().find(|f| f.name == "latency_seconds").unwrap().samples[0].value
    else {
        panic!("latency_seconds is a histogram")
    };
    for (i, le) in ["0.1", "1.0", "+Inf"].into_iter().enumerate() {
        let nanos = h.exemplars[i].as_ref().unwrap().timestamp_nanos().unwrap();
        #[allow(clippy::cast_precision_loss)]
        let want = nanos as f64 / 1e9;
        assert_eq!(exemplar_timestamp(&om, &format!("latency_seconds_bucket{{le=\"{le}\"}}")), want);
    }
}

#[test]
fn text_never_carries_exemplars() {
    let r = with_exemplars();
    let text = crate::text(&r);
    for line in text.lines() {
        if line.starts_with('#') {
            assert!(line.starts_with("# HELP ") || line.starts_with("# TYPE "), "{line}");
        } else {
            assert!(!line.contains('#'), "an exemplar (or a comment) in text 0.0.4: {line}");
        }
    }
    // The same bytes as a registry with the same values and no exemplar at all.
    let plain = Registry::new();
    let requests =
        Counter::builder("requests_total").help("Requests.").labels(["path"]).register(&plain).unwrap();
    requests.with_label_values(&["/a"]).unwrap().inc_by(7);
    requests.with_label_values(&["/b"]).unwrap().inc();
    CounterF64::builder("sent_bytes_total").help("Bytes sent.").register(&plain).unwrap().inc_by(2.5);
    let latency = Histogram::builder("latency_seconds")
        .help("Latency.")
        .buckets(Buckets::new([0.1, 1.0]).unwrap())
        .register(&plain)
        .unwrap();
    [0.05, 0.07, 0.5, 5.0].into_iter().for_each(|v| latency.observe(v));
    assert_eq!(text, crate::text(&plain));

    if let Some(report) = promkit_oracle::promtool_check(&text) {
        assert!(report.ok && report.lint.is_empty(), "{}", report.output);
    }
    if let Some(parsed) = python_parse(&text, Py::Text) {
        let families = parsed.unwrap();
        assert_eq!(families.iter().map(|f| f.samples.len()).sum::<usize>(), 8);
        assert!(families.iter().flat_map(|f| &f.samples).all(|s| s.exemplar.is_none()));
    }
}

#[test]
fn exemplar_limit_is_128_code_points_and_a_refused_exemplar_keeps_the_observation() {
    let r = Registry::new();
    let c = Counter::builder("jobs_total").help("Jobs.").register(&r).unwrap();
    let h = Histogram::builder("job_seconds")
        .help("Job time.")
        .buckets(Buckets::new([1.0]).unwrap())
        .register(&r)
        .unwrap();
    // `trace_id` is 8 code points: 120 more make 128; three-byte characters count once.
    let at_limit = "日".repeat(EXEMPLAR_MAX_RUNES - 8);
    let over = "x".repeat(EXEMPLAR_MAX_RUNES - 7);
    c.inc_with_exemplar(&[("trace_id", &at_limit)]).unwrap();
    h.observe_with_exemplar(0.5, &[("trace_id", "kept")]).unwrap();

    assert_eq!(c.inc_with_exemplar(&[("trace_id", &over)]), Err(ExemplarError::TooLong { runes: 129 }));
    assert_eq!(
        h.observe_with_exemplar(0.25, &[("trace_id", &over)]),
        Err(ExemplarError::TooLong { runes: 129 })
    );
    let e = ExemplarError::TooLong { runes: 129 };
    assert_eq!(
        e.to_string(),
        "exemplar labels have 129 code points, over the limit of 128; keep only the trace id"
    );
    // Both observations counted; the refused exemplars replaced nothing.
    assert_eq!(c.get(), 2);
    assert_eq!((h.count(), h.sum()), (2, 0.75));

    let om = crate::om(&r);
    let Some(parsed) = python_parse(&om, Py::OpenMetrics) else { return };
    let families = parsed.unwrap_or_else(|e| panic!("Python rejects:\n{om}\n{e}"));
    let total = sample(&families, "jobs", "jobs_total", &[]);
    assert_eq!(total.value, 2.0);
    let e = total.exemplar.as_ref().unwrap();
    assert_eq!((e.labels.clone(), e.value), (labels(&[("trace_id", &at_limit)]), 1.0));
    let b = sample(&families, "job_seconds", "job_seconds_bucket", &[("le", "1.0")]);
    assert_eq!(b.value, 2.0);
    let e = b.exemplar.as_ref().unwrap();
    assert_eq!((e.labels.clone(), e.value), (labels(&[("trace_id", "kept")]), 0.5));

    // The oracle draws the line where promkit does: one code point more is refused.
    let too_long = format!("# TYPE x counter\nx_total 1.0 # {{trace_id=\"{over}\"}} 1.0\n# EOF\n");
    let err = python_parse(&too_long, Py::OpenMetrics).unwrap().unwrap_err();
    assert!(err.starts_with("ValueError: Exemplar labels are too long"), "{err}");
}

/// An expected `_created` sample: its name as written, its labels, the creation time.
type CreatedSample = (&'static str, Vec<(&'static str, &'static str)>, f64);

/// One metric of each kind that has (or must not have) a creation time.
struct Created {
    registry: Registry,
    /// Every `_created` sample expected, in exposition order.
    expected: Vec<CreatedSample>,
}

fn created_registry() -> Created {
    let r = Registry::new();
    let c = Counter::builder("c_total").help("C.").register(&r).unwrap();
    c.inc();
    let cf = CounterF64::builder("cf_total").help("CF.").register(&r).unwrap();
    cf.inc_by(0.5);
    let fam = Counter::builder("f_total").help("F.").labels(["k"]).register(&r).unwrap();
    let (f1, f2) = (fam.with_label_values(&["1"]).unwrap(), fam.with_label_values(&["2"]).unwrap());
    Gauge::builder("g").help("G.").register(&r).unwrap().set(3);
    GaugeF64::builder("gf").help("GF.").register(&r).unwrap().set(1.5);
    Untyped::builder("u").help("U.").register(&r).unwrap().set(2.0);
    let h = Histogram::builder("h_seconds")
        .help("H.")
        .buckets(Buckets::new([1.0]).unwrap())
        .register(&r)
        .unwrap();
    h.observe(0.5);
    let s = Summary::builder("s_bytes")
        .help("S.")
        .objectives(Quantiles::new([(0.5, 0.05)]).unwrap())
        .register(&r)
        .unwrap();
    s.observe(7.0);
    let expected = vec![
        ("c_created", vec![], c.created()),
        ("cf_created", vec![], cf.created()),
        ("f_created", vec![("k", "1")], f1.created()),
        ("f_created", vec![("k", "2")], f2.created()),
        ("h_seconds_created", vec![], h.created()),
        ("s_bytes_created", vec![], s.created()),
    ];
    Created { registry: r, expected }
}

#[test]
fn created_samples_only_when_asked_for_and_never_on_gauges() {
    let Created { registry: r, expected } = created_registry();
    let with = crate::encode(&r, Format::OpenMetrics { created_samples: true });
    let without = crate::om(&r);
    assert!(!without.contains("_created"), "{without}");
    assert!(!crate::text(&r).contains("_created"));
    // Written after the series' other samples, with the value in OpenMetrics' float form.
    assert!(with.contains("c_total 1.0\nc_created "), "{with}");
    assert!(with.contains("h_seconds_count 1\nh_seconds_created "), "{with}");
    assert!(with.contains("s_bytes_count 1\ns_bytes_created "), "{with}");

    let Some(parsed) = python_parse(&with, Py::OpenMetrics) else { return };
    let families = parsed.unwrap_or_else(|e| panic!("Python rejects:\n{with}\n{e}"));
    let created: Vec<(&str, &BTreeMap<String, String>, f64)> = families
        .iter()
        .flat_map(|f| &f.samples)
        .filter(|s| s.name.ends_with("_created"))
        .map(|s| (s.name.as_str(), &s.labels, s.value))
        .collect();
    let want: Vec<(&str, BTreeMap<String, String>, f64)> =
        expected.iter().map(|(n, l, v)| (*n, labels(l), *v)).collect();
    assert_eq!(created.len(), want.len(), "{created:?}");
    for ((name, l, v), (wname, wl, wv)) in created.iter().zip(&want) {
        // Exact: the float is written in its shortest round-trip form and Python's repr of it
        // reads back to the same bits.
        assert_eq!((*name, *l, *v), (*wname, wl, *wv));
    }
    for f in &families {
        if matches!(f.r#type.as_str(), "gauge" | "unknown") {
            assert!(f.samples.iter().all(|s| !s.name.ends_with("_created")), "{f:?}");
        }
    }
    // Without the option, Python reads the same families minus the `_created` samples.
    let plain = python_parse(&without, Py::OpenMetrics).unwrap().unwrap();
    let mut stripped = families.clone();
    stripped.iter_mut().for_each(|f| f.samples.retain(|s| !s.name.ends_with("_created")));
    assert_eq!(plain.len(), stripped.len());
    for (p, s) in plain.iter().zip(&stripped) {
        assert_eq!((&p.name, &p.r#type, p.samples.len()), (&s.name, &s.r#type, s.samples.len()));
    }
}

#[test]
fn summaries_read_back_by_every_parser() {
    let r = Registry::new();
    let size = Summary::builder("payload_size_bytes")
        .help("Summary with objectives")
        .unit("bytes")
        .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).unwrap())
        .register(&r)
        .unwrap();
    // The Go oracle's golden observations: client_golang reports 3.25, 10 and 10.
    for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
        size.observe(v);
    }
    let idle = Summary::builder("idle_seconds")
        .help("Nothing observed.")
        .labels(["pool"])
        .objectives(Quantiles::new([(0.5, 0.05)]).unwrap())
        .register(&r)
        .unwrap();
    idle.with_label_values(&["a"]).unwrap();
    let plain = Summary::builder("plain_seconds").help("No objectives.").register(&r).unwrap();
    plain.observe(1.5);

    let text = crate::text(&r);
    assert_eq!(
        text,
        "# HELP idle_seconds Nothing observed.\n# TYPE idle_seconds summary\n\
         idle_seconds{pool=\"a\",quantile=\"0.5\"} NaN\nidle_seconds_sum{pool=\"a\"} 0\nidle_seconds_count{pool=\"a\"} 0\n\
         # HELP payload_size_bytes Summary with objectives\n# TYPE payload_size_bytes summary\n\
         payload_size_bytes{quantile=\"0.5\"} 3.25\npayload_size_bytes{quantile=\"0.9\"} 10\n\
         payload_size_bytes{quantile=\"0.99\"} 10\npayload_size_bytes_sum 28\npayload_size_bytes_count 7\n\
         # HELP plain_seconds No objectives.\n# TYPE plain_seconds summary\nplain_seconds_sum 1.5\nplain_seconds_count 1\n"
    );
    if let Some(report) = promkit_oracle::promtool_check(&text) {
        assert!(report.ok && report.lint.is_empty(), "{}", report.output);
    }
    if let Some(golden) = promkit_oracle::go_golden() {
        let theirs = golden.split("# HELP payload_size_bytes").nth(1).unwrap();
        let theirs = &theirs[..theirs.find("# HELP").unwrap_or(theirs.len())];
        let ours = text.split("# HELP payload_size_bytes").nth(1).unwrap();
        let ours = &ours[..ours.find("# HELP").unwrap_or(ours.len())];
        assert_eq!(ours, theirs, "client_golang's summary for the same observations");
    }

    let om = crate::encode(&r, Format::OpenMetrics { created_samples: true });
    for (format, body) in [(Py::Text, text.as_str()), (Py::OpenMetrics, om.as_str())] {
        let Some(parsed) = python_parse(body, format) else { return };
        let families = parsed.unwrap_or_else(|e| panic!("Python ({format:?}) rejects:\n{body}\n{e}"));
        let p = |name, l: &[(&str, &str)]| sample(&families, "payload_size_bytes", name, l).value;
        assert_eq!(p("payload_size_bytes", &[("quantile", "0.5")]), 3.25, "{format:?}");
        assert_eq!(p("payload_size_bytes", &[("quantile", "0.9")]), 10.0, "{format:?}");
        assert_eq!(p("payload_size_bytes", &[("quantile", "0.99")]), 10.0, "{format:?}");
        assert_eq!(p("payload_size_bytes_sum", &[]), 28.0, "{format:?}");
        assert_eq!(p("payload_size_bytes_count", &[]), 7.0, "{format:?}");
        let nan = sample(&families, "idle_seconds", "idle_seconds", &[("pool", "a"), ("quantile", "0.5")]);
        assert!(nan.value.is_nan(), "{format:?}: {nan:?}");
        let f = families.iter().find(|f| f.name == "payload_size_bytes").unwrap();
        assert_eq!(f.r#type, "summary");
        let created: Vec<f64> =
            f.samples.iter().filter(|s| s.name == "payload_size_bytes_created").map(|s| s.value).collect();
        match format {
            Py::Text => assert!(created.is_empty(), "{created:?}"),
            Py::OpenMetrics => {
                assert_eq!(f.unit, "bytes");
                assert_eq!(created, [size.created()]);
            }
        }
        assert!(f.samples.iter().all(|s| s.exemplar.is_none()));
    }
}

/// A registry of every kind the text format can carry, with labels that need escaping, special
/// floats, exemplars (which the text leaves out) and units (likewise).
#[cfg(feature = "protobuf")]
fn mixed() -> Registry {
    let r = Registry::new();
    let hits = Counter::builder("hits_total").help("Hits, by path.").labels(["path"]).register(&r).unwrap();
    hits.with_label_values(&["/a"]).unwrap().inc_by(41);
    hits.with_label_values(&["quote \" back \\ nl \n ü"])
        .unwrap()
        .inc_with_exemplar(&[("trace_id", "t1")])
        .unwrap();
    CounterF64::builder("work_seconds_total")
        .help("Work.")
        .unit("seconds")
        .register(&r)
        .unwrap()
        .inc_by(1e-7);
    let g = Gauge::builder("queue_depth").help("Queue \\ depth\nsecond line.").register(&r).unwrap();
    g.set(-12);
    let gf = GaugeF64::builder("temperature").help("Temp.").labels(["case"]).register(&r).unwrap();
    for (case, v) in [
        ("nan", f64::NAN),
        ("inf", f64::INFINITY),
        ("ninf", f64::NEG_INFINITY),
        ("neg_zero", -0.0),
        ("big", 1.5e300),
        ("small", 1e-5),
        ("int", 123_456_789.0),
    ] {
        gf.with_label_values(&[case]).unwrap().set(v);
    }
    Untyped::builder("legacy").help("Untyped.").register(&r).unwrap().set(0.25);
    let h = Histogram::builder("request_seconds")
        .help("Requests.")
        .labels(["method"])
        .buckets(Buckets::new([0.005, 0.1, 1.0, 2.5]).unwrap())
        .register(&r)
        .unwrap();
    let get = h.with_label_values(&["GET"]).unwrap();
    for v in [0.001, 0.05, 0.05, 0.7, 3.0] {
        get.observe(v);
    }
    get.observe_with_exemplar(9.0, &[("trace_id", "slow")]).unwrap(); // +Inf carries one
    h.with_label_values(&["POST"]).unwrap().observe(0.2);
    let s = Summary::builder("payload_size_bytes")
        .help("Payloads.")
        .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).unwrap())
        .register(&r)
        .unwrap();
    for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
        s.observe(v);
    }
    Summary::builder("empty_seconds")
        .help("NaN quantiles.")
        .objectives(Quantiles::new([(0.5, 0.05)]).unwrap())
        .register(&r)
        .unwrap();
    r
}

#[cfg(feature = "protobuf")]
#[test]
fn go_decodes_our_protobuf_into_our_text() {
    let r = mixed();
    let mut proto = Vec::new();
    r.encode(Format::Protobuf, &mut proto).unwrap();
    let text = crate::text(&r);
    let Some(decoded) = promkit_oracle::go_decode_protobuf(&proto) else { return };
    let decoded = decoded.unwrap_or_else(|e| panic!("Go rejects our protobuf: {e}"));
    assert_eq!(decoded, text);
    // And what Go decoded is what Go itself would write for that text.
    if let Some(canon) = promkit_oracle::go_canon(&text) {
        assert_eq!(canon.as_deref(), Ok(text.as_str()));
    }
}

/// A minimal reader of the protobuf wire format, enough to walk `MetricFamily` messages
/// (field numbers from client_model's `metrics.proto`).
#[cfg(feature = "protobuf")]
mod wire {
    /// One field's payload (fixed-width numbers are skipped: no field read here has one).
    #[derive(Debug, Clone, Copy)]
    pub(super) enum Field<'a> {
        Varint(u64),
        Fixed64,
        Bytes(&'a [u8]),
        Fixed32,
    }

    pub(super) fn varint(buf: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = buf.split_first().expect("truncated varint");
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return v;
            }
        }
        panic!("varint longer than 10 bytes")
    }

    fn take<'a>(buf: &mut &'a [u8], n: usize) -> &'a [u8] {
        assert!(buf.len() >= n, "truncated field: {n} bytes wanted, {} left", buf.len());
        let (head, rest) = buf.split_at(n);
        *buf = rest;
        head
    }

    /// The fields of one message, in order.
    pub(super) fn fields(mut buf: &[u8]) -> Vec<(u64, Field<'_>)> {
        let mut out = Vec::new();
        while !buf.is_empty() {
            let key = varint(&mut buf);
            let field = match key & 7 {
                0 => Field::Varint(varint(&mut buf)),
                1 => {
                    take(&mut buf, 8);
                    Field::Fixed64
                }
                2 => {
                    let n = usize::try_from(varint(&mut buf)).unwrap();
                    Field::Bytes(take(&mut buf, n))
                }
                5 => {
                    take(&mut buf, 4);
                    Field::Fixed32
                }
                t => panic!("wire type {t} of field {}", key >> 3),
            };
            out.push((key >> 3, field));
        }
        out
    }

    /// The length-delimited messages of a scrape body.
    pub(super) fn delimited(mut buf: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while !buf.is_empty() {
            let n = usize::try_from(varint(&mut buf)).unwrap();
            out.push(take(&mut buf, n));
        }
        out
    }

    /// The bytes of every field `number` (messages and strings).
    pub(super) fn messages(buf: &[u8], number: u64) -> Vec<&[u8]> {
        fields(buf)
            .into_iter()
            .filter_map(|(n, f)| match f {
                Field::Bytes(b) if n == number => Some(b),
                _ => None,
            })
            .collect()
    }

    /// The one message (or string) in field `number`, if present.
    pub(super) fn message(buf: &[u8], number: u64) -> Option<&[u8]> {
        let all = messages(buf, number);
        assert!(all.len() <= 1, "field {number} repeated");
        all.first().copied()
    }

    /// A `google.protobuf.Timestamp` as `(seconds, nanos)`; absent fields are zero (proto3).
    pub(super) fn timestamp(buf: &[u8]) -> (i64, i32) {
        let mut ts = (0, 0);
        for (n, f) in fields(buf) {
            match (n, f) {
                #[allow(clippy::cast_possible_wrap)] // int64 on the wire is two's complement
                (1, Field::Varint(v)) => ts.0 = v as i64,
                #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                (2, Field::Varint(v)) => ts.1 = v as i32,
                other => panic!("unexpected Timestamp field {other:?}"),
            }
        }
        ts
    }
}

/// `secs` as a protobuf timestamp: whole seconds and nanoseconds, rounded as Go's
/// `timestamppb.New(time.Unix(0, int64(secs*1e9)))` would within a nanosecond.
#[cfg(feature = "protobuf")]
fn split(secs: f64) -> (i64, i32) {
    let whole = secs.floor();
    #[allow(clippy::cast_possible_truncation)]
    (whole as i64, ((secs - whole) * 1e9).round() as i32)
}

#[cfg(feature = "protobuf")]
#[test]
fn protobuf_carries_created_timestamps_for_counters_histograms_and_summaries() {
    let Created { registry: r, expected } = created_registry();
    let native = Histogram::builder("n_seconds")
        .help("N.")
        .native(promkit::NativeOptions::with_factor(1.1))
        .register(&r)
        .unwrap();
    native.observe(1.0);
    let mut proto = Vec::new();
    r.encode(Format::Protobuf, &mut proto).unwrap();

    // (family, labels, created timestamp) of every series, read from the wire.
    type Series = (String, Vec<(String, String)>, Option<(i64, i32)>);
    let mut found: Vec<Series> = Vec::new();
    for family in wire::delimited(&proto) {
        let name = String::from_utf8(wire::message(family, 1).unwrap().to_vec()).unwrap();
        for metric in wire::messages(family, 4) {
            let labels = wire::messages(metric, 1)
                .into_iter()
                .map(|pair| {
                    let s = |n| String::from_utf8(wire::message(pair, n).unwrap().to_vec()).unwrap();
                    (s(1), s(2))
                })
                .collect();
            // Metric: gauge 2, counter 3, summary 4, untyped 5, histogram 7. Created timestamp:
            // Counter 3, Summary 4, Histogram 15.
            let created = [(3, 3), (4, 4), (7, 15)]
                .into_iter()
                .find_map(|(kind, field)| wire::message(metric, kind).map(|m| wire::message(m, field)))
                .flatten()
                .map(wire::timestamp);
            found.push((name.clone(), labels, created));
        }
    }
    let created_of = |family: &str, l: &[(&str, &str)]| {
        let l: Vec<(String, String)> = l.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        found
            .iter()
            .find(|(n, fl, _)| n == family && *fl == l)
            .unwrap_or_else(|| panic!("no series {family}{l:?} in {found:?}"))
            .2
    };
    for (sample, l, secs) in &expected {
        let family = match sample.strip_suffix("_created").unwrap() {
            s @ ("h_seconds" | "s_bytes") => s.to_owned(),
            s => format!("{s}_total"),
        };
        assert_eq!(created_of(&family, l), Some(split(*secs)), "{family}{l:?}");
    }
    assert_eq!(created_of("n_seconds", &[]), Some(split(native.created())));
    for gauge in ["g", "gf", "u"] {
        assert_eq!(created_of(gauge, &[]), None, "{gauge}");
    }
    assert_eq!(found.len(), expected.len() + 4, "{found:?}");
}

#[cfg(feature = "protobuf")]
#[test]
fn gathered_native_histograms_keep_their_native_buckets() {
    let r = Registry::new();
    let h = Histogram::builder("n_seconds")
        .help("N.")
        .native(promkit::NativeOptions::with_factor(1.1))
        .register(&r)
        .unwrap();
    for v in [0.5, 1.0, 3.0] {
        h.observe(v);
    }
    let mut direct = Vec::new();
    r.encode(Format::Protobuf, &mut direct).unwrap();
    let mut gathered = Vec::new();
    promkit::registry::Gatherers::new([r]).encode(Format::Protobuf, &mut gathered).unwrap();
    let describe = |bytes: &[u8]| promkit_oracle::go("native-describe", bytes).map(|o| o.stdout);
    let Some(want) = describe(&direct) else { return };
    assert!(want.starts_with("n_seconds schema=3 "), "{want}");
    assert_eq!(describe(&gathered), Some(want));
}
