//! `Builder`: declares a metric (name, help, unit, labels, options), validates it, registers it.

use std::marker::PhantomData;
use std::time::Duration;

use crate::labels::LabelSet;
use crate::model::{
    Buckets, BuildError, CollectError, Collector, Desc, FamilyHeader, LabelTemplate, Labels, NameValidation,
    Quantiles, Sink,
};

use super::histogram::Histogram;
use super::store::Store;
use super::summary::Summary;
use super::{
    Counter, CounterF64, Family, Gauge, GaugeF64, GaugeHistogram, Info, Metric, StateSet, TypedFamily,
    Untyped,
};

/// Declares a metric; from `Counter::builder`, `Histogram::builder` and the like.
///
/// Set the help text, unit and constant labels, then either [`register`](Self::register) it
/// (the usual path), or [`build`](Self::build) it and register the collector later. Call
/// [`labels`](Self::labels) or [`typed_labels`](Self::typed_labels) first to get a family.
#[derive(Debug)]
#[must_use = "a builder does nothing until `register` or `build`"]
pub struct Builder<M: Metric, S = Single> {
    name: String,
    help: String,
    unit: String,
    const_labels: Vec<(String, String)>,
    options: M::Options,
    limit: Option<usize>,
    when_empty: WhenEmpty,
    validation: NameValidation,
    shape: S,
}

/// What a labelled family writes while it has no series (none yet, or all removed); set with
/// [`Builder::when_empty`].
///
/// client_golang leaves an empty vector out of the exposition entirely, and so does promkit by
/// default: a dashboard sees the family appear with its first series. Choose
/// [`Header`](Self::Header) to keep its `# HELP` / `# TYPE` (and `# UNIT`) lines visible meanwhile,
/// so a scrape shows the family exists.
///
/// ```
/// use promkit::{Counter, Registry, WhenEmpty};
/// let registry = Registry::new();
/// let _errors = Counter::builder("errors_total").help("Errors.").labels(["kind"]).register(&registry)?;
/// let _retries = Counter::builder("retries_total")
///     .help("Retries.")
///     .labels(["kind"])
///     .when_empty(WhenEmpty::Header)
///     .register(&registry)?;
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP retries_total Retries.
/// ## TYPE retries_total counter
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenEmpty {
    /// Write nothing, as client_golang does (the default).
    #[default]
    Omit,
    /// Write the family's header lines with no samples.
    Header,
}

/// Builder shape: one series, no variable labels.
#[derive(Debug)]
pub struct Single;

/// Builder shape: a [`Family`] with string labels.
#[derive(Debug)]
pub struct Labelled(Vec<String>);

/// Builder shape: a [`TypedFamily`] with labels of type `L`.
#[derive(Debug)]
pub struct Typed<L>(Vec<String>, PhantomData<fn(&L)>);

/// Builder shape: the declaration of a [`CounterFn`](super::CounterFn) or
/// [`GaugeFn`](super::GaugeFn), whose value comes from a function. It has no `register` or
/// `build` of its own: the function is given with the declaration to `CounterFn::new`, so a
/// function metric cannot be registered by mistake as a plain counter or gauge.
#[derive(Debug)]
pub struct Func;

impl<M: Metric> Builder<M, Single> {
    /// Starts declaring a metric called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            help: String::new(),
            unit: String::new(),
            const_labels: Vec::new(),
            options: M::Options::default(),
            limit: None,
            when_empty: WhenEmpty::Omit,
            validation: NameValidation::Legacy,
            shape: Single,
        }
    }

    /// Makes this a family with these label names (declared order = the order of values in
    /// lookups).
    pub fn labels<I: IntoIterator<Item = N>, N: Into<String>>(self, names: I) -> Builder<M, Labelled> {
        let names = names.into_iter().map(Into::into).collect();
        self.reshape(Labelled(names))
    }

    /// Makes this a family whose labels are the derived [`LabelSet`] `L`.
    pub fn typed_labels<L: LabelSet>(self) -> Builder<M, Typed<L>> {
        let names = L::NAMES.iter().map(|n| (*n).to_owned()).collect();
        self.reshape(Typed(names, PhantomData))
    }

    /// Makes this a family whose labels are `L` (an array of strings, say) with these names.
    pub fn typed_labels_named<L: LabelSet, N: Into<String>>(
        self,
        names: impl IntoIterator<Item = N>,
    ) -> Builder<M, Typed<L>> {
        let names = names.into_iter().map(Into::into).collect();
        self.reshape(Typed(names, PhantomData))
    }

    /// Validates the declaration and returns the metric with its description, as a collector
    /// to register later (most code calls [`register`](Self::register) instead).
    ///
    /// # Errors
    /// [`BuildError`] for an invalid name, label or unit.
    pub fn build(self) -> Result<Described<M>, BuildError> {
        let desc = self.desc(Vec::new())?;
        let template = LabelTemplate::new(&[], &desc.const_labels);
        let mut options = self.options;
        M::prepare(&mut options, &desc)?;
        Ok(Described { metric: M::create(&options), options, template, desc })
    }
}

impl<M: Metric> Builder<M, Labelled> {
    /// Builds the family.
    ///
    /// # Errors
    /// [`BuildError`] for an invalid name, label or unit.
    pub fn build(self) -> Result<Family<M>, BuildError> {
        let names = self.shape.0.clone();
        let desc = self.desc(names)?;
        let mut options = self.options;
        M::prepare(&mut options, &desc)?;
        Ok(Family::from_store(Store::new(desc, options, self.limit, self.when_empty)))
    }
}

impl<L: LabelSet + 'static, M: Metric> Builder<M, Typed<L>> {
    /// Builds the family.
    ///
    /// # Errors
    /// [`BuildError`] for an invalid name, label or unit.
    pub fn build(self) -> Result<TypedFamily<L, M>, BuildError> {
        let names = self.shape.0.clone();
        if names.len() != L::LEN {
            return Err(BuildError::InvalidLabelName {
                metric: self.name.clone(),
                name: names.join(","),
                hint: format!("the label set has {} labels but {} names were given", L::LEN, names.len()),
            });
        }
        let desc = self.desc(names)?;
        let mut options = self.options;
        M::prepare(&mut options, &desc)?;
        Ok(TypedFamily::from_store(Store::new(desc, options, self.limit, self.when_empty)))
    }
}

impl<M: Metric> Builder<M, Func> {
    /// Starts declaring a function metric called `name`.
    pub(super) fn func(name: impl Into<String>) -> Self {
        Builder::new(name).reshape(Func)
    }

    /// The validated description of a function metric.
    pub(super) fn func_desc(self) -> Result<Desc, BuildError> {
        self.desc(Vec::new())
    }
}

impl<M: Metric, S> Builder<M, S> {
    fn reshape<T>(self, shape: T) -> Builder<M, T> {
        Builder {
            name: self.name,
            help: self.help,
            unit: self.unit,
            const_labels: self.const_labels,
            options: self.options,
            limit: self.limit,
            when_empty: self.when_empty,
            validation: self.validation,
            shape,
        }
    }

    /// Which names `build` accepts: legacy ones (the default) or any UTF-8
    /// ([`NameValidation`]). `register` ignores it and uses the registry's own, so this matters
    /// only for a metric built now and registered later (which the registry checks again).
    pub fn name_validation(mut self, validation: NameValidation) -> Self {
        self.validation = validation;
        self
    }

    /// The options every series is built with, for the type-specific builder methods.
    pub(super) fn options_mut(&mut self) -> &mut M::Options {
        &mut self.options
    }

    /// The help text (`# HELP`).
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    /// The unit (`seconds`, `bytes`): written as OpenMetrics `# UNIT`; it must be the name's
    /// suffix (`job_seconds`, or `job_seconds_total` for a counter).
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// A label with the same value on every series (Go's `ConstLabels`).
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.const_labels.push((name.into(), value.into()));
        self
    }

    /// Caps the number of series of a family. Once `max` series exist, lookups of new label
    /// sets all go to one overflow series whose every label value is
    /// [`OVERFLOW_LABEL_VALUE`](super::OVERFLOW_LABEL_VALUE), and
    /// [`Family::overflowed`] counts them. Without a cap a family grows with every new
    /// label set.
    pub fn max_series(mut self, max: usize) -> Self {
        self.limit = Some(max);
        self
    }

    /// What a labelled family writes while it has no series: nothing by default, as Go; see
    /// [`WhenEmpty`]. A metric without labels always has its one series, so this changes nothing
    /// for it.
    pub fn when_empty(mut self, policy: WhenEmpty) -> Self {
        self.when_empty = policy;
        self
    }

    fn desc(&self, label_names: Vec<String>) -> Result<Desc, BuildError> {
        // Validated before sorting, so the first bad label reported is the first one given.
        let mut desc = Desc {
            name: self.name.clone(),
            help: self.help.clone(),
            unit: self.unit.clone(),
            kind: M::KIND,
            label_names,
            const_labels: self.const_labels.clone(),
        };
        desc.validate_with(self.validation)?;
        desc.validate_unit()?;
        if self.limit == Some(0) {
            return Err(BuildError::ZeroSeriesLimit { metric: self.name.clone() });
        }
        desc.const_labels.sort();
        Ok(desc)
    }
}

impl<S> Builder<Histogram, S> {
    /// The bucket bounds (Go's default buckets otherwise).
    pub fn buckets(mut self, buckets: Buckets) -> Self {
        self.options.buckets = Some(buckets);
        self
    }

    /// Adds native (sparse, exponential) buckets, exposed through protobuf. Without
    /// [`buckets`](Self::buckets) the histogram then has no classic buckets (as in Go).
    pub fn native(mut self, options: super::histogram::NativeOptions) -> Self {
        self.options.native = Some(options);
        self
    }

    /// How many shards each series spreads concurrent observers over (rounded up to a power of
    /// two; default one per CPU, at most 8). One shard is the least memory.
    pub fn shards(mut self, shards: usize) -> Self {
        self.options.shards = shards;
        self
    }
}

impl<S> Builder<Summary, S> {
    /// The quantiles to report, with their allowed errors (none, a count-and-sum-only
    /// summary, otherwise).
    pub fn objectives(mut self, objectives: Quantiles) -> Self {
        self.options.objectives = objectives;
        self
    }

    /// How long an observation counts towards the quantiles (Go's `MaxAge`; 10 minutes by
    /// default, and zero means the default).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.options.max_age = max_age;
        self
    }

    /// How many periods `max_age` is cut into (Go's `AgeBuckets`; 5 by default, and zero
    /// means the default). Each costs a quantile estimator per series.
    pub fn age_buckets(mut self, age_buckets: u32) -> Self {
        self.options.age_buckets = age_buckets;
        self
    }

    /// How many observations are buffered before they are merged into the estimators (Go's
    /// `BufCap`; 500 by default, and zero means the default).
    pub fn buf_cap(mut self, buf_cap: usize) -> Self {
        self.options.buf_cap = buf_cap;
        self
    }

    /// How many shards each series spreads concurrent observers over (rounded up to a power of
    /// two; default one per CPU, at most 8).
    pub fn shards(mut self, shards: usize) -> Self {
        self.options.shards = shards;
        self
    }
}

/// A single metric with its description: the collector a [`Builder`] builds for one series.
#[derive(Debug, Clone)]
pub struct Described<M: Metric> {
    desc: Desc,
    template: LabelTemplate,
    options: M::Options,
    metric: M,
}

impl<M: Metric> Described<M> {
    /// The metric handle.
    pub fn metric(&self) -> &M {
        &self.metric
    }
}

impl<M: Metric> Collector for Described<M> {
    fn describe(&self) -> Vec<Desc> {
        vec![self.desc.clone()]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&FamilyHeader {
            name: &self.desc.name,
            help: &self.desc.help,
            unit: &self.desc.unit,
            kind: M::KIND,
        });
        let labels = if self.template.is_empty() {
            Labels::None
        } else {
            Labels::Stored { template: &self.template, values: "" }
        };
        self.metric.write(&self.options, &labels, sink);
        Ok(())
    }
}

macro_rules! builder_fn {
    ($($t:ty),*) => {$(
        impl $t {
            /// Starts declaring a metric of this type called `name`.
            pub fn builder(name: impl Into<String>) -> Builder<$t> {
                Builder::new(name)
            }
        }
    )*};
}
builder_fn!(
    Counter,
    CounterF64,
    Gauge,
    GaugeF64,
    Untyped,
    Histogram,
    Summary,
    Info,
    StateSet,
    GaugeHistogram
);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_validated_with_fixes_in_the_message() {
        let e = Counter::builder("http-hits").build().unwrap_err();
        assert!(matches!(e, BuildError::InvalidMetricName { .. }));
        assert!(e.to_string().starts_with("invalid metric name `http-hits`"), "{e}");
        let e = Histogram::builder("h").labels(["le"]).build().unwrap_err();
        assert!(matches!(e, BuildError::ReservedLabel { .. }), "{e}");
        let e = Histogram::builder("h").const_label("le", "1").build().unwrap_err();
        assert!(matches!(e, BuildError::ReservedLabel { .. }), "{e}");
        let e = Gauge::builder("g").labels(["a"]).const_label("a", "x").build().unwrap_err();
        assert_eq!(e, BuildError::DuplicateLabel { metric: "g".into(), name: "a".into() });
        let e = Gauge::builder("g").labels(["__x"]).build().unwrap_err();
        assert!(matches!(e, BuildError::InvalidLabelName { .. }), "{e}");
        let e = Gauge::builder("g_bytes").unit("seconds").build().unwrap_err();
        assert!(matches!(e, BuildError::UnitNotSuffix { .. }), "{e}");
        assert!(Counter::builder("job_seconds_total").unit("seconds").build().is_ok());
        assert!(Gauge::builder("g").labels(["a"]).max_series(0).build().is_err());
    }
}
