//! The library behind the `promkit` command: reading an input in any exposition format,
//! checking it (parse + lint), converting it, and showing where a parse error is.
//!
//! The command is `promkit check|convert|scrape|diff`; see the README.
#![doc = include_str!("../README.md")]

use std::fmt::Write as _;
use std::io::Read;

use promkit::model::{MetricFamily, MetricType, SampleValue};
use promkit_parse::ParseError;
use promkit_parse::model::{Format, parse};
use promkit_testutil::{Problem, lint};

/// Exit code for input that does not parse (as `promtool check metrics`).
pub const EXIT_PARSE: i32 = 1;
/// Exit code for input that parses but breaks a naming convention (as `promtool`).
pub const EXIT_LINT: i32 = 3;

/// Guesses the format of bytes from a file or stdin: protobuf when they hold control bytes
/// no text exposition has (protobuf's field tags are some) or are not UTF-8, OpenMetrics when
/// the text ends in `# EOF`, text otherwise.
pub fn detect(input: &[u8]) -> Format {
    let binary = input.iter().any(|b| *b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t'));
    match std::str::from_utf8(input) {
        Ok(_) if binary => Format::Protobuf,
        Ok(s) if s.trim_end().ends_with("# EOF") => Format::OpenMetrics,
        Ok(_) => Format::Text,
        Err(_) => Format::Protobuf,
    }
}

/// A parse error shown with the offending line and a caret under its column (text formats).
pub fn explain(error: &ParseError, format: Format, input: &[u8]) -> String {
    let mut out = format!("error: {error}");
    if format == Format::Protobuf {
        return out;
    }
    let line = usize::try_from(error.line()).unwrap_or(usize::MAX);
    if let Some(text) = input.split(|b| *b == b'\n').nth(line.saturating_sub(1)) {
        let text = String::from_utf8_lossy(text);
        let column = usize::try_from(error.column()).unwrap_or(1).max(1);
        let _ = write!(out, "\n{line:>5} | {text}\n      | {}^", " ".repeat(column - 1));
    }
    out
}

/// What `promkit check` found.
#[derive(Debug)]
pub enum Checked {
    /// Parsed: the families and the lint's problems (empty when clean or not linted).
    Parsed(Vec<MetricFamily>, Vec<Problem>),
    /// Did not parse: the error, explained.
    Failed(String),
}

impl Checked {
    /// The exit code: 0, [`EXIT_PARSE`] or [`EXIT_LINT`].
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Parsed(_, problems) if problems.is_empty() => 0,
            Self::Parsed(..) => EXIT_LINT,
            Self::Failed(_) => EXIT_PARSE,
        }
    }
}

/// Parses `input` (in `format`, or guessed when `None`) and lints it unless `no_lint`.
pub fn check(input: &[u8], format: Option<Format>, no_lint: bool) -> Checked {
    let format = format.unwrap_or_else(|| detect(input));
    match parse(format, input) {
        Ok(families) => {
            let problems = if no_lint { Vec::new() } else { lint(&families) };
            Checked::Parsed(families, problems)
        }
        Err(e) => Checked::Failed(explain(&e, format, input)),
    }
}

/// Reads a path, `-` for stdin.
///
/// # Errors
/// The I/O error, naming the path.
pub fn read_input(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| format!("stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("{path}: {e}"))
    }
}

/// Families as JSON: `[{"name", "type", "help", "unit", "samples": [{"labels", ...}]}]`.
/// `"type"` is the text format's word (`untyped`), or OpenMetrics' for its own types (`info`,
/// `stateset`, `gaugehistogram`, whose samples are shaped as gauges and histograms).
/// Counters, gauges and untyped values are `"value"`; histograms `"buckets"` (`[le, cumulative]`,
/// `+Inf` last), `"count"`, `"sum"`; summaries `"quantiles"` (`[q, value]`), `"count"`, `"sum"`.
/// Non-finite floats are strings (`"NaN"`, `"+Inf"`, `"-Inf"`).
pub fn to_json(families: &[MetricFamily]) -> String {
    use serde_json::{Map, Value, json};
    fn num(v: f64) -> Value {
        if v.is_nan() {
            json!("NaN")
        } else if v.is_infinite() {
            json!(if v > 0.0 { "+Inf" } else { "-Inf" })
        } else {
            json!(v)
        }
    }
    let out: Vec<Value> = families
        .iter()
        .map(|f| {
            let samples: Vec<Value> = f
                .samples
                .iter()
                .map(|s| {
                    let labels: Map<String, Value> =
                        s.labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                    let mut m = Map::new();
                    m.insert("labels".into(), Value::Object(labels));
                    match &s.value {
                        SampleValue::Counter(v) | SampleValue::Gauge(v) | SampleValue::Untyped(v) => {
                            m.insert("value".into(), num(*v));
                        }
                        SampleValue::Histogram(h) => {
                            let bounds = h.buckets.bounds().iter().copied().chain([f64::INFINITY]);
                            let buckets: Vec<Value> =
                                bounds.zip(&h.cumulative).map(|(le, c)| json!([num(le), c])).collect();
                            m.insert("buckets".into(), json!(buckets));
                            m.insert("count".into(), json!(h.count()));
                            m.insert("sum".into(), num(h.sum));
                        }
                        SampleValue::Summary(q) => {
                            let quantiles: Vec<Value> = q
                                .quantiles
                                .objectives()
                                .iter()
                                .zip(&q.values)
                                .map(|((q, _), v)| json!([num(*q), num(*v)]))
                                .collect();
                            m.insert("quantiles".into(), json!(quantiles));
                            m.insert("count".into(), json!(q.count));
                            m.insert("sum".into(), num(q.sum));
                        }
                        _ => {}
                    }
                    if let Some(ts) = s.timestamp_ms {
                        m.insert("timestamp_ms".into(), json!(ts));
                    }
                    Value::Object(m)
                })
                .collect();
            json!({
                "name": f.name,
                "type": type_word(f.kind),
                "help": f.help,
                "unit": f.unit,
                "samples": samples,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&out).unwrap_or_default();
    s.push('\n');
    s
}

/// The `"type"` of a family in JSON: the text format's word, except for OpenMetrics' own
/// types, which keep theirs (`info`, `stateset`, `gaugehistogram`).
fn type_word(kind: MetricType) -> &'static str {
    match kind {
        MetricType::Info | MetricType::StateSet | MetricType::GaugeHistogram => kind.as_openmetrics(),
        other => other.as_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_tells_the_formats_apart() {
        assert_eq!(detect(b"up 1\n"), Format::Text);
        assert_eq!(detect(b"# TYPE up gauge\nup 1\n# EOF\n"), Format::OpenMetrics);
        let mut pb = Vec::new();
        let families = parse(Format::Text, b"# TYPE up gauge\nup 1\n").unwrap();
        promkit::encode::encode_families(&families, promkit::Format::Protobuf, &mut pb);
        assert_eq!(detect(&pb), Format::Protobuf);
    }

    #[test]
    fn json_spells_non_finite_floats_as_strings() {
        let families = parse(Format::Text, b"# TYPE g gauge\ng{a=\"b\"} NaN\n").unwrap();
        let json: serde_json::Value = serde_json::from_str(&to_json(&families)).unwrap();
        assert_eq!(json[0]["samples"][0]["value"], "NaN");
        assert_eq!(json[0]["samples"][0]["labels"]["a"], "b");
    }
}
