//! The machine and toolchain a run used, and the versions of the crates compared.

use std::path::Path;
use std::process::Command;

use super::Result;

/// What the document says about the machine.
#[derive(Debug)]
pub(crate) struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub(crate) cpu: String,
    /// Logical CPUs available to this process.
    pub(crate) cores: usize,
    /// `/proc/sys/kernel/osrelease`.
    pub(crate) kernel: String,
    /// `rustc -V`.
    pub(crate) rustc: String,
}

impl Machine {
    /// Reads everything it can; what it cannot read is "unknown".
    pub(crate) fn describe() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
            .arg("-V")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        Self { cpu, cores: std::thread::available_parallelism().map_or(0, usize::from), kernel, rustc }
    }
}

/// The first three fields of `/proc/loadavg`.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// `git rev-parse --short HEAD`, plus a note when `crates/` has uncommitted changes (other
/// work in progress is then part of what was measured).
pub(crate) fn source_revision(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown (not a git checkout)".to_owned();
    };
    match git(&["status", "--porcelain", "--", "crates"]) {
        Some(changes) if !changes.is_empty() => {
            format!("{commit} with uncommitted changes in `crates/`")
        }
        _ => commit,
    }
}

/// The packages whose versions the document lists, as named in `Cargo.lock`.
const PACKAGES: [&str; 8] = [
    "promkit",
    "prometheus",
    "prometheus-client",
    "metrics",
    "metrics-exporter-prometheus",
    "measured",
    "paracord",
    "criterion",
];

/// `(package, versions)` for [`PACKAGES`], read from `Cargo.lock`.
pub(crate) fn crate_versions(lock: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(lock)?;
    let mut found: Vec<(String, Vec<String>)> =
        PACKAGES.iter().map(|p| ((*p).to_owned(), Vec::new())).collect();
    for block in text.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|rest| rest.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_owned())
            })
        };
        if let (Some(name), Some(version)) = (field("name "), field("version "))
            && let Some((_, versions)) = found.iter_mut().find(|(n, _)| *n == name)
        {
            versions.push(version);
        }
    }
    Ok(found.into_iter().map(|(name, versions)| (name, versions.join(", "))).collect())
}
