//! Label sets as they sit in a line: validated once, then read without copying.

use std::borrow::Cow;

use crate::error::ErrorKind;

/// How strictly a label set or escaped string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Text 0.0.4: blanks around tokens, a trailing comma; escapes `\\`, `\"`, `\n` only.
    Text,
    /// OpenMetrics: no blanks, no trailing comma; `\` before another character keeps both.
    OpenMetrics,
}

/// The labels of a sample or exemplar, as written between `{` and `}` (already validated).
/// Iterating yields `(name, value)` with the value unescaped, borrowing when it has no escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    raw: &'a str,
    dialect: Dialect,
}

impl<'a> Labels<'a> {
    pub(crate) fn new(raw: &'a str, dialect: Dialect) -> Self {
        Self { raw, dialect }
    }

    /// No labels.
    pub(crate) fn empty(dialect: Dialect) -> Self {
        Self { raw: "", dialect }
    }

    /// The text between the braces, escapes intact.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// True when there is no label.
    pub fn is_empty(&self) -> bool {
        self.iter_raw().next().is_none()
    }

    /// The pairs in written order, values unescaped.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> + 'a {
        let dialect = self.dialect;
        self.iter_raw().map(move |(n, v)| (n, unescape(v, dialect)))
    }

    /// The pairs in written order, values still escaped.
    pub fn iter_raw(&self) -> RawIter<'a> {
        RawIter { rest: self.raw }
    }

    /// The unescaped value of label `name`.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter_raw().find(|(n, _)| *n == name).map(|(_, v)| unescape(v, self.dialect))
    }
}

/// Iterator over validated `name="escaped value"` pairs.
#[derive(Debug, Clone)]
pub struct RawIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for RawIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.rest.trim_start_matches([' ', '\t', ',']);
        // A quoted name (validated: no escape inside) may itself hold `=`.
        let (name, s) = match s.strip_prefix('"') {
            Some(q) => {
                let end = memchr::memchr(b'"', q.as_bytes())?;
                (&q[..end], &q[end + 1..])
            }
            None => {
                let eq = memchr::memchr(b'=', s.as_bytes())?;
                (s[..eq].trim_end_matches([' ', '\t']), &s[eq..])
            }
        };
        let s = s.trim_start_matches([' ', '\t']).strip_prefix('=')?;
        let after = s.trim_start_matches([' ', '\t']);
        let body = after.strip_prefix('"')?;
        let end = closing_quote(body.as_bytes())?;
        self.rest = &body[end + 1..];
        Some((name, &body[..end]))
    }
}

/// The index of the unescaped `"` that closes a quoted string starting at `b[0]`.
pub(crate) fn closing_quote(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', &b[i..])?;
        if b[j] == b'"' {
            return Some(j);
        }
        i = j + 2;
        if i > b.len() {
            return None;
        }
    }
}

/// Unescapes a validated label value or OpenMetrics HELP.
pub(crate) fn unescape(s: &str, dialect: Dialect) -> Cow<'_, str> {
    if memchr::memchr(b'\\', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(other) => {
                if dialect == Dialect::OpenMetrics {
                    out.push('\\');
                }
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub(crate) fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The length of the metric name at the start of `b` (`[a-zA-Z_:][a-zA-Z0-9_:]*`), 0 if none.
pub(crate) fn metric_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' => {}
        _ => return 0,
    }
    1 + b[1..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':').count()
}

/// A quoted name (Prometheus 3's UTF-8 syntax) whose opening `"` is at `line[at]`: the name
/// between the quotes and the index just after the closing one.
///
/// The name is borrowed from the line, so a name holding an escape sequence (`\"`, `\\`,
/// `\n`) is refused with a typed error rather than read wrongly; so is the empty name.
pub(crate) fn quoted_name(line: &str, at: usize) -> Result<(&str, usize), (usize, ErrorKind)> {
    let b = line.as_bytes();
    let Some(len) = closing_quote(&b[at + 1..]) else {
        return Err((at, ErrorKind::QuotedName { rule: "a quoted name ends with an unescaped `\"`" }));
    };
    let name = &line[at + 1..at + 1 + len];
    if name.is_empty() {
        return Err((at, ErrorKind::QuotedName { rule: "a quoted name cannot be empty" }));
    }
    if let Some(j) = memchr::memchr(b'\\', name.as_bytes()) {
        return Err((
            at + 1 + j,
            ErrorKind::QuotedName {
                rule: "escape sequences in quoted names are not read: only names without `\\`, `\"` or a newline",
            },
        ));
    }
    Ok((name, at + 2 + len))
}

/// Where a sample line's name is, and where its label set starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SampleHead<'a> {
    /// The metric name (unquoted).
    pub(crate) name: &'a str,
    /// Column of the name's first character.
    pub(crate) name_at: usize,
    /// Where the label scan starts and whether it may close at once (`{` just before), when
    /// the quoted name is followed by `,`; `None` otherwise.
    pub(crate) labels: Option<(usize, bool)>,
    /// Just after the name (a bare name, where `{` may follow), or after the `}` closing a
    /// quoted name that has no label.
    pub(crate) end: usize,
    /// Whether the name was quoted inside the braces.
    pub(crate) quoted: bool,
}

/// Reads the name at the start of a sample line (`line[start..]`): a bare legacy name, or the
/// quoted syntax `{"name"` followed by `,` and labels or by `}`. Text allows blanks around the
/// tokens; OpenMetrics does not.
pub(crate) fn sample_head(
    line: &str,
    start: usize,
    dialect: Dialect,
) -> Result<SampleHead<'_>, (usize, ErrorKind)> {
    let b = line.as_bytes();
    let blank = |mut i: usize| {
        while dialect == Dialect::Text && i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        i
    };
    let len = metric_name_len(&b[start..]);
    if len > 0 {
        return Ok(SampleHead {
            name: &line[start..start + len],
            name_at: start,
            labels: None,
            end: start + len,
            quoted: false,
        });
    }
    if b.get(start) != Some(&b'{') {
        return Err((start, ErrorKind::InvalidMetricName));
    }
    let q = blank(start + 1);
    if b.get(q) != Some(&b'"') {
        // `{a="b"} 1`: labels without any metric name.
        return Err((start, ErrorKind::InvalidMetricName));
    }
    let (name, after) = quoted_name(line, q)?;
    let k = blank(after);
    match b.get(k) {
        Some(b',') => {
            Ok(SampleHead { name, name_at: q + 1, labels: Some((k + 1, false)), end: k + 1, quoted: true })
        }
        Some(b'}') => Ok(SampleHead { name, name_at: q + 1, labels: None, end: k + 1, quoted: true }),
        Some(b'=') => Err((q, ErrorKind::InvalidMetricName)),
        _ => Err((k, ErrorKind::Expected { expected: "`,` or `}` after the quoted metric name" })),
    }
}

/// A metric name in a `# HELP` / `# TYPE` / `# UNIT` line at `line[at..]`: bare, or quoted.
/// Returns the name and the index just after it.
pub(crate) fn metadata_name(line: &str, at: usize) -> Result<(&str, usize), (usize, ErrorKind)> {
    if line.as_bytes().get(at) == Some(&b'"') {
        return quoted_name(line, at);
    }
    let len = metric_name_len(&line.as_bytes()[at..]);
    if len == 0 {
        return Err((at, ErrorKind::InvalidMetricName));
    }
    Ok((&line[at..at + len], at + len))
}

/// The rule broken by a quoted string without `=` in a label set: it can only be a metric
/// name, which goes first inside the braces and once (never beside a name before them).
const SECOND_NAME: &str = "a quoted string without `=` is the metric name: it goes first inside the braces, once, and not after a name written before them";

/// Scans a label set starting just after `{` at `line[start..]`. Calls `each(name, raw value,
/// column of the name)` per pair, checks the syntax, escapes and name uniqueness, and returns
/// the index just after the closing `}`.
pub(crate) fn scan<'a>(
    line: &'a str,
    start: usize,
    dialect: Dialect,
    each: impl FnMut(&'a str, &'a str, usize) -> Result<(), (usize, ErrorKind)>,
) -> Result<usize, (usize, ErrorKind)> {
    scan_from(line, start, dialect, true, each)
}

/// As [`scan`], from `start` just after the `,` that follows a quoted metric name when `first`
/// is false (so the set cannot close there in OpenMetrics).
pub(crate) fn scan_from<'a>(
    line: &'a str,
    start: usize,
    dialect: Dialect,
    first: bool,
    mut each: impl FnMut(&'a str, &'a str, usize) -> Result<(), (usize, ErrorKind)>,
) -> Result<usize, (usize, ErrorKind)> {
    let b = line.as_bytes();
    let lenient = dialect == Dialect::Text;
    let skip = |i: &mut usize| {
        if lenient {
            while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
                *i += 1;
            }
        }
    };
    let mut seen = Seen::default();
    let mut i = start;
    let mut first = first;
    loop {
        skip(&mut i);
        if i < b.len() && b[i] == b'}' && (first || lenient) {
            return Ok(i + 1);
        }
        // a label name, bare or quoted
        let (name, n0) = if b.get(i) == Some(&b'"') {
            let (name, after) = quoted_name(line, i)?;
            let n0 = i + 1;
            i = after;
            skip(&mut i);
            if matches!(b.get(i), Some(b',' | b'}')) {
                return Err((n0 - 1, ErrorKind::QuotedName { rule: SECOND_NAME }));
            }
            (name, n0)
        } else {
            let n0 = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let name = &line[n0..i];
            if name.is_empty() {
                let expected = if first { "a label name or `}`" } else { "a label name" };
                return Err((i, ErrorKind::Expected { expected }));
            }
            if !is_label_name(name) {
                return Err((n0, ErrorKind::InvalidLabelName));
            }
            (name, n0)
        };
        skip(&mut i);
        if i >= b.len() || b[i] != b'=' {
            return Err((i, ErrorKind::Expected { expected: "`=` after the label name" }));
        }
        i += 1;
        skip(&mut i);
        if i >= b.len() || b[i] != b'"' {
            return Err((i, ErrorKind::Expected { expected: "`\"` opening the label value" }));
        }
        i += 1;
        let v0 = i;
        let Some(len) = closing_quote(&b[v0..]) else {
            return Err((v0 - 1, ErrorKind::UnterminatedLabelValue));
        };
        let value = &line[v0..v0 + len];
        if dialect == Dialect::Text {
            check_text_escapes(value).map_err(|at| (v0 + at, ErrorKind::InvalidEscape))?;
        }
        i = v0 + len + 1;
        if seen.insert(name) {
            return Err((n0, ErrorKind::DuplicateLabel { name: name.to_owned() }));
        }
        each(name, value, n0)?;
        first = false;
        skip(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(i + 1),
            _ => return Err((i, ErrorKind::Expected { expected: "`,` or `}` after a label" })),
        }
    }
}

/// Text 0.0.4 label values allow only `\\`, `\"` and `\n` (Go's `expfmt` refuses others).
fn check_text_escapes(v: &str) -> Result<(), usize> {
    let b = v.as_bytes();
    let mut i = 0;
    while let Some(j) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + j;
        match b.get(at + 1) {
            Some(b'\\' | b'"' | b'n') => i = at + 2,
            _ => return Err(at),
        }
    }
    Ok(())
}

/// Label names seen in one set: a few on the stack, a hash set past that.
#[derive(Default)]
struct Seen<'a> {
    few: [&'a str; 8],
    n: usize,
    many: Option<std::collections::HashSet<&'a str>>,
}

impl<'a> Seen<'a> {
    /// Adds `name`; true when it was already there.
    fn insert(&mut self, name: &'a str) -> bool {
        if let Some(set) = &mut self.many {
            return !set.insert(name);
        }
        if self.few[..self.n].contains(&name) {
            return true;
        }
        if self.n < self.few.len() {
            self.few[self.n] = name;
            self.n += 1;
        } else {
            let mut set: std::collections::HashSet<&str> = self.few.iter().copied().collect();
            set.insert(name);
            self.many = Some(set);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Scanned = Result<(usize, Vec<(String, String)>), (usize, ErrorKind)>;

    fn scan_all(line: &str, d: Dialect) -> Scanned {
        let mut v = Vec::new();
        let end = scan(line, 1, d, |n, val, _| {
            v.push((n.to_owned(), val.to_owned()));
            Ok(())
        })?;
        Ok((end, v))
    }

    #[test]
    fn openmetrics_label_sets_are_strict() {
        assert_eq!(scan_all("{}", Dialect::OpenMetrics).unwrap().0, 2);
        let (end, v) = scan_all(r#"{a="1",b="x\"}"} 1"#, Dialect::OpenMetrics).unwrap();
        assert_eq!(end, 16);
        assert_eq!(v[1], ("b".into(), r#"x\"}"#.into()));
        for bad in [
            r#"{a="1",}"#,
            r#"{ a="1"}"#,
            r#"{a = "1"}"#,
            r#"{a="1"b="2"}"#,
            r#"{1="1"}"#,
            r#"{a=1}"#,
            r#"{a="}"#,
        ] {
            assert!(scan_all(bad, Dialect::OpenMetrics).is_err(), "{bad}");
        }
        assert!(matches!(
            scan_all(r#"{a="1",a="2"}"#, Dialect::OpenMetrics),
            Err((7, ErrorKind::DuplicateLabel { .. }))
        ));
    }

    #[test]
    fn text_label_sets_allow_blanks_and_a_trailing_comma_but_not_bad_escapes() {
        let (_, v) = scan_all("{ a = \"1\" , b=\"2\", }", Dialect::Text).unwrap();
        assert_eq!(v.len(), 2);
        assert!(matches!(scan_all(r#"{a="\z"}"#, Dialect::Text), Err((4, ErrorKind::InvalidEscape))));
    }

    #[test]
    fn many_labels_are_checked_for_duplicates_without_quadratic_work() {
        let mut line = String::from("{");
        for i in 0..1000 {
            line.push_str(&format!("l{i}=\"v\","));
        }
        line.push_str("l999=\"v\"}");
        assert!(matches!(scan_all(&line, Dialect::Text), Err((_, ErrorKind::DuplicateLabel { .. }))));
    }

    #[test]
    fn values_unescape_per_dialect_and_borrow_when_plain() {
        assert!(matches!(unescape("plain", Dialect::Text), Cow::Borrowed("plain")));
        assert_eq!(unescape(r#"a\\b\"c\nd"#, Dialect::Text), "a\\b\"c\nd");
        assert_eq!(unescape(r"b\\a\z", Dialect::OpenMetrics), "b\\a\\z");
        let l = Labels::new(r#"a="x\ny",b="2""#, Dialect::Text);
        let pairs: Vec<_> = l.iter().collect();
        assert_eq!(pairs, [("a", Cow::Borrowed("x\ny")), ("b", Cow::Borrowed("2"))]);
        assert_eq!(l.get("b").as_deref(), Some("2"));
        assert!(Labels::empty(Dialect::Text).is_empty());
        assert_eq!(metric_name_len(b"a:b_1{"), 5);
        assert_eq!(metric_name_len(b"0a"), 0);
    }
}
