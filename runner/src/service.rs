//! Starting runs: what the API's "run now" and the scheduler share.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::domain::{Flow, Run, Site, Trigger};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Why a run could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The site's flows could not be loaded (the store failed, or a stored flow is
    /// unreadable). A run with status `error` and this message is recorded when possible.
    #[error("flows not fetched for site {site}: {source}")]
    FlowsNotFetched {
        /// The site's name.
        site: String,
        /// The recorded `error` run, if it could be recorded.
        run_id: Option<i64>,
        /// What went wrong.
        source: StoreError,
    },
    /// The site has no flows: nothing to run.
    #[error("site {site} has no flows to run; import some with POST /api/sites/{id}/flows/import")]
    NoFlows {
        /// The site's id.
        id: i64,
        /// The site's name.
        site: String,
    },
    /// A manual run was asked for while the site has a queued or running run: each site
    /// has at most one unfinished run, which bounds the queue by the sites' flows.
    #[error("site {site} already has run {run_id} queued or running; wait for it to finish")]
    Unfinished {
        /// The site's name.
        site: String,
        /// The unfinished run.
        run_id: i64,
    },
    /// The site does not exist, or the store failed before the flows were read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts runs: loads a site's flows, enqueues one job per flow, and wakes the local pool.
#[derive(Debug, Clone)]
pub struct Runs {
    store: Store,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
}

impl Runs {
    /// A starter over `store`; `wake` is the pool's (notified after each enqueue).
    pub fn new(store: Store, metrics: Arc<Metrics>, wake: Arc<Notify>) -> Self {
        Self { store, metrics, wake }
    }

    /// Starts a run of the site with this id, unless it has an unfinished one.
    ///
    /// # Errors
    ///
    /// [`RunError`]: unknown site, [`RunError::Unfinished`], flows not fetched, no flows.
    pub async fn start(&self, site_id: i64, trigger: Trigger, now: i64) -> Result<Run, RunError> {
        let site = self.store.site(site_id).await?;
        if let Some(run_id) = self.store.unfinished_run(site_id).await? {
            return Err(RunError::Unfinished { site: site.name, run_id });
        }
        self.start_site(&site, trigger, now).await
    }

    /// Starts a run of `site`.
    ///
    /// # Errors
    ///
    /// [`RunError::FlowsNotFetched`] when the flows cannot be loaded (a run with status
    /// `error` is recorded and counted); [`RunError::NoFlows`]; [`RunError::Store`].
    pub async fn start_site(&self, site: &Site, trigger: Trigger, now: i64) -> Result<Run, RunError> {
        let flows = match self.store.flows(site.id).await {
            Ok(flows) => flows,
            Err(source) => {
                let message = format!("flows not fetched for site {}: {source}", site.name);
                let run_id =
                    match self.store.record_failed_run(site.id, &site.name, trigger, &message, now).await {
                        Ok(run) => {
                            self.metrics.run_settled(crate::domain::RunStatus::Error);
                            Some(run.id)
                        }
                        Err(e) => {
                            tracing::warn!(site = %site.name, error = %e, "cannot record the failed run");
                            None
                        }
                    };
                return Err(RunError::FlowsNotFetched { site: site.name.clone(), run_id, source });
            }
        };
        self.start_flows(site, &flows, trigger, now).await
    }

    /// Starts a run of some of `site`'s flows (the scheduler's: those that came due).
    ///
    /// # Errors
    ///
    /// [`RunError::NoFlows`] when `flows` is empty; [`RunError::Store`].
    pub async fn start_flows(
        &self,
        site: &Site,
        flows: &[Flow],
        trigger: Trigger,
        now: i64,
    ) -> Result<Run, RunError> {
        if flows.is_empty() {
            return Err(RunError::NoFlows { id: site.id, site: site.name.clone() });
        }
        let run = self.store.enqueue_run(site, flows, trigger, now).await?;
        tracing::info!(site = %site.name, run = run.id, jobs = run.jobs_total, trigger = trigger.as_str(), "run enqueued");
        self.wake.notify_one();
        Ok(run)
    }
}
