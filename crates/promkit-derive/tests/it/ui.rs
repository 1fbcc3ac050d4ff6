//! Misuse of the derives: each file in `tests/ui/` must fail with the message in its `.stderr`.

#[test]
fn misuse_is_a_clear_compile_error() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
