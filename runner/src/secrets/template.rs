//! References in flows: `${secrets.NAME}` and `${vars.NAME}`, in any step's strings and in the
//! start URL, replaced at run time. Any other `${...}` is left as written.

use std::collections::HashMap;

use crate::domain::{FlowSpec, Step};

/// What a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceKind {
    /// `${secrets.NAME}`: sealed in the store, redacted wherever it could show.
    Secret,
    /// `${vars.NAME}`: plain text.
    Var,
}

/// One reference found in a flow.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Secret or variable.
    pub kind: ReferenceKind,
    /// Its name.
    pub name: String,
}

/// A reference that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No secret of that name is set.
    #[error(
        "the flow uses ${{secrets.{0}}}, which is not set: set it with `PUT /api/secrets/{0}`, the dashboard's Secrets page, or `runner secret set {0}`"
    )]
    UnknownSecret(String),
    /// No variable of that name is set.
    #[error(
        "the flow uses ${{vars.{0}}}, which is not set: set it with `PUT /api/vars/{0}` or `runner var set {0}`"
    )]
    UnknownVar(String),
}

/// Every reference in `text`, in order.
fn scan(text: &str) -> Vec<(std::ops::Range<usize>, Reference)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = text.get(from..).and_then(|t| t.find("${")).map(|i| i + from) {
        let rest = &text[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let inner = &rest[..end];
        let parsed = inner
            .strip_prefix("secrets.")
            .map(|n| (ReferenceKind::Secret, n))
            .or_else(|| inner.strip_prefix("vars.").map(|n| (ReferenceKind::Var, n)));
        match parsed {
            Some((kind, name)) if super::valid_name(name) => {
                let range = start..start + 2 + end + 1;
                from = range.end;
                found.push((range, Reference { kind, name: name.to_owned() }));
            }
            _ => from = start + 2,
        }
    }
    found
}

/// Every string field of a flow that may hold a reference.
fn strings_mut(flow: &mut FlowSpec) -> Vec<&mut String> {
    let mut out = vec![&mut flow.start_url];
    for step in &mut flow.steps {
        match step {
            Step::Open { url } | Step::ExpectUrl { url } => out.push(url),
            Step::Fill { selector, value } | Step::Select { selector, value } => {
                out.push(selector);
                out.push(value);
            }
            Step::Click { selector } | Step::ExpectSelector { selector } | Step::WaitFor { selector, .. } => {
                out.push(selector);
            }
            Step::Submit { selector } => out.extend(selector.as_mut()),
            Step::Attach { selector, file, content, filename, content_type } => {
                out.push(selector);
                out.extend([file, content, filename, content_type].into_iter().flatten());
            }
            Step::ExpectText { text } => out.push(text),
            Step::ExpectStatus { .. } => {}
        }
    }
    out
}

/// Every reference a flow makes, each once.
pub fn references(flow: &FlowSpec) -> Vec<Reference> {
    let mut flow = flow.clone();
    let mut out: Vec<Reference> = Vec::new();
    for s in strings_mut(&mut flow) {
        for (_, r) in scan(s) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// `flow` with every reference replaced by its value from `secrets` or `vars`.
///
/// # Errors
///
/// [`ResolveError`] naming the first reference that has no value.
pub fn resolve_flow(
    flow: &FlowSpec,
    secrets: &HashMap<String, String>,
    vars: &HashMap<String, String>,
) -> Result<FlowSpec, ResolveError> {
    let mut flow = flow.clone();
    for s in strings_mut(&mut flow) {
        let found = scan(s);
        if found.is_empty() {
            continue;
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for (range, r) in found {
            out.push_str(&s[last..range.start]);
            let value = match r.kind {
                ReferenceKind::Secret => {
                    secrets.get(&r.name).ok_or_else(|| ResolveError::UnknownSecret(r.name.clone()))?
                }
                ReferenceKind::Var => {
                    vars.get(&r.name).ok_or_else(|| ResolveError::UnknownVar(r.name.clone()))?
                }
            };
            out.push_str(value);
            last = range.end;
        }
        out.push_str(&s[last..]);
        *s = out;
    }
    Ok(flow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> FlowSpec {
        FlowSpec {
            name: "login".into(),
            driver: "http".into(),
            start_url: "${vars.BASE}/login?k=${secrets.KEY}".into(),
            steps: vec![
                Step::Fill { selector: "#pw".into(), value: "${secrets.PW}".into() },
                Step::ExpectText { text: "costs ${5} ${other.X} ${secrets.bad.name} ${secrets.PW}".into() },
            ],
            retries: None,
            interval_secs: None,
            timeout_secs: None,
        }
    }

    #[test]
    fn references_are_found_once() {
        let refs = references(&flow());
        let names: Vec<_> = refs.iter().map(|r| (r.kind, r.name.as_str())).collect();
        assert_eq!(
            names,
            [(ReferenceKind::Var, "BASE"), (ReferenceKind::Secret, "KEY"), (ReferenceKind::Secret, "PW")]
        );
    }

    #[test]
    fn resolution_replaces_only_references() {
        let secrets: HashMap<_, _> =
            [("KEY".to_owned(), "k1".to_owned()), ("PW".to_owned(), "p w".to_owned())].into();
        let vars: HashMap<_, _> = [("BASE".to_owned(), "http://127.0.0.1:9".to_owned())].into();
        let done = resolve_flow(&flow(), &secrets, &vars).unwrap();
        assert_eq!(done.start_url, "http://127.0.0.1:9/login?k=k1");
        assert_eq!(done.steps[0], Step::Fill { selector: "#pw".into(), value: "p w".into() });
        assert_eq!(
            done.steps[1],
            Step::ExpectText { text: "costs ${5} ${other.X} ${secrets.bad.name} p w".into() }
        );
        let err = resolve_flow(&flow(), &HashMap::new(), &vars).unwrap_err();
        assert_eq!(err, ResolveError::UnknownSecret("KEY".into()));
        assert!(err.to_string().contains("runner secret set KEY"), "{err}");
    }
}

/// Whether a CSS selector names a password field, as far as its text tells: `type=password`,
/// or a name or id with `password`, `passwd` or `pwd` in it.
pub fn is_password_selector(selector: &str) -> bool {
    let s = selector.to_ascii_lowercase();
    ["password", "passwd", "pwd"].iter().any(|word| s.contains(word))
}

/// The (flow, step) indexes of `fill` steps that type a plain-text value into a password
/// field: values that should be `${secrets.NAME}` references.
pub fn plain_passwords(flows: &[FlowSpec]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for (f, flow) in flows.iter().enumerate() {
        for (i, step) in flow.steps.iter().enumerate() {
            if let Step::Fill { selector, value } = step
                && is_password_selector(selector)
                && !value.is_empty()
                && !scan(value).iter().any(|(_, r)| r.kind == ReferenceKind::Secret)
            {
                found.push((f, i));
            }
        }
    }
    found
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn plain_passwords_are_found() {
        let flow = |value: &str, selector: &str| FlowSpec {
            name: "f".into(),
            driver: "http".into(),
            start_url: "/".into(),
            steps: vec![
                Step::Fill { selector: "#user".into(), value: "ada".into() },
                Step::Fill { selector: selector.into(), value: value.into() },
            ],
            retries: None,
            interval_secs: None,
            timeout_secs: None,
        };
        assert_eq!(plain_passwords(&[flow("hunter2", "input[type=password]")]), [(0, 1)]);
        assert_eq!(plain_passwords(&[flow("x", "#user"), flow("hunter2", "[name=PWD]")]), [(1, 1)]);
        assert!(plain_passwords(&[flow("${secrets.PW}", "#password")]).is_empty());
        assert!(plain_passwords(&[flow("", "#password")]).is_empty());
    }
}
