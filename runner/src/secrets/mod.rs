//! Secrets and variables: values a flow names as `${secrets.NAME}` or `${vars.NAME}` instead of
//! holding them.
//!
//! - [`key`]: the runner's secret key (AES-256-GCM) and sealing; secrets are stored sealed.
//! - [`template`]: finding references in step values and URLs, and replacing them at run time.
//! - [`redact`]: the [`Redactor`] that turns any resolved secret value back into `***` in
//!   failure reasons and log lines.
//!
//! A secret is resolved only by the worker pool, just before a driver runs a job, from the
//! store; its value is never returned by a read, written to a job row, or exported: flows and
//! job rows keep the references.

pub mod cli;
pub mod key;
pub mod redact;
pub mod template;

pub use key::{KeyError, SealError, SecretKey};
pub use redact::Redactor;
pub use template::{
    Reference, ReferenceKind, ResolveError, is_password_selector, plain_passwords, references, resolve_flow,
};

/// Whether `name` may name a secret or variable: 1 to 64 of `A-Z a-z 0-9 _ -`, so that a
/// reference is unambiguous in any URL or value.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("DB_PASSWORD"));
        assert!(valid_name("api-key-2"));
        assert!(!valid_name(""));
        assert!(!valid_name("a.b"));
        assert!(!valid_name("a}"));
        assert!(!valid_name(&"x".repeat(65)));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}
