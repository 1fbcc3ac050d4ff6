//! promkit-tokio's integration tests: exact runtime values in the exposition, runtime labels
//! with several runtimes, and promtool's verdict on the output.
//!
//! promtool (`promkit_oracle`) returns `None` when missing; the check then ends early, except
//! under `CI=true`, where a missing promtool fails.

use std::time::{Duration, Instant};

use promkit::{Format, Registry};
use promkit_tokio::{RuntimeCollector, RuntimeError};

/// The value of the series `prefix` (name and labels) in `text`.
fn value(text: &str, prefix: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"));
    line[prefix.len() + 1..].parse().unwrap()
}

#[test]
fn one_runtime_exports_its_workers_and_alive_tasks_unlabelled() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let registry = Registry::new();
    registry.register(RuntimeCollector::new(rt.handle().clone())).unwrap();

    // Three tasks that stay alive until released.
    let (release, released) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let mut released = released.clone();
            rt.spawn(async move {
                let _ = released.wait_for(|r| *r).await;
            })
        })
        .collect();
    let text = registry.encode_string(Format::Text).unwrap();
    assert!(
        text.contains(
            "# HELP tokio_runtime_workers Worker threads of the runtime.\n# TYPE tokio_runtime_workers gauge\ntokio_runtime_workers 2\n"
        ),
        "{text}"
    );
    assert_eq!(value(&text, "tokio_runtime_alive_tasks"), 3.0, "{text}");
    for w in ["0", "1"] {
        assert!(value(&text, &format!("tokio_runtime_worker_parks_total{{worker=\"{w}\"}}")) >= 0.0);
        assert!(value(&text, &format!("tokio_runtime_worker_busy_seconds_total{{worker=\"{w}\"}}")) >= 0.0);
    }
    assert!(!text.contains("runtime=\""), "one runtime, no runtime label:\n{text}");

    release.send(true).unwrap();
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    // Finished tasks leave the count once the runtime has dropped them: polled, not slept.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = registry.encode_string(Format::Text).unwrap();
        let alive = value(&text, "tokio_runtime_alive_tasks");
        if alive == 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "tokio_runtime_alive_tasks still {alive} after 10 s");
        std::thread::yield_now();
    }

    // OpenMetrics: the busy-time counter carries its unit.
    let om = registry.encode_string(Format::OPENMETRICS).unwrap();
    assert!(om.contains("# UNIT tokio_runtime_worker_busy_seconds seconds\n"), "{om}");

    if let Some(report) = promkit_oracle::promtool_check(&text) {
        assert!(report.ok, "{}", report.output);
        assert_eq!(report.lint, Vec::<String>::new(), "{}", report.output);
    }
}

#[test]
fn several_runtimes_share_one_collector_labelled_by_name() {
    let main = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let single = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let registry = Registry::new();
    let collector = RuntimeCollector::builder()
        .runtime("main", main.handle().clone())
        .runtime("single", single.handle().clone())
        .build()
        .unwrap();
    registry.register(collector).unwrap();
    let text = registry.encode_string(Format::Text).unwrap();
    assert_eq!(value(&text, "tokio_runtime_workers{runtime=\"main\"}"), 2.0, "{text}");
    assert_eq!(value(&text, "tokio_runtime_workers{runtime=\"single\"}"), 1.0, "{text}");
    assert!(text.contains("tokio_runtime_worker_parks_total{runtime=\"main\",worker=\"1\"} "), "{text}");
    assert!(text.contains("tokio_runtime_worker_parks_total{runtime=\"single\",worker=\"0\"} "), "{text}");
    assert!(!text.contains("runtime=\"single\",worker=\"1\""), "{text}");
    if let Some(report) = promkit_oracle::promtool_check(&text) {
        assert!(report.ok, "{}", report.output);
    }
}

#[test]
fn a_collector_needs_runtimes_with_distinct_names() {
    assert_eq!(RuntimeCollector::builder().build().unwrap_err(), RuntimeError::NoRuntime);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let e = RuntimeCollector::builder()
        .runtime("a", rt.handle().clone())
        .runtime("a", rt.handle().clone())
        .build()
        .unwrap_err();
    assert_eq!(e, RuntimeError::DuplicateName { name: "a".into() });
    assert_eq!(e.to_string(), "two runtimes are named `a`; each needs its own `runtime` label value");
}
