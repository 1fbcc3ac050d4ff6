//! What a new browser session asks the WebDriver server for: headless Chromium with the
//! flags containers need, its window size and profile directory, and the page-load and
//! script timeouts.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::WebDriverOptions;

/// `goog:chromeOptions` and the W3C capabilities of a new session; `profile` is the browser's
/// profile directory, when it can be on this machine.
pub(super) fn of(options: &WebDriverOptions, profile: Option<&Path>) -> fantoccini::wd::Capabilities {
    let (w, h) = options.window;
    let mut args: Vec<String> = [
        "--headless=new",
        // Chromium's sandbox needs user namespaces, which containers (and root) lack.
        "--no-sandbox",
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
    args.push(format!("--window-size={w},{h}"));
    if let Some(dir) = profile {
        args.push(format!("--user-data-dir={}", dir.display()));
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
        let caps = Value::Object(of(&options, Some(profile.path())));
        let chrome = &caps["goog:chromeOptions"];
        assert_eq!(chrome["binary"], "/opt/chromium");
        let args: Vec<&str> = chrome["args"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"] {
            assert!(args.contains(&flag), "{flag} missing from {args:?}");
        }
        assert!(args.contains(&format!("--user-data-dir={}", profile.path().display()).as_str()), "{args:?}");
        assert_eq!(caps["timeouts"]["pageLoad"], 30_000);
    }
}
