//! Go's reference implementation (prometheus/common 0.39 `expfmt`, client_golang 1.14)
//! through `tools/go-oracle/main.go`, built on demand.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{self, Command};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::locate::{cache_dir, repo_file, which};
use crate::policy::missing;
use crate::run::{describe, run};

/// Debian's Go packages of prometheus/common, client_golang and their dependencies.
const GOCODE: &str = "/usr/share/gocode";
const HOW: &str = "apt-get install golang-go golang-github-prometheus-common-dev \
                   golang-github-prometheus-client-golang-dev, or run scripts/install-deps";

/// What the Go oracle printed, and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoOutput {
    /// The exit status: 0 ok, 1 input rejected (or the re-encoding failed), 2 usage;
    /// -1 when killed by a signal.
    pub status: i32,
    /// Standard output, lossily decoded as UTF-8.
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8: the reason for a status 1 or 2.
    pub stderr: String,
}

/// Runs the Go oracle in `mode` with `stdin` as its input.
///
/// Modes: `parse`, `canon`, `openmetrics` (text 0.0.4 in), `golden`,
/// `golden-openmetrics` (no input), `decode-protobuf` (length-delimited
/// `io.prometheus.client.MetricFamily` messages in). The conveniences [`go_parse`],
/// [`go_canon`], … wrap one mode each; `tools/go-oracle/main.go` documents them.
///
/// Returns `None` when the oracle is neither built nor buildable (Go and Debian's
/// Prometheus Go packages are missing) and this is not a CI run.
///
/// # Panics
///
/// Under CI when the oracle is missing; when it does not compile or cannot be run.
pub fn go(mode: &str, stdin: &[u8]) -> Option<GoOutput> {
    let bin = match go_oracle() {
        Ok(bin) => bin,
        Err(Unavailable::Missing) => return missing("go-oracle (Go with Debian's gocode)", HOW),
        Err(Unavailable::Broken(why)) => panic!("go-oracle: {why}"),
    };
    let out = run(Command::new(bin).arg(mode), stdin)
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    Some(GoOutput {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// `Ok(stdout)` on status 0, `Err(stderr)` (trailing newline trimmed) on status 1.
fn verdict(mode: &str, out: GoOutput) -> Result<String, String> {
    match out.status {
        0 => Ok(out.stdout),
        1 => Err(out.stderr.trim_end().to_owned()),
        _ => panic!("go-oracle {mode} exited {}: {}{}", out.status, out.stdout, out.stderr),
    }
}

/// Go's strict text 0.0.4 parser (the one in promtool and the Pushgateway), then
/// client_golang's gather-time consistency checks (duplicate series, `_count`/`_sum`/
/// `_bucket` collisions).
///
/// `Ok("ok: N families, M samples\n")`, where M counts the sample lines Go would
/// write; or `Err` with `parse error: …` or `consistency error: …`.
///
/// # Panics
///
/// As [`go`]; also when the oracle exits with a usage error.
///
/// ```
/// if let Some(verdict) = promkit_oracle::go_parse("a 1\na 2\n") {
///     assert!(verdict.unwrap_err().starts_with("consistency error: collected metric \"a\""));
/// }
/// ```
pub fn go_parse(text: &str) -> Option<Result<String, String>> {
    go("parse", text.as_bytes()).map(|out| verdict("parse", out))
}

/// Go's canonical text 0.0.4 encoding of `text`: parsed, then written family by
/// family with `expfmt.MetricFamilyToText`, families in input order, series in the
/// order the parser built them. An exposition equal to its canon is byte-identical to
/// what client_golang would write for the same data.
///
/// `Err` holds the parse error.
///
/// # Panics
///
/// As [`go_parse`].
pub fn go_canon(text: &str) -> Option<Result<String, String>> {
    go("canon", text.as_bytes()).map(|out| verdict("canon", out))
}

/// `text` (text 0.0.4) re-encoded by Go as OpenMetrics 1.0, `# EOF` included
/// (`expfmt.MetricFamilyToOpenMetrics`).
///
/// `Err` holds the parse error.
///
/// # Panics
///
/// As [`go_parse`].
pub fn go_openmetrics(text: &str) -> Option<Result<String, String>> {
    go("openmetrics", text.as_bytes()).map(|out| verdict("openmetrics", out))
}

/// client_golang's text 0.0.4 output for the fixed metrics and observations listed at
/// the top of `tools/go-oracle/main.go`; replay them on promkit to compare bytes.
///
/// # Panics
///
/// As [`go`]; also when the oracle does not exit 0.
pub fn go_golden() -> Option<String> {
    go("golden", b"").map(|out| verdict("golden", out).unwrap_or_else(|e| panic!("go-oracle golden: {e}")))
}

/// The same registry as [`go_golden`], written as OpenMetrics 1.0 with `# EOF`.
///
/// # Panics
///
/// As [`go_golden`].
pub fn go_golden_openmetrics() -> Option<String> {
    go("golden-openmetrics", b"").map(|out| {
        verdict("golden-openmetrics", out).unwrap_or_else(|e| panic!("go-oracle golden-openmetrics: {e}"))
    })
}

/// client_golang's text 0.0.4 output for the empty-families registry listed at the top of
/// `tools/go-oracle/main.go`: vectors that never had a series, or lost all of them.
///
/// # Panics
///
/// As [`go_golden`].
pub fn go_empty() -> Option<String> {
    go("empty", b"").map(|out| verdict("empty", out).unwrap_or_else(|e| panic!("go-oracle empty: {e}")))
}

/// The same registry as [`go_empty`], written as OpenMetrics 1.0 with `# EOF`.
///
/// # Panics
///
/// As [`go_golden`].
pub fn go_empty_openmetrics() -> Option<String> {
    go("empty-openmetrics", b"").map(|out| {
        verdict("empty-openmetrics", out).unwrap_or_else(|e| panic!("go-oracle empty-openmetrics: {e}"))
    })
}

/// Decodes length-delimited `io.prometheus.client.MetricFamily` protobuf messages, as
/// `expfmt.NewDecoder(r, expfmt.FmtProtoDelim)` reads a scrape, and prints each family
/// with `MetricFamilyToText`, in input order.
///
/// `Err` holds the decoder's complaint (`decode error: message N: …`).
///
/// # Panics
///
/// As [`go_parse`].
pub fn go_decode_protobuf(bytes: &[u8]) -> Option<Result<String, String>> {
    go("decode-protobuf", bytes).map(|out| verdict("decode-protobuf", out))
}

/// Why there is no oracle binary.
#[derive(Debug)]
enum Unavailable {
    /// Not built, and not buildable here: the tools are missing (skip, or fail under CI).
    Missing,
    /// The build failed: a bug to fix, never a skip.
    Broken(String),
}

/// The oracle binary, located (or built) once per test process.
fn go_oracle() -> Result<&'static Path, &'static Unavailable> {
    static ORACLE: OnceLock<Result<PathBuf, Unavailable>> = OnceLock::new();
    ORACLE.get_or_init(locate_or_build).as_deref()
}

/// Prefers `$PROMKIT_CACHE/go-oracle-<sha>`, the build of the current source (the
/// name `scripts/install-deps` gives it); builds it when Go can; else falls back on
/// the `go-oracle` link to the last build, which may be of an older source.
fn locate_or_build() -> Result<PathBuf, Unavailable> {
    let cache = cache_dir();
    let source = repo_file("tools/go-oracle/main.go");
    let linked = cache.join("go-oracle");
    let Some(sha) = source_sha(&source) else {
        return which(&linked.to_string_lossy()).ok_or(Unavailable::Missing);
    };
    let current = cache.join(format!("go-oracle-{sha}"));
    if which(&current.to_string_lossy()).is_some() {
        return Ok(current);
    }
    match which("go") {
        Some(go) if Path::new(GOCODE).join("src/github.com/prometheus/client_golang").is_dir() => {
            build(&go, &source, &cache, &current)?;
            Ok(current)
        }
        _ => {
            let stale = which(&linked.to_string_lossy()).ok_or(Unavailable::Missing)?;
            eprintln!(
                "promkit-oracle: cannot build the Go oracle here; using {}, which may predate {}",
                stale.display(),
                source.display()
            );
            Ok(stale)
        }
    }
}

/// The first 16 hex digits of the source's SHA-256, as `scripts/install-deps` names
/// the build (`sha256sum … | cut -c1-16`).
fn source_sha(source: &Path) -> Option<String> {
    let out = Command::new("sha256sum").arg(source).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let hex = text.get(..16)?;
    (out.status.success() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_owned())
}

/// Builds the oracle as `scripts/install-deps` does: GOPATH mode against Debian's
/// packages, offline; a fresh directory first in GOPATH so nothing is written under
/// /usr/share/gocode; renamed into place, so concurrent builds (other test binaries)
/// are harmless.
fn build(go: &Path, source: &Path, cache: &Path, target: &Path) -> Result<(), Unavailable> {
    let broken = |what: &str, e: &dyn std::fmt::Display| Unavailable::Broken(format!("{what}: {e}"));
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = cache.join(format!("build.{}.{nanos}", process::id()));
    fs::create_dir_all(&dir).map_err(|e| broken(&format!("create {}", dir.display()), &e))?;
    eprintln!(
        "promkit-oracle: building {} from {} (once per source version)",
        target.display(),
        source.display()
    );
    let mut gopath = dir.clone().into_os_string();
    gopath.push(":");
    gopath.push(GOCODE);
    let out = Command::new(go)
        .current_dir(source.parent().expect("source has a directory"))
        .arg("build")
        .arg("-o")
        .arg(dir.join("go-oracle"))
        .arg(source.file_name().expect("source has a file name"))
        .env("GO111MODULE", "off")
        .env("GOPATH", gopath)
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("GOCACHE", cache.join("gocache"))
        .output();
    let result = match out {
        Err(e) => Err(broken(&format!("cannot run {}", go.display()), &e)),
        Ok(out) if !out.status.success() => Err(broken("go build failed", &describe(&out))),
        Ok(_) => fs::rename(dir.join("go-oracle"), target)
            .map_err(|e| broken(&format!("install {}", target.display()), &e)),
    };
    let _ = fs::remove_dir_all(&dir);
    result?;
    link(cache, target);
    Ok(())
}

/// Points `$PROMKIT_CACHE/go-oracle` at the new build, as `scripts/install-deps` does.
/// Best effort: the link is only a fallback.
fn link(cache: &Path, target: &Path) {
    #[cfg(unix)]
    {
        let Some(name) = target.file_name() else {
            return;
        };
        let tmp = cache.join(format!("go-oracle.new.{}", process::id()));
        let _ = fs::remove_file(&tmp);
        if std::os::unix::fs::symlink(name, &tmp).is_ok()
            && fs::rename(&tmp, cache.join("go-oracle")).is_err()
        {
            let _ = fs::remove_file(&tmp);
        }
    }
    #[cfg(not(unix))]
    let _ = (cache, target);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_counts_families_and_samples() {
        let text = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 0.5\nh_count 1\nb 2\n";
        let Some(verdict) = go_parse(text) else {
            return;
        };
        // The histogram gains its +Inf bucket: 4 sample lines, plus b.
        assert_eq!(verdict, Ok("ok: 2 families, 5 samples\n".to_owned()));
    }

    #[test]
    fn parse_reports_duplicate_series() {
        let Some(verdict) = go_parse("a{x=\"1\"} 1\na{x=\"1\"} 2\n") else {
            return;
        };
        assert_eq!(
            verdict,
            Err("consistency error: collected metric \"a\" { label:<name:\"x\" value:\"1\" > \
                 untyped:<value:2 > } was collected before with the same name and label values"
                .to_owned())
        );
    }

    #[test]
    fn parse_reports_syntax_error() {
        let Some(verdict) = go_parse("# TYPE a foo\na 1\n") else {
            return;
        };
        assert_eq!(
            verdict,
            Err("parse error: text format parsing error in line 1: unknown metric type \"foo\"".to_owned())
        );
    }

    #[test]
    fn canon_rewrites_non_canonical_input() {
        let input = "b 1\na{l=\"1\",} 1.0\nb{z=\"1\"}  nan\na 1e3\nc -0\nd Inf\n";
        let Some(canon) = go_canon(input) else {
            return;
        };
        assert_eq!(
            canon,
            Ok(concat!(
                "# TYPE b untyped\n",
                "b 1\n",
                "b{z=\"1\"} NaN\n",
                "# TYPE a untyped\n",
                "a{l=\"1\"} 1\n",
                "a 1000\n",
                "# TYPE c untyped\n",
                "c 0\n",
                "# TYPE d untyped\n",
                "d +Inf\n",
            )
            .to_owned())
        );
    }

    #[test]
    fn canon_keeps_canonical_input() {
        let input = concat!(
            "# HELP x_seconds Help with \\\\ and \\n.\n",
            "# TYPE x_seconds summary\n",
            "x_seconds{quantile=\"0.5\"} 1.5\n",
            "x_seconds_sum 3\n",
            "x_seconds_count 2\n",
        );
        let Some(canon) = go_canon(input) else {
            return;
        };
        assert_eq!(canon.as_deref(), Ok(input));
    }

    #[test]
    fn openmetrics_reencodes_counter() {
        let Some(om) = go_openmetrics("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n") else {
            return;
        };
        assert_eq!(om, Ok("# HELP a A.\n# TYPE a counter\na_total 1.0\n# EOF\n".to_owned()));
    }

    #[test]
    fn golden_text_is_client_golang_output() {
        let Some(golden) = go_golden() else {
            return;
        };
        assert!(golden.starts_with(concat!(
            "# HELP completion_duration_histogram_ms Latency for mapping completion in ms\n",
            "# TYPE completion_duration_histogram_ms histogram\n",
            "completion_duration_histogram_ms_bucket{le=\"0\"} 1\n",
            "completion_duration_histogram_ms_bucket{le=\"20\"} 3\n",
        )));
        assert!(golden.contains(concat!(
            "# HELP float_format_test Gauge values that test float formatting\n",
            "# TYPE float_format_test gauge\n",
            "float_format_test{case=\"huge\"} 1.5e+300\n",
            "float_format_test{case=\"int\"} 1.23456789e+08\n",
            "float_format_test{case=\"million\"} 1e+06\n",
            "float_format_test{case=\"nan\"} NaN\n",
            "float_format_test{case=\"neg_inf\"} -Inf\n",
            "float_format_test{case=\"neg_zero\"} 0\n",
            "float_format_test{case=\"pos_inf\"} +Inf\n",
            "float_format_test{case=\"small\"} 1e-05\n",
            "float_format_test{case=\"zero\"} 0\n",
            "# HELP help_escape_test Help with a backslash \\\\ a \"quote\" and a\\nnewline\n",
            "# TYPE help_escape_test gauge\n",
            "help_escape_test 42\n",
            "# HELP payload_size_bytes Summary with objectives\n",
            "# TYPE payload_size_bytes summary\n",
            "payload_size_bytes{quantile=\"0.5\"} 3.25\n",
            "payload_size_bytes{quantile=\"0.9\"} 10\n",
            "payload_size_bytes{quantile=\"0.99\"} 10\n",
            "payload_size_bytes_sum 28\n",
            "payload_size_bytes_count 7\n",
        )));
        assert!(golden.ends_with(concat!(
            "# HELP success_counter Count of successful mapping completions\n",
            "# TYPE success_counter counter\n",
            "success_counter 6\n",
        )));
        // Go's canon of its own output is itself.
        assert_eq!(go_canon(&golden).unwrap().as_deref(), Ok(golden.as_str()));
    }

    #[test]
    fn golden_openmetrics_matches_reencoded_golden() {
        let (Some(om), Some(text)) = (go_golden_openmetrics(), go_golden()) else {
            return;
        };
        assert!(om.contains("# TYPE success_counter unknown\nsuccess_counter 6.0\n"));
        assert!(om.ends_with("# EOF\n"));
        assert_eq!(go_openmetrics(&text).unwrap(), Ok(om));
    }

    /// A length-delimited MetricFamily: name "a_total", help "h", COUNTER, one
    /// metric with counter value 1.0, written out field by field.
    fn counter_family() -> Vec<u8> {
        let counter = [&[0x09][..], &1.0f64.to_le_bytes()].concat(); // Counter.value (double)
        let metric = [&[0x1a, counter.len() as u8][..], &counter].concat(); // Metric.counter
        let family = [
            &[0x0a, 7][..], // MetricFamily.name
            b"a_total",
            &[0x12, 1], // .help
            b"h",
            &[0x18, 0],                  // .type = COUNTER
            &[0x22, metric.len() as u8], // .metric
            &metric,
        ]
        .concat();
        [&[family.len() as u8][..], &family].concat()
    }

    #[test]
    fn decode_protobuf_prints_text() {
        let bytes = [counter_family(), counter_family()].concat();
        let Some(decoded) = go_decode_protobuf(&bytes) else {
            return;
        };
        let one = "# HELP a_total h\n# TYPE a_total counter\na_total 1\n";
        assert_eq!(decoded, Ok(format!("{one}{one}")));
    }

    #[test]
    fn decode_protobuf_rejects_truncated_input() {
        let bytes = counter_family();
        let Some(decoded) = go_decode_protobuf(&bytes[..bytes.len() - 3]) else {
            return;
        };
        assert_eq!(decoded, Err("decode error: message 1: unexpected EOF".to_owned()));
    }

    #[test]
    fn unknown_mode_is_usage_error() {
        let Some(out) = go("nonsense", b"") else {
            return;
        };
        assert_eq!(out.status, 2);
        assert_eq!(out.stdout, "");
        assert!(out.stderr.starts_with("unknown mode \"nonsense\"\nusage: go-oracle "));
    }
}
