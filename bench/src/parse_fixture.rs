//! The parser benchmark's input: a 100 000-series exposition written by promkit.

use promkit::{CounterF64, Format, GaugeF64, Histogram, Registry};

/// Series in the parse fixture.
pub const PARSE_SERIES: usize = 100_000;

/// 24 counter and gauge families of 4000 series each (labels `method`, `code`, `instance`),
/// and one histogram family of 4000 series with Go's default buckets: 100 000 series,
/// about 152 000 sample lines.
pub fn parse_registry() -> Registry {
    const PER_FAMILY: usize = 4000;
    let r = Registry::new();
    let codes = ["200", "404", "500", "503"];
    for f in 0..24 {
        let labels = ["method", "code", "instance"];
        if f % 2 == 0 {
            let c = CounterF64::builder(format!("app_requests_{f}_total"))
                .help("Requests handled.")
                .labels(labels)
                .register(&r)
                .unwrap();
            for i in 0..PER_FAMILY {
                let inst = format!("host-{i:05}.example.org:9100");
                c.with_label_values(&[crate::METHODS[i % 4], codes[i / 4 % 4], &inst])
                    .unwrap()
                    .inc_by((i * 7 + f) as f64);
            }
        } else {
            let g = GaugeF64::builder(format!("app_queue_depth_{f}"))
                .help("Queue depth, in items.")
                .labels(labels)
                .register(&r)
                .unwrap();
            for i in 0..PER_FAMILY {
                let inst = format!("host-{i:05}.example.org:9100");
                g.with_label_values(&[crate::METHODS[i % 4], codes[i / 4 % 4], &inst])
                    .unwrap()
                    .set(i as f64 * 0.37 - 100.0);
            }
        }
    }
    let h = Histogram::builder("app_request_duration_seconds")
        .help("Request latency.")
        .labels(["instance"])
        .register(&r)
        .unwrap();
    let obs = crate::observations();
    for i in 0..PER_FAMILY {
        let s = h.with_label_values(&[&format!("host-{i:05}.example.org:9100")]).unwrap();
        for k in 0..crate::OBSERVATIONS_PER_SERIES {
            s.observe(obs[(i + k * 13) % obs.len()]);
        }
    }
    r
}

/// The fixture in `format`.
pub fn parse_exposition(format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    parse_registry().encode(format, &mut out).unwrap();
    out
}
