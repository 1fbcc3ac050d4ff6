//! How a failed WebDriver command fails its step: worded for people, with the status it gives
//! the job and whether the page is still there to screenshot.

use fantoccini::error::{CmdError, ErrorStatus};

use crate::domain::JobStatus;
use crate::driver::StepFailure;

/// A command error, worded for people, with the status it gives the job.
pub(super) fn command_failure(what: &str, e: &CmdError) -> StepFailure {
    match e {
        CmdError::Standard(w) => {
            let message = first_line(&w.message);
            if e.is_timeout() {
                StepFailure::new(JobStatus::TimedOut, format!("{what}: {message}"))
            } else if message.contains("net::ERR_") {
                // The site could not be reached: the http engine's `error`.
                StepFailure::new(JobStatus::Error, format!("{what}: {message}"))
            } else if e.is_unexpected_alert_open() {
                StepFailure::failed(format!("{what}: the page opened a dialog ({message})"))
            } else if e.is_invalid_session_id() || e.is_session_not_created() || e.is_no_such_window() {
                StepFailure::new(JobStatus::Error, format!("{what}: the browser session ended ({message})"))
                    .page_lost()
            } else {
                StepFailure::failed(format!("{what}: {message}"))
            }
        }
        other => StepFailure::new(
            JobStatus::Error,
            format!("{what}: lost the WebDriver server ({})", first_line(&other.to_string())),
        )
        .page_lost(),
    }
}

/// The server did not answer a command in time: the browser is hung, its page lost.
pub(super) fn no_answer(message: String) -> StepFailure {
    StepFailure::new(JobStatus::TimedOut, message).page_lost()
}

/// Whether a click landed on another element (an overlay, a styled label).
pub(super) fn click_intercepted(e: &CmdError) -> bool {
    matches!(e, CmdError::Standard(w) if w.error == ErrorStatus::ElementClickIntercepted)
}

/// The first line of a WebDriver message (chromedriver appends session info and stack
/// traces).
pub(super) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_their_first_line() {
        assert_eq!(first_line("  no such element\n  (Session info: chrome=156)\n"), "no such element");
        assert_eq!(first_line(""), "");
    }
}
