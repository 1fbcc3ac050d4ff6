//! Push formats against a real Pushgateway: protobuf (the default) carries a native histogram
//! and exemplars through the gateway; text carries neither.

use promkit::model::{MetricFamily, SampleValue, SnapshotHistogram};
use promkit::{Buckets, Counter, Histogram, NativeOptions, Registry};
use promkit_push::{PushFormat, Pusher};

use crate::gateway::gateway_or_skip;

const PROTOBUF: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

/// A native histogram (with classic buckets too), a classic bucket exemplar and a counter
/// exemplar.
fn registry() -> Registry {
    let r = Registry::new();
    let native = Histogram::builder("pkf_native_seconds")
        .help("Native.")
        .buckets(Buckets::new([1.0]).unwrap())
        .native(NativeOptions::with_factor(2.0))
        .register(&r)
        .unwrap();
    for v in [0.5, 0.75, 3.0] {
        native.observe(v);
    }
    native.observe_with_exemplar(1.5, &[("trace_id", "n1")]).unwrap();
    let classic = Histogram::builder("pkf_classic_seconds")
        .help("Classic.")
        .buckets(Buckets::new([1.0]).unwrap())
        .register(&r)
        .unwrap();
    classic.observe_with_exemplar(0.25, &[("trace_id", "c1")]).unwrap();
    let jobs = Counter::builder("pkf_jobs_total").help("Jobs.").register(&r).unwrap();
    jobs.inc_by_with_exemplar(2, &[("trace_id", "j1")]).unwrap();
    r
}

/// The gateway's families of job `job`, read back from its protobuf exposition, without the
/// `job` and `instance` labels it adds.
fn read_back(gw: &crate::gateway::Gateway, job: &str) -> Vec<MetricFamily> {
    let body = gw.get_bytes("/metrics", PROTOBUF);
    let mut families = promkit_parse::model::from_protobuf(&body).expect("the gateway's protobuf parses");
    for f in &mut families {
        f.samples.retain(|s| s.labels.iter().any(|(n, v)| n == "job" && v == job));
        for s in &mut f.samples {
            s.labels.retain(|(n, _)| n != "job" && n != "instance");
        }
    }
    families.retain(|f| f.name.starts_with("pkf_") && !f.samples.is_empty());
    families
}

fn histogram(f: &MetricFamily) -> &SnapshotHistogram {
    match &f.samples[0].value {
        SampleValue::Histogram(h) => h,
        other => panic!("{}: not a histogram: {other:?}", f.name),
    }
}

/// Pushgateway 1.5.1 keeps a protobuf push as it came: the native buckets, the native
/// histogram's own exemplar list, the classic buckets' and the counter's exemplars, and the
/// created timestamps all come back from its protobuf exposition exactly as pushed.
///
/// The native exemplars survive by accident of the build: Debian's gateway is built on
/// client_model 0.3.0, whose `Histogram` has no `exemplars` field (16), but its generated code
/// (golang/protobuf 1.3 style) keeps unknown fields in `XXX_unrecognized` and writes them back
/// out. A gateway built on a client_model that drops unknown fields would lose them; this
/// test would then say so.
#[tokio::test]
async fn protobuf_pushes_native_histograms_and_exemplars() {
    let gw = gateway_or_skip!();
    let pusher = Pusher::builder(&gw.url, "pkf").registry(&registry()).build().unwrap();
    pusher.push().await.unwrap();
    let pushed = promkit_parse::model::from_protobuf(&pusher.body().unwrap()).unwrap();
    assert_eq!(pushed.len(), 3);
    gw.eventually("the pushed protobuf families", &pushed, || read_back(&gw, "pkf"));

    let got = read_back(&gw, "pkf");
    let (classic, jobs, native) = (&got[0], &got[1], &got[2]);
    assert_eq!(classic.name, "pkf_classic_seconds");
    let e = histogram(classic).exemplars[0].as_ref().expect("the classic bucket's exemplar");
    assert_eq!((e.labels(), e.value()), (&[("trace_id".to_owned(), "c1".to_owned())][..], 0.25));
    let e = jobs.samples[0].exemplar.as_ref().expect("the counter's exemplar");
    assert_eq!((e.labels(), e.value()), (&[("trace_id".to_owned(), "j1".to_owned())][..], 2.0));
    let n = histogram(native).native.as_ref().expect("native buckets survive the gateway");
    assert_eq!((n.schema, n.count, n.sum, n.zero_count), (0, 4, 5.75, 0));
    assert_eq!(n.positive, [(-1, 1), (0, 1), (1, 1), (2, 1)]);
    assert_eq!(n.exemplars.len(), 1, "the native exemplar survives the gateway");
    assert_eq!((n.exemplars[0].labels()[0].1.as_str(), n.exemplars[0].value()), ("n1", 1.5));
}

/// Text 0.0.4 has no native buckets and no exemplars: the gateway gets the classic
/// histogram (count and sum of every observation) and the bare counter.
#[tokio::test]
async fn text_pushes_drop_native_buckets_and_exemplars() {
    let gw = gateway_or_skip!();
    let pusher =
        Pusher::builder(&gw.url, "pkf_text").registry(&registry()).format(PushFormat::Text).build().unwrap();
    pusher.push().await.unwrap();
    gw.eventually("the text push", &3, || read_back(&gw, "pkf_text").len());
    let got = read_back(&gw, "pkf_text");
    let native = histogram(&got[2]);
    assert_eq!(
        (native.native.is_none(), native.cumulative.as_slice(), native.sum),
        (true, &[2, 4][..], 5.75)
    );
    assert!(native.exemplars.is_empty() && histogram(&got[0]).exemplars.is_empty());
    assert_eq!(got[1].samples[0].exemplar, None);
    assert_eq!(got[1].samples[0].value, SampleValue::Counter(2.0));
}
