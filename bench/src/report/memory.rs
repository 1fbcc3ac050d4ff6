//! Runs `memory <crate>` once per crate, each in its own process, and collects the JSON.

use std::path::Path;
use std::process::Command;

use super::{Result, check_status};

/// The crates the probe knows, in table order; `promkit_metrics` is promkit behind the
/// `metrics` facade (compared with `metrics`, the facade's own exporter, not ranked as a peer).
pub(crate) const CRATES: [&str; 6] =
    ["promkit", "prometheus", "prometheus_client", "metrics", "measured", "promkit_metrics"];

/// One crate's memory cost of 100,000 labelled counter series.
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
}

/// Builds the probe and runs it for every crate.
pub(crate) fn run_all(cargo: &str, root: &Path, target: &Path) -> Result<Vec<MemoryRow>> {
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "bench", "--bin", "memory"])
        .status()?;
    check_status("cargo build --bin memory", status)?;
    let exe = target.join("release").join("memory");
    CRATES
        .iter()
        .map(|krate| {
            let out = Command::new(&exe).arg(krate).output()?;
            if !out.status.success() {
                return Err(
                    format!("`memory {krate}` failed: {}", String::from_utf8_lossy(&out.stderr)).into()
                );
            }
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let num = |k: &str| v[k].as_f64().ok_or_else(|| format!("`memory {krate}` printed no `{k}`"));
            let series = num("series")?;
            Ok(MemoryRow {
                krate: (*krate).to_owned(),
                heap_per_series: num("heap_bytes_per_series")?,
                heap_per_series_after_encode: num("heap_bytes_per_series_after_encode")?,
                peak_per_series: num("heap_peak_bytes")? / series,
                rss_per_series: num("rss_bytes_per_series")?,
                encoded_bytes: num("encoded_bytes")? as u64,
            })
        })
        .collect()
}
