//! The push error: what was refused before sending, and what the gateway answered.

use promkit::{CollectError, RegisterError};

/// Why a [`Pusher`](crate::Pusher) could not be built, or a push or delete failed.
///
/// The variants up to [`Gather`](Self::Gather) are found before any request is sent; the
/// last three come from the network or the Pushgateway.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The Pushgateway URL cannot be used.
    #[error("invalid Pushgateway URL `{url}`: {why}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong and how to fix it.
        why: String,
    },
    /// The job name cannot be used.
    #[error("invalid job name {job:?}: {why}")]
    InvalidJob {
        /// The job name given.
        job: String,
        /// What is wrong and how to fix it.
        why: String,
    },
    /// A grouping label name cannot be used.
    #[error("invalid grouping label `{name}`: {why}")]
    InvalidGroupingLabel {
        /// The label name given.
        name: String,
        /// What is wrong and how to fix it.
        why: String,
    },
    /// A custom header cannot be sent.
    #[error("invalid header `{name}`: {why}")]
    InvalidHeader {
        /// The header name given.
        name: String,
        /// What is wrong and how to fix it.
        why: String,
    },
    /// A collector given to [`PusherBuilder::collector`](crate::PusherBuilder::collector)
    /// was refused by the pusher's private registry.
    #[error("collector refused: {0}")]
    Register(#[from] RegisterError),
    /// A pushed series already has the `job` label or a grouping label, which the
    /// Pushgateway would silently overwrite with the grouping key's value.
    #[error(
        "pushed metric `{family}` already has label `{label}`; remove it from the metric, or \
         don't push that metric (the Pushgateway sets `{label}` from the grouping key)"
    )]
    LabelConflict {
        /// The family whose series carries the label.
        family: String,
        /// The label: `job` or a grouping label name.
        label: String,
    },
    /// Gathering the registries failed (a collector failed, or two registries disagree).
    #[error("cannot gather the metrics to push: {0}")]
    Gather(#[from] CollectError),
    /// The HTTP client could not be created.
    #[error("cannot create the HTTP client: {}", causes(.0))]
    Client(#[source] reqwest::Error),
    /// The request failed before the gateway answered: no connection, a timeout, a broken
    /// connection.
    #[error("{method} {url} failed: {}; check the URL and that the Pushgateway is up", causes(source))]
    Transport {
        /// `PUT`, `POST` or `DELETE`.
        method: &'static str,
        /// The full URL of the request.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The gateway answered with a status that means failure: anything but 200 or 202 for
    /// a push or add, anything but 202 for a delete (the rule of Go's `push` package).
    #[error("{method} {url} answered {status}{}; {}", quoted(body), status_hint(*status))]
    Status {
        /// `PUT`, `POST` or `DELETE`.
        method: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The gateway's response body (its error message), at most 8 KiB.
        body: String,
        /// The full URL of the request.
        url: String,
    },
}

/// The error and its causes, `: `-separated: reqwest's own message names only the URL, the
/// reason ("Connection refused") is in its sources.
fn causes(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn quoted(body: &str) -> String {
    let body = body.trim_end();
    if body.is_empty() { String::new() } else { format!(": {body}") }
}

/// What to do about a failure status.
fn status_hint(status: u16) -> &'static str {
    match status {
        400 => {
            "the gateway refused the metrics: they are invalid or inconsistent with what it already holds (see its message)"
        }
        401 | 403 => "the gateway refused the credentials: check basic_auth and the headers",
        404 => {
            "no Pushgateway push API at this URL: give the gateway's base URL (with its route prefix, if any)"
        }
        405 => "the gateway does not allow this method here: check the base URL",
        500..=599 => "the gateway failed: retry later, and check its log",
        _ => "a Pushgateway answers 200 or 202 to a push and 202 to a delete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_carry_body_and_hint() {
        let e = PushError::Status {
            method: "PUT",
            status: 400,
            body: "pushed metrics are invalid\n".into(),
            url: "http://gw/metrics/job/j".into(),
        };
        assert_eq!(
            e.to_string(),
            "PUT http://gw/metrics/job/j answered 400: pushed metrics are invalid; the gateway refused \
             the metrics: they are invalid or inconsistent with what it already holds (see its message)"
        );
        let e = PushError::Status { method: "DELETE", status: 200, body: String::new(), url: "u".into() };
        assert_eq!(
            e.to_string(),
            "DELETE u answered 200; a Pushgateway answers 200 or 202 to a push and 202 to a delete"
        );
    }

    #[test]
    fn label_conflicts_say_what_to_do() {
        let e = PushError::LabelConflict { family: "rows_total".into(), label: "job".into() };
        assert_eq!(
            e.to_string(),
            "pushed metric `rows_total` already has label `job`; remove it from the metric, or don't \
             push that metric (the Pushgateway sets `job` from the grouping key)"
        );
    }
}
