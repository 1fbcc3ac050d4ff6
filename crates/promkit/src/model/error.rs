//! The errors of the model layer: a description, bucket bounds, an exemplar or a collection
//! that is wrong. Each says what was wrong and what to do about it.

use super::kind::MetricType;

/// A metric definition that cannot be used: reported by the builder's `build`/`register`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The metric name breaks the naming rules.
    #[error("invalid metric name `{name}`: {hint}")]
    InvalidMetricName {
        /// The name given.
        name: String,
        /// How to fix it.
        hint: String,
    },
    /// A label name breaks the naming rules.
    #[error("invalid label name `{name}` on `{metric}`: {hint}")]
    InvalidLabelName {
        /// The metric.
        metric: String,
        /// The label name given.
        name: String,
        /// How to fix it.
        hint: String,
    },
    /// A label name that this metric type uses itself (`le` on histograms, `quantile` on
    /// summaries).
    #[error(
        "label `{name}` is reserved on {} `{metric}`: {}; name your label something else",
        kind.as_text(),
        reserved_use(*kind)
    )]
    ReservedLabel {
        /// The metric.
        metric: String,
        /// The reserved name.
        name: String,
        /// The metric's type.
        kind: MetricType,
    },
    /// The same label name twice (variable or constant).
    #[error("label `{name}` appears twice on `{metric}`; each label name may appear once")]
    DuplicateLabel {
        /// The metric.
        metric: String,
        /// The repeated name.
        name: String,
    },
    /// The unit is not the metric name's suffix, as OpenMetrics requires.
    #[error(
        "the name `{metric}` does not end in its unit `{unit}`, as OpenMetrics requires: name it `{suggested}`, \
         or leave the unit out"
    )]
    UnitNotSuffix {
        /// The metric.
        metric: String,
        /// The unit given.
        unit: String,
        /// A name that would do: the unit appended (before `_total` on a counter).
        suggested: String,
    },
    /// A summary objective outside `[0, 1]`, or a quantile given twice.
    #[error(
        "invalid summary objective {quantile} (error {error}): quantiles and errors must be in [0, 1], each quantile once"
    )]
    InvalidObjective {
        /// The quantile.
        quantile: f64,
        /// Its allowed error.
        error: f64,
    },
    /// A cardinality limit of zero would make every lookup overflow.
    #[error("the series limit of `{metric}` must be at least 1")]
    ZeroSeriesLimit {
        /// The metric.
        metric: String,
    },
    /// A type whose samples carry a fixed suffix was named without it (an info must end in
    /// `_info`).
    #[error(
        "`{metric}` must end in `{suffix}`: its samples are written under that name; call it `{metric}{suffix}`"
    )]
    MissingSuffix {
        /// The metric.
        metric: String,
        /// The suffix the name needs.
        suffix: &'static str,
    },
    /// OpenMetrics gives this type no unit (info, stateset).
    #[error(
        "{kind:?} `{metric}` cannot have a unit (OpenMetrics allows none on this type); remove `.unit(\"{unit}\")`"
    )]
    UnitNotAllowed {
        /// The metric.
        metric: String,
        /// The unit given.
        unit: String,
        /// The metric's type.
        kind: MetricType,
    },
    /// A StateSet writes its state under a label named after the metric, so that name must be
    /// a valid label name, and no other label may have it.
    #[error("stateset `{metric}`: {problem}")]
    StateLabel {
        /// The metric.
        metric: String,
        /// What is wrong, and the fix.
        problem: String,
    },
    /// A StateSet's states are wrong: none, one given twice, an empty one, or more than fit.
    #[error("stateset `{metric}`: {problem}")]
    InvalidStates {
        /// The metric.
        metric: String,
        /// What is wrong, and the fix.
        problem: String,
    },
}

/// Invalid histogram bucket bounds, or invalid arguments to a bucket helper.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BucketError {
    /// No bucket bound at all (a trailing `+Inf` alone counts as none: it is always implied).
    #[error("a histogram needs at least one finite bucket bound (`+Inf` is implied)")]
    Empty,
    /// A bound is NaN.
    #[error("the bucket bound at index {index} is NaN; bounds must be numbers in increasing order")]
    NaN {
        /// Position of the bound.
        index: usize,
    },
    /// Bounds out of order.
    #[error("bucket bounds must be in increasing order: {value} (at index {index}) comes after {previous}")]
    NotSorted {
        /// Position of the out-of-order bound.
        index: usize,
        /// Its value.
        value: f64,
        /// The bound before it.
        previous: f64,
    },
    /// The same bound twice.
    #[error("bucket bound {value} appears twice (again at index {index}); remove the duplicate")]
    Duplicate {
        /// Position of the second occurrence.
        index: usize,
        /// The bound.
        value: f64,
    },
    /// `-Inf` as a bound makes a bucket that can never hold an observation... except -Inf.
    #[error("the bucket bound at index {index} is -Inf; use a finite lower bound")]
    NegativeInfinity {
        /// Position of the bound.
        index: usize,
    },
    /// `+Inf` somewhere other than last: the `+Inf` bucket is implied, and a bound after it
    /// could never be reached.
    #[error(
        "the bucket bound at index {index} is +Inf, which may only be the last bound; leave it out (the +Inf \
         bucket is always there)"
    )]
    InfinityNotLast {
        /// Position of the `+Inf`.
        index: usize,
    },
    /// A helper was given arguments that make no bucket sequence.
    #[error("{helper}: {reason}")]
    InvalidHelperArgs {
        /// `linear_buckets`, `exponential_buckets` or `exponential_buckets_range`.
        helper: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
}

/// An exemplar that cannot be recorded; the observation itself is recorded regardless.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExemplarError {
    /// Label names and values together exceed 128 code points (OpenMetrics' limit).
    #[error("exemplar labels have {runes} code points, over the limit of 128; keep only the trace id")]
    TooLong {
        /// The count.
        runes: usize,
    },
    /// A label name breaks the naming rules.
    #[error("exemplar label name `{name}` is invalid: use letters, digits and `_`")]
    InvalidLabelName {
        /// The name.
        name: String,
    },
    /// A label name given twice.
    #[error("exemplar label `{name}` given twice")]
    DuplicateLabel {
        /// The name.
        name: String,
    },
}

/// A scrape that could not collect everything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// A collector reported a failure.
    #[error("collector for `{family}` failed: {source}")]
    Failed {
        /// The family (or the first family) of the collector.
        family: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The same series was collected twice (from two registries, or a custom collector).
    #[error("series {labels} of `{family}` was collected twice; each series must come from one place")]
    DuplicateSeries {
        /// The family.
        family: String,
        /// The series' labels, as written.
        labels: String,
    },
    /// Two sources produced a family of one name with different types or help.
    #[error("family `{family}` was collected with different {what} from two sources")]
    InconsistentFamily {
        /// The family.
        family: String,
        /// `type`, `help` or `unit`.
        what: &'static str,
    },
    /// A binary format (protobuf) was asked for as a `String`.
    #[error(
        "{format} is a binary format and cannot be a String; encode it into a Vec<u8> with `Registry::encode`"
    )]
    BinaryFormat {
        /// The format's name.
        format: &'static str,
    },
}

impl CollectError {
    /// A failure of a custom collector, with its cause.
    pub fn failed(
        family: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Failed { family: family.into(), source: source.into() }
    }
}

/// What Prometheus writes in the label a metric type reserves, for [`BuildError::ReservedLabel`].
fn reserved_use(kind: MetricType) -> &'static str {
    match kind {
        MetricType::Histogram => "Prometheus writes each bucket's upper bound in it",
        MetricType::Summary => "Prometheus writes each quantile in it",
        _ => "Prometheus writes its own values in it",
    }
}
