//! The escaping rules of the exposition formats: which bytes each context escapes, and nothing
//! more, because Go's parser (promtool, Pushgateway, testutil) rejects any other escape and the
//! Prometheus server keeps unknown ones verbatim, silently corrupting the value.
//!
//! Escaping is mechanical and done exactly once: a backslash already in the input is data, not
//! an escape, so `\"` in a value becomes `\\\"`.

/// The bytes one context escapes: all three contexts escape `\` and newline; label values and
/// OpenMetrics HELP also escape `"`.
#[derive(Clone, Copy)]
enum Rule {
    /// `\`, `"`, newline: label values (both formats) and OpenMetrics HELP.
    Quoted,
    /// `\` and newline: text 0.0.4 HELP, where Go's writer leaves quotes alone.
    HelpText,
}

const LO: u64 = u64::from_ne_bytes([0x01; 8]);
const HI: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether any byte of `word` equals the byte broadcast in `pattern` (the classic SWAR test:
/// exact for "is there one", which is all the caller asks).
#[inline]
fn has_byte(word: u64, pattern: u64) -> bool {
    let x = word ^ pattern;
    (x.wrapping_sub(LO) & !x & HI) != 0
}

impl Rule {
    #[inline]
    fn escape(self, b: u8) -> Option<&'static [u8]> {
        match b {
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'"' if matches!(self, Rule::Quoted) => Some(b"\\\""),
            _ => None,
        }
    }

    /// Index of the first byte at or after `from` that this rule escapes.
    ///
    /// Eight bytes at a time: label values and HELP are mostly plain ASCII with nothing to
    /// escape, so the common case is a few word compares and one bulk copy.
    #[inline]
    fn find(self, bytes: &[u8], from: usize) -> Option<usize> {
        const BACKSLASH: u64 = LO * b'\\' as u64;
        const NEWLINE: u64 = LO * b'\n' as u64;
        const QUOTE: u64 = LO * b'"' as u64;
        let quote = matches!(self, Rule::Quoted);
        let mut i = from;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
            if has_byte(word, BACKSLASH) || has_byte(word, NEWLINE) || quote && has_byte(word, QUOTE) {
                break;
            }
            i += 8;
        }
        bytes[i..].iter().position(|&b| self.escape(b).is_some()).map(|p| i + p)
    }

    fn write(self, out: &mut Vec<u8>, v: &str) {
        let bytes = v.as_bytes();
        out.reserve(bytes.len());
        let mut start = 0;
        while let Some(i) = self.find(bytes, start) {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(self.escape(bytes[i]).unwrap_or_default());
            start = i + 1;
        }
        out.extend_from_slice(&bytes[start..]);
    }
}

/// Appends a label value escaped for both formats: `\` → `\\`, `"` → `\"`, newline → `\n`;
/// tabs, carriage returns and all other UTF-8 stay raw, as Go writes them.
pub(crate) fn write_label_value(out: &mut Vec<u8>, v: &str) {
    Rule::Quoted.write(out, v);
}

/// Whether `v` contains a byte that label-value escaping changes, so callers holding stored
/// values can skip re-escaping (or unescaping) when it would be a copy.
#[allow(dead_code, reason = "escaping API kept for stored-key callers; none uses it yet")]
pub(crate) fn needs_escape(v: &str) -> bool {
    Rule::Quoted.find(v.as_bytes(), 0).is_some()
}

/// Appends HELP text for text 0.0.4: `\` and newline escaped, quotes left as they are (Go's
/// text writer uses its no-quote escaper for HELP; an escaped quote would be read back as `\"`).
pub(crate) fn write_help_text(out: &mut Vec<u8>, v: &str) {
    Rule::HelpText.write(out, v);
}

/// Appends HELP text for OpenMetrics, where HELP is an escaped string: `\`, `"` and newline.
pub(crate) fn write_help_openmetrics(out: &mut Vec<u8>, v: &str) {
    Rule::Quoted.write(out, v);
}

/// Appends the unescaped form of a stored label value (undoes [`write_label_value`]) without
/// allocating. Input that `write_label_value` cannot produce (a lone trailing `\`, or `\t`)
/// is kept verbatim, as in [`unescape_label_value`].
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(crate) fn write_unescaped_label_value(out: &mut Vec<u8>, escaped: &str) {
    let mut rest = escaped.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b == b'\\') {
        out.extend_from_slice(&rest[..i]);
        let (unescaped, used) = match rest.get(i + 1) {
            Some(b'\\') => (b'\\', 2),
            Some(b'"') => (b'"', 2),
            Some(b'n') => (b'\n', 2),
            _ => (b'\\', 1),
        };
        out.push(unescaped);
        rest = &rest[i + used..];
    }
    out.extend_from_slice(rest);
}

/// Undoes [`write_label_value`], to recover values stored in escaped form; borrows when there is
/// nothing to undo.
///
/// Input that `write_label_value` cannot produce (a lone trailing `\`, or `\t`) is kept
/// verbatim, as the Prometheus server's parser does, rather than failing.
pub(crate) fn unescape_label_value(escaped: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let Some(first) = escaped.find('\\') else {
        return Cow::Borrowed(escaped);
    };
    let mut out = String::with_capacity(escaped.len());
    out.push_str(&escaped[..first]);
    let mut rest = &escaped[first..];
    // `rest` always starts at a backslash here; the runs between are copied whole.
    while !rest.is_empty() {
        let (unescaped, used) = match rest.as_bytes().get(1) {
            Some(b'\\') => ("\\", 2),
            Some(b'"') => ("\"", 2),
            Some(b'n') => ("\n", 2),
            _ => ("\\", 1),
        };
        out.push_str(unescaped);
        rest = &rest[used..];
        let next = rest.find('\\').unwrap_or(rest.len());
        out.push_str(&rest[..next]);
        rest = &rest[next..];
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::borrow::Cow;

    fn label(v: &str) -> String {
        let mut out = Vec::new();
        write_label_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn help_text(v: &str) -> String {
        let mut out = Vec::new();
        write_help_text(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn help_om(v: &str) -> String {
        let mut out = Vec::new();
        write_help_openmetrics(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    /// The obvious byte-at-a-time escaper, against which the word-at-a-time scan is checked.
    fn naive(v: &str, quote: bool) -> String {
        let mut s = String::new();
        for c in v.chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '"' if quote => s.push_str("\\\""),
                c => s.push(c),
            }
        }
        s
    }

    #[test]
    fn label_values_escape_exactly_three_characters() {
        for (value, want) in [
            (r"a\b", r"a\\b"),
            (r#"say "hi""#, r#"say \"hi\""#),
            ("line1\nline2", r"line1\nline2"),
            ("tab\there", "tab\there"),
            ("cr\rhere", "cr\rhere"),
            ("ü ✓ 日本 🙂", "ü ✓ 日本 🙂"),
            ("", ""),
            (r#"\""#, r#"\\\""#),
            ("\n\n", r"\n\n"),
            (r"C:\Program Files\x", r"C:\\Program Files\\x"),
            // Past the eight-byte word boundary, so the word scan is exercised.
            ("0123456789abcdef\"", "0123456789abcdef\\\""),
            ("01234567\\", "01234567\\\\"),
        ] {
            assert_eq!(label(value), want, "{value:?}");
            assert_eq!(needs_escape(value), value != want, "{value:?}");
        }
    }

    #[test]
    fn help_text_leaves_quotes_raw_but_openmetrics_escapes_them() {
        let help = "Requests \"served\"\nby C:\\srv\tnow";
        assert_eq!(help_text(help), "Requests \"served\"\\nby C:\\\\srv\tnow");
        assert_eq!(help_om(help), "Requests \\\"served\\\"\\nby C:\\\\srv\tnow");
        assert_eq!(help_text(""), "");
        assert_eq!(help_om("plain help"), "plain help");
    }

    #[test]
    fn matches_go_expfmt() {
        // Go's MetricFamilyToText / MetricFamilyToOpenMetrics with this string as both the
        // HELP and a label value (prometheus/common, Debian golang-github-prometheus-common-dev).
        let v = "a\\b \"q\" nl\n tab\t cr\r ü ✓ 🙂";
        assert_eq!(help_text(v), "a\\\\b \"q\" nl\\n tab\t cr\r ü ✓ 🙂");
        assert_eq!(help_om(v), "a\\\\b \\\"q\\\" nl\\n tab\t cr\r ü ✓ 🙂");
        assert_eq!(label(v), "a\\\\b \\\"q\\\" nl\\n tab\t cr\r ü ✓ 🙂");
    }

    #[test]
    fn unescape_inverts_and_borrows_when_it_can() {
        assert!(matches!(unescape_label_value("plain \"quoted\"? no"), Cow::Borrowed(_)));
        assert!(matches!(unescape_label_value(""), Cow::Borrowed("")));
        for (escaped, want) in [
            (r"a\\b", r"a\b"),
            (r#"say \"hi\""#, r#"say "hi""#),
            (r"line1\nline2", "line1\nline2"),
            (r"\\n", r"\n"),
            (r#"\\\""#, r#"\""#),
            (r"ü\n🙂", "ü\n🙂"),
            // Not produced by the escaper: kept verbatim, as Prometheus keeps unknown escapes.
            (r"tab\t", r"tab\t"),
            (r"trailing\", r"trailing\"),
        ] {
            assert_eq!(unescape_label_value(escaped), want, "{escaped:?}");
        }
    }

    proptest! {
        #[test]
        fn unescape_inverts_escape(s in "(?s).{0,60}") {
            let escaped = label(&s);
            prop_assert_eq!(unescape_label_value(&escaped), s.as_str());
        }

        #[test]
        fn unescape_inverts_escape_of_special_heavy_strings(s in "[a\\\\\"\nü\t]{0,40}") {
            let escaped = label(&s);
            prop_assert_eq!(unescape_label_value(&escaped), s.as_str());
        }

        #[test]
        fn escaped_value_has_no_newline_or_bare_quote(s in "[a\\\\\"\n🙂]{0,40}|\\PC*") {
            let escaped = label(&s);
            prop_assert!(!escaped.contains('\n'));
            // Every quote must be preceded by an odd run of backslashes.
            let bytes = escaped.as_bytes();
            for (i, _) in escaped.match_indices('"') {
                let run = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
                prop_assert!(run % 2 == 1, "bare quote at {} in {:?}", i, escaped);
            }
        }

        #[test]
        fn word_scan_agrees_with_naive(s in "[ab\\\\\"\n\t✓]{0,70}|\\PC{0,70}") {
            prop_assert_eq!(label(&s), naive(&s, true));
            prop_assert_eq!(help_om(&s), naive(&s, true));
            prop_assert_eq!(help_text(&s), naive(&s, false));
            prop_assert_eq!(needs_escape(&s), s.contains(['\\', '"', '\n']));
        }

        #[test]
        fn appends_after_existing_bytes(prefix in "\\PC{0,9}", s in "\\PC{0,20}") {
            let mut out = prefix.clone().into_bytes();
            write_label_value(&mut out, &s);
            prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{prefix}{}", naive(&s, true)));
        }
    }
}
