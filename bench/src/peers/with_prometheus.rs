//! prometheus (tikv): `IntCounterVec` (u64 counters), `HistogramVec`, `TextEncoder` over
//! `Registry::gather()`, and `ProtobufEncoder` over the same. The crate has no OpenMetrics
//! encoder.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, ProtobufEncoder, Registry, TextEncoder,
};

use crate::{
    ENCODE_FAMILIES, GO_BUCKETS, HISTOGRAM_HELP, HISTOGRAM_NAME, LABEL_NAMES, METHODS,
    OBSERVATIONS_PER_SERIES, family_help, family_name, series_observation, series_value,
};

/// Counter families filled with the fixture series.
#[derive(Debug)]
pub struct Counters {
    /// The registry holding every family.
    pub registry: Registry,
    /// The families, in order.
    pub families: Vec<IntCounterVec>,
}

impl Counters {
    /// `families` families with one series per id.
    ///
    /// # Panics
    /// If prometheus refuses the fixture declaration.
    pub fn new(families: usize, ids: &[String]) -> Self {
        let registry = Registry::new();
        let families = (0..families)
            .map(|f| {
                let family = IntCounterVec::new(Opts::new(family_name(f), family_help(f)), &LABEL_NAMES)
                    .expect("fixture family is valid");
                registry.register(Box::new(family.clone())).expect("fixture family registers");
                for (j, id) in ids.iter().enumerate() {
                    family.with_label_values(&[METHODS[j % 4], id.as_str()]).inc_by(series_value(f, j));
                }
                family
            })
            .collect();
        Self { registry, families }
    }

    /// The encode fixture: [`ENCODE_FAMILIES`] families of `per_family` series.
    pub fn encode_fixture(per_family: usize) -> Self {
        Self::new(ENCODE_FAMILIES, &crate::ids(per_family))
    }

    /// Appends the text exposition (0.0.4) to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_text(&self, out: &mut Vec<u8>) {
        encode_text(&self.registry, out);
    }

    /// Appends the delimited protobuf exposition to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_protobuf(&self, out: &mut Vec<u8>) {
        encode_protobuf(&self.registry, out);
    }
}

/// Gathers `registry` and appends its delimited protobuf exposition to `out`.
///
/// # Panics
/// If encoding fails.
pub fn encode_protobuf(registry: &Registry, out: &mut Vec<u8>) {
    ProtobufEncoder::new().encode(&registry.gather(), out).expect("encodes");
}

/// Gathers `registry` and appends its text exposition to `out`.
///
/// # Panics
/// If encoding fails.
pub fn encode_text(registry: &Registry, out: &mut Vec<u8>) {
    TextEncoder::new().encode(&registry.gather(), out).expect("encodes");
}

/// Go's default buckets as prometheus options.
pub fn histogram_opts(name: &str, help: &str) -> HistogramOpts {
    HistogramOpts::new(name, help).buckets(GO_BUCKETS.to_vec())
}

/// One histogram family filled with the fixture observations.
#[derive(Debug)]
pub struct Histograms {
    /// The registry holding the family.
    pub registry: Registry,
    /// The family.
    pub family: HistogramVec,
}

impl Histograms {
    /// One family with one series per id (`ids` made before anything is measured, as for
    /// [`Counters::new`]).
    ///
    /// # Panics
    /// If prometheus refuses the fixture declaration.
    pub fn new(ids: &[String]) -> Self {
        let registry = Registry::new();
        let family = HistogramVec::new(histogram_opts(HISTOGRAM_NAME, HISTOGRAM_HELP), &LABEL_NAMES)
            .expect("fixture family is valid");
        registry.register(Box::new(family.clone())).expect("fixture family registers");
        for (j, id) in ids.iter().enumerate() {
            let h = family.with_label_values(&[METHODS[j % 4], id.as_str()]);
            for i in 0..OBSERVATIONS_PER_SERIES {
                h.observe(series_observation(j, i));
            }
        }
        Self { registry, family }
    }

    /// Appends the text exposition to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_text(&self, out: &mut Vec<u8>) {
        encode_text(&self.registry, out);
    }

    /// Appends the delimited protobuf exposition to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_protobuf(&self, out: &mut Vec<u8>) {
        encode_protobuf(&self.registry, out);
    }
}
