//! promkit-parse on a 100 000-series exposition, text 0.0.4 and OpenMetrics: the records alone
//! (every line checked, nothing owned) and the owned model. Go's `expfmt.TextParser` and
//! Python's parsers on the same bytes: `cargo run -p bench --release --bin parse-peers`.

use std::hint::black_box;

use bench::parse_fixture::parse_exposition;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use promkit::Format;

fn parse(c: &mut Criterion) {
    let text = parse_exposition(Format::Text);
    let om = parse_exposition(Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Omit });
    let mut g = c.benchmark_group("parse_text");
    g.sample_size(10).throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("records", |b| {
        b.iter(|| {
            promkit_parse::text::parse(black_box(&text))
                .map(|r| r.map(|_| 1))
                .sum::<Result<usize, _>>()
                .unwrap()
        })
    });
    g.bench_function("model", |b| b.iter(|| promkit_parse::model::from_text(black_box(&text)).unwrap()));
    g.finish();
    let mut g = c.benchmark_group("parse_openmetrics");
    g.sample_size(10).throughput(Throughput::Bytes(om.len() as u64));
    g.bench_function("records", |b| {
        b.iter(|| {
            promkit_parse::openmetrics::parse(black_box(&om))
                .map(|r| r.map(|_| 1))
                .sum::<Result<usize, _>>()
                .unwrap()
        })
    });
    g.bench_function("model", |b| b.iter(|| promkit_parse::model::from_openmetrics(black_box(&om)).unwrap()));
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
