//! Each facade call, and what the exposition shows for it.

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
    with_local_recorder,
};
use promkit::{Buckets, Quantiles, Registry};
use promkit_metrics::{HistogramMode, Matcher, PromkitRecorder};

use crate::{om, text};

#[test]
fn counters_and_gauges_behave_as_the_facade_documents() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    with_local_recorder(&recorder, || {
        let c = counter!("requests_total", "method" => "GET");
        c.increment(2);
        c.absolute(10); // raises to 10
        c.absolute(7); // a late, smaller total: no change
        c.increment(1);
        counter!("requests_total", "method" => "POST").absolute(4);
        let g = gauge!("in_flight");
        g.set(5.0);
        g.increment(2.5);
        g.decrement(1.0);
        gauge!("temperature", "room" => "a").set(-3.25);
    });
    assert_eq!(
        text(&registry),
        "\
# HELP in_flight 
# TYPE in_flight gauge
in_flight 6.5
# HELP requests_total 
# TYPE requests_total counter
requests_total{method=\"GET\"} 11
requests_total{method=\"POST\"} 4
# HELP temperature 
# TYPE temperature gauge
temperature{room=\"a\"} -3.25
"
    );
}

#[test]
fn labels_in_any_order_and_mapped_names_reach_one_series() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    with_local_recorder(&recorder, || {
        counter!("http.hits-total", "a" => "1", "b" => "2").increment(1);
        counter!("http.hits-total", "b" => "2", "a" => "1").increment(1);
        counter!("http.hits-total", "http.method" => "GET", "__raw" => "x", "1st" => "\"q\"").increment(1);
        counter!("5xx").increment(1);
    });
    assert_eq!(
        text(&registry),
        "\
# HELP _xx 
# TYPE _xx counter
_xx 1
# HELP http_hits_total 
# TYPE http_hits_total counter
http_hits_total{a=\"1\",b=\"2\"} 2
http_hits_total{_st=\"\\\"q\\\"\",exported___raw=\"x\",http_method=\"GET\"} 1
"
    );
}

#[test]
fn describe_reaches_help_and_unit_before_or_after_the_first_update() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::builder(&registry).default_buckets(Buckets::new([1.0]).unwrap()).build();
    with_local_recorder(&recorder, || {
        describe_counter!("cpu_seconds_total", Unit::Seconds, "CPU time.\nTwo lines.");
        counter!("cpu_seconds_total").increment(3);
        gauge!("heap_bytes").set(1024.0);
        describe_gauge!("heap_bytes", Unit::Bytes, "Heap in use.");
        // A unit the name does not end with is left out (OpenMetrics requires the suffix).
        describe_histogram!("took", Unit::Seconds, "Took.");
        histogram!("took").record(0.5);
    });
    assert_eq!(
        om(&registry),
        "\
# HELP cpu_seconds Cpu time.
"
        .replace("Cpu time.", "CPU time.\\nTwo lines.")
            + "\
# TYPE cpu_seconds counter
# UNIT cpu_seconds seconds
cpu_seconds_total 3.0
# HELP heap_bytes Heap in use.
# TYPE heap_bytes gauge
# UNIT heap_bytes bytes
heap_bytes 1024.0
# HELP took Took.
# TYPE took histogram
took_bucket{le=\"1.0\"} 1
took_bucket{le=\"+Inf\"} 1
took_sum 0.5
took_count 1
# EOF
"
    );
    assert!(text(&registry).contains("# HELP cpu_seconds_total CPU time.\\nTwo lines.\n"));
}

#[test]
fn buckets_are_chosen_per_name_first_matcher_wins() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::builder(&registry)
        .buckets_for(Matcher::Full("db_query_seconds".into()), Buckets::new([0.01]).unwrap())
        .buckets_for(Matcher::Suffix("_seconds".into()), Buckets::new([1.0]).unwrap())
        .buckets_for(Matcher::Prefix("size_".into()), Buckets::new([100.0]).unwrap())
        .default_buckets(Buckets::new([5.0]).unwrap())
        .build();
    with_local_recorder(&recorder, || {
        for name in ["db_query_seconds", "http_seconds", "size_bytes", "other"] {
            histogram!(name).record(0.001);
        }
    });
    let t = text(&registry);
    for line in [
        "db_query_seconds_bucket{le=\"0.01\"} 1",
        "http_seconds_bucket{le=\"1\"} 1",
        "size_bytes_bucket{le=\"100\"} 1",
        "other_bucket{le=\"5\"} 1",
    ] {
        assert!(t.contains(line), "{line} in\n{t}");
    }
    assert_eq!(t.matches("_bucket{").count(), 8, "{t}");
}

#[test]
fn histograms_can_be_summaries_or_native() {
    let registry = Registry::new();
    let q = Quantiles::new([(0.5, 0.05)]).unwrap();
    let recorder = PromkitRecorder::builder(&registry).histograms(HistogramMode::Summary(q)).build();
    with_local_recorder(&recorder, || {
        let h = histogram!("rpc_seconds", "quantile" => "x");
        h.record(2.0);
        h.record_many(4.0, 2);
    });
    assert_eq!(
        text(&registry),
        "\
# HELP rpc_seconds 
# TYPE rpc_seconds summary
rpc_seconds{exported_quantile=\"x\",quantile=\"0.5\"} 4
rpc_seconds_sum{exported_quantile=\"x\"} 10
rpc_seconds_count{exported_quantile=\"x\"} 3
"
    );

    let registry = Registry::new();
    let native = promkit::NativeOptions::default();
    let recorder = PromkitRecorder::builder(&registry)
        .histograms(HistogramMode::Native(native))
        .buckets_for(Matcher::Full("both".into()), Buckets::new([1.0]).unwrap())
        .build();
    with_local_recorder(&recorder, || {
        histogram!("native_only", "le" => "x").record(1.5);
        histogram!("both").record(1.5);
    });
    let families = registry.gather().unwrap();
    let native_only = families.iter().find(|f| f.name == "native_only").unwrap();
    let both = families.iter().find(|f| f.name == "both").unwrap();
    let dbg = format!("{native_only:?}");
    assert!(dbg.contains("exported_le"), "{dbg}");
    assert!(dbg.contains("schema"), "a native histogram: {dbg}");
    let dbg = format!("{both:?}");
    assert!(dbg.contains("schema") && dbg.contains("1.0"), "native and classic: {dbg}");
}

#[test]
fn one_name_may_carry_several_label_sets_under_one_header() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    with_local_recorder(&recorder, || {
        counter!("events_total").increment(1);
        counter!("events_total", "kind" => "a").increment(2);
    });
    assert_eq!(
        text(&registry),
        "\
# HELP events_total 
# TYPE events_total counter
events_total 1
events_total{kind=\"a\"} 2
"
    );
}

/// Past the handle cache's bound (4,096 keys), calls resolve through the promkit family each
/// time and land in the same series as before: every count is exact, across all three kinds.
#[test]
fn keys_past_the_handle_cache_still_reach_their_series() {
    const KEYS: usize = 6_000;
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    with_local_recorder(&recorder, || {
        for round in 0..3 {
            for i in 0..KEYS {
                counter!("jobs_total", "id" => i.to_string()).increment(1);
                gauge!("depth", "id" => i.to_string()).set(round as f64);
                histogram!("took_seconds", "id" => i.to_string()).record(0.5);
            }
        }
    });
    let out = text(&registry);
    let series = |prefix: &str| out.lines().filter(|l| l.starts_with(prefix)).collect::<Vec<_>>();
    let jobs = series("jobs_total{");
    assert_eq!(jobs.len(), KEYS);
    assert!(jobs.iter().all(|l| l.ends_with("} 3")), "{:?}", jobs.iter().find(|l| !l.ends_with("} 3")));
    let depth = series("depth{");
    assert_eq!(depth.len(), KEYS);
    assert!(depth.iter().all(|l| l.ends_with("} 2")));
    let counts = series("took_seconds_count{");
    assert_eq!(counts.len(), KEYS);
    assert!(counts.iter().all(|l| l.ends_with("} 3")));
    assert!(out.contains("jobs_total{id=\"5999\"} 3\n"), "the last key, far past the cache");
}

/// A thread remembers the handles it resolved recently; one thread recording the same keys
/// into several recorders (a test harness, a library with its own recorder) must still reach
/// each recorder's own series, including a recorder made after another was dropped.
#[test]
fn one_thread_alternating_recorders_reaches_each_ones_series() {
    let (a, b) = (Registry::new(), Registry::new());
    let (ra, rb) = (PromkitRecorder::new(&a), PromkitRecorder::new(&b));
    for round in 1..=3u64 {
        with_local_recorder(&ra, || counter!("hits_total", "route" => "/").increment(round));
        with_local_recorder(&rb, || {
            counter!("hits_total", "route" => "/").increment(10 * round);
            gauge!("depth").set(round as f64);
        });
        with_local_recorder(&ra, || gauge!("depth").set(-(round as f64)));
    }
    assert!(text(&a).contains("hits_total{route=\"/\"} 6\n"), "{}", text(&a));
    assert!(text(&a).contains("depth -3\n"), "{}", text(&a));
    assert!(text(&b).contains("hits_total{route=\"/\"} 60\n"), "{}", text(&b));
    assert!(text(&b).contains("depth 3\n"), "{}", text(&b));

    // A new recorder (maybe where a dropped one lived) starts from its own empty registry.
    drop(ra);
    let c = Registry::new();
    let rc = PromkitRecorder::new(&c);
    with_local_recorder(&rc, || counter!("hits_total", "route" => "/").increment(1));
    assert!(text(&c).contains("hits_total{route=\"/\"} 1\n"), "{}", text(&c));
    assert!(text(&a).contains("hits_total{route=\"/\"} 6\n"), "the dropped recorder's registry is unchanged");
}
