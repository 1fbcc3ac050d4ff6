//! `Desc`: the description of one family a collector produces, and the rules every
//! description must keep (valid names, no reserved or repeated label).

use super::kind::MetricType;

/// Describes one family a collector produces, for the registry's consistency checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desc {
    /// Family name.
    pub name: String,
    /// Help text.
    pub help: String,
    /// Unit, or empty.
    pub unit: String,
    /// Type.
    pub kind: MetricType,
    /// Variable label names, in declared order.
    pub label_names: Vec<String>,
    /// Constant labels, sorted by name.
    pub const_labels: Vec<(String, String)>,
}
