//! `Counter` (u64) and `CounterF64`: totals that only go up, plus thread-owned local handles.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use crossbeam_utils::CachePadded;

use crate::model::{Exemplar, Labels, MetricType, SampleMeta, Sink, Value};
// `CreatedOnce`: the creation time and the rarely used parts of a series in one word, so a
// counter's shared state is 24 bytes; `OnceBox`: one word for a part made on first use.
use crate::sync::{Arc, AtomicBool, AtomicU64, CreatedOnce, Mutex, OnceBox, SeriesArc, lock, unix_now};

use super::Metric;
use super::spread::{Spread, moved_meanwhile, probe_due};
use crate::model::ExemplarError;

/// A monotonically increasing integer total: requests served, bytes sent, jobs done.
///
/// Cloning is cheap and every clone updates the same value; an update is one relaxed atomic
/// read-modify-write. A counter that threads update at the same time spreads out once an
/// occasional probe (about one per 65,536 counted) sees two of them collide: from then on
/// each thread adds to a cache line of its own CPU slot, so they stop taking turns on one. For a counter that one thread bumps in a tight
/// loop, [`local`](Self::local) gives a handle that updates without any atomic
/// read-modify-write.
///
/// ```
/// use promkit::{Counter, Registry};
/// let registry = Registry::new();
/// let jobs = Counter::builder("jobs_total").help("Jobs done.").register(&registry)?;
/// jobs.inc();
/// jobs.inc_by(2);
/// assert_eq!(jobs.get(), 3);
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP jobs_total Jobs done.
/// ## TYPE jobs_total counter
/// jobs_total 3
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Counter {
    core: SeriesArc<CounterCore>,
}

#[derive(Debug)]
struct CounterCore {
    value: AtomicU64,
    /// The creation time, and the extras: allocated on first use of a local handle, an
    /// exemplar or spread cells, so a plain counter stays small.
    extras: CreatedOnce<Extras>,
}

#[derive(Debug, Default)]
struct Extras {
    locals: Mutex<Vec<Arc<LocalSlot>>>,
    exemplar: Mutex<Option<Exemplar>>,
    /// The cells shared `inc`s add to once two of them collided on `value`.
    spread: OnceBox<Spread>,
}

/// One thread-owned cell of a counter. The count stays in the slot when its handle is dropped
/// (a scrape keeps summing it) and the next local handle reuses the slot, so no count is lost
/// and none is ever moved, which a concurrent scrape could see twice.
#[derive(Debug)]
struct LocalSlot {
    value: CachePadded<AtomicU64>,
    owned: AtomicBool,
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

impl Counter {
    /// A counter at zero, not registered anywhere (see [`Counter::builder`] to register one).
    pub fn new() -> Self {
        Self {
            core: SeriesArc::new(CounterCore {
                value: AtomicU64::new(0),
                extras: CreatedOnce::new(unix_now()),
            }),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        let core = &*self.core;
        // `extras` shares `value`'s cache line, so this check costs a load from a line the
        // update touches anyway.
        if let Some(spread) = core.extras.get().and_then(|e| e.spread.get()) {
            spread.add(n);
            return;
        }
        // Relaxed: a counter orders nothing else; a scrape may lag by the increments in flight.
        let old = core.value.fetch_add(n, Ordering::Relaxed);
        if probe_due(old, n) {
            self.probe();
        }
    }

    /// Whether another thread is updating the value right now ([`moved_meanwhile`]); if
    /// so, the counter spreads out (once), so later updates go to the calling thread's cell.
    /// Run when [`probe_due`] says: an add cannot tell whether it was contended, and a
    /// compare-and-swap on every update measured 70% slower than an add on the test host (its
    /// load waits for the previous update's locked write).
    #[cold]
    #[inline(never)]
    fn probe(&self) {
        if moved_meanwhile(&self.core.value) {
            self.spread_out();
        }
    }

    /// Gives the counter its cells, if it has none yet.
    fn spread_out(&self) -> &Spread {
        self.core.extras.get_or_init(Extras::default).spread.get_or_init(Spread::new)
    }

    /// The current total, including what local handles have counted.
    pub fn get(&self) -> u64 {
        let mut total = self.core.value.load(Ordering::Relaxed);
        if let Some(extras) = self.core.extras.get() {
            for slot in lock(&extras.locals).iter() {
                total = total.wrapping_add(slot.value.load(Ordering::Relaxed));
            }
            if let Some(spread) = extras.spread.get() {
                total = total.wrapping_add(spread.sum());
            }
        }
        total
    }

    /// When this counter was created, in seconds since the Unix epoch (OpenMetrics `_created`).
    pub fn created(&self) -> f64 {
        self.core.extras.created()
    }

    /// A handle for one thread: `inc` on it is a plain load and store on a cache line of its
    /// own, several times cheaper than the shared atomic add under contention. The handle is
    /// `Send` but not `Sync`; dropping it keeps its count in the total.
    pub fn local(&self) -> LocalCounter {
        let extras = self.core.extras.get_or_init(Extras::default);
        let mut slots = lock(&extras.locals);
        // Acquire on claiming: the previous owner's Release on drop makes its last stores to
        // the slot visible here before this owner continues from that value.
        let free = slots
            .iter()
            .find(|s| s.owned.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok());
        let slot = match free {
            Some(slot) => Arc::clone(slot),
            None => {
                let slot = Arc::new(LocalSlot {
                    value: CachePadded::new(AtomicU64::new(0)),
                    owned: AtomicBool::new(true),
                });
                slots.push(Arc::clone(&slot));
                slot
            }
        };
        LocalCounter { slot, _not_sync: PhantomData }
    }

    /// Adds `n` and records an exemplar for it (a trace id, say), replacing the previous one.
    /// The increment always happens; an invalid exemplar is refused with an error.
    ///
    /// # Errors
    /// [`ExemplarError`] for an invalid label name or more than 128 code points of labels.
    pub fn inc_by_with_exemplar(&self, n: u64, labels: &[(&str, &str)]) -> Result<(), ExemplarError> {
        self.inc_by(n);
        // exemplar values are floats in every format
        let slot = &self.core.extras.get_or_init(Extras::default).exemplar;
        // The labels are checked and the clock read with the slot locked: on one thread this
        // measured 6 ns faster than doing both before taking the lock.
        let mut slot = lock(slot);
        let stamp = Exemplar::stamp(labels)?;
        Exemplar::overwrite(&mut slot, labels, n as f64, stamp);
        Ok(())
    }

    /// Adds one with an exemplar; see [`inc_by_with_exemplar`](Self::inc_by_with_exemplar).
    ///
    /// # Errors
    /// As [`inc_by_with_exemplar`](Self::inc_by_with_exemplar).
    pub fn inc_with_exemplar(&self, labels: &[(&str, &str)]) -> Result<(), ExemplarError> {
        self.inc_by_with_exemplar(1, labels)
    }

    /// True when both handles update the same counter.
    pub fn same_as(&self, other: &Self) -> bool {
        SeriesArc::ptr_eq(&self.core, &other.core)
    }
}

/// A thread-owned handle on a [`Counter`], from [`Counter::local`].
#[derive(Debug)]
pub struct LocalCounter {
    slot: Arc<LocalSlot>,
    /// `inc` is a load then a store, correct only while one thread at a time uses the handle.
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

impl LocalCounter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        // Relaxed load and store, no read-modify-write: this handle is the slot's only writer
        // (it is not Sync, and the slot is claimed exclusively), and scrapes only read.
        let v = self.slot.value.load(Ordering::Relaxed);
        self.slot.value.store(v.wrapping_add(n), Ordering::Relaxed);
    }
}

impl Drop for LocalCounter {
    fn drop(&mut self) {
        // Release: the next owner's Acquire claim sees every store this owner made.
        self.slot.owned.store(false, Ordering::Release);
    }
}

impl Metric for Counter {
    type Options = ();
    const KIND: MetricType = MetricType::Counter;

    fn create(_: &()) -> Self {
        Self::new()
    }

    #[inline]
    fn plain_value(&self) -> Option<(Value<'_>, Option<f64>)> {
        // With local handles, spread cells or an exemplar the counter takes `write` (the sum
        // of its slots and cells, the exemplar under its lock). Relaxed, as `get`: a scrape
        // may lag an increment.
        match self.core.extras.get_or_created() {
            Err(created) => Some((Value::CounterU64(self.core.value.load(Ordering::Relaxed)), Some(created))),
            Ok(_) => None,
        }
    }

    fn write(&self, _: &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
        let meta = SampleMeta::created(self.core.extras.created());
        match self.core.extras.get() {
            Some(extras) => {
                let exemplar = lock(&extras.exemplar);
                sink.sample(labels, Value::CounterU64(self.get()), &meta.with_exemplar(exemplar.as_ref()));
            }
            None => sink.sample(labels, Value::CounterU64(self.get()), &meta),
        }
    }

    fn reset(&self) {
        self.core.value.store(0, Ordering::Relaxed);
        if let Some(extras) = self.core.extras.get() {
            for slot in lock(&extras.locals).iter() {
                slot.value.store(0, Ordering::Relaxed);
            }
            if let Some(spread) = extras.spread.get() {
                spread.reset();
            }
            *lock(&extras.exemplar) = None;
        }
    }
}

/// A monotonically increasing float total: seconds spent, a fractional amount.
///
/// [`inc_by`](Self::inc_by) ignores negative and NaN amounts (a counter must never go down or
/// become NaN; Go panics instead) and returns whether the amount was added. An update is a
/// compare-and-swap; the first time one fails because another thread changed the total in
/// between, the counter spreads out over per-CPU cells as [`Counter`] does.
#[derive(Clone, Debug)]
pub struct CounterF64 {
    core: SeriesArc<CounterF64Core>,
}

#[derive(Debug)]
struct CounterF64Core {
    bits: AtomicU64,
    /// The creation time, and the extras: allocated on first use of an exemplar or on the
    /// first contended update.
    extras: CreatedOnce<F64Extras>,
}

#[derive(Debug, Default)]
struct F64Extras {
    exemplar: Mutex<Option<Exemplar>>,
    /// The cells updates add to once two of them collided on `bits` (each holds `f64` bits).
    spread: OnceBox<Spread>,
}

impl Default for CounterF64 {
    fn default() -> Self {
        Self::new()
    }
}

impl CounterF64 {
    /// A counter at zero.
    pub fn new() -> Self {
        Self {
            core: SeriesArc::new(CounterF64Core {
                bits: AtomicU64::new(0f64.to_bits()),
                extras: CreatedOnce::new(unix_now()),
            }),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1.0);
    }

    /// Adds `v` when it is zero or positive (including `+Inf`); ignores a negative or NaN `v`
    /// and returns `false`, so the counter never decreases.
    #[inline]
    pub fn inc_by(&self, v: f64) -> bool {
        // Written so NaN fails the test too.
        if v.is_nan() || v < 0.0 {
            return false;
        }
        let core = &*self.core;
        if let Some(spread) = core.extras.get().and_then(|e| e.spread.get()) {
            spread.add_f64(v);
            return true;
        }
        // Relaxed: the only invariant is the value itself. A failed swap means another thread
        // changed the value since the load: the update goes to a cell instead of retrying, and
        // so do all later ones. Strong, so a spurious failure (on LL/SC machines) never
        // spreads a counter nobody contends.
        let b = core.bits.load(Ordering::Relaxed);
        let next = (f64::from_bits(b) + v).to_bits();
        if core.bits.compare_exchange(b, next, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            self.spread_out().add_f64(v);
        }
        true
    }

    /// Gives the counter its cells, if it has none yet.
    #[cold]
    #[inline(never)]
    fn spread_out(&self) -> &Spread {
        self.core.extras.get_or_init(F64Extras::default).spread.get_or_init(Spread::new)
    }

    /// The current total.
    pub fn get(&self) -> f64 {
        let total = f64::from_bits(self.core.bits.load(Ordering::Relaxed));
        match self.core.extras.get().and_then(|e| e.spread.get()) {
            Some(spread) => total + spread.sum_f64(),
            None => total,
        }
    }

    /// Adds `v` (as [`inc_by`](Self::inc_by)) and records an exemplar for it, replacing the
    /// previous one. A refused amount records no exemplar.
    ///
    /// # Errors
    /// [`ExemplarError`] for an invalid label name or more than 128 code points of labels.
    pub fn inc_by_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<(), ExemplarError> {
        if self.inc_by(v) {
            // Checked and stamped under the lock, as the integer counter's.
            let mut slot = lock(&self.core.extras.get_or_init(F64Extras::default).exemplar);
            let stamp = Exemplar::stamp(labels)?;
            Exemplar::overwrite(&mut slot, labels, v, stamp);
        }
        Ok(())
    }

    /// Creation time in seconds since the Unix epoch.
    pub fn created(&self) -> f64 {
        self.core.extras.created()
    }
}

impl Metric for CounterF64 {
    type Options = ();
    const KIND: MetricType = MetricType::Counter;

    fn create(_: &()) -> Self {
        Self::new()
    }

    #[inline]
    fn plain_value(&self) -> Option<(Value<'_>, Option<f64>)> {
        // With an exemplar or cells the counter takes `write`, as the integer counter does.
        match self.core.extras.get_or_created() {
            Err(created) => Some((Value::CounterF64(self.get()), Some(created))),
            Ok(_) => None,
        }
    }

    fn write(&self, _: &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
        let meta = SampleMeta::created(self.core.extras.created());
        match self.core.extras.get() {
            Some(extras) => {
                let exemplar = lock(&extras.exemplar);
                sink.sample(labels, Value::CounterF64(self.get()), &meta.with_exemplar(exemplar.as_ref()));
            }
            None => sink.sample(labels, Value::CounterF64(self.get()), &meta),
        }
    }

    fn reset(&self) {
        self.core.bits.store(0f64.to_bits(), Ordering::Relaxed);
        if let Some(extras) = self.core.extras.get() {
            if let Some(spread) = extras.spread.get() {
                spread.reset();
            }
            *lock(&extras.exemplar) = None;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::spread::PROBE_SPAN;
    use super::*;

    #[test]
    fn counts_and_ignores_bad_float_increments() {
        let c = Counter::new();
        c.inc();
        c.inc_by(41);
        assert_eq!(c.get(), 42);

        let f = CounterF64::new();
        assert!(f.inc_by(1.5));
        assert!(!f.inc_by(-1.0));
        assert!(!f.inc_by(f64::NAN));
        assert_eq!(f.get(), 1.5);
        assert!(f.inc_by(f64::INFINITY));
        assert_eq!(f.get(), f64::INFINITY);
    }

    #[test]
    fn local_handles_keep_their_counts_after_drop_and_reuse_slots() {
        let c = Counter::new();
        {
            let l = c.local();
            l.inc_by(5);
            c.inc();
            assert_eq!(c.get(), 6);
        }
        assert_eq!(c.get(), 6);
        let l2 = c.local();
        l2.inc();
        let l3 = c.local();
        l3.inc();
        assert_eq!(c.get(), 8);
        // Two live handles need two slots; the first was reused by l2.
        assert_eq!(lock(&c.core.extras.get().unwrap().locals).len(), 2);
    }

    /// Two threads adding to one counter at once: a probe sees the other thread's adds and
    /// the counter spreads out. Each thread stops once it has, or after 256 probes' worth of
    /// adds (a bound far above what the probe needs while both threads run; on the host this
    /// was written on, the first probe or two).
    #[test]
    fn two_threads_adding_at_once_spread_the_counter() {
        const LIMIT: u64 = 256 * PROBE_SPAN;
        let c = Counter::new();
        let spread = |c: &Counter| c.core.extras.get().and_then(|e| e.spread.get()).is_some();
        let start = std::sync::Barrier::new(2);
        let adds: Vec<u64> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        let mut n = 0;
                        while n < LIMIT && !spread(&c) {
                            c.inc();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().expect("adder")).collect()
        });
        println!("spread after {adds:?} adds");
        assert!(spread(&c), "no probe saw the other thread within {adds:?} adds");
        assert_eq!(c.get(), adds.iter().sum::<u64>(), "no add was lost across the spread");
    }

    #[test]
    fn a_spread_counter_adds_its_cells_to_the_total_and_resets_them() {
        let r = crate::Registry::new();
        let c = Counter::builder("jobs_total").help("Jobs.").register(&r).expect("registers");
        c.inc_by(5);
        assert!(c.plain_value().is_some(), "an uncontended counter keeps the plain path");
        c.probe();
        assert!(c.core.extras.get().is_none(), "a probe nobody disturbs leaves the counter alone");
        let spread = c.spread_out();
        c.inc_by(3);
        c.inc();
        assert_eq!(spread.sum(), 4, "updates after spreading go to the cells");
        assert_eq!(c.core.value.load(Ordering::Relaxed), 5, "the first word keeps its count");
        c.inc_by(1);
        assert_eq!(c.get(), 10);
        assert!(c.plain_value().is_none(), "a spread counter is written through `write`");
        let text = r.encode_text_string().expect("encodes");
        assert!(text.ends_with("\njobs_total 10\n"), "the exposition carries the cells: {text}");
        c.reset();
        assert_eq!(c.get(), 0);
        c.inc();
        assert_eq!(c.get(), 1);
    }

    #[test]
    fn a_spread_float_counter_keeps_its_exemplar_and_adds_its_cells() {
        let r = crate::Registry::new();
        let c = CounterF64::builder("busy_seconds_total").help("Busy.").register(&r).expect("registers");
        c.inc_by(1.5);
        assert!(c.plain_value().is_some(), "an uncontended counter keeps the plain path");
        c.spread_out();
        assert!(c.inc_by(2.25));
        assert!(!c.inc_by(-1.0), "a spread counter still refuses a negative amount");
        c.inc_by_with_exemplar(0.25, &[("trace_id", "abc")]).expect("a valid exemplar");
        let extras = c.core.extras.get().expect("spreading made the extras");
        assert_eq!(extras.spread.get().expect("cells").sum_f64(), 2.5);
        assert_eq!(
            f64::from_bits(c.core.bits.load(Ordering::Relaxed)),
            1.5,
            "the first word keeps its total"
        );
        assert_eq!(c.get(), 4.0);
        assert!(lock(&extras.exemplar).is_some());
        let text = r.encode_text_string().expect("encodes");
        assert!(text.ends_with("\nbusy_seconds_total 4\n"), "the exposition carries the cells: {text}");
        c.reset();
        assert_eq!(c.get(), 0.0);
        assert!(lock(&extras.exemplar).is_none());
    }

    #[test]
    fn shared_float_increments_on_many_threads_lose_nothing() {
        let c = CounterF64::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..200_000).for_each(|_| _ = c.inc_by(0.5)));
            }
        });
        // Halves add up exactly in an f64 at this size, whatever the order.
        assert_eq!(c.get(), 400_000.0);
    }

    /// Four threads each count `PER` with `count` while a fifth reads the total 1,000 times:
    /// no read goes backwards and the final total is exact.
    fn four_threads_count_exactly(count: fn(&Counter, u64)) {
        const THREADS: u64 = 4;
        const PER: u64 = 200_000;
        let c = Counter::new();
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                let c = c.clone();
                s.spawn(move || count(&c, PER));
            }
            let c = c.clone();
            s.spawn(move || {
                let mut last = 0;
                for _ in 0..1000 {
                    let now = c.get();
                    assert!(now >= last, "a scrape went backwards: {now} < {last}");
                    last = now;
                }
            });
        });
        assert_eq!(c.get(), THREADS * PER);
    }

    #[test]
    fn shared_increments_on_many_threads_lose_nothing_while_scraped() {
        four_threads_count_exactly(|c, n| (0..n).for_each(|_| c.inc()));
    }

    #[test]
    fn local_handles_on_many_threads_lose_nothing_while_scraped() {
        four_threads_count_exactly(|c, n| {
            // Each thread drops and re-takes its handle a few times, so slots are reused.
            for _ in 0..4 {
                let l = c.local();
                (0..n / 4).for_each(|_| l.inc());
            }
        });
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::super::spread::PROBE_SPAN;
    use super::*;

    /// Two threads each add 1 and 2 twice to a counter (through `add`) while the model's own
    /// thread reads it: whichever interleaving spreads it out (or not), no update is lost and
    /// the read never sees more than was added. `get` reads what was added since the start.
    fn two_threads_add_while_read<C: Clone + Send + 'static>(c: C, add: fn(&C, u64), get: fn(&C) -> u64) {
        let handles: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|n| {
                let c = c.clone();
                loom::thread::spawn(move || {
                    add(&c, n);
                    add(&c, n);
                })
            })
            .collect();
        let seen = get(&c);
        assert!(seen <= 6, "read {seen} of at most 6");
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(get(&c), 6);
    }

    /// The integer counter starts just below a probe boundary, so the threads' updates probe.
    #[test]
    fn loom_shared_increments_spread_without_loss() {
        loom::model(|| {
            let c = Counter::new();
            c.inc_by(PROBE_SPAN - 2);
            two_threads_add_while_read(c, Counter::inc_by, |c| c.get() - (PROBE_SPAN - 2));
        });
    }

    /// The float counter spreads on a failed swap.
    #[test]
    fn loom_float_increments_spread_without_loss() {
        loom::model(|| {
            // Small whole numbers add up exactly in an f64, so the cast back loses nothing.
            two_threads_add_while_read(
                CounterF64::new(),
                |c, n| {
                    c.inc_by(n as f64);
                },
                |c| c.get() as u64,
            );
        });
    }

    /// A handle dropped on one thread and its slot claimed on another: the count carries over
    /// and a concurrent scrape never sees more than was counted, nor a decrease.
    #[test]
    fn loom_local_slot_handoff() {
        loom::model(|| {
            let c = Counter::new();
            let c1 = c.clone();
            let t1 = loom::thread::spawn(move || {
                let l = c1.local();
                l.inc();
                l.inc();
            });
            let c2 = c.clone();
            let t2 = loom::thread::spawn(move || {
                let l = c2.local();
                l.inc();
            });
            let seen = c.get();
            assert!(seen <= 3);
            t1.join().unwrap();
            t2.join().unwrap();
            assert_eq!(c.get(), 3);
        });
    }
}
