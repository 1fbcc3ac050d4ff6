//! The official Python client's parsers (`prometheus_client`), through
//! `tools/oracle/parse.py`.

use std::collections::BTreeMap;
use std::process::Command;

use serde::{Deserialize, Deserializer};

use crate::locate::{repo_file, venv_dir};
use crate::policy::missing;
use crate::run::{describe, run};

/// Which `prometheus_client` parser reads the exposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Text 0.0.4: `prometheus_client.parser.text_string_to_metric_families`. Lenient:
    /// it also accepts much that promtool rejects, an OpenMetrics body included.
    Text,
    /// OpenMetrics 1.0: `prometheus_client.openmetrics.parser.text_string_to_metric_families`.
    /// Strict; the body must end with `# EOF`.
    OpenMetrics,
}

impl Format {
    fn arg(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::OpenMetrics => "openmetrics",
        }
    }
}

/// A metric family as `prometheus_client` parsed it.
///
/// The Python parsers name families their own way: a counter `x_total` is family `x`
/// with sample `x_total`; an untyped family is `unknown`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PyFamily {
    /// The family name.
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`,
    /// `stateset` or `unknown`.
    pub r#type: String,
    /// The HELP text, unescaped; empty when there was none.
    pub help: String,
    /// The UNIT (OpenMetrics only); empty when there was none.
    pub unit: String,
    /// The samples, in input order.
    pub samples: Vec<PySample>,
}

/// One sample line as `prometheus_client` parsed it.
///
/// Derived equality compares floats with `==`, so a NaN value is never equal: check
/// `value.is_nan()` for those.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PySample {
    /// The sample name, suffix included (`x_total`, `x_bucket`, `x_created`).
    pub name: String,
    /// The labels, unescaped (`le` and `quantile` included).
    pub labels: BTreeMap<String, String>,
    /// The value (NaN and the infinities survive the trip from Python).
    #[serde(deserialize_with = "float")]
    pub value: f64,
    /// The timestamp in seconds (the text format's milliseconds divided by 1000).
    #[serde(deserialize_with = "optional_float")]
    pub timestamp: Option<f64>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<PyExemplar>,
}

/// An OpenMetrics exemplar as `prometheus_client` parsed it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PyExemplar {
    /// The exemplar's labels.
    pub labels: BTreeMap<String, String>,
    /// The exemplar's value.
    #[serde(deserialize_with = "float")]
    pub value: f64,
    /// The exemplar's timestamp in seconds.
    #[serde(deserialize_with = "optional_float")]
    pub timestamp: Option<f64>,
}

/// parse.py writes numbers as Python's `repr` (`1.0`, `1e-05`, `nan`, `inf`, `-inf`)
/// or as OpenMetrics timestamps (`1.500000000`); Rust's parser reads all of them.
fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|e| serde::de::Error::custom(format!("number {s:?}: {e}")))
}

fn optional_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|e| serde::de::Error::custom(format!("timestamp {s:?}: {e}"))),
    }
}

/// Parses an exposition with the official Python client's parser for `format`.
///
/// `Ok` holds the families as Python read them; `Err` the parser's complaint, e.g.
/// `ValueError: Missing # EOF at end`.
///
/// Returns `None` when the venv (`$PROMKIT_VENV`, default `~/.cache/promkit/venv`) or
/// `prometheus-client` in it is missing and this is not a CI run.
///
/// # Panics
///
/// Under CI when the venv or the package is missing; when the script cannot be run,
/// crashes, or prints JSON this crate cannot read.
///
/// ```
/// use promkit_oracle::{Format, python_parse};
///
/// if let Some(parsed) = python_parse("# TYPE a_total counter\na_total 1\n", Format::Text) {
///     let families = parsed.expect("parses");
///     assert_eq!(families[0].name, "a");
///     assert_eq!(families[0].samples[0].name, "a_total");
///     assert_eq!(families[0].samples[0].value, 1.0);
/// }
/// ```
pub fn python_parse(text: &str, format: Format) -> Option<Result<Vec<PyFamily>, String>> {
    const HOW: &str = "scripts/install-deps makes a venv with prometheus-client";
    let venv = venv_dir();
    let python = venv.join("bin/python");
    if !python.exists() {
        return missing(&format!("python venv {}", venv.display()), HOW);
    }
    let script = repo_file("tools/oracle/parse.py");
    let out =
        run(Command::new(&python).arg(&script).arg(format.arg()).env("PROMKIT_VENV", &venv), text.as_bytes())
            .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", python.display(), script.display()));
    match out.status.code() {
        Some(0) => Some(Ok(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "parse.py printed JSON that does not fit PyFamily: {e}\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        }))),
        Some(1) => Some(Err(String::from_utf8_lossy(&out.stderr).trim_end().to_owned())),
        Some(77) => missing(&format!("prometheus_client in {}", venv.display()), HOW),
        _ => panic!("parse.py {} failed: {}", format.arg(), describe(&out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn sample(name: &str, l: &[(&str, &str)], value: f64, timestamp: Option<f64>) -> PySample {
        PySample { name: name.into(), labels: labels(l), value, timestamp, exemplar: None }
    }

    #[test]
    fn text_counter_family_drops_total() {
        let Some(parsed) = python_parse("# TYPE a_total counter\na_total 1\n", Format::Text) else {
            return;
        };
        assert_eq!(
            parsed,
            Ok(vec![PyFamily {
                name: "a".into(),
                r#type: "counter".into(),
                help: String::new(),
                unit: String::new(),
                samples: vec![sample("a_total", &[], 1.0, None)],
            }])
        );
    }

    #[test]
    fn text_escapes_floats_and_timestamps() {
        let text = concat!(
            "# HELP g A \\\\ backslash\\nand newline\n",
            "# TYPE g gauge\n",
            "g{l=\"a\\\"b\\\\c\\nd\"} -1.5e-05 1500\n",
            "g{l=\"inf\"} +Inf\n",
            "g{l=\"ninf\"} -Inf\n",
            "g{l=\"nan\"} NaN\n",
            "u 1e+300\n",
        );
        let Some(parsed) = python_parse(text, Format::Text) else {
            return;
        };
        let families = parsed.unwrap();
        assert_eq!(families.len(), 2);
        let g = &families[0];
        assert_eq!(
            (g.name.as_str(), g.r#type.as_str(), g.help.as_str()),
            ("g", "gauge", "A \\ backslash\nand newline")
        );
        assert_eq!(
            g.samples[..3],
            [
                sample("g", &[("l", "a\"b\\c\nd")], -1.5e-05, Some(1.5)),
                sample("g", &[("l", "inf")], f64::INFINITY, None),
                sample("g", &[("l", "ninf")], f64::NEG_INFINITY, None),
            ]
        );
        assert!(g.samples[3].value.is_nan());
        assert_eq!(families[1].r#type, "unknown");
        assert_eq!(families[1].samples, [sample("u", &[], 1e300, None)]);
    }

    #[test]
    fn openmetrics_unit_help_exemplar_timestamps() {
        let text = concat!(
            "# TYPE req_seconds counter\n",
            "# UNIT req_seconds seconds\n",
            "# HELP req_seconds Say \\\"hi\\\".\n",
            "req_seconds_total{path=\"/\"} 3.0 1.5 # {trace_id=\"abc\"} 0.25 2.125\n",
            "req_seconds_created{path=\"/\"} 1000.0 1.5\n",
            "# EOF\n",
        );
        let Some(parsed) = python_parse(text, Format::OpenMetrics) else {
            return;
        };
        let families = parsed.unwrap();
        assert_eq!(
            families,
            [PyFamily {
                name: "req_seconds".into(),
                r#type: "counter".into(),
                help: "Say \"hi\".".into(),
                unit: "seconds".into(),
                samples: vec![
                    PySample {
                        exemplar: Some(PyExemplar {
                            labels: labels(&[("trace_id", "abc")]),
                            value: 0.25,
                            timestamp: Some(2.125),
                        }),
                        ..sample("req_seconds_total", &[("path", "/")], 3.0, Some(1.5))
                    },
                    sample("req_seconds_created", &[("path", "/")], 1000.0, Some(1.5)),
                ],
            }]
        );
    }

    #[test]
    fn openmetrics_rejects_missing_eof() {
        let Some(parsed) = python_parse("# TYPE a gauge\na 1\n", Format::OpenMetrics) else {
            return;
        };
        assert_eq!(parsed, Err("ValueError: Missing # EOF at end".to_owned()));
    }

    #[test]
    fn text_rejects_garbage_value() {
        let Some(parsed) = python_parse("a 1,5\n", Format::Text) else {
            return;
        };
        assert_eq!(parsed, Err("ValueError: could not convert string to float: '1,5'".to_owned()));
    }
}
