//! How names the `metrics` facade allows become names Prometheus allows.
//!
//! The rules are metrics-exporter-prometheus' (`formatting::sanitize_metric_name` and
//! `sanitize_label_key`), so a switch from that exporter keeps every series name, plus two
//! that promkit's name checks need (an empty name, a reserved label).
//!
//! | rule | facade name | exported |
//! |---|---|---|
//! | a metric name character outside `[a-zA-Z0-9_:]` becomes `_` (one per character) | `http.requests-total` | `http_requests_total` |
//! | a metric name starting with a digit: that digit becomes `_` | `5xx_total` | `_xx_total` |
//! | a label name character outside `[a-zA-Z0-9_]` becomes `_` (`:` too) | `http.method` | `http_method` |
//! | a label name starting with a digit: that digit becomes `_` | `1st` | `_st` |
//! | an empty metric or label name becomes `_` (promkit only) | `""` | `_` |
//! | a label name Prometheus reserves (`__` prefix; `le` on a histogram, `quantile` on a summary) gets the prefix `exported_`, as Prometheus does for clashing target labels (promkit only) | `__name`, `le` | `exported___name`, `exported_le` |
//!
//! Label values and help texts are kept as given: promkit escapes them when it writes.

use std::borrow::Cow;

/// The Prometheus metric name for a facade name.
///
/// ```
/// use promkit_metrics::names::metric_name;
/// assert_eq!(metric_name("http.requests-total"), "http_requests_total");
/// assert_eq!(metric_name("5xx_total"), "_xx_total");
/// assert_eq!(metric_name("ok:rate_total"), "ok:rate_total");
/// ```
pub fn metric_name(name: &str) -> Cow<'_, str> {
    sanitize(
        name,
        |c| c.is_ascii_alphabetic() || c == '_' || c == ':',
        |c| c.is_ascii_alphanumeric() || c == '_' || c == ':',
    )
}

/// The Prometheus label name for a facade label key.
///
/// ```
/// use promkit_metrics::names::label_name;
/// assert_eq!(label_name("http.method"), "http_method");
/// assert_eq!(label_name("1st"), "_st");
/// assert_eq!(label_name("__name"), "exported___name");
/// ```
pub fn label_name(key: &str) -> Cow<'_, str> {
    let name =
        sanitize(key, |c| c.is_ascii_alphabetic() || c == '_', |c| c.is_ascii_alphanumeric() || c == '_');
    if name.starts_with("__") { Cow::Owned(format!("exported_{name}")) } else { name }
}

/// As [`label_name`], and also renames the label a histogram (`le`) or summary (`quantile`)
/// writes itself.
pub(crate) fn label_name_for<'a>(key: &'a str, reserved: Option<&str>) -> Cow<'a, str> {
    let name = label_name(key);
    if reserved == Some(&*name) { Cow::Owned(format!("exported_{name}")) } else { name }
}

fn sanitize(name: &str, first: impl Fn(char) -> bool, rest: impl Fn(char) -> bool) -> Cow<'_, str> {
    if name.is_empty() {
        return Cow::Borrowed("_");
    }
    let ok = |(i, c): (usize, char)| if i == 0 { first(c) } else { rest(c) };
    if name.chars().enumerate().all(ok) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(name.chars().enumerate().map(|(i, c)| if ok((i, c)) { c } else { '_' }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_as_metrics_exporter_prometheus_maps_them() {
        for (given, want) in [
            ("*", "_"),
            ("\"", "_"),
            ("foo_bar", "foo_bar"),
            ("foo1_bar", "foo1_bar"),
            ("1foobar", "_foobar"),
            ("foo1:bar2", "foo1:bar2"),
            ("foo-bar.baz", "foo_bar_baz"),
            ("héllo", "h_llo"),
            ("", "_"),
        ] {
            assert_eq!(metric_name(given), want, "{given:?}");
        }
        for (given, want) in
            [("foo:bar", "foo_bar"), ("1foo", "_foo"), ("__x", "exported___x"), ("_x", "_x"), ("", "_")]
        {
            assert_eq!(label_name(given), want, "{given:?}");
        }
        assert_eq!(label_name_for("le", Some("le")), "exported_le");
        assert_eq!(label_name_for("le", Some("quantile")), "le");
        assert!(matches!(metric_name("ok_total"), Cow::Borrowed(_)));
    }
}
