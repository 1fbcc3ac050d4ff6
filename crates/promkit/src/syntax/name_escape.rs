//! UTF-8 names on the wire: the quoted syntax (`{"http.server.duration",le="0.5"} 3`) for a
//! scraper that allows UTF-8, and Prometheus 3's escaping schemes for one that does not, each
//! byte-identical to prometheus/common's `model.EscapeName` / `UnescapeName`.
//!
//! Go decides per name with the legacy *metric* rule (`[a-zA-Z_:][a-zA-Z0-9_:]*`): a name that
//! passes it is written as it is in every scheme (`EscapeMetricFamily` leaves it alone,
//! `writeName` does not quote it); only the others are quoted or escaped.
//!
//! One deliberate difference: Go applies that metric rule to label names too, so a label
//! named `k8s:pod` (valid UTF-8, not a legacy label name) goes out bare, `k8s:pod="x"`, under
//! every scheme, and every legacy parser (Go's own, Prometheus 2's) rejects the whole scrape.
//! promkit judges label names by the legacy *label* rule (`[a-zA-Z_][a-zA-Z0-9_]*`) and, when
//! escaping one, treats `:` as a character the set lacks (`k8s_pod`, `k8s__pod`,
//! `U__k8s_3a_pod`); with `allow-utf-8` such a name is quoted. Every label name Go writes
//! differently contains a `:`; [`escape_name`] itself is Go's, byte for byte.

use std::borrow::Cow;
use std::io::Write as _;

use super::escape::write_label_value;
use super::name::is_valid_metric_name;

/// Which legacy rule a name is judged by: metric names allow `:`, label names do not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    Metric,
    Label,
}

impl Rule {
    fn valid(self, name: &str) -> bool {
        let mut chars = name.char_indices();
        chars.next().is_some_and(|(i, c)| self.legacy_char(c, i))
            && chars.all(|(i, c)| self.legacy_char(c, i))
    }

    /// Go's `isValidLegacyRune` (`i` is the character's *byte* offset, as Go's `range` gives
    /// it), without `:` for label names.
    fn legacy_char(self, c: char, i: usize) -> bool {
        c.is_ascii_alphabetic() || c == '_' || c == ':' && self == Rule::Metric || c.is_ascii_digit() && i > 0
    }
}

/// How names outside the legacy character set are written: Prometheus 3's `escaping=`
/// parameter (prometheus/common's `model.EscapingScheme`).
///
/// Names valid in the legacy character set are written unchanged whatever the scheme. The
/// default is [`Underscores`](Self::Underscores), Go's `model.NameEscapingScheme`: what a
/// scrape that names no scheme gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EscapingScheme {
    /// `allow-utf-8`: names as they are, quoted where the legacy syntax cannot hold them
    /// (Go's `NoEscaping`).
    AllowUtf8,
    /// `underscores`: every character the legacy set lacks becomes `_` (the default).
    #[default]
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, every other character the legacy set
    /// lacks becomes `__`; reversible when the name had no such other character.
    Dots,
    /// `values`: `U__`, then `_` doubled and every character the legacy set lacks written as
    /// `_<hex code point>_`; always reversible.
    Values,
}

impl EscapingScheme {
    /// Every scheme, in the order of Go's enum.
    pub const ALL: [EscapingScheme; 4] = [Self::AllowUtf8, Self::Underscores, Self::Dots, Self::Values];

    /// The `escaping=` parameter value (`allow-utf-8`, `underscores`, `dots`, `values`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowUtf8 => "allow-utf-8",
            Self::Underscores => "underscores",
            Self::Dots => "dots",
            Self::Values => "values",
        }
    }

    /// The scheme an `escaping=` parameter value names; `None` for an unknown one, which Go
    /// ignores.
    pub fn from_param(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Position in [`ALL`](Self::ALL), for per-scheme tables.
    pub(crate) fn index(self) -> usize {
        match self {
            Self::AllowUtf8 => 0,
            Self::Underscores => 1,
            Self::Dots => 2,
            Self::Values => 3,
        }
    }
}

impl std::fmt::Display for EscapingScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Appends `name` escaped with `scheme`, exactly as Go's `model.EscapeName` returns it (which,
/// for [`Dots`](EscapingScheme::Dots), doubles the underscores of a legacy name too).
pub(crate) fn write_escape_name(out: &mut Vec<u8>, name: &str, scheme: EscapingScheme) {
    write_escaped(out, name, scheme, Rule::Metric);
}

/// `EscapeName`'s algorithm with the characters `rule` keeps.
fn write_escaped(out: &mut Vec<u8>, name: &str, scheme: EscapingScheme, rule: Rule) {
    let legacy = rule.valid(name);
    match scheme {
        EscapingScheme::AllowUtf8 => out.extend_from_slice(name.as_bytes()),
        EscapingScheme::Underscores | EscapingScheme::Values if legacy => {
            out.extend_from_slice(name.as_bytes());
        }
        EscapingScheme::Underscores => {
            for (i, c) in name.char_indices() {
                out.push(if rule.legacy_char(c, i) { c as u8 } else { b'_' });
            }
        }
        EscapingScheme::Dots => {
            for (i, c) in name.char_indices() {
                match c {
                    '_' => out.extend_from_slice(b"__"),
                    '.' => out.extend_from_slice(b"_dot_"),
                    c if rule.legacy_char(c, i) => out.push(c as u8),
                    _ => out.extend_from_slice(b"__"),
                }
            }
        }
        EscapingScheme::Values => {
            out.extend_from_slice(b"U__");
            for (i, c) in name.char_indices() {
                match c {
                    '_' => out.extend_from_slice(b"__"),
                    c if rule.legacy_char(c, i) => out.push(c as u8),
                    // A `&str` holds only valid code points, so Go's `_FFFD_` branch for
                    // invalid runes cannot happen here. Writing to a Vec cannot fail.
                    c => {
                        let _ = write!(out, "_{:x}_", u32::from(c));
                    }
                }
            }
        }
    }
}

/// `name` escaped with `scheme`, as Go's `model.EscapeName` (borrowed when unchanged).
pub fn escape_name(name: &str, scheme: EscapingScheme) -> Cow<'_, str> {
    let unchanged = name.is_empty()
        || match scheme {
            EscapingScheme::AllowUtf8 => true,
            EscapingScheme::Underscores | EscapingScheme::Values => is_valid_metric_name(name),
            EscapingScheme::Dots => {
                !name.contains(|c: char| !c.is_ascii_alphanumeric() && c != ':')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
            }
        };
    if unchanged {
        return Cow::Borrowed(name);
    }
    let mut out = Vec::with_capacity(name.len() + 8);
    write_escape_name(&mut out, name, scheme);
    // Every byte written is ASCII or copied from whole characters of `name`.
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// Reverses [`escape_name`] where the scheme allows, as Go's `model.UnescapeName`:
/// [`Underscores`](EscapingScheme::Underscores) cannot be reversed (the name is returned as
/// it is), [`Dots`](EscapingScheme::Dots) turns `_dot_` into `.` then `__` into `_`, and
/// [`Values`](EscapingScheme::Values) decodes `U__…`; a malformed `U__` name (a single `_`,
/// an unclosed or over-long code, a surrogate) is returned unchanged, as Go does.
pub fn unescape_name(name: &str, scheme: EscapingScheme) -> Cow<'_, str> {
    match scheme {
        EscapingScheme::AllowUtf8 | EscapingScheme::Underscores => Cow::Borrowed(name),
        EscapingScheme::Dots => {
            if name.contains("__") || name.contains("_dot_") {
                Cow::Owned(name.replace("_dot_", ".").replace("__", "_"))
            } else {
                Cow::Borrowed(name)
            }
        }
        EscapingScheme::Values => match unescape_values(name) {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(name),
        },
    }
}

/// Go's `ValueEncodingEscaping` branch of `UnescapeName`; `None` where Go returns the input.
fn unescape_values(name: &str) -> Option<String> {
    let escaped = name.strip_prefix("U__")?.as_bytes();
    let mut out = String::with_capacity(escaped.len());
    let mut i = 0;
    while i < escaped.len() {
        if escaped[i] != b'_' {
            // Copy the whole character (only ASCII `_` and hex digits are interpreted).
            let len = name[3 + i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&name[3 + i..3 + i + len]);
            i += len;
            continue;
        }
        i += 1;
        match escaped.get(i) {
            None => return None,
            Some(b'_') => {
                out.push('_');
                i += 1;
                continue;
            }
            Some(_) => {}
        }
        let mut code: u32 = 0;
        let mut digits = 0;
        loop {
            let &b = escaped.get(i)?;
            // More than six hex digits cannot be a code point (Go checks before the `_`).
            if digits >= 6 {
                return None;
            }
            if b == b'_' {
                out.push(char::from_u32(code)?);
                i += 1;
                break;
            }
            code = code * 16 + char::from(b).to_digit(16)?;
            digits += 1;
            i += 1;
        }
    }
    Some(out)
}

/// Appends a metric name as Go's `EscapeMetricFamily` leaves it for `scheme`, for formats that
/// need no quoting (protobuf): unchanged when it is a legacy name (even under `dots`) or UTF-8
/// is allowed, escaped otherwise.
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(crate) fn write_name_if_needed(out: &mut Vec<u8>, name: &str, scheme: EscapingScheme) {
    if scheme == EscapingScheme::AllowUtf8 || is_valid_metric_name(name) {
        out.extend_from_slice(name.as_bytes());
    } else {
        write_escape_name(out, name, scheme);
    }
}

/// Appends a label name as written under `scheme`, for formats that need no quoting
/// (protobuf): unchanged when it is a legacy label name or UTF-8 is allowed, escaped otherwise
/// (`:` included; see the module's note).
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(crate) fn write_label_if_needed(out: &mut Vec<u8>, name: &str, scheme: EscapingScheme) {
    if scheme == EscapingScheme::AllowUtf8 || is_legacy_label_name(name) {
        out.extend_from_slice(name.as_bytes());
    } else {
        write_escaped(out, name, scheme, Rule::Label);
    }
}

/// Whether a label name is written as it is under every scheme: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_legacy_label_name(name: &str) -> bool {
    Rule::Label.valid(name)
}

/// Appends a metric name as the text formats write it with UTF-8 allowed: as it is when it
/// passes the legacy metric rule, otherwise double-quoted with label-value escaping (Go's
/// `writeName`). Encoders keep the name pre-rendered instead (see [`render_family_name`]).
#[cfg(test)]
fn write_quoted_name(out: &mut Vec<u8>, name: &str) {
    quote_unless(out, name, is_valid_metric_name(name));
}

fn quote_unless(out: &mut Vec<u8>, name: &str, bare: bool) {
    if bare {
        out.extend_from_slice(name.as_bytes());
    } else {
        out.push(b'"');
        write_label_value(out, name);
        out.push(b'"');
    }
}

/// Appends a label name as written under `scheme`: as it is when it is a legacy label name,
/// quoted with [`AllowUtf8`](EscapingScheme::AllowUtf8), escaped otherwise.
pub(crate) fn write_label_name(out: &mut Vec<u8>, name: &str, scheme: EscapingScheme) {
    let legacy = is_legacy_label_name(name);
    if scheme == EscapingScheme::AllowUtf8 || legacy {
        quote_unless(out, name, legacy);
    } else {
        write_escaped(out, name, scheme, Rule::Label);
    }
}

/// Renders a family name for `scheme` into `buf` (cleared first, its allocation reused) and
/// returns whether it must be written quoted, inside the braces. A quoted name is stored
/// already escaped for the quotes, so suffixes (`_bucket`) can still be appended to it.
pub(crate) fn render_family_name(buf: &mut String, name: &str, scheme: EscapingScheme) -> bool {
    buf.clear();
    if is_valid_metric_name(name) {
        buf.push_str(name);
        return false;
    }
    let mut bytes = std::mem::take(buf).into_bytes();
    let quoted = scheme == EscapingScheme::AllowUtf8;
    if quoted {
        write_label_value(&mut bytes, name);
    } else {
        write_escape_name(&mut bytes, name, scheme);
    }
    // Only whole characters of `name` and ASCII were written.
    *buf = String::from_utf8(bytes).unwrap_or_default();
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quoting_follows_the_legacy_metric_rule() {
        let q = |n: &str| {
            let mut out = Vec::new();
            write_quoted_name(&mut out, n);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(q("http_requests_total"), "http_requests_total");
        assert_eq!(q("a:b"), "a:b");
        let l = |n: &str, s| {
            let mut out = Vec::new();
            write_label_name(&mut out, n, s);
            String::from_utf8(out).unwrap()
        };
        // Label names: `:` is outside the legacy label set (where Go would write it bare).
        assert_eq!(l("k8s:pod", EscapingScheme::AllowUtf8), "\"k8s:pod\"");
        assert_eq!(l("k8s:pod", EscapingScheme::Underscores), "k8s_pod");
        assert_eq!(l("k8s:pod", EscapingScheme::Dots), "k8s__pod");
        assert_eq!(l("k8s:pod", EscapingScheme::Values), "U__k8s_3a_pod");
        assert_eq!(l("a_b", EscapingScheme::Dots), "a_b");
        assert_eq!(l("k8s.pod", EscapingScheme::Dots), "k8s_dot_pod");
        let bare = |n: &str, s| {
            let mut out = Vec::new();
            write_label_if_needed(&mut out, n, s);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(bare("a:b", EscapingScheme::Underscores), "a_b");
        assert_eq!(bare("a:b", EscapingScheme::AllowUtf8), "a:b");
        assert_eq!(q("http.server.duration"), "\"http.server.duration\"");
        assert_eq!(q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(q("2xx"), "\"2xx\"");
        let mut buf = String::from("left over");
        assert!(render_family_name(&mut buf, "a.b", EscapingScheme::AllowUtf8));
        assert_eq!(buf, "a.b");
        assert!(!render_family_name(&mut buf, "a.b", EscapingScheme::Dots));
        assert_eq!(buf, "a_dot_b");
        // A legacy family name keeps its underscores under `dots`, as EscapeMetricFamily does.
        assert!(!render_family_name(&mut buf, "a_b", EscapingScheme::Dots));
        assert_eq!(buf, "a_b");
    }

    #[test]
    fn parameter_names_round_trip() {
        for s in EscapingScheme::ALL {
            assert_eq!(EscapingScheme::from_param(s.as_str()), Some(s));
            assert_eq!(EscapingScheme::ALL[s.index()], s);
        }
        assert_eq!(EscapingScheme::from_param("bogus"), None);
        assert_eq!(EscapingScheme::default(), EscapingScheme::Underscores);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn values_escaping_always_round_trips(name in "\\PC{1,8}|[a-z_.:0-9]{1,8}") {
            let escaped = escape_name(&name, EscapingScheme::Values);
            prop_assert!(is_valid_metric_name(&escaped), "{:?}", escaped);
            prop_assert_eq!(unescape_name(&escaped, EscapingScheme::Values), name.as_str());
        }

        #[test]
        fn written_label_names_are_legacy_label_names_or_quoted(name in "\\PC{1,8}|[a-z:_0-9]{1,4}") {
            for scheme in EscapingScheme::ALL {
                let mut out = Vec::new();
                write_label_name(&mut out, &name, scheme);
                let out = String::from_utf8(out).unwrap();
                let quoted = out.starts_with('"') && out.ends_with('"') && out.len() >= 2;
                prop_assert!(is_legacy_label_name(&out) || quoted && scheme == EscapingScheme::AllowUtf8, "{:?} {:?}", scheme, out);
            }
        }

        #[test]
        fn escaped_names_are_legacy_names(name in "\\PC{1,8}") {
            for scheme in [EscapingScheme::Underscores, EscapingScheme::Dots, EscapingScheme::Values] {
                let escaped = escape_name(&name, scheme);
                prop_assert!(is_valid_metric_name(&escaped), "{:?} {:?}", scheme, escaped);
                let mut out = Vec::new();
                write_escape_name(&mut out, &name, scheme);
                prop_assert_eq!(out, escaped.as_bytes());
            }
        }
    }
}
