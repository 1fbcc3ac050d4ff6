//! A site: a customer web site whose forms are checked, with its schedule.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::flow::FlowSpec;

/// When a site's flows run on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Only when someone asks (`POST /api/sites/{id}/run`).
    Manual,
    /// Every so many seconds, and on demand.
    Every(Duration),
}

impl Schedule {
    /// The interval in whole seconds, `None` for manual sites (the stored form).
    pub fn interval_secs(self) -> Option<u64> {
        match self {
            Self::Manual => None,
            Self::Every(d) => Some(d.as_secs()),
        }
    }

    /// The schedule of a stored or submitted interval: `None` or 0 is manual.
    pub fn from_interval_secs(secs: Option<u64>) -> Self {
        match secs {
            None | Some(0) => Self::Manual,
            Some(s) => Self::Every(Duration::from_secs(s)),
        }
    }
}

/// A site as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// Store id.
    pub id: i64,
    /// Unique display name, also the `site` label value of the job metrics.
    pub name: String,
    /// Absolute http(s) URL that relative flow URLs resolve against.
    pub base_url: String,
    /// Seconds between scheduled runs; `None` when the site runs on demand only.
    pub interval_secs: Option<u64>,
    /// Whether the scheduler runs it (manual runs work either way).
    pub enabled: bool,
    /// `Some("demo")` for the built-in demo site.
    pub builtin: Option<String>,
    /// When the scheduler next enqueues a run (unix ms), for scheduled, enabled sites.
    pub next_run_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl Site {
    /// The site's schedule.
    pub fn schedule(&self) -> Schedule {
        Schedule::from_interval_secs(self.interval_secs)
    }
}

/// A site as submitted (`POST /api/sites`, `PUT /api/sites/{id}`), optionally with its flows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// Unique display name.
    pub name: String,
    /// Absolute http(s) URL.
    pub base_url: String,
    /// Seconds between scheduled runs; absent, `null` or 0 for manual only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// Whether the scheduler runs it; default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The site's flows. On create, absent means none; on update, absent keeps the stored
    /// flows and present replaces them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<Vec<FlowSpec>>,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_or_absent_interval_is_manual() {
        assert_eq!(Schedule::from_interval_secs(None), Schedule::Manual);
        assert_eq!(Schedule::from_interval_secs(Some(0)), Schedule::Manual);
        assert_eq!(Schedule::from_interval_secs(Some(60)).interval_secs(), Some(60));
    }

    #[test]
    fn spec_defaults_and_rejects_unknown_fields() {
        let spec: SiteSpec = serde_json::from_str(r#"{"name":"a","base_url":"http://x/"}"#).unwrap();
        assert!(spec.enabled);
        assert_eq!(spec.flows, None);
        let err = serde_json::from_str::<SiteSpec>(r#"{"name":"a","base_url":"http://x/","intervl":5}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `intervl`"), "{err}");
    }
}
