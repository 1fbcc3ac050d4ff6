//! The escaping rules of the exposition formats (provisional; see tests).

/// Appends a label value escaped for both formats: `\` → `\\`, `"` → `\"`, newline → `\n`, and
/// nothing else.
pub(crate) fn write_label_value(out: &mut Vec<u8>, v: &str) {
    for &b in v.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// Appends HELP text for text 0.0.4: `\` and newline escaped, quotes left as they are.
pub(crate) fn write_help_text(out: &mut Vec<u8>, v: &str) {
    for &b in v.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// Appends HELP text for OpenMetrics: like a label value (`"` escaped too).
pub(crate) fn write_help_openmetrics(out: &mut Vec<u8>, v: &str) {
    write_label_value(out, v);
}
