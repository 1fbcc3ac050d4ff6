//! A flow: the ordered steps that fill and submit one form on a site, stored as data.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One step of a flow. Stored and exchanged (JSON, YAML) as a map with a `kind` field:
/// `{kind: fill, selector: "#email", value: "a@example.com"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Navigate to a URL (absolute, or relative to the site's base URL).
    Open {
        /// Where to go.
        url: String,
    },
    /// Set a form field's value: text inputs and textareas take the value; checkboxes are
    /// checked by `true`/`on`/`yes`/`1` and unchecked by anything else; radios are checked.
    Fill {
        /// CSS selector of the field (the first match is used).
        selector: String,
        /// The value to set.
        value: String,
    },
    /// Choose an option of a `<select>` by its value or, failing that, its text.
    Select {
        /// CSS selector of the `<select>`.
        selector: String,
        /// Option value or text.
        value: String,
    },
    /// Give a file input a file, for a `multipart/form-data` form: a file from the runner's
    /// `--files-dir` (`file`, a path relative to it) or `content` given inline.
    Attach {
        /// CSS selector of the `<input type="file">`.
        selector: String,
        /// A path relative to `--files-dir` (no `..`, not absolute).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        /// The file's content, inline (instead of `file`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// The name the file is sent under; default: the file's own name, `upload.txt` for
        /// inline content.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// Its media type; default: guessed from the name's extension (as browsers do),
        /// else `application/octet-stream`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
    /// Click a link (follows it) or a submit button (submits its form with the button).
    Click {
        /// CSS selector of the element.
        selector: String,
    },
    /// Submit a form: the selected form, or the form of the selected element; without a
    /// selector, the page's first form.
    Submit {
        /// CSS selector of a form or an element in one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<String>,
    },
    /// Wait until an element is present. The http engine runs no scripts, so there the
    /// element must be in the page as served.
    WaitFor {
        /// CSS selector to wait for.
        selector: String,
        /// How long to wait in milliseconds (webdriver engine); default 10 s.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
    /// The current page's HTTP status must be this.
    ExpectStatus {
        /// 100..=599.
        status: u16,
    },
    /// The current page's text must contain this (case-sensitive, whitespace collapsed).
    ExpectText {
        /// The text to find.
        text: String,
    },
    /// An element matching this selector must be present.
    ExpectSelector {
        /// CSS selector.
        selector: String,
    },
    /// The current URL must be this one (absolute, or relative to the site's base URL);
    /// when it has no query, the page's query is not compared.
    ExpectUrl {
        /// Expected URL.
        url: String,
    },
}

/// The kind of a [`Step`], as written in flow files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `open`
    Open,
    /// `fill`
    Fill,
    /// `select`
    Select,
    /// `attach`
    Attach,
    /// `click`
    Click,
    /// `submit`
    Submit,
    /// `wait_for`
    WaitFor,
    /// `expect_status`
    ExpectStatus,
    /// `expect_text`
    ExpectText,
    /// `expect_selector`
    ExpectSelector,
    /// `expect_url`
    ExpectUrl,
}

impl StepKind {
    /// The name used in flow files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Fill => "fill",
            Self::Select => "select",
            Self::Attach => "attach",
            Self::Click => "click",
            Self::Submit => "submit",
            Self::WaitFor => "wait_for",
            Self::ExpectStatus => "expect_status",
            Self::ExpectText => "expect_text",
            Self::ExpectSelector => "expect_selector",
            Self::ExpectUrl => "expect_url",
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Step {
    /// This step's kind.
    pub fn kind(&self) -> StepKind {
        match self {
            Self::Open { .. } => StepKind::Open,
            Self::Fill { .. } => StepKind::Fill,
            Self::Select { .. } => StepKind::Select,
            Self::Attach { .. } => StepKind::Attach,
            Self::Click { .. } => StepKind::Click,
            Self::Submit { .. } => StepKind::Submit,
            Self::WaitFor { .. } => StepKind::WaitFor,
            Self::ExpectStatus { .. } => StepKind::ExpectStatus,
            Self::ExpectText { .. } => StepKind::ExpectText,
            Self::ExpectSelector { .. } => StepKind::ExpectSelector,
            Self::ExpectUrl { .. } => StepKind::ExpectUrl,
        }
    }

    /// The CSS selector this step uses, if any.
    pub fn selector(&self) -> Option<&str> {
        match self {
            Self::Fill { selector, .. }
            | Self::Select { selector, .. }
            | Self::Attach { selector, .. }
            | Self::Click { selector }
            | Self::WaitFor { selector, .. }
            | Self::ExpectSelector { selector } => Some(selector),
            Self::Submit { selector } => selector.as_deref(),
            Self::Open { .. }
            | Self::ExpectStatus { .. }
            | Self::ExpectText { .. }
            | Self::ExpectUrl { .. } => None,
        }
    }
}

/// A flow as submitted, imported and exported: everything but the store's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Unique within its site.
    pub name: String,
    /// The engine that runs it: `http` (default) or `webdriver`.
    #[serde(default = "default_driver")]
    pub driver: String,
    /// Where the flow starts: absolute, or relative to the site's base URL.
    pub start_url: String,
    /// What to do once the start page is loaded, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// How often a job of this flow that did not pass is run again before its outcome
    /// counts (0 to 10); absent: the runner's `--retries`. The job's outcome is its last
    /// attempt's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Seconds between this flow's scheduled jobs, overriding the site's interval; 0 runs it
    /// only when the whole site is run by hand; absent: the site's interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// Longest a job of this flow may run, in seconds (1 to [`MAX_TIMEOUT_SECS`]); absent:
    /// the runner's `--job-timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// Most retries a flow may ask for.
pub const MAX_RETRIES: u32 = 10;

/// Longest timeout a flow may ask for, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 600;

/// The driver a flow runs on when its file names none.
pub fn default_driver() -> String {
    "http".to_owned()
}

/// A flow as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// Store id.
    pub id: i64,
    /// The site it belongs to.
    pub site_id: i64,
    /// Order within the site.
    pub position: i64,
    /// Name, engine, start URL and steps.
    #[serde(flatten)]
    pub spec: FlowSpec,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_tagged_by_kind() {
        let step: Step = serde_json::from_str(r##"{"kind":"fill","selector":"#a","value":"x"}"##).unwrap();
        assert_eq!(step, Step::Fill { selector: "#a".into(), value: "x".into() });
        assert_eq!(serde_json::to_string(&Step::Submit { selector: None }).unwrap(), r#"{"kind":"submit"}"#);
        assert_eq!(step.kind().as_str(), "fill");
        assert_eq!(step.selector(), Some("#a"));
    }

    #[test]
    fn unknown_kinds_and_fields_are_named() {
        let err = serde_json::from_str::<Step>(r#"{"kind":"hover","selector":"a"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `hover`"), "{err}");
        let err = serde_json::from_str::<Step>(r#"{"kind":"click","selectr":"a"}"#).unwrap_err();
        assert!(err.to_string().contains("selectr"), "{err}");
    }

    #[test]
    fn driver_defaults_to_http() {
        let flow: FlowSpec = serde_json::from_str(r#"{"name":"f","start_url":"/"}"#).unwrap();
        assert_eq!(flow.driver, "http");
        assert!(flow.steps.is_empty());
    }
}
