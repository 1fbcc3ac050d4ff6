//! The formatting rules every layer shares and that depend on nothing else in the crate:
//! escaping, Go's float layout, the metric and label name rules, and the UTF-8 name schemes.

pub(crate) mod escape;
pub(crate) mod float;
pub(crate) mod name;
pub(crate) mod name_escape;
