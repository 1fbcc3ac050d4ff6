//! Gathered snapshots: owned families, merged from several registries with duplicates caught.

use crate::encode::{Format, encode_families};
use crate::model::{
    CollectError, FamilyHeader, Labels, MetricFamily, Sample, SampleMeta, SampleValue, Sink,
    SnapshotHistogram, SnapshotSummary, Value,
};

use super::Registry;

/// Several registries gathered as one (Go's `Gatherers`): families of one name are merged, and
/// a series that two of them produce is an error, never written twice.
#[derive(Debug, Clone, Default)]
pub struct Gatherers {
    registries: Vec<Registry>,
}

impl Gatherers {
    /// Gathers these registries together.
    pub fn new<'a>(registries: impl IntoIterator<Item = &'a Registry>) -> Self {
        Self { registries: registries.into_iter().cloned().collect() }
    }

    /// Adds a registry.
    pub fn push(&mut self, registry: &Registry) {
        self.registries.push(registry.clone());
    }

    /// Gathers and merges every registry's families, sorted by name, series by label values.
    ///
    /// # Errors
    /// A collector's failure; [`CollectError::InconsistentFamily`] when two registries have a
    /// family of one name with another type, help or unit;
    /// [`CollectError::DuplicateSeries`] when a series is produced twice.
    pub fn gather(&self) -> Result<Vec<MetricFamily>, CollectError> {
        let mut sink = Gatherer::default();
        for r in &self.registries {
            r.collect(&mut sink)?;
        }
        let mut families = sink.families;
        families.sort_by(|a, b| a.name.cmp(&b.name));
        let mut merged: Vec<MetricFamily> = Vec::with_capacity(families.len());
        for f in families {
            match merged.last_mut() {
                Some(last) if last.name == f.name => {
                    let what = if last.kind != f.kind {
                        Some("type")
                    } else if last.help != f.help {
                        Some("help")
                    } else if last.unit != f.unit {
                        Some("unit")
                    } else {
                        None
                    };
                    if let Some(what) = what {
                        return Err(CollectError::InconsistentFamily { family: f.name, what });
                    }
                    last.samples.extend(f.samples);
                }
                _ => merged.push(f),
            }
        }
        for f in &mut merged {
            f.samples.sort_by(|a, b| a.labels.iter().map(|(_, v)| v).cmp(b.labels.iter().map(|(_, v)| v)));
            if let Some(w) = f.samples.windows(2).find(|w| w[0].labels == w[1].labels) {
                let labels =
                    w[0].labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect::<Vec<_>>().join(",");
                return Err(CollectError::DuplicateSeries {
                    family: f.name.clone(),
                    labels: format!("{{{labels}}}"),
                });
            }
        }
        Ok(merged)
    }

    /// Gathers and encodes in `format`, names escaped with the default scheme
    /// ([`EscapingScheme::Underscores`](crate::EscapingScheme::Underscores)).
    ///
    /// # Errors
    /// As [`gather`](Self::gather).
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) -> Result<(), CollectError> {
        encode_families(&self.gather()?, format, out);
        Ok(())
    }
}

/// A sink that builds owned families.
#[derive(Debug, Default)]
struct Gatherer {
    families: Vec<MetricFamily>,
}

impl Sink for Gatherer {
    fn family(&mut self, h: &FamilyHeader<'_>) {
        self.families.push(MetricFamily {
            name: h.name.to_owned(),
            help: h.help.to_owned(),
            unit: h.unit.to_owned(),
            kind: h.kind,
            samples: Vec::new(),
        });
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        let Some(family) = self.families.last_mut() else {
            return;
        };
        let mut pairs = Vec::new();
        labels.for_each(|n, v| pairs.push((n.to_owned(), v.to_owned())));
        // the snapshot holds floats, as Go's does
        let value = match value {
            Value::CounterU64(v) => SampleValue::Counter(v as f64),
            Value::CounterF64(v) => SampleValue::Counter(v),
            Value::GaugeI64(v) => SampleValue::Gauge(v as f64),
            Value::GaugeF64(v) => SampleValue::Gauge(v),
            Value::Untyped(v) => SampleValue::Untyped(v),
            Value::Summary(q) => {
                let mut values = Vec::new();
                let (count, sum) = q.read(&mut values);
                SampleValue::Summary(SnapshotSummary { quantiles: q.quantiles().clone(), values, count, sum })
            }
            Value::Histogram(h) => {
                // One consistent read: a native snapshot carries the classic counts too.
                let mut native = None;
                h.native(&mut |n| native = Some(n.clone()));
                let (cumulative, sum) = match &native {
                    Some(n) => (n.cumulative.clone(), n.sum),
                    None => {
                        let mut cumulative = Vec::new();
                        let sum = h.read(&mut cumulative);
                        (cumulative, sum)
                    }
                };
                let mut exemplars: Vec<_> = (0..cumulative.len())
                    .map(|i| {
                        let mut exemplar = None;
                        h.exemplar(i, &mut |e| exemplar = Some(e.clone()));
                        exemplar
                    })
                    .collect();
                if exemplars.iter().all(Option::is_none) {
                    exemplars.clear();
                }
                SampleValue::Histogram(SnapshotHistogram {
                    buckets: h.bounds().clone(),
                    cumulative,
                    sum,
                    exemplars,
                    native,
                })
            }
        };
        family.samples.push(Sample {
            labels: pairs,
            value,
            timestamp_ms: meta.timestamp_ms,
            created: meta.created,
            exemplar: meta.exemplar.cloned(),
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::{Counter, Gauge};

    #[test]
    fn merging_registries_catches_duplicate_series_and_inconsistent_families() {
        let (a, b) = (Registry::new(), Registry::new());
        Counter::builder("c_total")
            .help("C.")
            .labels(["x"])
            .register(&a)
            .unwrap()
            .with_label_values(&["1"])
            .unwrap()
            .inc();
        let fb = Counter::builder("c_total").help("C.").labels(["x"]).register(&b).unwrap();
        fb.with_label_values(&["2"]).unwrap().inc_by(2);
        let merged = Gatherers::new([&a, &b]).gather().unwrap();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].samples.len(), 2);
        assert_eq!(merged[0].samples[1].value, SampleValue::Counter(2.0));

        fb.with_label_values(&["1"]).unwrap();
        let e = Gatherers::new([&a, &b]).gather().unwrap_err();
        assert_eq!(
            e.to_string(),
            "series {x=\"1\"} of `c_total` was collected twice; each series must come from one place"
        );

        let c = Registry::new();
        Gauge::builder("c_total").help("C.").register(&c).unwrap();
        let e = Gatherers::new([&a, &c]).gather().unwrap_err();
        assert!(matches!(e, CollectError::InconsistentFamily { what: "type", .. }), "{e}");
    }

    #[test]
    fn a_snapshot_encodes_like_the_registry() {
        let r = Registry::new();
        let h = crate::Histogram::builder("h").help("H.").labels(["a"]).register(&r).unwrap();
        h.with_label_values(&["q\"uote"]).unwrap().observe(0.3);
        Gauge::builder("g").register(&r).unwrap().set(-3);
        let mut direct = Vec::new();
        r.encode(Format::Text, &mut direct).unwrap();
        let mut replayed = Vec::new();
        encode_families(&r.gather().unwrap(), Format::Text, &mut replayed);
        assert_eq!(String::from_utf8(replayed).unwrap(), String::from_utf8(direct).unwrap());
    }
}
