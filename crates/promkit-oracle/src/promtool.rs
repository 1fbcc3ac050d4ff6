//! `promtool check metrics`: Prometheus' own strict text 0.0.4 parser plus its linter.

use std::process::Command;

use crate::locate::{promtool_name, which};
use crate::policy::missing;
use crate::run::{describe, run};

/// What `promtool check metrics` said about an exposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromtoolReport {
    /// The exposition parsed: promtool exited 0 (clean) or 3 (lint warnings only).
    /// `false` when it exited 1, a parse error (`error while linting: …` in `output`).
    pub ok: bool,
    /// One entry per lint warning, as promtool words it, e.g.
    /// `a counter metrics should have "_total" suffix` or `a no help text`.
    /// Empty when promtool exited 0 or 1.
    pub lint: Vec<String>,
    /// Everything promtool printed (stdout, then stderr), for failure messages.
    pub output: String,
}

/// Checks a text 0.0.4 exposition with `promtool check metrics`.
///
/// promtool reads text 0.0.4 only: it takes OpenMetrics' `# EOF` for a comment but
/// fails on its `\"` in HELP, so judge OpenMetrics with
/// [`python_parse`](crate::python_parse).
/// The linter also wants a HELP line for each family and the `_total` suffix on
/// counters; [`PromtoolReport::lint`] lists what it found.
///
/// Returns `None` when promtool is not installed (`$PROMTOOL`, else `promtool` on
/// `PATH`) and this is not a CI run.
///
/// # Panics
///
/// Under CI when promtool is missing; when promtool cannot be run or exits with a
/// status other than 0, 1 or 3.
///
/// ```
/// if let Some(report) = promkit_oracle::promtool_check("# HELP a A.\n# TYPE a counter\na 1\n") {
///     assert!(report.ok);
///     assert_eq!(report.lint, ["a counter metrics should have \"_total\" suffix"]);
/// }
/// ```
pub fn promtool_check(text: &str) -> Option<PromtoolReport> {
    let name = promtool_name();
    let Some(promtool) = which(&name.to_string_lossy()) else {
        return missing("promtool", "apt-get install prometheus, or set PROMTOOL to its path");
    };
    let out = run(Command::new(&promtool).args(["check", "metrics"]), text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let (ok, lint) = match out.status.code() {
        Some(0) => (true, Vec::new()),
        Some(3) => (true, output.lines().map(str::to_owned).collect()),
        Some(1) => (false, Vec::new()),
        _ => panic!("promtool check metrics failed: {}", describe(&out)),
    };
    Some(PromtoolReport { ok, lint, output })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_exposition_has_no_lint() {
        let Some(r) = promtool_check("# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"y\"} 1\n")
        else {
            return;
        };
        assert_eq!(r, PromtoolReport { ok: true, lint: vec![], output: String::new() });
    }

    #[test]
    fn counter_without_total_and_missing_help_are_lint() {
        let Some(r) = promtool_check("# TYPE a counter\na 1\n") else {
            return;
        };
        assert!(r.ok, "{}", r.output);
        assert_eq!(r.lint, ["a counter metrics should have \"_total\" suffix", "a no help text"]);
    }

    #[test]
    fn tab_escape_is_a_parse_error() {
        let Some(r) = promtool_check("a{x=\"\\t\"} 1\n") else {
            return;
        };
        assert!(!r.ok);
        assert!(r.lint.is_empty());
        assert_eq!(
            r.output.trim_end(),
            "error while linting: text format parsing error in line 1: invalid escape sequence '\\t'"
        );
    }

    #[test]
    fn missing_final_newline_is_a_parse_error() {
        let Some(r) = promtool_check("# HELP a_total A.\n# TYPE a_total counter\na_total 1") else {
            return;
        };
        assert!(!r.ok);
        assert_eq!(
            r.output.trim_end(),
            "error while linting: text format parsing error in line 3: unexpected end of input stream"
        );
    }

    #[test]
    fn openmetrics_help_quote_escape_is_a_parse_error() {
        // `# EOF` alone passes as a comment; OpenMetrics' `\"` in HELP does not.
        let Some(r) =
            promtool_check("# HELP a_total Say \\\"hi\\\"\n# TYPE a_total counter\na_total 1.0\n# EOF\n")
        else {
            return;
        };
        assert!(!r.ok, "{}", r.output);
        assert_eq!(
            r.output.trim_end(),
            "error while linting: text format parsing error in line 1: invalid escape sequence '\\\"'"
        );
    }
}
