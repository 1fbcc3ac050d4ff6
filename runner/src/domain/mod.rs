//! The domain: sites, their flows and steps, runs and jobs, and the rules their input must
//! follow.

mod flow;
mod jitter;
mod job;
mod site;
mod validate;

pub use flow::{
    Flow, FlowSpec, MAX_RETRIES, MAX_TIMEOUT_SECS, Step, StepKind, default_driver as default_driver_name,
};
pub use jitter::{JITTER_FRACTION, first_run_at, jitter_ms, next_run_after};
pub use job::{Job, JobOutcome, JobStatus, Run, RunStatus, Trigger};
pub use site::{Schedule, Site, SiteSpec};
pub use validate::{Limits, ValidationError, Violation};
