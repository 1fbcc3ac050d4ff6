//! Text 0.0.4 leniency judged by Go: inputs real exporters write are accepted by Go's
//! `expfmt.TextParser` and by promkit-parse alike; malformed ones are refused by both.

/// (input, Go and promkit-parse accept it)
const CASES: &[(&str, bool)] = &[
    ("up 1\n", true),
    ("# a plain comment\n\nup 1\n\n", true),
    ("up{job=\"a\"} 1 1700000000000\n", true),
    ("up NaN\ndown +Inf\nsideways -Inf\n", true),
    ("a{x=\"q\\\"uote\\\\back\\nline\"} 1\n", true),
    ("a{ x = \"1\" , y=\"2\",} 1\n", true),
    ("  \tindented 1\n", true),
    ("# HELP a Help with \\\\ and \\n.\n# TYPE a counter\na 1\n", true),
    ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n", true),
    ("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n", true),
    ("a 1.5e+06\n", true),
    ("a -0\n", true),
    ("a\n", false),
    ("a x\n", false),
    ("a 1 1.5\n", false),
    ("a 1 2 3\n", false),
    ("a{x=1} 1\n", false),
    ("a{x=\"1} 1\n", false),
    ("a{x=\"\\t\"} 1\n", false),
    ("a{x=\"1\",x=\"2\"} 1\n", false),
    ("0a 1\n", false),
    ("# TYPE a gauge\n# TYPE a gauge\na 1\n", false),
    ("# HELP a x\n# HELP a y\na 1\n", false),
    ("a 1\n# TYPE a gauge\n", false),
    ("# TYPE a nonsense\na 1\n", false),
    ("# TYPE h histogram\nh_bucket 1\n", true),
    ("# TYPE s summary\ns 1\n", true),
    ("# TYPE h histogram\nh 1\n", true),
    ("a 1\r\n", false),
    ("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", false),
];

#[test]
fn text_verdicts_match_go() {
    let mut disagree = Vec::new();
    for &(input, accepted) in CASES {
        let ours = promkit_parse::model::from_text(input.as_bytes());
        if ours.is_ok() != accepted {
            disagree.push(format!("{input:?}: promkit-parse {ours:?}, expected {accepted}"));
        }
        let Some(go) = promkit_oracle::go_parse(input) else { continue };
        // Go's parse mode also runs client_golang's gather-time checks; count only parse errors.
        let go_accepts = go.as_ref().map_or_else(|e| !e.starts_with("parse error"), |_| true);
        if go_accepts != accepted {
            disagree.push(format!("{input:?}: Go says {go:?}, expected {accepted}"));
        }
    }
    assert!(disagree.is_empty(), "{disagree:#?}");
}
