//! Runs the `promkit` binary on files, stdin and a loopback HTTP server.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const CLEAN: &str = "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{outcome=\"ok\"} 3\n\
                     # HELP queue_seconds Wait.\n# TYPE queue_seconds histogram\n\
                     queue_seconds_bucket{le=\"1\"} 1\nqueue_seconds_bucket{le=\"+Inf\"} 2\n\
                     queue_seconds_sum 2.5\nqueue_seconds_count 2\n";

fn file(name: &str, contents: &[u8]) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("promkit-cli-{name}"));
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

fn promkit(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_promkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Serves `body` as `content_type` to `n` connections; returns the URL.
fn serve(content_type: &'static str, body: Vec<u8>, n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for _ in 0..n {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buf).unwrap() {
                    0 => break,
                    k => request.extend_from_slice(&buf[..k]),
                }
            }
            assert!(text(&request).contains("Accept: application/openmetrics-text;version=1.0.0"));
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    url
}

#[test]
fn check_exits_like_promtool() {
    let clean = file("clean.prom", CLEAN.as_bytes());
    let out = promkit(&["check", &clean], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let out = promkit(&["check"], b"# TYPE success_counter counter\nsuccess_counter 1\n");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        "-: success_counter: no help text\n\
         -: success_counter: counter metrics should have \"_total\" suffix\n\
         -: success_counter: metric name should not include type 'counter'\n"
    );
    let out = promkit(&["check", "--no-lint", "-"], b"# TYPE success_counter counter\nsuccess_counter 1\n");
    assert_eq!(out.status.code(), Some(0));

    let bad = file("bad.prom", b"# TYPE a gauge\na{x=\"1\" 2\n");
    let out = promkit(&["check", &bad], b"");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error: 2:9: "), "{stderr}");
    assert!(stderr.ends_with("    2 | a{x=\"1\" 2\n      |         ^\n"), "{stderr}");

    // strict OpenMetrics: no # EOF
    let out = promkit(&["check", "--format", "openmetrics"], CLEAN.as_bytes());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn convert_round_trips_through_every_format() {
    let clean = file("round.prom", CLEAN.as_bytes());
    for to in ["openmetrics", "protobuf", "text"] {
        let out = promkit(&["convert", "--to", to, &clean], b"");
        assert_eq!(out.status.code(), Some(0), "{to}: {}", text(&out.stderr));
        let converted = file(&format!("round.{to}"), &out.stdout);
        let diff = promkit(&["diff", &clean, &converted], b"");
        assert_eq!(diff.status.code(), Some(0), "{to}: {}", text(&diff.stdout));
    }
    let out = promkit(&["convert", "--to", "json", &clean], b"");
    let json = text(&out.stdout);
    assert!(json.contains("\"buckets\": [\n"), "{json}");
    assert!(json.contains("\"+Inf\""), "{json}");
}

/// OpenMetrics' own types, as promkit writes them.
const OM_TYPES: &str = "# HELP app_build Build facts.\n# TYPE app_build info\n\
                        app_build_info{version=\"1.2\"} 1.0\n\
                        # HELP breaker Breaker state.\n# TYPE breaker stateset\n\
                        breaker{breaker=\"closed\"} 0.0\nbreaker{breaker=\"open\"} 1.0\n\
                        # HELP queue_seconds Wait.\n# TYPE queue_seconds gaugehistogram\n\
                        queue_seconds_bucket{le=\"1.0\"} 1\nqueue_seconds_bucket{le=\"+Inf\"} 2\n\
                        queue_seconds_gsum 2.5\nqueue_seconds_gcount 2\n# EOF\n";

#[test]
fn info_stateset_and_gaugehistogram_check_and_convert() {
    let om = file("types.om", OM_TYPES.as_bytes());
    let out = promkit(&["check", &om], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // OpenMetrics to OpenMetrics keeps every type, byte for byte.
    let out = promkit(&["convert", "--to", "openmetrics", &om], b"");
    assert_eq!(text(&out.stdout), OM_TYPES);
    // Text has none of them: gauges and a histogram, as Go reads them.
    let out = promkit(&["convert", "--to", "text", &om], b"");
    let converted = text(&out.stdout);
    for line in [
        "# TYPE app_build_info gauge\napp_build_info{version=\"1.2\"} 1\n",
        "# TYPE breaker gauge\nbreaker{breaker=\"closed\"} 0\nbreaker{breaker=\"open\"} 1\n",
        "# TYPE queue_seconds histogram\n",
        "queue_seconds_sum 2.5\nqueue_seconds_count 2\n",
    ] {
        assert!(converted.contains(line), "{line}\nin\n{converted}");
    }
    let out = promkit(&["convert", "--to", "json", &om], b"");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let types: Vec<&str> = json.as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["info", "stateset", "gaugehistogram"]);
    assert_eq!(json[2]["samples"][0]["count"], 2);
}

#[test]
fn diff_prints_the_changed_lines() {
    let a = file("diff-a.prom", CLEAN.as_bytes());
    let out = promkit(&["diff", &a, "-"], CLEAN.replace("} 3", "} 4").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("- jobs_total{outcome=\"ok\"} 3\n+ jobs_total{outcome=\"ok\"} 4\n"), "{stdout}");
    let out = promkit(&["diff", &a, "/nonexistent/promkit"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn scrape_and_check_read_a_url_by_its_content_type() {
    let mut om = Vec::new();
    let families = promkit_parse::model::from_text(CLEAN.as_bytes()).unwrap();
    promkit::encode::encode_families(&families, promkit::Format::OPENMETRICS, &mut om);
    let url = serve("application/openmetrics-text; version=1.0.0; charset=utf-8", om.clone(), 2);
    let out = promkit(&["scrape", &url], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("format: OpenMetrics\n"), "{stdout}");
    assert!(stdout.contains(&format!("size: {} bytes\n", om.len())), "{stdout}");
    assert!(stdout.contains("families: 2, series: 2\n"), "{stdout}");
    assert!(stdout.contains(" ms\n"), "{stdout}");
    let out = promkit(&["check", &url], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
