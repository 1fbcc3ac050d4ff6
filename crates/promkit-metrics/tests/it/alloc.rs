//! The facade's hot path through this recorder: a warm `counter!` with literal labels finds
//! its cached handle and allocates nothing.

use metrics::{counter, gauge, histogram, with_local_recorder};
use promkit::Registry;
use promkit_metrics::PromkitRecorder;

use crate::count_allocations;

#[test]
fn repeated_labelled_macro_calls_do_not_allocate() {
    let registry = Registry::new();
    let recorder = PromkitRecorder::new(&registry);
    with_local_recorder(&recorder, || {
        let update = || {
            counter!("requests_total", "method" => "GET", "code" => "200").increment(1);
            gauge!("in_flight", "pool" => "a").increment(1.0);
            histogram!("took_seconds", "route" => "/x").record(0.25);
        };
        update(); // creates the series and caches the handles
        let ((), n) = count_allocations(|| {
            for _ in 0..1000 {
                update();
            }
        });
        assert_eq!(n, 0, "allocations in 1000 warm rounds");
    });
    assert!(crate::text(&registry).contains("requests_total{code=\"200\",method=\"GET\"} 1001\n"));
}
