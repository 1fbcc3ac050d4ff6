//! measured: `CounterVec` / `HistogramVec` over derived label groups, `FixedCardinalityLabel`
//! enums for typed labels (dense storage), `ParaCord` interners for string labels (sparse),
//! and `BufferedTextEncoder`. The crate writes the text format only.

// The `LabelGroup` derive generates public label-set structs and constructors that carry no
// docs; the workspace's `missing_docs` lint would otherwise reject this module.
#![allow(missing_docs)]

use measured::label::StaticLabelSet;
use measured::metric::MetricFamilyEncoding;
use measured::metric::group::Encoding;
use measured::metric::histogram::Thresholds;
use measured::metric::name::MetricName;
use measured::text::BufferedTextEncoder;
use measured::{CounterVec, FixedCardinalityLabel, HistogramVec, LabelGroup};
use paracord::ParaCord;

use crate::{
    ENCODE_FAMILIES, GO_BUCKETS, HISTOGRAM_HELP, HISTOGRAM_NAME, METHODS, OBSERVATIONS_PER_SERIES,
    family_help, family_name, series_observation, series_value,
};

/// The `method` label as a fixed-cardinality enum.
#[derive(Clone, Copy, Debug, PartialEq, FixedCardinalityLabel)]
#[label(rename_all = "SHOUTY_SNAKE_CASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// The `status` label as a fixed-cardinality enum (integer discriminants encode as numbers).
#[derive(Clone, Copy, Debug, PartialEq, FixedCardinalityLabel)]
pub enum Status {
    Ok = 200,
    NotFound = 404,
    Error = 500,
}

/// The labels of the labelled-counter benchmark as a typed group (dense, 4 × 3).
#[derive(Clone, Copy, Debug, LabelGroup)]
#[label(set = RequestSet)]
pub struct Request {
    pub method: Method,
    pub status: Status,
}

/// The labels of the labelled-counter benchmark as strings, interned on first use.
#[derive(Clone, Copy, Debug, LabelGroup)]
#[label(set = RequestStrSet)]
pub struct RequestStr<'a> {
    #[label(dynamic_with = ParaCord, default)]
    pub method: &'a str,
    #[label(dynamic_with = ParaCord, default)]
    pub status: &'a str,
}

/// The labels of a fixture series, both interned strings.
#[derive(Clone, Copy, Debug, LabelGroup)]
#[label(set = SeriesSet)]
pub struct Series<'a> {
    #[label(dynamic_with = ParaCord, default)]
    pub method: &'a str,
    #[label(dynamic_with = ParaCord, default)]
    pub id: &'a str,
}

/// A typed counter vec over [`Request`].
pub fn typed_counter_vec() -> CounterVec<RequestSet> {
    CounterVec::with_label_set(RequestSet { method: StaticLabelSet::new(), status: StaticLabelSet::new() })
}

/// A string-labelled counter vec over [`RequestStr`].
pub fn str_counter_vec() -> CounterVec<RequestStrSet> {
    CounterVec::with_label_set(RequestStrSet::default())
}

/// A counter vec over the fixture labels.
pub fn series_counter_vec() -> CounterVec<SeriesSet> {
    CounterVec::with_label_set(SeriesSet::default())
}

/// Go's default buckets as measured thresholds.
pub fn thresholds() -> Thresholds<11> {
    Thresholds::with_buckets(GO_BUCKETS)
}

/// Counter families filled with the fixture series (measured has no registry: a list of
/// named vecs, encoded one after the other as its `MetricGroup` derive would).
pub struct Counters {
    /// `(name, help, vec)` per family.
    pub families: Vec<(String, String, CounterVec<SeriesSet>)>,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters").field("families", &self.families.len()).finish()
    }
}

impl Counters {
    /// `families` families with one series per id.
    pub fn new(families: usize, ids: &[String]) -> Self {
        let families = (0..families)
            .map(|f| {
                let vec = series_counter_vec();
                for (j, id) in ids.iter().enumerate() {
                    vec.inc_by(Series { method: METHODS[j % 4], id }, series_value(f, j));
                }
                (family_name(f), family_help(f), vec)
            })
            .collect();
        Self { families }
    }

    /// The encode fixture: [`ENCODE_FAMILIES`] families of `per_family` series.
    pub fn encode_fixture(per_family: usize) -> Self {
        Self::new(ENCODE_FAMILIES, &crate::ids(per_family))
    }

    /// Writes the text exposition into `enc`; `enc.finish()` takes the bytes.
    ///
    /// # Panics
    /// On an invalid fixture name.
    pub fn encode_text(&self, enc: &mut BufferedTextEncoder) {
        for (name, help, vec) in &self.families {
            let name = MetricName::try_from_str(name).expect("valid name");
            let Ok(()) = enc.write_help(name, help);
            let Ok(()) = vec.collect_family_into(name, enc);
        }
    }
}

/// One histogram family filled with the fixture observations.
pub struct Histograms {
    /// The family.
    pub family: HistogramVec<SeriesSet, 11>,
}

impl std::fmt::Debug for Histograms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histograms").finish_non_exhaustive()
    }
}

impl Histograms {
    /// One family with one series per id (`ids` made before anything is measured, as for
    /// [`Counters::new`]).
    pub fn new(ids: &[String]) -> Self {
        let family = HistogramVec::with_label_set_and_metadata(SeriesSet::default(), thresholds());
        for (j, id) in ids.iter().enumerate() {
            for i in 0..OBSERVATIONS_PER_SERIES {
                family.observe(Series { method: METHODS[j % 4], id }, series_observation(j, i));
            }
        }
        Self { family }
    }

    /// Writes the text exposition into `enc`.
    ///
    /// # Panics
    /// On an invalid fixture name.
    pub fn encode_text(&self, enc: &mut BufferedTextEncoder) {
        let name = MetricName::try_from_str(HISTOGRAM_NAME).expect("valid name");
        let Ok(()) = enc.write_help(name, HISTOGRAM_HELP);
        let Ok(()) = self.family.collect_family_into(name, enc);
    }
}
