//! `memory <crate> [--series N] [--kind counter|histogram]`: heap and RSS cost of N (100,000
//! unless told) labelled counter series, or histogram series with the 11 default buckets, in
//! one crate.
//!
//! One process per crate, so no crate's allocations or freed-but-kept pages skew another's.
//! The id strings are made before the baseline; what each crate copies of them is its own
//! cost. A counting global allocator tracks live heap bytes (allocated minus freed) and their
//! peak; RSS comes from `/proc/self/statm`. The series are encoded once to check they are all
//! there, and the heap is read again afterwards, since some crates build state on first scrape.
//! Prints one JSON object.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use bench::check::{assert_holds, expected_counters, expected_histograms};
use bench::peers::{
    with_measured, with_metrics, with_prometheus, with_prometheus_client, with_promkit, with_promkit_metrics,
};

/// Live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Live allocations by requested size, in 8-byte classes up to 4 KiB (the last class holds
/// everything larger), for `--sizes`: where a series' bytes go.
static SIZES: [AtomicIsize; SIZE_CLASSES] = [const { AtomicIsize::new(0) }; SIZE_CLASSES];
const SIZE_CLASSES: usize = 513;

fn size_class(size: usize) -> usize {
    size.div_ceil(8).min(SIZE_CLASSES - 1)
}

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
    SIZES[size_class(by)].fetch_add(1, Ordering::Relaxed);
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by, Ordering::Relaxed);
    SIZES[size_class(by)].fetch_sub(1, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, and only
// adds bookkeeping on atomics, which allocates nothing.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, which got it from `System`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Series made unless `--series` says otherwise.
const SERIES: usize = 100_000;

/// What the probe measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Labelled counters (`method`, `id`).
    Counter,
    /// Labelled histograms with the 11 default buckets, 5 observations each.
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Histogram => "histogram",
        }
    }
}

/// Resident set size in bytes: `/proc/self/statm`'s second field, in pages.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize =
        statm.split_whitespace().nth(1).and_then(|f| f.parse().ok()).expect("statm has a resident field");
    pages * page_size()
}

/// The page size from the auxiliary vector (`AT_PAGESZ`), 4096 if it cannot be read.
fn page_size() -> usize {
    const AT_PAGESZ: u64 = 6;
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else {
        return 4096;
    };
    auxv.chunks_exact(16)
        .find_map(|pair| {
            let key = u64::from_ne_bytes(pair[..8].try_into().ok()?);
            let value = u64::from_ne_bytes(pair[8..].try_into().ok()?);
            (key == AT_PAGESZ).then_some(value as usize)
        })
        .unwrap_or(4096)
}

/// A measured fixture kept alive until the end of the measurement.
trait Fixture {
    /// Encodes everything once, in the crate's text (or only) format.
    fn encode(&self) -> Vec<u8>;
}

impl Fixture for with_promkit::Counters {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(promkit::Format::Text, &mut out);
        out
    }
}

impl Fixture for with_prometheus::Counters {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_text(&mut out);
        out
    }
}

impl Fixture for with_prometheus_client::Counters {
    fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        self.encode_openmetrics(&mut out);
        out.into_bytes()
    }
}

impl Fixture for with_metrics::Counters {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_text(&mut out);
        out
    }
}

impl Fixture for with_promkit_metrics::Counters {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_text(&mut out);
        out
    }
}

impl Fixture for with_measured::Counters {
    fn encode(&self) -> Vec<u8> {
        let mut enc = measured::text::BufferedTextEncoder::new();
        self.encode_text(&mut enc);
        enc.finish().to_vec()
    }
}

impl Fixture for with_promkit::Histograms {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(promkit::Format::Text, &mut out);
        out
    }
}

impl Fixture for with_prometheus::Histograms {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_text(&mut out);
        out
    }
}

impl Fixture for with_prometheus_client::Histograms {
    fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        self.encode_openmetrics(&mut out);
        out.into_bytes()
    }
}

impl Fixture for with_metrics::Histograms {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_text(&mut out);
        out
    }
}

impl Fixture for with_measured::Histograms {
    fn encode(&self) -> Vec<u8> {
        let mut enc = measured::text::BufferedTextEncoder::new();
        self.encode_text(&mut enc);
        enc.finish().to_vec()
    }
}

/// One crate's histogram fixture; `None` for a crate that has none (`promkit_metrics`).
fn build_histograms(name: &str, ids: &[String]) -> Option<Box<dyn Fixture>> {
    Some(match name {
        "promkit" => Box::new(with_promkit::Histograms::new(ids)),
        "prometheus" => Box::new(with_prometheus::Histograms::new(ids)),
        "prometheus_client" => Box::new(with_prometheus_client::Histograms::new(ids)),
        "metrics" => Box::new(with_metrics::Histograms::new(ids)),
        "measured" => Box::new(with_measured::Histograms::new(ids)),
        _ => return None,
    })
}

fn build(name: &str, ids: &[String]) -> Option<Box<dyn Fixture>> {
    Some(match name {
        "promkit" => Box::new(with_promkit::Counters::new(1, ids)),
        "prometheus" => Box::new(with_prometheus::Counters::new(1, ids)),
        "prometheus_client" => Box::new(with_prometheus_client::Counters::new(1, ids)),
        "metrics" => Box::new(with_metrics::Counters::new(1, ids)),
        "measured" => Box::new(with_measured::Counters::new(1, ids)),
        "promkit_metrics" => Box::new(with_promkit_metrics::Counters::new(1, ids)),
        _ => return None,
    })
}

const USAGE: &str = "usage: memory <promkit|prometheus|prometheus_client|metrics|measured|promkit_metrics> \
                     [--series N] [--kind counter|histogram] [--sizes]";

/// The crate, series count and kind from the command line; exits with the usage on a bad one.
fn args() -> (String, usize, Kind, bool) {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let (mut series, mut kind, mut sizes) = (SERIES, Kind::Counter, false);
    while let Some(flag) = args.next() {
        if flag == "--sizes" {
            sizes = true;
            continue;
        }
        let value = args.next().unwrap_or_default();
        match (flag.as_str(), value.as_str()) {
            ("--series", n) if n.parse::<usize>().is_ok_and(|n| n > 0) => {
                series = n.parse().unwrap_or(SERIES)
            }
            ("--kind", "counter") => kind = Kind::Counter,
            ("--kind", "histogram") => kind = Kind::Histogram,
            _ => {
                eprintln!("{USAGE}; got {flag:?} {value:?}");
                std::process::exit(2);
            }
        }
    }
    (name, series, kind, sizes)
}

/// The live allocations made while building the fixture, by size class, as
/// `[class upper bound, count, bytes per series]` for classes with at least one allocation per
/// hundred series: the byte breakdown of a series.
fn sizes(before: &[isize], series: usize) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = SIZES
        .iter()
        .zip(before)
        .enumerate()
        .filter_map(|(class, (now, was))| {
            let count = now.load(Ordering::Relaxed) - was;
            let bound = class * 8;
            (count * 100 >= series as isize)
                .then(|| serde_json::json!([bound, count, (count * bound as isize) as f64 / series as f64]))
        })
        .collect();
    serde_json::Value::Array(rows)
}

fn main() {
    let (name, series, kind, want_sizes) = args();
    let ids = bench::ids(series);
    let heap_before = LIVE.load(Ordering::Relaxed);
    let rss_before = rss_bytes();
    PEAK.store(heap_before, Ordering::Relaxed);
    let sizes_before: Vec<isize> = SIZES.iter().map(|c| c.load(Ordering::Relaxed)).collect();

    let fixture = match kind {
        Kind::Counter => build(&name, &ids),
        Kind::Histogram => build_histograms(&name, &ids),
    };
    let Some(fixture) = fixture else {
        eprintln!("{USAGE}; got {name:?} (no {} fixture)", kind.name());
        std::process::exit(2);
    };

    let heap = LIVE.load(Ordering::Relaxed) - heap_before;
    let peak = PEAK.load(Ordering::Relaxed) - heap_before;
    let rss = rss_bytes().saturating_sub(rss_before);
    let breakdown = want_sizes.then(|| sizes(&sizes_before, series));

    let encoded = fixture.encode();
    let expected = match kind {
        Kind::Counter => expected_counters(1, series),
        Kind::Histogram => expected_histograms(series),
    };
    assert_holds(&name, &encoded, &expected);
    let encoded_len = encoded.len();
    drop(encoded);
    let heap_after_encode = LIVE.load(Ordering::Relaxed) - heap_before;

    let per = |bytes: usize| bytes as f64 / series as f64;
    let mut report = serde_json::json!({
        "crate": name,
        "series": series,
        "kind": kind.name(),
        "heap_bytes": heap,
        "heap_bytes_per_series": per(heap),
        "heap_peak_bytes": peak,
        "rss_bytes": rss,
        "rss_bytes_per_series": per(rss),
        "heap_bytes_after_encode": heap_after_encode,
        "heap_bytes_per_series_after_encode": per(heap_after_encode),
        "encoded_bytes": encoded_len,
    });
    if let Some(b) = breakdown {
        report["live_allocations_by_size"] = b;
    }
    println!("{report}");
    drop(fixture);
}
