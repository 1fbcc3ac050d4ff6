//! Drivers: the engines jobs run on, and the registry that bounds how many sessions each
//! runs at once.
//!
//! - [`http::HttpDriver`] (`http`): built in; fetches server-rendered pages and submits their
//!   forms itself, no browser.
//! - [`webdriver::WebDriverDriver`] (`webdriver`): a browser through a WebDriver server
//!   (chromedriver), for pages that need scripts.
//!
//! Both engines read a flow the same way: URL resolution and matching, check-box values,
//! text comparison, the status rule and the failure wording are one copy, in `rules` and
//! `failure`, with their tests.
//!
//! A driver runs one flow per call and reports a [`JobOutcome`]; the worker pool around it
//! enforces the per-job timeout (reading the step reached from [`Progress`]), so a driver
//! never needs its own.

mod failure;
pub mod files;
pub mod http;
mod rules;
pub mod webdriver;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use promkit::Gauge;
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::domain::{FlowSpec, JobOutcome};
pub(crate) use failure::StepFailure;

/// A boxed future, so that [`Driver`] can be used as `dyn Driver`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which step a running job has reached, shared between the driver (which moves it) and the
/// pool (which reads it when the job times out).
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<AtomicUsize>);

/// A position in a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Loading the start URL.
    Start,
    /// Running the step at this index.
    Step(usize),
}

impl Progress {
    /// Marks the start page as the current position.
    pub fn at_start(&self) {
        // Relaxed: a reader that lags one step only words its timeout reason less precisely.
        self.0.store(0, Ordering::Relaxed);
    }

    /// Marks step `index` as the current position.
    pub fn at_step(&self, index: usize) {
        self.0.store(index.saturating_add(1), Ordering::Relaxed);
    }

    /// The current position.
    pub fn position(&self) -> Position {
        match self.0.load(Ordering::Relaxed) {
            0 => Position::Start,
            n => Position::Step(n - 1),
        }
    }
}

/// Everything a driver needs to run one job.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The job's id, for logs.
    pub job_id: i64,
    /// The site's name.
    pub site_name: String,
    /// The site's base URL, which relative flow URLs resolve against.
    pub base_url: Url,
    /// The flow to run.
    pub flow: FlowSpec,
    /// Where the job is, for timeout reasons.
    pub progress: Progress,
}

/// A driver's health, for `/` and the drivers API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Whether the driver can run jobs now.
    pub healthy: bool,
    /// Whether the driver was set up at all (an unconfigured optional driver does not make the
    /// runner unready).
    pub configured: bool,
    /// A sentence for people.
    pub detail: String,
}

/// An engine that runs flows.
pub trait Driver: Send + Sync + fmt::Debug {
    /// The name flows use in their `driver` field.
    fn name(&self) -> &str;

    /// How many jobs it runs at once on this instance.
    fn capacity(&self) -> usize;

    /// Whether it can run jobs now.
    fn health(&self) -> BoxFuture<'_, Health>;

    /// Runs one flow to its end and reports how it went. Never panics on site data; stops at
    /// the first failing step.
    fn run<'a>(&'a self, job: &'a JobSpec) -> BoxFuture<'a, JobOutcome>;
}

/// A driver as registered: the driver, its session slots and the in-use gauge.
#[derive(Debug)]
pub struct DriverSlot {
    driver: Arc<dyn Driver>,
    permits: Arc<Semaphore>,
    in_use: Gauge,
}

/// One session slot of a driver, held while a job is claimed and run; frees the slot when
/// dropped. It counts as in use (`runner_driver_sessions_in_use`) only once
/// [`start`](Self::start)ed, so slots held just to look for a job do not show.
#[derive(Debug)]
pub struct Session {
    _permit: OwnedSemaphorePermit,
    in_use: Gauge,
    started: bool,
}

impl Session {
    /// Marks the slot as running a job.
    pub fn start(&mut self) {
        if !self.started {
            self.started = true;
            self.in_use.inc();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.started {
            self.in_use.dec();
        }
    }
}

impl DriverSlot {
    /// The driver.
    pub fn driver(&self) -> &Arc<dyn Driver> {
        &self.driver
    }

    /// Takes a free session slot, or `None` when all are taken.
    pub fn try_session(&self) -> Option<Session> {
        let permit = Arc::clone(&self.permits).try_acquire_owned().ok()?;
        Some(Session { _permit: permit, in_use: self.in_use.clone(), started: false })
    }

    /// Sessions running a job now.
    pub fn in_use(&self) -> usize {
        usize::try_from(self.in_use.get()).unwrap_or(0)
    }
}

/// A driver name registered twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a driver named `{0}` is registered already")]
pub struct DuplicateDriver(pub String);

/// The drivers of this instance, by name.
#[derive(Debug, Default)]
pub struct DriverRegistry {
    slots: Vec<DriverSlot>,
}

impl DriverRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a driver; `in_use` is its `runner_driver_sessions_in_use` series.
    ///
    /// # Errors
    ///
    /// [`DuplicateDriver`] when the name is taken.
    pub fn register(&mut self, driver: Arc<dyn Driver>, in_use: Gauge) -> Result<(), DuplicateDriver> {
        if self.get(driver.name()).is_some() {
            return Err(DuplicateDriver(driver.name().to_owned()));
        }
        let permits = Arc::new(Semaphore::new(driver.capacity()));
        self.slots.push(DriverSlot { driver, permits, in_use });
        Ok(())
    }

    /// The driver of that name.
    pub fn get(&self, name: &str) -> Option<&DriverSlot> {
        self.slots.iter().find(|s| s.driver.name() == name)
    }

    /// Every driver, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &DriverSlot> {
        self.slots.iter()
    }

    /// Every driver's name.
    pub fn names(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.driver.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fake;

    impl Driver for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn capacity(&self) -> usize {
            2
        }
        fn health(&self) -> BoxFuture<'_, Health> {
            Box::pin(async { Health { healthy: true, configured: true, detail: String::new() } })
        }
        fn run<'a>(&'a self, _: &'a JobSpec) -> BoxFuture<'a, JobOutcome> {
            Box::pin(async { JobOutcome::passed() })
        }
    }

    #[test]
    fn sessions_are_bounded_by_capacity() {
        let mut registry = DriverRegistry::new();
        let gauge = Gauge::new();
        registry.register(Arc::new(Fake), gauge.clone()).unwrap();
        assert_eq!(registry.register(Arc::new(Fake), Gauge::new()), Err(DuplicateDriver("fake".into())));
        let slot = registry.get("fake").unwrap();
        let mut a = slot.try_session().unwrap();
        let mut b = slot.try_session().unwrap();
        assert!(slot.try_session().is_none());
        assert_eq!((slot.in_use(), gauge.get()), (0, 0), "held, not started");
        a.start();
        b.start();
        b.start();
        assert_eq!((slot.in_use(), gauge.get()), (2, 2));
        drop(a);
        assert_eq!((slot.in_use(), gauge.get()), (1, 1));
        let unused = slot.try_session().unwrap();
        drop(unused);
        assert_eq!(gauge.get(), 1);
        assert_eq!(registry.names(), ["fake"]);
    }

    #[test]
    fn progress_positions() {
        let p = Progress::default();
        assert_eq!(p.position(), Position::Start);
        p.at_step(0);
        assert_eq!(p.position(), Position::Step(0));
        p.at_start();
        assert_eq!(p.position(), Position::Start);
    }
}
