//! What a new browser session asks the WebDriver server for: headless Chromium with the
//! flags containers need, its window size and profile directory, and the page-load and
//! script timeouts.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::WebDriverOptions;

/// Whether Chromium keeps its sandbox, and why not when it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sandbox {
    /// Sandboxed: a page that exploits the renderer is still confined.
    On,
    /// `--no-sandbox`, for the reason given.
    Off(&'static str),
}

/// The sandbox decision for a process of effective user `euid` on a kernel allowing
/// `max_user_namespaces` (`None`: unknown).
pub(crate) fn sandbox_for(euid: Option<u32>, max_user_namespaces: Option<u64>) -> Sandbox {
    if euid == Some(0) {
        Sandbox::Off(
            "the runner runs as root, and Chromium refuses its sandbox as root; run the runner as an unprivileged user to keep it",
        )
    } else if max_user_namespaces == Some(0) {
        Sandbox::Off(
            "the kernel allows no user namespaces (user.max_user_namespaces = 0), which Chromium's sandbox needs",
        )
    } else {
        Sandbox::On
    }
}

/// The sandbox decision for this process.
pub(crate) fn sandbox() -> Sandbox {
    #[cfg(unix)]
    let euid = Some(rustix::process::geteuid().as_raw());
    #[cfg(not(unix))]
    let euid = None;
    let namespaces = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .ok()
        .and_then(|s| s.trim().parse().ok());
    sandbox_for(euid, namespaces)
}

/// `goog:chromeOptions` and the W3C capabilities of a new session; `profile` is the browser's
/// profile directory, when it can be on this machine.
pub(super) fn of(
    options: &WebDriverOptions,
    profile: Option<&Path>,
    proxy: Option<std::net::SocketAddr>,
) -> fantoccini::wd::Capabilities {
    let (w, h) = options.window;
    let mut args: Vec<String> = [
        "--headless=new",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    if let Sandbox::Off(_) = sandbox() {
        args.push("--no-sandbox".to_owned());
    }
    args.push(format!("--window-size={w},{h}"));
    if let Some(proxy) = proxy {
        // Every request through the egress proxy, loopback too (Chromium bypasses loopback
        // by default); the proxy resolves names, so Chromium's own DNS is never asked.
        args.push(format!("--proxy-server=http://{proxy}"));
        args.push("--proxy-bypass-list=<-loopback>".to_owned());
    }
    if let Some(dir) = profile {
        args.push(format!("--user-data-dir={}", dir.display()));
        // DevTools over a pipe to chromedriver instead of a TCP port: otherwise Chromium
        // listens on a loopback port chromedriver picks (`--remote-debugging-port=0`), which
        // a page could reach through the egress proxy (loopback is allowed by default) and
        // drive the browser with. With the pipe there is no such port to refuse.
        args.push("--remote-debugging-pipe".to_owned());
    }
    let mut chrome = json!({ "args": args });
    let browser = options.browser.clone().or_else(|| {
        let default = PathBuf::from("/usr/bin/chromium");
        default.exists().then_some(default)
    });
    if let Some(binary) = browser {
        chrome["binary"] = json!(binary.display().to_string());
    }
    let ms = u64::try_from(options.page_load_timeout.as_millis()).unwrap_or(u64::MAX);
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": chrome,
        "pageLoadStrategy": "normal",
        "timeouts": { "pageLoad": ms, "script": ms, "implicit": 0 },
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_carry_the_chromium_flags() {
        let options =
            WebDriverOptions { browser: Some(PathBuf::from("/opt/chromium")), ..WebDriverOptions::default() };
        let profile = tempfile::tempdir().unwrap();
        let caps = Value::Object(of(&options, Some(profile.path()), Some("127.0.0.1:3128".parse().unwrap())));
        let chrome = &caps["goog:chromeOptions"];
        assert_eq!(chrome["binary"], "/opt/chromium");
        let args: Vec<&str> = chrome["args"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        for flag in [
            "--headless=new",
            "--disable-dev-shm-usage",
            "--window-size=1280,800",
            "--proxy-server=http://127.0.0.1:3128",
            "--proxy-bypass-list=<-loopback>",
            "--remote-debugging-pipe",
        ] {
            assert!(args.contains(&flag), "{flag} missing from {args:?}");
        }
        assert!(args.contains(&format!("--user-data-dir={}", profile.path().display()).as_str()), "{args:?}");
        assert_eq!(caps["timeouts"]["pageLoad"], 30_000);
        assert_eq!(args.contains(&"--no-sandbox"), sandbox() != Sandbox::On);
    }

    #[test]
    fn the_sandbox_stays_unless_it_cannot() {
        assert_eq!(sandbox_for(Some(1000), Some(15000)), Sandbox::On);
        assert_eq!(sandbox_for(Some(1000), None), Sandbox::On);
        assert!(matches!(sandbox_for(Some(0), Some(15000)), Sandbox::Off(why) if why.contains("as root")));
        assert!(
            matches!(sandbox_for(Some(1000), Some(0)), Sandbox::Off(why) if why.contains("user namespaces"))
        );
    }
}
