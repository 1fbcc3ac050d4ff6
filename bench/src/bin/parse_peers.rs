//! promkit-parse against Go's `expfmt.TextParser` and Python's `prometheus_client` parsers on
//! the same 100 000-series exposition: each parses the whole input again and again (two
//! seconds or more) and reports its fastest run and its CPU time per run. Prints a Markdown
//! section; `--write` puts it in BENCHMARKS.md (which `report` keeps). Needs the Go oracle
//! and the Python venv (`scripts/install-deps`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use bench::parse_fixture::{PARSE_SERIES, parse_exposition};
use promkit::Format;

/// Format, parser, input bytes, and its timing when it ran.
type Row = (&'static str, &'static str, usize, Option<Timing>);

/// User + system CPU seconds of this process so far (`/proc/self/stat`, in clock ticks).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0.0)).collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// Timing of one parser: the fastest run (the one least disturbed on a shared machine) and CPU
/// time per run (what the parser costs whatever the load), over two seconds and five runs at
/// least.
#[derive(Debug, Clone, Copy)]
struct Timing {
    fastest: f64,
    cpu: f64,
    samples: usize,
}

fn time_rust(f: impl Fn() -> usize) -> Timing {
    let samples = f();
    let (mut runs, start, cpu0, mut best) = (0u32, Instant::now(), cpu_seconds(), f64::INFINITY);
    while runs < 5 || start.elapsed().as_secs_f64() < 2.0 {
        let t = Instant::now();
        assert_eq!(f(), samples);
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    Timing { fastest: best, cpu: (cpu_seconds() - cpu0) / f64::from(runs), samples }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn timing(out: &str) -> Timing {
    Timing {
        fastest: field(out, "ns_min") / 1e9,
        cpu: field(out, "cpu_ns_per_run") / 1e9,
        samples: field(out, "samples") as usize,
    }
}

fn field(out: &str, key: &str) -> f64 {
    out.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {out:?}"))
}

fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Option<Timing> {
    use std::io::Write;
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().ok()?;
    if let Some(input) = stdin {
        child.stdin.take()?.write_all(input).ok()?;
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        eprintln!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(timing(&String::from_utf8_lossy(&out.stdout)))
}

fn main() {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let cache = std::env::var_os("PROMKIT_CACHE").map_or_else(|| home.join(".cache/promkit"), PathBuf::from);
    let venv = std::env::var_os("PROMKIT_VENV").map_or_else(|| cache.join("venv"), PathBuf::from);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = repo.join("target/parse-fixture");
    std::fs::create_dir_all(&dir).unwrap();
    let text = parse_exposition(Format::Text);
    let om = parse_exposition(Format::OpenMetrics { created_samples: promkit::encode::CreatedSamples::Omit });
    std::fs::write(dir.join("fixture.txt"), &text).unwrap();
    std::fs::write(dir.join("fixture.om.txt"), &om).unwrap();

    let mut rows: Vec<Row> = Vec::new();
    let records = |input: &[u8], om: bool| {
        let it: Box<dyn Iterator<Item = _>> = if om {
            Box::new(promkit_parse::openmetrics::parse(input))
        } else {
            Box::new(promkit_parse::text::parse(input))
        };
        it.filter(|r| matches!(r, Ok(promkit_parse::Record::Sample(_)))).count()
    };
    rows.push(("text 0.0.4", "promkit-parse records", text.len(), Some(time_rust(|| records(&text, false)))));
    rows.push((
        "text 0.0.4",
        "promkit-parse model",
        text.len(),
        Some(time_rust(|| {
            promkit_parse::model::from_text(&text).unwrap().iter().map(|f| f.samples.len()).sum()
        })),
    ));
    // The oracle built from this checkout's tools/go-oracle/main.go (built on the spot if needed).
    let go = promkit_oracle::go("time-parse", &text).filter(|o| o.status == 0).map(|o| timing(&o.stdout));
    rows.push(("text 0.0.4", "Go expfmt.TextParser", text.len(), go));
    let py = |fmt: &str, file: &str| {
        let mut c = Command::new(venv.join("bin/python"));
        c.arg(repo.join("tools/oracle/time_parse.py")).arg(fmt).arg(dir.join(file));
        run(c, None)
    };
    rows.push(("text 0.0.4", "Python prometheus_client", text.len(), py("text", "fixture.txt")));
    rows.push(("OpenMetrics", "promkit-parse records", om.len(), Some(time_rust(|| records(&om, true)))));
    rows.push((
        "OpenMetrics",
        "promkit-parse model",
        om.len(),
        Some(time_rust(|| {
            promkit_parse::model::from_openmetrics(&om).unwrap().iter().map(|f| f.samples.len()).sum()
        })),
    ));
    rows.push(("OpenMetrics", "Python prometheus_client", om.len(), py("openmetrics", "fixture.om.txt")));

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let mut md = String::new();
    md.push_str(&format!("{}\n## Parsing: 100,000 series\n\n", bench::section::PARSE.begin));
    md.push_str(&format!(
        "Written by `cargo run -p bench --release --bin parse-peers -- --write`; the criterion version is \
         `cargo bench -p bench --bench parse`. The input is promkit's exposition of \
         `bench/src/parse_fixture.rs`: {PARSE_SERIES} series (24 counter and gauge families of 4000 \
         series with three labels, one histogram family of 4000 series), {} bytes of text 0.0.4 and {} \
         bytes of OpenMetrics. Each parser reads the whole input again and again for two seconds or \
         more; \"fastest parse\" is its quickest run, \"CPU per parse\" the process's user + system \
         time per run (Go's garbage collector included), which other load on the machine does not \
         inflate. \"records\" is promkit-parse's streaming layer (every rule checked, nothing \
         copied); \"model\" builds promkit's owned families, as Go's `TextToMetricFamilies` builds \
         `dto.MetricFamily` values and Python its `Metric` objects. Go's expfmt (prometheus/common \
         0.39) has no OpenMetrics parser. Load average at the end: {}.\n\n",
        text.len(),
        om.len(),
        load.join(" ")
    ));
    md.push_str("| format | parser | fastest parse | MB/s | CPU per parse | samples counted |\n|---|---|---|---|---|---|\n");
    let mut go_cpu = None;
    let mut model_cpu = None;
    for (format, who, len, r) in rows {
        match r {
            #[allow(clippy::cast_precision_loss)]
            Some(t) => {
                if who.starts_with("Go") {
                    go_cpu = Some(t.cpu);
                }
                if format.starts_with("text") && who.ends_with("model") {
                    model_cpu = Some(t.cpu);
                }
                md.push_str(&format!(
                    "| {format} | {who} | {:.1} ms | {:.0} | {:.1} ms | {} |\n",
                    t.fastest * 1e3,
                    len as f64 / t.fastest / 1e6,
                    t.cpu * 1e3,
                    t.samples
                ));
            }
            None => md.push_str(&format!("| {format} | {who} | not run | | | |\n")),
        }
    }
    if let (Some(go), Some(ours)) = (go_cpu, model_cpu) {
        md.push_str(&format!(
            "\nTarget ≥ 3× Go's throughput (text, owned model, CPU time): {:.1}× — {}.\n",
            go / ours,
            if go / ours >= 3.0 { "met" } else { "**missed**" }
        ));
    }
    md.push_str(bench::section::PARSE.end);
    println!("{md}");
    if std::env::args().any(|a| a == "--write") {
        let path = repo.join("BENCHMARKS.md");
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, bench::section::PARSE.splice(&doc, &md)).unwrap();
        eprintln!("wrote {}", path.display());
    }
}
