//! Runs `memory <crate>` once per crate and probe (counters and histograms, 100,000 and
//! 1,000,000 series), each in its own process, and collects the JSON.

use std::path::Path;
use std::process::Command;

use super::{Result, check_status};

/// The crates the probe knows, in table order; `promkit_metrics` is promkit behind the
/// `metrics` facade (compared with `metrics`, the facade's own exporter, not ranked as a peer).
pub(crate) const CRATES: [&str; 6] =
    ["promkit", "prometheus", "prometheus_client", "metrics", "measured", "promkit_metrics"];

/// The probes run, in report order: kind and series count. The first is the headline table.
pub(crate) const PROBES: [(&str, u64); 4] =
    [("counter", 100_000), ("counter", 1_000_000), ("histogram", 100_000), ("histogram", 1_000_000)];

/// One crate's memory cost of labelled counter or histogram series.
#[derive(Debug, Clone)]
pub(crate) struct MemoryRow {
    /// The crate, as the probe names it.
    pub(crate) krate: String,
    /// Live heap bytes per series after creating them.
    pub(crate) heap_per_series: f64,
    /// Live heap bytes per series after one full encode.
    pub(crate) heap_per_series_after_encode: f64,
    /// Peak live heap bytes per series while creating them.
    pub(crate) peak_per_series: f64,
    /// Resident-set growth per series.
    pub(crate) rss_per_series: f64,
    /// The size of the one encode, as a sanity check.
    pub(crate) encoded_bytes: u64,
    /// `counter` or `histogram` (11 buckets).
    pub(crate) kind: String,
    /// How many series were made.
    pub(crate) series: u64,
}

impl MemoryRow {
    /// True for the headline probe: 100,000 labelled counter series.
    pub(crate) fn is_headline(&self) -> bool {
        (self.kind.as_str(), self.series) == PROBES[0]
    }
}

/// Builds the probe and runs it for every crate and probe; a crate without a histogram
/// fixture (`promkit_metrics`) has no histogram rows.
pub(crate) fn run_all(cargo: &str, root: &Path, target: &Path) -> Result<Vec<MemoryRow>> {
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "bench", "--bin", "memory"])
        .status()?;
    check_status("cargo build --bin memory", status)?;
    let exe = target.join("release").join("memory");
    let runs = PROBES.iter().flat_map(|&(kind, series)| {
        CRATES
            .iter()
            .filter(move |&&k| kind == "counter" || k != "promkit_metrics")
            .map(move |&k| (k, kind, series))
    });
    runs.map(|(krate, kind, series)| {
        let out =
            Command::new(&exe).arg(krate).args(["--kind", kind, "--series", &series.to_string()]).output()?;
        if !out.status.success() {
            return Err(format!("`memory {krate}` failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let num = |k: &str| v[k].as_f64().ok_or_else(|| format!("`memory {krate}` printed no `{k}`"));
        let made = num("series")?;
        Ok(MemoryRow {
            krate: (*krate).to_owned(),
            heap_per_series: num("heap_bytes_per_series")?,
            heap_per_series_after_encode: num("heap_bytes_per_series_after_encode")?,
            peak_per_series: num("heap_peak_bytes")? / made,
            rss_per_series: num("rss_bytes_per_series")?,
            encoded_bytes: num("encoded_bytes")? as u64,
            kind: kind.to_owned(),
            series,
        })
    })
    .collect()
}
