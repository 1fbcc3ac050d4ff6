//! Native histograms and exemplars end to end: a real Prometheus server with
//! `--enable-feature=native-histograms,exemplar-storage` scrapes the [`Exporter`] over protobuf,
//! and PromQL and `/api/v1/query_exemplars` read back what the test recorded.
//!
//! The registry holds a native-only histogram (factor 1.1, so schema 3) that observed 1 to 100,
//! a classic histogram and a counter with exemplars (trace ids `trace-a`, `trace-b`, `trace-c`),
//! and a summary. Prometheus reaches the exporter through a relay that notes the `Accept` header
//! of every scrape, so the test sees what Prometheus asked for, and the handler's answer to that
//! header is checked separately. That the native histogram is queryable at all is the other half
//! of the proof: only protobuf carries native buckets.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use promkit::model::SampleValue;
use promkit::{Buckets, Counter, Histogram, NativeOptions, Quantiles, Registry, Summary};
use promkit_http::{Exporter, MetricsHandler, Offer, WireFormat, negotiate};
use promkit_oracle::prometheus::{PrometheusServer, Target, http_get};
use tokio::sync::oneshot;

/// `scrapeAcceptHeaderWithProtobuf` of Prometheus 2.40 to 2.48 (in `scrape/scrape.go`; this is
/// the string in Debian's 2.42 binary), sent when the native-histograms feature is on.
const PROMETHEUS_2_42_NATIVE_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// The Content-Type of a protobuf answer.
const PROTO: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The native histogram's bucket factor, and the schema it gives: the coarsest whose bucket
/// growth 2^(2^-schema) is at most the factor (2^(1/8) = 1.0905 for 1.1).
const FACTOR: f64 = 1.1;
const SCHEMA: i32 = 3;

/// Upper bound for the first successful scrape (target discovery takes about 5 s) and for
/// exemplars to be queryable after it; the whole test takes about 7 s.
const WITHIN: Duration = Duration::from_secs(15);

/// A loopback relay in front of the exporter that notes the `Accept` header of every request
/// passing through it.
struct Spy {
    addr: SocketAddr,
    accepts: Arc<Mutex<Vec<String>>>,
}

impl Spy {
    /// Relays every connection to `upstream`; the accepting thread ends with the test process.
    fn start(upstream: SocketAddr) -> Spy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&accepts);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = Arc::clone(&seen);
                thread::spawn(move || relay(client, upstream, &seen));
            }
        });
        Spy { addr, accepts }
    }

    /// The `Accept` headers seen so far, one per request (empty when a request had none).
    fn accepts(&self) -> Vec<String> {
        self.accepts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Copies `client` to `upstream` and back until either side closes, noting the `Accept` header
/// of each request head on the way in. Scrapes are GETs without a body, so the client's bytes
/// are a sequence of heads, several on one keep-alive connection.
fn relay(mut client: TcpStream, upstream: SocketAddr, seen: &Mutex<Vec<String>>) {
    let Ok(mut server) = TcpStream::connect(upstream) else { return };
    let (Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let accept = head.lines().skip(1).find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.trim().eq_ignore_ascii_case("accept").then(|| value.trim().to_owned())
            });
            seen.lock().unwrap_or_else(PoisonError::into_inner).push(accept.unwrap_or_default());
            pending.drain(..end + 4);
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

/// Evaluates `promql`, prints the pair for the test log, and returns the value.
fn value(prom: &PrometheusServer, promql: &str) -> Option<f64> {
    let got = prom.query_scalar(promql).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    eprintln!("PromQL {promql} => {got:?}");
    got
}

/// One exemplar as `/api/v1/query_exemplars` returns it, with the series' `le` (if any).
#[derive(Debug, Clone, PartialEq)]
struct SeenExemplar {
    le: Option<String>,
    trace_id: String,
    value: f64,
    /// Seconds since the epoch, millisecond precision.
    timestamp: f64,
}

/// The exemplars `/api/v1/query_exemplars` returns for `promql` once it holds `n` (polled,
/// within [`WITHIN`]), sorted by trace id.
fn wait_exemplars(prom: &PrometheusServer, promql: &str, n: usize) -> Vec<SeenExemplar> {
    let data = prom.wait_exemplars(promql, n, WITHIN).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("exemplars {promql} => {data}");
    let mut seen: Vec<SeenExemplar> = data
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|series| {
            let le = series["seriesLabels"]["le"].as_str().map(str::to_owned);
            series["exemplars"].as_array().into_iter().flatten().map(move |e| SeenExemplar {
                le: le.clone(),
                trace_id: e["labels"]["trace_id"].as_str().unwrap_or_default().to_owned(),
                value: e["value"].as_str().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN),
                timestamp: e["timestamp"].as_f64().unwrap_or(f64::NAN),
            })
        })
        .collect();
    seen.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
    seen
}

/// The millisecond timestamps of the exemplars `registry` holds, by trace id: what Prometheus
/// should store (it truncates the protobuf timestamp to milliseconds).
fn exemplar_millis(registry: &Registry) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for family in registry.gather().unwrap() {
        for sample in family.samples {
            let mut exemplars: Vec<promkit::Exemplar> = sample.exemplar.into_iter().collect();
            if let SampleValue::Histogram(h) = sample.value {
                exemplars.extend(h.exemplars.into_iter().flatten());
            }
            for e in exemplars {
                let trace = e.labels().iter().find(|(n, _)| n == "trace_id").unwrap().1.clone();
                out.push((trace, e.timestamp_nanos().unwrap().div_euclid(1_000_000)));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn prometheus_reads_native_histograms_and_exemplars_over_protobuf() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    let registry = Registry::new();
    let native = Histogram::builder("native_seconds")
        .help("Native only: 1 to 100.")
        .native(NativeOptions::with_factor(FACTOR))
        .register(&registry)
        .unwrap();
    for v in 1..=100 {
        native.observe(f64::from(v));
    }
    let classic = Histogram::builder("classic_seconds")
        .help("Classic buckets with exemplars.")
        .buckets(Buckets::new([0.1, 0.5, 1.0]).unwrap())
        .register(&registry)
        .unwrap();
    classic.observe_with_exemplar(0.05, &[("trace_id", "trace-a")]).unwrap();
    classic.observe(0.3);
    classic.observe_with_exemplar(0.7, &[("trace_id", "trace-b")]).unwrap();
    classic.observe(2.0);
    let jobs = Counter::builder("jobs_total").help("Jobs done.").register(&registry).unwrap();
    jobs.inc_by(2);
    jobs.inc_with_exemplar(&[("trace_id", "trace-c")]).unwrap();
    let payload = Summary::builder("payload_size_bytes")
        .help("Payload sizes.")
        .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01)]).unwrap())
        .register(&registry)
        .unwrap();
    for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
        payload.observe(v);
    }

    let exporter = rt
        .block_on(Exporter::bind(
            "127.0.0.1:0".parse().unwrap(),
            MetricsHandler::builder(&registry).must_build(),
        ))
        .unwrap();
    let exporter_addr = exporter.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = rt.spawn(async move {
        exporter
            .run_until(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    let shut_down = |stop: oneshot::Sender<()>, server: tokio::task::JoinHandle<()>| {
        let _ = stop.send(());
        rt.block_on(server).unwrap();
    };

    // What the exporter answers to Prometheus 2.42's native-histogram Accept header: protobuf,
    // which Go's decoder reads back with the native buckets of schema 3.
    let resp = http_get(exporter_addr, "/metrics", &[("Accept", PROMETHEUS_2_42_NATIVE_ACCEPT)]).unwrap();
    assert_eq!((resp.status, resp.header("content-type")), (200, Some(PROTO)));
    if let Some(described) = promkit_oracle::go("native-describe", &resp.body) {
        assert_eq!(described.status, 0, "{}", described.stderr);
        let line = described.stdout.lines().find(|l| l.starts_with("native_seconds ")).unwrap();
        eprintln!("Go reads {line}");
        assert!(line.contains(&format!(" schema={SCHEMA} ")), "{line}");
        assert!(line.contains(" zero_count=0 count=100 sum=5050 "), "{line}");
    }

    let spy = Spy::start(exporter_addr);
    let target = Target::new("native", spy.addr);
    let Some(prom) =
        PrometheusServer::start(&[target], &["--enable-feature=native-histograms,exemplar-storage"])
    else {
        shut_down(stop, server);
        return;
    };
    prom.wait_up("native", WITHIN).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    eprintln!("Prometheus {}", prom.version().unwrap());

    // Prometheus asked for protobuf first, and that header gets protobuf.
    let accepts = spy.accepts();
    eprintln!("Prometheus sent Accept: {accepts:?}");
    assert!(!accepts.is_empty());
    for accept in &accepts {
        let negotiated = negotiate(Some(accept), Offer::ALL);
        assert_eq!(negotiated.format, WireFormat::Protobuf, "{accept}");
    }
    if prom.version().unwrap().starts_with("2.42.") {
        assert!(accepts.iter().all(|a| a == PROMETHEUS_2_42_NATIVE_ACCEPT), "{accepts:?}");
    }

    // The native histogram: stored as one native series, no `_bucket`/`_count`/`_sum` series.
    let sel = "native_seconds{job=\"native\"}";
    assert_eq!(value(&prom, &format!("histogram_count({sel})")), Some(100.0));
    assert_eq!(value(&prom, &format!("histogram_sum({sel})")), Some(5050.0));
    // 64 = 2^6 is a bucket boundary at every schema >= 0: exactly 1..=64 lie at or below it.
    assert_eq!(value(&prom, &format!("histogram_fraction(0, 64, {sel})")), Some(0.64));
    assert_eq!(value(&prom, "count(native_seconds_bucket{job=\"native\"})"), None);
    assert_eq!(value(&prom, "native_seconds_count{job=\"native\"}"), None);
    // The median observation is 50, in the schema-3 bucket (2^(45/8), 2^(46/8)] = (49.35,
    // 53.82]. PromQL answers a point of the bucket holding the rank, so the error is at most
    // the bucket's width: relative to 50, below the growth 2^(2^-3) - 1 = 0.0905 <= 1.1 - 1.
    let median = value(&prom, &format!("histogram_quantile(0.5, {sel})")).unwrap();
    let growth = 2f64.powf(2f64.powi(-SCHEMA));
    assert!(growth <= FACTOR);
    let upper = 2f64.powf((50f64.log2() * 8.0).ceil() / 8.0);
    let lower = upper / growth;
    assert!(lower < median && median <= upper, "{median} outside ({lower}, {upper}]");
    assert!((median - 50.0).abs() / 50.0 <= growth - 1.0, "{median}");
    assert!((median - 50.0).abs() / 50.0 <= FACTOR - 1.0, "{median}");
    eprintln!(
        "median {median}: bucket ({lower}, {upper}], relative error {:.4} <= {:.4} <= {:.1}",
        (median - 50.0).abs() / 50.0,
        growth - 1.0,
        FACTOR - 1.0
    );

    // The classic histogram, the counter and the summary, through the same protobuf scrape
    // (the `+Inf` bucket is implicit in protobuf; Prometheus adds the series).
    assert_eq!(value(&prom, "classic_seconds_count{job=\"native\"}"), Some(4.0));
    assert_eq!(value(&prom, "classic_seconds_sum{job=\"native\"}"), Some(classic.sum()));
    assert_eq!(value(&prom, "classic_seconds_bucket{job=\"native\", le=\"+Inf\"}"), Some(4.0));
    assert_eq!(value(&prom, "count(classic_seconds_bucket{job=\"native\"})"), Some(4.0));
    assert_eq!(value(&prom, "jobs_total{job=\"native\"}"), Some(3.0));
    assert_eq!(value(&prom, "payload_size_bytes{job=\"native\", quantile=\"0.5\"}"), Some(3.25));
    assert_eq!(value(&prom, "payload_size_bytes{job=\"native\", quantile=\"0.9\"}"), Some(10.0));
    assert_eq!(value(&prom, "payload_size_bytes_count{job=\"native\"}"), Some(7.0));

    // Exemplars: our trace ids, on the right buckets, with the observed values and the
    // timestamps they were recorded at (to the millisecond Prometheus keeps).
    let millis = exemplar_millis(&registry);
    // milliseconds since the epoch fit in 53 bits
    let at = |trace: &str| millis.iter().find(|(t, _)| t == trace).unwrap().1 as f64 / 1000.0;
    let bucket_exemplars = wait_exemplars(&prom, "classic_seconds_bucket{job=\"native\"}", 2);
    let le = |e: &SeenExemplar| e.le.as_deref().and_then(|l| l.parse::<f64>().ok());
    assert_eq!(bucket_exemplars.len(), 2, "{bucket_exemplars:?}");
    let (a, b) = (&bucket_exemplars[0], &bucket_exemplars[1]);
    assert_eq!(
        (a.trace_id.as_str(), le(a), a.value, a.timestamp),
        ("trace-a", Some(0.1), 0.05, at("trace-a"))
    );
    assert_eq!(
        (b.trace_id.as_str(), le(b), b.value, b.timestamp),
        ("trace-b", Some(1.0), 0.7, at("trace-b"))
    );
    let counter_exemplars = wait_exemplars(&prom, "jobs_total{job=\"native\"}", 1);
    assert_eq!(
        counter_exemplars,
        [SeenExemplar { le: None, trace_id: "trace-c".into(), value: 1.0, timestamp: at("trace-c") }]
    );

    drop(prom);
    shut_down(stop, server);
}
