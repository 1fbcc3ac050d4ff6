//! What a push, add or delete sends, and how the gateway's answer is judged: shared by the
//! async and the blocking pusher.

use std::time::Duration;

use promkit::encode::encode_families;
use promkit::registry::Gatherers;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use crate::{PushError, PushFormat};

/// The three requests of the push API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// PUT: replace the whole group.
    Push,
    /// POST: replace only the pushed families in the group.
    Add,
    /// DELETE: remove the group.
    Delete,
}

impl Op {
    pub(crate) fn method(self) -> reqwest::Method {
        match self {
            Op::Push => reqwest::Method::PUT,
            Op::Add => reqwest::Method::POST,
            Op::Delete => reqwest::Method::DELETE,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Push => "PUT",
            Op::Add => "POST",
            Op::Delete => "DELETE",
        }
    }

    /// Go's rule: a push or add succeeded on 200 (Pushgateway 0.10 and later, with its
    /// consistency check) or 202 (older ones, or with the check off); a delete only on 202.
    pub(crate) fn succeeded(self, status: u16) -> bool {
        match self {
            Op::Push | Op::Add => status == 200 || status == 202,
            Op::Delete => status == 202,
        }
    }
}

/// The longest response body kept in [`PushError::Status`]: a gateway's message is one line,
/// a wrong URL may answer with a whole page.
pub(crate) const MAX_ERROR_BODY: usize = 8 * 1024;

/// Everything about a push but the HTTP client: where, with which headers, and what.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) url: reqwest::Url,
    /// Custom headers and authorization, without Content-Type.
    pub(crate) headers: HeaderMap,
    /// Applied to each request; `None` keeps the client's own timeout.
    pub(crate) timeout: Option<Duration>,
    /// `job` and the grouping label names: pushed series must not carry them.
    pub(crate) reserved: Vec<String>,
    pub(crate) sources: Gatherers,
    /// What the body is encoded in.
    pub(crate) format: PushFormat,
}

impl Target {
    /// Gathers every source, refuses series that carry a grouping label, and encodes the rest
    /// in the pusher's format.
    pub(crate) fn body(&self) -> Result<Vec<u8>, PushError> {
        let families = self.sources.gather()?;
        for family in &families {
            let conflict = family
                .samples
                .iter()
                .flat_map(|s| &s.labels)
                .find(|(name, _)| self.reserved.iter().any(|r| r == name));
            if let Some((label, _)) = conflict {
                return Err(PushError::LabelConflict { family: family.name.clone(), label: label.clone() });
            }
        }
        let mut out = Vec::new();
        encode_families(&families, self.format.encoding(), &mut out);
        Ok(out)
    }

    /// The request's headers: the custom ones, then Content-Type for a body.
    pub(crate) fn headers(&self, op: Op) -> HeaderMap {
        let mut headers = self.headers.clone();
        if op != Op::Delete {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.format.content_type()));
        }
        headers
    }

    /// The error for a failure status, with the gateway's message.
    pub(crate) fn refused(&self, op: Op, status: u16, mut body: String) -> PushError {
        if body.len() > MAX_ERROR_BODY {
            let mut end = MAX_ERROR_BODY;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
            body.push('…');
        }
        PushError::Status { method: op.name(), status, body, url: self.url.to_string() }
    }

    pub(crate) fn transport(&self, op: Op, source: reqwest::Error) -> PushError {
        PushError::Transport { method: op.name(), url: self.url.to_string(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_status_rule() {
        for op in [Op::Push, Op::Add] {
            assert!(op.succeeded(200) && op.succeeded(202), "{op:?}");
            for status in [201, 204, 301, 400, 404, 500] {
                assert!(!op.succeeded(status), "{op:?} {status}");
            }
        }
        assert!(Op::Delete.succeeded(202));
        for status in [200, 204, 404] {
            assert!(!Op::Delete.succeeded(status), "{status}");
        }
    }

    #[test]
    fn long_error_bodies_are_cut_on_a_char_boundary() {
        let target = Target {
            url: reqwest::Url::parse("http://gw/metrics/job/j").unwrap(),
            headers: HeaderMap::new(),
            timeout: None,
            reserved: vec!["job".into()],
            sources: Gatherers::default(),
            format: PushFormat::default(),
        };
        let body = format!("x{}", "é".repeat(MAX_ERROR_BODY));
        let PushError::Status { body, status, method, url } = target.refused(Op::Add, 502, body) else {
            panic!()
        };
        assert_eq!((status, method, url.as_str()), (502, "POST", "http://gw/metrics/job/j"));
        assert_eq!(body.len(), MAX_ERROR_BODY - 1 + "…".len());
        assert!(body.ends_with("é…"));
    }
}
