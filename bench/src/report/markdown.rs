//! Renders `BENCHMARKS.md`: machine, versions, the scenario × crate table, targets, memory,
//! and what is not like-for-like.

use std::fmt::Write as _;

use super::machine::Machine;
use super::{MemoryRow, Results, Run};

/// The peer columns: heading and the crate's name in benchmark ids and the memory probe.
const PEERS: [&str; 4] = ["prometheus", "prometheus-client", "metrics", "measured"];

/// One line of the main table: a scenario and the function measuring each crate in it.
struct Row {
    /// What the line shows.
    scenario: &'static str,
    /// The criterion group.
    group: &'static str,
    /// promkit's function in the group.
    promkit: &'static str,
    /// Each peer's function, in [`PEERS`] order; `None` when the crate cannot do it.
    peers: [Option<&'static str>; 4],
    /// The floor promkit is compared with, if any.
    floor: Option<&'static str>,
}

const ALL_PEERS: [Option<&str>; 4] =
    [Some("prometheus"), Some("prometheus_client"), Some("metrics"), Some("measured")];
const TEXT_PEERS: [Option<&str>; 4] = [Some("prometheus"), None, Some("metrics"), Some("measured")];
const OPENMETRICS_PEERS: [Option<&str>; 4] = [None, Some("prometheus_client"), None, None];

const NONE: [Option<&str>; 4] = [None, None, None, None];

const ROWS: [Row; 29] = [
    Row {
        scenario: "counter_inc: `Counter::inc()`",
        group: "counter_inc",
        promkit: "promkit",
        peers: ALL_PEERS,
        floor: Some("floor_atomic"),
    },
    Row {
        scenario: "counter_inc: `counter.local()` handle",
        group: "counter_inc",
        promkit: "promkit_local",
        peers: ALL_PEERS,
        floor: Some("floor_plain"),
    },
    Row {
        scenario: "counter_inc_contended: shared `inc()`",
        group: "counter_inc_contended",
        promkit: "promkit",
        peers: ALL_PEERS,
        floor: Some("floor_atomic"),
    },
    Row {
        scenario: "counter_inc_contended: `local()` per thread",
        group: "counter_inc_contended",
        promkit: "promkit_local",
        peers: ALL_PEERS,
        floor: Some("floor_plain"),
    },
    Row {
        scenario: "histogram_observe",
        group: "histogram_observe",
        promkit: "promkit",
        peers: ALL_PEERS,
        floor: None,
    },
    Row {
        scenario: "histogram_observe_contended",
        group: "histogram_observe_contended",
        promkit: "promkit",
        peers: ALL_PEERS,
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc: string labels",
        group: "labeled_counter_inc",
        promkit: "promkit_str",
        peers: [Some("prometheus"), Some("prometheus_client"), Some("metrics"), Some("measured_str")],
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc: typed enum labels",
        group: "labeled_counter_inc",
        promkit: "promkit_typed",
        peers: [None, Some("prometheus_client_typed"), None, Some("measured_typed")],
        floor: None,
    },
    Row {
        scenario: "labeled_new_series (miss path)",
        group: "labeled_new_series",
        promkit: "promkit",
        peers: ALL_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_10k, text 0.0.4",
        group: "encode_10k_text",
        promkit: "promkit",
        peers: TEXT_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_10k, OpenMetrics",
        group: "encode_10k_openmetrics",
        promkit: "promkit",
        peers: OPENMETRICS_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_100k, text 0.0.4",
        group: "encode_100k_text",
        promkit: "promkit",
        peers: TEXT_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_100k, OpenMetrics",
        group: "encode_100k_openmetrics",
        promkit: "promkit",
        peers: OPENMETRICS_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_histograms (1,000 series), text",
        group: "encode_histograms_text",
        promkit: "promkit",
        peers: TEXT_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_histograms (1,000 series), OpenMetrics",
        group: "encode_histograms_openmetrics",
        promkit: "promkit",
        peers: OPENMETRICS_PEERS,
        floor: None,
    },
    Row {
        scenario: "summary_observe, 3 objectives",
        group: "summary_observe",
        promkit: "promkit",
        peers: [None, None, Some("metrics"), None],
        floor: Some("promkit_classic"),
    },
    Row {
        scenario: "summary_observe, count and sum only",
        group: "summary_observe",
        promkit: "promkit_count_sum",
        peers: NONE,
        floor: Some("promkit_classic"),
    },
    Row {
        scenario: "native_histogram_observe, factor 1.1",
        group: "native_histogram_observe",
        promkit: "promkit",
        peers: NONE,
        floor: Some("promkit_classic"),
    },
    Row {
        scenario: "native_histogram_observe, native + classic",
        group: "native_histogram_observe",
        promkit: "promkit_both",
        peers: NONE,
        floor: Some("promkit_classic"),
    },
    Row {
        scenario: "exemplar_observe, histogram",
        group: "exemplar_observe",
        promkit: "promkit_histogram",
        peers: [None, Some("prometheus_client_histogram"), None, None],
        floor: None,
    },
    Row {
        scenario: "exemplar_observe, counter",
        group: "exemplar_observe",
        promkit: "promkit_counter",
        peers: [None, Some("prometheus_client_counter"), None, None],
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc: string labels, `with_series` (no handle)",
        group: "labeled_counter_inc",
        promkit: "promkit_with_series",
        peers: [Some("prometheus"), Some("prometheus_client"), Some("metrics"), Some("measured_str")],
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc, 2 threads, same series: `with_label_values`",
        group: "labeled_counter_inc_contended_same",
        promkit: "promkit_str",
        peers: CONTENDED_LOOKUP_PEERS,
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc, 2 threads, same series: `with_series`",
        group: "labeled_counter_inc_contended_same",
        promkit: "promkit_with_series",
        peers: CONTENDED_LOOKUP_PEERS,
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc, 2 threads, different series: `with_label_values`",
        group: "labeled_counter_inc_contended_different",
        promkit: "promkit_str",
        peers: CONTENDED_LOOKUP_PEERS,
        floor: None,
    },
    Row {
        scenario: "labeled_counter_inc, 2 threads, different series: `with_series`",
        group: "labeled_counter_inc_contended_different",
        promkit: "promkit_with_series",
        peers: CONTENDED_LOOKUP_PEERS,
        floor: None,
    },
    Row {
        scenario: "encode_10k, protobuf (delimited)",
        group: "encode_10k_protobuf",
        promkit: "promkit",
        peers: PROTOBUF_PEERS,
        floor: Some("promkit_text"),
    },
    Row {
        scenario: "encode_100k, protobuf (delimited)",
        group: "encode_100k_protobuf",
        promkit: "promkit",
        peers: PROTOBUF_PEERS,
        floor: Some("promkit_text"),
    },
    Row {
        scenario: "encode_histograms (1,000 series), protobuf (delimited)",
        group: "encode_histograms_protobuf",
        promkit: "promkit",
        peers: PROTOBUF_PEERS,
        floor: Some("promkit_text"),
    },
];

/// The peers with a protobuf encoder: prometheus' `ProtobufEncoder`, prometheus-client's
/// `prometheus_protobuf` messages written length-delimited by prost. Each protobuf group also
/// times promkit's text encode of the same series (`promkit_text`), the floor of its row.
const PROTOBUF_PEERS: [Option<&str>; 4] = [Some("prometheus"), Some("prometheus_client"), None, None];

/// The peers of the two-thread string-label lookups (the crates with a string-keyed family).
const CONTENDED_LOOKUP_PEERS: [Option<&str>; 4] = [Some("prometheus"), Some("prometheus_client"), None, None];

/// What a target compares promkit with.
enum Bound {
    /// The fastest peer of the row.
    FastestPeer,
    /// The row's floor.
    Floor,
    /// One peer column of the row (by index into [`PEERS`]).
    Peer(usize),
}

/// One of the targets: row (index into [`ROWS`]), what it is compared with, the
/// largest ratio that meets it.
struct Target {
    text: &'static str,
    row: usize,
    bound: Bound,
    max_ratio: f64,
}

const TARGETS: [Target; 28] = [
    Target {
        text: "counter_inc ≤ 1.0× relaxed `fetch_add` floor",
        row: 0,
        bound: Bound::Floor,
        max_ratio: 1.0,
    },
    Target {
        text: "`counter.local()` inc ≤ 3× plain-add floor",
        row: 1,
        bound: Bound::Floor,
        max_ratio: 3.0,
    },
    Target {
        text: "counter_inc_contended ≤ 0.35× fastest peer (shared `inc()`)",
        row: 2,
        bound: Bound::FastestPeer,
        max_ratio: 0.35,
    },
    Target {
        text: "counter_inc_contended ≤ 0.35× fastest peer (`local()` per thread)",
        row: 3,
        bound: Bound::FastestPeer,
        max_ratio: 0.35,
    },
    Target {
        text: "histogram_observe ≤ 0.6× fastest peer",
        row: 4,
        bound: Bound::FastestPeer,
        max_ratio: 0.6,
    },
    Target {
        text: "histogram_observe_contended ≤ 0.35× fastest peer",
        row: 5,
        bound: Bound::FastestPeer,
        max_ratio: 0.35,
    },
    Target {
        text: "labeled_counter_inc, string labels ≤ 0.5× fastest peer",
        row: 6,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "labeled_counter_inc, typed enum labels ≤ 1.0× measured's enum labels",
        row: 7,
        bound: Bound::Peer(3),
        max_ratio: 1.0,
    },
    Target {
        text: "encode_10k text ≤ 0.35× fastest peer",
        row: 9,
        bound: Bound::FastestPeer,
        max_ratio: 0.35,
    },
    Target {
        text: "encode_10k OpenMetrics ≤ 0.3× fastest peer",
        row: 10,
        bound: Bound::FastestPeer,
        max_ratio: 0.3,
    },
    Target {
        text: "encode_100k text ≤ 0.35× fastest peer",
        row: 11,
        bound: Bound::FastestPeer,
        max_ratio: 0.35,
    },
    Target {
        text: "encode_100k OpenMetrics ≤ 0.3× fastest peer",
        row: 12,
        bound: Bound::FastestPeer,
        max_ratio: 0.3,
    },
    Target {
        text: "labeled_counter_inc, `with_series` ≤ 0.5× fastest peer",
        row: 21,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "2 threads, same series, `with_label_values` ≤ 0.5× fastest peer",
        row: 22,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "2 threads, same series, `with_series` ≤ 0.5× fastest peer",
        row: 23,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "2 threads, different series, `with_label_values` ≤ 0.5× fastest peer",
        row: 24,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "2 threads, different series, `with_series` ≤ 0.5× fastest peer",
        row: 25,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "encode_histograms (1,000 series) text ≤ 0.35× fastest peer",
        row: 13,
        bound: Bound::FastestPeer,
        max_ratio: 0.35,
    },
    Target {
        text: "encode_histograms (1,000 series) OpenMetrics ≤ 0.3× fastest peer",
        row: 14,
        bound: Bound::FastestPeer,
        max_ratio: 0.3,
    },
    Target {
        text: "native_histogram_observe, factor 1.1 ≤ 1.3× a classic observe",
        row: 17,
        bound: Bound::Floor,
        max_ratio: 1.3,
    },
    Target {
        text: "native_histogram_observe, native + classic ≤ 1.3× a classic observe",
        row: 18,
        bound: Bound::Floor,
        max_ratio: 1.3,
    },
    Target {
        text: "summary_observe, 3 objectives ≤ 1.0× metrics-exporter-prometheus' record",
        row: 15,
        bound: Bound::Peer(2),
        max_ratio: 1.0,
    },
    Target {
        text: "encode_10k protobuf ≤ 0.5× fastest peer's protobuf",
        row: 26,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "encode_10k protobuf ≤ 1.5× promkit's text",
        row: 26,
        bound: Bound::Floor,
        max_ratio: 1.5,
    },
    Target {
        text: "encode_100k protobuf ≤ 0.5× fastest peer's protobuf",
        row: 27,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "encode_100k protobuf ≤ 1.5× promkit's text",
        row: 27,
        bound: Bound::Floor,
        max_ratio: 1.5,
    },
    Target {
        text: "encode_histograms (1,000 series) protobuf ≤ 0.5× fastest peer's protobuf",
        row: 28,
        bound: Bound::FastestPeer,
        max_ratio: 0.5,
    },
    Target {
        text: "encode_histograms (1,000 series) protobuf ≤ 1.5× promkit's text",
        row: 28,
        bound: Bound::Floor,
        max_ratio: 1.5,
    },
];

/// `1.23 ns`, `456.7 ns`, `2.35 µs`, `12.3 ms`.
fn time(ns: f64) -> String {
    if ns < 100.0 {
        format!("{ns:.2} ns")
    } else if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn ratio(r: f64) -> String {
    format!("{r:.2}×")
}

/// The fastest peer of a row: `(median, column)`.
fn fastest_peer(results: &Results, row: &Row) -> Option<(f64, &'static str)> {
    row.peers
        .iter()
        .zip(PEERS)
        .filter_map(|(f, name)| Some((results.median(row.group, (*f)?)?, name)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// promkit's ratio for a target, with the reference it was compared with.
fn target_ratio(results: &Results, t: &Target) -> Option<(f64, f64, String)> {
    let row = &ROWS[t.row];
    let promkit = results.median(row.group, row.promkit)?;
    let (reference, name) = match t.bound {
        Bound::FastestPeer => {
            let (m, name) = fastest_peer(results, row)?;
            (m, name.to_owned())
        }
        Bound::Floor => {
            let floor = row.floor?;
            (results.median(row.group, floor)?, floor.to_owned())
        }
        Bound::Peer(i) => (results.median(row.group, row.peers[i]?)?, PEERS[i].to_owned()),
    };
    Some((promkit / reference, promkit, format!("{name} {}", time(reference))))
}

/// The whole document.
pub(super) fn render(
    run: &Run,
    machine: &Machine,
    versions: &[(String, String)],
    results: &Results,
    all_memory: &[MemoryRow],
    scrape: Option<&serde_json::Value>,
) -> String {
    // The headline memory table, target and facade section use the 100,000-counter probe;
    // the other probes get their own table and targets below them.
    let headline: Vec<MemoryRow> = all_memory.iter().filter(|m| m.is_headline()).cloned().collect();
    let memory = headline.as_slice();
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# Benchmarks: promkit and its peers\n");
    let _ = writeln!(
        w,
        "Generated by `{}` (criterion `{}`), {}; do not edit by hand, run it again. \
         The criterion suite is `bench/benches/peers.rs`, the memory probe \
         `bench/src/bin/memory.rs`, the fixtures every crate shares `bench/src/peers/`.\n",
        run.command, run.criterion_args, run.date
    );
    let _ = writeln!(w, "## Machine\n");
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| CPU | {} |", machine.cpu);
    let _ = writeln!(w, "| logical cores | {} |", machine.cores);
    let _ = writeln!(w, "| kernel | {} |", machine.kernel);
    let _ = writeln!(w, "| rustc | {} |", machine.rustc);
    let _ = writeln!(w, "| promkit sources | {} |", run.source);
    let _ = writeln!(w, "| load average (1, 5, 15 min) | before {}; after {} |", run.load.0, run.load.1);
    let _ = writeln!(
        w,
        "| wall time of the run | {:.0} s{} |",
        run.wall_seconds,
        if run.benched { "" } else { " (criterion skipped: `--skip-bench`)" }
    );
    let busiest = [&run.load.0, &run.load.1]
        .iter()
        .filter_map(|l| l.split_whitespace().next()?.parse::<f64>().ok())
        .fold(0.0, f64::max);
    if busiest > machine.cores as f64 {
        let _ = writeln!(
            w,
            "\n**This run shared the machine**: the 1-minute load average reached {busiest:.1} on \
             {} cores, so other processes took CPU time during the measurements. Absolute times \
             are inflated and ratios between crates are indicative only; the contended \
             scenarios (two threads on two cores) suffer most. Run the report on an idle \
             machine for numbers to quote.\n",
            machine.cores
        );
    } else {
        let _ = writeln!(
            w,
            "\nThe load average stayed below the core count: the machine was otherwise idle \
             enough for the numbers to be compared.\n"
        );
    }

    let _ = writeln!(w, "## Crate versions\n");
    let _ = writeln!(w, "| crate | version |\n|---|---|");
    for (name, version) in versions {
        let version = if version.is_empty() { "—" } else { version };
        let _ = writeln!(w, "| {name} | {version} |");
    }

    let _ = writeln!(w, "\n## Results\n");
    let _ = writeln!(
        w,
        "Median time per operation (criterion's median point estimate). Contended scenarios: \
         two threads each do `iters` operations on the same metric; the time is the slower \
         thread's wall clock divided by `iters` (ns per operation per thread). Encode scenarios: \
         time per full exposition. \"—\": the crate has no such API. Ratios below 1 favour promkit.\n"
    );
    let _ = write!(w, "| scenario | promkit |");
    for p in PEERS {
        let _ = write!(w, " {p} |");
    }
    let _ = writeln!(w, " floor_plain | floor_atomic | promkit ÷ fastest peer | promkit ÷ floor |");
    let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for row in &ROWS {
        let cell = |f: Option<&str>| {
            f.and_then(|f| results.median(row.group, f)).map_or_else(|| "—".to_owned(), time)
        };
        let promkit = results.median(row.group, row.promkit);
        let _ = write!(w, "| {} | **{}** |", row.scenario, cell(Some(row.promkit)));
        for f in row.peers {
            let _ = write!(w, " {} |", cell(f));
        }
        let floors = matches!(row.group, "counter_inc" | "counter_inc_contended");
        let floor_cell = |f: &str| if floors { cell(Some(f)) } else { "—".to_owned() };
        let _ = write!(w, " {} | {} |", floor_cell("floor_plain"), floor_cell("floor_atomic"));
        let vs_peer = match (promkit, fastest_peer(results, row)) {
            (Some(p), Some((m, name))) => format!("{} ({name})", ratio(p / m)),
            _ => "—".to_owned(),
        };
        let vs_floor = match (promkit, row.floor.and_then(|f| results.median(row.group, f))) {
            (Some(p), Some(m)) => format!("{} ({})", ratio(p / m), row.floor.unwrap_or_default()),
            _ => "—".to_owned(),
        };
        let _ = writeln!(w, " {vs_peer} | {vs_floor} |");
    }

    let _ = writeln!(w, "\n### Bytes per exposition\n");
    let _ = writeln!(
        w,
        "Each crate's own output for the same series (criterion `Throughput::Bytes`). Before \
         timing, every exposition is parsed and its sample count and value sum checked \
         against the fixture, so equal data is encoded. Sizes differ by spelling only: \
         promkit's OpenMetrics writes counter values as floats (`32.0`, 2 bytes per sample \
         more than prometheus-client's `32`), prometheus-client ends HELP with an extra `.`, \
         metrics adds a blank line after each family, measured writes `le=\"1.0\"` where Go \
         style is `le=\"1\"`.\n"
    );
    let _ = write!(w, "| exposition | promkit |");
    for p in PEERS {
        let _ = write!(w, " {p} |");
    }
    let _ = writeln!(w, "\n|---|---:|---:|---:|---:|---:|");
    for row in ROWS.iter().filter(|r| r.group.starts_with("encode")) {
        let cell = |f: Option<&str>| {
            f.and_then(|f| results.bytes(row.group, f)).map_or_else(|| "—".to_owned(), |b| b.to_string())
        };
        let _ = write!(w, "| {} | {} |", row.scenario, cell(Some(row.promkit)));
        for f in row.peers {
            let _ = write!(w, " {} |", cell(f));
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "\n## Memory: 100,000 labelled counter series\n");
    let _ = writeln!(
        w,
        "One process per crate (`memory <crate>`): labels `method` (4 values) and `id` \
         (`id-{{i}}`, unique; the strings exist before the baseline, so what a crate copies \
         of them is its own cost). Heap is live bytes (allocated − freed) counted by a global \
         allocator, after creating the series and again after one full text encode (some \
         crates build scrape state lazily); RSS is the growth of `/proc/self/statm`'s \
         resident pages across the creation.\n"
    );
    let _ = writeln!(
        w,
        "| crate | heap B/series | heap B/series after 1st encode | peak heap B/series | RSS B/series | encoded bytes |"
    );
    let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|");
    for m in memory {
        let name = m.krate.replace('_', "-");
        let name = if name == "promkit" { format!("**{name}**") } else { name };
        let _ = writeln!(
            w,
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            m.heap_per_series,
            m.heap_per_series_after_encode,
            m.peak_per_series,
            m.rss_per_series,
            m.encoded_bytes
        );
    }

    let _ = writeln!(w, "\n## Targets\n");
    let _ = writeln!(w, "| target | promkit | compared with | ratio | |\n|---|---:|---|---:|---|");
    for t in &TARGETS {
        match target_ratio(results, t) {
            Some((r, promkit, reference)) => {
                let verdict = if r <= t.max_ratio { "met" } else { "**missed**" };
                let _ = writeln!(
                    w,
                    "| {} | {} | {reference} | {} | {verdict} |",
                    t.text,
                    time(promkit),
                    ratio(r)
                );
            }
            None => {
                let _ = writeln!(w, "| {} | — | — | — | no data |", t.text);
            }
        }
    }
    let promkit_mem = memory.iter().find(|m| m.krate == "promkit");
    let best_peer = memory
        .iter()
        .filter(|m| m.krate != "promkit" && m.krate != "promkit_metrics")
        .min_by(|a, b| a.heap_per_series.total_cmp(&b.heap_per_series));
    if let (Some(p), Some(b)) = (promkit_mem, best_peer) {
        let r = p.heap_per_series / b.heap_per_series;
        let verdict = if r <= 0.6 { "met" } else { "**missed**" };
        let _ = writeln!(
            w,
            "| memory ≤ 0.6× best peer's heap bytes per series | {:.1} B | {} {:.1} B | {} | {verdict} |",
            p.heap_per_series,
            b.krate.replace('_', "-"),
            b.heap_per_series,
            ratio(r)
        );
    }

    memory_targets(w, all_memory);

    facade(w, results, memory);

    memory_probes(w, all_memory);

    let _ = writeln!(w, "\n## What is not like-for-like\n");
    for item in CAVEATS {
        let _ = writeln!(w, "- {item}");
    }
    let _ = writeln!(w, "\n## Reproducing\n");
    let _ = writeln!(
        w,
        "`{}` runs `cargo bench -p bench --bench peers -- {}`, then `memory <crate>` for each \
         crate, and rewrites this file (`--skip-bench` reuses the last criterion results). \
         One scenario alone: `cargo bench -p bench -- labeled_counter_inc/`. Criterion's \
         reports are under `target/criterion/<scenario>/<crate>/`.",
        run.command, run.criterion_args
    );
    scrape_section(w, scrape);
    s
}

/// The `metrics` facade section: the same macro calls recorded by promkit-metrics and by
/// metrics-exporter-prometheus, with the facade recorder's targets.
fn facade(w: &mut String, results: &Results, memory: &[MemoryRow]) {
    let _ = writeln!(w, "\n## The `metrics` facade: promkit-metrics beside metrics-exporter-prometheus\n");
    let _ = writeln!(
        w,
        "The same `metrics` macro calls and fixtures, recorded once by promkit-metrics into a \
         promkit `Registry` and once by metrics-exporter-prometheus (columns `promkit_metrics` \
         and `metrics` of the criterion groups above; memory from `memory promkit_metrics`).\n"
    );
    let _ = writeln!(w, "| target | promkit-metrics | metrics-exporter-prometheus | ratio | |");
    let _ = writeln!(w, "|---|---:|---:|---:|---|");
    let verdict = |r: f64, max: f64| if r <= max { "met" } else { "**missed**" };
    let timed: [(&str, &str, f64); 3] = [
        ("labelled `counter!(..).increment(1)` ≤ 0.5×", "labeled_counter_inc", 0.5),
        ("rendering 10k series (text) ≤ 0.15×", "encode_10k_text", 0.15),
        ("rendering 100k series (text) ≤ 0.15×", "encode_100k_text", 0.15),
    ];
    for (text, group, max) in timed {
        match (results.median(group, "promkit_metrics"), results.median(group, "metrics")) {
            (Some(p), Some(m)) => {
                let r = p / m;
                let _ = writeln!(
                    w,
                    "| {text} | {} | {} | {} | {} |",
                    time(p),
                    time(m),
                    ratio(r),
                    verdict(r, max)
                );
            }
            _ => {
                let _ = writeln!(w, "| {text} | — | — | — | no data |");
            }
        }
    }
    let heap = |k: &str| memory.iter().find(|m| m.krate == k).map(|m| m.heap_per_series);
    if let (Some(p), Some(m)) = (heap("promkit_metrics"), heap("metrics")) {
        let r = p / m;
        let _ = writeln!(
            w,
            "| heap per series (100k labelled counters) ≤ 0.5× | {p:.1} B | {m:.1} B | {} | {} |",
            ratio(r),
            verdict(r, 0.5)
        );
    }
}

/// Known differences between the crates' measurements, stated next to every table.
const CAVEATS: [&str; 15] = [
    "**Integer counters everywhere.** Every peer is given its integer counter: prometheus \
     `IntCounter`/`IntCounterVec`, prometheus-client `Counter<u64>` (its default), metrics and \
     measured (u64 only). No peer pays for an f64 compare-and-swap loop, so the counter rows \
     compare one relaxed `fetch_add` with another plus each crate's indirection.",
    "**`local()` has no peer equivalent.** promkit's `counter.local()` is a thread-owned handle \
     (a relaxed load and store on its own cache line, no read-modify-write); the peers' \
     counters are all shared atomics. The `local()` rows compare a sharded counter with shared \
     ones, which is the point of the API but not the same data structure; its floor is \
     `floor_plain` (a register add through `black_box`), and in the contended group \
     `floor_plain` is one plain add per thread on its own cache line.",
    "**metrics histograms store raw samples.** metrics-exporter-prometheus appends each \
     observation to a lock-free sample buffer and sorts samples into buckets only when a \
     scrape or `run_upkeep()` drains them. The benches drain after each timed batch, outside \
     the clock, so metrics' observe cost excludes its bucketing, and its memory grows with \
     observations between scrapes.",
    "**metrics label lookups use literal label values.** `counter!(\"req_total\", \"method\" \
     => \"GET\", \"status\" => \"200\")` builds a static key with no allocation; values known \
     only at run time would allocate a label `Vec` per call. Each lookup also goes through \
     `metrics::with_local_recorder` (a thread-local swap), since no recorder is installed \
     globally.",
    "**prometheus-client string labels are `&'static str` fields.** Its families are keyed by \
     an owned, hashable label struct; runtime strings would need a `String` allocation per \
     lookup. Its typed label set is hashed (no dense storage) and its enum values encode as \
     variant names (`Get`, `Ok`): its derive cannot rename them.",
    "**prometheus-client histograms take a mutex per observation**, and its text encoder \
     writes OpenMetrics only; prometheus (tikv), metrics and measured encode the text format \
     only. Encode rows therefore compare promkit's text with three peers and its OpenMetrics \
     with prometheus-client alone; the protobuf rows compare it with prometheus and \
     prometheus-client, the two peers with a protobuf encoder.",
    "**measured string labels are interned** in a `ParaCord` per label (its documented way \
     for labels unknown at compile time); lookups intern the value, then hash the interned \
     ids in a sharded map. Its typed labels (`FixedCardinalityLabel`) are a dense array, like \
     promkit's typed families; its histograms take a read lock (parking_lot `RwLock`) per \
     observation, which is the shared cache line under contention.",
    "**promkit typed labels use `with`** (`fam.with(&labels, |c| c.inc())`, an array index) \
     as measured's `inc(labels)` updates in place; promkit string labels use \
     `with_label_values(..)?.inc()`, which borrows the handle from the thread's lookup cache \
     (no reference count moves on a hit), where prometheus' `with_label_values` returns an `Arc` \
     clone per lookup.",
    "**Miss path inputs.** In `labeled_new_series` every crate gets pre-made `id-{i}` strings: \
     promkit, prometheus and measured copy from `&str`; metrics takes pre-made owned `String`s \
     (it keeps them); prometheus-client gets pre-built owned label structs and clones one on \
     insert. A fresh family per sample grows from empty to `iters` series, so growth \
     (rehashing) is included for every crate.",
    "**Encoding work differs.** promkit encodes into a reused `Vec<u8>` (cleared between \
     iterations); prometheus gathers every family into `MetricFamily` structs on each scrape \
     and then writes them; metrics renders into a reused `Vec<u8>` but builds a snapshot of \
     its registry first; measured reuses its `BufferedTextEncoder` and hands out `Bytes`; \
     prometheus-client writes into a reused `String`. Series order differs: promkit and \
     prometheus sort series as Go does, the others write in storage order.",
    "**OpenMetrics `_created`.** promkit is measured with `Format::OPENMETRICS` (no \
     `_created` samples); prometheus-client writes none for these metrics either.",
    "**Contended numbers need both cores.** The two threads run on a 2-core machine; \
     criterion's own thread waits meanwhile. Other load on the machine (see the load \
     average) hits these rows hardest.",
    "**Memory is the idiomatic layout of each crate**, not the same data structure: \
     prometheus keeps label pairs per series, metrics keeps a `Key` with owned labels plus \
     generation-tracked atomics, prometheus-client a hash map of owned label structs to \
     `Arc`'d counters, measured interned strings and a sharded map of ids, promkit one \
     escaped key string per series in a slab plus a hash table of slab positions. promkit's \
     counter core also holds its creation time and a lazily created slot list for `local()` \
     handles.",
    "**Peers run in their published configuration** (default features except HTTP; \
     prometheus' `protobuf` and prometheus-client's `prometheus_protobuf` for the protobuf \
     rows); promkit runs from this workspace as it was when the run started (see \
     \"promkit sources\" above).",
    "**Protobuf encoding work differs.** All three write the same delimited \
     `io.prometheus.client.MetricFamily` stream into a reused `Vec<u8>`, checked before timing \
     by decoding it with prost. promkit streams each family's fields straight into the buffer; \
     prometheus gathers every family into rust-protobuf `MetricFamily` structs on each scrape \
     and then writes them; prometheus-client builds prost `MetricFamily` messages \
     (`prometheus_protobuf::encode`, a fresh tree per scrape) that prost then writes with \
     `encode_length_delimited`. Each protobuf group also times promkit's text encode of the \
     same series (`promkit_text`, the rows' floor), so the protobuf-to-text ratio comes from \
     one criterion run.",
];

/// The best ranked peer (not promkit, not promkit behind the facade) of one probe by `bytes`.
fn best_peer<'m>(rows: &[&'m MemoryRow], bytes: impl Fn(&MemoryRow) -> f64) -> Option<&'m MemoryRow> {
    rows.iter()
        .filter(|m| m.krate != "promkit" && m.krate != "promkit_metrics")
        .min_by(|a, b| bytes(a).total_cmp(&bytes(b)))
        .copied()
}

/// Reads one bytes-per-series figure (heap or RSS) from a row.
type BytesPerSeries = fn(&MemoryRow) -> f64;

/// Target rows: promkit's heap and RSS per series at most 0.6x the best peer's, for every probe.
fn memory_targets(w: &mut String, all: &[MemoryRow]) {
    const MAX: f64 = 0.6;
    for &(kind, series) in &super::memory::PROBES {
        let rows: Vec<&MemoryRow> = all.iter().filter(|m| m.kind == kind && m.series == series).collect();
        let measures: [(&str, BytesPerSeries); 2] =
            [("heap", |m| m.heap_per_series), ("RSS", |m| m.rss_per_series)];
        for (what, bytes) in measures {
            let text = format!("{kind} {what} B/series at {series} series ≤ 0.6× best peer");
            let promkit = rows.iter().find(|m| m.krate == "promkit");
            match (promkit, best_peer(&rows, bytes)) {
                (Some(p), Some(b)) => {
                    let r = bytes(p) / bytes(b);
                    let verdict = if r <= MAX { "met" } else { "**missed**" };
                    let _ = writeln!(
                        w,
                        "| {text} | {:.1} B | {} {:.1} B | {} | {verdict} |",
                        bytes(p),
                        b.krate.replace('_', "-"),
                        bytes(b),
                        ratio(r)
                    );
                }
                _ => {
                    let _ = writeln!(w, "| {text} | — | — | — | no data |");
                }
            }
        }
    }
}

/// The table of every memory probe: counters and 11-bucket histograms at 100,000 and
/// 1,000,000 series, heap and RSS.
fn memory_probes(w: &mut String, all: &[MemoryRow]) {
    let _ = writeln!(w, "\n## Memory: counters and histograms at 100,000 and 1,000,000 series\n");
    let _ = writeln!(
        w,
        "`memory <crate> --kind counter|histogram --series N`, one process each. Histograms \
         have the 11 default buckets and 5 observations per series, with each crate's own \
         histogram type (promkit-metrics has no histogram fixture); the `id` strings exist \
         before the baseline, as for the counters.\n"
    );
    let _ = writeln!(w, "| kind | series | crate | heap B/series | RSS B/series | peak heap B/series |");
    let _ = writeln!(w, "|---|---:|---|---:|---:|---:|");
    for m in all {
        let name = m.krate.replace('_', "-");
        let name = if name == "promkit" { format!("**{name}**") } else { name };
        let _ = writeln!(
            w,
            "| {} | {} | {name} | {:.1} | {:.1} | {:.1} |",
            m.kind, m.series, m.heap_per_series, m.rss_per_series, m.peak_per_series
        );
    }
}

/// "The scrape, end to end": `scrape`'s JSON as tables, with the scrape's two targets.
fn scrape_section(w: &mut String, scrape: Option<&serde_json::Value>) {
    let _ = writeln!(w, "\n## The scrape, end to end\n");
    let Some(v) = scrape else {
        let _ = writeln!(w, "Not run (`--skip-scrape`).");
        return;
    };
    let _ = writeln!(
        w,
        "`GET /metrics` for the counter fixtures of `encode_10k` and `encode_100k` (the same \
         series), served by promkit-http's `Exporter` (`MetricsHandler::builder(&registry)`, \
         defaults) and by metrics-exporter-prometheus' own HTTP listener \
         (`PrometheusBuilder::with_http_listener`), both on one tokio runtime with a worker per \
         core, on loopback. Load from `{}` over keep-alive connections (`-c`), a fixed request \
         count of about {} s per run after a warm-up, `Accept: {}` (so text 0.0.4 from both), \
         `--disable-compression` plus the `Accept-Encoding` of the column. The generator shares \
         the {} cores with the servers. Before each run one request checks the status, the \
         `Content-Encoding`, every sample line after decoding, and that promkit's body is \
         byte-for-byte the encode-alone output. Encode alone: median of repeated \
         `registry.encode(Format::Text, ..)` into one reused buffer; the exporter's render \
         alone: median of `PrometheusHandle::render()`, what its listener calls per request. \
         The exporter's listener compresses nothing (\"—\"). `bench/src/bin/scrape.rs`; \
         `oha` comes from `scripts/install-bench-tools`.\n",
        v["generator"].as_str().unwrap_or("oha"),
        v["seconds_per_run"],
        v["accept"].as_str().unwrap_or("*/*"),
        v["cores"]
    );
    let ms = |x: &serde_json::Value| x.as_f64().map_or_else(|| "—".to_owned(), |m| time(m * 1e6));
    let times = |x: &serde_json::Value| x.as_f64().map_or_else(|| "—".to_owned(), ratio);
    let verdict = |r: f64, max: f64| if r <= max { "met" } else { "**missed**" };
    let mut targets = Vec::new();
    for size in v["sizes"].as_array().into_iter().flatten() {
        let series = size["series"].as_u64().unwrap_or(0);
        let _ = writeln!(w, "### {series} series\n");
        let _ = writeln!(
            w,
            "Encode alone: promkit {}, metrics-exporter-prometheus render {}. promkit's handler \
             alone (in process: negotiation, the blocking-pool hop, the encode): {}. Loopback floor \
             (promkit's body moved over loopback TCP between two threads of one process, no HTTP \
             stack, median): {}. A server that encodes and then sends cannot answer faster than \
             the encode plus the floor, {} of the encode alone ({} with the handler's hop). Body \
             bytes: {}.\n",
            ms(&size["encode_alone_ms"]),
            ms(&size["metrics_render_alone_ms"]),
            ms(&size["handler_alone_ms"]),
            ms(&size["loopback_floor_ms"]),
            times(&size["ratios"]["encode_plus_floor_over_encode"]),
            times(&size["ratios"]["handler_plus_floor_over_encode"]),
            size["bytes"]
                .as_object()
                .map(|b| b.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        );
        let _ = writeln!(
            w,
            "| endpoint | c | coding | requests | mean | p50 | p99 | requests/s | ms per scrape (1/throughput) | vs uncompressed |"
        );
        let _ = writeln!(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        let runs: Vec<&serde_json::Value> = size["runs"].as_array().into_iter().flatten().collect();
        for endpoint in ["promkit", "metrics"] {
            for c in [1, 4] {
                let identity = runs.iter().find(|r| {
                    r["endpoint"] == endpoint && r["concurrency"] == c && r["encoding"] == "identity"
                });
                for coding in ["identity", "gzip", "zstd"] {
                    let name = if endpoint == "promkit" {
                        "**promkit-http**"
                    } else {
                        "metrics-exporter-prometheus"
                    };
                    let run = runs.iter().find(|r| {
                        r["endpoint"] == endpoint && r["concurrency"] == c && r["encoding"] == coding
                    });
                    let Some(r) = run else {
                        let _ = writeln!(w, "| {name} | {c} | {coding} | — | — | — | — | — | — | — |");
                        continue;
                    };
                    let extra = match (coding, identity.and_then(|i| i["ms_per_scrape"].as_f64())) {
                        ("identity", _) | (_, None) => "—".to_owned(),
                        (_, Some(base)) => r["ms_per_scrape"].as_f64().map_or_else(
                            || "—".to_owned(),
                            |m| {
                                let sign = if m >= base { "+" } else { "−" };
                                format!("{sign}{} ({})", time((m - base).abs() * 1e6), ratio(m / base))
                            },
                        ),
                    };
                    let _ = writeln!(
                        w,
                        "| {name} | {c} | {coding} | {} | {} | {} | {} | {:.0} | {} | {extra} |",
                        r["requests"],
                        ms(&r["mean_ms"]),
                        ms(&r["p50_ms"]),
                        ms(&r["p99_ms"]),
                        r["requests_per_sec"].as_f64().unwrap_or(f64::NAN),
                        ms(&r["ms_per_scrape"]),
                    );
                }
            }
        }
        let _ = writeln!(w);
        let ratios = &size["ratios"];
        let r = |k: &str| ratios[k].as_f64().unwrap_or(f64::NAN);
        targets.push((
            format!("{series} series: promkit scrape, c=1, uncompressed (p50) ≤ 1.2× encode alone"),
            r("promkit_c1_p50_over_encode"),
            1.2,
        ));
        targets.push((
            format!("{series} series: promkit ≤ 0.3× metrics-exporter-prometheus' listener, c=1 (p50)"),
            r("promkit_over_metrics_c1_p50"),
            0.3,
        ));
        targets.push((
            format!(
                "{series} series: promkit ≤ 0.3× metrics-exporter-prometheus' listener, c=4 (1/throughput)"
            ),
            r("promkit_over_metrics_c4_throughput"),
            0.3,
        ));
    }
    let _ = writeln!(w, "### Scrape targets\n");
    let _ = writeln!(w, "| target | ratio | |\n|---|---:|---|");
    for (text, r, max) in targets {
        if r.is_nan() {
            let _ = writeln!(w, "| {text} | — | no data |");
        } else {
            let _ = writeln!(w, "| {text} | {} | {} |", ratio(r), verdict(r, max));
        }
    }
}
