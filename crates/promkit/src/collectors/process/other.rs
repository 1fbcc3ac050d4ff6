//! The process collector where there is no `/proc`: macOS, Windows, the BSDs, WASM.
//!
//! The standard library exposes none of the values (CPU time, resident memory, descriptors,
//! start time) without system calls, and promkit does not depend on `libc`; so the collector
//! describes no family and exports nothing here.

use super::{ProcessError, Readings};

/// This platform exports nothing.
pub(super) const SUPPORTED: bool = false;

/// No state to keep between scrapes.
#[derive(Debug, Default)]
pub(super) struct Scratch;

/// Reads nothing: every value stays `None`.
pub(super) fn read(
    _pid: Option<u32>,
    _s: &mut Scratch,
    _out: &mut Readings,
) -> Option<(usize, ProcessError)> {
    None
}
