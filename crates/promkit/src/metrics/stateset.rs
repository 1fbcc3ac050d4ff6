//! `StateSet` and `EnumStateSet`: OpenMetrics' stateset type, a fixed set of states of which
//! some hold (1) and the others do not (0), kept in one atomic bit set.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use crate::labels::LabelValue;
use crate::model::{BuildError, Desc, Labels, MetricType, SampleMeta, Sink, Value};
use crate::sync::{AtomicU64, SeriesArc};

use super::builder::Builder;
use super::{LabelError, Metric};

/// The most states a stateset can have: they are the bits of one atomic word, so that a change
/// is one atomic operation and a scrape reads every state at one moment.
pub const MAX_STATES: usize = 64;

/// The states of a stateset and the name of its state label, shared by its series.
#[derive(Clone, Debug, Default)]
pub struct StateSetOptions {
    // std's Arc: immutable data shared by the series, nothing for loom to model.
    states: std::sync::Arc<[Box<str>]>,
    /// The state label's name: the family name, set when the stateset is built.
    label: std::sync::Arc<str>,
}

impl StateSetOptions {
    /// The states, in the order they are written.
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.states.iter().map(|s| &**s)
    }

    /// Checks the states and takes the state label's name from the family.
    fn prepare(&mut self, desc: &Desc) -> Result<(), BuildError> {
        let invalid = |problem: String| BuildError::InvalidStates { metric: desc.name.clone(), problem };
        if self.states.is_empty() {
            return Err(invalid("it has no states; give them with `.states([...])`".into()));
        }
        if self.states.len() > MAX_STATES {
            return Err(invalid(format!(
                "it has {} states, more than the {MAX_STATES} a stateset holds; split it",
                self.states.len()
            )));
        }
        for (i, s) in self.states.iter().enumerate() {
            if s.is_empty() {
                return Err(invalid(
                    "a state cannot be empty: an empty label value is no label to Prometheus".into(),
                ));
            }
            if self.states[..i].contains(s) {
                return Err(invalid(format!("state `{s}` is given twice; each state once")));
            }
        }
        self.label = std::sync::Arc::from(desc.name.as_str());
        Ok(())
    }

    fn position(&self, state: &str) -> Option<usize> {
        self.states.iter().position(|s| &**s == state)
    }

    /// Writes one gauge sample per state, 1 where `bits` has the state's bit.
    fn write(&self, bits: u64, labels: &Labels<'_>, sink: &mut dyn Sink) {
        for (i, state) in self.states.iter().enumerate() {
            let value = if bits >> i & 1 == 1 { 1.0 } else { 0.0 };
            let labels = Labels::Extra { labels, name: &self.label, value: state };
            sink.sample(&labels, Value::GaugeF64(value), &SampleMeta::default());
        }
    }
}

/// A set of named states of which some hold: a circuit breaker's `open`/`half_open`/`closed`,
/// feature flags (OpenMetrics' `stateset` type).
///
/// Each state is written as its own sample, labelled with the metric's name as the label name
/// and valued 1 or 0; text 0.0.4 and protobuf, which have no stateset type, write those samples
/// as a gauge, as Go and Prometheus map it. A change is one atomic store (or read-modify-write
/// for [`set_state`](Self::set_state)), and a scrape reads all states at one moment. For
/// states that are an enum, [`EnumStateSet`] takes the enum itself.
///
/// ```
/// use promkit::{Format, Registry, StateSet};
///
/// let registry = Registry::new();
/// let breaker = StateSet::builder("breaker")
///     .help("Circuit breaker state, by upstream.")
///     .states(["closed", "half_open", "open"])
///     .labels(["upstream"])
///     .register(&registry)?;
/// let db = breaker.with_label_values(&["db"])?;
/// db.set("open")?;
/// assert!(db.set("ajar").is_err());
///
/// assert_eq!(registry.encode_string(Format::OPENMETRICS)?, "\
/// ## HELP breaker Circuit breaker state, by upstream.
/// ## TYPE breaker stateset
/// breaker{upstream=\"db\",breaker=\"closed\"} 0.0
/// breaker{upstream=\"db\",breaker=\"half_open\"} 0.0
/// breaker{upstream=\"db\",breaker=\"open\"} 1.0
/// ## EOF
/// ");
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP breaker Circuit breaker state, by upstream.
/// ## TYPE breaker gauge
/// breaker{upstream=\"db\",breaker=\"closed\"} 0
/// breaker{upstream=\"db\",breaker=\"half_open\"} 0
/// breaker{upstream=\"db\",breaker=\"open\"} 1
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StateSet {
    bits: SeriesArc<AtomicU64>,
    options: StateSetOptions,
}

impl StateSet {
    /// Makes `state` the only state that holds.
    ///
    /// # Errors
    /// [`LabelError::UnknownState`] for a state the stateset was not declared with.
    pub fn set(&self, state: &str) -> Result<(), LabelError> {
        let i = self.position(state)?;
        // Relaxed: the states order nothing else, and one store changes them all at once.
        self.bits.store(1 << i, Ordering::Relaxed);
        Ok(())
    }

    /// Makes `state` hold or not, leaving the others as they are (for states that are flags).
    ///
    /// # Errors
    /// [`LabelError::UnknownState`] for a state the stateset was not declared with.
    pub fn set_state(&self, state: &str, holds: bool) -> Result<(), LabelError> {
        let bit = 1u64 << self.position(state)?;
        // Relaxed read-modify-write: concurrent changes to other states all land.
        if holds {
            self.bits.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.bits.fetch_and(!bit, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Makes no state hold.
    pub fn clear(&self) {
        self.bits.store(0, Ordering::Relaxed);
    }

    /// Whether `state` holds (false for a state the stateset does not have).
    pub fn holds(&self, state: &str) -> bool {
        let bits = self.bits.load(Ordering::Relaxed);
        self.options.position(state).is_some_and(|i| bits >> i & 1 == 1)
    }

    /// The states that hold, in declared order.
    pub fn current(&self) -> Vec<&str> {
        let bits = self.bits.load(Ordering::Relaxed);
        self.options.states().enumerate().filter(|(i, _)| bits >> i & 1 == 1).map(|(_, s)| s).collect()
    }

    fn position(&self, state: &str) -> Result<usize, LabelError> {
        self.options.position(state).ok_or_else(|| LabelError::UnknownState {
            family: self.options.label.to_string(),
            state: state.to_owned(),
            states: self.options.states().collect::<Vec<_>>().join(", "),
        })
    }
}

impl Metric for StateSet {
    type Options = StateSetOptions;
    const KIND: MetricType = MetricType::StateSet;

    fn prepare(options: &mut StateSetOptions, desc: &Desc) -> Result<(), BuildError> {
        options.prepare(desc)
    }

    fn create(options: &StateSetOptions) -> Self {
        Self { bits: SeriesArc::new(AtomicU64::new(0)), options: options.clone() }
    }

    // The handle's own options: the same as the family's, and present when a caller passes
    // defaults (a test helper reading one series).
    fn write(&self, _: &StateSetOptions, labels: &Labels<'_>, sink: &mut dyn Sink) {
        self.options.write(self.bits.load(Ordering::Relaxed), labels, sink);
    }

    fn reset(&self) {
        self.clear();
    }
}

impl<S> Builder<StateSet, S> {
    /// The states, in the order they are written (at least one, at most [`MAX_STATES`], each
    /// once, none empty).
    pub fn states<I: IntoIterator<Item = T>, T: Into<String>>(mut self, states: I) -> Self {
        self.options_mut().states = states.into_iter().map(|s| s.into().into_boxed_str()).collect();
        self
    }
}

/// A stateset whose states are the values of an enum with `#[derive(LabelValue)]`: exactly one
/// holds, and [`set`](Self::set) is one atomic store, with no lookup and no error.
///
/// ```
/// use promkit::{EnumStateSet, Format, LabelValue, Registry};
///
/// #[derive(Clone, Copy, LabelValue)]
/// #[label(rename_all = "snake_case")]
/// enum Phase { Starting, Serving, Draining }
///
/// let registry = Registry::new();
/// let phase = EnumStateSet::<Phase>::builder("phase").help("Lifecycle phase.").register(&registry)?;
/// assert_eq!(phase.current(), None);
/// phase.set(Phase::Serving);
/// assert!(phase.is(Phase::Serving));
/// assert_eq!(phase.current(), Some("serving"));
///
/// assert_eq!(registry.encode_string(Format::OPENMETRICS)?, "\
/// ## HELP phase Lifecycle phase.
/// ## TYPE phase stateset
/// phase{phase=\"starting\"} 0.0
/// phase{phase=\"serving\"} 1.0
/// phase{phase=\"draining\"} 0.0
/// ## EOF
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
///
/// No state holds until the first `set`. An enum's variants are the states, in declaration
/// order; any other [`LabelValue`] (a string, an integer) has no fixed set of values and is
/// refused when the stateset is built.
#[derive(Debug)]
pub struct EnumStateSet<E> {
    inner: StateSet,
    _states: PhantomData<fn(E) -> E>,
}

impl<E> Clone for EnumStateSet<E> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), _states: PhantomData }
    }
}

impl<E: LabelValue + Copy + Send + Sync + 'static> EnumStateSet<E> {
    /// Starts declaring an enum stateset called `name`.
    pub fn builder(name: impl Into<String>) -> Builder<Self> {
        Builder::new(name)
    }

    /// Makes `state` the one that holds.
    #[inline]
    pub fn set(&self, state: E) {
        // Relaxed: one store changes every state at once; nothing else is ordered by it.
        // `prepare` checked that every index is below MAX_STATES.
        self.inner.bits.store(1 << state.index(), Ordering::Relaxed);
    }

    /// Makes no state hold.
    pub fn clear(&self) {
        self.inner.clear();
    }

    /// Whether `state` is the one that holds.
    pub fn is(&self, state: E) -> bool {
        self.inner.bits.load(Ordering::Relaxed) == 1 << state.index()
    }

    /// The label text of the state that holds, or `None` before the first `set` (or after
    /// [`clear`](Self::clear)).
    pub fn current(&self) -> Option<&'static str> {
        let bits = self.inner.bits.load(Ordering::Relaxed);
        (bits != 0).then(|| E::TEXTS.get(bits.trailing_zeros() as usize).copied()).flatten()
    }
}

impl<E: LabelValue + Copy + Send + Sync + 'static> Metric for EnumStateSet<E> {
    type Options = StateSetOptions;
    const KIND: MetricType = MetricType::StateSet;

    fn prepare(options: &mut StateSetOptions, desc: &Desc) -> Result<(), BuildError> {
        let fixed = E::CARDINALITY.is_some_and(|n| n == E::TEXTS.len()) && !E::TEXTS.is_empty();
        if !fixed {
            return Err(BuildError::InvalidStates {
                metric: desc.name.clone(),
                problem: format!(
                    "`{}` has no fixed set of values; derive LabelValue on an enum, or use \
                     `StateSet` with string states",
                    std::any::type_name::<E>()
                ),
            });
        }
        options.states = E::TEXTS.iter().map(|t| Box::from(*t)).collect();
        options.prepare(desc)
    }

    fn create(options: &StateSetOptions) -> Self {
        Self { inner: StateSet::create(options), _states: PhantomData }
    }

    fn write(&self, options: &StateSetOptions, labels: &Labels<'_>, sink: &mut dyn Sink) {
        self.inner.write(options, labels, sink);
    }

    fn reset(&self) {
        self.inner.clear();
    }
}
