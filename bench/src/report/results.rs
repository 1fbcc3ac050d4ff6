//! Criterion's results: the median of each `<group>/<function>` and its bytes throughput.

use std::collections::HashMap;
use std::path::Path;

use super::Result;

/// Every group the suite defines (their old results are cleared before a run).
pub(crate) const GROUPS: [&str; 20] = [
    "counter_inc",
    "counter_inc_contended",
    "histogram_observe",
    "histogram_observe_contended",
    "labeled_counter_inc",
    "labeled_counter_inc_contended_same",
    "labeled_counter_inc_contended_different",
    "labeled_new_series",
    "encode_10k_text",
    "encode_10k_openmetrics",
    "encode_100k_text",
    "encode_100k_openmetrics",
    "encode_histograms_text",
    "encode_histograms_openmetrics",
    "summary_observe",
    "native_histogram_observe",
    "exemplar_observe",
    "encode_10k_protobuf",
    "encode_100k_protobuf",
    "encode_histograms_protobuf",
];

/// Medians in nanoseconds and bytes per iteration, keyed by `(group, function)`.
#[derive(Debug, Default)]
pub(crate) struct Results {
    medians: HashMap<(String, String), f64>,
    bytes: HashMap<(String, String), u64>,
}

impl Results {
    /// Reads `<dir>/<group>/<function>/new/{estimates,benchmark}.json` for every group.
    pub(crate) fn read(dir: &Path) -> Result<Self> {
        let mut results = Results::default();
        for group in GROUPS {
            let Ok(entries) = std::fs::read_dir(dir.join(group)) else {
                continue;
            };
            for entry in entries {
                let entry = entry?;
                let function = entry.file_name().to_string_lossy().into_owned();
                let new = entry.path().join("new");
                let Ok(estimates) = std::fs::read(new.join("estimates.json")) else {
                    continue;
                };
                let estimates: serde_json::Value = serde_json::from_slice(&estimates)?;
                let key = (group.to_owned(), function);
                if let Some(median) = estimates["median"]["point_estimate"].as_f64() {
                    results.medians.insert(key.clone(), median);
                }
                if let Ok(meta) = std::fs::read(new.join("benchmark.json")) {
                    let meta: serde_json::Value = serde_json::from_slice(&meta)?;
                    if let Some(bytes) = meta["throughput"]["Bytes"].as_u64() {
                        results.bytes.insert(key, bytes);
                    }
                }
            }
        }
        Ok(results)
    }

    /// The median time of `group/function` in nanoseconds.
    pub(crate) fn median(&self, group: &str, function: &str) -> Option<f64> {
        self.medians.get(&(group.to_owned(), function.to_owned())).copied()
    }

    /// The bytes one iteration of `group/function` produced.
    pub(crate) fn bytes(&self, group: &str, function: &str) -> Option<u64> {
        self.bytes.get(&(group.to_owned(), function.to_owned())).copied()
    }
}
