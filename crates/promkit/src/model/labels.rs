//! The labels of a series, and the pre-escaped form promkit stores them in.
//!
//! A series' label values are escaped once, when the series is created, and kept sorted by
//! label name and newline-joined; a family's [`LabelTemplate`] holds its label names (and
//! constant labels) pre-rendered around the value slots. Writing a series is then copying
//! bytes: no encoder escapes a stored value again on a scrape. A label name outside the legacy
//! character set is pre-rendered once per [`EscapingScheme`] too (quoted, or escaped), so a
//! UTF-8 name costs nothing more on a scrape either.

use crate::syntax::escape::{unescape_label_value, write_label_value};
use crate::syntax::name_escape::{EscapingScheme, is_legacy_label_name, write_label_name};

/// The labels of one series, in the form the collector has them.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Labels<'a> {
    /// No labels.
    None,
    /// promkit's stored form: the label names come from a [`LabelTemplate`] and the values are
    /// already escaped, sorted by label name and joined by newlines (which an escaped value
    /// never contains raw).
    Stored {
        /// Names and constant labels of the family.
        template: &'a LabelTemplate,
        /// The escaped values, newline-joined.
        values: &'a str,
    },
    /// Unescaped pairs, written in the given order (sorted by name by convention).
    Pairs(&'a [(&'a str, &'a str)]),
    /// Unescaped owned pairs, as in a gathered snapshot.
    Owned(&'a [(String, String)]),
    /// A series' labels and one more pair after them, unescaped: a stateset's state label,
    /// written last as a histogram's `le` is.
    Extra {
        /// The series' own labels.
        labels: &'a Labels<'a>,
        /// The extra label's name.
        name: &'a str,
        /// Its value, unescaped.
        value: &'a str,
    },
}

impl Labels<'_> {
    /// True when there is no label to write.
    pub fn is_empty(&self) -> bool {
        match self {
            Labels::None => true,
            Labels::Stored { template, .. } => template.is_empty(),
            Labels::Pairs(p) => p.is_empty(),
            Labels::Owned(p) => p.is_empty(),
            Labels::Extra { .. } => false,
        }
    }

    /// Appends the labels as `name="escaped",...` (no braces), names written as `scheme`
    /// says (quoted or escaped where they are not legacy names).
    pub(crate) fn write_escaped(&self, out: &mut Vec<u8>, scheme: EscapingScheme) {
        match *self {
            Labels::None => {}
            Labels::Stored { template, values } => template.write(out, values, scheme),
            Labels::Pairs(pairs) => write_pairs(out, pairs.iter().map(|(n, v)| (*n, *v)), scheme),
            Labels::Owned(pairs) => {
                write_pairs(out, pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), scheme);
            }
            Labels::Extra { labels, name, value } => {
                labels.write_escaped(out, scheme);
                if !labels.is_empty() {
                    out.push(b',');
                }
                write_pairs(out, std::iter::once((name, value)), scheme);
            }
        }
    }

    /// Calls `f(name, value)` with unescaped pairs in written order.
    pub fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        self.for_each_dyn(&mut f);
    }

    /// Calls `f(name, value, escaped)` in written order without unescaping: `escaped` says
    /// the value is in promkit's stored (escaped) form, for encoders that unescape it straight
    /// into their output instead of allocating.
    pub(crate) fn for_each_raw(&self, f: &mut dyn FnMut(&str, &str, bool)) {
        match *self {
            Labels::None => {}
            Labels::Stored { template, values } => template.for_each_raw(values, f),
            Labels::Pairs(pairs) => pairs.iter().for_each(|(n, v)| f(n, v, false)),
            Labels::Owned(pairs) => pairs.iter().for_each(|(n, v)| f(n, v, false)),
            Labels::Extra { labels, name, value } => {
                labels.for_each_raw(f);
                f(name, value, false);
            }
        }
    }

    // Not generic, so the nested labels of `Extra` do not instantiate it without end.
    fn for_each_dyn(&self, f: &mut dyn FnMut(&str, &str)) {
        match *self {
            Labels::None => {}
            Labels::Stored { template, values } => template.for_each(values, f),
            Labels::Pairs(pairs) => pairs.iter().for_each(|(n, v)| f(n, v)),
            Labels::Owned(pairs) => pairs.iter().for_each(|(n, v)| f(n, v)),
            Labels::Extra { labels, name, value } => {
                labels.for_each_dyn(f);
                f(name, value);
            }
        }
    }
}

fn write_pairs<'a>(
    out: &mut Vec<u8>,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    scheme: EscapingScheme,
) {
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_label_name(out, name, scheme);
        out.extend_from_slice(b"=\"");
        write_label_value(out, value);
        out.push(b'"');
    }
}

/// The label names of a family (variable and constant), pre-rendered so a series' stored values
/// slot in between: `lits[0] v0 lits[1] v1 … lits[n]`.
#[derive(Debug, Clone)]
pub struct LabelTemplate {
    /// The literals per [`EscapingScheme`] (by its index): one entry when every name is a
    /// legacy name (all schemes write them alike), four otherwise.
    variants: Box<[Literals]>,
    /// `(name, Some(const value) | None for the next variable value)`, sorted by name.
    names: Box<[TemplateLabel]>,
}

/// The literal text between a series' values, for one way of writing the names.
#[derive(Debug, Clone)]
struct Literals {
    lits: Box<[Box<[u8]>]>,
    /// Total length of the literals, to reserve once per series.
    len: usize,
}

impl LabelTemplate {
    /// Builds the template for variable label names `vars` (in sorted order) and constant labels.
    pub(crate) fn new(vars_sorted: &[&str], consts: &[(String, String)]) -> Self {
        let mut names: Vec<TemplateLabel> = vars_sorted
            .iter()
            .map(|n| (Box::from(*n), None))
            .chain(consts.iter().map(|(n, v)| (Box::from(n.as_str()), Some(Box::from(v.as_str())))))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let variants = if names.iter().all(|(n, _)| is_legacy_label_name(n)) {
            vec![Literals::new(&names, EscapingScheme::AllowUtf8)]
        } else {
            EscapingScheme::ALL.iter().map(|&s| Literals::new(&names, s)).collect()
        };
        Self { variants: variants.into_boxed_slice(), names: names.into_boxed_slice() }
    }

    /// True when the family has no label at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The literals written around a series' values with `scheme`: `lits[0] v0 lits[1] v1 …
    /// lits[n]`, one more than there are variable values (an encoder pre-renders them once per
    /// family).
    #[inline]
    pub(crate) fn literals(&self, scheme: EscapingScheme) -> &[Box<[u8]>] {
        &self.variants.get(scheme.index()).unwrap_or(&self.variants[0]).lits
    }

    /// The labels in name order: each name with its constant value, or `None` where the
    /// series' next stored value goes.
    pub(crate) fn labels(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.names.iter().map(|(n, v)| (&**n, v.as_deref()))
    }

    #[inline]
    fn write(&self, out: &mut Vec<u8>, values: &str, scheme: EscapingScheme) {
        // One variant: every scheme writes these names alike.
        let Literals { lits, len } = self.variants.get(scheme.index()).unwrap_or(&self.variants[0]);
        out.reserve(len + values.len());
        let (first, rest) = lits.split_first().map_or((&[][..], &[][..]), |(f, r)| (&f[..], r));
        out.extend_from_slice(first);
        // Segments are short: a plain byte scan beats the general `str::split` machinery.
        let mut values = values.as_bytes();
        let last = rest.len().saturating_sub(1);
        for (i, lit) in rest.iter().enumerate() {
            let end = if i == last {
                values.len()
            } else {
                values.iter().position(|&b| b == b'\n').unwrap_or(values.len())
            };
            out.extend_from_slice(&values[..end]);
            out.extend_from_slice(lit);
            values = values.get(end + 1..).unwrap_or_default();
        }
    }

    fn for_each_raw(&self, values: &str, f: &mut dyn FnMut(&str, &str, bool)) {
        let mut segs = values.split('\n');
        for (name, konst) in self.names.iter() {
            match konst {
                Some(v) => f(name, v, false),
                None => f(name, segs.next().unwrap_or_default(), true),
            }
        }
    }

    fn for_each(&self, values: &str, f: &mut dyn FnMut(&str, &str)) {
        let mut segs = values.split('\n');
        for (name, konst) in self.names.iter() {
            match konst {
                Some(v) => f(name, v),
                None => f(name, &unescape_label_value(segs.next().unwrap_or_default())),
            }
        }
    }
}

/// One label of a template: its name, and its value when it is constant.
type TemplateLabel = (Box<str>, Option<Box<str>>);

impl Literals {
    /// Renders `names` (sorted) with their names written as `scheme` says.
    fn new(names: &[TemplateLabel], scheme: EscapingScheme) -> Self {
        let mut lits = Vec::new();
        let mut cur = Vec::new();
        for (i, (name, konst)) in names.iter().enumerate() {
            if i > 0 {
                cur.push(b',');
            }
            write_label_name(&mut cur, name, scheme);
            cur.extend_from_slice(b"=\"");
            if let Some(v) = konst {
                write_label_value(&mut cur, v);
            } else {
                // A variable value goes here: the literal ends, the next starts with its quote.
                lits.push(std::mem::take(&mut cur).into_boxed_slice());
            }
            cur.push(b'"');
        }
        lits.push(cur.into_boxed_slice());
        let len = lits.iter().map(|l| l.len()).sum();
        Self { lits: lits.into_boxed_slice(), len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &LabelTemplate, values: &str) -> String {
        let mut out = Vec::new();
        t.write(&mut out, values, EscapingScheme::AllowUtf8);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn template_interleaves_constants_in_name_order() {
        let t = LabelTemplate::new(&["code", "method"], &[("app".into(), "x\"y".into())]);
        assert_eq!(render(&t, "200\nGET"), r#"app="x\"y",code="200",method="GET""#);
        let t = LabelTemplate::new(&["a", "z"], &[("m".into(), "c".into())]);
        assert_eq!(render(&t, "1\n2"), r#"a="1",m="c",z="2""#);
        let t = LabelTemplate::new(&[], &[("m".into(), "c".into())]);
        assert_eq!(render(&t, ""), r#"m="c""#);
        let t = LabelTemplate::new(&["a"], &[]);
        assert_eq!(render(&t, "v"), r#"a="v""#);
        assert!(LabelTemplate::new(&[], &[]).is_empty());
    }

    #[test]
    fn template_yields_unescaped_pairs() {
        let t = LabelTemplate::new(&["a", "b"], &[("c".into(), "k".into())]);
        let mut seen = Vec::new();
        t.for_each("x\\\"y\nline\\n", &mut |n, v| seen.push(format!("{n}={v}")));
        assert_eq!(seen, ["a=x\"y", "b=line\n", "c=k"]);
    }
}
