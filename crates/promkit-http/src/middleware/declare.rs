//! What the server and client builders share: naming (prefix, renames, label names), constant
//! labels, series caps, and registering a whole metric set or none of it.

use std::sync::Arc;

use promkit::model::Collector;
use promkit::{Buckets, Builder, LabelSet, Metric, RegisterError, Registry, TypedFamily};

/// Size buckets used unless [`size_buckets`](super::HttpMetricsBuilder::size_buckets) says
/// otherwise: powers of ten from 100 bytes to 1 GB (Go's `ExponentialBuckets(100, 10, 8)`).
pub const DEFAULT_SIZE_BUCKETS: [f64; 8] = [1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Options every metric of a set is declared with.
#[derive(Debug, Clone, Default)]
pub(crate) struct Common {
    pub(crate) prefix: String,
    pub(crate) const_labels: Vec<(String, String)>,
    pub(crate) duration_buckets: Buckets,
    pub(crate) max_series: Option<usize>,
}

impl Common {
    /// `name` with the prefix, if any, and `_` between them.
    pub(crate) fn full_name(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}_{name}", self.prefix) }
    }

    /// Declares (but does not register) one family of the set. `unit` is declared only when the
    /// final name ends with it, so a rename to another suffix is not an error.
    pub(crate) fn family<L: LabelSet + 'static, M: Metric>(
        &self,
        name: &str,
        help: &str,
        unit: &str,
        labels: &[String],
        configure: impl FnOnce(Builder<M>) -> Builder<M>,
    ) -> Result<TypedFamily<L, M>, promkit::BuildError> {
        let name = self.full_name(name);
        let mut builder = Builder::<M>::new(name.clone()).help(help);
        let base = name.strip_suffix("_total").unwrap_or(&name);
        if base.ends_with(&format!("_{unit}")) {
            builder = builder.unit(unit);
        }
        for (label, value) in &self.const_labels {
            builder = builder.const_label(label, value);
        }
        if let Some(max) = self.max_series {
            builder = builder.max_series(max);
        }
        configure(builder).typed_labels_named::<L, _>(labels.iter().cloned()).build()
    }
}

/// Registers every collector, or none: on a refusal the ones already registered are removed
/// again, so a failed `register` can be retried with other names.
pub(crate) fn register_all(
    registry: &Registry,
    collectors: Vec<Arc<dyn Collector>>,
) -> Result<(), RegisterError> {
    let mut done = Vec::with_capacity(collectors.len());
    for collector in collectors {
        match registry.register_arc(collector) {
            Ok(id) => done.push(id),
            Err(e) => {
                for id in done {
                    registry.unregister_id(id);
                }
                return Err(e);
            }
        }
    }
    Ok(())
}
