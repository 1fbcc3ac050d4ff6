//! OpenMetrics' own types (Info, StateSet, GaugeHistogram): exact bytes in every format, the
//! registry's rules for their suffixes and state label, and what real consumers read back:
//! Python's OpenMetrics and text parsers, Go's `expfmt` from text and from protobuf, promtool,
//! and a Prometheus server scraping the OpenMetrics form.

use std::collections::BTreeMap;

use promkit::model::{BuildError, MetricType, SampleValue};
use promkit::{
    Buckets, Counter, EnumStateSet, Format, Gauge, GaugeHistogram, Histogram, Info, LabelValue,
    RegisterError, Registry, StateSet,
};
use promkit_oracle::{PyFamily, PySample};

#[derive(Clone, Copy, LabelValue)]
#[label(rename_all = "snake_case")]
enum Phase {
    Starting,
    Serving,
    Draining,
}

/// One family of each new type, with labels, escaping and every update path.
fn registry() -> Registry {
    let r = Registry::new();
    Info::builder("app_build_info")
        .help("Build facts.")
        .const_label("version", "1.4.2")
        .const_label("commit", "9f3a\"2c1")
        .register(&r)
        .unwrap();
    let breaker = StateSet::builder("breaker")
        .help("Breaker state.")
        .labels(["upstream"])
        .states(["closed", "open"])
        .register(&r)
        .unwrap();
    breaker.with_label_values(&["db"]).unwrap().set("open").unwrap();
    let cache = breaker.with_label_values(&["cache"]).unwrap();
    cache.set_state("closed", true).unwrap();
    let phase = EnumStateSet::<Phase>::builder("phase").help("Lifecycle phase.").register(&r).unwrap();
    phase.set(Phase::Starting);
    phase.set(Phase::Serving);
    phase.set(Phase::Draining);
    let queue = GaugeHistogram::builder("queue_age_seconds")
        .help("Queued jobs by age.")
        .unit("seconds")
        .labels(["queue"])
        .buckets(Buckets::new([1.0, 10.0]).unwrap())
        .register(&r)
        .unwrap();
    let mail = queue.with_label_values(&["mail"]).unwrap();
    for v in [0.5, 2.0, 20.0, 3.0] {
        mail.observe(v);
    }
    assert!(mail.remove(3.0));
    r
}

const OPENMETRICS: &str = "\
# HELP app_build Build facts.
# TYPE app_build info
app_build_info{commit=\"9f3a\\\"2c1\",version=\"1.4.2\"} 1.0
# HELP breaker Breaker state.
# TYPE breaker stateset
breaker{upstream=\"cache\",breaker=\"closed\"} 1.0
breaker{upstream=\"cache\",breaker=\"open\"} 0.0
breaker{upstream=\"db\",breaker=\"closed\"} 0.0
breaker{upstream=\"db\",breaker=\"open\"} 1.0
# HELP phase Lifecycle phase.
# TYPE phase stateset
phase{phase=\"starting\"} 0.0
phase{phase=\"serving\"} 0.0
phase{phase=\"draining\"} 1.0
# HELP queue_age_seconds Queued jobs by age.
# TYPE queue_age_seconds gaugehistogram
# UNIT queue_age_seconds seconds
queue_age_seconds_bucket{queue=\"mail\",le=\"1.0\"} 1
queue_age_seconds_bucket{queue=\"mail\",le=\"10.0\"} 2
queue_age_seconds_bucket{queue=\"mail\",le=\"+Inf\"} 3
queue_age_seconds_gsum{queue=\"mail\"} 22.5
queue_age_seconds_gcount{queue=\"mail\"} 3
# EOF
";

const TEXT: &str = "\
# HELP app_build_info Build facts.
# TYPE app_build_info gauge
app_build_info{commit=\"9f3a\\\"2c1\",version=\"1.4.2\"} 1
# HELP breaker Breaker state.
# TYPE breaker gauge
breaker{upstream=\"cache\",breaker=\"closed\"} 1
breaker{upstream=\"cache\",breaker=\"open\"} 0
breaker{upstream=\"db\",breaker=\"closed\"} 0
breaker{upstream=\"db\",breaker=\"open\"} 1
# HELP phase Lifecycle phase.
# TYPE phase gauge
phase{phase=\"starting\"} 0
phase{phase=\"serving\"} 0
phase{phase=\"draining\"} 1
# HELP queue_age_seconds Queued jobs by age.
# TYPE queue_age_seconds histogram
queue_age_seconds_bucket{queue=\"mail\",le=\"1\"} 1
queue_age_seconds_bucket{queue=\"mail\",le=\"10\"} 2
queue_age_seconds_bucket{queue=\"mail\",le=\"+Inf\"} 3
queue_age_seconds_sum{queue=\"mail\"} 22.5
queue_age_seconds_count{queue=\"mail\"} 3
";

/// What Go's `expfmt` reads from the protobuf form (`go-oracle describe-protobuf`).
const GO_PROTOBUF: &str = "\
app_build_info GAUGE
  {commit=\"9f3a\\\"2c1\",version=\"1.4.2\"} gauge 1
breaker GAUGE
  {upstream=\"cache\",breaker=\"closed\"} gauge 1
  {upstream=\"cache\",breaker=\"open\"} gauge 0
  {upstream=\"db\",breaker=\"closed\"} gauge 0
  {upstream=\"db\",breaker=\"open\"} gauge 1
phase GAUGE
  {phase=\"starting\"} gauge 0
  {phase=\"serving\"} gauge 0
  {phase=\"draining\"} gauge 1
queue_age_seconds GAUGE_HISTOGRAM
  {queue=\"mail\"} histogram count=3 sum=22.5 buckets=1:1,10:2
";

#[test]
fn openmetrics_bytes() {
    assert_eq!(crate::om(&registry()), OPENMETRICS);
}

#[test]
fn text_bytes() {
    assert_eq!(crate::text(&registry()), TEXT);
}

#[test]
fn protobuf_bytes() {
    let mut pb = Vec::new();
    registry().encode(Format::Protobuf, &mut pb).unwrap();
    let hex: String = pb.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, PROTOBUF_HEX);
}

/// The delimited protobuf of [`registry`] (gauges of value 1 and 0.0 for the info and the
/// statesets, type 5 `GAUGE_HISTOGRAM` with the `+Inf` bucket implicit), as Go decodes it in
/// `go_reads_the_protobuf_types`.
const PROTOBUF_HEX: &str = concat!(
    "530a0e6170705f6275696c645f696e666f120c4275696c642066616374732e180122310a120a06636f6d6d6974120839",
    "663361223263310a100a0776657273696f6e1205312e342e32120909000000000000f03fdd010a07627265616b657212",
    "0e427265616b65722073746174652e180122310a110a08757073747265616d120563616368650a110a07627265616b65",
    "721206636c6f736564120909000000000000f03f222f0a110a08757073747265616d120563616368650a0f0a07627265",
    "616b657212046f70656e1209090000000000000000222e0a0e0a08757073747265616d120264620a110a07627265616b",
    "65721206636c6f7365641209090000000000000000222c0a0e0a08757073747265616d120264620a0f0a07627265616b",
    "657212046f70656e120909000000000000f03f7a0a05706861736512104c6966656379636c652070686173652e180122",
    "1e0a110a05706861736512087374617274696e671209090000000000000000221d0a100a057068617365120773657276",
    "696e671209090000000000000000221e0a110a0570686173651208647261696e696e67120909000000000000f03f6b0a",
    "1171756575655f6167655f7365636f6e64731213517565756564206a6f6273206279206167652e180522360a0d0a0571",
    "7565756512046d61696c3a2508031100000000008036401a0b080111000000000000f03f1a0b08021100000000000024",
    "402a077365636f6e6473",
);

#[test]
fn gathered_snapshots_keep_the_types_and_replay_to_the_same_bytes() {
    let r = registry();
    let families = r.gather().unwrap();
    let kinds: Vec<MetricType> = families.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [MetricType::Info, MetricType::StateSet, MetricType::StateSet, MetricType::GaugeHistogram]
    );
    assert_eq!(families[0].samples[0].value, SampleValue::Gauge(1.0));
    assert_eq!(families[1].samples.len(), 4);
    assert_eq!(
        families[1].samples[1].labels,
        [("upstream".into(), "cache".into()), ("breaker".into(), "open".into())]
    );
    // Gathering sorts series by label values, as Go's `Gather` does, so the enum stateset's
    // states come back alphabetically: the replay has the same lines, in that order.
    for format in [Format::Text, Format::OPENMETRICS] {
        let mut replayed = Vec::new();
        promkit::encode::encode_families(&families, format, &mut replayed);
        let mut direct = Vec::new();
        r.encode(format, &mut direct).unwrap();
        let lines = |b: &[u8]| {
            let mut l: Vec<String> = String::from_utf8_lossy(b).lines().map(str::to_owned).collect();
            l.sort();
            l
        };
        assert_eq!(lines(&replayed), lines(&direct), "{format:?}");
        assert_ne!(replayed, direct, "{format:?}: the states are sorted");
    }
}

#[test]
fn the_registry_refuses_names_that_collide_through_the_new_suffixes() {
    let r = Registry::new();
    Info::builder("app_info").register(&r).unwrap();
    // OpenMetrics names the info family `app`: a second family of that name is refused.
    let e = Gauge::builder("app").register(&r).unwrap_err();
    assert!(matches!(e, promkit::Error::Register(RegisterError::Collision { .. })), "{e}");
    let e = Counter::builder("app_total").register(&r).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "`app_total` would write samples named `app` (its OpenMetrics family name), which family \
             `app_info` writes too; rename one of them"
        ),
        "{e}"
    );
    let e = Gauge::builder("app_info").register(&r).unwrap_err();
    assert!(matches!(e, promkit::Error::Register(RegisterError::Inconsistent { what: "type", .. })), "{e}");
    // The message names the info as an info, though text writes it as a gauge.
    assert!(e.to_string().contains("info") && e.to_string().contains("gauge"), "{e}");

    GaugeHistogram::builder("q").register(&r).unwrap();
    for name in ["q_bucket", "q_gsum", "q_gcount", "q_sum", "q_count"] {
        let e = Gauge::builder(name).register(&r).unwrap_err();
        assert!(matches!(e, promkit::Error::Register(RegisterError::Collision { .. })), "{name}: {e}");
    }
    Gauge::builder("x_gcount").register(&r).unwrap();
    let e = GaugeHistogram::builder("x").register(&r).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "`x` would write samples named `x_gcount`, which family `x_gcount` writes too; rename one of them"
        ),
        "{e}"
    );
    // A histogram and a gauge histogram share `_bucket`, `_sum` and `_count`.
    let e = Histogram::builder("q").register(&r).unwrap_err();
    assert!(matches!(e, promkit::Error::Register(RegisterError::Inconsistent { .. })), "{e}");

    StateSet::builder("mode").states(["a"]).register(&r).unwrap();
    let e = Gauge::builder("mode").register(&r).unwrap_err();
    assert!(matches!(e, promkit::Error::Register(RegisterError::Inconsistent { .. })), "{e}");
}

#[test]
fn declarations_of_the_new_types_are_checked() {
    let e = StateSet::builder("ns:mode").states(["a"]).build().unwrap_err();
    assert!(matches!(e, BuildError::StateLabel { .. }), "{e}");
    assert!(e.to_string().starts_with("stateset `ns:mode`: the name is also the state label's name"), "{e}");
    let e = StateSet::builder("mode").labels(["mode"]).states(["a"]).build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "stateset `mode`: the label `mode` is the state label the stateset writes itself; rename it"
    );
    let e = StateSet::builder("mode").build().unwrap_err();
    assert_eq!(e.to_string(), "stateset `mode`: it has no states; give them with `.states([...])`");
    let e = StateSet::builder("mode").states(["a", "a"]).build().unwrap_err();
    assert_eq!(e.to_string(), "stateset `mode`: state `a` is given twice; each state once");
    assert!(StateSet::builder("mode").states([""]).build().is_err());
    assert!(StateSet::builder("mode").states((0..65).map(|i| i.to_string())).build().is_err());
    assert!(StateSet::builder("mode").states((0..64).map(|i| i.to_string())).build().is_ok());
    let e = StateSet::builder("mode").states(["a"]).unit("x").build().unwrap_err();
    assert!(matches!(e, BuildError::UnitNotAllowed { .. }), "{e}");
    let e = EnumStateSet::<u8>::builder("n").build().unwrap_err();
    assert!(e.to_string().contains("`u8` has no fixed set of values"), "{e}");
    assert!(EnumStateSet::<bool>::builder("flag").build().is_ok());
    let e = GaugeHistogram::builder("g").labels(["le"]).build().unwrap_err();
    assert!(matches!(e, BuildError::ReservedLabel { .. }), "{e}");

    let s = StateSet::builder("door").states(["open", "shut"]).build().unwrap();
    let e = s.metric().set("ajar").unwrap_err();
    assert_eq!(e.to_string(), "stateset `door` has no state `ajar` (its states: open, shut)");
    s.metric().set_state("open", true).unwrap();
    s.metric().set_state("shut", true).unwrap();
    assert_eq!(s.metric().current(), ["open", "shut"]);
    s.metric().set_state("open", false).unwrap();
    assert!(!s.metric().holds("open") && s.metric().holds("shut") && !s.metric().holds("ajar"));
}

fn py(name: &str, labels: &[(&str, &str)], value: f64) -> PySample {
    PySample {
        name: name.to_owned(),
        labels: labels.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect::<BTreeMap<_, _>>(),
        value,
        timestamp: None,
        exemplar: None,
    }
}

fn family(name: &str, kind: &str, help: &str, unit: &str, samples: Vec<PySample>) -> PyFamily {
    PyFamily {
        name: name.to_owned(),
        r#type: kind.to_owned(),
        help: help.to_owned(),
        unit: unit.to_owned(),
        samples,
    }
}

#[test]
fn python_openmetrics_parser_reads_the_types_back_exactly() {
    let Some(parsed) =
        promkit_oracle::python_parse(&crate::om(&registry()), promkit_oracle::Format::OpenMetrics)
    else {
        return;
    };
    let families = parsed.expect("python parses the OpenMetrics types");
    let (c, d, q) = (("upstream", "cache"), ("upstream", "db"), ("queue", "mail"));
    let expected = vec![
        family(
            "app_build",
            "info",
            "Build facts.",
            "",
            vec![py("app_build_info", &[("commit", "9f3a\"2c1"), ("version", "1.4.2")], 1.0)],
        ),
        family(
            "breaker",
            "stateset",
            "Breaker state.",
            "",
            vec![
                py("breaker", &[c, ("breaker", "closed")], 1.0),
                py("breaker", &[c, ("breaker", "open")], 0.0),
                py("breaker", &[d, ("breaker", "closed")], 0.0),
                py("breaker", &[d, ("breaker", "open")], 1.0),
            ],
        ),
        family(
            "phase",
            "stateset",
            "Lifecycle phase.",
            "",
            vec![
                py("phase", &[("phase", "starting")], 0.0),
                py("phase", &[("phase", "serving")], 0.0),
                py("phase", &[("phase", "draining")], 1.0),
            ],
        ),
        family(
            "queue_age_seconds",
            "gaugehistogram",
            "Queued jobs by age.",
            "seconds",
            vec![
                py("queue_age_seconds_bucket", &[q, ("le", "1.0")], 1.0),
                py("queue_age_seconds_bucket", &[q, ("le", "10.0")], 2.0),
                py("queue_age_seconds_bucket", &[q, ("le", "+Inf")], 3.0),
                py("queue_age_seconds_gsum", &[q], 22.5),
                py("queue_age_seconds_gcount", &[q], 3.0),
            ],
        ),
    ];
    assert_eq!(families, expected);
}

#[test]
fn python_text_parser_reads_the_gauge_and_histogram_forms() {
    let Some(parsed) = promkit_oracle::python_parse(&crate::text(&registry()), promkit_oracle::Format::Text)
    else {
        return;
    };
    let families = parsed.expect("python parses the text forms");
    let summary: Vec<(String, String, usize)> =
        families.iter().map(|f| (f.name.clone(), f.r#type.clone(), f.samples.len())).collect();
    assert_eq!(
        summary,
        [
            ("app_build_info".to_owned(), "gauge".to_owned(), 1),
            ("breaker".to_owned(), "gauge".to_owned(), 4),
            ("phase".to_owned(), "gauge".to_owned(), 3),
            ("queue_age_seconds".to_owned(), "histogram".to_owned(), 5),
        ]
    );
    assert_eq!(families[2].samples[2], py("phase", &[("phase", "draining")], 1.0));
    assert_eq!(families[3].samples[3], py("queue_age_seconds_sum", &[("queue", "mail")], 22.5));
}

#[test]
fn go_reads_the_protobuf_types() {
    let mut pb = Vec::new();
    registry().encode(Format::Protobuf, &mut pb).unwrap();
    let Some(out) = promkit_oracle::go("describe-protobuf", &pb) else { return };
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, GO_PROTOBUF);
}

#[test]
fn go_reads_the_text_forms_as_gauges_and_a_histogram() {
    let Some(out) = promkit_oracle::go("describe-text", crate::text(&registry()).as_bytes()) else { return };
    assert_eq!(out.status, 0, "{}", out.stderr);
    // Go's text parser sorts nothing and keeps the state label where it was written.
    let expected = GO_PROTOBUF
        .replace("GAUGE_HISTOGRAM", "HISTOGRAM")
        .replace("buckets=1:1,10:2", "buckets=1:1,10:2,+Inf:3");
    assert_eq!(out.stdout, expected);
}

#[test]
fn promtool_accepts_the_text_forms_without_a_lint_finding() {
    let text = crate::text(&registry());
    let Some(report) = promkit_oracle::promtool_check(&text) else { return };
    assert!(report.ok, "promtool rejected it: {}\n{text}", report.output);
    assert_eq!(report.lint, Vec::<String>::new(), "{text}");
}

/// Serves one fixed OpenMetrics body on loopback until dropped (a scrape target with no HTTP
/// stack: promkit itself has none).
struct Target {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Target {
    fn serve(body: String) -> Self {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                // The request head ends at the first empty line; a scrape has no body.
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    promkit::encode::OPENMETRICS_CONTENT_TYPE,
                    body.len()
                );
            }
        });
        Self { addr, stop, thread: Some(thread) }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Prometheus scrapes the OpenMetrics form: PromQL finds each type's series with its value,
/// and the metadata API reports the OpenMetrics types.
#[test]
fn prometheus_scrapes_info_stateset_and_gaugehistogram() {
    use promkit_oracle::prometheus::{PrometheusServer, Target as Scrape};
    let target = Target::serve(crate::om(&registry()));
    let Some(prom) = PrometheusServer::start(&[Scrape::new("omtypes", target.addr)], &[]) else { return };
    prom.wait_up("omtypes", std::time::Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
    for (promql, want) in [
        (r#"app_build_info{job="omtypes",version="1.4.2",commit="9f3a\"2c1"}"#, 1.0),
        (r#"breaker{job="omtypes",upstream="db",breaker="open"}"#, 1.0),
        (r#"breaker{job="omtypes",upstream="db",breaker="closed"}"#, 0.0),
        (r#"sum(breaker{job="omtypes"})"#, 2.0),
        (r#"phase{job="omtypes",phase="draining"}"#, 1.0),
        (r#"queue_age_seconds_gcount{job="omtypes",queue="mail"}"#, 3.0),
        (r#"queue_age_seconds_gsum{job="omtypes",queue="mail"}"#, 22.5),
        (r#"queue_age_seconds_bucket{job="omtypes",queue="mail",le="+Inf"}"#, 3.0),
        (r#"count(queue_age_seconds_bucket{job="omtypes"})"#, 3.0),
    ] {
        assert_eq!(prom.query_scalar(promql).unwrap_or_else(|e| panic!("{e}")), Some(want), "{promql}");
    }
    let types: Vec<(String, String)> = ["app_build", "breaker", "phase", "queue_age_seconds"]
        .iter()
        .map(|m| {
            let meta = prom.api(&format!("/api/v1/metadata?metric={m}")).unwrap();
            (m.to_string(), meta[m][0]["type"].as_str().unwrap_or("(none)").to_owned())
        })
        .collect();
    eprintln!("prometheus metadata: {types:?}");
    assert_eq!(
        types,
        [
            ("app_build".to_owned(), "info".to_owned()),
            ("breaker".to_owned(), "stateset".to_owned()),
            ("phase".to_owned(), "stateset".to_owned()),
            ("queue_age_seconds".to_owned(), "gaugehistogram".to_owned()),
        ]
    );
}
