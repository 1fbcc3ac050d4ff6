//! Delimited protobuf: no input panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = promkit_parse::model::from_protobuf(data);
});
