//! The registry: which collectors are exported, the consistency rules they must keep, and
//! encoding or gathering all of them.

mod error;
mod gather;
mod register;
mod wrap;

use std::sync::{Arc, PoisonError, RwLock};

pub use error::{Error, RegisterError};
pub use gather::Gatherers;
pub use wrap::Wrapped;

use crate::encode::{self, EncodeJob, Encoder, Format};
use crate::metrics::{Described, Metric};
use crate::model::{
    CollectError, Collector, Desc, EscapingScheme, FamilyHeader, LabelTemplate, Labels, LimitStats,
    MetricFamily, MetricType, NameValidation, SampleMeta, Sink, StoredSample, Value,
};

/// A set of collectors exported together, checked for consistency when each is registered.
///
/// Cloning a `Registry` gives another handle on the same registry. Most programs create one
/// registry at start-up and pass it down (`Metrics::new(&registry)`);
/// [`default_registry`](crate::default_registry) is the process-wide one for code that cannot
/// take one as a parameter.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RwLock<Inner>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.read();
        f.debug_struct("Registry")
            .field(
                "families",
                &inner.entries.iter().flat_map(|e| &e.descs).map(|d| &d.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    /// Which names this registry accepts; fixed when it is built.
    validation: NameValidation,
    /// Sorted by the first family name, so single-family collectors come out in name order.
    entries: Vec<Entry>,
    next_id: u64,
    /// Families with a series limit, exported by the overflow collector once there is one.
    limited: Option<Arc<OverflowCollector>>,
}

/// The name of the family that counts lookups sent to overflow series.
pub const OVERFLOW_FAMILY: &str = "promkit_series_overflow_total";
const OVERFLOW_HELP: &str =
    "Lookups that found a family's series limit reached and went to its overflow series.";

/// Exports `promkit_series_overflow_total{family}` for every family with a series limit.
#[derive(Default)]
struct OverflowCollector {
    families: std::sync::Mutex<Vec<Arc<dyn LimitStats>>>,
}

impl Collector for OverflowCollector {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: OVERFLOW_FAMILY.to_owned(),
            help: OVERFLOW_HELP.to_owned(),
            unit: String::new(),
            kind: MetricType::Counter,
            label_names: vec!["family".to_owned()],
            const_labels: Vec::new(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        sink.family(&FamilyHeader {
            name: OVERFLOW_FAMILY,
            help: OVERFLOW_HELP,
            unit: "",
            kind: MetricType::Counter,
        });
        for f in families.iter() {
            sink.sample(
                &Labels::Pairs(&[("family", f.family())]),
                Value::CounterU64(f.overflowed()),
                &SampleMeta::default(),
            );
        }
        Ok(())
    }
}

struct Entry {
    id: CollectorId,
    collector: Arc<dyn Collector>,
    descs: Vec<Desc>,
}

impl Entry {
    fn already_registered(&self, name: &str) -> RegisterError {
        RegisterError::AlreadyRegistered { name: name.to_owned(), existing: Registered::new(self) }
    }
}

/// A registered collector, as [`Registry::get`] finds it and a refused duplicate
/// registration ([`RegisterError::AlreadyRegistered`]) hands it back: so "register, or reuse
/// what is there" works.
///
/// ```
/// use promkit::{Counter, Error, Family, RegisterError, Registry};
///
/// /// Declared by two libraries that share a registry: the second reuses the first's family.
/// fn requests(registry: &Registry) -> Result<Family<Counter>, Error> {
///     match Counter::builder("requests_total").help("Requests.").labels(["path"]).register(registry) {
///         Err(Error::Register(RegisterError::AlreadyRegistered { existing, .. })) => {
///             Ok(existing.downcast_ref::<Family<Counter>>().expect("declared alike").clone())
///         }
///         other => other,
///     }
/// }
///
/// let registry = Registry::new();
/// requests(&registry)?.with_label_values(&["/a"])?.inc();
/// requests(&registry)?.with_label_values(&["/a"])?.inc();
/// assert!(registry.encode_text_string()?.contains("requests_total{path=\"/a\"} 2\n"));
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Registered {
    id: CollectorId,
    collector: Arc<dyn Collector>,
}

impl Registered {
    fn new(entry: &Entry) -> Self {
        Self { id: entry.id, collector: Arc::clone(&entry.collector) }
    }

    /// The id it was registered with.
    pub fn id(&self) -> CollectorId {
        self.id
    }

    /// The collector itself.
    pub fn collector(&self) -> &Arc<dyn Collector> {
        &self.collector
    }

    /// The collector as its concrete type: [`Family<M>`](crate::Family) or
    /// [`TypedFamily<L, M>`](crate::TypedFamily) for a family, [`Described<M>`] for a single
    /// metric, your own type for your collector. `None` for another type (or one registered
    /// through [`Registry::wrap`], which sits behind its wrapper).
    pub fn downcast_ref<T: Collector>(&self) -> Option<&T> {
        let any: &dyn std::any::Any = &*self.collector;
        any.downcast_ref()
    }

    /// The metric handle, when the collector is a single metric of type `M` (a builder's
    /// `register` without labels).
    pub fn metric<M: Metric>(&self) -> Option<M> {
        self.downcast_ref::<Described<M>>().map(|d| d.metric().clone())
    }
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let families: Vec<String> = self.collector.describe().into_iter().map(|d| d.name).collect();
        f.debug_struct("Registered").field("id", &self.id).field("families", &families).finish()
    }
}

/// Two handles are equal when they are the same registration.
impl PartialEq for Registered {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && Arc::ptr_eq(&self.collector, &other.collector)
    }
}

/// Identifies a registered collector, for [`Registry::unregister_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollectorId(u64);

/// Builds a [`Registry`] with options; from [`Registry::builder`].
///
/// ```
/// use promkit::{Counter, EscapingScheme, Format, NameValidation, Registry};
/// use promkit::registry::EncodeOptions;
///
/// let registry = Registry::builder().name_validation(NameValidation::Utf8).build();
/// Counter::builder("http.server.requests_total").help("Requests.").register(&registry)?.inc();
///
/// // A scraper that allows UTF-8 gets the quoted syntax; one that does not, escaped names.
/// let mut utf8 = Vec::new();
/// let options = EncodeOptions::new(Format::Text).escaping(EscapingScheme::AllowUtf8);
/// registry.encode_with(&mut utf8, &options)?;
/// assert_eq!(String::from_utf8_lossy(&utf8), "\
/// ## HELP \"http.server.requests_total\" Requests.
/// ## TYPE \"http.server.requests_total\" counter
/// {\"http.server.requests_total\"} 1
/// ");
/// assert!(registry.encode_text_string()?.contains("\nhttp_server_requests_total 1\n"));
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a registry builder does nothing until `build`"]
pub struct RegistryBuilder {
    validation: NameValidation,
}

impl RegistryBuilder {
    /// Which metric and label names the registry accepts: [`NameValidation::Legacy`] (the
    /// default) or [`NameValidation::Utf8`]. It applies to this registry only.
    pub fn name_validation(mut self, validation: NameValidation) -> Self {
        self.validation = validation;
        self
    }

    /// The empty registry.
    pub fn build(self) -> Registry {
        let inner = Inner { validation: self.validation, ..Inner::default() };
        Registry { inner: Arc::new(RwLock::new(inner)) }
    }
}

impl Registry {
    /// An empty registry with legacy name validation.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with options: [`name_validation`](RegistryBuilder::name_validation).
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// Which metric and label names this registry accepts.
    pub fn name_validation(&self) -> NameValidation {
        self.read().validation
    }

    /// True when both handles are the same registry (clones share one), as
    /// `registry.same_as(promkit::default_registry())` asks.
    pub fn same_as(&self, other: &Registry) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a collector after checking each family it describes: a valid name and labels
    /// (under the registry's [`NameValidation`]), no family of the same name, and no sample name shared with another family (a gauge
    /// `x_count` beside a histogram `x`, a gauge `y_created` beside a counter `y_total`).
    ///
    /// # Errors
    /// [`RegisterError`] naming the family and the conflict; the registry is unchanged.
    pub fn register(&self, collector: impl Collector) -> Result<CollectorId, RegisterError> {
        self.register_arc(Arc::new(collector))
    }

    /// As [`register`](Self::register), for a collector already behind an `Arc`.
    ///
    /// # Errors
    /// As [`register`](Self::register).
    pub fn register_arc(&self, collector: Arc<dyn Collector>) -> Result<CollectorId, RegisterError> {
        let descs = collector.describe();
        let validation = self.name_validation();
        for (i, d) in descs.iter().enumerate() {
            d.validate_with(validation)?;
            if descs[..i].iter().any(|o| o.name == d.name) {
                return Err(RegisterError::DuplicateInCollector { name: d.name.clone() });
            }
        }
        let mut inner = self.write();
        for d in &descs {
            for e in &inner.entries {
                for existing in &e.descs {
                    check_pair(existing, d)
                        .map_err(|same| same.unwrap_or_else(|| e.already_registered(&d.name)))?;
                }
            }
        }
        let id = CollectorId(inner.next_id);
        inner.next_id += 1;
        let key = descs.first().map(|d| d.name.clone());
        let pos = inner.entries.partition_point(|e| match (e.descs.first(), &key) {
            (Some(a), Some(b)) => a.name <= *b,
            (Some(_), None) => true,
            (None, _) => false,
        });
        let limit = collector.series_limit();
        inner.entries.insert(pos, Entry { id, collector, descs });
        if let Some(stats) = limit {
            let overflow = Arc::clone(inner.limited.get_or_insert_with(Default::default));
            if !inner.entries.iter().any(|e| e.descs.first().is_some_and(|d| d.name == OVERFLOW_FAMILY)) {
                let id = CollectorId(inner.next_id);
                inner.next_id += 1;
                let descs = overflow.describe();
                let pos = inner
                    .entries
                    .partition_point(|e| e.descs.first().is_some_and(|d| d.name.as_str() <= OVERFLOW_FAMILY));
                let collector = Arc::clone(&overflow) as Arc<dyn Collector>;
                inner.entries.insert(pos, Entry { id, collector, descs });
            }
            let mut families = overflow.families.lock().unwrap_or_else(PoisonError::into_inner);
            families.push(stats);
            families.sort_by(|a, b| a.family().cmp(b.family()));
        }
        Ok(id)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` returns; for start-up registration only (Go's `MustRegister`).
    #[track_caller]
    pub fn must_register(&self, collector: impl Collector) -> CollectorId {
        self.register(collector).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Unregisters the collector that produces the family `name`, with all its families;
    /// returns whether there was one.
    pub fn unregister(&self, name: &str) -> bool {
        self.unregister_where(|e| e.descs.iter().any(|d| d.name == name))
    }

    /// Unregisters the collector registered with this id; returns whether it was there.
    pub fn unregister_id(&self, id: CollectorId) -> bool {
        self.unregister_where(|e| e.id == id)
    }

    fn unregister_where(&self, matches: impl Fn(&Entry) -> bool) -> bool {
        let mut inner = self.write();
        let Some(pos) = inner.entries.iter().position(matches) else {
            return false;
        };
        let entry = inner.entries.remove(pos);
        if let (Some(stats), Some(overflow)) = (entry.collector.series_limit(), &inner.limited) {
            let mut families = overflow.families.lock().unwrap_or_else(PoisonError::into_inner);
            families.retain(|f| f.family() != stats.family());
        }
        true
    }

    /// The collector that produces the family `name`, if one is registered: to reuse a metric
    /// declared elsewhere, or to check what is there.
    ///
    /// ```
    /// use promkit::{Counter, Registry, metrics::Described};
    /// let registry = Registry::new();
    /// Counter::builder("jobs_total").help("Jobs.").register(&registry)?.inc();
    /// let found = registry.get("jobs_total").expect("registered above");
    /// let jobs = found.metric::<Counter>().expect("a single counter");
    /// assert_eq!(jobs.get(), 1);
    /// assert!(found.downcast_ref::<Described<Counter>>().is_some());
    /// assert!(registry.get("nope").is_none());
    /// # Ok::<(), promkit::Error>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<Registered> {
        let inner = self.read();
        let entry = inner.entries.iter().find(|e| e.descs.iter().any(|d| d.name == name))?;
        Some(Registered::new(entry))
    }

    /// The descriptions of every registered family.
    pub fn descs(&self) -> Vec<Desc> {
        self.read().entries.iter().flat_map(|e| e.descs.iter().cloned()).collect()
    }

    /// Hands every registered collector's families to `sink`, in name order. Stops at the first
    /// collector that fails.
    ///
    /// # Errors
    /// The first [`CollectError`].
    pub fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let inner = self.read();
        for e in &inner.entries {
            e.collector.collect(sink)?;
        }
        Ok(())
    }

    /// Appends every family in `format` to `out`. With a buffer that has grown to the size of a
    /// previous scrape, encoding an unchanged registry allocates nothing.
    ///
    /// # Errors
    /// The first [`CollectError`]; `out` then holds what was written before it.
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) -> Result<(), CollectError> {
        self.encode_with(out, &EncodeOptions::new(format)).map(drop)
    }

    /// Appends families to `out` as `options` say: the format, which families (a `name[]`
    /// filter), and whether a failing collector stops the encoding or is skipped (its partial
    /// output removed, its error returned: Go's `ContinueOnError`).
    ///
    /// # Errors
    /// With [`OnError::Stop`], the first failure; `out` then holds what was written before it.
    pub fn encode_with(
        &self,
        out: &mut Vec<u8>,
        options: &EncodeOptions<'_>,
    ) -> Result<Vec<CollectError>, CollectError> {
        let inner = self.read();
        let job = CollectAll { entries: &inner.entries, options, chunks: None };
        encode::encode(options.format, options.escaping, out, job)
    }

    /// Encodes as [`encode_with`](Self::encode_with) but hands the output over as it goes, for
    /// a server that streams the exposition while it is still being written: whenever `out`
    /// holds at least `chunk` bytes (and at least one) between two collectors, `emit` gets it
    /// and must leave it
    /// empty (take the bytes, or copy them out and clear it). What is left at the end (the
    /// last collectors' output and the format's ending) stays in `out`.
    ///
    /// Output is handed over only between collectors, so a collector's output is one piece
    /// however large it is, and [`OnError::Skip`] can still take back a failing collector's
    /// partial output. A failure that stops the encoding cannot take back what `emit` already
    /// got: a server must then abort the response rather than end it cleanly.
    ///
    /// ```
    /// use promkit::{Counter, Format, Registry, registry::EncodeOptions};
    ///
    /// let registry = Registry::new();
    /// for name in ["a_total", "b_total", "c_total"] {
    ///     Counter::builder(name).help("Things.").register(&registry)?;
    /// }
    /// let (mut pieces, mut out) = (Vec::new(), Vec::new());
    /// let options = EncodeOptions::new(Format::Text);
    /// registry.encode_in_chunks(&mut out, &options, 1, |o| pieces.push(std::mem::take(o)))?;
    /// pieces.push(out);
    /// // One piece per collector here, since every collector writes more than one byte.
    /// assert_eq!(pieces.len(), 3);
    /// assert_eq!(pieces[1], b"# HELP b_total Things.\n# TYPE b_total counter\nb_total 0\n");
    /// assert_eq!(pieces.concat(), registry.encode_text_string()?.into_bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`encode_with`](Self::encode_with); the pieces already emitted stay emitted.
    pub fn encode_in_chunks(
        &self,
        out: &mut Vec<u8>,
        options: &EncodeOptions<'_>,
        chunk: usize,
        mut emit: impl FnMut(&mut Vec<u8>),
    ) -> Result<Vec<CollectError>, CollectError> {
        let inner = self.read();
        let job = CollectAll { entries: &inner.entries, options, chunks: Some((chunk, &mut emit)) };
        encode::encode(options.format, options.escaping, out, job)
    }

    /// The whole exposition as a `String` (tests, examples, debugging).
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub fn encode_text_string(&self) -> Result<String, CollectError> {
        self.encode_string(Format::Text)
    }

    /// The whole exposition in `format` as a `String`.
    ///
    /// ```
    /// # #[cfg(feature = "protobuf")] {
    /// let e = promkit::Registry::new().encode_string(promkit::Format::Protobuf).unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     "protobuf is a binary format and cannot be a String; encode it into a Vec<u8> with `Registry::encode`"
    /// );
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`encode`](Self::encode); [`CollectError::BinaryFormat`] for protobuf, whose bytes
    /// are no text.
    pub fn encode_string(&self, format: Format) -> Result<String, CollectError> {
        #[cfg(feature = "protobuf")]
        if format == Format::Protobuf {
            return Err(CollectError::BinaryFormat { format: "protobuf" });
        }
        let mut out = Vec::new();
        self.encode(format, &mut out)?;
        // Every byte written comes from &str input or ASCII: the buffer is valid UTF-8.
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Gathers every family into an owned snapshot (Go's `Gather`), series sorted as written.
    ///
    /// # Errors
    /// A collector's failure, or a series collected twice.
    pub fn gather(&self) -> Result<Vec<MetricFamily>, CollectError> {
        Gatherers::new([self]).gather()
    }

    /// A view that registers collectors into this registry with `prefix` added to every family
    /// name and `labels` added to every series (Go's `WrapRegistererWith(Prefix)`).
    pub fn wrap(&self, prefix: impl Into<String>, labels: Vec<(String, String)>) -> Wrapped {
        Wrapped::new(self.clone(), prefix.into(), labels)
    }
}

/// What a failing collector does to an encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnError {
    /// Stop at the first failure and return it.
    #[default]
    Stop,
    /// Drop the failing collector's output, keep going, and return every failure.
    Skip,
}

/// How [`Registry::encode_with`] encodes.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct EncodeOptions<'a> {
    /// The exposition format.
    pub format: Format,
    /// What a failing collector does.
    pub on_error: OnError,
    /// Only these families (by registered name), when set.
    pub only: Option<&'a [String]>,
    /// How names outside the legacy character set are written: quoted
    /// ([`EscapingScheme::AllowUtf8`]) or escaped; [`EscapingScheme::Underscores`] by default,
    /// as Go's encoder does for a scrape that names no scheme. Legacy names are written as they
    /// are under every scheme.
    pub escaping: EscapingScheme,
}

impl<'a> EncodeOptions<'a> {
    /// Every family in `format`, stopping at the first failure, names escaped with
    /// [`EscapingScheme::Underscores`].
    pub fn new(format: Format) -> Self {
        Self { format, on_error: OnError::Stop, only: None, escaping: EscapingScheme::default() }
    }

    /// Sets how names outside the legacy character set are written (the negotiated
    /// `escaping=` of a scrape).
    #[must_use]
    pub fn escaping(mut self, escaping: EscapingScheme) -> Self {
        self.escaping = escaping;
        self
    }

    /// Sets the error policy.
    pub fn on_error(mut self, on_error: OnError) -> Self {
        self.on_error = on_error;
        self
    }

    /// Only the families named here.
    pub fn only(mut self, names: &'a [String]) -> Self {
        self.only = Some(names);
        self
    }
}

/// Collecting every wanted collector into an encoder, with the error policy of `options`.
struct CollectAll<'a> {
    entries: &'a [Entry],
    options: &'a EncodeOptions<'a>,
    /// For [`Registry::encode_in_chunks`]: the size at which the output is handed over
    /// between two collectors, and where to.
    chunks: Option<(usize, Emit<'a>)>,
}

/// Where [`Registry::encode_in_chunks`] hands its pieces.
type Emit<'a> = &'a mut dyn FnMut(&mut Vec<u8>);

impl EncodeJob for CollectAll<'_> {
    type Output = Vec<CollectError>;

    fn run<E: Encoder>(self, encoder: &mut E) -> Result<Vec<CollectError>, CollectError> {
        let only = self.options.only;
        let skip = self.options.on_error == OnError::Skip;
        let mut failures = Vec::new();
        let mut sink = Filter { inner: encoder, only, pass: true };
        // Skip a collector whose families are all unwanted without calling it; one that
        // describes nothing may produce anything, so it is asked and filtered.
        let wanted = |e: &&Entry| {
            only.is_none_or(|only| e.descs.is_empty() || e.descs.iter().any(|d| only.contains(&d.name)))
        };
        let mut chunks = self.chunks;
        for e in self.entries.iter().filter(wanted) {
            let mut mark = sink.inner.mark();
            // A mark is a family boundary with nothing held back: whole families go out.
            if let Some((size, emit)) = &mut chunks
                && mark >= (*size).max(1)
            {
                emit(sink.inner.buffer());
                mark = sink.inner.mark();
            }
            match e.collector.collect(&mut sink) {
                Ok(()) => {}
                // Go's `ContinueOnError`: the failing collector's partial output goes.
                Err(err) if skip => {
                    sink.inner.truncate(mark);
                    failures.push(err);
                }
                Err(err) => return Err(err),
            }
        }
        Ok(failures)
    }
}

/// A sink that passes on only the wanted families.
struct Filter<'a, E> {
    inner: &'a mut E,
    only: Option<&'a [String]>,
    pass: bool,
}

impl<E: Sink> Sink for Filter<'_, E> {
    fn family(&mut self, header: &FamilyHeader<'_>) {
        self.pass = self.only.is_none_or(|only| only.iter().any(|n| n == header.name));
        if self.pass {
            self.inner.family(header);
        }
    }

    fn sample(&mut self, labels: &Labels<'_>, value: Value<'_>, meta: &SampleMeta<'_>) {
        if self.pass {
            self.inner.sample(labels, value, meta);
        }
    }

    fn stored_samples(&mut self, template: &LabelTemplate, samples: &[StoredSample<'_>]) {
        if self.pass {
            self.inner.stored_samples(template, samples);
        }
    }
}

/// Every sample name a family can write, in any format.
fn sample_names(d: &Desc) -> Vec<String> {
    let mut names = vec![d.name.clone()];
    if d.kind == MetricType::Counter && !d.name.ends_with("_total") {
        // OpenMetrics writes such a counter's value as `{name}_total`.
        names.push(format!("{}_total", d.name));
    }
    let base = match d.kind {
        MetricType::Counter => d.name.strip_suffix("_total").unwrap_or(&d.name),
        _ => &d.name,
    };
    for s in d.kind.suffixes() {
        if d.kind == MetricType::Counter && *s == "_total" {
            continue;
        }
        names.push(format!("{base}{s}"));
    }
    match d.kind {
        MetricType::Histogram | MetricType::GaugeHistogram => names.retain(|n| n != &d.name),
        // OpenMetrics names an info family without its `_info`: a family of that name would
        // be a second `# TYPE` line for it.
        MetricType::Info => names.extend(d.name.strip_suffix("_info").map(str::to_owned)),
        _ => {}
    }
    names
}

/// Checks a new description against a registered one: `Err(None)` when they are the same
/// family (the caller hands back the registered collector), `Err(Some(_))` for a conflict.
fn check_pair(existing: &Desc, new: &Desc) -> Result<(), Option<RegisterError>> {
    if existing.name == new.name {
        // Rendered for the message: plain words, quoted text, `none` for nothing.
        let text = |t: &str| if t.is_empty() { "none".to_owned() } else { format!("{t:?}") };
        let diff = if existing.kind != new.kind {
            Some(("type", type_word(existing.kind).to_owned(), type_word(new.kind).to_owned()))
        } else if existing.help != new.help {
            Some(("help", text(&existing.help), text(&new.help)))
        } else if existing.unit != new.unit {
            Some(("unit", text(&existing.unit), text(&new.unit)))
        } else if sorted(&existing.label_names) != sorted(&new.label_names)
            || existing.const_labels.iter().map(|(n, _)| n).ne(new.const_labels.iter().map(|(n, _)| n))
        {
            let all = |d: &Desc| {
                let mut v: Vec<&str> = d.label_names.iter().map(String::as_str).collect();
                v.extend(d.const_labels.iter().map(|(n, _)| n.as_str()));
                match v.split_last() {
                    None => "none".to_owned(),
                    Some((last, [])) => format!("`{last}`"),
                    Some((last, rest)) => format!("`{}` and `{last}`", rest.join("`, `")),
                }
            };
            Some(("label names", all(existing), all(new)))
        } else {
            None
        };
        return Err(diff.map(|(what, existing, new_v)| RegisterError::Inconsistent {
            name: new.name.clone(),
            what,
            existing,
            new: new_v,
        }));
    }
    // An info is written in OpenMetrics under its name without `_info`, as a counter is
    // without `_total`: two such families of one OpenMetrics name would be two `# TYPE` lines.
    if existing.kind == MetricType::Info || new.kind == MetricType::Info {
        let family = openmetrics_family(new);
        if family == openmetrics_family(existing) {
            return Err(Some(RegisterError::Collision {
                name: new.name.clone(),
                sample: family.to_owned(),
                samples: format!("`{family}` (its OpenMetrics family name)"),
                other: existing.name.clone(),
            }));
        }
    }
    let (a, b) = (sample_names(existing), sample_names(new));
    let mut shared: Vec<String> =
        b.iter().filter(|n| a.contains(n) || **n == existing.name).cloned().collect();
    if a.contains(&new.name) && !shared.contains(&new.name) {
        shared.insert(0, new.name.clone());
    }
    if let Some(sample) = shared.first().cloned() {
        let quoted: Vec<String> = shared.iter().map(|n| format!("`{n}`")).collect();
        return Err(Some(RegisterError::Collision {
            name: new.name.clone(),
            sample,
            samples: quoted.join(" and "),
            other: existing.name.clone(),
        }));
    }
    Ok(())
}

/// A type as a message names it: the text format's word, but OpenMetrics' for its own types
/// (an info is no gauge to the person who declared it, though text writes it as one).
fn type_word(kind: MetricType) -> &'static str {
    match kind {
        MetricType::Info | MetricType::StateSet | MetricType::GaugeHistogram => kind.as_openmetrics(),
        other => other.as_text(),
    }
}

/// The name OpenMetrics gives a family: a counter's without `_total`, an info's without
/// `_info`.
fn openmetrics_family(d: &Desc) -> &str {
    match d.kind.family_suffix() {
        "" => &d.name,
        suffix => d.name.strip_suffix(suffix).unwrap_or(&d.name),
    }
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::{Counter, Gauge, Histogram};

    #[test]
    fn a_collision_names_the_sample_both_families_write() {
        let r = Registry::new();
        Counter::builder("orders").register(&r).unwrap();
        let e = Counter::builder("orders_total").register(&r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`orders_total` would write samples named `orders_total` and `orders_created`, which family \
             `orders` writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)"
        );
    }

    #[test]
    fn registration_refuses_duplicates_inconsistencies_and_collisions() {
        let r = Registry::new();
        Counter::builder("a_total").help("A.").register(&r).unwrap();
        let e = Counter::builder("a_total").help("A.").register(&r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`a_total` is already registered; reuse the existing metric, or unregister it first"
        );
        let e = Counter::builder("a_total").help("other").register(&r).unwrap_err();
        assert!(matches!(e, crate::Error::Register(RegisterError::Inconsistent { what: "help", .. })), "{e}");
        let e = Gauge::builder("a_total").help("A.").register(&r).unwrap_err();
        assert!(matches!(e, crate::Error::Register(RegisterError::Inconsistent { what: "type", .. })), "{e}");
        let e = Counter::builder("a_total").help("A.").labels(["x"]).register(&r).unwrap_err();
        assert!(
            matches!(e, crate::Error::Register(RegisterError::Inconsistent { what: "label names", .. })),
            "{e}"
        );

        Histogram::builder("h").register(&r).unwrap();
        for name in ["h_count", "h_sum", "h_bucket", "h_created"] {
            let e = Gauge::builder(name).register(&r).unwrap_err();
            assert!(matches!(e, crate::Error::Register(RegisterError::Collision { .. })), "{name}: {e}");
        }
        let e = Gauge::builder("a_created").register(&r).unwrap_err();
        assert!(matches!(e, crate::Error::Register(RegisterError::Collision { .. })), "{e}");
        Gauge::builder("x_count").register(&r).unwrap();
        let e = Histogram::builder("x").register(&r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`x` would write samples named `x_count`, which family `x_count` writes too; rename one of them \
             (beside its own name, a counter writes `_total`, a histogram `_bucket`, `_sum` and `_count`, a \
             summary `_sum` and `_count`, and each `_created` in OpenMetrics)"
        );
        // A gauge named like a histogram's family is fine as long as samples do not collide.
        Gauge::builder("h_other").register(&r).unwrap();
        assert!(r.unregister("h"));
        Gauge::builder("h_count").register(&r).unwrap();
        assert!(!r.unregister("nope"));
    }

    #[test]
    fn series_limits_overflow_into_one_counted_series() {
        let r = Registry::new();
        let f = Counter::builder("req_total").help("R.").labels(["path"]).max_series(2).register(&r).unwrap();
        for p in ["/a", "/b", "/c", "/d", "/a"] {
            f.with_label_values(&[p]).unwrap().inc();
        }
        assert_eq!(f.overflowed(), 2);
        assert_eq!(f.len(), 3);
        let text = r.encode_text_string().unwrap();
        assert!(text.contains("req_total{path=\"__overflow__\"} 2\n"), "{text}");
        assert!(text.contains("promkit_series_overflow_total{family=\"req_total\"} 2\n"), "{text}");
        assert!(r.unregister("req_total"));
        let text = r.encode_text_string().unwrap();
        assert!(!text.contains("family=\"req_total\""), "{text}");
    }

    /// A collector that writes one gauge family, then fails.
    #[derive(Debug)]
    struct Broken;

    impl Collector for Broken {
        fn describe(&self) -> Vec<Desc> {
            Vec::new()
        }

        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            let header = FamilyHeader { name: "broken", help: "", unit: "", kind: MetricType::Gauge };
            sink.family(&header);
            sink.sample(
                &crate::model::Labels::None,
                crate::model::Value::GaugeI64(1),
                &SampleMeta::default(),
            );
            Err(CollectError::failed("broken", "disk gone"))
        }
    }

    /// Four families of 50 labelled counters each.
    fn four_families() -> Registry {
        let r = Registry::new();
        for name in ["a_total", "b_total", "c_total", "d_total"] {
            let f = Counter::builder(name).help("Things.").labels(["id"]).register(&r).unwrap();
            for i in 0..50u64 {
                f.with_label_values(&[&i.to_string()]).unwrap().inc_by(i);
            }
        }
        r
    }

    type Encoded = Result<Vec<CollectError>, CollectError>;

    /// `encode_in_chunks` with `chunk`: the pieces handed over, and what was left in `out`.
    fn chunked(r: &Registry, options: &EncodeOptions<'_>, chunk: usize) -> (Vec<Vec<u8>>, Vec<u8>, Encoded) {
        let (mut pieces, mut out) = (Vec::new(), Vec::new());
        let result = r.encode_in_chunks(&mut out, options, chunk, |o| pieces.push(std::mem::take(o)));
        (pieces, out, result)
    }

    #[test]
    fn chunked_encodes_are_the_whole_encode_cut_between_families() {
        let r = four_families();
        let mut formats = vec![Format::Text, Format::OPENMETRICS];
        #[cfg(feature = "protobuf")]
        formats.push(Format::Protobuf);
        for format in formats {
            let mut whole = Vec::new();
            r.encode(format, &mut whole).unwrap();
            let options = EncodeOptions::new(format);
            // One family's bytes: just past it, a piece holds two families.
            let family = chunked(&r, &options, 1).0[0].len();
            for (chunk, expected_pieces) in [(0, 3), (1, 3), (family, 3), (family + 1, 1), (1 << 20, 0)] {
                let (pieces, rest, result) = chunked(&r, &options, chunk);
                assert!(result.unwrap().is_empty());
                assert_eq!(pieces.len(), expected_pieces, "{format:?}, chunk {chunk}");
                assert!(
                    pieces.iter().all(|p| p.len() >= chunk),
                    "{format:?}: every piece is a chunk or more"
                );
                assert_eq!([pieces.concat(), rest].concat(), whole, "{format:?}, chunk {chunk}");
            }
        }
        // A piece ends where a family does: the second piece is `b_total` alone.
        let (pieces, _, _) = chunked(&r, &EncodeOptions::new(Format::Text), 1);
        let second = String::from_utf8(pieces[1].clone()).unwrap();
        assert!(second.starts_with("# HELP b_total Things.\n"), "{second}");
        assert_eq!(second.lines().filter(|l| l.starts_with("b_total{")).count(), 50, "{second}");
        assert!(!second.contains("a_total") && !second.contains("c_total"), "{second}");
    }

    #[test]
    fn a_failure_takes_back_only_what_was_not_handed_over() {
        let r = four_families();
        r.register(Broken).unwrap();
        // Stop: the pieces before the failure stay handed over; the error comes back.
        let (pieces, rest, result) = chunked(&r, &EncodeOptions::new(Format::Text), 1);
        assert_eq!(result.unwrap_err().to_string(), CollectError::failed("broken", "disk gone").to_string());
        let text = String::from_utf8([pieces.concat(), rest].concat()).unwrap();
        assert!(text.starts_with("# HELP a_total") && text.contains("d_total{id=\"49\"} 49\n"), "{text}");

        // Skip: the failing collector's own output is taken back, the rest is the whole encode.
        let options = EncodeOptions::new(Format::Text).on_error(OnError::Skip);
        let mut whole = Vec::new();
        let failures = r.encode_with(&mut whole, &options).unwrap();
        assert_eq!(failures.len(), 1);
        assert!(!String::from_utf8_lossy(&whole).contains("broken"));
        for chunk in [0, 1, 2_000, 1 << 20] {
            let (pieces, rest, result) = chunked(&r, &options, chunk);
            assert_eq!(result.unwrap().len(), 1, "chunk {chunk}");
            assert_eq!([pieces.concat(), rest].concat(), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn families_come_out_sorted_by_name() {
        let r = Registry::new();
        for name in ["b", "c", "a"] {
            Gauge::builder(name).register(&r).unwrap();
        }
        let text = r.encode_text_string().unwrap();
        let names: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(names, ["a 0", "b 0", "c 0"]);
    }
}
