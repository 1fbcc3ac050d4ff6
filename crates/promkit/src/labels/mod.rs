//! Typed labels: label sets and label values that fix a family's labels at compile time.

mod set;
mod value;

pub use set::LabelSet;
pub use value::LabelValue;
#[doc(hidden)]
pub use value::mul_cardinality;
