//! `PromkitRecorder`: the `metrics::Recorder` that writes into a promkit `Registry`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use metrics::{Key, KeyName, Metadata, SharedString, Unit};
use promkit::metrics::{Metric, NativeOptions};
use promkit::model::Collector;
use promkit::{Buckets, Counter, Family, GaugeF64, Histogram, Quantiles, Registry, Summary};

use crate::family::{Description, FacadeFamily};
use crate::handles::{CounterHandle, GaugeHandle, HistogramHandle};
use crate::names::{label_name_for, metric_name};
use crate::recent;

/// What `histogram!` records into; the same for every histogram of a recorder.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum HistogramMode {
    /// Classic cumulative buckets, chosen per name by
    /// [`buckets_for`](PromkitRecorderBuilder::buckets_for) (Go's default buckets otherwise).
    #[default]
    Classic,
    /// Native (sparse, exponential) histograms, exposed through protobuf. A name that a
    /// [`buckets_for`](PromkitRecorderBuilder::buckets_for) matcher picks gets those classic
    /// buckets too.
    Native(NativeOptions),
    /// Summaries with these quantiles (per instance: they do not aggregate).
    Summary(Quantiles),
}

/// Which metric names a bucket layout is for (as metrics-exporter-prometheus' `Matcher`).
/// Matched against the facade name, before it is [mapped](crate::names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Exactly this name.
    Full(String),
    /// Names starting with this.
    Prefix(String),
    /// Names ending with this.
    Suffix(String),
}

impl Matcher {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Full(s) => name == s,
            Self::Prefix(s) => name.starts_with(s.as_str()),
            Self::Suffix(s) => name.ends_with(s.as_str()),
        }
    }
}

/// Configures a [`PromkitRecorder`]; from [`PromkitRecorder::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` or `install`"]
pub struct PromkitRecorderBuilder {
    registry: Registry,
    mode: HistogramMode,
    buckets: Vec<(Matcher, Buckets)>,
    default_buckets: Option<Buckets>,
}

impl PromkitRecorderBuilder {
    /// What `histogram!` records into ([`HistogramMode::Classic`] by default).
    pub fn histograms(mut self, mode: HistogramMode) -> Self {
        self.mode = mode;
        self
    }

    /// Classic buckets for the histograms whose facade name `matcher` matches; the first
    /// matcher added that matches wins.
    pub fn buckets_for(mut self, matcher: Matcher, buckets: Buckets) -> Self {
        self.buckets.push((matcher, buckets));
        self
    }

    /// Classic buckets for histograms no matcher picks (Go's default buckets otherwise).
    pub fn default_buckets(mut self, buckets: Buckets) -> Self {
        self.default_buckets = Some(buckets);
        self
    }

    /// The recorder, to install or to use with `metrics::with_local_recorder`.
    pub fn build(self) -> PromkitRecorder {
        PromkitRecorder {
            inner: Arc::new(Inner {
                registry: self.registry,
                mode: self.mode,
                buckets: self.buckets,
                default_buckets: self.default_buckets,
                counters: Cache::default(),
                gauges: Cache::default(),
                histograms: Cache::default(),
                families: RwLock::default(),
                cold: Mutex::default(),
            }),
        }
    }

    /// Builds the recorder and makes it the process' global one; returns a handle to it.
    ///
    /// # Errors
    /// [`InstallError::AlreadyInstalled`] when a global recorder is set already.
    pub fn install(self) -> Result<PromkitRecorder, InstallError> {
        let recorder = self.build();
        metrics::set_global_recorder(recorder.clone()).map_err(|_| InstallError::AlreadyInstalled)?;
        Ok(recorder)
    }
}

/// Installing a global recorder failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstallError {
    /// The `metrics` facade takes one global recorder per process, set once.
    #[error(
        "a global `metrics` recorder is installed already; install once at start-up, or use `metrics::with_local_recorder`"
    )]
    AlreadyInstalled,
}

/// Makes a recorder for `registry` with the default settings its process' global one.
///
/// # Errors
/// [`InstallError::AlreadyInstalled`] when a global recorder is set already.
pub fn install(registry: &Registry) -> Result<PromkitRecorder, InstallError> {
    PromkitRecorder::builder(registry).install()
}

/// As [`install`], panicking when a global recorder is set already.
///
/// # Panics
/// When a global `metrics` recorder is installed already (a start-up mistake).
#[track_caller]
pub fn must_install(registry: &Registry) -> PromkitRecorder {
    install(registry).unwrap_or_else(|e| panic!("{e}"))
}

/// A `metrics` recorder whose counters, gauges and histograms are series of promkit families
/// in a [`Registry`]. Cheap to clone: clones share their families and handle cache.
#[derive(Debug, Clone)]
pub struct PromkitRecorder {
    inner: Arc<Inner>,
}

impl PromkitRecorder {
    /// Starts configuring a recorder that registers its families in `registry`.
    pub fn builder(registry: &Registry) -> PromkitRecorderBuilder {
        PromkitRecorderBuilder {
            registry: registry.clone(),
            mode: HistogramMode::default(),
            buckets: Vec::new(),
            default_buckets: None,
        }
    }

    /// A recorder with the default settings for `registry`.
    pub fn new(registry: &Registry) -> Self {
        Self::builder(registry).build()
    }

    /// The registry the families are registered in.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    mode: HistogramMode,
    buckets: Vec<(Matcher, Buckets)>,
    default_buckets: Option<Buckets>,
    counters: Cache<CounterHandle>,
    gauges: Cache<GaugeHandle>,
    histograms: Cache<HistogramHandle>,
    /// The families registered so far, by exported name: a copy of `Cold::names` that a key
    /// the handle cache does not hold is resolved through without the creation lock.
    families: RwLock<HashMap<String, Entry>>,
    /// Creation and description: taken only when a name is seen for the first time (or a
    /// call site is refused).
    cold: Mutex<Cold>,
}

#[derive(Debug, Default)]
struct Cold {
    /// By exported name.
    names: HashMap<String, Entry>,
    descriptions: HashMap<String, Arc<RwLock<Description>>>,
    /// Exported names whose problem was logged already.
    logged: HashSet<String>,
}

#[derive(Debug, Clone)]
enum Entry {
    Counter(Arc<FacadeFamily<Counter>>),
    Gauge(Arc<FacadeFamily<GaugeF64>>),
    Histogram(Arc<FacadeFamily<Histogram>>),
    Summary(Arc<FacadeFamily<Summary>>),
    /// Registration was refused; the facade gets no-op handles for this name.
    Refused,
}

impl Entry {
    fn kind(&self) -> &'static str {
        match self {
            Self::Counter(_) => "counter",
            Self::Gauge(_) => "gauge",
            Self::Histogram(_) => "histogram",
            Self::Summary(_) => "summary",
            Self::Refused => "refused",
        }
    }
}

/// `Key` hashes itself once, when built (a `counter!` with literal labels builds it as a
/// constant); this hasher passes that hash through instead of hashing it again.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `Key`; fold anything else in, for correctness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

const SHARDS: usize = 16;

/// Keys one shard keeps handles for: 4,096 in all. A key owns copies of its name and labels
/// (about 240 bytes with its handle, more than the promkit series itself), so the cache keeps
/// the call sites seen first, which are the hot ones of a typical program, and a key past
/// the bound is resolved through its promkit family each time (a hash of the raw label values,
/// no allocation in promkit; the facade's own `Key` and handle are allocated per call then,
/// as metrics-exporter-prometheus allocates a `Key` for runtime label values anyway).
const SHARD_CAPACITY: usize = 256;

type Map<H> = hashbrown::HashMap<Key, Option<Arc<H>>, BuildHasherDefault<KeyHasher>>;

/// Resolved handles by facade key, sharded so threads on different keys do not share a lock.
/// `None` caches a refusal, so a bad call site is logged once and costs a lookup after.
/// Each thread keeps its recent hits in a table of its own ([`recent`]), so a repeated key
/// takes no lock.
#[derive(Debug)]
struct Cache<H> {
    shards: [RwLock<Map<H>>; SHARDS],
    /// This map's id in the threads' tables of recent hits.
    id: u64,
}

impl<H> Default for Cache<H> {
    fn default() -> Self {
        Self { shards: std::array::from_fn(|_| RwLock::new(Map::default())), id: recent::next_id() }
    }
}

impl<H: recent::Local> Cache<H> {
    #[inline]
    fn get_or(&self, key: &Key, resolve: impl FnOnce() -> Option<Arc<H>>) -> Option<Arc<H>> {
        if let Some(hit) = recent::get(self.id, key) {
            return hit;
        }
        let found = self.shared_get_or(key, resolve);
        recent::put(self.id, key, &found);
        found
    }

    fn shared_get_or(&self, key: &Key, resolve: impl FnOnce() -> Option<Arc<H>>) -> Option<Arc<H>> {
        // Bits above hashbrown's bucket index, below its control tag.
        let shard = &self.shards[(key.get_hash() >> 32) as usize % SHARDS];
        if let Some(hit) = shard.read().unwrap_or_else(PoisonError::into_inner).get(key) {
            return hit.clone();
        }
        let made = resolve();
        let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = map.get(key) {
            return hit.clone();
        }
        if map.len() < SHARD_CAPACITY {
            map.insert(key.clone(), made.clone());
        }
        made
    }
}

impl Inner {
    /// Logs a problem with an exported name, once per name.
    fn warn_once(&self, cold: &mut Cold, name: &str, problem: impl FnOnce() -> String) {
        if cold.logged.insert(name.to_owned()) {
            tracing::warn!(target: "promkit_metrics", metric = name, "{}; its updates are dropped", problem());
        }
    }

    fn description(cold: &mut Cold, name: &str) -> Arc<RwLock<Description>> {
        Arc::clone(cold.descriptions.entry(name.to_owned()).or_default())
    }

    fn describe(&self, key: &KeyName, unit: Option<Unit>, help: &str) {
        let name = metric_name(key.as_str());
        let mut cold = self.cold.lock().unwrap_or_else(PoisonError::into_inner);
        let d = Self::description(&mut cold, &name);
        let mut d = d.write().unwrap_or_else(PoisonError::into_inner);
        help.clone_into(&mut d.help);
        d.unit = unit.map_or("", unit_name);
    }

    /// The family entry for `name`, registered on first use with a collector `make` builds.
    fn entry(
        &self,
        cold: &mut Cold,
        name: &str,
        make: impl FnOnce(String, Arc<RwLock<Description>>) -> (Entry, Arc<dyn Collector>),
    ) -> Entry {
        if let Some(e) = cold.names.get(name) {
            return e.clone();
        }
        let description = Self::description(cold, name);
        let (entry, collector) = make(name.to_owned(), description);
        let entry = match self.registry.register_arc(collector) {
            Ok(_) => entry,
            Err(e) => {
                self.warn_once(cold, name, || format!("cannot register `{name}`: {e}"));
                Entry::Refused
            }
        };
        cold.names.insert(name.to_owned(), entry.clone());
        self.families.write().unwrap_or_else(PoisonError::into_inner).insert(name.to_owned(), entry.clone());
        entry
    }

    /// Resolves a facade key to a series of the family kind `pick` accepts.
    fn resolve<M: Metric, H>(
        &self,
        key: &Key,
        wanted: &'static str,
        reserved: Option<&str>,
        make: impl FnOnce(&Self, String, Arc<RwLock<Description>>) -> (Entry, Arc<dyn Collector>),
        pick: impl Fn(&Entry) -> Option<&Arc<FacadeFamily<M>>>,
        wrap: impl FnOnce(M) -> H,
    ) -> Option<Arc<H>> {
        let name = metric_name(key.name());
        // A family that exists already needs no creation lock: the series is found (or made)
        // in it directly. Anything else (a new name, a refusal to log) takes the slow path.
        {
            let families = self.families.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(family) = families.get(name.as_ref()).and_then(&pick)
                && let Ok(m) = family.series(&mapped_labels(key, reserved).pairs())
            {
                return Some(Arc::new(wrap(m)));
            }
        }
        let mut cold = self.cold.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = self.entry(&mut cold, &name, |n, d| make(self, n, d));
        let Some(family) = pick(&entry) else {
            if !matches!(entry, Entry::Refused) {
                let kind = entry.kind();
                self.warn_once(&mut cold, &name, || {
                    format!("`{name}` is a {kind} already, so this {wanted} cannot use the name")
                });
            }
            return None;
        };
        match family.series(&mapped_labels(key, reserved).pairs()) {
            Ok(m) => Some(Arc::new(wrap(m))),
            Err(e) => {
                self.warn_once(&mut cold, &name, || {
                    let given: Vec<String> =
                        key.labels().map(|l| format!("{}={:?}", l.key(), l.value())).collect();
                    format!("no series for `{}{{{}}}`: {e}", key.name(), given.join(","))
                });
                None
            }
        }
    }

    fn histogram_family(
        &self,
        name: String,
        description: Arc<RwLock<Description>>,
    ) -> (Entry, Arc<dyn Collector>) {
        let facade_name = name.clone();
        let classic = self.buckets.iter().find(|(m, _)| m.matches(&facade_name)).map(|(_, b)| b.clone());
        match &self.mode {
            HistogramMode::Summary(q) => {
                let q = q.clone();
                let n = name.clone();
                let f = Arc::new(FacadeFamily::new(
                    name,
                    description,
                    Box::new(move |labels| {
                        Summary::builder(n.as_str()).objectives(q.clone()).labels(labels).build()
                    }),
                ));
                (Entry::Summary(Arc::clone(&f)), f)
            }
            mode => {
                let native = match mode {
                    HistogramMode::Native(o) => Some(o.clone()),
                    _ => None,
                };
                let buckets = match (&native, classic) {
                    (_, Some(b)) => Some(b),
                    (None, None) => self.default_buckets.clone(),
                    (Some(_), None) => None,
                };
                let n = name.clone();
                let f = Arc::new(FacadeFamily::new(
                    name,
                    description,
                    Box::new(move |labels| {
                        let mut b = Histogram::builder(n.as_str());
                        if let Some(buckets) = &buckets {
                            b = b.buckets(buckets.clone());
                        }
                        if let Some(native) = &native {
                            b = b.native(native.clone());
                        }
                        b.labels(labels).build()
                    }),
                ));
                (Entry::Histogram(Arc::clone(&f)), f)
            }
        }
    }
}

/// A facade key's labels with their names mapped as Prometheus needs them.
struct MappedLabels<'k>(Vec<(std::borrow::Cow<'k, str>, &'k str)>);

impl MappedLabels<'_> {
    fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), *v)).collect()
    }
}

fn mapped_labels<'k>(key: &'k Key, reserved: Option<&str>) -> MappedLabels<'k> {
    MappedLabels(key.labels().map(|l| (label_name_for(l.key(), reserved), l.value())).collect())
}

/// The unit name promkit writes for a facade unit (as metrics-exporter-prometheus names it
/// in a suffix: a count has none, a percentage is a ratio).
fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "",
        Unit::Percent => "ratio",
        u => u.as_str(),
    }
}

fn family_of<M: Buildable>(name: String, description: Arc<RwLock<Description>>) -> Arc<FacadeFamily<M>> {
    let n = name.clone();
    Arc::new(FacadeFamily::new(name, description, Box::new(move |labels| M::family(&n, labels))))
}

/// Counters and gauges: families with no options.
trait Buildable: Metric + Sized {
    fn family(name: &str, labels: &[String]) -> Result<Family<Self>, promkit::BuildError>;
}

impl Buildable for Counter {
    fn family(name: &str, labels: &[String]) -> Result<Family<Self>, promkit::BuildError> {
        Counter::builder(name).labels(labels).build()
    }
}

impl Buildable for GaugeF64 {
    fn family(name: &str, labels: &[String]) -> Result<Family<Self>, promkit::BuildError> {
        GaugeF64::builder(name).labels(labels).build()
    }
}

impl metrics::Recorder for PromkitRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe(&key, unit, &description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe(&key, unit, &description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe(&key, unit, &description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        let inner = &*self.inner;
        let handle = inner.counters.get_or(key, || {
            inner.resolve(
                key,
                "counter",
                None,
                |_, n, d| {
                    let f = family_of::<Counter>(n, d);
                    (Entry::Counter(Arc::clone(&f)), f)
                },
                |e| if let Entry::Counter(f) = e { Some(f) } else { None },
                CounterHandle,
            )
        });
        handle.map_or_else(metrics::Counter::noop, metrics::Counter::from_arc)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        let inner = &*self.inner;
        let handle = inner.gauges.get_or(key, || {
            inner.resolve(
                key,
                "gauge",
                None,
                |_, n, d| {
                    let f = family_of::<GaugeF64>(n, d);
                    (Entry::Gauge(Arc::clone(&f)), f)
                },
                |e| if let Entry::Gauge(f) = e { Some(f) } else { None },
                GaugeHandle,
            )
        });
        handle.map_or_else(metrics::Gauge::noop, metrics::Gauge::from_arc)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        let inner = &*self.inner;
        let handle = inner.histograms.get_or(key, || match inner.mode {
            HistogramMode::Summary(_) => inner.resolve(
                key,
                "summary",
                Some("quantile"),
                Inner::histogram_family,
                |e| if let Entry::Summary(f) = e { Some(f) } else { None },
                HistogramHandle::Summary,
            ),
            _ => inner.resolve(
                key,
                "histogram",
                Some("le"),
                Inner::histogram_family,
                |e| if let Entry::Histogram(f) = e { Some(f) } else { None },
                HistogramHandle::Histogram,
            ),
        });
        handle.map_or_else(metrics::Histogram::noop, metrics::Histogram::from_arc)
    }
}
