//! deploy/: the Prometheus config and alert rules pass promtool (rules with their unit
//! tests), the Alertmanager config passes amtool, and every metric the alerts and the Grafana dashboard read is one runner exports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{get, start_app};

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy").join(file)
}

fn promtool() -> Option<PathBuf> {
    let found = promkit_oracle::which("promtool");
    if found.is_none() {
        assert!(
            !promkit_oracle::ci(),
            "promtool not found (apt install prometheus); CI needs it: run scripts/install-deps"
        );
        eprintln!("SKIP: promtool not found (apt install prometheus)");
    }
    found
}

fn run(promtool: &Path, args: &[&str], file: &str) {
    let out = Command::new(promtool).args(args).arg(deploy(file)).output().expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool {args:?} {file}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_config_and_the_rules_pass_their_tests() {
    let Some(promtool) = promtool() else { return };
    run(&promtool, &["check", "config"], "prometheus.yml");
    run(&promtool, &["check", "rules"], "alerts.yml");
    run(&promtool, &["test", "rules"], "alerts_test.yml");
}

#[test]
fn amtool_accepts_the_alertmanager_config() {
    let Some(amtool) = promkit_oracle::which("amtool") else {
        assert!(
            !promkit_oracle::ci(),
            "amtool not found (apt install prometheus-alertmanager); CI needs it: run scripts/install-deps"
        );
        eprintln!("SKIP: amtool not found (apt install prometheus-alertmanager)");
        return;
    };
    run(&amtool, &["check-config"], "alertmanager.yml");
}

/// Metric names in PromQL: identifiers followed by `{` or `[` (every selector here has one).
fn selectors(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b':')
            {
                i += 1;
            }
            let preceded = start > 0 && matches!(bytes[start - 1], b'$' | b'.' | b'"');
            if !preceded && matches!(bytes.get(i), Some(b'{' | b'[')) {
                names.insert(text[start..i].to_owned());
            }
        } else {
            i += 1;
        }
    }
    names
}

#[tokio::test]
async fn alerts_and_dashboard_read_metrics_runner_exports() {
    let t = start_app(|_| {}).await;
    let _ = get(&format!("{}/api/sites", t.base)).await; // one request, so the HTTP series exist
    let exposition = get(&format!("{}/metrics", t.base)).await.body;
    let exported: BTreeSet<String> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .flat_map(|family| ["", "_bucket", "_sum", "_count"].map(|suffix| format!("{family}{suffix}")))
        .collect();
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deploy("grafana-dashboard.json")).unwrap()).unwrap();
    let mut used = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            used.extend(selectors(target["expr"].as_str().unwrap()));
        }
    }
    used.extend(selectors(&std::fs::read_to_string(deploy("alerts.yml")).unwrap()));
    used.remove("up"); // Prometheus' own
    for seed in ["completion_duration_histogram_ms_bucket", "success_counter", "failure_counter"] {
        assert!(used.contains(seed), "{seed} is not on the dashboard or in the alerts");
    }
    let missing: Vec<&String> = used.iter().filter(|n| !exported.contains(*n)).collect();
    assert!(missing.is_empty(), "read but not exported: {missing:?}");
    t.app.shutdown().await;
}

#[test]
fn metric_names_are_found_in_promql() {
    let names =
        selectors(r#"sum by (job) (rate(failure_counter{job="x"}[5m])) / up{a="b"} + label_values(x, y)"#);
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["failure_counter", "up"]);
}
