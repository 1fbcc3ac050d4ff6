//! Rows as the pages show them: the query views with times, durations and statuses already
//! worded, so templates only lay them out.

use super::format;
use crate::domain::{Flow, Job, Run};
use crate::store::Totals;
use crate::web::queries::{DriverInfo, SiteRow};

/// A run in a table.
#[derive(Debug, Clone)]
pub(crate) struct RunView {
    pub(crate) id: i64,
    pub(crate) site_id: Option<i64>,
    pub(crate) site_name: String,
    pub(crate) trigger: String,
    pub(crate) status: String,
    pub(crate) class: &'static str,
    pub(crate) error: Option<String>,
    pub(crate) jobs: i64,
    pub(crate) created: String,
    pub(crate) ago: String,
    /// From first claim to last job's end, when over.
    pub(crate) took: String,
}

impl RunView {
    pub(crate) fn new(run: &Run, now: i64) -> Self {
        let took = match (run.started_at, run.finished_at) {
            (Some(s), Some(f)) => format::duration(f - s),
            _ => String::new(),
        };
        Self {
            id: run.id,
            site_id: run.site_id,
            site_name: run.site_name.clone(),
            trigger: run.trigger.clone(),
            status: run.status.clone(),
            class: format::status_class(&run.status),
            error: run.error.clone(),
            jobs: run.jobs_total,
            created: format::datetime(run.created_at),
            ago: format::ago(now, run.created_at),
            took,
        }
    }
}

/// A job in a table.
#[derive(Debug, Clone)]
pub(crate) struct JobView {
    pub(crate) id: i64,
    pub(crate) run_id: i64,
    pub(crate) site_id: i64,
    pub(crate) site_name: String,
    pub(crate) flow_name: String,
    pub(crate) driver: String,
    pub(crate) status: String,
    pub(crate) class: &'static str,
    /// `3 (expect_text)`, or `start page`, or empty for a pass.
    pub(crate) failed_step: String,
    pub(crate) reason: String,
    pub(crate) duration: String,
    pub(crate) has_screenshot: bool,
    pub(crate) finished: String,
    pub(crate) claimed_by: String,
}

impl JobView {
    pub(crate) fn new(job: &Job) -> Self {
        let reason = job.reason.clone().unwrap_or_default();
        let failed_step = match job.failed_step {
            Some(i) => {
                // Reasons start `step 3 (expect_text): ...`: keep the kind, the rest is in the
                // error column.
                let prefix = format!("step {i} (");
                match reason.strip_prefix(&prefix).and_then(|r| r.split_once(')')) {
                    Some((kind, _)) => format!("{i} ({kind})"),
                    None => i.to_string(),
                }
            }
            None if job.status != "passed" && format::status_class(&job.status) == "bad" => {
                "start page".to_owned()
            }
            None => String::new(),
        };
        Self {
            id: job.id,
            run_id: job.run_id,
            site_id: job.site_id,
            site_name: job.site_name.clone(),
            flow_name: job.flow_name.clone(),
            driver: job.driver.clone(),
            status: job.status.clone(),
            class: format::status_class(&job.status),
            failed_step,
            reason,
            duration: job.duration_ms.map(format::duration).unwrap_or_default(),
            has_screenshot: job.has_screenshot,
            finished: job.finished_at.map(format::datetime).unwrap_or_default(),
            claimed_by: job.claimed_by.clone().unwrap_or_default(),
        }
    }
}

/// A site in the list.
#[derive(Debug, Clone)]
pub(crate) struct SiteView {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) base_url: String,
    pub(crate) schedule: String,
    pub(crate) enabled: bool,
    pub(crate) builtin: bool,
    pub(crate) flows: i64,
    pub(crate) last_run: Option<RunView>,
}

/// `every 20 s`, `every 5 min`, or `manual`.
pub(crate) fn schedule(interval_secs: Option<u64>) -> String {
    match interval_secs {
        None | Some(0) => "manual".to_owned(),
        Some(s) if s % 3600 == 0 => format!("every {} h", s / 3600),
        Some(s) if s % 60 == 0 => format!("every {} min", s / 60),
        Some(s) => format!("every {s} s"),
    }
}

impl SiteView {
    pub(crate) fn new(row: &SiteRow, now: i64) -> Self {
        Self {
            id: row.site.id,
            name: row.site.name.clone(),
            base_url: row.site.base_url.clone(),
            schedule: schedule(row.site.interval_secs),
            enabled: row.site.enabled,
            builtin: row.site.builtin.is_some(),
            flows: row.flows,
            last_run: row.last_run.as_ref().map(|r| RunView::new(r, now)),
        }
    }
}

/// A flow in a site's table.
#[derive(Debug, Clone)]
pub(crate) struct FlowView {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) driver: String,
    pub(crate) start_url: String,
    /// The steps' kinds in order: `fill, fill, submit, expect_text`.
    pub(crate) steps: String,
    pub(crate) step_count: usize,
    /// Its schedule and timeout when it has its own: `every 300 s, timeout 45 s`.
    pub(crate) own: String,
}

impl FlowView {
    pub(crate) fn new(flow: &Flow) -> Self {
        let kinds: Vec<&str> = flow.spec.steps.iter().map(|s| s.kind().as_str()).collect();
        Self {
            id: flow.id,
            name: flow.spec.name.clone(),
            driver: flow.spec.driver.clone(),
            start_url: flow.spec.start_url.clone(),
            steps: kinds.join(", "),
            step_count: kinds.len(),
            own: {
                let mut own = Vec::new();
                match flow.spec.interval_secs {
                    Some(0) => own.push("by hand only".to_owned()),
                    Some(s) => own.push(format!("every {s} s")),
                    None => {}
                }
                if let Some(t) = flow.spec.timeout_secs {
                    own.push(format!("timeout {t} s"));
                }
                own.join(", ")
            },
        }
    }
}

/// Jobs by status, with the success rate worded.
#[derive(Debug, Clone)]
pub(crate) struct TotalsView {
    pub(crate) t: Totals,
    pub(crate) success: String,
}

impl TotalsView {
    pub(crate) fn new(totals: &Totals) -> Self {
        Self {
            success: totals.success_rate().map(format::percent).unwrap_or_else(|| "–".to_owned()),
            t: totals.clone(),
        }
    }
}

/// A driver in the list.
#[derive(Debug, Clone)]
pub(crate) struct DriverView {
    pub(crate) name: String,
    pub(crate) capacity: usize,
    pub(crate) in_use: usize,
    pub(crate) health: &'static str,
    pub(crate) class: &'static str,
    pub(crate) detail: String,
    pub(crate) totals: TotalsView,
}

impl DriverView {
    pub(crate) fn new(info: &DriverInfo) -> Self {
        let (health, class) = match (info.configured, info.healthy) {
            (false, _) => ("not configured", "off"),
            (true, true) => ("healthy", "ok"),
            (true, false) => ("unhealthy", "bad"),
        };
        Self {
            name: info.name.clone(),
            capacity: info.capacity,
            in_use: info.in_use,
            health,
            class,
            detail: info.detail.clone(),
            totals: TotalsView::new(&info.totals),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: &str, failed_step: Option<i64>, reason: Option<&str>) -> Job {
        Job {
            id: 7,
            run_id: 3,
            site_id: 1,
            site_name: "s".into(),
            flow_id: Some(2),
            flow_name: "f".into(),
            driver: "http".into(),
            status: status.into(),
            claimed_by: None,
            failed_step,
            reason: reason.map(str::to_owned),
            duration_ms: Some(1500),
            has_screenshot: false,
            enqueued_at: 0,
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn failing_step_is_named_from_the_reason() {
        let v = JobView::new(&job("failed", Some(3), Some("step 3 (expect_text): text \"x\" not found")));
        assert_eq!(v.failed_step, "3 (expect_text)");
        assert_eq!(
            JobView::new(&job("error", None, Some("start page http://x/: refused"))).failed_step,
            "start page"
        );
        assert_eq!(JobView::new(&job("passed", None, None)).failed_step, "");
        assert_eq!(JobView::new(&job("passed", None, None)).duration, "1.50 s");
    }

    #[test]
    fn schedules_read_naturally() {
        assert_eq!(schedule(None), "manual");
        assert_eq!(schedule(Some(20)), "every 20 s");
        assert_eq!(schedule(Some(300)), "every 5 min");
        assert_eq!(schedule(Some(7200)), "every 2 h");
    }
}
