//! The registry's errors: registration refused, and `Error`, any promkit error in one enum for
//! callers that propagate them all with `?`.

use crate::metrics::LabelError;

use super::Registered;
use crate::model::{BucketError, BuildError, CollectError, ExemplarError};

/// Any promkit error, for callers that propagate them all with `?`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A metric could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Bucket bounds were invalid.
    #[error(transparent)]
    Buckets(#[from] BucketError),
    /// Registration was refused.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// A label lookup was wrong.
    #[error(transparent)]
    Label(#[from] LabelError),
    /// A collector failed or the gathered data was inconsistent.
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// An exemplar was refused.
    #[error(transparent)]
    Exemplar(#[from] ExemplarError),
}

/// Registration refused by a registry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// A family of that name is registered already with the same description. Keep using the
    /// registered one, which `existing` hands back (Go's `AlreadyRegisteredError` with its
    /// `ExistingCollector`).
    #[error("`{name}` is already registered; reuse the existing metric, or unregister it first")]
    AlreadyRegistered {
        /// The family name.
        name: String,
        /// The collector registered under that name.
        existing: Registered,
    },
    /// A family of that name is registered with another type, help, unit or label names.
    #[error(
        "`{name}` is already registered with {}: {existing} there, {new} here. One name must mean one \
         thing: rename one of them, or declare both alike",
        a_different(what)
    )]
    Inconsistent {
        /// The family name.
        name: String,
        /// `type`, `help`, `unit` or `label names`.
        what: &'static str,
        /// The registered value.
        existing: String,
        /// The refused value.
        new: String,
    },
    /// A sample name of one family would be the name of another (`x_count` vs histogram `x`).
    #[error(
        "`{name}` would write samples named {samples}, which family `{other}` writes too; rename one of them \
         (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a summary \
         `_sum` and `_count`, and each `_created` in OpenMetrics)"
    )]
    Collision {
        /// The refused family.
        name: String,
        /// The first colliding sample name.
        sample: String,
        /// Every colliding sample name, quoted and joined for the message.
        samples: String,
        /// The registered family it collides with.
        other: String,
    },
    /// The collector described a family that is invalid.
    #[error(transparent)]
    Invalid(#[from] BuildError),
    /// The collector described the same family twice.
    #[error("the collector describes `{name}` twice; a collector must describe each family once")]
    DuplicateInCollector {
        /// The family name.
        name: String,
    },
}

/// "a different type", "different label names": `what` of [`RegisterError::Inconsistent`] in
/// its message.
fn a_different(what: &str) -> String {
    match what {
        "help" => "a different help text".to_owned(),
        "label names" => "different label names".to_owned(),
        other => format!("a different {other}"),
    }
}
