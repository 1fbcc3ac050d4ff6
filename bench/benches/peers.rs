//! promkit against its peers, one criterion group per scenario and one function per crate.
//!
//! Ids are `<scenario>/<crate>` (`counter_inc/promkit`, `counter_inc/floor_atomic`); the report
//! (`cargo run -p bench --release -- report`) reads them from `target/criterion`. Floors:
//! `floor_plain` is a plain `u64` add through `black_box`, `floor_atomic` a relaxed
//! `AtomicU64::fetch_add`. Every fixture is checked (values counted, expositions complete)
//! outside the timed code, so a crate that does less fails instead of winning.

use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench::check::{Summary, assert_holds, assert_holds_protobuf, expected_counters, expected_histograms};
use bench::peers::{
    with_measured, with_metrics, with_prometheus, with_prometheus_client, with_promkit, with_promkit_metrics,
};
use bench::{GO_BUCKETS, observations};
use criterion::{BatchSize, Bencher, Criterion, Throughput, criterion_group, criterion_main};
use crossbeam_utils::CachePadded;

/// Runs `body` on two threads at once and returns the longer of their timed sections.
///
/// Each thread does its own setup, then calls `start.wait()` and times only its `iters`
/// operations, so thread start-up and per-thread handles stay outside the measurement.
fn two_threads<T: Sync>(
    shared: &T,
    iters: u64,
    body: impl Fn(&T, u64, &Barrier) -> Duration + Sync,
) -> Duration {
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        let a = s.spawn(|| body(shared, iters, &start));
        let b = s.spawn(|| body(shared, iters, &start));
        let a = a.join().expect("bench thread");
        let b = b.join().expect("bench thread");
        a.max(b)
    })
}

/// Times `iters` calls of `op` after `start` releases both threads.
#[inline]
fn timed(iters: u64, start: &Barrier, mut op: impl FnMut()) -> Duration {
    start.wait();
    let t = Instant::now();
    for _ in 0..iters {
        op();
    }
    t.elapsed()
}

/// `iter_custom` for a two-thread scenario whose total count can be read back: checks that
/// every increment of both threads landed.
fn contended_counter<T: Sync>(
    b: &mut Bencher<'_>,
    shared: &T,
    read: impl Fn(&T) -> u64,
    body: impl Fn(&T, u64, &Barrier) -> Duration + Sync + Copy,
) {
    b.iter_custom(|iters| {
        let before = read(shared);
        let d = two_threads(shared, iters, body);
        assert_eq!(read(shared) - before, 2 * iters, "increments were lost");
        d
    });
}

fn counter_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc");

    g.bench_function("floor_plain", |b| {
        let mut x = 0u64;
        b.iter(|| x = black_box(x).wrapping_add(1));
        assert!(x > 0);
    });
    let atomic = AtomicU64::new(0);
    g.bench_function("floor_atomic", |b| {
        b.iter(|| atomic.fetch_add(1, Ordering::Relaxed));
    });

    let r = promkit::Registry::new();
    let pk = promkit::Counter::builder("c_total").help("c").register(&r).expect("registers");
    g.bench_function("promkit", |b| {
        b.iter(|| pk.inc());
        assert!(pk.get() > 0);
    });
    g.bench_function("promkit_local", |b| {
        let local = pk.local();
        let before = pk.get();
        b.iter(|| local.inc());
        assert!(pk.get() > before);
    });

    let prom = prometheus::IntCounter::new("c_total", "c").expect("valid");
    g.bench_function("prometheus", |b| {
        b.iter(|| prom.inc());
        assert!(prom.get() > 0);
    });

    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    g.bench_function("prometheus_client", |b| {
        b.iter(|| pc.inc());
        assert!(pc.get() > 0);
    });

    let rec = with_metrics::recorder();
    let mc = metrics::with_local_recorder(&rec, || metrics::counter!("c_total"));
    let handle = rec.handle();
    g.bench_function("metrics", |b| {
        b.iter(|| mc.increment(1));
        assert!(handle.render().contains("c_total "));
    });

    let me = measured::Counter::new();
    g.bench_function("measured", |b| {
        b.iter(|| me.inc());
        assert!(me.get_metric().count.load(Ordering::Relaxed) > 0);
    });
    g.finish();
}

fn counter_inc_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc_contended");

    // Each thread adds to its own cache line: what a perfectly sharded counter could cost.
    let plain = [CachePadded::new(AtomicU64::new(0)), CachePadded::new(AtomicU64::new(0))];
    let next = AtomicU64::new(0);
    g.bench_function("floor_plain", |b| {
        b.iter_custom(|iters| {
            two_threads(&plain, iters, |cells, iters, start| {
                let cell = &cells[(next.fetch_add(1, Ordering::Relaxed) % 2) as usize];
                let mut x = cell.load(Ordering::Relaxed);
                let d = timed(iters, start, || x = black_box(x).wrapping_add(1));
                cell.store(x, Ordering::Relaxed);
                d
            })
        });
    });
    let atomic = AtomicU64::new(0);
    g.bench_function("floor_atomic", |b| {
        contended_counter(
            b,
            &atomic,
            |a| a.load(Ordering::Relaxed),
            |a, iters, start| {
                timed(iters, start, || {
                    a.fetch_add(1, Ordering::Relaxed);
                })
            },
        );
    });

    let r = promkit::Registry::new();
    let pk = promkit::Counter::builder("c_total").help("c").register(&r).expect("registers");
    g.bench_function("promkit", |b| {
        contended_counter(b, &pk, promkit::Counter::get, |c, iters, start| timed(iters, start, || c.inc()));
    });
    g.bench_function("promkit_local", |b| {
        contended_counter(b, &pk, promkit::Counter::get, |c, iters, start| {
            let local = c.local();
            timed(iters, start, || local.inc())
        });
    });

    let prom = prometheus::IntCounter::new("c_total", "c").expect("valid");
    g.bench_function("prometheus", |b| {
        contended_counter(b, &prom, prometheus::IntCounter::get, |c, iters, start| {
            timed(iters, start, || c.inc())
        });
    });

    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    g.bench_function("prometheus_client", |b| {
        contended_counter(b, &pc, prometheus_client::metrics::counter::Counter::get, |c, iters, start| {
            timed(iters, start, || {
                c.inc();
            })
        });
    });

    let rec = with_metrics::recorder();
    let mc = metrics::with_local_recorder(&rec, || metrics::counter!("c_total"));
    g.bench_function("metrics", |b| {
        // metrics' handle has no read-back; the exposition shows it counted.
        b.iter_custom(|iters| {
            two_threads(&mc, iters, |c, iters, start| timed(iters, start, || c.increment(1)))
        });
        assert!(rec.handle().render().contains("c_total "));
    });

    let me = measured::Counter::new();
    g.bench_function("measured", |b| {
        contended_counter(
            b,
            &me,
            |c| c.get_metric().count.load(Ordering::Relaxed),
            |c, iters, start| timed(iters, start, || c.inc()),
        );
    });
    g.finish();
}

/// The observation stream: `OBS[i & 63]`, the same for every crate.
struct Obs {
    values: [f64; 64],
    i: usize,
}

impl Obs {
    fn new() -> Self {
        Self { values: observations(), i: 0 }
    }

    #[inline]
    fn next(&mut self) -> f64 {
        self.i = (self.i + 1) & 63;
        self.values[self.i]
    }
}

fn histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe");

    let r = promkit::Registry::new();
    let pk = promkit::Histogram::builder("h_seconds").help("h").register(&r).expect("registers");
    g.bench_function("promkit", |b| {
        let mut o = Obs::new();
        b.iter(|| pk.observe(o.next()));
        assert!(pk.count() > 0);
    });

    let prom =
        prometheus::Histogram::with_opts(with_prometheus::histogram_opts("h_seconds", "h")).expect("valid");
    g.bench_function("prometheus", |b| {
        let mut o = Obs::new();
        b.iter(|| prom.observe(o.next()));
        assert!(prom.get_sample_count() > 0);
    });

    let pc = with_prometheus_client::histogram();
    g.bench_function("prometheus_client", |b| {
        let mut o = Obs::new();
        b.iter(|| pc.observe(o.next()));
        assert!(pc.count() > 0);
    });

    let rec = with_metrics::recorder();
    let mh = metrics::with_local_recorder(&rec, || metrics::histogram!("h_seconds"));
    let handle = rec.handle();
    g.bench_function("metrics", |b| {
        // metrics keeps raw samples until a scrape or upkeep sorts them into buckets; that
        // drain runs here outside the timing, so memory stays bounded.
        let mut o = Obs::new();
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                mh.record(o.next());
            }
            let d = t.elapsed();
            handle.run_upkeep();
            d
        });
        assert!(handle.render().contains("h_seconds_count "));
    });

    let me = measured::Histogram::with_metadata(with_measured::thresholds());
    g.bench_function("measured", |b| {
        let mut o = Obs::new();
        b.iter(|| me.observe(o.next()));
    });
    g.finish();
}

fn histogram_observe_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe_contended");

    let r = promkit::Registry::new();
    let pk = promkit::Histogram::builder("h_seconds").help("h").register(&r).expect("registers");
    g.bench_function("promkit", |b| {
        contended_counter(b, &pk, promkit::Histogram::count, |h, iters, start| {
            let mut o = Obs::new();
            timed(iters, start, || h.observe(o.next()))
        });
    });

    let prom =
        prometheus::Histogram::with_opts(with_prometheus::histogram_opts("h_seconds", "h")).expect("valid");
    g.bench_function("prometheus", |b| {
        contended_counter(b, &prom, prometheus::Histogram::get_sample_count, |h, iters, start| {
            let mut o = Obs::new();
            timed(iters, start, || h.observe(o.next()))
        });
    });

    let pc = with_prometheus_client::histogram();
    g.bench_function("prometheus_client", |b| {
        contended_counter(
            b,
            &pc,
            prometheus_client::metrics::histogram::Histogram::count,
            |h, iters, start| {
                let mut o = Obs::new();
                timed(iters, start, || h.observe(o.next()))
            },
        );
    });

    let rec = with_metrics::recorder();
    let mh = metrics::with_local_recorder(&rec, || metrics::histogram!("h_seconds"));
    let handle = rec.handle();
    g.bench_function("metrics", |b| {
        b.iter_custom(|iters| {
            let d = two_threads(&mh, iters, |h, iters, start| {
                let mut o = Obs::new();
                timed(iters, start, || h.record(o.next()))
            });
            handle.run_upkeep();
            d
        });
    });

    let me = measured::Histogram::with_metadata(with_measured::thresholds());
    g.bench_function("measured", |b| {
        b.iter_custom(|iters| {
            two_threads(&me, iters, |h, iters, start| {
                let mut o = Obs::new();
                timed(iters, start, || h.observe(o.next()))
            })
        });
    });
    g.finish();
}

fn labeled_counter_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("labeled_counter_inc");

    let r = promkit::Registry::new();
    let pk = promkit::Counter::builder("req_total")
        .help("r")
        .labels(["method", "status"])
        .register(&r)
        .expect("registers");
    g.bench_function("promkit_str", |b| {
        b.iter(|| {
            pk.with_label_values(&[black_box("GET"), black_box("200")]).expect("two values").inc();
        });
        let text = r.encode_text_string().expect("encodes");
        assert!(text.contains("req_total{method=\"GET\",status=\"200\"} "));
    });
    g.bench_function("promkit_with_series", |b| {
        b.iter(|| {
            pk.with_series(&[black_box("GET"), black_box("200")], |c| c.inc()).expect("two values");
        });
        assert!(pk.with_series(&["GET", "200"], |c| c.get()).expect("two values") > 0);
    });
    let pk_typed = promkit::Counter::builder("req_typed_total")
        .help("r")
        .typed_labels::<with_promkit::Request>()
        .register(&r)
        .expect("registers");
    let pk_labels =
        with_promkit::Request { method: with_promkit::Method::Get, status: with_promkit::Status::Ok };
    g.bench_function("promkit_typed", |b| {
        b.iter(|| pk_typed.with(black_box(&pk_labels), |c| c.inc()));
        let text = r.encode_text_string().expect("encodes");
        assert!(text.contains("req_typed_total{method=\"GET\",status=\"200\"} "));
    });

    let prom = prometheus::IntCounterVec::new(prometheus::Opts::new("req_total", "r"), &["method", "status"])
        .expect("valid");
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            prom.with_label_values(&[black_box("GET"), black_box("200")]).inc();
        });
        assert!(prom.with_label_values(&["GET", "200"]).get() > 0);
    });

    type PcFamily<S> =
        prometheus_client::metrics::family::Family<S, prometheus_client::metrics::counter::Counter>;
    let pc = PcFamily::<with_prometheus_client::RequestStr>::default();
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            pc.get_or_create(&with_prometheus_client::RequestStr {
                method: black_box("GET"),
                status: black_box("200"),
            })
            .inc();
        });
    });
    let pc_typed = PcFamily::<with_prometheus_client::Request>::default();
    let pc_labels = with_prometheus_client::Request {
        method: with_prometheus_client::Method::Get,
        status: with_prometheus_client::Status::Ok,
    };
    g.bench_function("prometheus_client_typed", |b| {
        b.iter(|| {
            pc_typed.get_or_create(black_box(&pc_labels)).inc();
        });
    });

    let rec = with_metrics::recorder();
    g.bench_function("metrics", |b| {
        // Literal label values: the macro then builds a static key and allocates nothing;
        // runtime values would allocate a label `Vec` on every call.
        b.iter(|| {
            metrics::with_local_recorder(&rec, || {
                metrics::counter!("req_total", "method" => "GET", "status" => "200").increment(1);
            });
        });
        assert!(rec.handle().render().contains("req_total{method=\"GET\",status=\"200\"} "));
    });
    // The same macro call, recorded by promkit-metrics into a promkit registry.
    let pkm = with_promkit_metrics::recorder();
    g.bench_function("promkit_metrics", |b| {
        b.iter(|| {
            metrics::with_local_recorder(&pkm, || {
                metrics::counter!("req_total", "method" => "GET", "status" => "200").increment(1);
            });
        });
        let text = pkm.registry().encode_text_string().expect("encodes");
        assert!(text.contains("req_total{method=\"GET\",status=\"200\"} "), "{text}");
    });

    let me = with_measured::str_counter_vec();
    g.bench_function("measured_str", |b| {
        b.iter(|| {
            me.inc(with_measured::RequestStr { method: black_box("GET"), status: black_box("200") });
        });
    });
    let me_typed = with_measured::typed_counter_vec();
    let me_labels =
        with_measured::Request { method: with_measured::Method::Get, status: with_measured::Status::Ok };
    g.bench_function("measured_typed", |b| {
        b.iter(|| me_typed.inc(*black_box(&me_labels)));
    });
    g.finish();
}

/// String-labelled lookups on two threads at once, of the same series and of different ones
/// (`method` GET on both, or GET and POST): promkit's lookup cache is per thread, so different
/// series share nothing written; the peers' tables take a shared read lock.
fn labeled_counter_inc_contended(c: &mut Criterion) {
    for (scenario, methods) in [("same", ["GET", "GET"]), ("different", ["GET", "POST"])] {
        let mut g = c.benchmark_group(format!("labeled_counter_inc_contended_{scenario}"));
        let total = |read: &dyn Fn(&str) -> u64| {
            if methods[0] == methods[1] { read(methods[0]) } else { read(methods[0]) + read(methods[1]) }
        };
        // Thread `t` of the two looks up `methods[t]`; `two_threads` runs one body per thread.
        let next = AtomicU64::new(0);
        let method = || methods[(next.fetch_add(1, Ordering::Relaxed) % 2) as usize];

        let r = promkit::Registry::new();
        let pk = promkit::Counter::builder("req_total")
            .help("r")
            .labels(["method", "status"])
            .register(&r)
            .expect("registers");
        let pk_total = |pk: &promkit::Family<promkit::Counter>| {
            total(&|m| pk.get_existing(&[m, "200"]).expect("two values").map_or(0, |c| c.get()))
        };
        g.bench_function("promkit_str", |b| {
            contended_counter(b, &pk, pk_total, |pk, iters, start| {
                let m = method();
                timed(iters, start, || {
                    pk.with_label_values(&[black_box(m), black_box("200")]).expect("two").inc()
                })
            });
        });
        g.bench_function("promkit_with_series", |b| {
            contended_counter(b, &pk, pk_total, |pk, iters, start| {
                let m = method();
                timed(iters, start, || {
                    pk.with_series(&[black_box(m), black_box("200")], |c| c.inc()).expect("two")
                })
            });
        });

        let prom =
            prometheus::IntCounterVec::new(prometheus::Opts::new("req_total", "r"), &["method", "status"])
                .expect("valid");
        let prom_total =
            |prom: &prometheus::IntCounterVec| total(&|m| prom.with_label_values(&[m, "200"]).get());
        g.bench_function("prometheus", |b| {
            contended_counter(b, &prom, prom_total, |prom, iters, start| {
                let m = method();
                timed(iters, start, || prom.with_label_values(&[black_box(m), black_box("200")]).inc())
            });
        });

        type PcFamily = prometheus_client::metrics::family::Family<
            with_prometheus_client::RequestStr,
            prometheus_client::metrics::counter::Counter,
        >;
        let pc = PcFamily::default();
        let pc_total = |pc: &PcFamily| {
            total(&|m| {
                let m: &'static str = if m == "GET" { "GET" } else { "POST" };
                pc.get_or_create(&with_prometheus_client::RequestStr { method: m, status: "200" }).get()
            })
        };
        g.bench_function("prometheus_client", |b| {
            contended_counter(b, &pc, pc_total, |pc, iters, start| {
                let m = method();
                timed(iters, start, || {
                    pc.get_or_create(&with_prometheus_client::RequestStr {
                        method: black_box(m),
                        status: black_box("200"),
                    })
                    .inc();
                })
            });
        });
        g.finish();
    }
}

/// A pool of `id-{i}` strings grown on demand and shared by every crate's miss-path bench.
struct Ids(Vec<String>);

impl Ids {
    fn take(&mut self, n: usize) -> &[String] {
        let have = self.0.len();
        if have < n {
            self.0.extend((have..n).map(|i| format!("id-{i}")));
        }
        &self.0[..n]
    }
}

fn labeled_new_series(c: &mut Criterion) {
    let mut g = c.benchmark_group("labeled_new_series");
    let mut pool = Ids(Vec::new());

    // Each sample builds a fresh family outside the timing and times creating `iters` series
    // (method, id) with unseen ids; the family is dropped after the clock stops.
    g.bench_function("promkit", |b| {
        b.iter_custom(|iters| {
            let ids = pool.take(iters as usize);
            let r = promkit::Registry::new();
            let fam = promkit::Counter::builder("new_total")
                .help("n")
                .labels(["method", "id"])
                .register(&r)
                .expect("registers");
            let t = Instant::now();
            for id in ids {
                fam.with_label_values(&["GET", id]).expect("two values").inc();
            }
            let d = t.elapsed();
            assert_eq!(fam.len(), ids.len());
            d
        });
    });

    g.bench_function("prometheus", |b| {
        b.iter_custom(|iters| {
            let ids = pool.take(iters as usize);
            let fam =
                prometheus::IntCounterVec::new(prometheus::Opts::new("new_total", "n"), &["method", "id"])
                    .expect("valid");
            let t = Instant::now();
            for id in ids {
                fam.with_label_values(&["GET", id.as_str()]).inc();
            }
            t.elapsed()
        });
    });

    g.bench_function("prometheus_client", |b| {
        b.iter_custom(|iters| {
            let keys: Vec<with_prometheus_client::Series> = pool
                .take(iters as usize)
                .iter()
                .map(|id| with_prometheus_client::Series::new(0, id))
                .collect();
            let fam = prometheus_client::metrics::family::Family::<
                with_prometheus_client::Series,
                prometheus_client::metrics::counter::Counter,
            >::default();
            let t = Instant::now();
            for key in &keys {
                fam.get_or_create(key).inc();
            }
            let d = t.elapsed();
            assert_eq!(fam.len(), keys.len());
            d
        });
    });

    g.bench_function("metrics", |b| {
        b.iter_custom(|iters| {
            // Owned copies made up front: metrics takes label values by value.
            let ids: Vec<String> = pool.take(iters as usize).to_vec();
            let rec = with_metrics::recorder();
            let t = Instant::now();
            metrics::with_local_recorder(&rec, || {
                for id in ids {
                    metrics::counter!("new_total", "method" => "GET", "id" => id).increment(1);
                }
            });
            t.elapsed()
        });
    });

    g.bench_function("measured", |b| {
        b.iter_custom(|iters| {
            let ids = pool.take(iters as usize);
            let fam = with_measured::series_counter_vec();
            let t = Instant::now();
            for id in ids {
                fam.inc(with_measured::Series { method: "GET", id });
            }
            t.elapsed()
        });
    });
    g.finish();
}

/// Registers the text, OpenMetrics and protobuf encode groups for `per_family` series per family.
fn encode_counters(c: &mut Criterion, scenario: &str, per_family: usize) {
    let expected = expected_counters(bench::ENCODE_FAMILIES, per_family);
    let sample_size = if per_family >= 10_000 { 10 } else { 50 };

    let pk = with_promkit::Counters::encode_fixture(per_family);
    let prom = with_prometheus::Counters::encode_fixture(per_family);
    let pc = with_prometheus_client::Counters::encode_fixture(per_family);
    let mr = with_metrics::Counters::encode_fixture(per_family);
    let pkm = with_promkit_metrics::Counters::encode_fixture(per_family);
    let me = with_measured::Counters::encode_fixture(per_family);

    let mut g = c.benchmark_group(format!("{scenario}_text"));
    g.sample_size(sample_size);
    let mut buf = Vec::new();
    pk.encode(promkit::Format::Text, &mut buf);
    assert_holds("promkit text", &buf, &expected);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("promkit", |b| {
        b.iter(|| {
            buf.clear();
            pk.encode(promkit::Format::Text, &mut buf);
        });
    });

    let mut out = Vec::new();
    prom.encode_text(&mut out);
    assert_holds("prometheus text", &out, &expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            out.clear();
            prom.encode_text(&mut out);
        });
    });

    out.clear();
    mr.encode_text(&mut out);
    assert_holds("metrics text", &out, &expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("metrics", |b| {
        b.iter(|| {
            out.clear();
            mr.encode_text(&mut out);
        });
    });

    out.clear();
    pkm.encode_text(&mut out);
    assert_holds("promkit_metrics text", &out, &expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("promkit_metrics", |b| {
        b.iter(|| {
            out.clear();
            pkm.encode_text(&mut out);
        });
    });

    let mut enc = measured::text::BufferedTextEncoder::new();
    me.encode_text(&mut enc);
    let bytes = enc.finish();
    assert_holds("measured text", &bytes, &expected);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    drop(bytes);
    g.bench_function("measured", |b| {
        b.iter(|| {
            me.encode_text(&mut enc);
            enc.finish()
        });
    });
    g.finish();

    let mut g = c.benchmark_group(format!("{scenario}_openmetrics"));
    g.sample_size(sample_size);
    buf.clear();
    pk.encode(promkit::Format::OPENMETRICS, &mut buf);
    assert_holds("promkit openmetrics", &buf, &expected);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("promkit", |b| {
        b.iter(|| {
            buf.clear();
            pk.encode(promkit::Format::OPENMETRICS, &mut buf);
        });
    });

    let mut s = String::new();
    pc.encode_openmetrics(&mut s);
    assert_holds("prometheus_client openmetrics", s.as_bytes(), &expected);
    g.throughput(Throughput::Bytes(s.len() as u64));
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            s.clear();
            pc.encode_openmetrics(&mut s);
        });
    });
    g.finish();

    let mut g = c.benchmark_group(format!("{scenario}_protobuf"));
    g.sample_size(sample_size);
    encode_protobuf_group(
        &mut g,
        &expected,
        |format, out| pk.encode(format, out),
        |out| prom.encode_protobuf(out),
        |out| pc.encode_protobuf(out),
    );
    g.finish();
}

/// The functions of a protobuf encode group: promkit's protobuf and, for the ratio within one
/// group, its text; prometheus' `ProtobufEncoder`; prometheus-client's `MetricFamily` messages
/// written length-delimited by prost. Every output is decoded and checked against `expected`
/// first, so each crate encodes the same series. All write into a reused, cleared `Vec`.
fn encode_protobuf_group(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    expected: &Summary,
    promkit: impl Fn(promkit::Format, &mut Vec<u8>),
    prometheus: impl Fn(&mut Vec<u8>),
    prometheus_client: impl Fn(&mut Vec<u8>),
) {
    let mut buf = Vec::new();
    promkit(promkit::Format::Protobuf, &mut buf);
    assert_holds_protobuf("promkit protobuf", &buf, expected);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("promkit", |b| {
        b.iter(|| {
            buf.clear();
            promkit(promkit::Format::Protobuf, &mut buf);
        });
    });

    buf.clear();
    promkit(promkit::Format::Text, &mut buf);
    assert_holds("promkit text", &buf, expected);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("promkit_text", |b| {
        b.iter(|| {
            buf.clear();
            promkit(promkit::Format::Text, &mut buf);
        });
    });

    let mut out = Vec::new();
    prometheus(&mut out);
    assert_holds_protobuf("prometheus protobuf", &out, expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            out.clear();
            prometheus(&mut out);
        });
    });

    out.clear();
    prometheus_client(&mut out);
    assert_holds_protobuf("prometheus_client protobuf", &out, expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            out.clear();
            prometheus_client(&mut out);
        });
    });
}

fn encode_10k(c: &mut Criterion) {
    encode_counters(c, "encode_10k", 1_000);
}

fn encode_100k(c: &mut Criterion) {
    encode_counters(c, "encode_100k", 10_000);
}

fn encode_histograms(c: &mut Criterion) {
    const SERIES: usize = 1_000;
    let expected = expected_histograms(SERIES);
    assert_eq!(GO_BUCKETS.len(), 11);

    let ids = bench::ids(SERIES);
    let pk = with_promkit::Histograms::new(&ids);
    let prom = with_prometheus::Histograms::new(&ids);
    let pc = with_prometheus_client::Histograms::new(&ids);
    let mr = with_metrics::Histograms::new(&ids);
    let me = with_measured::Histograms::new(&ids);

    let mut g = c.benchmark_group("encode_histograms_text");
    let mut buf = Vec::new();
    pk.encode(promkit::Format::Text, &mut buf);
    assert_holds("promkit histograms text", &buf, &expected);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("promkit", |b| {
        b.iter(|| {
            buf.clear();
            pk.encode(promkit::Format::Text, &mut buf);
        });
    });

    let mut out = Vec::new();
    prom.encode_text(&mut out);
    assert_holds("prometheus histograms text", &out, &expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            out.clear();
            prom.encode_text(&mut out);
        });
    });

    out.clear();
    mr.encode_text(&mut out);
    assert_holds("metrics histograms text", &out, &expected);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("metrics", |b| {
        b.iter(|| {
            out.clear();
            mr.encode_text(&mut out);
        });
    });

    let mut enc = measured::text::BufferedTextEncoder::new();
    me.encode_text(&mut enc);
    let bytes = enc.finish();
    assert_holds("measured histograms text", &bytes, &expected);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    drop(bytes);
    g.bench_function("measured", |b| {
        b.iter(|| {
            me.encode_text(&mut enc);
            enc.finish()
        });
    });
    g.finish();

    let mut g = c.benchmark_group("encode_histograms_openmetrics");
    buf.clear();
    pk.encode(promkit::Format::OPENMETRICS, &mut buf);
    assert_holds("promkit histograms openmetrics", &buf, &expected);
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("promkit", |b| {
        b.iter(|| {
            buf.clear();
            pk.encode(promkit::Format::OPENMETRICS, &mut buf);
        });
    });

    let mut s = String::new();
    pc.encode_openmetrics(&mut s);
    assert_holds("prometheus_client histograms openmetrics", s.as_bytes(), &expected);
    g.throughput(Throughput::Bytes(s.len() as u64));
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            s.clear();
            pc.encode_openmetrics(&mut s);
        });
    });
    g.finish();

    let mut g = c.benchmark_group("encode_histograms_protobuf");
    encode_protobuf_group(
        &mut g,
        &expected,
        |format, out| pk.encode(format, out),
        |out| prom.encode_protobuf(out),
        |out| pc.encode_protobuf(out),
    );
    g.finish();
}

/// Summaries: a summary's observe beside the classic histogram's (same values).
fn summary_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("summary_observe");
    let r = promkit::Registry::new();
    let objectives = promkit::Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).expect("valid");
    let summary =
        promkit::Summary::builder("s").help("s").objectives(objectives).register(&r).expect("registers");
    g.bench_function("promkit", |b| {
        let mut o = Obs::new();
        b.iter(|| summary.observe(o.next()));
        assert!(summary.count() > 0);
    });
    let plain = promkit::Summary::builder("s_plain").help("s").register(&r).expect("registers");
    g.bench_function("promkit_count_sum", |b| {
        let mut o = Obs::new();
        b.iter(|| plain.observe(o.next()));
        assert!(plain.count() > 0);
    });
    let classic = promkit::Histogram::builder("h").help("h").register(&r).expect("registers");
    g.bench_function("promkit_classic", |b| {
        let mut o = Obs::new();
        b.iter(|| classic.observe(o.next()));
        assert!(classic.count() > 0);
    });
    // metrics-exporter-prometheus renders a histogram without buckets as a summary; its
    // record is the same raw-sample push either way (drained outside the timing).
    let rec = with_metrics::recorder();
    let mh = metrics::with_local_recorder(&rec, || metrics::histogram!("s_summary"));
    let handle = rec.handle();
    g.bench_function("metrics", |b| {
        let mut o = Obs::new();
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                mh.record(o.next());
            }
            let d = t.elapsed();
            handle.run_upkeep();
            d
        });
    });
    // What a scrape of the summary costs after 10,000 observations (the still-buffered ones
    // sorted and merged into the age buckets, the three estimates read): the quantile work the
    // `promkit` row leaves for the scrape, timed alone. The observations are untimed.
    let scraped = promkit::Summary::builder("s_scraped")
        .help("s")
        .objectives(promkit::Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)]).expect("valid"))
        .register(&r)
        .expect("registers");
    g.bench_function("promkit_scrape_after_10k", |b| {
        let mut o = Obs::new();
        b.iter_batched(
            || {
                for _ in 0..10_000 {
                    scraped.observe(o.next());
                }
            },
            |()| scraped.snapshot(),
            BatchSize::PerIteration,
        );
        assert!(scraped.count() >= 10_000);
    });
    g.finish();
}

/// Native histograms: native (sparse) histogram observe, alone and with classic buckets, beside classic.
fn native_histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("native_histogram_observe");
    let r = promkit::Registry::new();
    let native = promkit::Histogram::builder("n")
        .help("n")
        .native(promkit::NativeOptions::with_factor(1.1))
        .register(&r)
        .expect("registers");
    g.bench_function("promkit", |b| {
        let mut o = Obs::new();
        b.iter(|| native.observe(o.next()));
        assert!(native.count() > 0);
    });
    let both = promkit::Histogram::builder("nb")
        .help("n")
        .buckets(promkit::Buckets::default())
        .native(promkit::NativeOptions::with_factor(1.1))
        .register(&r)
        .expect("registers");
    g.bench_function("promkit_both", |b| {
        let mut o = Obs::new();
        b.iter(|| both.observe(o.next()));
        assert!(both.count() > 0);
    });
    let classic = promkit::Histogram::builder("c").help("c").register(&r).expect("registers");
    g.bench_function("promkit_classic", |b| {
        let mut o = Obs::new();
        b.iter(|| classic.observe(o.next()));
        assert!(classic.count() > 0);
    });
    // Two threads observing the same histogram: each lands on its own shard.
    let observe_2threads = |b: &mut Bencher<'_>, h: &promkit::Histogram| {
        contended_counter(b, h, promkit::Histogram::count, |h, iters, start| {
            let mut o = Obs::new();
            timed(iters, start, || h.observe(o.next()))
        });
    };
    g.bench_function("promkit_2threads", |b| observe_2threads(b, &native));
    g.bench_function("promkit_classic_2threads", |b| observe_2threads(b, &classic));
    g.finish();
}

/// Exemplars: observations that record an exemplar (a trace id) every time, against
/// prometheus-client's exemplar types. Both stamp the exemplar with the current time and build
/// its label set per call.
fn exemplar_observe(c: &mut Criterion) {
    use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
    let mut g = c.benchmark_group("exemplar_observe");
    let r = promkit::Registry::new();
    let h = promkit::Histogram::builder("h").help("h").register(&r).expect("registers");
    g.bench_function("promkit_histogram", |b| {
        let mut o = Obs::new();
        b.iter(|| h.observe_with_exemplar(o.next(), &[("trace_id", "4bf92f3577b34da6")]).expect("valid"));
        assert!(h.count() > 0);
    });
    let pch: HistogramWithExemplars<Vec<(String, String)>> =
        HistogramWithExemplars::new(GO_BUCKETS.into_iter());
    g.bench_function("prometheus_client_histogram", |b| {
        let mut o = Obs::new();
        b.iter(|| {
            let labels = vec![("trace_id".to_owned(), "4bf92f3577b34da6".to_owned())];
            pch.observe(o.next(), Some(labels), Some(std::time::SystemTime::now()));
        });
    });
    let ctr = promkit::Counter::builder("c_total").help("c").register(&r).expect("registers");
    g.bench_function("promkit_counter", |b| {
        b.iter(|| ctr.inc_with_exemplar(&[("trace_id", "4bf92f3577b34da6")]).expect("valid"));
        assert!(ctr.get() > 0);
    });
    let pcc: CounterWithExemplar<Vec<(String, String)>> = CounterWithExemplar::default();
    g.bench_function("prometheus_client_counter", |b| {
        b.iter(|| {
            let labels = vec![("trace_id".to_owned(), "4bf92f3577b34da6".to_owned())];
            pcc.inc_by(1, Some(labels), Some(std::time::SystemTime::now()));
        });
    });
    g.finish();
}

criterion_group!(
    benches,
    counter_inc,
    counter_inc_contended,
    histogram_observe,
    histogram_observe_contended,
    labeled_counter_inc,
    labeled_counter_inc_contended,
    labeled_new_series,
    encode_10k,
    encode_100k,
    encode_histograms,
    summary_observe,
    native_histogram_observe,
    exemplar_observe,
);
criterion_main!(benches);
