//! Browser steps for the tests' own Chromium sessions that wait for the state they lead to.
//!
//! A click on a submit button or a link returns before the browser has replaced the page:
//! reading the title or text right after it reads the old page (or nothing, mid-swap). So every
//! navigation here marks the current document first, acts, then polls until a *new* document
//! has finished loading and shows what the caller expects, within [`PATIENCE`]. A timeout
//! panics with what was awaited and what the browser showed.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde::Deserialize;

/// How long a page may take to appear: what a person would wait for a dashboard page, with
/// room for a busy 2-core machine.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// Marks the current document, so that a new one can be told from it.
const MARK: &str = "window.__runnerTestOld = true; return null;";

/// The document as the test sees it. Fails (and is retried) while the page is being replaced.
const STATE: &str = r#"
return { old: window.__runnerTestOld === true, ready: document.readyState, url: location.href,
         title: document.title,
         text: document.querySelector('main') ? document.querySelector('main').innerText : null };
"#;

/// One look at the browser's current document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Shown {
    /// True while the marked (pre-navigation) document is still the current one.
    old: bool,
    ready: String,
    /// `location.href`.
    pub(crate) url: String,
    /// `document.title`.
    pub(crate) title: String,
    /// The visible text of `<main>`, or `None` when the page has none.
    pub(crate) text: Option<String>,
}

impl Shown {
    fn loaded(&self) -> bool {
        self.ready == "complete"
    }

    fn describe(&self) -> String {
        let text = self.text.as_deref().unwrap_or("(no <main>)");
        let text: String = text.chars().take(400).collect();
        format!("title {:?}, url {}, readyState {}, main text: {text}", self.title, self.url, self.ready)
    }
}

/// Reads the document once; `Err` while the browser cannot answer (mid-navigation).
async fn look(client: &Client) -> Result<Shown, String> {
    let value = client.execute(STATE, Vec::new()).await.map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Polls until a fully loaded document satisfies `done`; panics after [`PATIENCE`] naming
/// `what` and the last thing the browser showed.
pub(crate) async fn wait_page(client: &Client, what: &str, mut done: impl FnMut(&Shown) -> bool) -> Shown {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let last = match look(client).await {
            Ok(shown) if shown.loaded() && done(&shown) => return shown,
            Ok(shown) => shown.describe(),
            Err(e) => format!("no answer ({e})"),
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {PATIENCE:?} waiting for {what}; the browser showed {last}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Clicks `css`, which must load a new document, and waits until that document has loaded
/// with the title `title` (`"{title} · runner"` on the dashboard). Returns what it shows.
pub(crate) async fn click_to(client: &Client, css: &str, title: &str) -> Shown {
    client.execute(MARK, Vec::new()).await.unwrap_or_else(|e| panic!("marking the page before {css}: {e}"));
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("finding {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    wait_page(client, &format!("the page titled {title:?} after clicking {css}"), |s| {
        !s.old && s.title == title
    })
    .await
}

/// Loads `url` and waits until it has loaded with the title `title`. Returns what it shows.
pub(crate) async fn goto(client: &Client, url: &str, title: &str) -> Shown {
    client.execute(MARK, Vec::new()).await.ok(); // about:blank at first: nothing to mark, fine
    client.goto(url).await.unwrap_or_else(|e| panic!("loading {url}: {e}"));
    wait_page(client, &format!("{url} titled {title:?}"), |s| !s.old && s.title == title).await
}

/// The visible text of `<main>` of the loaded page (waits for a page that has one).
pub(crate) async fn main_text(client: &Client) -> String {
    wait_page(client, "a loaded page with a <main>", |s| s.text.is_some()).await.text.unwrap_or_default()
}
