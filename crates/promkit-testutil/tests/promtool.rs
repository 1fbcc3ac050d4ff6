//! The lint agrees with `promtool check metrics` (Go's promlint) problem for problem.

#[test]
fn lint_says_what_promtool_says() {
    let input = include_str!("lint_cases.prom");
    let Some(report) = promkit_oracle::promtool_check(input) else { return };
    let mut go: Vec<String> =
        report.output.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect();
    let families = promkit_parse::model::from_text(input.as_bytes()).unwrap();
    let mut ours: Vec<String> =
        promkit_testutil::lint(&families).iter().map(|p| format!("{} {}", p.metric, p.text)).collect();
    go.sort();
    ours.sort();
    assert_eq!(ours, go);
    assert_eq!(ours.len(), 14);
}
