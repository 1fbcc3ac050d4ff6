//! `Gauge` (i64) and `GaugeF64`: values that go up and down.

use std::sync::atomic::Ordering;

use crate::model::{Labels, MetricType, SampleMeta, Sink, Value};
use crate::sync::{AtomicI64, AtomicU64, SeriesArc, unix_now};

use super::Metric;

/// An integer value that goes up and down: queue depth, connections open, jobs in flight.
///
/// ```
/// let g = promkit::Gauge::new();
/// g.set(10);
/// g.dec();
/// g.sub(4);
/// assert_eq!(g.get(), 5);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Gauge {
    value: SeriesArc<AtomicI64>,
}

impl Gauge {
    /// A gauge at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, v: i64) {
        // Relaxed throughout: a gauge orders nothing else; the last write wins.
        self.value.store(v, Ordering::Relaxed);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1);
    }

    /// Adds `v` (wrapping on overflow, as the atomic does).
    #[inline]
    pub fn add(&self, v: i64) {
        self.value.fetch_add(v, Ordering::Relaxed);
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: i64) {
        self.value.fetch_sub(v, Ordering::Relaxed);
    }

    /// Sets the value to the current Unix time in whole seconds.
    pub fn set_to_current_time(&self) {
        #[allow(clippy::cast_possible_truncation)] // whole seconds fit i64 for 292 billion years
        self.set(unix_now() as i64);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    /// Adds one now and subtracts it again when the returned guard is dropped: an in-flight
    /// count that stays right on early returns and panics.
    pub fn track_inflight(&self) -> InflightGuard {
        self.inc();
        InflightGuard { gauge: self.clone() }
    }
}

/// Decrements its gauge when dropped; from [`Gauge::track_inflight`].
#[derive(Debug)]
#[must_use = "the gauge is decremented when this guard is dropped"]
pub struct InflightGuard {
    gauge: Gauge,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

impl Metric for Gauge {
    type Options = ();
    const KIND: MetricType = MetricType::Gauge;

    fn create(_: &()) -> Self {
        Self::new()
    }

    fn write(&self, _: &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::GaugeI64(self.get()), &SampleMeta::default());
    }

    #[inline]
    fn plain_value(&self) -> Option<(Value<'_>, Option<f64>)> {
        Some((Value::GaugeI64(self.get()), None))
    }

    fn reset(&self) {
        self.set(0);
    }
}

/// A float value that goes up and down: temperature, a ratio, seconds since something.
#[derive(Clone, Debug)]
pub struct GaugeF64 {
    bits: SeriesArc<AtomicU64>,
}

impl Default for GaugeF64 {
    fn default() -> Self {
        Self::new()
    }
}

impl GaugeF64 {
    /// A gauge at zero.
    pub fn new() -> Self {
        Self { bits: SeriesArc::new(AtomicU64::new(0f64.to_bits())) }
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.bits.store(v.to_bits(), Ordering::Relaxed);
    }

    /// Adds `v` (which may be negative).
    #[inline]
    pub fn add(&self, v: f64) {
        // Relaxed CAS loop: concurrent adds all land; nothing else is ordered by a gauge.
        let _ = self
            .bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some((f64::from_bits(b) + v).to_bits()));
    }

    /// Subtracts `v`.
    #[inline]
    pub fn sub(&self, v: f64) {
        self.add(-v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// Sets the value to the current Unix time in seconds, with the fraction.
    pub fn set_to_current_time(&self) {
        self.set(unix_now());
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

impl Metric for GaugeF64 {
    type Options = ();
    const KIND: MetricType = MetricType::Gauge;

    fn create(_: &()) -> Self {
        Self::new()
    }

    fn write(&self, _: &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::GaugeF64(self.get()), &SampleMeta::default());
    }

    #[inline]
    fn plain_value(&self) -> Option<(Value<'_>, Option<f64>)> {
        Some((Value::GaugeF64(self.get()), None))
    }

    fn reset(&self) {
        self.set(0.0);
    }
}

/// A float value of unknown kind (`# TYPE x untyped`), for values bridged from systems that do
/// not say whether they are counters or gauges.
#[derive(Clone, Debug, Default)]
pub struct Untyped {
    inner: GaugeF64,
}

impl Untyped {
    /// A value at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.inner.set(v);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.inner.get()
    }
}

impl Metric for Untyped {
    type Options = ();
    const KIND: MetricType = MetricType::Untyped;

    fn create(_: &()) -> Self {
        Self::new()
    }

    fn write(&self, _: &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::Untyped(self.get()), &SampleMeta::default());
    }

    #[inline]
    fn plain_value(&self) -> Option<(Value<'_>, Option<f64>)> {
        Some((Value::Untyped(self.get()), None))
    }

    fn reset(&self) {
        self.set(0.0);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn integer_and_float_gauges_move_both_ways() {
        let g = Gauge::new();
        g.inc();
        g.add(10);
        g.sub(3);
        g.dec();
        assert_eq!(g.get(), 7);
        {
            let _guard = g.track_inflight();
            assert_eq!(g.get(), 8);
        }
        assert_eq!(g.get(), 7);

        let f = GaugeF64::new();
        f.add(1.5);
        f.sub(0.25);
        f.inc();
        assert_eq!(f.get(), 2.25);
        f.set(f64::NAN);
        assert!(f.get().is_nan());
        f.set_to_current_time();
        assert!(f.get() > 1.7e9);
    }

    #[test]
    fn concurrent_float_adds_all_land() {
        let f = GaugeF64::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let f = f.clone();
                s.spawn(move || (0..10_000).for_each(|_| f.add(0.5)));
            }
        });
        assert_eq!(f.get(), 20_000.0);
    }
}
