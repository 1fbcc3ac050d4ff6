//! String-labelled lookups, promkit against its peers, measured so that the ratios hold on a
//! busy machine: every contender runs in short interleaved rounds and each keeps its fastest
//! round (the one least disturbed by other processes), so load shifts all of them alike.
//!
//! `cargo run -p bench --release --bin lookup [-- rounds]` prints, per scenario, each
//! contender's best and median ns per lookup and promkit's ratio to the fastest peer; then a
//! hit's latency percentiles while another thread creates 100,000 new series in the same
//! family (promkit's cached hit takes no lock, so an insert must not stall it).

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use bench::peers::{with_measured, with_prometheus_client};

type PcFamily = prometheus_client::metrics::family::Family<
    with_prometheus_client::RequestStr,
    prometheus_client::metrics::counter::Counter,
>;

/// The crates under test, one string-labelled counter family each.
struct Fixtures {
    pk: promkit::Family<promkit::Counter>,
    prom: prometheus::IntCounterVec,
    pc: PcFamily,
    me: measured::CounterVec<with_measured::RequestStrSet>,
    _registry: promkit::Registry,
}

impl Fixtures {
    fn new() -> Self {
        let registry = promkit::Registry::new();
        let pk = promkit::Counter::builder("req_total")
            .help("r")
            .labels(["method", "status"])
            .register(&registry)
            .expect("registers");
        let prom =
            prometheus::IntCounterVec::new(prometheus::Opts::new("req_total", "r"), &["method", "status"])
                .expect("valid");
        Self { pk, prom, pc: PcFamily::default(), me: with_measured::str_counter_vec(), _registry: registry }
    }

    /// The total of series (`method`, `status`) in every crate, which must all agree.
    fn totals(&self, method: &'static str, status: &'static str) -> [u64; 2] {
        let pk = self.pk.get_existing(&[method, status]).expect("two values").map_or(0, |c| c.get());
        let prom = self.prom.with_label_values(&[method, status]).get();
        [pk, prom]
    }
}

/// One contender: a name and an operation on the fixtures looking up series (`method`, "200").
type Op = fn(&Fixtures, &'static str);

const CONTENDERS: [(&str, bool, Op); 5] = [
    ("promkit with_label_values", true, |f, m| {
        f.pk.with_label_values(&[black_box(m), black_box("200")]).expect("two values").inc()
    }),
    ("promkit with_series", true, |f, m| {
        f.pk.with_series(&[black_box(m), black_box("200")], |c| c.inc()).expect("two values")
    }),
    ("prometheus", false, |f, m| f.prom.with_label_values(&[black_box(m), black_box("200")]).inc()),
    ("prometheus-client", false, |f, m| {
        f.pc.get_or_create(&with_prometheus_client::RequestStr {
            method: black_box(m),
            status: black_box("200"),
        })
        .inc();
    }),
    ("measured", false, |f, m| {
        f.me.inc(with_measured::RequestStr { method: black_box(m), status: black_box("200") })
    }),
];

const OPS_PER_ROUND: u32 = 100_000;

/// Times `OPS_PER_ROUND` calls of `op` on `threads` threads at once (thread `t` looks up
/// `methods[t]`); the slowest thread's time per call.
fn round(f: &Fixtures, op: Op, methods: &[&'static str]) -> f64 {
    let start = Barrier::new(methods.len());
    let worst = std::thread::scope(|s| {
        let handles: Vec<_> = methods
            .iter()
            .map(|&m| {
                let start = &start;
                s.spawn(move || {
                    op(f, m); // create the series and warm this thread's cache
                    start.wait();
                    let t = Instant::now();
                    for _ in 0..OPS_PER_ROUND {
                        op(f, m);
                    }
                    t.elapsed()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("bench thread")).max().unwrap_or(Duration::ZERO)
    });
    worst.as_secs_f64() * 1e9 / f64::from(OPS_PER_ROUND)
}

fn scenario(title: &str, methods: &[&'static str], rounds: usize, only: Option<&str>) {
    let f = Fixtures::new();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); CONTENDERS.len()];
    for r in 0..rounds {
        // Alternate the order so no contender always runs right after the same one.
        for k in 0..CONTENDERS.len() {
            let k = if r % 2 == 0 { k } else { CONTENDERS.len() - 1 - k };
            if only.is_some_and(|o| !CONTENDERS[k].0.contains(o)) {
                times[k].push(f64::NAN);
                continue;
            }
            times[k].push(round(&f, CONTENDERS[k].2, methods));
        }
    }
    // Every increment of every contender landed (promkit's two forms share one family).
    let calls = u64::from(OPS_PER_ROUND + 1) * rounds as u64;
    let per_series = if methods.len() == 2 && methods[0] == methods[1] { 2 * calls } else { calls };
    let [pk, prom] = f.totals(methods[0], "200");
    if only.is_none() {
        assert_eq!((pk, prom), (2 * per_series, per_series), "{title}: increments were lost");
    }

    println!("\n{title} ({rounds} rounds of {OPS_PER_ROUND} lookups per thread)");
    let stats: Vec<(f64, f64)> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            (t[0], t[t.len() / 2])
        })
        .collect();
    let best_peer =
        CONTENDERS.iter().zip(&stats).filter(|(c, _)| !c.1).map(|(_, s)| s.0).fold(f64::INFINITY, f64::min);
    let peer_median =
        CONTENDERS.iter().zip(&stats).filter(|(c, _)| !c.1).map(|(_, s)| s.1).fold(f64::INFINITY, f64::min);
    for ((name, ours, _), (best, median)) in CONTENDERS.iter().zip(&stats) {
        let ratio = if *ours {
            format!("  {:.2}x best peer (medians {:.2}x)", best / best_peer, median / peer_median)
        } else {
            String::new()
        };
        println!("  {name:<26} best {best:7.2} ns  median {median:7.2} ns{ratio}");
    }
}

/// A hit's latency on one thread while another creates `SERIES` new series in the same family.
fn hit_latency_under_inserts(rounds: usize) {
    const SERIES: usize = 100_000;
    let ids: Vec<String> = (0..SERIES).map(|i| format!("id-{i}")).collect();
    println!("\nhit latency while another thread creates {SERIES} series (ns; {rounds} runs)");
    type Hit = fn(&Fixtures);
    type Insert = fn(&Fixtures, &str);
    let cases: [(&str, Hit, Insert); 3] = [
        (
            "promkit with_series",
            |f| f.pk.with_series(&[black_box("GET"), black_box("200")], |c| c.inc()).expect("two values"),
            |f, id| f.pk.with_series(&["NEW", id], |c| c.inc()).expect("two values"),
        ),
        (
            "promkit with_label_values",
            |f| f.pk.with_label_values(&[black_box("GET"), black_box("200")]).expect("two values").inc(),
            |f, id| f.pk.with_series(&["NEW", id], |c| c.inc()).expect("two values"),
        ),
        (
            "prometheus",
            |f| f.prom.with_label_values(&[black_box("GET"), black_box("200")]).inc(),
            |f, id| f.prom.with_label_values(&["NEW", id]).inc(),
        ),
    ];
    for (name, hit, insert) in cases {
        let mut all = Vec::new();
        for _ in 0..rounds {
            let f = Fixtures::new();
            hit(&f);
            let done = std::sync::atomic::AtomicBool::new(false);
            let start = Barrier::new(2);
            let mut lat: Vec<u32> = Vec::with_capacity(4_000_000);
            std::thread::scope(|s| {
                s.spawn(|| {
                    start.wait();
                    for id in &ids {
                        insert(&f, id);
                    }
                    // Release: pairs with the Acquire load that ends the reader's loop.
                    done.store(true, std::sync::atomic::Ordering::Release);
                });
                start.wait();
                while !done.load(std::sync::atomic::Ordering::Acquire) && lat.len() < lat.capacity() {
                    let t = Instant::now();
                    hit(&f);
                    lat.push(u32::try_from(t.elapsed().as_nanos()).unwrap_or(u32::MAX));
                }
            });
            // Every insert landed, in whichever crate this case exercised.
            let last = ["NEW", ids[SERIES - 1].as_str()];
            let pk = f.pk.get_existing(&last).expect("two values").map_or(0, |c| c.get());
            assert_eq!(pk + f.prom.get_metric_with_label_values(&last).map_or(0, |c| c.get()), 1);
            all.extend(lat);
        }
        all.sort_unstable();
        let q = |p: f64| all[((all.len() - 1) as f64 * p) as usize];
        println!(
            "  {name:<26} hits {:>9}  p50 {:>6}  p99 {:>6}  p99.9 {:>7}  max {:>9}",
            all.len(),
            q(0.5),
            q(0.99),
            q(0.999),
            all[all.len() - 1]
        );
    }
}

fn main() {
    let rounds = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    println!(
        "Each figure is the time of one lookup-and-increment. Best = the fastest round; the ratio compares \
         promkit's best with the fastest peer's best, measured in the same run."
    );
    // A second argument runs only the contenders whose name contains it (for profiling).
    let only = std::env::args().nth(2);
    let only = only.as_deref();
    scenario("one thread", &["GET"], rounds, only);
    if only.is_none() {
        scenario("two threads, different series", &["GET", "POST"], rounds, only);
        scenario("two threads, the same series", &["GET", "GET"], rounds, only);
        hit_latency_under_inserts(rounds.div_ceil(10));
    }
}
