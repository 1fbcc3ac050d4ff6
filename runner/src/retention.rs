//! The pruner: every [`RetentionOptions::every`], deletes finished runs past `--keep-days` or
//! beyond `--keep-runs-per-site`, [`BATCH`] runs per transaction with a pause between, so
//! that the scheduler, the workers and the dashboard get the store between batches; then
//! reclaims the freed space.

use std::time::Duration;

use tokio::sync::watch;

use crate::now_ms;
use crate::store::Store;

/// Runs deleted per transaction.
pub const BATCH: i64 = 100;
/// Pause between two batches.
const PAUSE: Duration = Duration::from_millis(50);

/// What to keep.
#[derive(Debug, Clone)]
pub struct RetentionOptions {
    /// Finished runs older than this many days go (0: none by age).
    pub keep_days: u64,
    /// Only the newest this many runs of each site stay (0: none by count).
    pub keep_runs_per_site: u64,
    /// How often to prune.
    pub every: Duration,
}

/// Prunes until `shutdown` turns true.
pub async fn run(store: Store, options: RetentionOptions, mut shutdown: watch::Receiver<bool>) {
    if options.keep_days == 0 && options.keep_runs_per_site == 0 {
        return;
    }
    while !*shutdown.borrow() {
        prune(&store, &options, &shutdown).await;
        tokio::select! {
            () = tokio::time::sleep(options.every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One pass: batches until nothing is left to delete (or shutdown), then space back.
pub async fn prune(store: &Store, options: &RetentionOptions, shutdown: &watch::Receiver<bool>) {
    let day_ms: i64 = 24 * 3600 * 1000;
    let cut = match i64::try_from(options.keep_days) {
        Ok(0) | Err(_) => 0,
        Ok(days) => now_ms().saturating_sub(days.saturating_mul(day_ms)),
    };
    let keep = i64::try_from(options.keep_runs_per_site).unwrap_or(i64::MAX);
    let (mut runs, mut jobs) = (0, 0);
    while !*shutdown.borrow() {
        match store.prune_batch(cut, keep, BATCH).await {
            Ok(done) if done.runs == 0 => break,
            Ok(done) => {
                runs += done.runs;
                jobs += done.jobs;
                tokio::time::sleep(PAUSE).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot prune old runs");
                return;
            }
        }
    }
    if runs > 0 {
        tracing::info!(runs, jobs, "pruned old runs");
        if let Err(e) = store.reclaim_space().await {
            tracing::warn!(error = %e, "cannot reclaim the pruned space");
        }
    }
}
