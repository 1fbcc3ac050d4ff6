//! Flow files: flows and sites read from and written to JSON or YAML.
//!
//! YAML goes through `serde-saphyr`: a maintained, pure-Rust (`forbid(unsafe_code)`) serde
//! layer over the saphyr parser, with limits against alias bombs. `serde_yaml` is deprecated
//! and its forks (`serde_yaml_ng`, `serde_yml`) sit on the unmaintained `unsafe-libyaml`.
//!
//! An import document is one flow, a list of flows, or a map with a `flows` list (what a site
//! export holds):
//!
//! ```yaml
//! name: contact form
//! driver: http          # default
//! start_url: /contact   # relative to the site's base URL
//! steps:
//!   - kind: fill
//!     selector: "input[name=email]"
//!     value: ada@example.com
//!   - kind: submit
//!   - kind: expect_text
//!     text: Thank you
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::{FlowSpec, Step};

/// A document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`
    Json,
    /// `application/yaml`
    Yaml,
}

impl Format {
    /// The format of a request's `Content-Type` (parameters ignored): JSON for
    /// `application/json` and `+json` types, YAML for `application/yaml`, `application/x-yaml`,
    /// `text/yaml` and `text/x-yaml`.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let mime = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match mime.as_str() {
            "application/json" => Some(Self::Json),
            m if m.starts_with("application/") && m.ends_with("+json") => Some(Self::Json),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => Some(Self::Yaml),
            _ => None,
        }
    }

    /// The format named in a query (`json`, `yaml` or `yml`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "yaml" | "yml" => Some(Self::Yaml),
            _ => None,
        }
    }

    /// The `Content-Type` to answer with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Yaml => "application/yaml",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
        }
    }
}

/// A document that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowFileError {
    /// The body is not UTF-8 text.
    #[error("the document is not UTF-8 text (byte {valid_up_to} is not)")]
    NotUtf8 {
        /// How many leading bytes were valid.
        valid_up_to: usize,
    },
    /// Malformed JSON, or JSON of the wrong shape.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Malformed YAML, or YAML of the wrong shape.
    #[error("bad YAML: {0}")]
    Yaml(#[from] serde_saphyr::Error),
    /// Readable, but not a flow document.
    #[error("not a flow document: {0}")]
    Shape(String),
    /// Writing YAML failed.
    #[error("cannot write YAML: {0}")]
    YamlWrite(String),
}

/// Reads any document of `T` in `format`.
///
/// # Errors
///
/// [`FlowFileError`] naming the problem and, for YAML and JSON syntax, where it is.
pub fn parse<T: DeserializeOwned>(body: &[u8], format: Format) -> Result<T, FlowFileError> {
    let text =
        std::str::from_utf8(body).map_err(|e| FlowFileError::NotUtf8 { valid_up_to: e.valid_up_to() })?;
    match format {
        Format::Json => Ok(serde_json::from_str(text)?),
        Format::Yaml => Ok(serde_saphyr::from_str(text)?),
    }
}

/// The one-flow-or-many import document, with its fields loose so that shape errors name the
/// missing field.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportDoc {
    #[serde(default)]
    flows: Option<Vec<FlowSpec>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    driver: Option<String>,
    #[serde(default)]
    start_url: Option<String>,
    #[serde(default)]
    steps: Option<Vec<Step>>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    interval_secs: Option<u64>,
    #[serde(default)]
    timeout_secs: Option<u64>,
}

/// Whether the document's first content is a sequence (`[` in JSON; `-` or `[` in YAML).
fn is_sequence(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---")
        .is_some_and(|l| l.starts_with('[') || l == "-" || l.starts_with("- "))
}

/// Reads the flows of an import document: one flow, a list of flows, or `{flows: [...]}`.
///
/// # Errors
///
/// [`FlowFileError`]: bad syntax, an unknown step kind or field, a missing field.
pub fn parse_flows(body: &[u8], format: Format) -> Result<Vec<FlowSpec>, FlowFileError> {
    let text =
        std::str::from_utf8(body).map_err(|e| FlowFileError::NotUtf8 { valid_up_to: e.valid_up_to() })?;
    if is_sequence(text) {
        return parse(body, format);
    }
    let doc: ImportDoc = parse(body, format)?;
    match doc {
        ImportDoc {
            flows: Some(flows),
            name: None,
            driver: None,
            start_url: None,
            steps: None,
            retries: None,
            interval_secs: None,
            timeout_secs: None,
        } => Ok(flows),
        ImportDoc { flows: Some(_), .. } => {
            Err(FlowFileError::Shape("a document with `flows` holds nothing else at its top level".into()))
        }
        ImportDoc { flows: None, name, driver, start_url, steps, retries, interval_secs, timeout_secs } => {
            let name =
                name.ok_or_else(|| FlowFileError::Shape("missing field `name` (or a `flows` list)".into()))?;
            let start_url =
                start_url.ok_or_else(|| FlowFileError::Shape("missing field `start_url`".into()))?;
            Ok(vec![FlowSpec {
                retries,
                interval_secs,
                timeout_secs,
                name,
                driver: driver.unwrap_or_else(crate::domain::default_driver_name),
                start_url,
                steps: steps.unwrap_or_default(),
            }])
        }
    }
}

/// Writes a document in `format`, ending with a newline.
///
/// # Errors
///
/// [`FlowFileError::YamlWrite`] when the YAML writer refuses the value (JSON cannot fail for
/// the domain's types).
pub fn write<T: Serialize>(value: &T, format: Format) -> Result<String, FlowFileError> {
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(value)?;
            text.push('\n');
            Ok(text)
        }
        Format::Yaml => {
            let mut text =
                serde_saphyr::to_string(value).map_err(|e| FlowFileError::YamlWrite(e.to_string()))?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> FlowSpec {
        FlowSpec {
            retries: None,
            interval_secs: None,
            timeout_secs: None,
            name: "contact: \"quoted\" <b>".into(),
            driver: "http".into(),
            start_url: "/contact?x=1#top".into(),
            steps: vec![
                Step::Fill { selector: "input[name='email']".into(), value: "a@b.example".into() },
                Step::Select { selector: "#topic".into(), value: "yes".into() },
                Step::Submit { selector: None },
                Step::WaitFor { selector: ".done".into(), timeout_ms: Some(1500) },
                Step::ExpectStatus { status: 200 },
                Step::ExpectText { text: "Thanks!\nSee you".into() },
                Step::ExpectUrl { url: "/thanks".into() },
                Step::Fill { selector: "#n".into(), value: "123".into() },
                Step::Fill { selector: "#b".into(), value: "true".into() },
                Step::Fill { selector: "#e".into(), value: String::new() },
            ],
        }
    }

    #[test]
    fn yaml_and_json_round_trip() {
        for format in [Format::Json, Format::Yaml] {
            let text = write(&flow(), format).unwrap();
            assert_eq!(parse_flows(text.as_bytes(), format).unwrap(), vec![flow()], "{text}");
        }
    }

    #[test]
    fn lists_and_flow_maps_import() {
        let yaml =
            "# two flows\n- name: a\n  start_url: /a\n- name: b\n  start_url: /b\n  driver: webdriver\n";
        let flows = parse_flows(yaml.as_bytes(), Format::Yaml).unwrap();
        assert_eq!(flows.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(flows[1].driver, "webdriver");
        let json = r#"{"flows":[{"name":"a","start_url":"/a","steps":[{"kind":"click","selector":"a"}]}]}"#;
        assert_eq!(parse_flows(json.as_bytes(), Format::Json).unwrap()[0].steps.len(), 1);
    }

    #[test]
    fn a_single_flow_keeps_its_schedule_timeout_and_retries() {
        let yaml = "name: a\nstart_url: /a\nretries: 2\ninterval_secs: 300\ntimeout_secs: 45\n";
        let flows = parse_flows(yaml.as_bytes(), Format::Yaml).unwrap();
        assert_eq!(
            (flows[0].retries, flows[0].interval_secs, flows[0].timeout_secs),
            (Some(2), Some(300), Some(45))
        );
        let text = write(&flows[0], Format::Yaml).unwrap();
        assert!(text.contains("interval_secs: 300\ntimeout_secs: 45\n"), "{text}");
        assert_eq!(parse_flows(text.as_bytes(), Format::Yaml).unwrap(), flows);
        let json = write(&flows[0], Format::Json).unwrap();
        assert_eq!(parse_flows(json.as_bytes(), Format::Json).unwrap(), flows);
    }

    #[test]
    fn errors_name_the_problem() {
        let bad_kind = "name: a\nstart_url: /\nsteps:\n  - kind: hover\n    selector: a\n";
        let err = parse_flows(bad_kind.as_bytes(), Format::Yaml).unwrap_err().to_string();
        assert!(err.contains("hover"), "{err}");
        let err = parse_flows(b"name: [unclosed", Format::Yaml).unwrap_err().to_string();
        assert!(err.starts_with("bad YAML"), "{err}");
        let err = parse_flows(b"start_url: /", Format::Yaml).unwrap_err().to_string();
        assert_eq!(err, "not a flow document: missing field `name` (or a `flows` list)");
        let err = parse_flows(b"{\"nam\": 1}", Format::Json).unwrap_err().to_string();
        assert!(err.contains("unknown field `nam`"), "{err}");
        let err = parse_flows(b"\xff", Format::Json).unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn content_types() {
        assert_eq!(Format::from_content_type("application/json; charset=utf-8"), Some(Format::Json));
        assert_eq!(Format::from_content_type("Application/YAML"), Some(Format::Yaml));
        assert_eq!(Format::from_content_type("text/x-yaml"), Some(Format::Yaml));
        assert_eq!(Format::from_content_type("text/plain"), None);
        assert_eq!(Format::from_name("yml"), Some(Format::Yaml));
    }
}
