//! Registering through a prefix and extra labels (Go's `WrapRegistererWith(Prefix)`).

use std::sync::Arc;

use crate::model::{
    CollectError, Collector, Desc, FamilyHeader, LabelTemplate, Labels, SampleMeta, Sink, StoredSample, Value,
};

use super::{CollectorId, RegisterError, Registry};

/// A registerer that prefixes family names and adds labels; from [`Registry::wrap`].
///
/// ```
/// use promkit::{Gauge, Registry};
/// let registry = Registry::new();
/// let sub = registry.wrap("app_", vec![("shard".into(), "7".into())]);
/// let g = Gauge::builder("queue").build()?;
/// g.metric().set(3);
/// sub.register(g)?;
/// assert!(registry.encode_text_string()?.contains("app_queue{shard=\"7\"} 3\n"));
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Wrapped {
    registry: Registry,
    prefix: String,
    labels: Vec<(String, String)>,
}

impl Wrapped {
    pub(super) fn new(registry: Registry, prefix: String, mut labels: Vec<(String, String)>) -> Self {
        labels.sort();
        Self { registry, prefix, labels }
    }

    /// Registers `collector` with the prefix and labels applied.
    ///
    /// # Errors
    /// As [`Registry::register`], for the wrapped names.
    pub fn register(&self, collector: impl Collector) -> Result<CollectorId, RegisterError> {
        let descs = collector.describe();
        let names = descs.iter().map(|d| (d.name.clone(), format!("{}{}", self.prefix, d.name))).collect();
        self.registry.register(WrappedCollector {
            inner: Arc::new(collector),
            prefix: self.prefix.clone(),
            labels: self.labels.clone(),
            names,
        })
    }
}

struct WrappedCollector {
    inner: Arc<dyn Collector>,
    prefix: String,
    labels: Vec<(String, String)>,
    /// Original → prefixed family names, computed once.
    names: Vec<(String, String)>,
}

impl Collector for WrappedCollector {
    fn describe(&self) -> Vec<Desc> {
        self.inner
            .describe()
            .into_iter()
            .map(|mut d| {
                d.name = format!("{}{}", self.prefix, d.name);
                d.const_labels.extend(self.labels.iter().cloned());
                d.const_labels.sort();
                d
            })
            .collect()
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let mut adapter = Adapter { sink, wrapper: self, scratch: Vec::new() };
        self.inner.collect(&mut adapter)
    }
}

struct Adapter<'a> {
    sink: &'a mut dyn Sink,
    wrapper: &'a WrappedCollector,
    scratch: Vec<(String, String)>,
}

impl Sink for Adapter<'_> {
    fn family(&mut self, h: &FamilyHeader<'_>) {
        let owned;
        let name = match self.wrapper.names.iter().find(|(o, _)| o == h.name) {
            Some((_, prefixed)) => prefixed.as_str(),
            None => {
                owned = format!("{}{}", self.wrapper.prefix, h.name);
                owned.as_str()
            }
        };
        self.sink.family(&FamilyHeader { name, ..*h });
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        if self.wrapper.labels.is_empty() {
            return self.sink.sample(labels, value, meta);
        }
        // Merging extra labels into the sorted set costs an allocation per series; wrapped
        // collectors trade that for not having to know about the labels.
        self.scratch.clear();
        labels.for_each(|n, v| self.scratch.push((n.to_owned(), v.to_owned())));
        self.scratch.extend(self.wrapper.labels.iter().cloned());
        self.scratch.sort_by(|a, b| a.0.cmp(&b.0));
        self.sink.sample(&Labels::Owned(&self.scratch), value, meta);
    }

    fn stored_samples(&mut self, template: &LabelTemplate, samples: &[StoredSample<'_>]) {
        if self.wrapper.labels.is_empty() {
            return self.sink.stored_samples(template, samples);
        }
        for s in samples {
            let meta = SampleMeta { created: s.created, ..SampleMeta::default() };
            self.sample(&Labels::Stored { template, values: s.key }, s.value, &meta);
        }
    }
}
