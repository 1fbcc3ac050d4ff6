//! `RuntimeCollector`: reads each registered runtime's metrics at scrape time.

use promkit::CollectError;
use promkit::model::{Collector, Desc, FamilyHeader, Labels, SampleMeta, Sink};
use tokio::runtime::Handle;

use crate::table::{Read, rows};

/// Exports tokio runtime metrics (Go's runtime collector, for tokio): read at each scrape
/// from the runtimes' handles, nothing kept in between.
///
/// One collector covers every runtime of the program: with one runtime the families carry no
/// runtime label; with several, each series carries `runtime="<name>"`.
pub struct RuntimeCollector {
    runtimes: Vec<(String, Handle)>,
}

impl std::fmt::Debug for RuntimeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.runtimes.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RuntimeCollector").field("runtimes", &names).finish()
    }
}

/// Building a [`RuntimeCollector`] failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No runtime was added.
    #[error("no runtime to collect: add one with `runtime(name, handle)`")]
    NoRuntime,
    /// Two runtimes were given the same name.
    #[error("two runtimes are named `{name}`; each needs its own `runtime` label value")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
}

/// Configures a [`RuntimeCollector`]; from [`RuntimeCollector::builder`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build`"]
pub struct RuntimeCollectorBuilder {
    runtimes: Vec<(String, Handle)>,
}

impl RuntimeCollectorBuilder {
    /// Adds a runtime; `name` is its `runtime` label value once there are several.
    pub fn runtime(mut self, name: impl Into<String>, handle: Handle) -> Self {
        self.runtimes.push((name.into(), handle));
        self
    }

    /// The collector, to register.
    ///
    /// # Errors
    /// [`RuntimeError`] for no runtime, or two with the same name.
    pub fn build(self) -> Result<RuntimeCollector, RuntimeError> {
        if self.runtimes.is_empty() {
            return Err(RuntimeError::NoRuntime);
        }
        for (i, (name, _)) in self.runtimes.iter().enumerate() {
            if self.runtimes[..i].iter().any(|(n, _)| n == name) {
                return Err(RuntimeError::DuplicateName { name: name.clone() });
            }
        }
        Ok(RuntimeCollector { runtimes: self.runtimes })
    }
}

impl RuntimeCollector {
    /// A collector for one runtime, with no runtime label.
    pub fn new(handle: Handle) -> Self {
        Self { runtimes: vec![(String::new(), handle)] }
    }

    /// A collector for the runtime this is called from.
    ///
    /// # Panics
    /// Outside a tokio runtime (as [`Handle::current`]).
    #[track_caller]
    pub fn current() -> Self {
        Self::new(Handle::current())
    }

    /// Starts a collector for several named runtimes.
    pub fn builder() -> RuntimeCollectorBuilder {
        RuntimeCollectorBuilder::default()
    }

    fn labelled(&self) -> bool {
        self.runtimes.len() > 1
    }
}

impl Collector for RuntimeCollector {
    fn describe(&self) -> Vec<Desc> {
        rows()
            .map(|row| {
                let mut label_names = Vec::new();
                if self.labelled() {
                    label_names.push("runtime".to_owned());
                }
                if matches!(row.read, Read::Worker(_)) {
                    label_names.push("worker".to_owned());
                }
                Desc {
                    name: row.name.to_owned(),
                    help: row.help.to_owned(),
                    unit: row.unit.to_owned(),
                    kind: row.kind,
                    label_names,
                    const_labels: Vec::new(),
                }
            })
            .collect()
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let metrics: Vec<_> = self.runtimes.iter().map(|(name, h)| (name.as_str(), h.metrics())).collect();
        let meta = SampleMeta::default();
        let mut worker_ids: Vec<String> = Vec::new();
        for row in rows() {
            sink.family(&FamilyHeader { name: row.name, help: row.help, unit: row.unit, kind: row.kind });
            for (runtime, m) in &metrics {
                match row.read {
                    Read::Runtime(read) => {
                        let pairs = [("runtime", *runtime)];
                        let labels = if self.labelled() { Labels::Pairs(&pairs) } else { Labels::None };
                        sink.sample(&labels, read(m), &meta);
                    }
                    Read::Worker(read) => {
                        let workers = m.num_workers();
                        while worker_ids.len() < workers {
                            worker_ids.push(worker_ids.len().to_string());
                        }
                        for (w, id) in worker_ids.iter().enumerate().take(workers) {
                            let both = [("runtime", *runtime), ("worker", id.as_str())];
                            let labels = if self.labelled() { &both[..] } else { &both[1..] };
                            sink.sample(&Labels::Pairs(labels), read(m, w), &meta);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
