//! Each step kind in a browser (see the engine's guide in [`super`]): `open`, `fill`,
//! `select`, `click`, `submit`, `wait_for` and the `expect_*` checks.

use std::time::Duration;

use fantoccini::Locator;
use serde::Deserialize;
use serde_json::{Value, json};

use super::failure::{click_intercepted, command_failure, no_answer};
use super::script;
use super::tab::{POLL, Tab};
use crate::domain::{JobStatus, Step};
use crate::driver::rules::{collapse, radio_chosen, resolve, truthy, url_matches};
use crate::driver::{JobSpec, StepFailure};

/// The `wait_for` timeout when a step gives none.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

impl Tab<'_> {
    /// Runs one step; `status_checked_next`: the next step is an `expect_status`.
    pub(super) async fn step(
        &mut self,
        job: &JobSpec,
        step: &Step,
        status_checked_next: bool,
    ) -> Result<(), StepFailure> {
        match step {
            Step::Open { url } => {
                let url = resolve(&job.base_url, url).map_err(StepFailure::failed)?;
                self.cmd(&format!("loading {url}"), self.client.goto(url.as_str())).await?;
                self.settle(status_checked_next).await
            }
            Step::Fill { selector, value } => self.fill(selector, value).await,
            Step::Select { selector, value } => {
                let el = self.find(selector).await?;
                let field: FieldInfo = self.script("inspecting", script::FIELD_INFO, vec![json!(el)]).await?;
                if field.tag != "select" {
                    return Err(StepFailure::failed(format!(
                        "{} matched by `{selector}` is not a <select>",
                        field.desc
                    )));
                }
                self.choose(&el, &field, value).await
            }
            Step::Attach { selector, file, content, filename, content_type } => {
                self.attach(
                    selector,
                    file.as_deref(),
                    content.as_deref(),
                    filename.as_deref(),
                    content_type.as_deref(),
                )
                .await
            }
            Step::Click { selector } => {
                let el = self.find(selector).await?;
                self.watch().await?;
                self.cmd(&format!("clicking `{selector}`"), el.click()).await?;
                self.settle(status_checked_next).await
            }
            Step::Submit { selector } => {
                let target = match selector {
                    Some(s) => Some(self.find(s).await?),
                    None => None,
                };
                let args = vec![target.as_ref().map_or(Value::Null, |el| json!(el))];
                self.watch().await?;
                let plan: SubmitPlan = self.script("submitting", script::SUBMIT, args).await?;
                match (plan.error, target) {
                    (Some(e), _) => return Err(StepFailure::failed(e)),
                    (None, Some(el)) if plan.click => {
                        self.cmd("pressing the submit button", el.click()).await?;
                    }
                    _ => {}
                }
                self.settle(status_checked_next).await
            }
            Step::WaitFor { selector, timeout_ms } => {
                let wait = timeout_ms.map_or(DEFAULT_WAIT, Duration::from_millis);
                let deadline = tokio::time::Instant::now() + wait;
                loop {
                    match tokio::time::timeout(self.limit, self.client.find(Locator::Css(selector))).await {
                        Ok(Ok(_)) => return Ok(()),
                        Ok(Err(e)) if e.is_no_such_element() => {}
                        Ok(Err(e)) if e.is_invalid_selector() => {
                            return Err(StepFailure::failed(format!(
                                "`{selector}` is not a valid CSS selector"
                            )));
                        }
                        Ok(Err(e)) => return Err(command_failure(&format!("waiting for `{selector}`"), &e)),
                        Err(_) => {
                            return Err(no_answer(format!(
                                "waiting for `{selector}`: the WebDriver server did not answer"
                            )));
                        }
                    }
                    if tokio::time::Instant::now() >= deadline {
                        let state = self.doc().await?;
                        return Err(StepFailure::failed(format!(
                            "`{selector}` did not appear on {} within {} ms",
                            state.url,
                            wait.as_millis()
                        )));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
            Step::ExpectStatus { status } => {
                let state = self.doc().await?;
                match state.status {
                    Some(have) if have == *status => Ok(()),
                    Some(have) => Err(StepFailure::failed(format!(
                        "expected HTTP {status}, got {have} from {}",
                        state.url
                    ))),
                    None => Err(StepFailure::failed(format!(
                        "expected HTTP {status}, but the browser reports no status for {}",
                        state.url
                    ))),
                }
            }
            Step::ExpectText { text } => {
                let have: String = self.script("reading the page text", script::TEXT, Vec::new()).await?;
                let (have, want) = (collapse(&have), collapse(text));
                if have.contains(&want) {
                    Ok(())
                } else {
                    let state = self.doc().await?;
                    let title = if state.title.is_empty() {
                        String::new()
                    } else {
                        format!(", title \"{}\"", state.title)
                    };
                    let status =
                        state.status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| "no status".to_owned());
                    Err(StepFailure::failed(format!(
                        "text \"{want}\" not found on {} ({status}{title})",
                        state.url
                    )))
                }
            }
            Step::ExpectSelector { selector } => self.find(selector).await.map(|_| ()),
            Step::ExpectUrl { url } => {
                let want = resolve(&job.base_url, url).map_err(StepFailure::failed)?;
                let have = self.cmd("reading the URL", self.client.current_url()).await?;
                if url_matches(&have, &want) {
                    Ok(())
                } else {
                    Err(StepFailure::failed(format!("expected to be on {want}, but on {have}")))
                }
            }
        }
    }

    /// `attach`: types the file's path into the file input, as WebDriver has browsers take
    /// files. The browser must be on this machine: a file that is not named as it is in
    /// `--files-dir` (inline content, another `filename`) is written to the session's profile
    /// folder first. The browser picks the media type from the name, so `content_type` is
    /// not used.
    async fn attach(
        &mut self,
        selector: &str,
        file: Option<&str>,
        content: Option<&str>,
        filename: Option<&str>,
        content_type: Option<&str>,
    ) -> Result<(), StepFailure> {
        let Some(scratch) = self.scratch.clone() else {
            return Err(StepFailure::new(
                JobStatus::Error,
                "`attach` in the webdriver engine needs the browser on this machine (a chromedriver on \
                 loopback): a remote --webdriver-url's browser cannot read the runner's files"
                    .to_owned(),
            ));
        };
        let path = match (file, filename) {
            (Some(relative), None) => {
                self.files.resolve(relative).map_err(|e| StepFailure::new(JobStatus::Error, e))?
            }
            _ => {
                let upload = self
                    .files
                    .upload(file, content, filename, content_type)
                    .map_err(|e| StepFailure::new(JobStatus::Error, e))?;
                // Only the last component of the name: it must not lead out of the folder.
                let name = std::path::Path::new(&upload.filename)
                    .file_name()
                    .map_or_else(|| "upload".into(), std::ffi::OsStr::to_os_string);
                let dir = scratch.join(format!("{}", self.uploads));
                self.uploads += 1;
                let written = std::fs::create_dir_all(&dir)
                    .and_then(|()| std::fs::write(dir.join(&name), &upload.bytes));
                written.map_err(|e| {
                    StepFailure::new(
                        JobStatus::Error,
                        format!("cannot write the upload for the browser: {e}"),
                    )
                })?;
                dir.join(name)
            }
        };
        let el = self.find(selector).await?;
        let field: FieldInfo = self.script("inspecting", script::FIELD_INFO, vec![json!(el)]).await?;
        if (field.tag.as_str(), field.kind.as_str()) != ("input", "file") {
            return Err(StepFailure::failed(format!(
                "{} matched by `{selector}` is not an <input type=\"file\">",
                field.desc
            )));
        }
        let text = path.display().to_string();
        self.cmd(&format!("attaching a file to {}", field.desc), el.send_keys(&text)).await
    }

    async fn fill(&mut self, selector: &str, value: &str) -> Result<(), StepFailure> {
        let el = self.find(selector).await?;
        let field: FieldInfo = self.script("inspecting", script::FIELD_INFO, vec![json!(el)]).await?;
        let what = format!("filling {}", field.desc);
        match (field.tag.as_str(), field.kind.as_str()) {
            ("select", _) => self.choose(&el, &field, value).await,
            ("input", "checkbox" | "radio") => {
                let want = if field.kind == "checkbox" {
                    truthy(value)
                } else {
                    radio_chosen(value, field.value.as_deref())
                };
                if field.checked == want {
                    return Ok(());
                }
                // A click runs the page's handlers; a radio cannot be unchecked by one, and a
                // box hidden behind a styled label cannot be clicked: set those by script.
                let clicked =
                    if want { tokio::time::timeout(self.limit, el.click()).await } else { Ok(Ok(())) };
                match clicked {
                    Ok(Ok(())) if want => Ok(()),
                    Ok(Err(e)) if !e.is_element_not_interactable() && !click_intercepted(&e) => {
                        Err(command_failure(&what, &e))
                    }
                    _ => self
                        .script::<Value>(&what, script::SET_CHECKED, vec![json!(el), json!(want)])
                        .await
                        .map(|_| ()),
                }
            }
            ("input", "submit" | "image" | "button" | "reset" | "file") => {
                Err(StepFailure::failed(format!("{} cannot be filled", field.desc)))
            }
            ("textarea", _)
            | ("input", "text" | "email" | "password" | "search" | "tel" | "url" | "number")
                if typeable(value, field.tag == "textarea") =>
            {
                self.cmd(&what, el.clear()).await?;
                if !value.is_empty() {
                    self.cmd(&what, el.send_keys(value)).await?;
                }
                Ok(())
            }
            ("textarea" | "input", _) => self
                .script::<Value>(&what, script::SET_VALUE, vec![json!(el), json!(value)])
                .await
                .map(|_| ()),
            _ => Err(StepFailure::failed(format!(
                "{} matched by `{selector}` is not a form field",
                field.desc
            ))),
        }
    }

    /// Chooses an option of a `<select>` by value, else by text.
    async fn choose(
        &self,
        el: &fantoccini::elements::Element,
        field: &FieldInfo,
        value: &str,
    ) -> Result<(), StepFailure> {
        let chosen: ChooseResult = self
            .script(&format!("choosing in {}", field.desc), script::CHOOSE, vec![json!(el), json!(value)])
            .await?;
        match chosen.error.as_deref() {
            None => Ok(()),
            Some("disabled") => Err(StepFailure::failed(format!("option `{value}` is disabled"))),
            Some(_) => Err(StepFailure::failed(format!(
                "{} has no option `{value}` (options: {})",
                field.desc,
                chosen.known.join(", ")
            ))),
        }
    }
}

/// What [`script::FIELD_INFO`] reports of an element.
#[derive(Debug, Deserialize)]
struct FieldInfo {
    tag: String,
    /// An input's `type`, lowercase; empty for other elements.
    kind: String,
    checked: bool,
    value: Option<String>,
    desc: String,
}

/// What [`script::CHOOSE`] answers: no error, `disabled`, or `missing` with the first option
/// values.
#[derive(Debug, Deserialize)]
struct ChooseResult {
    error: Option<String>,
    #[serde(default)]
    known: Vec<String>,
}

/// What [`script::SUBMIT`] answers: an error, or whether the engine must click the submit
/// button itself.
#[derive(Debug, Deserialize)]
struct SubmitPlan {
    error: Option<String>,
    #[serde(default)]
    click: bool,
}

/// Whether `value` can be typed: newlines would press Enter in an input (submitting its
/// form), and WebDriver reads characters of the private-use block as special keys.
fn typeable(value: &str, textarea: bool) -> bool {
    !value.chars().any(|c| ('\u{E000}'..='\u{F8FF}').contains(&c) || (!textarea && (c == '\n' || c == '\r')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_avoids_enter_and_special_keys() {
        assert!(typeable("Ada & <Bob>", false));
        assert!(!typeable("two\nlines", false));
        assert!(typeable("two\nlines", true));
        assert!(!typeable("key \u{E007}", true));
    }
}
