//! OpenMetrics: no input panics; whatever parses builds a model.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for record in promkit_parse::openmetrics::parse(data).flatten() {
        if let promkit_parse::Record::Sample(s) = record {
            let _ = s.labels.iter().count();
        }
    }
    let _ = promkit_parse::model::from_openmetrics(data);
});
