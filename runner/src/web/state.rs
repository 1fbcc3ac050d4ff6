//! What every handler can reach.

use std::sync::atomic::{AtomicBool, Ordering};

use std::sync::{Arc, OnceLock};

use crate::domain::Limits;
use crate::driver::DriverRegistry;
use crate::secrets::SecretKey;
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
    secret_key: OnceLock<Arc<SecretKey>>,
}

impl AppState {
    /// State over these parts.
    pub fn new(store: Store, drivers: Arc<DriverRegistry>, runs: Runs, limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                drivers,
                runs,
                limits,
                draining: AtomicBool::new(false),
                secret_key: OnceLock::new(),
            }),
        }
    }

    /// Gives the API the key that seals secrets. Only the first call counts.
    pub fn set_secret_key(&self, key: Arc<SecretKey>) {
        let _ = self.inner.secret_key.set(key);
    }

    /// The key that seals secrets, once set.
    pub fn secret_key(&self) -> Option<&SecretKey> {
        self.inner.secret_key.get().map(|k| &**k)
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
