//! The formatting rules every layer shares and that depend on nothing else in the crate:
//! escaping, Go's float layout, and the metric and label name rules.

pub(crate) mod escape;
pub(crate) mod float;
pub(crate) mod name;
