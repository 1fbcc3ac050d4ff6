//! Runs `scrape` once (the `/metrics` scrape end to end under `oha`) and keeps its JSON.

use std::path::Path;
use std::process::Command;

use super::{Result, check_status};

/// Builds `scrape`, installs `oha` with `scripts/install-bench-tools` when it is missing, and
/// returns what `scrape` printed.
pub(crate) fn run(cargo: &str, root: &Path, target: &Path) -> Result<serde_json::Value> {
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "bench", "--bin", "scrape"])
        .status()?;
    check_status("cargo build --bin scrape", status)?;
    // Prints the version when oha is there; builds it otherwise.
    let status = Command::new(root.join("scripts/install-bench-tools")).status()?;
    check_status("scripts/install-bench-tools", status)?;
    let out = Command::new(target.join("release").join("scrape")).output()?;
    if !out.status.success() {
        return Err(format!("`scrape` failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
