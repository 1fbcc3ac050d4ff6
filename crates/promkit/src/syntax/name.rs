//! Metric and label name rules: the legacy character sets every scraper accepts, and a hint
//! naming the fix when a name breaks them, so errors say what to type instead.

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`, the metric names any Prometheus can
/// scrape without UTF-8 escaping. (`:` is meant for recording rules but legal here.)
pub(crate) fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with `__`, which
/// Prometheus reserves for its own labels (`__name__`, `__address__`, …).
pub(crate) fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    !name.starts_with("__")
        && matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A short hint naming the fix for a name the matching `is_valid_*` rejected (`metric` picks
/// the metric rules, which also allow `:`), for error messages such as
/// "`http-hits`: use `_`, not `-`". Empty for a valid name.
pub(crate) fn name_fix_hint(name: &str, metric: bool) -> String {
    let Some(first) = name.chars().next() else {
        return "a name cannot be empty".into();
    };
    if first.is_ascii_digit() {
        return "a name cannot start with a digit".into();
    }
    if !metric && name.starts_with("__") {
        return "names starting with `__` are reserved for Prometheus".into();
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || metric && c == ':';
    match name.chars().find(|&c| !allowed(c)) {
        None => String::new(),
        // The usual mistake, from other systems' naming conventions.
        Some('-') => "use `_`, not `-`".into(),
        Some(c) => {
            let allowed = if metric { "letters, digits, `_` and `:`" } else { "letters, digits and `_`" };
            // Invisible characters are shown escaped, or the message would read "`` ``".
            if c.is_whitespace() || c.is_control() {
                format!("{c:?} is not allowed; use {allowed}")
            } else {
                format!("`{c}` is not allowed; use {allowed}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The regexes read literally, written independently of the byte-matching code above.
    fn reference(name: &str, metric: bool) -> bool {
        const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
        const DIGITS: &str = "0123456789";
        let extra = if metric { ":" } else { "" };
        let first_ok = |c: char| LETTERS.contains(c) || extra.contains(c);
        let rest_ok = |c: char| first_ok(c) || DIGITS.contains(c);
        let mut chars = name.chars();
        let regex = chars.next().is_some_and(first_ok) && chars.all(rest_ok);
        regex && (metric || !name.starts_with("__"))
    }

    #[test]
    fn metric_names() {
        for name in [
            "http_requests_total",
            "a",
            "_",
            ":",
            "job:http_requests:rate5m",
            "_private",
            "__double_is_fine_for_metrics",
            "X9",
            "up",
        ] {
            assert!(is_valid_metric_name(name), "{name:?}");
            assert_eq!(name_fix_hint(name, true), "", "{name:?}");
        }
        for (name, hint) in [
            ("", "a name cannot be empty"),
            ("http-hits", "use `_`, not `-`"),
            ("2xx", "a name cannot start with a digit"),
            ("9", "a name cannot start with a digit"),
            ("http.hits", "`.` is not allowed; use letters, digits, `_` and `:`"),
            ("http hits", "' ' is not allowed; use letters, digits, `_` and `:`"),
            ("tab\there", "'\\t' is not allowed; use letters, digits, `_` and `:`"),
            ("größe", "`ö` is not allowed; use letters, digits, `_` and `:`"),
            ("latency_µs", "`µ` is not allowed; use letters, digits, `_` and `:`"),
            ("a{b}", "`{` is not allowed; use letters, digits, `_` and `:`"),
        ] {
            assert!(!is_valid_metric_name(name), "{name:?}");
            assert_eq!(name_fix_hint(name, true), hint, "{name:?}");
        }
    }

    #[test]
    fn label_names() {
        for name in ["method", "a", "_", "_private", "status_code", "X9", "le", "quantile"] {
            assert!(is_valid_label_name(name), "{name:?}");
            assert_eq!(name_fix_hint(name, false), "", "{name:?}");
        }
        for (name, hint) in [
            ("", "a name cannot be empty"),
            ("__name__", "names starting with `__` are reserved for Prometheus"),
            ("__", "names starting with `__` are reserved for Prometheus"),
            ("__x", "names starting with `__` are reserved for Prometheus"),
            ("status-code", "use `_`, not `-`"),
            ("2xx", "a name cannot start with a digit"),
            ("job:name", "`:` is not allowed; use letters, digits and `_`"),
            (":", "`:` is not allowed; use letters, digits and `_`"),
            ("k8s.pod", "`.` is not allowed; use letters, digits and `_`"),
            ("名前", "`名` is not allowed; use letters, digits and `_`"),
        ] {
            assert!(!is_valid_label_name(name), "{name:?}");
            assert_eq!(name_fix_hint(name, false), hint, "{name:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn validators_match_the_regex(name in "[a-zA-Z0-9_:\\-. é]{0,6}|\\PC{0,6}") {
            prop_assert_eq!(is_valid_metric_name(&name), reference(&name, true));
            prop_assert_eq!(is_valid_label_name(&name), reference(&name, false));
        }

        #[test]
        fn every_rejected_name_gets_a_hint(name in "[a-zA-Z0-9_:\\-. é]{0,6}|\\PC{0,6}") {
            for metric in [true, false] {
                let valid = if metric { is_valid_metric_name(&name) } else { is_valid_label_name(&name) };
                prop_assert_eq!(name_fix_hint(&name, metric).is_empty(), valid, "{:?}", name);
            }
        }
    }
}
