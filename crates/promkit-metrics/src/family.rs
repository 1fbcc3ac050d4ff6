//! One facade metric name: a registered collector holding a promkit [`Family`] per label-name
//! set, with a description that `describe_*!` may set before or after the first series.

use std::sync::{Arc, PoisonError, RwLock};

use promkit::metrics::Metric;
use promkit::model::{
    Collector, Desc, FamilyHeader, LabelTemplate, Labels, MetricType, SampleMeta, Sink, StoredSample, Value,
};
use promkit::{BuildError, CollectError, Family, LabelError};

/// The help text and unit `describe_*!` gave a name.
#[derive(Debug, Default)]
pub(crate) struct Description {
    pub(crate) help: String,
    pub(crate) unit: &'static str,
}

/// Builds the promkit family for one label-name set.
type MakeFamily<M> = Box<dyn Fn(&[String]) -> Result<Family<M>, BuildError> + Send + Sync>;

/// A label-name set (sorted) and its family.
type LabelledFamily<M> = (Box<[String]>, Family<M>);

/// The collector registered under one facade metric name.
pub(crate) struct FacadeFamily<M: Metric> {
    name: String,
    description: Arc<RwLock<Description>>,
    /// The facade lets one name carry different label names at different call sites; each set
    /// is its own promkit family, written under one header.
    families: RwLock<Vec<LabelledFamily<M>>>,
    make: MakeFamily<M>,
}

impl<M: Metric> std::fmt::Debug for FacadeFamily<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacadeFamily").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Why a facade call got no series.
#[derive(Debug)]
pub(crate) enum SeriesError {
    Build(BuildError),
    Label(LabelError),
}

impl std::fmt::Display for SeriesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Build(e) => e.fmt(f),
            Self::Label(e) => e.fmt(f),
        }
    }
}

impl<M: Metric> FacadeFamily<M> {
    pub(crate) fn new(name: String, description: Arc<RwLock<Description>>, make: MakeFamily<M>) -> Self {
        Self { name, description, families: RwLock::new(Vec::new()), make }
    }

    /// The series for these (already mapped) label pairs, its family created on first use.
    pub(crate) fn series(&self, pairs: &[(&str, &str)]) -> Result<M, SeriesError> {
        let mut names: Vec<&str> = pairs.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let found = {
            let families = self.families.read().unwrap_or_else(PoisonError::into_inner);
            families
                .iter()
                .find(|(n, _)| n.iter().map(String::as_str).eq(names.iter().copied()))
                .map(|f| f.1.clone())
        };
        let family = match found {
            Some(f) => f,
            None => {
                let mut families = self.families.write().unwrap_or_else(PoisonError::into_inner);
                match families.iter().find(|(n, _)| n.iter().map(String::as_str).eq(names.iter().copied())) {
                    Some((_, f)) => f.clone(),
                    None => {
                        let owned: Box<[String]> = names.iter().map(|n| (*n).to_owned()).collect();
                        let f = (self.make)(&owned).map_err(SeriesError::Build)?;
                        families.push((owned, f.clone()));
                        f
                    }
                }
            }
        };
        family.with(pairs).map(promkit::SeriesRef::into_owned).map_err(SeriesError::Label)
    }
}

impl<M: Metric> Collector for FacadeFamily<M> {
    fn describe(&self) -> Vec<Desc> {
        let d = self.description.read().unwrap_or_else(PoisonError::into_inner);
        vec![Desc {
            name: self.name.clone(),
            help: d.help.clone(),
            unit: String::new(),
            kind: M::KIND,
            label_names: Vec::new(),
            const_labels: Vec::new(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let d = self.description.read().unwrap_or_else(PoisonError::into_inner);
        let unit = if unit_fits(&self.name, M::KIND, d.unit) { d.unit } else { "" };
        let mut one_header = OneHeader { inner: sink, help: &d.help, unit, started: false };
        for (_, family) in self.families.read().unwrap_or_else(PoisonError::into_inner).iter() {
            family.collect(&mut one_header)?;
        }
        Ok(())
    }
}

/// OpenMetrics requires the unit to be the name's suffix (before a counter's `_total`);
/// a unit that is not is left out rather than making the exposition invalid.
fn unit_fits(name: &str, kind: MetricType, unit: &str) -> bool {
    let base = match kind {
        MetricType::Counter => name.strip_suffix("_total").unwrap_or(name),
        _ => name,
    };
    !unit.is_empty() && base.strip_suffix(unit).is_some_and(|rest| rest.ends_with('_'))
}

/// Passes samples through and writes the family header once, with the current description.
struct OneHeader<'a> {
    inner: &'a mut dyn Sink,
    help: &'a str,
    unit: &'a str,
    started: bool,
}

impl Sink for OneHeader<'_> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        if !self.started {
            self.started = true;
            self.inner.family(&FamilyHeader { help: self.help, unit: self.unit, ..*header });
        }
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        self.inner.sample(labels, value, meta);
    }

    fn stored_samples(&mut self, template: &LabelTemplate, samples: &[StoredSample<'_>]) {
        self.inner.stored_samples(template, samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_written_only_as_the_names_suffix() {
        assert!(unit_fits("took_seconds", MetricType::Histogram, "seconds"));
        assert!(unit_fits("cpu_seconds_total", MetricType::Counter, "seconds"));
        assert!(!unit_fits("took", MetricType::Histogram, "seconds"));
        assert!(!unit_fits("tookseconds", MetricType::Gauge, "seconds"));
        assert!(!unit_fits("took_seconds", MetricType::Gauge, ""));
    }
}
