//! `ProcessCollector`: CPU, memory, file descriptors, threads, start time and network bytes of a
//! process, under the names and help texts of Go's `client_golang` process collector.
//!
//! The reading is per OS, one file each: `process/linux.rs` (Linux and Android, from `/proc`)
//! and `process/other.rs` (everything else: nothing to read without platform calls).

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use crate::model::{
    BuildError, CollectError, Collector, Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value,
};
use crate::registry::{CollectorId, Error, Registry};
use crate::syntax::name::{is_valid_metric_name, name_fix_hint};

#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux;
#[cfg(any(target_os = "linux", target_os = "android"))]
use linux as os;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod other;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use other as os;

/// One family the collector exports: its name without namespace, help text and type.
struct Spec {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
}

/// Every family, in name order (the order they are written in, as Go's gatherer sorts them).
/// Help texts are client_golang's, word for word; `process_threads` is not in Go's process
/// collector and takes the help text the Rust clients use for it.
const FAMILIES: [Spec; FAMILY_COUNT] = [
    Spec {
        name: "process_cpu_seconds_total",
        help: "Total user and system CPU time spent in seconds.",
        kind: MetricType::Counter,
    },
    Spec {
        name: "process_max_fds",
        help: "Maximum number of open file descriptors.",
        kind: MetricType::Gauge,
    },
    Spec {
        name: "process_network_receive_bytes_total",
        help: "Number of bytes received by the process over the network.",
        kind: MetricType::Counter,
    },
    Spec {
        name: "process_network_transmit_bytes_total",
        help: "Number of bytes sent by the process over the network.",
        kind: MetricType::Counter,
    },
    Spec { name: "process_open_fds", help: "Number of open file descriptors.", kind: MetricType::Gauge },
    Spec {
        name: "process_resident_memory_bytes",
        help: "Resident memory size in bytes.",
        kind: MetricType::Gauge,
    },
    Spec {
        name: "process_start_time_seconds",
        help: "Start time of the process since unix epoch in seconds.",
        kind: MetricType::Gauge,
    },
    Spec { name: "process_threads", help: "Number of OS threads in the process.", kind: MetricType::Gauge },
    Spec {
        name: "process_virtual_memory_bytes",
        help: "Virtual memory size in bytes.",
        kind: MetricType::Gauge,
    },
    Spec {
        name: "process_virtual_memory_max_bytes",
        help: "Maximum amount of virtual memory available in bytes.",
        kind: MetricType::Gauge,
    },
];

const FAMILY_COUNT: usize = 10;

/// Positions in [`FAMILIES`] and in [`Readings`].
// Where nothing is read, only the failure position (`CPU`) is used.
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
mod at {
    pub(super) const CPU: usize = 0;
    pub(super) const MAX_FDS: usize = 1;
    pub(super) const NET_RECEIVE: usize = 2;
    pub(super) const NET_TRANSMIT: usize = 3;
    pub(super) const OPEN_FDS: usize = 4;
    pub(super) const RESIDENT: usize = 5;
    pub(super) const START_TIME: usize = 6;
    pub(super) const THREADS: usize = 7;
    pub(super) const VIRTUAL: usize = 8;
    pub(super) const VIRTUAL_MAX: usize = 9;
}

/// One scrape's values, by family position; `None` where the source could not be read.
type Readings = [Option<f64>; FAMILY_COUNT];

/// What the [`ProcessCollector`] does when a `/proc` file cannot be read or parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadErrors {
    /// Fail the collection with a [`CollectError`] naming the file; whether that fails the
    /// scrape is the registry's or HTTP handler's error policy.
    #[default]
    Report,
    /// Leave out the families whose source failed and export the rest: Go's default
    /// (`ReportErrors: false`), for process metrics as a nice-to-have that must never break
    /// a scrape. The default registry's collector uses this.
    Skip,
}

/// Why the process collector could not read a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// A file under `/proc` could not be read.
    #[error(
        "cannot read `{path}`: {source}; is /proc mounted, and the process alive and visible to this user?"
    )]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file under `/proc` did not have the expected format.
    #[error("cannot parse `{path}`: {what}")]
    Parse {
        /// The file.
        path: String,
        /// What was missing or malformed.
        what: &'static str,
    },
    /// The pid file given to [`ProcessCollectorBuilder::pid_file`] could not be read.
    #[error("cannot read pid file `{}`: {source}", path.display())]
    PidFile {
        /// The pid file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The pid file given to [`ProcessCollectorBuilder::pid_file`] did not hold a process id.
    #[error("pid file `{}` holds {content:?}, not a process id", path.display())]
    PidFileContent {
        /// The pid file.
        path: PathBuf,
        /// What it held (trimmed).
        content: String,
    },
    /// The function given to [`ProcessCollectorBuilder::pid_fn`] failed.
    #[error("cannot find the process id: {source}")]
    Pid {
        /// Its error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// A function returning the process id to read, called on every collection.
type PidFn = Box<dyn Fn() -> Result<u32, Box<dyn StdError + Send + Sync>> + Send + Sync>;

/// Which process the collector reads.
enum Target {
    /// This process (`/proc/self`).
    Current,
    /// A fixed process id.
    Pid(u32),
    /// A process id read from a file on every collection.
    PidFile(PathBuf),
    /// A process id from a function on every collection.
    Fn(PidFn),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Current => f.write_str("Current"),
            Target::Pid(pid) => f.debug_tuple("Pid").field(pid).finish(),
            Target::PidFile(path) => f.debug_tuple("PidFile").field(path).finish(),
            Target::Fn(_) => f.write_str("Fn(..)"),
        }
    }
}

/// Exports the state of a process: the metrics Go's default registry shows for every Go
/// program, under the same names and help texts.
///
/// | family | type | Linux source |
/// |---|---|---|
/// | `process_cpu_seconds_total` | counter | `/proc/<pid>/stat` utime + stime, over the clock tick (`USER_HZ`, 100) |
/// | `process_max_fds` | gauge | `/proc/<pid>/limits`, "Max open files" soft limit |
/// | `process_network_receive_bytes_total` | counter | `/proc/<pid>/net/netstat`, `IpExt` `InOctets` |
/// | `process_network_transmit_bytes_total` | counter | `/proc/<pid>/net/netstat`, `IpExt` `OutOctets` |
/// | `process_open_fds` | gauge | entries of `/proc/<pid>/fd` |
/// | `process_resident_memory_bytes` | gauge | `/proc/<pid>/stat` rss × page size |
/// | `process_start_time_seconds` | gauge | `/proc/<pid>/stat` starttime over the clock tick, plus `btime` of `/proc/stat` |
/// | `process_threads` | gauge | `/proc/<pid>/stat` num_threads |
/// | `process_virtual_memory_bytes` | gauge | `/proc/<pid>/stat` vsize |
/// | `process_virtual_memory_max_bytes` | gauge | `/proc/<pid>/limits`, "Max address space" soft limit |
///
/// Tick counts are divided by the kernel's `USER_HZ` and pages multiplied by its page size, both
/// read once from the auxiliary vector (`/proc/self/auxv`, what `sysconf` reads); Go hard-codes
/// the 100 ticks a second every mainstream Linux uses, and asks the runtime for the page size.
/// Values are exactly Go's: an `unlimited` limit is 2⁶⁴−1 (written `1.8446744073709552e+19`),
/// and the network counters are those of the process's network namespace (as in Go, Linux
/// keeps no per-process byte counts), 0 when the kernel has no `IpExt` line.
/// `process_threads` is the one family Go's process collector lacks (Go exports `go_threads`
/// from its runtime collector instead).
///
/// # Platforms
///
/// Linux and Android read `/proc` as above. Every other platform compiles, describes no family
/// and exports nothing ([`ProcessCollector::SUPPORTED`] is `false`): the standard library
/// offers none of these values there. Go reads macOS and Windows through system calls; promkit
/// keeps its dependencies free of `libc` and does not, yet.
///
/// # Cost
///
/// A collection reads four small files into a buffer reused behind a mutex and stats one
/// directory; it allocates nothing once the buffer has grown. On Linux before 6.2, where the
/// `/proc/<pid>/fd` directory does not report its entry count as its size, the descriptors are
/// counted by listing the directory, which allocates per entry.
///
/// # Example
///
/// ```
/// use promkit::collectors::{ProcessCollector, ReadErrors};
/// use promkit::Registry;
///
/// let registry = Registry::new();
/// ProcessCollector::builder().namespace("worker").errors(ReadErrors::Skip).register(&registry)?;
/// let text = registry.encode_text_string()?;
/// if ProcessCollector::SUPPORTED {
///     assert!(text.contains("# TYPE worker_process_cpu_seconds_total counter\n"));
/// }
/// # Ok::<(), promkit::Error>(())
/// ```
///
/// [`default_registry`](crate::default_registry) holds one for the current process, with
/// [`ReadErrors::Skip`], as Go's default registry does; `Registry::new()` starts empty.
pub struct ProcessCollector {
    target: Target,
    errors: ReadErrors,
    /// The full family names, namespace included, by family position.
    names: [String; FAMILY_COUNT],
    scratch: Mutex<os::Scratch>,
}

impl fmt::Debug for ProcessCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessCollector")
            .field("target", &self.target)
            .field("errors", &self.errors)
            .field("first_family", &self.names[0])
            .finish_non_exhaustive()
    }
}

impl ProcessCollector {
    /// Whether this platform has a process collector that exports anything (Linux, Android).
    pub const SUPPORTED: bool = os::SUPPORTED;

    /// Starts declaring a process collector: the current process, no namespace, read errors
    /// reported.
    pub fn builder() -> ProcessCollectorBuilder {
        ProcessCollectorBuilder {
            namespace: String::new(),
            target: Target::Current,
            errors: ReadErrors::Report,
        }
    }

    /// The name of the first family (`process_cpu_seconds_total` with the namespace), which
    /// [`Registry::unregister`] takes to remove the collector.
    pub fn first_family(&self) -> &str {
        &self.names[0]
    }

    /// Reads every value once; the first failure comes with the position of a family it left
    /// out.
    fn read(&self, out: &mut Readings) -> Option<(usize, ProcessError)> {
        let mut scratch = self.scratch.lock().unwrap_or_else(PoisonError::into_inner);
        let pid = match &self.target {
            Target::Current => None,
            Target::Pid(pid) => Some(*pid),
            Target::PidFile(path) => match read_pid_file(path) {
                Ok(pid) => Some(pid),
                Err(e) => return Some((at::CPU, e)),
            },
            Target::Fn(f) => match f() {
                Ok(pid) => Some(pid),
                Err(source) => return Some((at::CPU, ProcessError::Pid { source })),
            },
        };
        os::read(pid, &mut scratch, out)
    }
}

/// Reads a process id from a pid file, as Go's `NewPidFileFn`: the whole file, trimmed.
fn read_pid_file(path: &PathBuf) -> Result<u32, ProcessError> {
    let content = std::fs::read_to_string(path)
        .map_err(|source| ProcessError::PidFile { path: path.clone(), source })?;
    content
        .trim()
        .parse()
        .map_err(|_| ProcessError::PidFileContent { path: path.clone(), content: content.trim().to_owned() })
}

impl Collector for ProcessCollector {
    fn describe(&self) -> Vec<Desc> {
        if !Self::SUPPORTED {
            return Vec::new();
        }
        FAMILIES
            .iter()
            .zip(&self.names)
            .map(|(spec, name)| Desc {
                name: name.clone(),
                help: spec.help.to_owned(),
                unit: String::new(),
                kind: spec.kind,
                label_names: Vec::new(),
                const_labels: Vec::new(),
            })
            .collect()
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        if !Self::SUPPORTED {
            return Ok(());
        }
        let mut readings: Readings = [None; FAMILY_COUNT];
        if let Some((at, error)) = self.read(&mut readings) {
            if self.errors == ReadErrors::Report {
                // Nothing written yet: a failed collection leaves no partial output behind.
                return Err(CollectError::failed(self.names[at].clone(), error));
            }
        }
        for ((spec, name), value) in FAMILIES.iter().zip(&self.names).zip(readings) {
            let Some(v) = value else { continue };
            sink.family(&FamilyHeader { name, help: spec.help, unit: "", kind: spec.kind });
            // Floats throughout: Go's const metrics hold float64, so the text matches Go's.
            let value = match spec.kind {
                MetricType::Counter => Value::CounterF64(v),
                _ => Value::GaugeF64(v),
            };
            sink.sample(&Labels::None, value, &SampleMeta::default());
        }
        Ok(())
    }
}

/// Declares a [`ProcessCollector`] (Go's `ProcessCollectorOpts`); from
/// [`ProcessCollector::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` or `register`"]
pub struct ProcessCollectorBuilder {
    namespace: String,
    target: Target,
    errors: ReadErrors,
}

impl ProcessCollectorBuilder {
    /// Prefixes every family name with `namespace` and `_` (`myapp_process_open_fds`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Reads the process with this id instead of the current one.
    pub fn pid(mut self, pid: u32) -> Self {
        self.target = Target::Pid(pid);
        self
    }

    /// Reads the process whose id is in this file, read again on every collection (a daemon's
    /// pid file; Go's `NewPidFileFn`).
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.target = Target::PidFile(path.into());
        self
    }

    /// Reads the process whose id `f` returns, called on every collection (Go's `PidFn`).
    pub fn pid_fn(
        mut self,
        f: impl Fn() -> Result<u32, Box<dyn StdError + Send + Sync>> + Send + Sync + 'static,
    ) -> Self {
        self.target = Target::Fn(Box::new(f));
        self
    }

    /// What a file that cannot be read or parsed does (default [`ReadErrors::Report`]).
    pub fn errors(mut self, errors: ReadErrors) -> Self {
        self.errors = errors;
        self
    }

    /// Validates the namespace and builds the collector.
    ///
    /// # Errors
    /// [`BuildError::InvalidMetricName`] when the namespace makes invalid family names.
    pub fn build(self) -> Result<ProcessCollector, BuildError> {
        let names = FAMILIES.map(|spec| {
            if self.namespace.is_empty() {
                spec.name.to_owned()
            } else {
                format!("{}_{}", self.namespace, spec.name)
            }
        });
        if !is_valid_metric_name(&names[0]) {
            return Err(BuildError::InvalidMetricName {
                hint: name_fix_hint(&names[0], true),
                name: names[0].clone(),
            });
        }
        Ok(ProcessCollector { target: self.target, errors: self.errors, names, scratch: Mutex::default() })
    }

    /// Builds the collector and registers it.
    ///
    /// # Errors
    /// [`Error::Build`] for an invalid namespace, [`Error::Register`] when the registry
    /// refuses the families (another process collector with the same namespace, say).
    pub fn register(self, registry: &Registry) -> Result<CollectorId, Error> {
        Ok(registry.register(self.build()?)?)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` would return; for start-up registration only.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> CollectorId {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn families_are_in_name_order_with_go_names() {
        let names: Vec<&str> = FAMILIES.iter().map(|s| s.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(FAMILIES[at::CPU].name, "process_cpu_seconds_total");
        assert_eq!(FAMILIES[at::MAX_FDS].name, "process_max_fds");
        assert_eq!(FAMILIES[at::NET_RECEIVE].name, "process_network_receive_bytes_total");
        assert_eq!(FAMILIES[at::NET_TRANSMIT].name, "process_network_transmit_bytes_total");
        assert_eq!(FAMILIES[at::OPEN_FDS].name, "process_open_fds");
        assert_eq!(FAMILIES[at::RESIDENT].name, "process_resident_memory_bytes");
        assert_eq!(FAMILIES[at::START_TIME].name, "process_start_time_seconds");
        assert_eq!(FAMILIES[at::THREADS].name, "process_threads");
        assert_eq!(FAMILIES[at::VIRTUAL].name, "process_virtual_memory_bytes");
        assert_eq!(FAMILIES[at::VIRTUAL_MAX].name, "process_virtual_memory_max_bytes");
    }

    #[test]
    fn namespace_prefixes_every_family_and_is_validated() {
        let c = ProcessCollector::builder().namespace("app").build().unwrap();
        assert!(c.names.iter().all(|n| n.starts_with("app_process_")), "{:?}", c.names);
        assert_eq!(c.first_family(), "app_process_cpu_seconds_total");
        let e = ProcessCollector::builder().namespace("my-app").build().unwrap_err();
        assert_eq!(e.to_string(), "invalid metric name `my-app_process_cpu_seconds_total`: use `_`, not `-`");
    }

    #[test]
    fn a_missing_process_is_reported_or_skipped_as_asked() {
        // Pid 0 is never a process: /proc/0 does not exist.
        let r = Registry::new();
        ProcessCollector::builder().pid(0).register(&r).unwrap();
        if !ProcessCollector::SUPPORTED {
            assert_eq!(r.encode_text_string().unwrap(), "");
            return;
        }
        let e = r.encode_text_string().unwrap_err();
        let CollectError::Failed { family, source } = &e else { panic!("{e:?}") };
        assert_eq!(family, "process_cpu_seconds_total");
        assert!(
            source.to_string().starts_with("cannot read `/proc/0/stat`: No such file or directory"),
            "{source}"
        );

        let r = Registry::new();
        ProcessCollector::builder().pid(0).errors(ReadErrors::Skip).register(&r).unwrap();
        let text = r.encode_text_string().unwrap();
        // What does not depend on the process (the network namespace) is not read either:
        // /proc/0/net/netstat is gone with /proc/0.
        assert_eq!(text, "");
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn pid_file_and_pid_fn_errors_name_their_cause() {
        let dir = std::env::temp_dir().join(format!("promkit-pidfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.pid");
        std::fs::write(&file, "not-a-pid\n").unwrap();
        let r = Registry::new();
        ProcessCollector::builder().pid_file(&file).register(&r).unwrap();
        let e = r.encode_text_string().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "collector for `process_cpu_seconds_total` failed: pid file `{}` holds \"not-a-pid\", not a process id",
                file.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let r = Registry::new();
        ProcessCollector::builder().pid_fn(|| Err("no such service".into())).register(&r).unwrap();
        let e = r.encode_text_string().unwrap_err();
        assert_eq!(
            e.to_string(),
            "collector for `process_cpu_seconds_total` failed: cannot find the process id: no such service"
        );
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn pid_file_and_pid_fn_read_that_process() {
        let dir = std::env::temp_dir().join(format!("promkit-pidfile-ok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("self.pid");
        std::fs::write(&file, format!("{}\n", std::process::id())).unwrap();
        for builder in [
            ProcessCollector::builder().pid_file(&file),
            ProcessCollector::builder().pid_fn(|| Ok(std::process::id())),
            ProcessCollector::builder().pid(std::process::id()),
        ] {
            let r = Registry::new();
            builder.register(&r).unwrap();
            let text = r.encode_text_string().unwrap();
            assert_eq!(text.lines().filter(|l| l.starts_with("# TYPE ")).count(), FAMILY_COUNT, "{text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn exposition_has_every_family_with_go_help_and_type() {
        let r = Registry::new();
        ProcessCollector::builder().register(&r).unwrap();
        let text = r.encode_text_string().unwrap();
        let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headers,
            [
                "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
                "# TYPE process_cpu_seconds_total counter",
                "# HELP process_max_fds Maximum number of open file descriptors.",
                "# TYPE process_max_fds gauge",
                "# HELP process_network_receive_bytes_total Number of bytes received by the process over the network.",
                "# TYPE process_network_receive_bytes_total counter",
                "# HELP process_network_transmit_bytes_total Number of bytes sent by the process over the network.",
                "# TYPE process_network_transmit_bytes_total counter",
                "# HELP process_open_fds Number of open file descriptors.",
                "# TYPE process_open_fds gauge",
                "# HELP process_resident_memory_bytes Resident memory size in bytes.",
                "# TYPE process_resident_memory_bytes gauge",
                "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
                "# TYPE process_start_time_seconds gauge",
                "# HELP process_threads Number of OS threads in the process.",
                "# TYPE process_threads gauge",
                "# HELP process_virtual_memory_bytes Virtual memory size in bytes.",
                "# TYPE process_virtual_memory_bytes gauge",
                "# HELP process_virtual_memory_max_bytes Maximum amount of virtual memory available in bytes.",
                "# TYPE process_virtual_memory_max_bytes gauge",
            ]
        );
        let samples: Vec<&str> =
            text.lines().filter(|l| !l.starts_with('#')).map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(samples, FAMILIES.map(|s| s.name));

        // The real parsers accept it, and Go re-encodes it unchanged (so the values are written
        // as Go writes them).
        if let Some(report) = promkit_oracle::promtool_check(&text) {
            assert!(report.ok && report.lint.is_empty(), "{}\n{text}", report.output);
        }
        if let Some(canon) = promkit_oracle::go_canon(&text) {
            assert_eq!(canon.as_deref(), Ok(text.as_str()));
        }
        let om = r.encode_string(crate::Format::OPENMETRICS).unwrap();
        if let Some(parsed) = promkit_oracle::python_parse(&om, promkit_oracle::Format::OpenMetrics) {
            let families = parsed.unwrap_or_else(|e| panic!("{e}\n{om}"));
            let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "process_cpu_seconds",
                    "process_max_fds",
                    "process_network_receive_bytes",
                    "process_network_transmit_bytes",
                    "process_open_fds",
                    "process_resident_memory_bytes",
                    "process_start_time_seconds",
                    "process_threads",
                    "process_virtual_memory_bytes",
                    "process_virtual_memory_max_bytes",
                ]
            );
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn live_values_of_this_process_are_plausible() {
        let r = Registry::new();
        ProcessCollector::builder().register(&r).unwrap();
        let families = r.gather().unwrap();
        let value = |name: &str| -> f64 {
            let f = families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no {name}"));
            f.samples[0].value.as_f64()
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(value("process_cpu_seconds_total") >= 0.0);
        assert!(value("process_open_fds") >= 3.0); // stdin, stdout, stderr at least
        assert!(value("process_max_fds") >= value("process_open_fds"));
        assert!(value("process_resident_memory_bytes") > 0.0);
        assert!(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
        assert!(value("process_virtual_memory_max_bytes") > 0.0);
        let start = value("process_start_time_seconds");
        // Clock ticks are 10 ms: the start time may round to just after `now` only by that.
        assert!(start <= now + 0.01 && start > now - 86_400.0, "start {start}, now {now}");
        assert!(value("process_threads") >= 1.0);
        assert!(value("process_network_receive_bytes_total") >= 0.0);
        assert!(value("process_network_transmit_bytes_total") >= 0.0);
    }
}
