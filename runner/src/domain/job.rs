//! Runs (one execution of a site's flows) and jobs (one flow on one driver), with their
//! statuses.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Where a job is in its life. Stored as its [`as_str`](Self::as_str) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting to be claimed by a worker.
    Queued,
    /// Claimed and running.
    Running,
    /// Every step held.
    Passed,
    /// A step did not hold (element missing, text not found, unexpected status...).
    Failed,
    /// The job ran past its time limit or the site stopped answering.
    TimedOut,
    /// The site or the engine failed: connection refused or reset, garbage, page too large.
    Error,
    /// Stopped by a shutdown before it could finish.
    Cancelled,
    /// Its runner died while it ran (found at the next start or by another instance).
    Interrupted,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 8] = [
        Self::Queued,
        Self::Running,
        Self::Passed,
        Self::Failed,
        Self::TimedOut,
        Self::Error,
        Self::Cancelled,
        Self::Interrupted,
    ];

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// Whether the job is over.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }

    /// Whether the job ran to an outcome of its own (passed, failed, timed out, error): the
    /// jobs that the seed metrics count.
    pub fn is_completed(self) -> bool {
        matches!(self, Self::Passed | Self::Failed | Self::TimedOut | Self::Error)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`JobStatus::ALL`] or [`RunStatus::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(pub String);

impl FromStr for JobStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Where a run is in its life: the sum of its jobs once they are all over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Jobs enqueued, none claimed yet.
    Queued,
    /// At least one job claimed, some not over.
    Running,
    /// Every job passed.
    Passed,
    /// Every job is over and at least one did not pass.
    Failed,
    /// The run could not start (its flows could not be loaded).
    Error,
    /// A shutdown stopped at least one of its jobs.
    Cancelled,
    /// A crash stopped at least one of its jobs.
    Interrupted,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::Running,
        Self::Passed,
        Self::Failed,
        Self::Error,
        Self::Cancelled,
        Self::Interrupted,
    ];

    /// The stored and displayed name, also the `outcome` label of `runner_runs_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// The status of a run whose jobs are all over, from their statuses.
    pub fn of_finished_jobs(jobs: impl IntoIterator<Item = JobStatus>) -> Self {
        let (mut any_interrupted, mut any_cancelled, mut any_not_passed) = (false, false, false);
        for s in jobs {
            any_interrupted |= s == JobStatus::Interrupted;
            any_cancelled |= s == JobStatus::Cancelled;
            any_not_passed |= s != JobStatus::Passed;
        }
        if any_interrupted {
            Self::Interrupted
        } else if any_cancelled {
            Self::Cancelled
        } else if any_not_passed {
            Self::Failed
        } else {
            Self::Passed
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Why a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Someone asked for it.
    Manual,
    /// The site's schedule came due.
    Schedule,
}

impl Trigger {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Schedule => "schedule",
        }
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Store id.
    pub id: i64,
    /// The site; `None` once the site is deleted.
    pub site_id: Option<i64>,
    /// The site's name when the run started.
    pub site_name: String,
    /// `manual` or `schedule`.
    pub trigger: String,
    /// See [`RunStatus`].
    pub status: String,
    /// Why the run could not start, for status `error`.
    pub error: Option<String>,
    /// How many jobs it has.
    pub jobs_total: i64,
    /// Unix ms.
    pub created_at: i64,
    /// When its first job was claimed (unix ms).
    pub started_at: Option<i64>,
    /// When its last job ended (unix ms).
    pub finished_at: Option<i64>,
}

/// A job as stored, without its screenshot bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Store id.
    pub id: i64,
    /// Its run.
    pub run_id: i64,
    /// Its site.
    pub site_id: i64,
    /// The site's name when the run started (the `site` metric label).
    pub site_name: String,
    /// The flow; `None` once the flow is deleted.
    pub flow_id: Option<i64>,
    /// The flow's name when the run started.
    pub flow_name: String,
    /// The engine it runs on.
    pub driver: String,
    /// See [`JobStatus`].
    pub status: String,
    /// The instance that claimed it.
    pub claimed_by: Option<String>,
    /// Index into the flow's steps of the step that failed; `None` when the start page
    /// failed or nothing did.
    pub failed_step: Option<i64>,
    /// Why it did not pass.
    pub reason: Option<String>,
    /// How long it ran.
    pub duration_ms: Option<i64>,
    /// Whether a screenshot was kept (webdriver engine).
    pub has_screenshot: bool,
    /// Unix ms.
    pub enqueued_at: i64,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
}

/// What a driver reports for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutcome {
    /// Passed, failed, timed out or error.
    pub status: JobStatus,
    /// Index of the failing step; `None` for the start page or a pass.
    pub failed_step: Option<usize>,
    /// Why it did not pass.
    pub reason: Option<String>,
    /// A PNG of the page when it failed (webdriver engine).
    pub screenshot: Option<Vec<u8>>,
}

impl JobOutcome {
    /// Every step held.
    pub fn passed() -> Self {
        Self { status: JobStatus::Passed, failed_step: None, reason: None, screenshot: None }
    }

    /// An outcome that did not pass, with its step and reason.
    pub fn not_passed(status: JobStatus, failed_step: Option<usize>, reason: impl Into<String>) -> Self {
        Self { status, failed_step, reason: Some(reason.into()), screenshot: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>(), Ok(s));
        }
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
        }
        assert_eq!("nope".parse::<JobStatus>(), Err(UnknownStatus("nope".into())));
    }

    #[test]
    fn run_status_sums_its_jobs() {
        use JobStatus::*;
        assert_eq!(RunStatus::of_finished_jobs([Passed, Passed]), RunStatus::Passed);
        assert_eq!(RunStatus::of_finished_jobs([Passed, TimedOut]), RunStatus::Failed);
        assert_eq!(RunStatus::of_finished_jobs([Failed, Cancelled]), RunStatus::Cancelled);
        assert_eq!(RunStatus::of_finished_jobs([Cancelled, Interrupted]), RunStatus::Interrupted);
        assert_eq!(RunStatus::of_finished_jobs([]), RunStatus::Passed);
    }

    #[test]
    fn completed_means_ran_to_an_outcome() {
        assert!(JobStatus::TimedOut.is_completed());
        assert!(!JobStatus::Cancelled.is_completed());
        assert!(JobStatus::Cancelled.is_terminal());
        assert!(!JobStatus::Running.is_terminal());
    }
}
