//! The facade's handle traits (`CounterFn`, `GaugeFn`, `HistogramFn`) over promkit series.

use std::sync::Mutex;

use promkit::{Counter, GaugeF64, Histogram, Summary};

/// A facade counter: one promkit [`Counter`] series.
#[derive(Debug)]
pub(crate) struct CounterHandle(pub(crate) Counter);

/// Serialises `absolute` per counter without a lock in every series: 16 stripes, picked by
/// the handle's address. `absolute` is for mirroring an external total, never a hot path.
static ABSOLUTE: [Mutex<()>; 16] = [const { Mutex::new(()) }; 16];

impl metrics::CounterFn for CounterHandle {
    fn increment(&self, value: u64) {
        self.0.inc_by(value);
    }

    /// "Sets the counter to at least `value`" (the facade's contract): a counter only goes
    /// up, so a smaller value, one that arrived late, changes nothing.
    fn absolute(&self, value: u64) {
        let stripe = (std::ptr::from_ref(self) as usize >> 4) % ABSOLUTE.len();
        // A poisoned stripe only means another absolute panicked; the counter is intact.
        let _serial = ABSOLUTE[stripe].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.0.get();
        if value > now {
            self.0.inc_by(value - now);
        }
    }
}

/// A facade gauge: one promkit [`GaugeF64`] series.
#[derive(Debug)]
pub(crate) struct GaugeHandle(pub(crate) GaugeF64);

impl metrics::GaugeFn for GaugeHandle {
    fn increment(&self, value: f64) {
        self.0.add(value);
    }

    fn decrement(&self, value: f64) {
        self.0.sub(value);
    }

    fn set(&self, value: f64) {
        self.0.set(value);
    }
}

/// A facade histogram: a promkit histogram (classic or native) or summary series.
#[derive(Debug)]
pub(crate) enum HistogramHandle {
    Histogram(Histogram),
    Summary(Summary),
}

impl metrics::HistogramFn for HistogramHandle {
    fn record(&self, value: f64) {
        match self {
            Self::Histogram(h) => h.observe(value),
            Self::Summary(s) => s.observe(value),
        }
    }

    fn record_many(&self, value: f64, count: usize) {
        for _ in 0..count {
            self.record(value);
        }
    }
}
