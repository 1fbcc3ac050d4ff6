//! `CounterFn`, `GaugeFn` and `UntypedFn`: values read from a function at scrape time.

use crate::model::{
    BuildError, CollectError, Collector, Desc, FamilyHeader, LabelTemplate, Labels, MetricType, SampleMeta,
    Sink, Value,
};

use super::builder::{Builder, Func};
use super::{CounterF64, GaugeF64, Untyped};

/// A counter whose value a function returns at each scrape (Go's `CounterFunc`): for totals
/// another part of the program already keeps.
///
/// ```
/// use promkit::{CounterFn, Registry};
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// let registry = Registry::new();
/// let hits = Arc::new(AtomicU64::new(7));
/// let h = Arc::clone(&hits);
/// registry.register(CounterFn::new(
///     CounterFn::builder("cache_hits_total").help("Cache hits."),
///     move || h.load(Ordering::Relaxed) as f64,
/// )?)?;
/// assert!(registry.encode_text_string()?.contains("cache_hits_total 7\n"));
/// # Ok::<(), promkit::Error>(())
/// ```
///
/// The declaration alone cannot be registered: that would make a plain counter stuck at 0,
/// with the function nowhere. This does not compile:
///
/// ```compile_fail
/// # let registry = promkit::Registry::new();
/// let hits = promkit::CounterFn::builder("cache_hits_total").register(&registry)?;
/// # Ok::<(), promkit::Error>(())
/// ```
pub struct CounterFn {
    desc: Desc,
    template: LabelTemplate,
    f: Box<dyn Fn() -> f64 + Send + Sync>,
}

/// A gauge whose value a function returns at each scrape (Go's `GaugeFunc`).
pub struct GaugeFn {
    desc: Desc,
    template: LabelTemplate,
    f: Box<dyn Fn() -> f64 + Send + Sync>,
}

/// A value of unknown kind that a function returns at each scrape (Go's `UntypedFunc`): for
/// values mirrored from another system that does not say whether they are totals.
///
/// ```
/// use promkit::{Registry, UntypedFn};
/// let registry = Registry::new();
/// registry.register(UntypedFn::new(
///     UntypedFn::builder("legacy_value").help("Mirrored as is."),
///     || 42.5,
/// )?)?;
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP legacy_value Mirrored as is.
/// ## TYPE legacy_value untyped
/// legacy_value 42.5
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
pub struct UntypedFn {
    desc: Desc,
    template: LabelTemplate,
    f: Box<dyn Fn() -> f64 + Send + Sync>,
}

macro_rules! func_metric {
    ($t:ident, $backing:ty, $kind:expr, $value:expr) => {
        impl $t {
            /// Starts the declaration (name, help, unit, constant labels) for [`new`](Self::new).
            pub fn builder(name: impl Into<String>) -> Builder<$backing, Func> {
                Builder::func(name)
            }

            /// A metric declared by `builder` whose value `f` returns at scrape time.
            ///
            /// # Errors
            /// [`BuildError`] for an invalid declaration.
            pub fn new(
                builder: Builder<$backing, Func>,
                f: impl Fn() -> f64 + Send + Sync + 'static,
            ) -> Result<Self, BuildError> {
                let desc = builder.func_desc()?;
                let template = LabelTemplate::new(&[], &desc.const_labels);
                Ok(Self { desc, template, f: Box::new(f) })
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)).field("desc", &self.desc).finish_non_exhaustive()
            }
        }

        impl Collector for $t {
            fn describe(&self) -> Vec<Desc> {
                vec![self.desc.clone()]
            }

            fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
                sink.family(&FamilyHeader {
                    name: &self.desc.name,
                    help: &self.desc.help,
                    unit: &self.desc.unit,
                    kind: $kind,
                });
                let labels = if self.template.is_empty() {
                    Labels::None
                } else {
                    Labels::Stored { template: &self.template, values: "" }
                };
                let make: fn(f64) -> Value<'static> = $value;
                sink.sample(&labels, make((self.f)()), &SampleMeta::default());
                Ok(())
            }
        }
    };
}

func_metric!(CounterFn, CounterF64, MetricType::Counter, Value::CounterF64);
func_metric!(GaugeFn, GaugeF64, MetricType::Gauge, Value::GaugeF64);
func_metric!(UntypedFn, Untyped, MetricType::Untyped, Value::Untyped);
