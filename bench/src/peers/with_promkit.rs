//! promkit: string-labelled families, typed label sets, and the registry's encoder.

use promkit::{Counter, Family, Format, Histogram, LabelSet, LabelValue, Registry};

use crate::{
    ENCODE_FAMILIES, HISTOGRAM_HELP, HISTOGRAM_NAME, LABEL_NAMES, METHODS, OBSERVATIONS_PER_SERIES,
    family_help, family_name, series_observation, series_value,
};

/// The `method` label as a type.
#[derive(Clone, Copy, Debug, LabelValue)]
#[label(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

/// The `status` label as a type.
#[derive(Clone, Copy, Debug, LabelValue)]
pub enum Status {
    /// `200`
    #[label(rename = "200")]
    Ok,
    /// `404`
    #[label(rename = "404")]
    NotFound,
    /// `500`
    #[label(rename = "500")]
    Error,
}

/// The labels of the labelled-counter benchmark as a typed set (4 × 3 dense series).
#[derive(Clone, Copy, Debug, LabelSet)]
pub struct Request {
    /// The request method.
    pub method: Method,
    /// The response status.
    pub status: Status,
}

/// Counter families filled with the fixture series.
#[derive(Debug)]
pub struct Counters {
    /// The registry holding every family.
    pub registry: Registry,
    /// The families, in order.
    pub families: Vec<Family<Counter>>,
}

impl Counters {
    /// `families` families with one series per id (a family per fixture name).
    ///
    /// # Panics
    /// If promkit refuses the fixture declaration.
    pub fn new(families: usize, ids: &[String]) -> Self {
        let registry = Registry::new();
        let families: Vec<Family<Counter>> = (0..families)
            .map(|f| {
                let family = Counter::builder(family_name(f))
                    .help(family_help(f))
                    .labels(LABEL_NAMES)
                    .register(&registry)
                    .expect("fixture family registers");
                for (j, id) in ids.iter().enumerate() {
                    family
                        .with_label_values(&[METHODS[j % 4], id])
                        .expect("two label values")
                        .inc_by(series_value(f, j));
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

    /// Appends the exposition in `format` to `out`.
    ///
    /// # Panics
    /// If encoding fails (no fixture collector can fail).
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) {
        self.registry.encode(format, out).expect("encodes");
    }
}

/// One histogram family filled with the fixture observations.
#[derive(Debug)]
pub struct Histograms {
    /// The registry holding the family.
    pub registry: Registry,
    /// The family.
    pub family: Family<Histogram>,
}

impl Histograms {
    /// One family with one series per id (`ids` made before anything is measured, as for
    /// [`Counters::new`]).
    ///
    /// # Panics
    /// If promkit refuses the fixture declaration.
    pub fn new(ids: &[String]) -> Self {
        let registry = Registry::new();
        let family = Histogram::builder(HISTOGRAM_NAME)
            .help(HISTOGRAM_HELP)
            .labels(LABEL_NAMES)
            .register(&registry)
            .expect("fixture family registers");
        for (j, id) in ids.iter().enumerate() {
            let h = family.with_label_values(&[METHODS[j % 4], id]).expect("two label values");
            for i in 0..OBSERVATIONS_PER_SERIES {
                h.observe(series_observation(j, i));
            }
        }
        Self { registry, family }
    }

    /// Appends the exposition in `format` to `out`.
    ///
    /// # Panics
    /// If encoding fails.
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) {
        self.registry.encode(format, out).expect("encodes");
    }
}
