//! The Prometheus text format 0.0.4, read as leniently as Go's `expfmt.TextParser`.
//!
//! Accepted as exporters write it: blank lines and plain comments, missing HELP or TYPE
//! (the family is then untyped), blanks and tabs between tokens, a trailing comma in a label
//! set, `NaN`/`Inf`/`+Inf`/`-Inf` in any case, integer millisecond timestamps, and samples of a
//! family that come back after another family (they are merged, as Go does). Refused as Go
//! refuses it: a second HELP or TYPE for a family, TYPE after the family's samples, an unknown
//! type, invalid names, unterminated or badly escaped label values, a repeated label name, a
//! value or timestamp that is not a number, an `le` or `quantile` that is not a float, and
//! anything after the timestamp. A bucket without `le` or a quantile without `quantile` is
//! read (its [`Sample::bound`] is `None`) and left out of the model, as Go leaves it out.

use std::collections::HashMap;

use crate::error::{ErrorKind, ParseError};
use crate::labels::{self, Dialect, Labels};
use crate::number::text_float;
use crate::record::{Help, MetricKind, Record, Sample, Suffix, Timestamp};
use crate::source::{LineRules, Reader, Records};

/// Records of an in-memory text 0.0.4 exposition.
pub type TextRecords<'a> = Records<'a, TextRules>;
/// Records of a text 0.0.4 exposition read from a `BufRead`.
pub type TextReader<R> = Reader<R, TextRules>;

/// Parses a text 0.0.4 exposition held in memory.
///
/// ```
/// use promkit_parse::{Record, text};
/// let input = "# TYPE jobs_total counter\njobs_total{queue=\"a\"} 3 1700000000000\n";
/// let records: Vec<Record<'_>> = text::parse(input.as_bytes()).collect::<Result<_, _>>()?;
/// let Record::Sample(s) = &records[1] else { unreachable!() };
/// assert_eq!((s.name, s.value), ("jobs_total", 3.0));
/// assert_eq!(s.labels.get("queue").as_deref(), Some("a"));
/// # Ok::<(), promkit_parse::ParseError>(())
/// ```
pub fn parse(input: &[u8]) -> TextRecords<'_> {
    Records::new(input)
}

/// Parses a text 0.0.4 exposition from a reader, one line in memory at a time.
pub fn reader<R: std::io::BufRead>(reader: R) -> TextReader<R> {
    Reader::new(reader)
}

/// The text 0.0.4 rules: what is known of each family so far.
#[derive(Debug, Default)]
pub struct TextRules {
    /// The family of the last line, to resolve the next sample without a lookup.
    current: String,
    current_state: Family,
    /// Every other family seen.
    others: HashMap<String, Family>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Family {
    kind: Option<MetricKind>,
    help: bool,
    samples: bool,
}

fn err(line: &str, number: u64, at: usize, kind: ErrorKind) -> ParseError {
    ParseError::new(number, at, line.get(at..).unwrap_or(""), kind)
}

fn skip_blank(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn token_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
        i += 1;
    }
    i
}

fn type_word(word: &str) -> Option<MetricKind> {
    const WORDS: [(&str, MetricKind); 6] = [
        ("counter", MetricKind::Counter),
        ("gauge", MetricKind::Gauge),
        ("histogram", MetricKind::Histogram),
        ("summary", MetricKind::Summary),
        ("untyped", MetricKind::Unknown),
        ("unknown", MetricKind::Unknown),
    ];
    WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|&(_, k)| k)
}

/// The HELP/TYPE keyword of a comment line, if any: `(keyword, index after it)`.
fn keyword(line: &str) -> Option<(&str, usize)> {
    let b = line.as_bytes();
    let i = skip_blank(b, 0);
    if b.get(i) != Some(&b'#') {
        return None;
    }
    let k = skip_blank(b, i + 1);
    let e = token_end(b, k);
    match &line[k..e] {
        w @ ("HELP" | "TYPE") => Some((w, e)),
        _ => None,
    }
}

impl TextRules {
    /// Makes `name` the current family, creating it when new.
    fn select(&mut self, name: &str) {
        if self.current == name {
            return;
        }
        let state = self.others.remove(name).unwrap_or_default();
        let old = std::mem::replace(&mut self.current_state, state);
        let old_name = std::mem::replace(&mut self.current, name.to_owned());
        if !old_name.is_empty() {
            self.others.insert(old_name, old);
        }
    }

    fn metadata<'l>(
        &mut self,
        line: &'l str,
        n: u64,
        word: &str,
        at: usize,
    ) -> Result<Record<'l>, ParseError> {
        let b = line.as_bytes();
        let i = skip_blank(b, at);
        let (name, end) = labels::metadata_name(line, i).map_err(|(at, k)| err(line, n, at, k))?;
        if end < b.len() && b[end] != b' ' && b[end] != b'\t' {
            return Err(err(line, n, i, ErrorKind::InvalidMetricName));
        }
        self.select(name);
        let fam = &mut self.current_state;
        if word == "HELP" {
            if fam.help {
                return Err(err(
                    line,
                    n,
                    0,
                    ErrorKind::DuplicateMetadata { what: "HELP", name: name.into() },
                ));
            }
            fam.help = true;
            let t = skip_blank(b, end);
            return Ok(Record::Help { name, help: Help::new(&line[t..], Dialect::Text) });
        }
        if fam.kind.is_some() {
            return Err(err(line, n, 0, ErrorKind::DuplicateMetadata { what: "TYPE", name: name.into() }));
        }
        if fam.samples {
            return Err(err(line, n, 0, ErrorKind::MetadataAfterSamples { what: "TYPE", name: name.into() }));
        }
        let w0 = skip_blank(b, end);
        let w1 = token_end(b, w0);
        let Some(kind) = type_word(&line[w0..w1]) else {
            return Err(err(
                line,
                n,
                w0,
                ErrorKind::UnknownType {
                    word: line[w0..w1].into(),
                    allowed: "text 0.0.4 types are counter, gauge, histogram, summary and untyped",
                },
            ));
        };
        if skip_blank(b, w1) != b.len() {
            return Err(err(
                line,
                n,
                w1,
                ErrorKind::Expected { expected: "the end of the line after the type" },
            ));
        }
        fam.kind = Some(kind);
        Ok(Record::Type { name, kind })
    }

    /// Finds the family of sample `name` and its suffix, as Go's parser does.
    fn resolve(&mut self, name: &str) -> (MetricKind, Suffix) {
        let suffixed = |kind: Option<MetricKind>, name: &str, family: &str| -> Option<Suffix> {
            let rest = name.strip_prefix(family)?;
            match (kind?, rest) {
                (MetricKind::Histogram, "_bucket") => Some(Suffix::Bucket),
                (MetricKind::Histogram | MetricKind::Summary, "_count") => Some(Suffix::Count),
                (MetricKind::Histogram | MetricKind::Summary, "_sum") => Some(Suffix::Sum),
                _ => None,
            }
        };
        if self.current == name {
            return (self.current_state.kind.unwrap_or(MetricKind::Unknown), Suffix::Bare);
        }
        if let Some(s) = suffixed(self.current_state.kind, name, &self.current) {
            return (self.current_state.kind.unwrap_or(MetricKind::Unknown), s);
        }
        for suffix in ["_bucket", "_count", "_sum"] {
            if let Some(base) = name.strip_suffix(suffix)
                && let Some(f) = self.others.get(base)
                && let Some(s) = suffixed(f.kind, name, base)
            {
                let kind = f.kind.unwrap_or(MetricKind::Unknown);
                self.select(base);
                return (kind, s);
            }
        }
        self.select(name);
        (self.current_state.kind.unwrap_or(MetricKind::Unknown), Suffix::Bare)
    }

    fn sample<'l>(&mut self, line: &'l str, n: u64) -> Result<Record<'l>, ParseError> {
        let b = line.as_bytes();
        let start = skip_blank(b, 0);
        let head = labels::sample_head(line, start, Dialect::Text).map_err(|(at, k)| err(line, n, at, k))?;
        let name = head.name;
        let mut i = skip_blank(b, head.end);
        let (kind, suffix) = self.resolve(name);
        self.current_state.samples = true;
        let mut bound = None;
        let mut labels = Labels::empty(Dialect::Text);
        // Where the label set starts: after `{"name",`, or at a `{` after a bare name.
        let label_start = match head.labels {
            Some(at) => Some(at),
            None if !head.quoted && b.get(i) == Some(&b'{') => Some((i + 1, true)),
            None => None,
        };
        if let Some((from, first)) = label_start {
            let want = match (kind, suffix) {
                (MetricKind::Histogram, Suffix::Bucket) => Some("le"),
                (MetricKind::Summary, Suffix::Bare) => Some("quantile"),
                _ => None,
            };
            let end = labels::scan_from(line, from, Dialect::Text, first, |lname, value, col| {
                if Some(lname) == want {
                    let v = labels::unescape(value, Dialect::Text);
                    let f = text_float(v.trim()).map_err(|_| {
                        (
                            col,
                            ErrorKind::LabelRule { rule: "`le` and `quantile` label values MUST be floats" },
                        )
                    })?;
                    bound = Some(f);
                }
                Ok(())
            })
            .map_err(|(at, k)| err(line, n, at, k))?;
            labels = Labels::new(&line[from..end - 1], Dialect::Text);
            i = skip_blank(b, end);
        }
        // A bucket without `le`, a quantile without `quantile` (their `bound` is `None`) and a
        // histogram's bare name are read and left out of the model, as Go does.
        let v1 = token_end(b, i);
        if i == v1 {
            return Err(err(line, n, i, ErrorKind::Expected { expected: "a value" }));
        }
        let value =
            text_float(&line[i..v1]).map_err(|rule| err(line, n, i, ErrorKind::InvalidValue { rule }))?;
        let t0 = skip_blank(b, v1);
        let mut timestamp = None;
        if t0 < b.len() {
            let t1 = token_end(b, t0);
            let ms = line[t0..t1].parse::<i64>().map_err(|_| {
                err(
                    line,
                    n,
                    t0,
                    ErrorKind::InvalidTimestamp { rule: "text 0.0.4 timestamps are integer milliseconds" },
                )
            })?;
            timestamp = Some(Timestamp::Millis(ms));
            let e = skip_blank(b, t1);
            if e != b.len() {
                return Err(err(
                    line,
                    n,
                    e,
                    ErrorKind::Expected { expected: "the end of the line after the timestamp" },
                ));
            }
        }
        Ok(Record::Sample(Sample {
            name,
            suffix,
            kind,
            labels,
            bound,
            value,
            timestamp,
            exemplar: None,
            line: n,
        }))
    }
}

impl LineRules for TextRules {
    fn line<'l>(&mut self, line: &'l str, number: u64) -> Result<Option<Record<'l>>, ParseError> {
        if Self::is_silent(line) {
            return Ok(None);
        }
        if let Some((word, at)) = keyword(line) {
            return self.metadata(line, number, word, at).map(Some);
        }
        self.sample(line, number).map(Some)
    }

    fn end(&mut self, _last: u64) -> Result<(), ParseError> {
        Ok(())
    }

    fn is_silent(line: &str) -> bool {
        let t = line.trim_start_matches([' ', '\t']);
        t.is_empty() || (t.starts_with('#') && keyword(line).is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &str) -> Result<Vec<Record<'_>>, ParseError> {
        parse(input.as_bytes()).collect()
    }

    fn samples(input: &str) -> Vec<Sample<'_>> {
        all(input)
            .unwrap()
            .into_iter()
            .filter_map(|r| if let Record::Sample(s) = r { Some(s) } else { None })
            .collect()
    }

    fn error(input: &str) -> ParseError {
        all(input).unwrap_err()
    }

    #[test]
    fn untyped_samples_without_metadata_blank_lines_and_comments() {
        let s = samples("\n# a comment\n  \nup 1\n\t up2 2 \n");
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name, s[0].kind, s[0].suffix), ("up", MetricKind::Unknown, Suffix::Bare));
        assert_eq!(s[1].line, 5);
    }

    #[test]
    fn special_floats_in_every_spelling_go_reads() {
        let s = samples("a NaN\nb +Inf\nc -Inf\nd inf\ne Infinity\nf 1e+06\ng -0.5\nh .5\n");
        assert!(s[0].value.is_nan());
        assert_eq!(s[1].value, f64::INFINITY);
        assert_eq!(s[2].value, f64::NEG_INFINITY);
        assert_eq!(s[3].value, f64::INFINITY);
        assert_eq!(s[4].value, f64::INFINITY);
        assert_eq!(s[5].value, 1e6);
        assert_eq!(s[7].value, 0.5);
    }

    #[test]
    fn timestamps_are_integer_milliseconds() {
        let s = samples("a 1 1700000000123\nb 2 -5\n");
        assert_eq!(s[0].timestamp, Some(Timestamp::Millis(1_700_000_000_123)));
        assert_eq!(s[1].timestamp, Some(Timestamp::Millis(-5)));
        let e = error("a 1 1.5\n");
        assert!(matches!(e.kind, ErrorKind::InvalidTimestamp { .. }), "{e}");
        assert_eq!((e.line(), e.column()), (1, 5));
        assert!(matches!(error("a 1 2 3\n").kind, ErrorKind::Expected { .. }));
    }

    #[test]
    fn escaped_label_values_and_lenient_label_syntax() {
        let s = samples("a{ x = \"q\\\"uo\\\\te\\n\" , y=\"\",} 1\n");
        let pairs: Vec<_> = s[0].labels.iter().collect();
        assert_eq!(pairs[0].1, "q\"uo\\te\n");
        assert_eq!(pairs[1].1, "");
        assert!(matches!(error("a{x=\"\\t\"} 1\n").kind, ErrorKind::InvalidEscape));
        assert!(matches!(error("a{x=\"1} 1\n").kind, ErrorKind::UnterminatedLabelValue));
        assert!(matches!(error("a{x=\"1\",x=\"2\"} 1\n").kind, ErrorKind::DuplicateLabel { .. }));
        assert!(matches!(error("a{x=1} 1\n").kind, ErrorKind::Expected { .. }));
        assert!(matches!(error("a{0x=\"1\"} 1\n").kind, ErrorKind::InvalidLabelName));
    }

    #[test]
    fn help_and_type_resolve_suffixes() {
        let input = "# HELP h Lat\\\\ency\\n.\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n\
                     # TYPE s summary\ns{quantile=\"0.99\"} 1\ns_sum 1\ns_count 1\n# TYPE c_total counter\nc_total 1\n# TYPE u untyped\nu 1\n";
        let r = all(input).unwrap();
        let Record::Help { name, help } = r[0] else { panic!() };
        assert_eq!((name, help.text().as_ref()), ("h", "Lat\\ency\n."));
        let s: Vec<_> =
            r.iter().filter_map(|r| if let Record::Sample(s) = r { Some(*s) } else { None }).collect();
        assert_eq!((s[0].suffix, s[0].bound, s[0].family()), (Suffix::Bucket, Some(0.5), "h"));
        assert_eq!(s[1].bound, Some(f64::INFINITY));
        assert_eq!((s[2].suffix, s[3].suffix), (Suffix::Sum, Suffix::Count));
        assert_eq!((s[4].suffix, s[4].bound), (Suffix::Bare, Some(0.99)));
        assert_eq!((s[7].kind, s[7].suffix), (MetricKind::Counter, Suffix::Bare));
        assert_eq!(s[8].kind, MetricKind::Unknown);
    }

    #[test]
    fn metadata_rules_as_go_enforces_them() {
        let e = error("# HELP a x\n# HELP a y\n");
        assert!(matches!(e.kind, ErrorKind::DuplicateMetadata { what: "HELP", .. }));
        assert!(matches!(
            error("# TYPE a gauge\n# TYPE a gauge\n").kind,
            ErrorKind::DuplicateMetadata { .. }
        ));
        assert!(matches!(error("a 1\n# TYPE a gauge\n").kind, ErrorKind::MetadataAfterSamples { .. }));
        assert!(matches!(error("# TYPE a foo\n").kind, ErrorKind::UnknownType { .. }));
        assert!(matches!(error("# TYPE a gauge extra\n").kind, ErrorKind::Expected { .. }));
        assert!(matches!(error("# HELP 0a x\n").kind, ErrorKind::InvalidMetricName));
        // TYPE words are case-insensitive in Go
        assert_eq!(samples("# TYPE a COUNTER\na 1\n")[0].kind, MetricKind::Counter);
    }

    #[test]
    fn type_rules_for_buckets_and_quantiles() {
        // Go reads a bucket without `le` and a quantile without `quantile`, and drops them.
        assert_eq!(samples("# TYPE h histogram\nh_bucket 1\n")[0].bound, None);
        assert_eq!(samples("# TYPE s summary\ns 1\n")[0].bound, None);
        assert!(matches!(
            error("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n").kind,
            ErrorKind::LabelRule { .. }
        ));
        assert_eq!(samples("# TYPE h histogram\nh 1\n")[0].suffix, Suffix::Bare);
    }

    #[test]
    fn families_that_come_back_are_merged_as_in_go() {
        let s = samples("# TYPE h histogram\nh_sum 1\nother 2\nh_count 3\n");
        assert_eq!((s[2].family(), s[2].suffix), ("h", Suffix::Count));
    }

    #[test]
    fn malformed_lines_say_where() {
        let e = error("ok 1\nbad-name 1\n");
        assert_eq!(
            e.to_string(),
            "2:4: invalid value: values are Go floats: decimal, `+Inf`, `-Inf` or `NaN` (at `-name 1`)"
        );
        assert!(matches!(error("a\n").kind, ErrorKind::Expected { .. }));
        assert!(matches!(error("a x\n").kind, ErrorKind::InvalidValue { .. }));
        assert!(matches!(error("{a=\"b\"} 1\n").kind, ErrorKind::InvalidMetricName));
        let e = all("a 1\n\u{0}\u{ff}").unwrap_err();
        assert_eq!(e.line(), 2);
        let bytes = b"a 1\nb \xff\n";
        let e = parse(bytes).collect::<Result<Vec<_>, _>>().unwrap_err();
        assert_eq!((e.line(), e.column(), &e.kind), (2, 3, &ErrorKind::InvalidUtf8));
    }

    #[test]
    fn the_reader_bounds_lines_and_matches_the_slice_parser() {
        let input = "# TYPE a gauge\na{x=\"1\"} 1\n\n# c\na{x=\"2\"} 2";
        let mut r = reader(std::io::BufReader::with_capacity(3, input.as_bytes()));
        let mut names = Vec::new();
        while let Some(rec) = r.next_record() {
            if let Record::Sample(s) = rec.unwrap() {
                names.push(s.labels.get("x").unwrap().into_owned());
            }
        }
        assert_eq!(names, ["1", "2"]);
        let long = format!("a{{x=\"{}\"}} 1\n", "y".repeat(100));
        let mut r = reader(long.as_bytes()).max_line(50);
        assert!(matches!(
            r.next_record(),
            Some(Err(ParseError { kind: ErrorKind::LineTooLong { limit: 50 }, .. }))
        ));
    }
}
