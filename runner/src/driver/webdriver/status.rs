//! A WebDriver server's `GET /status`: whether it can open sessions, for the driver's health
//! and for waiting on a chromedriver the runner started.

use serde::Deserialize;
use url::Url;

/// What `GET /status` says (W3C: `{"value": {"ready": bool, "message": str}}`).
#[derive(Debug, Deserialize)]
pub(super) struct ServerStatus {
    pub(super) ready: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    build: Option<Build>,
}

#[derive(Debug, Deserialize)]
struct Build {
    #[serde(default)]
    version: Option<String>,
}

impl ServerStatus {
    /// Its message, and the server's version when it gives one.
    pub(super) fn describe(&self) -> String {
        match self.build.as_ref().and_then(|b| b.version.as_deref()) {
            Some(v) => format!("{} (version {})", self.message, v.split(' ').next().unwrap_or(v)),
            None => self.message.clone(),
        }
    }
}

/// Asks a WebDriver server whether it can open sessions.
pub(super) async fn server_status(client: &reqwest::Client, url: &Url) -> Result<ServerStatus, String> {
    #[derive(Deserialize)]
    struct Envelope {
        value: ServerStatus,
    }
    let status_url = url.join("status").map_err(|e| format!("no status URL ({e})"))?;
    let status_url = if url.path().ends_with('/') {
        status_url
    } else {
        // `http://host:9515/wd/hub` means `/wd/hub/status`, which `join` would not give.
        Url::parse(&format!("{}/status", url.as_str())).map_err(|e| format!("no status URL ({e})"))?
    };
    let resp = client.get(status_url.clone()).send().await.map_err(|e| format!("unreachable ({e})"))?;
    let code = resp.status();
    let body = resp.text().await.map_err(|e| format!("status answer unreadable ({e})"))?;
    if !code.is_success() {
        return Err(format!("{status_url} answered HTTP {}", code.as_u16()));
    }
    serde_json::from_str::<Envelope>(&body)
        .map(|e| e.value)
        .map_err(|e| format!("{status_url} is not a WebDriver status ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_status_reads_chromedriver() {
        let body = r#"{"value":{"build":{"version":"156.0.1 (abc)"},"message":"ChromeDriver ready for new sessions.","os":{},"ready":true}}"#;
        #[derive(Deserialize)]
        struct Envelope {
            value: ServerStatus,
        }
        let status = serde_json::from_str::<Envelope>(body).unwrap().value;
        assert!(status.ready);
        assert_eq!(status.describe(), "ChromeDriver ready for new sessions. (version 156.0.1)");
    }
}
