//! What every handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::domain::Limits;
use crate::driver::DriverRegistry;
use crate::service::Runs;
use crate::store::Store;

/// Shared state of the HTTP surface. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    drivers: Arc<DriverRegistry>,
    runs: Runs,
    limits: Limits,
    draining: AtomicBool,
}

impl AppState {
    /// State over these parts.
    pub fn new(store: Store, drivers: Arc<DriverRegistry>, runs: Runs, limits: Limits) -> Self {
        Self { inner: Arc::new(Inner { store, drivers, runs, limits, draining: AtomicBool::new(false) }) }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The drivers.
    pub fn drivers(&self) -> &DriverRegistry {
        &self.inner.drivers
    }

    /// The run starter.
    pub fn runs(&self) -> &Runs {
        &self.inner.runs
    }

    /// The input limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Marks the runner as shutting down: `/` answers 503 from then on.
    pub fn set_draining(&self) {
        // Relaxed: a health check that lags by one request is harmless.
        self.inner.draining.store(true, Ordering::Relaxed);
    }

    /// Whether the runner is shutting down.
    pub fn draining(&self) -> bool {
        self.inner.draining.load(Ordering::Relaxed)
    }
}
