//! Whatever text parses, promkit encodes, and the encoding parses back to the same model
//! (NaN aside, which never equals itself).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(families) = promkit_parse::model::from_text(data) else { return };
    let mut out = Vec::new();
    promkit::registry::encode_families(&families, promkit::Format::Text, &mut out);
    let again = promkit_parse::model::from_text(&out).expect("promkit's own text parses");
    if !format!("{families:?}").contains("NaN") {
        assert_eq!(again.len(), families.len());
    }
});
