//! Summaries: observations summarised by streaming quantile estimates over a sliding window,
//! with their count and sum.

mod ckms;
mod shards;
mod window;

use std::time::{Duration, Instant};

use crate::model::{Labels, MetricType, Quantiles, SampleMeta, Sink, SummarySource, Value};
use crate::sync::{SeriesArc, unix_now};

use super::{Metric, Timer};
use shards::Recorder;
use window::{Clock, Periods};

/// Observations (latencies, sizes) summarised by quantile estimates over a sliding window,
/// with their count and sum: Go's `Summary`.
///
/// Each objective `(φ, ε)` of [`Quantiles`] is reported with a rank error of at most `ε`: of
/// the window's `n` observations, at most `(φ + ε)·n` are below the value written for `φ` and
/// at least `(φ − ε)·n` are at or below it, whatever the order they arrived in (the streaming
/// estimator is CKMS targeted quantiles, as Go's; its module docs have the proof).
/// Quantiles cover the last [`max_age`](SummaryOptions::max_age), less up to one of its
/// [`age_buckets`](SummaryOptions::age_buckets) periods, and are NaN when nothing was observed
/// in the window; `_count` and `_sum` cover every observation. Without objectives (the
/// default) a summary is just the count and sum.
///
/// `observe` appends to a small buffer behind a per-thread shard lock and reads the clock only
/// once every 64 observations and after each scrape, so an observation may be dated early by
/// up to the time since its thread's last reading (at most the time since the last scrape:
/// see the `shards` module); every `buf_cap` observations (and at each scrape) the buffers are
/// merged into the estimators, so a scrape's count and sum always describe the same observations as its
/// quantiles. Quantiles cannot be aggregated across series or instances: for that, use a
/// [`Histogram`](crate::Histogram).
///
/// ```
/// use promkit::{Quantiles, Registry, Summary};
/// let registry = Registry::new();
/// let size = Summary::builder("payload_size_bytes")
///     .help("Payload sizes.")
///     .objectives(Quantiles::new([(0.5, 0.05), (0.9, 0.01)])?)
///     .register(&registry)?;
/// for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
///     size.observe(v);
/// }
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP payload_size_bytes Payload sizes.
/// ## TYPE payload_size_bytes summary
/// payload_size_bytes{quantile=\"0.5\"} 3.25
/// payload_size_bytes{quantile=\"0.9\"} 10
/// payload_size_bytes_sum 28
/// payload_size_bytes_count 7
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Summary {
    core: SeriesArc<Core>,
}

#[derive(Debug)]
struct Core {
    quantiles: Quantiles,
    recorder: Recorder,
    created: f64,
}

/// How a summary is built; zero durations and counts mean Go's defaults.
#[derive(Clone, Debug)]
pub struct SummaryOptions {
    /// The quantiles reported, with their allowed errors; none (the default) makes a
    /// count-and-sum-only summary.
    pub objectives: Quantiles,
    /// How long an observation counts towards the quantiles (10 minutes by default).
    pub max_age: Duration,
    /// How many periods `max_age` is cut into: an observation leaves the quantiles
    /// `age_buckets − 1` periods after the end of the one it arrived in, so between
    /// `max_age · (age_buckets − 1) / age_buckets` and `max_age` after it was made. Each
    /// bucket costs a quantile estimator. 5 by default.
    pub age_buckets: u32,
    /// How many observations are buffered (across all shards) before they are merged into the
    /// estimators; 500 by default.
    pub buf_cap: usize,
    /// Shards (rounded up to a power of two); 0 means one per CPU, at most 8.
    pub shards: usize,
}

impl SummaryOptions {
    /// Go's `DefMaxAge`.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);
    /// Go's `DefAgeBuckets`.
    pub const DEFAULT_AGE_BUCKETS: u32 = 5;
    /// Go's `DefBufCap`.
    pub const DEFAULT_BUF_CAP: usize = 500;
}

impl Default for SummaryOptions {
    fn default() -> Self {
        Self {
            objectives: Quantiles::default(),
            max_age: Self::DEFAULT_MAX_AGE,
            age_buckets: Self::DEFAULT_AGE_BUCKETS,
            buf_cap: Self::DEFAULT_BUF_CAP,
            shards: 0,
        }
    }
}

/// A hundred years: longer windows are clamped, so period arithmetic never overflows.
const MAX_AGE_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl Summary {
    /// A summary with these options, not registered anywhere.
    pub fn with_options(options: &SummaryOptions) -> Self {
        Self::with_clock(options, Clock::default())
    }

    pub(crate) fn with_clock(options: &SummaryOptions, clock: Clock) -> Self {
        let max_age =
            if options.max_age.is_zero() { SummaryOptions::DEFAULT_MAX_AGE } else { options.max_age };
        let age_buckets =
            if options.age_buckets == 0 { SummaryOptions::DEFAULT_AGE_BUCKETS } else { options.age_buckets };
        let buf_cap = if options.buf_cap == 0 { SummaryOptions::DEFAULT_BUF_CAP } else { options.buf_cap };
        let shards = if options.shards == 0 { crate::sync::cpu_slots() } else { options.shards };
        let periods = Periods::new(clock.now(), max_age.min(MAX_AGE_LIMIT) / age_buckets);
        Self {
            core: SeriesArc::new(Core {
                recorder: Recorder::new(&options.objectives, age_buckets, buf_cap, shards, periods, clock),
                quantiles: options.objectives.clone(),
                created: unix_now(),
            }),
        }
    }

    /// Records one observation. NaN makes the sum NaN and ranks above `+Inf`.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.core.recorder.observe(v);
    }

    /// Records a duration in seconds.
    pub fn observe_duration(&self, d: Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Starts a timer that observes the elapsed seconds when stopped or dropped.
    pub fn start_timer(&self) -> Timer {
        Timer::new(self.clone())
    }

    /// Runs `f`, observes how many seconds it took, and returns its result.
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let r = f();
        self.observe(start.elapsed().as_secs_f64());
        r
    }

    /// The quantile objectives.
    pub fn quantiles(&self) -> &Quantiles {
        &self.core.quantiles
    }

    /// A scrape's view: one estimate per objective (NaN for an empty window), the count and
    /// the sum, all of the same observations.
    pub fn snapshot(&self) -> (Vec<f64>, u64, f64) {
        let mut values = Vec::with_capacity(self.core.quantiles.len());
        let (count, sum) = self.core.recorder.read(&self.core.quantiles, &mut values);
        (values, count, sum)
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.core.recorder.count_sum().0
    }

    /// The sum of observations.
    pub fn sum(&self) -> f64 {
        self.core.recorder.count_sum().1
    }

    /// Creation time in seconds since the Unix epoch.
    pub fn created(&self) -> f64 {
        self.core.created
    }
}

impl SummarySource for Summary {
    fn quantiles(&self) -> &Quantiles {
        &self.core.quantiles
    }

    fn read(&self, values: &mut Vec<f64>) -> (u64, f64) {
        self.core.recorder.read(&self.core.quantiles, values)
    }
}

impl Metric for Summary {
    type Options = SummaryOptions;
    const KIND: MetricType = MetricType::Summary;

    fn create(options: &SummaryOptions) -> Self {
        Self::with_options(options)
    }

    fn write(&self, _: &SummaryOptions, labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::Summary(self), &SampleMeta::created(self.core.created));
    }

    fn reset(&self) {
        self.core.recorder.reset();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::{Format, Registry};

    const GO_DOCS: [(f64, f64); 3] = [(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)];

    /// A clock tests move by hand, in whole nanoseconds from a fixed start.
    #[derive(Clone)]
    struct ManualClock {
        start: Instant,
        offset: std::sync::Arc<AtomicU64>,
    }

    impl ManualClock {
        fn new() -> Self {
            Self { start: Instant::now(), offset: std::sync::Arc::new(AtomicU64::new(0)) }
        }

        fn set(&self, since_start: Duration) {
            self.offset.store(u64::try_from(since_start.as_nanos()).unwrap(), Ordering::Relaxed);
        }

        fn clock(&self) -> Clock {
            let (start, offset) = (self.start, self.offset.clone());
            Clock::from_fn(move || start + Duration::from_nanos(offset.load(Ordering::Relaxed)))
        }
    }

    fn objectives(pairs: &[(f64, f64)]) -> SummaryOptions {
        SummaryOptions { objectives: Quantiles::new(pairs.iter().copied()).unwrap(), ..Default::default() }
    }

    /// The `payload_size_bytes` family of a whole exposition, through its `_count` line.
    fn payload_section(exposition: &str) -> String {
        let start = exposition.find("# HELP payload_size_bytes ").expect("no payload_size_bytes family");
        let rest = &exposition[start..];
        let end = rest.find("payload_size_bytes_count ").unwrap();
        let end = end + rest[end..].find('\n').unwrap() + 1;
        rest[..end].to_owned()
    }

    fn golden_registry() -> Registry {
        let r = Registry::new();
        let s = Summary::builder("payload_size_bytes")
            .help("Summary with objectives")
            .objectives(Quantiles::new(GO_DOCS).unwrap())
            .register(&r)
            .unwrap();
        for v in [1.5, 2.0, 3.25, 4.0, 10.0, 0.25, 7.0] {
            s.observe(v);
        }
        r
    }

    #[test]
    fn the_golden_summary_is_byte_identical_to_client_golang() {
        let r = golden_registry();
        let text = r.encode_text_string().unwrap();
        assert_eq!(
            text,
            concat!(
                "# HELP payload_size_bytes Summary with objectives\n",
                "# TYPE payload_size_bytes summary\n",
                "payload_size_bytes{quantile=\"0.5\"} 3.25\n",
                "payload_size_bytes{quantile=\"0.9\"} 10\n",
                "payload_size_bytes{quantile=\"0.99\"} 10\n",
                "payload_size_bytes_sum 28\n",
                "payload_size_bytes_count 7\n",
            )
        );
        let om = r.encode_string(Format::OPENMETRICS).unwrap();
        // client_golang's output as checked in (and regenerated from the Go oracle).
        let checked_in = include_str!("../../../../../testdata/golden/client_golang.txt");
        let checked_in_om = include_str!("../../../../../testdata/golden/client_golang.om.txt");
        assert_eq!(text, payload_section(checked_in));
        assert_eq!(om.strip_suffix("# EOF\n").unwrap(), payload_section(checked_in_om));
        if let Some(live) = promkit_oracle::go_golden() {
            assert_eq!(text, payload_section(&live));
        }
        if let Some(live) = promkit_oracle::go_golden_openmetrics() {
            assert_eq!(om.strip_suffix("# EOF\n").unwrap(), payload_section(&live));
        }
    }

    #[test]
    fn count_and_sum_only_summaries_write_no_quantiles() {
        let r = Registry::new();
        let s = Summary::builder("job_seconds").help("Job time.").register(&r).unwrap();
        s.observe(1.5);
        s.observe_duration(Duration::from_millis(500));
        assert_eq!(
            r.encode_text_string().unwrap(),
            "# HELP job_seconds Job time.\n# TYPE job_seconds summary\njob_seconds_sum 2\njob_seconds_count 2\n"
        );
        assert_eq!(
            r.encode_string(Format::OPENMETRICS).unwrap(),
            "# HELP job_seconds Job time.\n# TYPE job_seconds summary\njob_seconds_sum 2.0\njob_seconds_count 2\n# EOF\n"
        );
        assert_eq!((s.count(), s.sum()), (2, 2.0));
        assert_eq!(s.snapshot(), (vec![], 2, 2.0));
    }

    #[test]
    fn an_empty_window_reports_nan() {
        let s = Summary::with_options(&objectives(&GO_DOCS));
        let (values, count, sum) = s.snapshot();
        assert!(values.len() == 3 && values.iter().all(|v| v.is_nan()));
        assert_eq!((count, sum), (0, 0.0));
    }

    #[test]
    fn labelled_families_encode_in_every_format() {
        let r = Registry::new();
        let f = Summary::builder("rpc_seconds")
            .help("RPC latency.")
            .unit("seconds")
            .labels(["method"])
            .objectives(Quantiles::new([(0.5, 0.05), (1.0, 0.0)]).unwrap())
            .max_age(Duration::from_secs(60))
            .age_buckets(3)
            .buf_cap(10)
            .register(&r)
            .unwrap();
        let get = f.with_label_values(&["get"]).unwrap();
        for v in [0.25, 0.5, 1.0, 4.0] {
            get.observe(v);
        }
        f.with_label_values(&["put"]).unwrap().observe(2.0);
        f.with_label_values(&["idle"]).unwrap();
        let text = r.encode_text_string().unwrap();
        assert_eq!(
            text,
            concat!(
                "# HELP rpc_seconds RPC latency.\n",
                "# TYPE rpc_seconds summary\n",
                "rpc_seconds{method=\"get\",quantile=\"0.5\"} 0.5\n",
                "rpc_seconds{method=\"get\",quantile=\"1\"} 4\n",
                "rpc_seconds_sum{method=\"get\"} 5.75\n",
                "rpc_seconds_count{method=\"get\"} 4\n",
                "rpc_seconds{method=\"idle\",quantile=\"0.5\"} NaN\n",
                "rpc_seconds{method=\"idle\",quantile=\"1\"} NaN\n",
                "rpc_seconds_sum{method=\"idle\"} 0\n",
                "rpc_seconds_count{method=\"idle\"} 0\n",
                "rpc_seconds{method=\"put\",quantile=\"0.5\"} 2\n",
                "rpc_seconds{method=\"put\",quantile=\"1\"} 2\n",
                "rpc_seconds_sum{method=\"put\"} 2\n",
                "rpc_seconds_count{method=\"put\"} 1\n",
            )
        );
        let om = r.encode_string(Format::OPENMETRICS).unwrap();
        assert_eq!(
            om,
            concat!(
                "# HELP rpc_seconds RPC latency.\n",
                "# TYPE rpc_seconds summary\n",
                "# UNIT rpc_seconds seconds\n",
                "rpc_seconds{method=\"get\",quantile=\"0.5\"} 0.5\n",
                "rpc_seconds{method=\"get\",quantile=\"1.0\"} 4.0\n",
                "rpc_seconds_sum{method=\"get\"} 5.75\n",
                "rpc_seconds_count{method=\"get\"} 4\n",
                "rpc_seconds{method=\"idle\",quantile=\"0.5\"} NaN\n",
                "rpc_seconds{method=\"idle\",quantile=\"1.0\"} NaN\n",
                "rpc_seconds_sum{method=\"idle\"} 0.0\n",
                "rpc_seconds_count{method=\"idle\"} 0\n",
                "rpc_seconds{method=\"put\",quantile=\"0.5\"} 2.0\n",
                "rpc_seconds{method=\"put\",quantile=\"1.0\"} 2.0\n",
                "rpc_seconds_sum{method=\"put\"} 2.0\n",
                "rpc_seconds_count{method=\"put\"} 1\n",
                "# EOF\n",
            )
        );
        let mut proto = Vec::new();
        r.encode(Format::Protobuf, &mut proto).unwrap();
        assert!(!proto.is_empty());
        if let Some(decoded) = promkit_oracle::go_decode_protobuf(&proto) {
            assert_eq!(decoded.unwrap(), text);
        }
        if let Some(check) = promkit_oracle::promtool_check(&text) {
            assert!(check.ok, "{}", check.output);
        }
    }

    #[test]
    fn quantile_is_a_reserved_label() {
        let e = Summary::builder("s").labels(["quantile"]).build().unwrap_err();
        assert!(matches!(e, crate::BuildError::ReservedLabel { .. }), "{e}");
        let e = Summary::builder("s").const_label("quantile", "x").build().unwrap_err();
        assert!(matches!(e, crate::BuildError::ReservedLabel { .. }), "{e}");
    }

    #[test]
    fn old_observations_leave_the_quantiles_but_not_count_and_sum() {
        let t = ManualClock::new();
        let s = Summary::with_clock(&objectives(&[(0.5, 0.0), (1.0, 0.0)]), t.clock());
        let minute = Duration::from_secs(60);
        let just_after = |d: Duration| d + Duration::from_nanos(1);
        // Periods of 2 minutes; the 100s arrive in the first.
        for _ in 0..3 {
            s.observe(100.0);
        }
        assert_eq!(s.snapshot(), (vec![100.0, 100.0], 3, 300.0));
        t.set(3 * minute);
        for _ in 0..5 {
            s.observe(1.0);
        }
        assert_eq!(s.snapshot(), (vec![1.0, 100.0], 8, 305.0));
        // The first period's observations count until the fifth period ends (minute 10)...
        t.set(10 * minute);
        assert_eq!(s.snapshot(), (vec![1.0, 100.0], 8, 305.0));
        // ... and not a nanosecond longer; those of minute 3 until minute 12.
        t.set(just_after(10 * minute));
        assert_eq!(s.snapshot(), (vec![1.0, 1.0], 8, 305.0));
        t.set(12 * minute);
        assert_eq!(s.snapshot(), (vec![1.0, 1.0], 8, 305.0));
        t.set(just_after(12 * minute));
        let (values, count, sum) = s.snapshot();
        assert!(values.iter().all(|v| v.is_nan()), "{values:?}");
        assert_eq!((count, sum), (8, 305.0));
        // Hours of silence, then one observation: only it is in the window.
        t.set(5 * 60 * minute);
        s.observe(7.0);
        assert_eq!(s.snapshot(), (vec![7.0, 7.0], 9, 312.0));
    }

    #[test]
    fn observations_buffered_over_a_period_boundary_keep_their_period() {
        let t = ManualClock::new();
        let mut options = objectives(&[(1.0, 0.0)]);
        options.shards = 1;
        let s = Summary::with_clock(&options, t.clock());
        // A burst that makes the shard read the clock on its next observation.
        for _ in 0..shards::CHECK_EVERY {
            s.observe(100.0); // period 1, buffered, no scrape
        }
        t.set(Duration::from_secs(9 * 60));
        s.observe(1.0); // period 5: flushes the 100s first, then waits
        t.set(Duration::from_secs(10 * 60 + 1));
        // Period 6: the 100s expired with period 1's stream; the 1 stays.
        let n = u64::from(shards::CHECK_EVERY);
        assert_eq!(s.snapshot(), (vec![1.0], n + 1, 100.0 * n as f64 + 1.0));
    }

    #[test]
    fn between_clock_readings_observations_are_dated_early_by_at_most_the_time_since_a_scrape() {
        let t = ManualClock::new();
        let mut options = objectives(&[(1.0, 0.0)]);
        options.shards = 1;
        let s = Summary::with_clock(&options, t.clock());
        s.observe(100.0); // period 1: the shard reads the clock
        t.set(Duration::from_secs(9 * 60));
        s.observe(1.0); // no reading: dated period 1 with the 100
        t.set(Duration::from_secs(10 * 60 + 1));
        let (values, count, sum) = s.snapshot();
        assert!(values[0].is_nan(), "both left with period 1: {values:?}");
        assert_eq!((count, sum), (2, 101.0));
        // The scrape drained the shard, so its next observation reads the clock (period 6);
        // one without a reading since is dated by it: early by at most the time since the
        // scrape, here 9 minutes, and it leaves the quantiles with period 6.
        s.observe(100.0);
        t.set(Duration::from_secs(19 * 60));
        s.observe(1.0);
        t.set(Duration::from_secs(20 * 60 + 1));
        let (values, count, sum) = s.snapshot();
        assert!(values[0].is_nan(), "both left with period 6: {values:?}");
        assert_eq!((count, sum), (4, 202.0));
        // With a scrape between the two, the later one keeps its own period.
        s.observe(100.0); // period 11
        assert_eq!(s.snapshot().0, [100.0]);
        t.set(Duration::from_secs(29 * 60));
        s.observe(1.0); // read afresh: period 15
        t.set(Duration::from_secs(30 * 60 + 1)); // period 16: period 11 is gone, 15 stays
        assert_eq!(s.snapshot(), (vec![1.0], 6, 303.0));
    }

    #[test]
    fn concurrent_observers_and_scrapes_agree_and_lose_nothing() {
        let s = Summary::with_options(&SummaryOptions {
            buf_cap: 64,
            shards: 4,
            ..objectives(&[(0.0, 0.0), (0.5, 0.05), (1.0, 0.0)])
        });
        let threads = 4u32;
        let per = 50_000u32;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let s = s.clone();
                scope.spawn(move || {
                    for _ in 0..per {
                        // Thread t observes only t + 1: every scrape's sum is a whole number
                        // and its quantiles are among 1..=threads.
                        s.observe(f64::from(t + 1));
                    }
                });
            }
            let s = s.clone();
            scope.spawn(move || {
                let mut last = 0;
                for _ in 0..500 {
                    let (values, count, sum) = s.snapshot();
                    assert!(count >= last, "count went backwards");
                    last = count;
                    if count == 0 {
                        assert!(values.iter().all(|v| v.is_nan()));
                        continue;
                    }
                    // Every counted observation is in the streams: min and max are values
                    // some thread observed, and the sum lies between count·min and count·max.
                    let (min, max) = (values[0], values[2]);
                    assert!(min >= 1.0 && max <= f64::from(threads) && min <= values[1] && values[1] <= max);
                    assert!(
                        sum >= count as f64 * min && sum <= count as f64 * max,
                        "{values:?} {count} {sum}"
                    );
                    assert_eq!(sum.fract(), 0.0);
                }
            });
        });
        let (values, count, sum) = s.snapshot();
        assert_eq!(count, u64::from(threads * per));
        assert_eq!(sum, f64::from(per) * f64::from((1..=threads).sum::<u32>()));
        assert_eq!((values[0], values[2]), (1.0, f64::from(threads)));
        assert!((2.0..=3.0).contains(&values[1]), "{values:?}");
    }

    #[test]
    fn timers_observe_once_or_not_at_all() {
        let s = Summary::with_options(&objectives(&[(0.5, 0.05)]));
        assert!(s.start_timer().stop() >= 0.0);
        s.start_timer().discard();
        drop(s.start_timer());
        assert_eq!(s.time(|| 7), 7);
        s.observe_duration(Duration::from_millis(1500));
        assert_eq!(s.count(), 4);
        assert!(s.sum() >= 1.5);
    }

    #[test]
    fn reset_series_start_over() {
        let s = Summary::with_options(&objectives(&[(0.5, 0.05)]));
        s.observe(3.0);
        Metric::reset(&s);
        let (values, count, sum) = s.snapshot();
        assert!(values[0].is_nan());
        assert_eq!((count, sum), (0, 0.0));
    }

    proptest::proptest! {
        /// Through the whole summary (shards, window, flushes at `buf_cap`): each scrape's
        /// quantiles are within the declared error of everything observed so far.
        #[test]
        fn scraped_quantiles_stay_within_the_declared_error(
            values in proptest::collection::vec(-1e6..1e6f64, 1..3000),
            buf_cap in 1usize..600,
            scrape_every in 100usize..2000,
        ) {
            let t = ManualClock::new();
            let s = Summary::with_clock(&SummaryOptions { buf_cap, ..objectives(&GO_DOCS) }, t.clock());
            for (i, &v) in values.iter().enumerate() {
                s.observe(v);
                if (i + 1) % scrape_every == 0 || i + 1 == values.len() {
                    let (got, count, _) = s.snapshot();
                    proptest::prop_assert_eq!(count, i as u64 + 1);
                    let mut sorted = values[..=i].to_vec();
                    sorted.sort_unstable_by(f64::total_cmp);
                    for (&(q, e), &v) in GO_DOCS.iter().zip(&got) {
                        let check = ckms::check_rank(&sorted, v, q, e);
                        proptest::prop_assert!(check.is_ok(), "{}", check.unwrap_err());
                    }
                }
            }
        }
    }
}
