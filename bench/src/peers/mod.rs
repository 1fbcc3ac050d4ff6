//! One module per crate: how that crate declares the fixture series, fills and encodes them.
//!
//! Every module builds the same data (see the crate docs): counter families named
//! [`family_name`](crate::family_name) whose series `j` carries `method = METHODS[j % 4]`,
//! `id = ids[j]` and the value [`series_value`](crate::series_value), and one histogram
//! family with default buckets and [`OBSERVATIONS_PER_SERIES`](crate::OBSERVATIONS_PER_SERIES)
//! observations per series. Each uses its crate's most direct idiom, named in its docs.

pub mod with_measured;
pub mod with_metrics;
pub mod with_prometheus;
pub mod with_prometheus_client;
pub mod with_promkit;
pub mod with_promkit_metrics;
