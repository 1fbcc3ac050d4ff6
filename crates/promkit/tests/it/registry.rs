//! The registry's contract: registration errors with their exact messages, unregistering,
//! merging several registries, wrapping with a prefix and labels, the default registry with
//! lazily created statics, series limits, and collectors that fail.

use std::sync::LazyLock;

use promkit::{
    BuildError, CollectError, Collector, Counter, Error, Family, Format, Gauge, GaugeF64, Histogram,
    LabelError, LabelSet, LabelValue, RegisterError, Registry, default_registry, exponential_buckets,
    linear_buckets, metrics::OVERFLOW_LABEL_VALUE,
};
use promkit::{
    model::{Desc, FamilyHeader, MetricType, Sink, Value},
    registry::{EncodeOptions, Gatherers, OnError},
};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[test]
fn declarations_fail_at_build_with_the_fix_in_the_message() {
    let cases: [(Result<_, BuildError>, &str); 6] = [
        (
            Counter::builder("http-hits_total").build().map(drop),
            "invalid metric name `http-hits_total`: use `_`, not `-`; name it `http_hits_total`, or enable \
             UTF-8 names on the registry (`Registry::builder().name_validation(NameValidation::Utf8)`)",
        ),
        (
            Counter::builder("2xx_total").build().map(drop),
            "invalid metric name `2xx_total`: a name cannot start with a digit; name it `_xx_total`, or \
             enable UTF-8 names on the registry (`Registry::builder().name_validation(NameValidation::Utf8)`)",
        ),
        (
            Gauge::builder("g").labels(["status-code"]).build().map(drop),
            "invalid label name `status-code` on `g`: use `_`, not `-`; name it `status_code`, or enable \
             UTF-8 names on the registry (`Registry::builder().name_validation(NameValidation::Utf8)`)",
        ),
        (
            Gauge::builder("g").labels(["__name__"]).build().map(drop),
            "invalid label name `__name__` on `g`: names starting with `__` are reserved for Prometheus",
        ),
        (
            Gauge::builder("g").labels(["a"]).const_label("a", "x").build().map(drop),
            "label `a` appears twice on `g`; each label name may appear once",
        ),
        (
            Gauge::builder("g").labels(["a"]).max_series(0).build().map(drop),
            "the series limit of `g` must be at least 1",
        ),
    ];
    for (result, message) in cases {
        assert_eq!(result.map_err(err), Err(message.to_owned()));
    }
    assert_eq!(err(linear_buckets(0.0, 1.0, 0).unwrap_err()), "linear_buckets: count must be at least 1");
    assert_eq!(
        err(linear_buckets(0.0, -1.0, 3).unwrap_err()),
        "linear_buckets: width must be positive and finite"
    );
    assert_eq!(
        err(exponential_buckets(1.0, 1.0, 3).unwrap_err()),
        "exponential_buckets: factor must be finite and greater than 1"
    );
    // `Error` passes the inner message through unchanged.
    let e: Error = Counter::builder("a-b").register(&Registry::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid metric name `a-b`: use `_`, not `-`; name it `a_b`, or enable UTF-8 names on the registry \
         (`Registry::builder().name_validation(NameValidation::Utf8)`)"
    );
}

#[test]
fn registration_refuses_conflicts_and_leaves_the_registry_unchanged() {
    let r = Registry::new();
    Counter::builder("a_total")
        .help("A.")
        .labels(["x"])
        .register(&r)
        .unwrap()
        .with_label_values(&["1"])
        .unwrap()
        .inc();
    Histogram::builder("h").help("H.").register(&r).unwrap();
    let before = crate::text(&r);

    let refused: [(Result<(), Error>, &str); 8] = [
        (
            Counter::builder("a_total").help("A.").labels(["x"]).register(&r).map(drop),
            "`a_total` is already registered; reuse the existing metric, or unregister it first",
        ),
        (
            Counter::builder("a_total").help("B.").labels(["x"]).register(&r).map(drop),
            "`a_total` is already registered with a different help text: \"A.\" there, \"B.\" here. One name must \
             mean one thing: rename one of them, or declare both alike",
        ),
        (
            Gauge::builder("a_total").help("A.").labels(["x"]).register(&r).map(drop),
            "`a_total` is already registered with a different type: counter there, gauge here. One name must mean \
             one thing: rename one of them, or declare both alike",
        ),
        (
            Counter::builder("a_total").help("A.").labels(["y"]).register(&r).map(drop),
            "`a_total` is already registered with different label names: `x` there, `y` here. One name must mean \
             one thing: rename one of them, or declare both alike",
        ),
        (
            Counter::builder("a_total").help("A.").labels(["x"]).const_label("z", "1").register(&r).map(drop),
            "`a_total` is already registered with different label names: `x` there, `x` and `z` here. One name \
             must mean one thing: rename one of them, or declare both alike",
        ),
        (
            Gauge::builder("h_bucket").register(&r).map(drop),
            "`h_bucket` would write samples named `h_bucket`, which family `h` writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)",
        ),
        (
            Gauge::builder("a_created").register(&r).map(drop),
            "`a_created` would write samples named `a_created`, which family `a_total` writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)",
        ),
        (
            Histogram::builder("a").register(&r).map(drop),
            "`a` would write samples named `a_created`, which family `a_total` writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)",
        ),
    ];
    for (result, message) in refused {
        assert_eq!(result.map_err(err), Err(message.to_owned()));
    }
    assert!(matches!(
        Counter::builder("a_total").help("A.").labels(["x"]).register(&r),
        Err(Error::Register(RegisterError::AlreadyRegistered { name, .. })) if name == "a_total"
    ));
    assert_eq!(crate::text(&r), before, "a refused registration changes nothing");
}

#[test]
fn a_duplicate_registration_hands_back_the_registered_collector() {
    let r = Registry::new();
    let first = Counter::builder("a_total").help("A.").labels(["x"]).register(&r).unwrap();
    let single = Gauge::builder("g").help("G.").register(&r).unwrap();
    single.set(4);

    let Err(Error::Register(RegisterError::AlreadyRegistered { name, existing })) =
        Counter::builder("a_total").help("A.").labels(["x"]).register(&r)
    else {
        panic!("a second identical declaration must be refused as already registered");
    };
    assert_eq!(name, "a_total");
    let reused = existing.downcast_ref::<Family<Counter>>().expect("the registered family").clone();
    reused.with_label_values(&["1"]).unwrap().inc();
    assert_eq!(first.with_label_values(&["1"]).unwrap().get(), 1, "one family, two handles");
    assert!(existing.downcast_ref::<Family<Gauge>>().is_none());
    assert_eq!(Some(existing.clone()), r.get("a_total"));

    let Err(Error::Register(RegisterError::AlreadyRegistered { existing, .. })) =
        Gauge::builder("g").help("G.").register(&r)
    else {
        panic!("refused");
    };
    assert_eq!(existing.metric::<Gauge>().map(|g| g.get()), Some(4));
    assert!(existing.metric::<Counter>().is_none());
    assert!(r.get("a").is_none(), "a lookup names a family exactly");
}

#[test]
#[should_panic(
    expected = "`m_total` is already registered; reuse the existing metric, or unregister it first"
)]
fn must_register_panics_with_the_error_message() {
    let r = Registry::new();
    Counter::builder("m_total").must_register(&r);
    Counter::builder("m_total").must_register(&r);
}

#[test]
fn label_lookups_report_what_was_wrong() {
    let r = Registry::new();
    let f = Counter::builder("t_total").labels(["a", "b"]).register(&r).unwrap();
    assert_eq!(err(f.with_label_values(&["1"]).unwrap_err()), "`t_total` takes 2 label values (a, b), got 1");
    assert_eq!(
        err(f.with(&[("a", "1"), ("c", "2")]).unwrap_err()),
        "`t_total` has no label `c` (its labels: a, b)"
    );
    assert_eq!(err(f.with(&[("a", "1"), ("a", "2")]).unwrap_err()), "label `a` given twice for `t_total`");
    let curried = f.curry_with(&[("a", "x")]).unwrap();
    assert_eq!(err(curried.with_label_values(&[]).unwrap_err()), "`t_total` takes 1 label value (b), got 0");
    assert!(matches!(curried.curry_with(&[("a", "y")]), Err(LabelError::DuplicateName { .. })));
    curried.with_label_values(&["y"]).unwrap().inc();
    assert_eq!(f.with_label_values(&["x", "y"]).unwrap().get(), 1);
    assert_eq!(crate::text(&r), "# HELP t_total \n# TYPE t_total counter\nt_total{a=\"x\",b=\"y\"} 1\n");
}

#[test]
fn unregistering_removes_families_and_frees_their_names() {
    let r = Registry::new();
    let a = Counter::builder("a_total").help("A.").register(&r).unwrap();
    a.inc();
    let g = Gauge::builder("g").help("G.").build().unwrap();
    let id = r.register(g).unwrap();
    assert!(r.unregister("a_total"));
    assert!(!r.unregister("a_total"));
    assert_eq!(crate::text(&r), "# HELP g G.\n# TYPE g gauge\ng 0\n");
    assert!(r.unregister_id(id));
    assert!(!r.unregister_id(id));
    assert_eq!(crate::text(&r), "");
    // The name is free again: a new counter, from zero.
    let again = Counter::builder("a_total").help("A again.").register(&r).unwrap();
    assert_eq!(crate::text(&r), "# HELP a_total A again.\n# TYPE a_total counter\na_total 0\n");
    // The old handle still works but is no longer exported.
    a.inc();
    assert_eq!((a.get(), again.get()), (2, 0));
    assert!(r.descs().iter().all(|d| d.name == "a_total"));
}

#[test]
fn gatherers_merge_registries_and_refuse_duplicates() {
    let (a, b) = (Registry::new(), Registry::new());
    let fa = Counter::builder("req_total").help("R.").labels(["code"]).register(&a).unwrap();
    let fb = Counter::builder("req_total").help("R.").labels(["code"]).register(&b).unwrap();
    fa.with_label_values(&["500"]).unwrap().inc();
    fb.with_label_values(&["200"]).unwrap().inc_by(2);
    Gauge::builder("only_b").help("B.").register(&b).unwrap().set(1);
    Gauge::builder("first").help("F.").register(&a).unwrap().set(3);

    let g = Gatherers::new([&a, &b]);
    let mut out = Vec::new();
    g.encode(Format::Text, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // Families sorted by name, one block each, series sorted across registries.
    assert_eq!(
        text,
        concat!(
            "# HELP first F.\n# TYPE first gauge\nfirst 3\n",
            "# HELP only_b B.\n# TYPE only_b gauge\nonly_b 1\n",
            "# HELP req_total R.\n# TYPE req_total counter\nreq_total{code=\"200\"} 2\nreq_total{code=\"500\"} 1\n",
        )
    );
    if let Some(verdict) = promkit_oracle::go_parse(&text) {
        assert_eq!(verdict, Ok("ok: 3 families, 4 samples\n".to_owned()));
    }
    let mut om = Vec::new();
    g.encode(Format::OPENMETRICS, &mut om).unwrap();
    assert!(String::from_utf8(om).unwrap().ends_with("req_total{code=\"500\"} 1.0\n# EOF\n"));

    // The same series from both: an error naming it, never a duplicate line.
    fb.with_label_values(&["500"]).unwrap();
    assert_eq!(
        err(g.gather().unwrap_err()),
        "series {code=\"500\"} of `req_total` was collected twice; each series must come from one place"
    );

    let c = Registry::new();
    Gauge::builder("first").help("Other help.").register(&c).unwrap();
    let e = Gatherers::new([&a, &c]).gather().unwrap_err();
    assert_eq!(err(&e), "family `first` was collected with different help from two sources");
    let d = Registry::new();
    Counter::builder("first").help("F.").register(&d).unwrap();
    let e = Gatherers::new([&a, &d]).gather().unwrap_err();
    assert!(matches!(e, CollectError::InconsistentFamily { what: "type", .. }), "{e}");
}

#[test]
fn wrapping_adds_a_prefix_and_labels() {
    let r = Registry::new();
    let sub = r.wrap("shard_", vec![("shard".into(), "7".into()), ("az".into(), "b".into())]);
    let f = Counter::builder("jobs_total").help("Jobs.").labels(["kind"]).build().unwrap();
    f.with_label_values(&["x\"y"]).unwrap().inc_by(2);
    sub.register(f.clone()).unwrap();
    let g = Gauge::builder("depth").help("Depth.").build().unwrap();
    g.metric().set(4);
    sub.register(g).unwrap();
    Gauge::builder("plain").help("P.").register(&r).unwrap();
    let text = crate::text(&r);
    // Wrapped labels sorted in among the metric's own.
    assert_eq!(
        text,
        concat!(
            "# HELP plain P.\n# TYPE plain gauge\nplain 0\n",
            "# HELP shard_depth Depth.\n# TYPE shard_depth gauge\nshard_depth{az=\"b\",shard=\"7\"} 4\n",
            "# HELP shard_jobs_total Jobs.\n# TYPE shard_jobs_total counter\n",
            "shard_jobs_total{az=\"b\",kind=\"x\\\"y\",shard=\"7\"} 2\n",
        )
    );
    if let Some(canon) = promkit_oracle::go_canon(&text) {
        assert_eq!(canon.as_deref(), Ok(text.as_str()));
    }
    // Conflicts are checked on the wrapped names.
    let e = Gauge::builder("shard_depth").register(&r).unwrap_err();
    assert!(matches!(e, Error::Register(RegisterError::Inconsistent { .. })), "{e}");
    let e = sub.register(Gauge::builder("depth").help("Depth.").build().unwrap()).unwrap_err();
    assert_eq!(
        err(e),
        "`shard_depth` is already registered; reuse the existing metric, or unregister it first"
    );
    assert!(r.unregister("shard_jobs_total"));
}

#[test]
fn wrapping_with_a_label_the_metric_already_has_is_refused() {
    // Go refuses it ("attempted wrapping with already existing label name"); writing the label
    // twice would make the whole scrape unparsable.
    let r = Registry::new();
    let sub = r.wrap("p_", vec![("kind".into(), "w".into())]);
    let f = Counter::builder("jobs_total").labels(["kind"]).build().unwrap();
    f.with_label_values(&["own"]).unwrap().inc();
    let result = sub.register(f);
    let text = crate::text(&r);
    assert!(result.is_err(), "registered, and the exposition reads:\n{text}");
    assert_eq!(
        err(result.unwrap_err()),
        "label `kind` appears twice on `p_jobs_total`; each label name may appear once"
    );
    // Nor may a wrapper add `le` to a histogram.
    let sub = r.wrap("q_", vec![("le".into(), "1".into())]);
    let e = sub.register(Histogram::builder("h").build().unwrap()).unwrap_err();
    assert_eq!(
        err(e),
        "label `le` is reserved on histogram `q_h`: Prometheus writes each bucket's upper bound in it; name \
         your label something else"
    );
    assert_eq!(crate::text(&r), "");
}

static LAZY_JOBS: LazyLock<Counter> = LazyLock::new(|| {
    Counter::builder("it_lazy_jobs_total").help("Lazy jobs.").must_register(default_registry())
});
static LAZY_DEPTH: LazyLock<Gauge> =
    LazyLock::new(|| Gauge::builder("it_lazy_depth").help("Lazy depth.").must_register(default_registry()));

#[test]
fn default_registry_shows_lazy_statics_at_zero_once_forced() {
    // The only test that touches the default registry: its families are this test's alone.
    let names = ["it_lazy_depth".to_owned(), "it_lazy_jobs_total".to_owned()];
    let ours = || {
        let mut out = Vec::new();
        default_registry().encode_with(&mut out, &EncodeOptions::new(Format::Text).only(&names)).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(ours(), "", "nothing before the statics are first used");
    // At start-up: force them, so they are exported (at 0) before their first use.
    LazyLock::force(&LAZY_JOBS);
    LazyLock::force(&LAZY_DEPTH);
    assert_eq!(
        ours(),
        concat!(
            "# HELP it_lazy_depth Lazy depth.\n# TYPE it_lazy_depth gauge\nit_lazy_depth 0\n",
            "# HELP it_lazy_jobs_total Lazy jobs.\n# TYPE it_lazy_jobs_total counter\nit_lazy_jobs_total 0\n",
        )
    );
    LAZY_JOBS.inc();
    LAZY_DEPTH.set(-2);
    assert!(ours().contains("\nit_lazy_jobs_total 1\n") && ours().contains("\nit_lazy_depth -2\n"));
    // Forcing again registers nothing twice.
    LazyLock::force(&LAZY_JOBS);
    assert_eq!(ours().matches("# TYPE").count(), 2);
}

#[derive(Debug, Clone, Copy, LabelValue)]
enum Tier {
    Free,
    Paid,
}

#[derive(Debug, Clone, LabelSet)]
struct Customer<'a> {
    id: &'a str,
    tier: Tier,
}

#[test]
fn a_series_limit_sends_new_label_sets_to_one_overflow_series() {
    let r = Registry::new();
    let f =
        Counter::builder("req_total").help("R.").labels(["path", "code"]).max_series(2).register(&r).unwrap();
    for (path, code) in
        [("/a", "200"), ("/b", "200"), ("/c", "500"), ("/d", "200"), ("/a", "200"), ("/c", "500")]
    {
        f.with_label_values(&[path, code]).unwrap().inc();
    }
    // Two real series plus the overflow one; every lookup that found the limit reached counts.
    assert_eq!((f.len(), f.overflowed()), (3, 3));
    let text = crate::text(&r);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("req_total")).collect::<Vec<_>>(),
        [
            "req_total{code=\"200\",path=\"/a\"} 2",
            "req_total{code=\"200\",path=\"/b\"} 1",
            &format!("req_total{{code=\"{o}\",path=\"{o}\"}} 3", o = OVERFLOW_LABEL_VALUE)[..],
        ]
    );
    assert!(text.contains("promkit_series_overflow_total{family=\"req_total\"} 3\n"), "{text}");
    // The overflow series is one of the `max` series: removing a real one leaves two (`/a` and
    // the overflow series), so new label sets still overflow until the overflow series goes too.
    assert!(f.remove(&["/b", "200"]).unwrap());
    f.with_label_values(&["/e", "200"]).unwrap().inc();
    assert_eq!((f.len(), f.overflowed()), (2, 4));
    assert!(f.remove(&[OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE]).unwrap());
    f.with_label_values(&["/e", "200"]).unwrap().inc();
    assert!(crate::text(&r).contains("req_total{code=\"200\",path=\"/e\"} 1\n"));
    assert_eq!((f.len(), f.overflowed()), (2, 4));

    // Typed families take a limit too.
    let t = Counter::builder("customer_total")
        .help("C.")
        .typed_labels::<Customer<'_>>()
        .max_series(1)
        .register(&r)
        .unwrap();
    t.get(&Customer { id: "c1", tier: Tier::Free }).inc();
    t.get(&Customer { id: "c2", tier: Tier::Paid }).inc();
    assert_eq!(t.overflowed(), 1);
    let text = crate::text(&r);
    assert!(text.contains("customer_total{id=\"__overflow__\",tier=\"__overflow__\"} 1\n"), "{text}");
    if let Some(verdict) = promkit_oracle::go_parse(&text) {
        assert!(verdict.is_ok(), "{verdict:?}\n{text}");
    }
}

/// A collector that writes a family, then fails.
struct Flaky;

impl Collector for Flaky {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: "flaky".into(),
            help: "F.".into(),
            unit: String::new(),
            kind: MetricType::Gauge,
            label_names: Vec::new(),
            const_labels: Vec::new(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&FamilyHeader { name: "flaky", help: "F.", unit: "", kind: MetricType::Gauge });
        sink.sample(&promkit::model::Labels::None, Value::GaugeF64(1.0), &Default::default());
        Err(CollectError::failed("flaky", "the disk is gone"))
    }
}

#[test]
fn a_failing_collector_stops_the_scrape_or_is_skipped_without_a_trace() {
    let r = Registry::new();
    Gauge::builder("a").help("A.").register(&r).unwrap();
    r.register(Flaky).unwrap();
    Gauge::builder("z").help("Z.").register(&r).unwrap();
    let mut out = Vec::new();
    let e = r.encode(Format::Text, &mut out).unwrap_err();
    assert_eq!(e.to_string(), "collector for `flaky` failed: the disk is gone");
    for format in [Format::Text, Format::OPENMETRICS] {
        let mut out = Vec::new();
        let failures = r.encode_with(&mut out, &EncodeOptions::new(format).on_error(OnError::Skip)).unwrap();
        assert_eq!(failures.len(), 1);
        let body = String::from_utf8(out).unwrap();
        assert!(!body.contains("flaky"), "the partial output is removed:\n{body}");
        assert!(body.contains("\na 0") && body.contains("\nz 0"), "{body}");
    }
    assert!(r.gather().is_err());
}

/// In the protobuf format, plain series are written in runs that leave room at the end of the
/// output; a collector that fails after them is cut away to the byte, and the families around
/// it are whole.
#[test]
fn a_skipped_collector_leaves_no_trace_between_protobuf_runs() {
    let build = |flaky: bool| {
        let r = Registry::new();
        for name in ["a", "z"] {
            let g = Gauge::builder(name).help("G.").labels(["k"]).register(&r).unwrap();
            for i in 0..300 {
                g.with_label_values(&[&format!("v{i}")]).unwrap().set(i);
            }
        }
        if flaky {
            r.register(Flaky).unwrap();
        }
        r
    };
    let mut skipped = Vec::new();
    let failures = build(true)
        .encode_with(&mut skipped, &EncodeOptions::new(Format::Protobuf).on_error(OnError::Skip))
        .unwrap();
    assert_eq!(failures.len(), 1);
    let mut clean = Vec::new();
    build(false).encode(Format::Protobuf, &mut clean).unwrap();
    assert!(clean.len() > 300 * 2 * 10, "both families are written: {} bytes", clean.len());
    assert!(skipped == clean, "{} bytes against {}", skipped.len(), clean.len());
}

/// Removing most series of a large family (enough that the store rewrites its key storage
/// without the removed keys) keeps every remaining series: found by lookup with its count,
/// encoded with its labels, and new series still go in.
#[test]
fn removing_most_series_keeps_the_rest_whole() {
    let registry = Registry::new();
    let f: Family<Counter> =
        Counter::builder("kept_total").help("Kept.").labels(["id", "pad"]).register(&registry).unwrap();
    let pad = "p".repeat(40);
    let n = 20_000u64;
    for i in 0..n {
        f.with_label_values(&[&format!("id-{i}"), &pad]).unwrap().inc_by(i);
    }
    for i in (0..n).filter(|i| i % 10 != 0) {
        assert!(f.remove(&[&format!("id-{i}"), &pad]).unwrap(), "series id-{i} existed");
    }
    assert_eq!(f.remove_partial_match(&[("id", "id-3")]), 0, "id-3 was removed already");
    for i in (0..n).step_by(10) {
        assert_eq!(f.with_label_values(&[&format!("id-{i}"), &pad]).unwrap().get(), i, "series id-{i}");
    }
    f.with_label_values(&["new", &pad]).unwrap().inc();
    let text = registry.encode_text_string().unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2_001, "2,000 kept series, one new");
    assert!(lines.contains(&format!("kept_total{{id=\"id-19990\",pad=\"{pad}\"}} 19990").as_str()));
    assert!(lines.contains(&format!("kept_total{{id=\"new\",pad=\"{pad}\"}} 1").as_str()));
}

/// A family's plain series reach the encoder in runs; series with an exemplar (or local
/// handles) end a run and are written alone. Across run boundaries, beside a histogram, the
/// bytes are those of the gathered snapshot replayed series by series, in every text format,
/// and a collector failing after them (skipped) takes only its own lines away.
#[test]
fn runs_of_stored_series_encode_as_the_snapshot_does() {
    fn fill(r: &Registry) {
        let hits: Family<Counter> =
            Counter::builder("hits_total").help("Hits.").labels(["id", "method"]).register(r).unwrap();
        for i in 0..200u64 {
            let method = if i % 2 == 0 { "GET" } else { "POST" };
            let c = hits.with_label_values(&[&format!("id-{i}"), method]).unwrap();
            if i % 67 == 5 {
                c.inc_by_with_exemplar(i + 1, &[("trace_id", "abc")]).unwrap();
            } else {
                c.inc_by(i * 1_000_003);
            }
        }
        let sizes: Family<GaugeF64> =
            GaugeF64::builder("size").help("Size.").labels(["id"]).register(r).unwrap();
        for i in 0..130 {
            sizes.with_label_values(&[&format!("s{i}")]).unwrap().set(f64::from(i) * 0.37 - 3.0);
        }
        let took = Histogram::builder("took_seconds").help("Took.").labels(["id"]).register(r).unwrap();
        took.with_label_values(&["x"]).unwrap().observe(0.3);
    }
    let r = Registry::new();
    fill(&r);
    let flaky = Registry::new();
    fill(&flaky);
    flaky.register(Flaky).unwrap();
    let families = r.gather().unwrap();
    for format in [
        Format::Text,
        Format::OPENMETRICS,
        Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Write },
    ] {
        let mut out = Vec::new();
        r.encode(format, &mut out).unwrap();
        let body = String::from_utf8(out).unwrap();
        assert_eq!(body.matches("\nhits_total{").count(), 200, "{format:?}:\n{body}");
        let mut replayed = Vec::new();
        promkit::encode::encode_families(&families, format, &mut replayed);
        assert_eq!(String::from_utf8(replayed).unwrap(), body, "{format:?}");
        let mut out = Vec::new();
        let failures =
            flaky.encode_with(&mut out, &EncodeOptions::new(format).on_error(OnError::Skip)).unwrap();
        assert_eq!(failures.len(), 1);
        // The two registries' series (and exemplars) were made at different times.
        let untimed = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("_created") && !l.contains(" # {"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let skipped = String::from_utf8(out).unwrap();
        assert!(untimed(&skipped) == untimed(&body), "{format:?}, the failing collector skipped:\n{skipped}");
    }
}
