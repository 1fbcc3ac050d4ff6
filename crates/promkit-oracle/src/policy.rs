//! What an oracle does when its program is not installed: skip locally, fail under CI.

/// Whether this is a CI run: the environment variable `CI` is `true` or `1`.
///
/// Under CI a missing oracle program panics instead of skipping the test.
pub fn ci() -> bool {
    is_ci(std::env::var("CI").ok().as_deref())
}

fn is_ci(value: Option<&str>) -> bool {
    matches!(value, Some("true" | "1"))
}

/// Reports that `tool` is missing: a panic under CI, else a `SKIP:` line on stderr and
/// `None`, which the oracle hands on to the test.
///
/// # Panics
///
/// Under CI, always.
pub(crate) fn missing<T>(tool: &str, how: &str) -> Option<T> {
    if ci() {
        panic!("{tool} not found ({how}); CI needs every oracle: run scripts/install-deps");
    }
    eprintln!("SKIP: {tool} not found ({how})");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_true_or_1_only() {
        assert!(is_ci(Some("true")));
        assert!(is_ci(Some("1")));
        assert!(!is_ci(None));
        assert!(!is_ci(Some("")));
        assert!(!is_ci(Some("false")));
        assert!(!is_ci(Some("0")));
        assert!(!is_ci(Some("TRUE")));
    }
}
