//! A step that did not hold: the failure both engines return from a step, and how it becomes
//! the job's outcome (`start page URL: why`, or `step N (kind): why`).

use url::Url;

use super::JobSpec;
use crate::domain::{JobOutcome, JobStatus};

/// A step that did not hold, with the status it gives the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepFailure {
    /// `failed` when the site answered but the flow does not hold; `error` when it could not
    /// be reached; `timed_out` when it did not answer.
    pub(crate) status: JobStatus,
    /// What went wrong, for people.
    pub(crate) message: String,
    /// Whether the page the step failed on can still be looked at: not once the browser has
    /// stopped answering. The webdriver engine screenshots the page only then; the http engine
    /// keeps no picture.
    pub(crate) page_alive: bool,
}

impl StepFailure {
    /// The site answered, but the flow does not hold.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::new(JobStatus::Failed, message)
    }

    /// A failure with the given status, the page still there.
    pub(crate) fn new(status: JobStatus, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), page_alive: true }
    }

    /// The same failure, with no page left to look at.
    pub(crate) fn page_lost(mut self) -> Self {
        self.page_alive = false;
        self
    }

    /// The job's outcome: `at` is the index of the failing step, `None` for the start page
    /// `start`.
    pub(crate) fn outcome(&self, job: &JobSpec, start: &Url, at: Option<usize>) -> JobOutcome {
        let reason = match at {
            None => format!("start page {start}: {}", self.message),
            Some(i) => {
                let kind = job.flow.steps.get(i).map_or("?", |s| s.kind().as_str());
                format!("step {i} ({kind}): {}", self.message)
            }
        };
        JobOutcome::not_passed(self.status, at, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FlowSpec, Step};
    use crate::driver::Progress;

    #[test]
    fn outcomes_name_the_page_or_the_step() {
        let job = JobSpec {
            job_id: 1,
            site_name: "shop".into(),
            base_url: Url::parse("http://shop.test/").unwrap(),
            flow: FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "contact".into(),
                driver: "http".into(),
                start_url: "/contact".into(),
                steps: vec![Step::ExpectText { text: "Thanks".into() }],
            },
            progress: Progress::default(),
        };
        let start = Url::parse("http://shop.test/contact").unwrap();
        let failure = StepFailure::failed("text \"Thanks\" not found");
        let outcome = failure.outcome(&job, &start, Some(0));
        assert_eq!(outcome.status, JobStatus::Failed);
        assert_eq!(outcome.failed_step, Some(0));
        assert_eq!(outcome.reason.as_deref(), Some("step 0 (expect_text): text \"Thanks\" not found"));
        let lost = StepFailure::new(JobStatus::TimedOut, "no answer").page_lost();
        assert!(!lost.page_alive && StepFailure::failed("x").page_alive);
        let outcome = lost.outcome(&job, &start, None);
        assert_eq!((outcome.status, outcome.failed_step), (JobStatus::TimedOut, None));
        assert_eq!(outcome.reason.as_deref(), Some("start page http://shop.test/contact: no answer"));
    }
}
