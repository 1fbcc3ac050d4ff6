//! metrics + metrics-exporter-prometheus: a local `PrometheusRecorder` (never installed
//! globally), metrics registered through the `counter!` / `histogram!` macros inside
//! `metrics::with_local_recorder`, and `PrometheusHandle::render_to_write`.
//!
//! The exporter writes the text format only. Its histograms keep raw samples in the handle
//! and sort them into buckets when a scrape (or upkeep) drains them.

use metrics::with_local_recorder;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::{
    ENCODE_FAMILIES, GO_BUCKETS, HISTOGRAM_HELP, HISTOGRAM_NAME, METHODS, OBSERVATIONS_PER_SERIES,
    family_help, family_name, series_observation, series_value,
};

/// A recorder whose histograms use Go's default buckets (the exporter's default is summaries).
///
/// # Panics
/// If the exporter refuses the buckets.
pub fn recorder() -> PrometheusRecorder {
    builder().build_recorder()
}

/// The builder behind [`recorder`], for callers that add a transport (the scrape benchmark
/// adds the exporter's own HTTP listener).
///
/// # Panics
/// If the exporter refuses the buckets.
pub fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new().set_buckets(&GO_BUCKETS).expect("buckets are valid")
}

/// Counter families filled with the fixture series.
#[derive(Debug)]
pub struct Counters {
    /// The recorder holding every series.
    pub recorder: PrometheusRecorder,
    /// A handle for rendering.
    pub handle: PrometheusHandle,
}

impl Counters {
    /// `families` families with one series per id.
    pub fn new(families: usize, ids: &[String]) -> Self {
        Self::record_into(recorder(), families, ids)
    }

    /// As [`new`](Self::new), into a recorder made elsewhere (one whose exporter serves it).
    pub fn record_into(recorder: PrometheusRecorder, families: usize, ids: &[String]) -> Self {
        with_local_recorder(&recorder, || {
            for f in 0..families {
                let name = family_name(f);
                metrics::describe_counter!(name.clone(), family_help(f));
                for (j, id) in ids.iter().enumerate() {
                    // The id must be owned: metrics keeps label values as `SharedString`s.
                    metrics::counter!(name.clone(), "method" => METHODS[j % 4], "id" => id.clone())
                        .increment(series_value(f, j));
                }
            }
        });
        let handle = recorder.handle();
        Self { recorder, handle }
    }

    /// The encode fixture: [`ENCODE_FAMILIES`] families of `per_family` series.
    pub fn encode_fixture(per_family: usize) -> Self {
        Self::new(ENCODE_FAMILIES, &crate::ids(per_family))
    }

    /// Appends the text exposition to `out`.
    ///
    /// # Panics
    /// If writing fails (a `Vec` never does).
    pub fn encode_text(&self, out: &mut Vec<u8>) {
        self.handle.render_to_write(out).expect("renders");
    }
}

/// One histogram family filled with the fixture observations.
#[derive(Debug)]
pub struct Histograms {
    /// The recorder holding every series.
    pub recorder: PrometheusRecorder,
    /// A handle for rendering.
    pub handle: PrometheusHandle,
}

impl Histograms {
    /// One family with one series per id (`ids` made before anything is measured, as for
    /// [`Counters::new`]).
    pub fn new(ids: &[String]) -> Self {
        let recorder = recorder();
        with_local_recorder(&recorder, || {
            metrics::describe_histogram!(HISTOGRAM_NAME, HISTOGRAM_HELP);
            for (j, id) in ids.iter().enumerate() {
                // The id must be owned: metrics keeps label values as `SharedString`s.
                let h = metrics::histogram!(HISTOGRAM_NAME, "method" => METHODS[j % 4], "id" => id.clone());
                for i in 0..OBSERVATIONS_PER_SERIES {
                    h.record(series_observation(j, i));
                }
            }
        });
        let handle = recorder.handle();
        // Sort the raw samples into buckets now, as the first scrape would.
        handle.run_upkeep();
        Self { recorder, handle }
    }

    /// Appends the text exposition to `out`.
    ///
    /// # Panics
    /// If writing fails.
    pub fn encode_text(&self, out: &mut Vec<u8>) {
        self.handle.render_to_write(out).expect("renders");
    }
}
