//! The error of a label lookup on a family (or of a state on a stateset).

/// A label lookup on a family that does not fit its label names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// Not as many values as the family has (remaining, uncurried) label names.
    #[error("`{family}` takes {expected} label {} ({names}), got {got}", values_word(*.expected))]
    WrongCount {
        /// The family.
        family: String,
        /// How many it takes.
        expected: usize,
        /// How many were given.
        got: usize,
        /// The names it takes, comma-separated.
        names: String,
    },
    /// A label name the family does not have (or has curried away).
    #[error("`{family}` has no label `{name}` (its labels: {names})")]
    UnknownName {
        /// The family.
        family: String,
        /// The name given.
        name: String,
        /// The names it takes, comma-separated.
        names: String,
    },
    /// A label name given twice.
    #[error("label `{name}` given twice for `{family}`")]
    DuplicateName {
        /// The family.
        family: String,
        /// The repeated name.
        name: String,
    },
    /// A state a stateset was not declared with.
    #[error("stateset `{family}` has no state `{state}` (its states: {states})")]
    UnknownState {
        /// The stateset.
        family: String,
        /// The state given.
        state: String,
        /// Its states, comma-separated.
        states: String,
    },
}

/// "value" or "values", to agree with `n`.
fn values_word(n: usize) -> &'static str {
    if n == 1 { "value" } else { "values" }
}
