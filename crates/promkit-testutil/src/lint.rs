//! Naming and metadata checks after client_golang's `promlint`, with its problem texts, plus
//! OpenMetrics' rule that a unit is a suffix of the name.
//!
//! ```
//! use promkit_testutil::lint::lint;
//! let families = promkit_parse::model::from_text(b"# TYPE success_counter counter\nsuccess_counter 1\n")?;
//! let problems: Vec<String> = lint(&families).iter().map(ToString::to_string).collect();
//! assert_eq!(problems, [
//!     "success_counter: no help text",
//!     "success_counter: counter metrics should have \"_total\" suffix",
//!     "success_counter: metric name should not include type 'counter'",
//! ]);
//! # Ok::<(), promkit_parse::ParseError>(())
//! ```

use std::fmt;

use promkit::model::{MetricFamily, MetricType};

/// One convention a family breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The family's name.
    pub metric: String,
    /// What is wrong, in Go's words where Go has them.
    pub text: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.metric, self.text)
    }
}

/// Base units Go's promlint knows, and the SI prefixes that make them non-base.
const BASE_UNITS: &[&str] =
    &["amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds", "volts"];
const PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega", "mebi",
    "giga", "gibi", "tera", "tebi", "peta", "pebi",
];
/// Time units that are not the base unit (seconds).
const TIME_UNITS: &[&str] = &["minutes", "hours", "days", "weeks"];
/// Abbreviations Go's promlint refuses as name parts.
const ABBREVIATIONS: &[&str] =
    &["s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"];

/// Lints families, in order; each family's problems in a fixed rule order.
pub fn lint(families: &[MetricFamily]) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in families {
        let mut problem = |text: String| out.push(Problem { metric: f.name.clone(), text });
        if !seen.insert(&f.name) {
            problem("metric not unique".into());
        }
        if f.help.is_empty() {
            problem("no help text".into());
        }
        let name = f.name.as_str();
        let parts: Vec<&str> = name.split('_').collect();
        for part in &parts {
            let lower = part.to_ascii_lowercase();
            if let Some(p) = PREFIXES
                .iter()
                .find(|p| lower.strip_prefix(**p).is_some_and(|rest| BASE_UNITS.contains(&rest)))
            {
                problem(format!("use base unit {:?} instead of {:?}", &lower[p.len()..], lower));
            }
            if TIME_UNITS.contains(&lower.as_str()) {
                problem(format!("use base unit \"seconds\" instead of {lower:?}"));
            }
        }
        let is_counter = f.kind == MetricType::Counter;
        if is_counter && !name.ends_with("_total") {
            problem("counter metrics should have \"_total\" suffix".into());
        }
        if !is_counter && name.ends_with("_total") {
            problem("non-counter metrics should not have \"_total\" suffix".into());
        }
        if !is_counter && parts.iter().any(|p| p.eq_ignore_ascii_case("total")) && !name.ends_with("_total") {
            problem("non-counter metrics should not have \"total\" in their name".into());
        }
        let hist_or_summary =
            matches!(f.kind, MetricType::Histogram | MetricType::GaugeHistogram | MetricType::Summary);
        if !hist_or_summary {
            for suffix in ["_count", "_sum", "_bucket"] {
                if name.ends_with(suffix) {
                    problem(format!(
                        "non-histogram and non-summary metrics should not have {suffix:?} suffix"
                    ));
                }
            }
        }
        let has_label = |l: &str| f.samples.iter().any(|s| s.labels.iter().any(|(n, _)| n == l));
        if !matches!(f.kind, MetricType::Histogram | MetricType::GaugeHistogram) && has_label("le") {
            problem("non-histogram metrics should not have \"le\" label".into());
        }
        if f.kind != MetricType::Summary && has_label("quantile") {
            problem("non-summary metrics should not have \"quantile\" label".into());
        }
        let kind = f.kind.as_text();
        if parts.iter().any(|p| p.eq_ignore_ascii_case(kind)) {
            problem(format!("metric name should not include type '{kind}'"));
        }
        if name.contains(':') {
            problem("metric names should not contain ':'".into());
        }
        if is_camel(name) {
            problem("metric names should be written in 'snake_case' not 'camelCase'".into());
        }
        let mut labels: Vec<&str> = f
            .samples
            .iter()
            .flat_map(|s| s.labels.iter().map(|(n, _)| n.as_str()))
            .filter(|n| is_camel(n))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        for _ in labels {
            problem("label names should be written in 'snake_case' not 'camelCase'".into());
        }
        if parts.iter().any(|p| ABBREVIATIONS.contains(&p.to_ascii_lowercase().as_str())) {
            problem("metric names should not contain abbreviated units".into());
        }
        if !f.unit.is_empty() {
            let base = name.strip_suffix("_total").unwrap_or(name);
            if !base.ends_with(&format!("_{}", f.unit)) {
                problem(format!("unit {:?} is not a suffix of the metric name", f.unit));
            }
        }
    }
    out
}

/// A lower-case letter directly followed by an upper-case one.
fn is_camel(s: &str) -> bool {
    s.as_bytes().windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(exposition: &str) -> Vec<String> {
        lint(&promkit_parse::model::from_text(exposition.as_bytes()).unwrap())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn openmetrics_types_are_linted_as_their_shapes() {
        let om = "# HELP app Build.\n# TYPE app info\napp_info{v=\"1\"} 1\n# HELP mode S.\n# TYPE mode stateset\n\
                  mode{mode=\"a\"} 1\n# HELP q_seconds Q.\n# TYPE q_seconds gaugehistogram\n\
                  q_seconds_bucket{le=\"+Inf\"} 1\nq_seconds_gsum 1\nq_seconds_gcount 1\n# EOF\n";
        let families = promkit_parse::model::from_openmetrics(om.as_bytes()).unwrap();
        assert!(lint(&families).is_empty(), "{:?}", lint(&families));
        let gh =
            "# HELP q_bucket Q.\n# TYPE q_bucket gaugehistogram\nq_bucket_bucket{le=\"+Inf\"} 1\n# EOF\n";
        let families = promkit_parse::model::from_openmetrics(gh.as_bytes()).unwrap();
        assert!(lint(&families).is_empty(), "a gauge histogram may end in _bucket, as a histogram may");
    }

    #[test]
    fn each_rule_speaks_as_go_does() {
        assert_eq!(
            texts("# HELP a_milliseconds A.\n# TYPE a_milliseconds gauge\na_milliseconds 1\n"),
            ["a_milliseconds: use base unit \"seconds\" instead of \"milliseconds\""]
        );
        assert_eq!(
            texts("# HELP up_hours U.\n# TYPE up_hours gauge\nup_hours 1\n"),
            ["up_hours: use base unit \"seconds\" instead of \"hours\""]
        );
        assert_eq!(
            texts("# HELP x_total X.\n# TYPE x_total gauge\nx_total 1\n"),
            ["x_total: non-counter metrics should not have \"_total\" suffix"]
        );
        assert_eq!(
            texts("# HELP req_count R.\n# TYPE req_count gauge\nreq_count{le=\"1\"} 1\n"),
            [
                "req_count: non-histogram and non-summary metrics should not have \"_count\" suffix",
                "req_count: non-histogram metrics should not have \"le\" label"
            ]
        );
        assert_eq!(
            texts("# HELP reqLat_s R.\n# TYPE reqLat_s gauge\nreqLat_s{httpCode=\"1\"} 1\n"),
            [
                "reqLat_s: metric names should be written in 'snake_case' not 'camelCase'",
                "reqLat_s: label names should be written in 'snake_case' not 'camelCase'",
                "reqLat_s: metric names should not contain abbreviated units"
            ]
        );
        assert_eq!(
            texts("# HELP a:b A.\n# TYPE a:b gauge\na:b 1\n"),
            ["a:b: metric names should not contain ':'"]
        );
        assert_eq!(
            texts("# HELP ok_seconds O.\n# TYPE ok_seconds gauge\nok_seconds 1\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_unit_must_end_the_name() {
        let f = promkit_parse::model::from_openmetrics(
            b"# TYPE a counter\n# HELP a A.\n# UNIT a seconds\na_total 1\n# EOF\n",
        );
        // the OpenMetrics parser itself refuses this; lint a model built by hand instead
        let mut families = match f {
            Ok(f) => f,
            Err(_) => {
                promkit_parse::model::from_text(b"# HELP a_total A.\n# TYPE a_total counter\na_total 1\n")
                    .unwrap()
            }
        };
        families[0].unit = "seconds".into();
        assert_eq!(
            lint(&families).iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["a_total: unit \"seconds\" is not a suffix of the metric name"]
        );
    }
}
