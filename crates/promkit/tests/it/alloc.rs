//! The hot paths allocate nothing: a warm scrape of an unchanged registry, a lookup of an
//! existing series, a dense typed lookup. And a new series keeps few bytes on the heap.
//! Counted by the binary's global allocator (`crate::count_allocations`,
//! `crate::heap_growth`), per thread.

use promkit::encode::CreatedSamples;
use promkit::{
    Buckets, Counter, CounterF64, CounterFn, Format, Gauge, GaugeF64, GaugeFn, Histogram, LabelSet,
    LabelValue, Registry, TypedFamily, Untyped,
};

#[derive(Debug, Clone, Copy, LabelValue)]
#[label(rename_all = "UPPERCASE")]
enum Method {
    Get,
    Post,
    Put,
}

#[derive(Debug, Clone, Copy, LabelValue)]
#[label(rename_all = "snake_case")]
enum Outcome {
    Ok,
    ClientError,
    ServerError,
}

#[derive(Debug, Clone, LabelSet)]
struct Request {
    method: Method,
    outcome: Outcome,
    cached: bool,
}

const METHODS: [Method; 3] = [Method::Get, Method::Post, Method::Put];
const OUTCOMES: [Outcome; 3] = [Outcome::Ok, Outcome::ClientError, Outcome::ServerError];

struct Fixture {
    registry: Registry,
    family: promkit::Family<Counter>,
    typed: TypedFamily<Request, Counter>,
}

/// A registry with one of everything, every series already created.
fn fixture() -> Fixture {
    let r = Registry::new();
    Counter::builder("jobs_total").help("Jobs.").const_label("app", "a\"b").register(&r).unwrap().inc_by(3);
    CounterF64::builder("cpu_seconds_total").help("CPU.").unit("seconds").register(&r).unwrap().inc_by(1.25);
    Gauge::builder("queue_depth").help("Depth.").register(&r).unwrap().set(-7);
    GaugeF64::builder("ratio").help("Ratio.").register(&r).unwrap().set(f64::NAN);
    Untyped::builder("legacy").help("Legacy.").register(&r).unwrap().set(1e21);
    let h = Histogram::builder("latency_seconds")
        .help("Latency.")
        .unit("seconds")
        .buckets(Buckets::new([0.005, 0.1, 1.0, 1e6]).unwrap())
        .labels(["route"])
        .register(&r)
        .unwrap();
    for (i, route) in ["/a", "/b\n", "/c\\"].into_iter().enumerate() {
        let s = h.with_label_values(&[route]).unwrap();
        for k in 0..=i {
            s.observe(0.05 * k as f64);
        }
    }
    let family = Counter::builder("http_requests_total")
        .help("Requests.")
        .labels(["method", "code"])
        .register(&r)
        .unwrap();
    for (m, c) in [("GET", "200"), ("POST", "500"), ("GET", "404"), ("PUT", "200")] {
        family.with_label_values(&[m, c]).unwrap().inc();
    }
    // Series whose protobuf `Metric` takes a two-byte length (a long label value), and one
    // whose value needs unescaping: both leave the encoders' common path.
    let paths =
        Counter::builder("path_requests_total").help("By path.").labels(["path"]).register(&r).unwrap();
    paths.with_label_values(&["/".repeat(200).as_str()]).unwrap().inc();
    paths.with_label_values(&["C:\\temp \"quoted\"\nline"]).unwrap().inc();
    // A capped family, which brings the registry's overflow counter along.
    let capped = Gauge::builder("capped").help("Capped.").labels(["k"]).max_series(2).register(&r).unwrap();
    for k in ["a", "b", "c"] {
        capped.with_label_values(&[k]).unwrap().inc();
    }
    r.register(CounterFn::new(CounterFn::builder("fn_total").help("Fn."), || 5.0).unwrap()).unwrap();
    r.register(
        GaugeFn::new(GaugeFn::builder("fn_gauge").help("Fn.").const_label("c", "1"), || -0.5).unwrap(),
    )
    .unwrap();
    let typed = Counter::builder("typed_requests_total")
        .help("Typed requests.")
        .typed_labels::<Request>()
        .register(&r)
        .unwrap();
    assert!(typed.is_dense());
    for method in METHODS {
        for outcome in OUTCOMES {
            for cached in [false, true] {
                let labels = Request { method, outcome, cached };
                typed.with(&labels, Counter::inc);
            }
        }
    }
    Fixture { registry: r, family, typed }
}

fn assert_warm_encode_allocates_nothing(format: Format) {
    let f = fixture();
    let mut buf = Vec::new();
    // Two warm-up scrapes: the buffer reaches its size, thread-local scratch space and the
    // cached series order are built.
    for _ in 0..2 {
        buf.clear();
        f.registry.encode(format, &mut buf).unwrap();
    }
    let expected = buf.clone();
    buf.clear();
    let (result, allocations) = crate::count_allocations(|| f.registry.encode(format, &mut buf));
    result.unwrap();
    assert_eq!(buf, expected, "an unchanged registry encodes the same bytes");
    assert_eq!(allocations, 0, "a warm {format:?} scrape allocated {allocations} times");
}

#[test]
fn warm_text_encode_allocates_nothing() {
    assert_warm_encode_allocates_nothing(Format::Text);
}

#[test]
fn warm_openmetrics_encode_allocates_nothing() {
    assert_warm_encode_allocates_nothing(Format::OPENMETRICS);
    assert_warm_encode_allocates_nothing(Format::OpenMetrics { created_samples: CreatedSamples::Write });
}

#[test]
fn warm_protobuf_encode_allocates_nothing() {
    assert_warm_encode_allocates_nothing(Format::Protobuf);
}

#[test]
fn looking_up_an_existing_series_allocates_nothing() {
    let f = fixture();
    // Warm the thread's key buffer with the longest key first.
    f.family.with_label_values(&["POST", "500"]).unwrap();
    let (series, allocations) = crate::count_allocations(|| {
        let a = f.family.with_label_values(&["GET", "200"]).unwrap();
        let b = f.family.with_label_values(&["POST", "500"]).unwrap();
        a.inc();
        b.inc();
        a
    });
    assert_eq!(allocations, 0, "hit lookups allocated {allocations} times");
    assert_eq!(series.get(), 2);
}

#[test]
fn a_handle_free_lookup_allocates_nothing_even_past_the_cache() {
    let f = fixture();
    // Twelve series: more than a thread's cache holds, so lookups also evict and refill.
    let codes: Vec<String> = (0..12).map(|i| format!("{}", 200 + i)).collect();
    let round = || {
        for code in &codes {
            f.family.with_series(&["GET", code], |c| c.inc()).unwrap();
        }
    };
    round(); // create the series
    round(); // grow every cache slot's key buffer
    let ((), allocations) = crate::count_allocations(|| {
        for _ in 0..3 {
            round();
        }
        f.family.with_series(&["GET", "201"], |c| c.inc()).unwrap();
    });
    assert_eq!(allocations, 0, "existing-series lookups allocated {allocations} times");
    assert_eq!(f.family.with_series(&["GET", "201"], |c| c.get()).unwrap(), 6);
    assert_eq!(f.family.with_series(&["GET", "211"], |c| c.get()).unwrap(), 5);
}

#[test]
fn a_dense_typed_lookup_allocates_nothing() {
    let f = fixture();
    let labels = Request { method: Method::Post, outcome: Outcome::ServerError, cached: true };
    let ((), allocations) = crate::count_allocations(|| {
        for _ in 0..100 {
            f.typed.with(&labels, Counter::inc);
        }
    });
    assert_eq!(allocations, 0, "dense lookups allocated {allocations} times");
    assert_eq!(f.typed.get(&labels).get(), 101);
}

#[test]
fn a_repeated_exemplar_update_allocates_nothing() {
    let r = Registry::new();
    let requests = Counter::builder("requests_total").register(&r).unwrap();
    let seconds = CounterF64::builder("busy_seconds_total").register(&r).unwrap();
    let latency = Histogram::builder("latency_seconds").register(&r).unwrap();
    let traces = ["4bf92f3577b34da6", "00f067aa0ba902b7", "a3ce929d0e0e4736"];
    let update = |trace: &str| {
        // Two labels given out of name order: they are stored sorted, in the same strings.
        let labels = [("trace_id", trace), ("span_id", "0001")];
        requests.inc_with_exemplar(&labels).unwrap();
        seconds.inc_by_with_exemplar(0.5, &labels).unwrap();
        latency.observe_with_exemplar(0.2, &labels).unwrap();
    };
    update("first"); // the slots and their strings
    update(traces[0]); // grown to the longest value
    let ((), allocations) = crate::count_allocations(|| {
        for trace in traces {
            update(trace);
        }
    });
    assert_eq!(allocations, 0, "exemplar updates allocated {allocations} times");
    let om = r.encode_string(Format::OpenMetrics { created_samples: CreatedSamples::Write }).unwrap();
    for name in ["requests_total", "busy_seconds_total", "latency_seconds_bucket"] {
        let line = om.lines().find(|l| l.starts_with(name) && l.contains(" # ")).unwrap_or_default();
        assert!(
            line.contains(r#"# {span_id="0001",trace_id="a3ce929d0e0e4736"}"#),
            "{name}'s exemplar is not the last one: {line:?}\n{om}"
        );
    }
}

/// Bytes one more labelled series keeps on the heap, averaged over `SERIES` new series of one
/// family (the label strings are made before counting, so only what the family keeps counts).
fn heap_per_series(create: impl Fn(&str, &str)) -> f64 {
    const SERIES: usize = 20_000;
    let ids: Vec<String> = (0..SERIES).map(|i| format!("id-{i}")).collect();
    let methods = ["GET", "POST", "PUT", "DELETE"];
    let ((), heap) = crate::heap_growth(|| {
        for (i, id) in ids.iter().enumerate() {
            create(methods[i % methods.len()], id);
        }
    });
    heap.live() as f64 / SERIES as f64
}

#[test]
fn a_labelled_counter_series_keeps_a_small_footprint() {
    // Per series: the escaped key (about 12 bytes here), its slab entry (13: where the key is,
    // in 5 bytes, and the handle), its hash slot and control byte (5, at the table's load),
    // and the shared counter state with its one reference count (24: the value, and the
    // creation time sharing a word with the extras). A second reference count, a field more
    // or an entry padded to 16 bytes breaks the bound (62.0 B and 70.0 B here).
    let r = Registry::new();
    let family = Counter::builder("requests_total").help("R.").labels(["method", "id"]).register(&r).unwrap();
    let per_series = heap_per_series(|method, id| family.with_label_values(&[method, id]).unwrap().inc());
    println!("counter: {per_series:.1} B per series");
    assert!((52.0..=61.0).contains(&per_series), "a labelled counter series keeps {per_series:.1} B");
    assert_eq!(family.with_label_values(&["GET", "id-0"]).unwrap().get(), 1);
}

#[test]
fn a_labelled_histogram_series_keeps_a_small_footprint() {
    // Per series, beside the key, slab entry and hash slot of a counter: one block with the
    // reference count, the buckets' handle, the creation time (sharing a word with the extras)
    // and the first observer's unpadded shard (the lock word, the sum and twelve counts two to
    // a word): 24 + 64 bytes. The default buckets are shared by every series. 123.2 B here; a
    // word per count (171.2 B), the shard in a block of its own or a stored length (131.2 B)
    // breaks the bound.
    let r = Registry::new();
    let family =
        Histogram::builder("latency_seconds").help("L.").labels(["method", "id"]).register(&r).unwrap();
    let per_series =
        heap_per_series(|method, id| family.with_label_values(&[method, id]).unwrap().observe(0.5));
    println!("histogram: {per_series:.1} B per series");
    assert!((117.0..=129.0).contains(&per_series), "a labelled histogram series keeps {per_series:.1} B");
}

#[test]
fn the_counter_sees_allocations() {
    // The harness itself: an allocation in the closure is counted, one outside is not.
    let outside = vec![1u8; 10];
    let (v, n) = crate::count_allocations(|| vec![0u8; 100]);
    assert_eq!((v.len(), n), (100, 1));
    drop(outside);
}

#[test]
fn warm_encode_of_utf8_names_allocates_nothing_in_any_scheme() {
    use promkit::registry::EncodeOptions;
    use promkit::{EscapingScheme, NameValidation};

    let r = Registry::builder().name_validation(NameValidation::Utf8).build();
    let h = Histogram::builder("http.server.duration")
        .help("Latency.")
        .labels(["service.name", "code"])
        .register(&r)
        .unwrap();
    h.with_label_values(&["a\"b", "200"]).unwrap().observe(0.3);
    Counter::builder("jobs.done_total").help("Jobs.").register(&r).unwrap().inc();
    Gauge::builder("temperature_°C")
        .help("Heat.")
        .const_label("room.name", "kitchen")
        .register(&r)
        .unwrap()
        .set(3);
    for scheme in EscapingScheme::ALL {
        for format in
            [Format::Text, Format::OpenMetrics { created_samples: CreatedSamples::Write }, Format::Protobuf]
        {
            let options = EncodeOptions::new(format).escaping(scheme);
            let mut buf = Vec::new();
            for _ in 0..2 {
                buf.clear();
                r.encode_with(&mut buf, &options).unwrap();
            }
            let expected = buf.clone();
            buf.clear();
            let (result, allocations) = crate::count_allocations(|| r.encode_with(&mut buf, &options));
            result.unwrap();
            assert_eq!(buf, expected);
            assert_eq!(
                allocations, 0,
                "a warm {format:?} scrape with {scheme} allocated {allocations} times"
            );
        }
    }
}

#[test]
fn warm_encode_with_exemplars_and_native_histograms_allocates_nothing_in_any_scheme() {
    use promkit::registry::EncodeOptions;
    use promkit::{EscapingScheme, NameValidation, NativeOptions};

    let r = Registry::builder().name_validation(NameValidation::Utf8).build();
    let jobs = Counter::builder("jobs_total").help("Jobs.").register(&r).unwrap();
    jobs.inc_by_with_exemplar(3, &[("trace_id", "4bf92f3577b34da6")]).unwrap();
    let cpu = CounterF64::builder("cpu.seconds_total").help("CPU.").register(&r).unwrap();
    cpu.inc_by_with_exemplar(1.25, &[("trace_id", "00f067aa0ba902b7"), ("span_kind", "server")]).unwrap();
    // Classic buckets with exemplars on a finite bucket and on +Inf.
    let latency = Histogram::builder("http.server.duration")
        .help("Latency.")
        .buckets(Buckets::new([0.1, 1.0]).unwrap())
        .labels(["route"])
        .register(&r)
        .unwrap();
    let a = latency.with_label_values(&["/a\"b"]).unwrap();
    a.observe_with_exemplar(0.05, &[("trace_id", "t1")]).unwrap();
    a.observe_with_exemplar(50.0, &[("trace_id", "t2")]).unwrap();
    latency.with_label_values(&["/c"]).unwrap().observe(0.5);
    // Native only, with negative, zero and positive observations and native exemplars.
    let native = Histogram::builder("native_seconds")
        .help("Native.")
        .native(NativeOptions::with_factor(1.1))
        .register(&r)
        .unwrap();
    for v in [-3.0, -0.5, 0.0, 0.001, 0.25, 0.25, 7.5, 1e6] {
        native.observe(v);
    }
    native.observe_with_exemplar(0.7, &[("trace_id", "n1")]).unwrap();
    native.observe_with_exemplar(-2.0, &[("trace_id", "n2")]).unwrap();
    // Native and classic buckets together, with an exemplar.
    let both = Histogram::builder("both.seconds")
        .help("Both.")
        .buckets(Buckets::new([0.5, 5.0]).unwrap())
        .native(NativeOptions::with_factor(2.0))
        .register(&r)
        .unwrap();
    both.observe(0.2);
    both.observe_with_exemplar(3.0, &[("trace_id", "b1")]).unwrap();
    for scheme in EscapingScheme::ALL {
        for format in
            [Format::Text, Format::OpenMetrics { created_samples: CreatedSamples::Write }, Format::Protobuf]
        {
            let options = EncodeOptions::new(format).escaping(scheme);
            let mut buf = Vec::new();
            // Two warm-up scrapes: the buffer, the thread's scratch space and each native
            // histogram's snapshot buffer reach their size.
            for _ in 0..2 {
                buf.clear();
                r.encode_with(&mut buf, &options).unwrap();
            }
            let expected = buf.clone();
            buf.clear();
            let (result, allocations) = crate::count_allocations(|| r.encode_with(&mut buf, &options));
            result.unwrap();
            assert_eq!(buf, expected, "an unchanged registry encodes the same bytes");
            assert_eq!(
                allocations, 0,
                "a warm {format:?} scrape with {scheme} of exemplars and native histograms \
                 allocated {allocations} times"
            );
        }
    }
    // The exemplars were written, not skipped: OpenMetrics carries the classic and counter ones.
    let mut om = Vec::new();
    r.encode(Format::OpenMetrics { created_samples: CreatedSamples::Write }, &mut om).unwrap();
    let om = String::from_utf8(om).unwrap();
    for trace in ["4bf92f3577b34da6", "00f067aa0ba902b7", "t1", "t2", "n2", "b1"] {
        assert!(om.contains(&format!("trace_id=\"{trace}\"")), "no exemplar {trace} in:\n{om}");
    }
}
