//! The rules submitted sites and flows must follow, checked before anything is stored.
//!
//! Every rule that fails is reported, each with the path of the field it concerns
//! (`flows[1].steps[3].selector`), so one answer lists everything to fix.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;
use url::Url;

use super::flow::{FlowSpec, Step};
use super::site::SiteSpec;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The field's path, as in the submitted document: `name`, `flows[0].steps[2].selector`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Submitted data that breaks at least one rule; nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// Every broken rule, in document order.
    pub violations: Vec<Violation>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid input: ")?;
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.field, v.message)?;
        }
        Ok(())
    }
}

/// The bounds submitted data must stay within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest site or flow name, in characters.
    pub max_name_chars: usize,
    /// Longest URL, in bytes.
    pub max_url_bytes: usize,
    /// Most flows per site.
    pub max_flows: usize,
    /// Most steps per flow.
    pub max_steps: usize,
    /// Longest text, value or selector in a step, in characters.
    pub max_text_chars: usize,
    /// Shortest schedule interval, in seconds.
    pub min_interval_secs: u64,
    /// Longest schedule interval, in seconds.
    pub max_interval_secs: u64,
    /// Longest `wait_for` timeout, in milliseconds.
    pub max_wait_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_name_chars: 100,
            max_url_bytes: 2048,
            max_flows: 500,
            max_steps: 200,
            max_text_chars: 10_000,
            min_interval_secs: 5,
            max_interval_secs: 7 * 24 * 3600,
            max_wait_ms: 600_000,
        }
    }
}

/// Collects violations under a path prefix.
struct Checker<'a> {
    limits: &'a Limits,
    drivers: &'a [&'a str],
    out: Vec<Violation>,
}

impl Checker<'_> {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.out.push(Violation { field: field.into(), message: message.into() });
    }

    fn name(&mut self, field: &str, name: &str) {
        if name.trim().is_empty() {
            self.push(field, "must not be empty");
        } else if name.chars().count() > self.limits.max_name_chars {
            self.push(field, format!("must be at most {} characters", self.limits.max_name_chars));
        } else if name.chars().any(char::is_control) {
            self.push(field, "must not contain control characters (newlines, tabs...)");
        }
    }

    fn base_url(&mut self, field: &str, raw: &str) -> Option<Url> {
        if raw.len() > self.limits.max_url_bytes {
            self.push(field, format!("must be at most {} bytes", self.limits.max_url_bytes));
            return None;
        }
        match Url::parse(raw) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                self.push(field, format!("`{raw}`: must be an http or https URL"));
                None
            }
            Ok(url) if url.host().is_none() => {
                self.push(field, format!("`{raw}`: must name a host"));
                None
            }
            Ok(url) => Some(url),
            Err(e) => {
                self.push(
                    field,
                    format!("`{raw}` is not an absolute URL ({e}); write it as https://host/path"),
                );
                None
            }
        }
    }

    /// A URL that is absolute or resolves against the base.
    fn flow_url(&mut self, field: &str, raw: &str, base: Option<&Url>) {
        if raw.trim().is_empty() {
            self.push(field, "must not be empty");
            return;
        }
        if raw.len() > self.limits.max_url_bytes {
            self.push(field, format!("must be at most {} bytes", self.limits.max_url_bytes));
            return;
        }
        let parsed = match Url::parse(raw) {
            Ok(url) => Ok(url),
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let fallback = Url::parse("http://base.invalid/").ok();
                match base.or(fallback.as_ref()) {
                    Some(base) => base.join(raw),
                    None => Err(url::ParseError::RelativeUrlWithoutBase),
                }
            }
            Err(e) => Err(e),
        };
        match parsed {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            Ok(_) => {
                self.push(field, format!("`{raw}`: must be an http or https URL, or a path such as /contact"))
            }
            Err(e) => self.push(field, format!("`{raw}` is not a URL ({e})")),
        }
    }

    fn selector(&mut self, field: &str, raw: &str) {
        if raw.trim().is_empty() {
            self.push(field, "must not be empty");
        } else if raw.chars().count() > self.limits.max_text_chars {
            self.push(field, format!("must be at most {} characters", self.limits.max_text_chars));
        } else if let Err(e) = scraper::Selector::parse(raw) {
            self.push(field, format!("`{raw}` is not a valid CSS selector ({e})"));
        }
    }

    fn text(&mut self, field: &str, raw: &str, allow_empty: bool) {
        if !allow_empty && raw.is_empty() {
            self.push(field, "must not be empty");
        } else if raw.chars().count() > self.limits.max_text_chars {
            self.push(field, format!("must be at most {} characters", self.limits.max_text_chars));
        }
    }

    fn step(&mut self, at: &str, step: &Step, base: Option<&Url>) {
        let f = |name: &str| format!("{at}.{name}");
        match step {
            Step::Open { url } | Step::ExpectUrl { url } => self.flow_url(&f("url"), url, base),
            Step::Fill { selector, value } | Step::Select { selector, value } => {
                self.selector(&f("selector"), selector);
                self.text(&f("value"), value, matches!(step, Step::Fill { .. }));
            }
            Step::Click { selector } | Step::ExpectSelector { selector } => {
                self.selector(&f("selector"), selector)
            }
            Step::Attach { selector, file, content, filename, content_type } => {
                self.selector(&f("selector"), selector);
                match (file, content) {
                    (Some(path), None) => {
                        if let Err(e) = crate::driver::files::check_relative(path) {
                            self.push(f("file"), e);
                        }
                    }
                    (None, Some(text)) => self.text(&f("content"), text, true),
                    (Some(_), Some(_)) => self.push(f("file"), "give either `file` or `content`, not both"),
                    (None, None) => self.push(
                        f("file"),
                        "give `file` (a path relative to --files-dir) or `content` (the file's text inline)",
                    ),
                }
                for (name, value) in [("filename", filename), ("content_type", content_type)] {
                    if let Some(v) = value {
                        self.text(&f(name), v, false);
                    }
                }
            }
            Step::Submit { selector } => {
                if let Some(selector) = selector {
                    self.selector(&f("selector"), selector);
                }
            }
            Step::WaitFor { selector, timeout_ms } => {
                self.selector(&f("selector"), selector);
                if let Some(ms) = timeout_ms
                    && *ms > self.limits.max_wait_ms
                {
                    self.push(f("timeout_ms"), format!("must be at most {}", self.limits.max_wait_ms));
                }
            }
            Step::ExpectStatus { status } => {
                if !(100..=599).contains(status) {
                    self.push(f("status"), format!("{status} is not an HTTP status (100 to 599)"));
                }
            }
            Step::ExpectText { text } => self.text(&f("text"), text, false),
        }
    }

    fn flows(&mut self, prefix: &str, flows: &[FlowSpec], base: Option<&Url>) {
        if flows.len() > self.limits.max_flows {
            self.push(
                prefix.trim_end_matches('.'),
                format!("at most {} flows per site", self.limits.max_flows),
            );
            return;
        }
        let mut seen = HashSet::new();
        for (i, flow) in flows.iter().enumerate() {
            let at = format!("{prefix}[{i}]");
            self.name(&format!("{at}.name"), &flow.name);
            if !seen.insert(flow.name.trim()) {
                self.push(
                    format!("{at}.name"),
                    format!("`{}` is used by another flow of this site", flow.name),
                );
            }
            if !self.drivers.contains(&flow.driver.as_str()) {
                let known = self.drivers.join(", ");
                self.push(
                    format!("{at}.driver"),
                    format!("unknown driver `{}`; known: {known}", flow.driver),
                );
            }
            self.flow_url(&format!("{at}.start_url"), &flow.start_url, base);
            if flow.retries.is_some_and(|r| r > super::flow::MAX_RETRIES) {
                self.push(format!("{at}.retries"), format!("at most {} retries", super::flow::MAX_RETRIES));
            }
            if let Some(secs) = flow.interval_secs
                && secs != 0
                && !(self.limits.min_interval_secs..=self.limits.max_interval_secs).contains(&secs)
            {
                self.push(
                    format!("{at}.interval_secs"),
                    format!(
                        "must be between {} and {} seconds, 0 for runs of the whole site only, or absent for \
                         the site's interval",
                        self.limits.min_interval_secs, self.limits.max_interval_secs
                    ),
                );
            }
            if let Some(secs) = flow.timeout_secs
                && !(1..=super::flow::MAX_TIMEOUT_SECS).contains(&secs)
            {
                self.push(
                    format!("{at}.timeout_secs"),
                    format!(
                        "must be between 1 and {} seconds, or absent for the runner's --job-timeout",
                        super::flow::MAX_TIMEOUT_SECS
                    ),
                );
            }
            if flow.steps.len() > self.limits.max_steps {
                self.push(format!("{at}.steps"), format!("at most {} steps per flow", self.limits.max_steps));
                continue;
            }
            for (j, step) in flow.steps.iter().enumerate() {
                self.step(&format!("{at}.steps[{j}]"), step, base);
            }
        }
    }

    fn finish(self) -> Result<(), ValidationError> {
        if self.out.is_empty() { Ok(()) } else { Err(ValidationError { violations: self.out }) }
    }
}

impl Limits {
    /// Checks a submitted site and, when present, its flows. `drivers` are the engine names
    /// flows may use.
    ///
    /// # Errors
    ///
    /// Every broken rule, as a [`ValidationError`].
    pub fn check_site(&self, spec: &SiteSpec, drivers: &[&str]) -> Result<(), ValidationError> {
        let mut c = Checker { limits: self, drivers, out: Vec::new() };
        c.name("name", &spec.name);
        let base = c.base_url("base_url", &spec.base_url);
        if let Some(secs) = spec.interval_secs
            && secs != 0
            && !(self.min_interval_secs..=self.max_interval_secs).contains(&secs)
        {
            c.push(
                "interval_secs",
                format!(
                    "must be between {} and {} seconds, or absent for manual runs only",
                    self.min_interval_secs, self.max_interval_secs
                ),
            );
        }
        if let Some(flows) = &spec.flows {
            c.flows("flows", flows, base.as_ref());
        }
        c.finish()
    }

    /// Checks flows to be stored under a site with this base URL.
    ///
    /// # Errors
    ///
    /// Every broken rule, as a [`ValidationError`].
    pub fn check_flows(
        &self,
        flows: &[FlowSpec],
        base_url: &str,
        drivers: &[&str],
    ) -> Result<(), ValidationError> {
        let mut c = Checker { limits: self, drivers, out: Vec::new() };
        let base = Url::parse(base_url).ok();
        c.flows("flows", flows, base.as_ref());
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str, base: &str) -> SiteSpec {
        SiteSpec { name: name.into(), base_url: base.into(), interval_secs: None, enabled: true, flows: None }
    }

    fn fields(err: ValidationError) -> Vec<String> {
        err.violations.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn good_site_passes() {
        let mut s = site("<b>Shop</b>", "https://shop.example/");
        s.interval_secs = Some(60);
        s.flows = Some(vec![FlowSpec {
            retries: None,
            interval_secs: None,
            timeout_secs: None,
            name: "contact".into(),
            driver: "http".into(),
            start_url: "/contact".into(),
            steps: vec![
                Step::Fill { selector: "input[name=email]".into(), value: String::new() },
                Step::Submit { selector: None },
                Step::ExpectStatus { status: 200 },
                Step::ExpectUrl { url: "https://shop.example/thanks".into() },
            ],
        }]);
        assert_eq!(Limits::default().check_site(&s, &["http"]), Ok(()));
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_path() {
        let mut s = site(" ", "ftp://x/");
        s.interval_secs = Some(1);
        s.flows = Some(vec![
            FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "a".into(),
                driver: "selenium".into(),
                start_url: "javascript:alert(1)".into(),
                steps: vec![
                    Step::Click { selector: "##".into() },
                    Step::ExpectStatus { status: 999 },
                    Step::ExpectText { text: String::new() },
                ],
            },
            FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "a".into(),
                driver: "http".into(),
                start_url: "/".into(),
                steps: vec![],
            },
        ]);
        let err = Limits::default().check_site(&s, &["http"]).unwrap_err();
        assert_eq!(
            fields(err.clone()),
            [
                "name",
                "base_url",
                "interval_secs",
                "flows[0].driver",
                "flows[0].start_url",
                "flows[0].steps[0].selector",
                "flows[0].steps[1].status",
                "flows[0].steps[2].text",
                "flows[1].name",
            ]
        );
        let text = err.to_string();
        assert!(text.contains("unknown driver `selenium`; known: http"), "{text}");
        assert!(text.contains("`##` is not a valid CSS selector"), "{text}");
    }

    #[test]
    fn flow_schedules_and_timeouts_are_bounded() {
        let flow = |interval_secs, timeout_secs| FlowSpec {
            retries: None,
            interval_secs,
            timeout_secs,
            name: "f".into(),
            driver: "http".into(),
            start_url: "/".into(),
            steps: vec![],
        };
        let check = |flows: Vec<FlowSpec>| Limits::default().check_flows(&flows, "http://h/", &["http"]);
        assert_eq!(check(vec![flow(Some(0), Some(1))]), Ok(()));
        assert_eq!(check(vec![flow(Some(60), Some(crate::domain::MAX_TIMEOUT_SECS))]), Ok(()));
        let err = check(vec![flow(Some(2), Some(0))]).unwrap_err();
        assert_eq!(fields(err.clone()), ["flows[0].interval_secs", "flows[0].timeout_secs"]);
        let text = err.to_string();
        assert!(
            text.contains("must be between 5 and 604800 seconds, 0 for runs of the whole site only"),
            "{text}"
        );
        assert!(text.contains("must be between 1 and 600 seconds"), "{text}");
    }

    #[test]
    fn names_reject_control_characters_and_length() {
        let long = "x".repeat(101);
        assert_eq!(
            fields(Limits::default().check_site(&site(&long, "http://h/"), &[]).unwrap_err()),
            ["name"]
        );
        assert_eq!(
            fields(Limits::default().check_site(&site("a\nb", "http://h/"), &[]).unwrap_err()),
            ["name"]
        );
        assert_eq!(
            fields(Limits::default().check_site(&site("ok", "not a url"), &[]).unwrap_err()),
            ["base_url"]
        );
    }
}
