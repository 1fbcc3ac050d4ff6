//! promkit: Prometheus instrumentation for Rust.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod encode;
pub mod labels;

pub use labels::{LabelSet, LabelValue};
#[cfg(feature = "derive")]
pub use promkit_derive::{LabelSet, LabelValue};
