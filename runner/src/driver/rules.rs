//! The step rules both engines share, so that a flow means the same on either: how flow URLs
//! resolve and `expect_url` matches, which `fill` values check a box or choose a radio, how
//! `expect_text` compares text, and when a page's HTTP status fails a step.

use std::fmt::Display;

use url::Url;

use super::{JobSpec, StepFailure};
use crate::domain::{JobOutcome, JobStatus, Step};

/// A flow URL: absolute, or relative to the site's base URL; http(s) only.
pub(crate) fn resolve(base: &Url, raw: &str) -> Result<Url, String> {
    let url = base.join(raw.trim()).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
    if matches!(url.scheme(), "http" | "https") {
        Ok(url)
    } else {
        Err(format!("`{raw}` is not an http(s) URL"))
    }
}

/// The job's start page, or the outcome that ends the job when its start URL is unusable.
pub(crate) fn start_url(job: &JobSpec) -> Result<Url, JobOutcome> {
    resolve(&job.base_url, &job.flow.start_url)
        .map_err(|e| JobOutcome::not_passed(JobStatus::Error, None, format!("start URL: {e}")))
}

/// `expect_url`: equal, fragments ignored, and the query ignored when `want` has none.
pub(crate) fn url_matches(have: &Url, want: &Url) -> bool {
    let strip = |u: &Url, keep_query: bool| {
        let mut u = u.clone();
        u.set_fragment(None);
        if !keep_query {
            u.set_query(None);
        }
        u
    };
    let keep = want.query().is_some();
    strip(have, keep) == strip(want, keep)
}

/// `fill` on a check box: whether the value checks it (`true`, `on`, `yes`, `1`, `checked`,
/// in any case); anything else unchecks it.
pub(crate) fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "on" | "yes" | "1" | "checked")
}

/// `fill` on a radio button whose `value` attribute is `own`: whether it gets chosen (by an
/// empty value, a [`truthy`] one, or its own value). A radio is never unchosen by `fill`.
pub(crate) fn radio_chosen(value: &str, own: Option<&str>) -> bool {
    value.is_empty() || truthy(value) || own == Some(value)
}

/// Collapses runs of whitespace to one space and trims: how `expect_text` and option texts
/// compare.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the step at `index` is an `expect_status`, which then decides on the status of
/// the page the step before it loaded.
pub(crate) fn checks_status(steps: &[Step], index: usize) -> bool {
    matches!(steps.get(index), Some(Step::ExpectStatus { .. }))
}

/// A page load answered with status 400 or more fails its step, unless the next step checks
/// the status itself (`checked_next`). `title` names the page in the message.
pub(crate) fn check_status(
    url: &dyn Display,
    status: Option<u16>,
    title: Option<&str>,
    checked_next: bool,
) -> Result<(), StepFailure> {
    match status {
        Some(code) if code >= 400 && !checked_next => {
            let title = title.filter(|t| !t.is_empty()).map(|t| format!(" \"{t}\"")).unwrap_or_default();
            Err(StepFailure::failed(format!("{url} answered HTTP {code}{title}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_url_ignores_fragments_and_unasked_queries() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(url_matches(&u("http://h/thanks?id=3#top"), &u("http://h/thanks")));
        assert!(url_matches(&u("http://h/thanks?id=3"), &u("http://h/thanks?id=3")));
        assert!(!url_matches(&u("http://h/thanks?id=4"), &u("http://h/thanks?id=3")));
        assert!(!url_matches(&u("http://h/other"), &u("http://h/thanks")));
    }

    #[test]
    fn flow_urls_resolve_against_the_base() {
        let base = Url::parse("https://shop.test/app/").unwrap();
        assert_eq!(resolve(&base, "/contact").unwrap().as_str(), "https://shop.test/contact");
        assert_eq!(resolve(&base, "form").unwrap().as_str(), "https://shop.test/app/form");
        assert_eq!(resolve(&base, " form ").unwrap().as_str(), "https://shop.test/app/form");
        assert_eq!(resolve(&base, "http://other.test/").unwrap().as_str(), "http://other.test/");
        assert_eq!(resolve(&base, "mailto:x@y").unwrap_err(), "`mailto:x@y` is not an http(s) URL");
        assert!(resolve(&base, "http://[oops/").unwrap_err().starts_with("`http://[oops/` is not a URL"));
    }

    #[test]
    fn check_boxes_and_radios() {
        for on in ["true", "on", "yes", "1", "checked", " TRUE ", "Yes"] {
            assert!(truthy(on), "{on}");
        }
        for off in ["", "false", "off", "no", "0", "2", "y"] {
            assert!(!truthy(off), "{off}");
        }
        assert!(radio_chosen("", Some("b")));
        assert!(radio_chosen("on", Some("b")));
        assert!(radio_chosen("b", Some("b")));
        assert!(!radio_chosen("a", Some("b")));
        assert!(!radio_chosen("off", None));
    }

    #[test]
    fn text_compares_with_whitespace_collapsed() {
        assert_eq!(collapse("  Thank\n\tyou,   Ada \u{a0}"), "Thank you, Ada");
        assert_eq!(collapse(" \n "), "");
    }

    #[test]
    fn error_statuses_fail_unless_checked_next() {
        let url = "http://h/boom";
        let err = check_status(&url, Some(500), Some("Oops"), false).unwrap_err();
        assert_eq!(err, StepFailure::failed("http://h/boom answered HTTP 500 \"Oops\""));
        let err = check_status(&url, Some(404), Some(""), false).unwrap_err();
        assert_eq!(err.message, "http://h/boom answered HTTP 404");
        assert!(check_status(&url, Some(500), None, true).is_ok());
        assert!(check_status(&url, Some(399), None, false).is_ok());
        assert!(check_status(&url, None, None, false).is_ok());
        let steps = [Step::ExpectStatus { status: 500 }];
        assert!(checks_status(&steps, 0));
        assert!(!checks_status(&steps, 1));
    }
}
