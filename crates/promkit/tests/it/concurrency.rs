//! Scrapes while four threads hammer counters (shared and thread-local), a labelled family, a
//! dense typed family, gauges and a histogram: every scrape must be consistent, no counter may
//! go back between scrapes, and the final exposition is exact.

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use promkit::{Buckets, Counter, Format, Gauge, GaugeF64, Histogram, LabelSet, Registry};

const THREADS: usize = 4;
const OPS: u64 = 250_000;

#[derive(Debug, Clone, LabelSet)]
struct Parity {
    even: bool,
}

/// One scrape as `(series, value)` pairs in written order; the series is everything before the
/// value (name and labels), so text and OpenMetrics are read alike.
fn parse(body: &str) -> Vec<(&str, f64)> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("no value in {l:?}"));
            (series, value.parse().unwrap_or_else(|e| panic!("{l:?}: {e}")))
        })
        .collect()
}

/// Checks one scrape on its own and against the previous scrape of the same format.
fn check_scrape(body: &str, previous: &mut BTreeMap<String, f64>) {
    let samples = parse(body);
    let mut last_bucket = 0.0;
    let mut inf_bucket = None;
    for &(series, value) in &samples {
        if series.starts_with("op_value_bucket") {
            assert!(value >= last_bucket, "buckets decrease at {series}: {value} < {last_bucket}\n{body}");
            last_bucket = value;
            if series.contains("le=\"+Inf\"") {
                inf_bucket = Some(value);
            }
        }
        if series == "op_value_count" {
            assert_eq!(Some(value), inf_bucket, "_count differs from the +Inf bucket\n{body}");
        }
        if series == "inflight" {
            assert!((0.0..=THREADS as f64).contains(&value), "inflight {value}");
            continue; // a gauge: it may go down
        }
        // Every other series only grows: counters, the float sum of positive adds, and the
        // histogram's buckets, sum and count.
        if let Some(&before) = previous.get(series) {
            assert!(value >= before, "{series} went back from {before} to {value}");
        }
        previous.insert(series.to_owned(), value);
    }
    assert!(inf_bucket.is_some(), "no histogram in\n{body}");
}

#[test]
fn scrapes_during_heavy_updates_are_consistent_and_the_totals_exact() {
    let r = Registry::new();
    let shared = Counter::builder("shared_total").help("Shared.").register(&r).unwrap();
    let local = Counter::builder("local_total").help("Local handles.").register(&r).unwrap();
    let family = Counter::builder("by_thread_total")
        .help("By thread.")
        .labels(["thread", "kind"])
        .register(&r)
        .unwrap();
    let typed =
        Counter::builder("parity_total").help("Parity.").typed_labels::<Parity>().register(&r).unwrap();
    let float_sum = GaugeF64::builder("float_sum").help("Sum of halves.").register(&r).unwrap();
    let inflight = Gauge::builder("inflight").help("In flight.").register(&r).unwrap();
    let hist = Histogram::builder("op_value")
        .help("Values.")
        .buckets(Buckets::new([1.0, 2.0, 3.0]).unwrap())
        .register(&r)
        .unwrap();

    let done = AtomicBool::new(false);
    let scrapes = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (shared, local, family, typed) = (&shared, &local, &family, &typed);
                let (float_sum, inflight, hist) = (&float_sum, &inflight, &hist);
                s.spawn(move || {
                    let thread = t.to_string();
                    let mine = local.local();
                    for j in 0..OPS {
                        let _guard = inflight.track_inflight();
                        shared.inc();
                        mine.inc();
                        let kind = if j % 3 == 0 { "three" } else { "other" };
                        family.with_label_values(&[&thread, kind]).unwrap().inc();
                        typed.with(&Parity { even: j % 2 == 0 }, Counter::inc);
                        float_sum.add(0.5);
                        // 0.5, 1.5, 2.5, 3.5: one per bucket, sums exact in any order.
                        hist.observe((j % 4) as f64 + 0.5);
                    }
                })
            })
            .collect();
        let scraper = s.spawn(|| {
            let mut previous = [BTreeMap::new(), BTreeMap::new()];
            let mut buf = Vec::new();
            let mut scrapes = 0u32;
            // At least one scrape, then until the workers are done.
            loop {
                let finished = done.load(Ordering::Acquire);
                for (i, format) in [Format::Text, Format::OPENMETRICS].into_iter().enumerate() {
                    buf.clear();
                    r.encode(format, &mut buf).unwrap();
                    check_scrape(std::str::from_utf8(&buf).unwrap(), &mut previous[i]);
                }
                scrapes += 1;
                if finished {
                    return scrapes;
                }
            }
        });
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
        scraper.join().unwrap()
    });
    eprintln!("{scrapes} scrapes in each format while updating");

    let total = THREADS as u64 * OPS;
    let threes = OPS.div_ceil(3);
    let mut expected = String::new();
    expected.push_str("# HELP by_thread_total By thread.\n# TYPE by_thread_total counter\n");
    // Series sort by label values, taken in label-name order: kind, then thread.
    for kind in ["other", "three"] {
        for t in 0..THREADS {
            let n = if kind == "three" { threes } else { OPS - threes };
            expected.push_str(&format!("by_thread_total{{kind=\"{kind}\",thread=\"{t}\"}} {}\n", go_int(n)));
        }
    }
    expected.push_str(&format!(
        "# HELP float_sum Sum of halves.\n# TYPE float_sum gauge\nfloat_sum {}\n",
        go_int(total / 2)
    ));
    expected.push_str("# HELP inflight In flight.\n# TYPE inflight gauge\ninflight 0\n");
    expected.push_str(&format!(
        "# HELP local_total Local handles.\n# TYPE local_total counter\nlocal_total {}\n",
        go_int(total)
    ));
    let quarter = total / 4;
    expected.push_str(&format!(
        concat!(
            "# HELP op_value Values.\n# TYPE op_value histogram\n",
            "op_value_bucket{{le=\"1\"}} {}\nop_value_bucket{{le=\"2\"}} {}\nop_value_bucket{{le=\"3\"}} {}\n",
            "op_value_bucket{{le=\"+Inf\"}} {}\nop_value_sum {}\nop_value_count {}\n",
        ),
        go_int(quarter),
        go_int(2 * quarter),
        go_int(3 * quarter),
        go_int(total),
        go_int(quarter * 8), // 0.5 + 1.5 + 2.5 + 3.5 per four observations
        go_int(total),
    ));
    expected.push_str(&format!(
        "# HELP parity_total Parity.\n# TYPE parity_total counter\nparity_total{{even=\"false\"}} {}\nparity_total{{even=\"true\"}} {}\n",
        go_int(total / 2),
        go_int(total / 2)
    ));
    expected.push_str(&format!(
        "# HELP shared_total Shared.\n# TYPE shared_total counter\nshared_total {}\n",
        go_int(total)
    ));
    assert_eq!(crate::text(&r), expected);
}

/// Four threads increment four series through cached lookups (both forms) while a fifth keeps
/// removing them: every increment lands either on a series still exported or on one that was
/// removed, and the two add up to exactly what was done. The workers go on until the remover
/// has removed a number of series (hits are fast enough for them to finish a fixed count before
/// the remover is first scheduled), within a bound that fails the test if it never does.
#[test]
fn removals_during_cached_lookups_keep_the_totals_exact() {
    const OPS: u64 = 100_000;
    const REMOVALS: usize = 64;
    const MAX_OPS: u64 = 1_000 * OPS;
    let r = Registry::new();
    let f = Counter::builder("churn_total").labels(["k"]).register(&r).unwrap();
    let keys = ["a", "b", "c", "d"];
    let done = AtomicBool::new(false);
    let removals = AtomicUsize::new(0);
    let (ops, removed) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (f, removals) = (&f, &removals);
                s.spawn(move || {
                    let mut i = 0;
                    // Relaxed: the count only decides when to stop; the joins order the rest.
                    while i < OPS || (removals.load(Ordering::Relaxed) < REMOVALS && i < MAX_OPS) {
                        let k = keys[(i as usize + t) % keys.len()];
                        if i % 2 == 0 {
                            f.with_series(&[k], |c| c.inc()).unwrap();
                        } else {
                            f.with_label_values(&[k]).unwrap().inc();
                        }
                        i += 1;
                    }
                    i
                })
            })
            .collect();
        let remover = s.spawn(|| {
            let mut removed = Vec::new();
            // Relaxed: only ends the loop; the joins below order everything else.
            while !done.load(Ordering::Relaxed) {
                for k in keys {
                    // Only this thread removes, so the series read here is the one removed.
                    if let Some(c) = f.get_existing(&[k]).unwrap() {
                        assert!(f.remove(&[k]).unwrap());
                        removed.push(c);
                        removals.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::yield_now();
            }
            removed
        });
        let ops: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        done.store(true, Ordering::Relaxed);
        (ops, remover.join().unwrap())
    });
    assert!(
        removed.len() >= REMOVALS,
        "waited for {REMOVALS} removals while the workers did up to {MAX_OPS} lookups each; saw {}",
        removed.len()
    );
    let live: u64 = keys.iter().filter_map(|k| f.get_existing(&[k]).unwrap()).map(|c| c.get()).sum();
    let gone: u64 = removed.iter().map(Counter::get).sum();
    assert_eq!(live + gone, ops, "{} removals", removed.len());
}

/// A lookup that starts after `remove`, `remove_partial_match` or `clear` returned on another
/// thread never gets the removed series back from its thread's cache.
#[test]
fn a_lookup_after_a_removal_on_another_thread_gets_a_new_series() {
    const ROUNDS: usize = 3_000;
    let r = Registry::new();
    let f = Counter::builder("handoff_total").labels(["k", "v"]).register(&r).unwrap();
    let step = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 0..ROUNDS {
                step.wait(); // the series exists and this thread's cache holds it
                match round % 3 {
                    0 => assert!(f.remove(&["x", "1"]).unwrap()),
                    1 => assert_eq!(f.remove_partial_match(&[("k", "x")]), 1),
                    _ => f.clear(),
                }
                step.wait(); // the removal has returned
            }
        });
        // Failures are collected, not asserted here: a panic between the barriers would leave
        // the other thread waiting forever.
        let mut stale = Vec::new();
        for round in 0..ROUNDS {
            let old = f.with_label_values(&["x", "1"]).unwrap();
            f.with_series(&["x", "1"], |c| c.inc()).unwrap();
            step.wait();
            step.wait();
            let new = f.with_series(&["x", "1"], Counter::clone).unwrap();
            if new.same_as(&old) || (old.get(), new.get()) != (1, 0) {
                stale.push(round);
            }
        }
        assert!(stale.is_empty(), "the removed series came back from the cache in rounds {stale:?}");
    });
}

/// An integer as Go writes a float64 holding it: exponent form from a million.
fn go_int(n: u64) -> String {
    if n < 1_000_000 {
        return n.to_string();
    }
    let digits = n.to_string();
    let mantissa = digits.trim_end_matches('0');
    let exp = digits.len() - 1;
    match &mantissa[1..] {
        "" => format!("{}e+{exp:02}", &mantissa[..1]),
        rest => format!("{}.{rest}e+{exp:02}", &mantissa[..1]),
    }
}

#[test]
fn go_int_matches_go() {
    assert_eq!(go_int(999_999), "999999");
    assert_eq!(go_int(1_000_000), "1e+06");
    assert_eq!(go_int(1_250_000), "1.25e+06");
    assert_eq!(go_int(83_334), "83334");
    assert_eq!(go_int(500_000_000), "5e+08");
}
