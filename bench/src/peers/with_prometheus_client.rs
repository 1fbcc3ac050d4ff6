//! prometheus-client (the official Rust client): `Family<S, Counter>` keyed by a derived label
//! struct, `Histogram`, its text encoder, which writes OpenMetrics only, and its
//! `prometheus_protobuf` encoder, which builds `MetricFamily` messages that prost then writes
//! length-delimited.
//!
//! Its default `Counter` is `u64`. A family is keyed by an owned, hashable label struct; label
//! values that are not known at compile time must be owned `String`s, so the fixture series
//! use `&'static str` for `method` (four literals) and `String` for `id`.

use prometheus_client::encoding::prometheus_protobuf;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use prost::Message as _;

use crate::{
    ENCODE_FAMILIES, GO_BUCKETS, HISTOGRAM_HELP, HISTOGRAM_NAME, METHODS, OBSERVATIONS_PER_SERIES,
    family_help, family_name, series_observation, series_value,
};

/// The `method` label as a type.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Method {
    /// `Get`
    Get,
    /// `Post`
    Post,
    /// `Put`
    Put,
    /// `Delete`
    Delete,
}

/// The `status` label as a type (encoded by variant name: the derive has no renaming).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Status {
    /// `Ok`
    Ok,
    /// `NotFound`
    NotFound,
    /// `Error`
    Error,
}

/// The labels of the labelled-counter benchmark as a typed set.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Request {
    /// The request method.
    pub method: Method,
    /// The response status.
    pub status: Status,
}

/// The labels of the labelled-counter benchmark as strings.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestStr {
    /// The request method.
    pub method: &'static str,
    /// The response status.
    pub status: &'static str,
}

/// The labels of a fixture series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Series {
    /// One of [`METHODS`].
    pub method: &'static str,
    /// `id-{j}`.
    pub id: String,
}

impl Series {
    /// The labels of fixture series `j`.
    pub fn new(j: usize, id: &str) -> Self {
        Self { method: METHODS[j % 4], id: id.to_owned() }
    }
}

/// The family name without `_total`, which the encoder appends to counters.
fn base_name(f: usize) -> String {
    let name = family_name(f);
    name.strip_suffix("_total").unwrap_or(&name).to_owned()
}

/// Counter families filled with the fixture series.
#[derive(Debug)]
pub struct Counters {
    /// The registry holding every family.
    pub registry: Registry,
    /// The families, in order.
    pub families: Vec<Family<Series, Counter>>,
}

impl Counters {
    /// `families` families with one series per id.
    pub fn new(families: usize, ids: &[String]) -> Self {
        let mut registry = Registry::default();
        let families = (0..families)
            .map(|f| {
                let family = Family::<Series, Counter>::default();
                registry.register(base_name(f), family_help(f), family.clone());
                for (j, id) in ids.iter().enumerate() {
                    family.get_or_create(&Series::new(j, id)).inc_by(series_value(f, j));
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

    /// Appends the OpenMetrics exposition to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_openmetrics(&self, out: &mut String) {
        prometheus_client::encoding::text::encode(out, &self.registry).expect("encodes");
    }

    /// Appends the delimited protobuf exposition to `out`: the registry encoded to
    /// `MetricFamily` messages, each written by prost with its length prefix.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_protobuf(&self, out: &mut Vec<u8>) {
        encode_protobuf(&self.registry, out);
    }
}

/// A histogram with Go's default buckets.
pub fn histogram() -> Histogram {
    Histogram::new(GO_BUCKETS)
}

/// One histogram family filled with the fixture observations.
#[derive(Debug)]
pub struct Histograms {
    /// The registry holding the family.
    pub registry: Registry,
    /// The family.
    pub family: Family<Series, Histogram>,
}

impl Histograms {
    /// One family with one series per id (`ids` made before anything is measured, as for
    /// [`Counters::new`]).
    pub fn new(ids: &[String]) -> Self {
        let mut registry = Registry::default();
        let family = Family::<Series, Histogram>::new_with_constructor(histogram as fn() -> _);
        registry.register(HISTOGRAM_NAME, HISTOGRAM_HELP, family.clone());
        for (j, id) in ids.iter().enumerate() {
            let h = family.get_or_create(&Series::new(j, id));
            for i in 0..OBSERVATIONS_PER_SERIES {
                h.observe(series_observation(j, i));
            }
        }
        Self { registry, family }
    }

    /// Appends the OpenMetrics exposition to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_openmetrics(&self, out: &mut String) {
        prometheus_client::encoding::text::encode(out, &self.registry).expect("encodes");
    }

    /// Appends the delimited protobuf exposition to `out`: the registry encoded to
    /// `MetricFamily` messages, each written by prost with its length prefix.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode_protobuf(&self, out: &mut Vec<u8>) {
        encode_protobuf(&self.registry, out);
    }
}

/// Encodes `registry` to `MetricFamily` messages and appends them, length-delimited, to `out`.
///
/// # Panics
/// If encoding fails.
pub fn encode_protobuf(registry: &Registry, out: &mut Vec<u8>) {
    for family in prometheus_protobuf::encode(registry).expect("encodes") {
        family.encode_length_delimited(out).expect("a Vec grows as needed");
    }
}
