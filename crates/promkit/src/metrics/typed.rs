//! `TypedFamily`: labelled series looked up by a Rust type, densely stored when it can be.

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use crate::labels::LabelSet;
use crate::model::CollectError;
use crate::model::{Collector, Desc, Sink};
use crate::syntax::escape::write_label_value;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::Metric;
use super::store::Store;

thread_local! {
    static VALUES: std::cell::RefCell<(Vec<u8>, Vec<std::ops::Range<usize>>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Dense storage is used up to this many label combinations.
const MAX_DENSE: usize = 1 << 16;

/// Labelled series looked up by a [`LabelSet`] type, so a wrong label cannot compile.
///
/// When every label of the set has a fixed set of values (enums, `bool`), series are kept in an
/// array indexed by the label set: [`with`](Self::with) is an index, with no hash, no lock and no
/// reference count. Other label sets (strings, integers) use the same hashed store as
/// [`Family`](crate::Family).
///
/// ```
/// use promkit::{Counter, LabelSet, LabelValue, Registry};
///
/// #[derive(Clone, Copy, LabelValue)]
/// #[label(rename_all = "UPPERCASE")]
/// enum Method { Get, Post }
///
/// #[derive(Clone, LabelSet)]
/// struct Labels { method: Method, ok: bool }
///
/// let registry = Registry::new();
/// let requests = Counter::builder("requests_total")
///     .help("Requests.")
///     .typed_labels::<Labels>()
///     .register(&registry)?;
/// requests.with(&Labels { method: Method::Get, ok: true }, |c| c.inc());
/// requests.get(&Labels { method: Method::Post, ok: false }).inc_by(2);
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP requests_total Requests.
/// ## TYPE requests_total counter
/// requests_total{method=\"GET\",ok=\"true\"} 1
/// requests_total{method=\"POST\",ok=\"false\"} 2
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Debug)]
pub struct TypedFamily<L: LabelSet, M: Metric> {
    inner: Arc<Inner<M>>,
    _labels: PhantomData<fn(&L)>,
}

#[derive(Debug)]
struct Inner<M: Metric> {
    store: Store<M>,
    /// One slot per label combination when the set's cardinality is fixed and small.
    dense: Box<[Slot<M>]>,
}

#[derive(Debug)]
struct Slot<M> {
    metric: OnceLock<M>,
    /// False once the series was removed, until the next lookup puts it back.
    present: AtomicBool,
}

impl<L: LabelSet, M: Metric> Clone for TypedFamily<L, M> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner), _labels: PhantomData }
    }
}

impl<L: LabelSet, M: Metric> TypedFamily<L, M> {
    pub(crate) fn from_store(store: Store<M>) -> Self {
        let dense = match L::CARDINALITY {
            Some(n) if n <= MAX_DENSE => {
                (0..n).map(|_| Slot { metric: OnceLock::new(), present: AtomicBool::new(false) }).collect()
            }
            _ => Box::default(),
        };
        Self { inner: Arc::new(Inner { store, dense }), _labels: PhantomData }
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.inner.store.desc.name
    }

    fn key<R>(&self, labels: &L, f: impl FnOnce(&[u8]) -> R) -> R {
        VALUES.with(|cell| {
            // Values arrive in declared order; the store asks for them by declared index, so
            // they are escaped once into a reused per-thread buffer first.
            let mut fresh = (Vec::new(), Vec::new());
            let mut borrowed = cell.try_borrow_mut();
            let (scratch, spans) = match borrowed.as_deref_mut() {
                Ok(buffers) => buffers,
                Err(_) => &mut fresh,
            };
            scratch.clear();
            spans.clear();
            labels.for_each_value(&mut |_, v| {
                let start = scratch.len();
                write_label_value(scratch, v);
                spans.push(start..scratch.len());
            });
            self.inner.store.with_key(&mut |i, buf| buf.extend_from_slice(&scratch[spans[i].clone()]), f)
        })
    }

    /// The series for `labels`, created at zero on first use.
    #[inline]
    pub fn get(&self, labels: &L) -> M {
        if let Some(slot) = self.dense_slot(labels) {
            return slot.clone();
        }
        self.key(labels, |key| self.inner.store.get_or_create(key))
    }

    /// The series for `labels` if it exists, without creating it: the read for tests, where
    /// [`get`](Self::get) would add the very series it reads to the exposition.
    pub fn get_existing(&self, labels: &L) -> Option<M> {
        self.key(labels, |key| self.inner.store.get_existing(key))
    }

    /// Runs `f` on the series for `labels`. On a dense family this is an array index with no
    /// hash, lock or reference count; `f` runs with nothing locked, so it may use the family.
    #[inline]
    pub fn with<R>(&self, labels: &L, f: impl FnOnce(&M) -> R) -> R {
        if let Some(slot) = self.dense_slot(labels) {
            return f(slot);
        }
        f(&self.get(labels))
    }

    #[inline]
    fn dense_slot(&self, labels: &L) -> Option<&M> {
        if self.inner.dense.is_empty() {
            return None;
        }
        let slot = self.inner.dense.get(labels.index())?;
        // Relaxed: the flag only decides whether to re-register; the metric itself is published
        // through the OnceLock's own acquire/release.
        if let Some(m) = slot.metric.get()
            && slot.present.load(Ordering::Relaxed)
        {
            return Some(m);
        }
        Some(self.dense_fill(labels, slot))
    }

    #[cold]
    fn dense_fill<'a>(&self, labels: &L, slot: &'a Slot<M>) -> &'a M {
        let m = slot.metric.get_or_init(|| self.key(labels, |key| self.inner.store.get_or_create(key)));
        if !slot.present.swap(true, Ordering::Relaxed) {
            // Back after a removal (or first use): make sure the store exports this very series.
            self.key(labels, |key| self.inner.store.put(key, m.clone()));
        }
        m
    }

    /// Removes the series for `labels` from the exposition; true if it was there. On a dense
    /// family the series is reset to zero in place, so handles taken before keep updating the
    /// series that a later lookup brings back (a hashed family orphans them instead, as Go does).
    pub fn remove(&self, labels: &L) -> bool {
        let removed = self.key(labels, |key| self.inner.store.remove_key(key));
        if !self.inner.dense.is_empty()
            && let Some(slot) = self.inner.dense.get(labels.index())
        {
            slot.present.store(false, Ordering::Relaxed);
            if let Some(m) = slot.metric.get() {
                m.reset();
            }
        }
        removed
    }

    /// Removes every series.
    pub fn clear(&self) {
        self.inner.store.retain(|_| false);
        for slot in &self.inner.dense {
            slot.present.store(false, Ordering::Relaxed);
            if let Some(m) = slot.metric.get() {
                m.reset();
            }
        }
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        self.inner.store.len()
    }

    /// True when no series exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when lookups are array indexes (every label has a fixed set of values).
    pub fn is_dense(&self) -> bool {
        !self.inner.dense.is_empty()
    }
}

impl<L: LabelSet + 'static, M: Metric> Collector for TypedFamily<L, M> {
    fn describe(&self) -> Vec<Desc> {
        vec![self.inner.store.desc.clone()]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.inner.store.collect(sink);
        Ok(())
    }

    fn series_limit(&self) -> Option<Arc<dyn crate::model::LimitStats>> {
        self.inner.store.has_limit().then(|| Arc::clone(&self.inner) as Arc<dyn crate::model::LimitStats>)
    }
}

impl<M: Metric> crate::model::LimitStats for Inner<M> {
    fn family(&self) -> &str {
        &self.store.desc.name
    }

    fn overflowed(&self) -> u64 {
        self.store.overflowed()
    }
}

impl<L: LabelSet, M: Metric> TypedFamily<L, M> {
    /// How many lookups found the series limit reached and went to the overflow series.
    pub fn overflowed(&self) -> u64 {
        self.inner.store.overflowed()
    }
}
