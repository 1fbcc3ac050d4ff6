//! Where the oracle programs and their files are: `PATH` lookups, the cache and venv
//! directories (as `scripts/install-deps` lays them out), files of this repository.

use std::env;
use std::ffi::OsString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// The full path of `tool`: the tool itself when it contains a `/`, else the first
/// executable file of that name in a `PATH` directory. `None` when there is none.
///
/// ```
/// assert!(promkit_oracle::which("sh").is_some());
/// assert_eq!(promkit_oracle::which("no-such-tool-promkit"), None);
/// ```
pub fn which(tool: &str) -> Option<PathBuf> {
    if tool.is_empty() {
        return None;
    }
    if tool.contains('/') {
        let path = PathBuf::from(tool);
        return is_executable(&path).then_some(path);
    }
    env::split_paths(&env::var_os("PATH")?).map(|dir| dir.join(tool)).find(|path| is_executable(path))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = path.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server under test.
///
/// The port is found by binding port 0 and is released again at once, so another
/// process may take it in between: bind it soon.
///
/// # Panics
///
/// When no port can be bound on 127.0.0.1 at all.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0 to find a free port: {e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("no local address for 127.0.0.1:0: {e}")).port()
}

/// An environment variable's value, with unset and empty alike meaning `None`.
pub(crate) fn env_path(name: &str) -> Option<PathBuf> {
    env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn home() -> PathBuf {
    env_path("HOME").unwrap_or_else(env::temp_dir)
}

/// `$PROMKIT_CACHE`, default `~/.cache/promkit`: the Go oracle's builds and Go's cache.
pub(crate) fn cache_dir() -> PathBuf {
    env_path("PROMKIT_CACHE").unwrap_or_else(|| home().join(".cache/promkit"))
}

/// `$PROMKIT_VENV`, default `~/.cache/promkit/venv`: the venv with `prometheus-client`.
pub(crate) fn venv_dir() -> PathBuf {
    env_path("PROMKIT_VENV").unwrap_or_else(|| home().join(".cache/promkit/venv"))
}

/// `$PROMTOOL` (a name on `PATH` or a path), default `promtool`.
pub(crate) fn promtool_name() -> OsString {
    env::var_os("PROMTOOL").filter(|v| !v.is_empty()).unwrap_or_else(|| "promtool".into())
}

/// A file of this repository, such as `tools/oracle/parse.py`.
pub(crate) fn repo_file(relative: &str) -> PathBuf {
    // This crate lives at crates/promkit-oracle; Cargo gives its absolute path.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().and_then(Path::parent).unwrap_or_else(|| Path::new("../.."));
    root.join(relative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_finds_sh_on_path_and_by_path() {
        let sh = which("sh").expect("sh on PATH");
        assert!(sh.is_absolute() || sh.starts_with("."), "{}", sh.display());
        assert!(sh.ends_with("sh"));
        assert_eq!(which(sh.to_str().unwrap()), Some(sh.clone()));
    }

    #[test]
    fn which_rejects_missing_and_non_executable() {
        assert_eq!(which("no-such-tool-promkit"), None);
        assert_eq!(which(""), None);
        assert_eq!(which("/no/such/dir/tool"), None);
        // A file that exists but is not executable.
        let manifest = repo_file("crates/promkit-oracle/Cargo.toml");
        assert!(manifest.exists());
        assert_eq!(which(manifest.to_str().unwrap()), None);
    }

    #[test]
    fn free_port_can_be_bound() {
        // A freed port can be taken by any concurrent process before we bind it again (that
        // is why servers retry); one of a few picks must still be bindable.
        let bound = (0..5).any(|_| {
            let port = free_port();
            assert_ne!(port, 0);
            TcpListener::bind(("127.0.0.1", port)).is_ok()
        });
        assert!(bound, "none of five free ports could be bound again");
    }

    #[test]
    fn repo_files_are_found() {
        assert!(repo_file("tools/oracle/parse.py").is_file());
        assert!(repo_file("tools/go-oracle/main.go").is_file());
        assert!(repo_file("scripts/install-deps").is_file());
    }
}
