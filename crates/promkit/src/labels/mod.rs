//! Labels: name rules, typed label sets and values.

pub(crate) mod name;
mod set;
mod value;

pub use set::LabelSet;
pub use value::LabelValue;
#[doc(hidden)]
pub use value::mul_cardinality;
