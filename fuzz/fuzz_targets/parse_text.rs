//! Text 0.0.4: no input panics, the slice parser and the reader agree.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let slice: Vec<String> = promkit_parse::text::parse(data).map(|r| format!("{r:?}")).collect();
    let mut reader = promkit_parse::text::reader(std::io::BufReader::with_capacity(7, data));
    let mut read = Vec::new();
    while let Some(r) = reader.next_record() {
        read.push(format!("{r:?}"));
    }
    assert_eq!(slice, read);
    let _ = promkit_parse::model::from_text(data);
});
