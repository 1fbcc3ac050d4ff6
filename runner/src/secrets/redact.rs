//! Redaction: the secret values a job resolved, replaced by `***` in whatever the job reports
//! (failure reasons, log lines), also in the encodings a URL or a form gives them.

use std::fmt;

/// What stands in for a secret value.
pub const MASK: &str = "***";

/// The secret values of one job, with their encoded forms, longest first.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} values)", self.needles.len())
    }
}

impl Redactor {
    /// A redactor of `values`: each as is, percent-encoded (URL paths and queries) and
    /// form-encoded (`+` for spaces). Empty values are ignored.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut needles: Vec<String> = Vec::new();
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            let percent = form.replace('+', "%20");
            for needle in [value.to_owned(), form, percent] {
                if !needles.contains(&needle) {
                    needles.push(needle);
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        Self { needles }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every secret value replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_their_encodings_are_masked() {
        let r = Redactor::new(["p@ss word", "", "k1"]);
        assert_eq!(r.redact("typed p@ss word then k1"), "typed *** then ***");
        assert_eq!(r.redact("at /x?pw=p%40ss+word&k=k1"), "at /x?pw=***&k=***");
        assert_eq!(r.redact("at /p%40ss%20word"), "at /***");
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(Redactor::new([""]).is_empty());
        assert_eq!(format!("{r:?}"), "Redactor(4 values)");
    }
}
