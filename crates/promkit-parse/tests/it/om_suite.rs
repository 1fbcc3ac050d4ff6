//! The public OpenMetrics parser test suite (OpenMetrics' `tests/testdata/parsers`, Apache-2.0,
//! copied into the workspace's `testdata/openmetrics-suite`; `PROMKIT_OM_SUITE` points at another
//! copy). Every case is judged by its `shouldParse`: prints every disagreement and the counts,
//! and fails on any disagreement.

use std::path::Path;

#[test]
fn openmetrics_suite() {
    let dir = std::env::var("PROMKIT_OM_SUITE").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/openmetrics-suite").to_owned()
    });
    let mut cases: Vec<_> =
        std::fs::read_dir(Path::new(&dir)).expect("suite dir").flatten().map(|e| e.path()).collect();
    cases.sort();
    let (mut good, mut good_ok, mut bad, mut bad_ok) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for case in cases {
        let Ok(meta) = std::fs::read_to_string(case.join("test.json")) else { continue };
        let should_parse = meta.contains("\"shouldParse\": true");
        let input = std::fs::read(case.join("metrics")).expect("metrics file");
        let result = promkit_parse::model::from_openmetrics(&input);
        let name = case.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if should_parse {
            good += 1;
            match result {
                Ok(_) => good_ok += 1,
                Err(e) => wrong.push(format!("{name}: rejected: {e}")),
            }
        } else {
            bad += 1;
            match result {
                Err(e) => {
                    bad_ok += 1;
                    if std::env::var_os("PROMKIT_OM_SUITE_VERBOSE").is_some() {
                        eprintln!("{name}: {e}");
                    }
                }
                Ok(_) => wrong.push(format!("{name}: accepted")),
            }
        }
    }
    for w in &wrong {
        eprintln!("{w}");
    }
    eprintln!("valid accepted {good_ok}/{good}, invalid rejected {bad_ok}/{bad}");
    // The copy holds 211 cases; an empty or partial folder must not pass as agreement.
    assert!(good + bad >= 200, "only {} suite cases found in {dir}", good + bad);
    assert!(wrong.is_empty(), "{} disagreements with the suite", wrong.len());
}
