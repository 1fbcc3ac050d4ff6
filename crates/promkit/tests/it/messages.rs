//! Every error message a newcomer meets while declaring metrics, pinned word for word: each
//! says what was wrong and what to do. (Others are pinned beside their feature: `registry`
//! and `pitfalls`.)

use promkit::model::{Collector, Desc, MetricType, Sink};
use promkit::{
    Buckets, CollectError, Counter, Gauge, Histogram, Quantiles, Registry, Summary, exponential_buckets,
    exponential_buckets_range, linear_buckets,
};

fn message(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[test]
fn registration_errors_say_what_differs_and_how_to_fix_it() {
    let r = Registry::new();
    Counter::builder("jobs_total").help("Jobs.").register(&r).unwrap();
    Histogram::builder("took_seconds").help("T.").unit("seconds").register(&r).unwrap();
    let cases = [
        (
            Counter::builder("jobs_total").help("Jobs.").labels(["queue"]).register(&r).map(drop),
            "`jobs_total` is already registered with different label names: none there, `queue` here. One name \
             must mean one thing: rename one of them, or declare both alike",
        ),
        (
            Histogram::builder("took_seconds").help("T.").register(&r).map(drop),
            "`took_seconds` is already registered with a different unit: \"seconds\" there, none here. One name \
             must mean one thing: rename one of them, or declare both alike",
        ),
        // A counter writes `<name>_total` (and `<name>_created` in OpenMetrics): both are named.
        (
            Counter::builder("jobs").help("Jobs.").register(&r).map(drop),
            "`jobs` would write samples named `jobs_total` and `jobs_created`, which family `jobs_total` writes \
             too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)",
        ),
        (
            Gauge::builder("took_seconds_count").help("C.").register(&r).map(drop),
            "`took_seconds_count` would write samples named `took_seconds_count`, which family `took_seconds` \
             writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)",
        ),
    ];
    for (result, want) in cases {
        assert_eq!(result.map_err(message), Err(want.to_owned()));
    }

    #[derive(Debug)]
    struct Twice;
    impl Collector for Twice {
        fn describe(&self) -> Vec<Desc> {
            let d = Desc {
                name: "twice".into(),
                help: "T.".into(),
                unit: String::new(),
                kind: MetricType::Gauge,
                label_names: vec![],
                const_labels: vec![],
            };
            vec![d.clone(), d]
        }
        fn collect(&self, _: &mut dyn Sink) -> Result<(), CollectError> {
            Ok(())
        }
    }
    assert_eq!(
        message(r.register(Twice).unwrap_err()),
        "the collector describes `twice` twice; a collector must describe each family once"
    );
}

#[test]
fn bucket_errors_name_the_bound_and_the_rule() {
    let cases = [
        (Buckets::new([]), "a histogram needs at least one finite bucket bound (`+Inf` is implied)"),
        (
            Buckets::new([f64::INFINITY]),
            "a histogram needs at least one finite bucket bound (`+Inf` is implied)",
        ),
        (
            Buckets::new([1.0, f64::NAN]),
            "the bucket bound at index 1 is NaN; bounds must be numbers in increasing order",
        ),
        (
            Buckets::new([1.0, 5.0, 2.0]),
            "bucket bounds must be in increasing order: 2 (at index 2) comes after 5",
        ),
        (
            Buckets::new([1.0, 2.0, 2.0]),
            "bucket bound 2 appears twice (again at index 2); remove the duplicate",
        ),
        (
            Buckets::new([f64::NEG_INFINITY, 1.0]),
            "the bucket bound at index 0 is -Inf; use a finite lower bound",
        ),
        // `+Inf` anywhere but last is its own mistake, not an ordering one.
        (
            Buckets::new([f64::INFINITY, 1.0]),
            "the bucket bound at index 0 is +Inf, which may only be the last bound; leave it out (the +Inf \
             bucket is always there)",
        ),
        (linear_buckets(f64::NAN, 1.0, 3), "linear_buckets: start must be a finite number"),
        (exponential_buckets(0.0, 2.0, 3), "exponential_buckets: start must be positive and finite"),
        (
            exponential_buckets_range(10.0, 1.0, 3),
            "exponential_buckets_range: max must be finite and greater than min",
        ),
        (exponential_buckets_range(1.0, 10.0, 1), "exponential_buckets_range: count must be at least 2"),
    ];
    for (result, want) in cases {
        assert_eq!(result.map_err(message), Err(want.to_owned()));
    }
    // A trailing `+Inf` is fine: it is dropped, as Go does.
    assert_eq!(Buckets::new([1.0, f64::INFINITY]).unwrap().bounds(), [1.0]);
}

#[test]
fn label_lookups_say_what_the_family_takes() {
    let r = Registry::new();
    let hits = Counter::builder("hits_total").help("H.").labels(["method", "code"]).register(&r).unwrap();
    let one = Counter::builder("one_total").help("O.").labels(["method"]).register(&r).unwrap();
    assert_eq!(
        message(hits.with_label_values(&["GET"]).unwrap_err()),
        "`hits_total` takes 2 label values (method, code), got 1"
    );
    assert_eq!(
        message(one.with_label_values(&["GET", "200"]).unwrap_err()),
        "`one_total` takes 1 label value (method), got 2"
    );
    assert_eq!(
        message(hits.remove_by(&[("methd", "GET")]).unwrap_err()),
        "`hits_total` has no label `methd` (its labels: method, code)"
    );
    assert_eq!(
        message(hits.curry_with(&[("method", "GET"), ("method", "PUT")]).unwrap_err()),
        "label `method` given twice for `hits_total`"
    );
    // A failed lookup creates nothing.
    assert_eq!(r.encode_text_string().unwrap(), "");
}

#[test]
fn name_errors_name_the_fix() {
    let cases = [
        (
            Counter::builder("2xx_total").build().map(drop),
            "invalid metric name `2xx_total`: a name cannot start with a digit",
        ),
        (Counter::builder("").build().map(drop), "invalid metric name ``: a name cannot be empty"),
        (
            Counter::builder("x_total").labels(["__x"]).build().map(drop),
            "invalid label name `__x` on `x_total`: names starting with `__` are reserved for Prometheus",
        ),
        (
            Summary::builder("s").labels(["quantile"]).build().map(drop),
            "label `quantile` is reserved on summary `s`: Prometheus writes each quantile in it; name your label \
             something else",
        ),
        (
            Counter::builder("x_total").labels(["a", "a"]).build().map(drop),
            "label `a` appears twice on `x_total`; each label name may appear once",
        ),
        // On a counter the unit goes before `_total`.
        (
            Counter::builder("took_total").unit("seconds").build().map(drop),
            "the name `took_total` does not end in its unit `seconds`, as OpenMetrics requires: name it \
             `took_seconds_total`, or leave the unit out",
        ),
    ];
    for (result, want) in cases {
        assert_eq!(result.map_err(message), Err(want.to_owned()));
    }
    assert_eq!(
        message(Quantiles::new([(1.5, 0.01)]).unwrap_err()),
        "invalid summary objective 1.5 (error 0.01): quantiles and errors must be in [0, 1], each quantile once"
    );
}
