//! A facade name promkit cannot take: logged once, never a panic, updates dropped.

use std::io::Write;
use std::sync::{Arc, Mutex};

use metrics::{counter, gauge, with_local_recorder};
use promkit::{Gauge, Registry};
use promkit_metrics::PromkitRecorder;

use crate::text;

/// Log lines written while `f` runs on this thread.
fn logged(f: impl FnOnce()) -> String {
    #[derive(Clone)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf(Arc::default());
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || out.clone()).finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_registry_family_of_another_type_is_logged_once_and_the_facade_is_a_no_op() {
    let registry = Registry::new();
    Gauge::builder("jobs_total").help("A gauge, by mistake.").register(&registry).unwrap().set(7);
    let recorder = PromkitRecorder::new(&registry);
    let log = logged(|| {
        with_local_recorder(&recorder, || {
            for _ in 0..3 {
                counter!("jobs_total").increment(1);
                counter!("jobs_total", "a" => "b").increment(1);
            }
        });
    });
    assert_eq!(log.matches("WARN").count(), 1, "{log}");
    assert!(
        log.contains(
            "cannot register `jobs_total`: `jobs_total` is already registered with a different type"
        ),
        "{log}"
    );
    assert_eq!(
        text(&registry),
        "# HELP jobs_total A gauge, by mistake.\n# TYPE jobs_total gauge\njobs_total 7\n"
    );
}

#[test]
fn one_name_as_two_types_keeps_the_first_and_logs_the_second_once() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    let log = logged(|| {
        with_local_recorder(&recorder, || {
            counter!("x").increment(1);
            for _ in 0..3 {
                gauge!("x").set(9.0);
            }
        });
    });
    assert_eq!(log.matches("WARN").count(), 1, "{log}");
    assert!(log.contains("`x` is a counter already, so this gauge cannot use the name"), "{log}");
    assert_eq!(text(&registry), "# HELP x \n# TYPE x counter\nx 1\n");
}

#[test]
fn label_keys_that_map_to_one_name_are_logged_not_panicked() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    let log = logged(|| {
        with_local_recorder(&recorder, || {
            counter!("y_total", "a.b" => "1", "a-b" => "2").increment(1);
        });
    });
    assert_eq!(log.matches("WARN").count(), 1, "{log}");
    assert!(log.contains("no series for `y_total{a.b=\"1\",a-b=\"2\"}`: label `a_b` appears twice"), "{log}");
}
