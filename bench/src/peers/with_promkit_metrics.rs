//! metrics + promkit-metrics: the same macro calls as [`with_metrics`](super::with_metrics)
//! (`counter!` inside `metrics::with_local_recorder`), recorded by a `PromkitRecorder` into a
//! promkit `Registry`, which encodes them.

use metrics::with_local_recorder;
use promkit::{Buckets, Format, Registry};
use promkit_metrics::PromkitRecorder;

use crate::{ENCODE_FAMILIES, GO_BUCKETS, METHODS, family_help, family_name, series_value};

/// A recorder into a fresh registry, histograms with Go's default buckets (as the
/// metrics-exporter-prometheus fixture is configured).
///
/// # Panics
/// If promkit refuses the buckets.
pub fn recorder() -> PromkitRecorder {
    PromkitRecorder::builder(&Registry::new())
        .default_buckets(Buckets::new(GO_BUCKETS).expect("buckets are valid"))
        .build()
}

/// Counter families filled with the fixture series.
#[derive(Debug)]
pub struct Counters {
    /// The recorder holding every series (and its registry).
    pub recorder: PromkitRecorder,
}

impl Counters {
    /// `families` families with one series per id, through the same macro calls as
    /// [`with_metrics::Counters`](super::with_metrics::Counters).
    pub fn new(families: usize, ids: &[String]) -> Self {
        let recorder = recorder();
        with_local_recorder(&recorder, || {
            for f in 0..families {
                let name = family_name(f);
                metrics::describe_counter!(name.clone(), family_help(f));
                for (j, id) in ids.iter().enumerate() {
                    metrics::counter!(name.clone(), "method" => METHODS[j % 4], "id" => id.clone())
                        .increment(series_value(f, j));
                }
            }
        });
        Self { recorder }
    }

    /// The encode fixture: [`ENCODE_FAMILIES`] families of `per_family` series.
    pub fn encode_fixture(per_family: usize) -> Self {
        Self::new(ENCODE_FAMILIES, &crate::ids(per_family))
    }

    /// Appends the text exposition to `out`.
    ///
    /// # Panics
    /// If encoding fails (promkit's own families never do).
    pub fn encode_text(&self, out: &mut Vec<u8>) {
        self.recorder.registry().encode(Format::Text, out).expect("encodes");
    }
}
