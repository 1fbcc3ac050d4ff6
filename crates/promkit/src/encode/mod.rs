//! Exposition formats: each format, and each rule shared by formats, in its own file.

pub(crate) mod escape;
pub(crate) mod float;
