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
///
/// # No currying
///
/// [`Family::curry_with`](crate::Family::curry_with) binds some labels so that lookups take
/// only the others. A typed family has no counterpart because its lookups already take one
/// value of `L`, whole: a curried view would need a second label type holding just the
/// remaining fields, and the lookup would rebuild an `L` from both on every call. Bind the
/// fixed fields in your own code instead (a constructor or a closure that fills them in and
/// takes the rest), which keeps lookups the array index or single hash they are.
/// [`remove_partial_match`](Self::remove_partial_match) is the part of Go's curried API that
/// does carry over.
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
    /// True only once `metric` is set (stored with Release after it is, so a thread that loads
    /// `true` with Acquire sees it set); false again once the series was removed, until the
    /// next lookup puts it back.
    present: AtomicBool,
}

impl<L: LabelSet, M: Metric> Clone for TypedFamily<L, M> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner), _labels: PhantomData }
    }
}

impl<L: LabelSet, M: Metric> TypedFamily<L, M> {
    /// Whether this label set's families store their series densely: known when the code is
    /// compiled, so a lookup on a hashed family does not test for slots at run time, nor a
    /// dense one for their absence.
    const DENSE: bool = matches!(L::CARDINALITY, Some(n) if n > 0 && n <= MAX_DENSE);

    pub(crate) fn from_store(store: Store<M>) -> Self {
        let dense = match L::CARDINALITY {
            Some(n) if Self::DENSE => {
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
    #[allow(unsafe_code)] // Justified at the block.
    fn dense_slot(&self, labels: &L) -> Option<&M> {
        if !Self::DENSE {
            return None;
        }
        // Checked: `index` is the label set's own code, which may be wrong.
        let slot = self.inner.dense.get(labels.index())?;
        // Acquire: pairs with `dense_fill`'s Release, which follows the metric being set.
        if slot.present.load(Ordering::Acquire) {
            // SAFETY: `present` is only ever stored `true` by `dense_fill`, after
            // `get_or_init` returned (the OnceLock is set, and a set OnceLock is never unset
            // through a shared reference; the slots live as long as the family). The Acquire
            // load above read that Release store (or a later `true` from the same source), so
            // this thread sees the OnceLock set. One flag test on the hit instead of two.
            return Some(unsafe { slot.metric.get().unwrap_unchecked() });
        }
        Some(self.dense_fill(labels, slot))
    }

    #[cold]
    fn dense_fill<'a>(&self, labels: &L, slot: &'a Slot<M>) -> &'a M {
        let m = slot.metric.get_or_init(|| self.key(labels, |key| self.inner.store.get_or_create(key)));
        // Release: publishes the set metric to the hit path's Acquire load (see `dense_slot`).
        if !slot.present.swap(true, Ordering::Release) {
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
        if Self::DENSE
            && let Some(slot) = self.inner.dense.get(labels.index())
        {
            slot.present.store(false, Ordering::Relaxed);
            if let Some(m) = slot.metric.get() {
                m.reset();
            }
        }
        removed
    }

    /// Removes every series whose labels include all these `(name, value)` pairs (Go's
    /// `DeletePartialMatch`) and returns how many were removed: the way to drop every series of
    /// a tenant or a pod that went away without naming the other labels. A value is the label
    /// text the exposition shows (`"GET"` for a `Method::Get` renamed to upper case). A name
    /// the family does not have matches nothing, as in [`Family`](crate::Family).
    ///
    /// On a dense family the removed series are reset to zero in place, as
    /// [`remove`](Self::remove) does, so a later lookup brings each back from zero.
    ///
    /// ```
    /// use promkit::{Counter, LabelSet, LabelValue, Registry};
    ///
    /// #[derive(Clone, Copy, LabelValue)]
    /// #[label(rename_all = "lowercase")]
    /// enum Outcome { Ok, Failed }
    ///
    /// #[derive(Clone, LabelSet)]
    /// struct Labels { tenant: String, outcome: Outcome }
    ///
    /// let registry = Registry::new();
    /// let jobs = Counter::builder("jobs_total").help("Jobs.").typed_labels::<Labels>().register(&registry)?;
    /// for (tenant, outcome) in [("acme", Outcome::Ok), ("acme", Outcome::Failed), ("zeta", Outcome::Ok)] {
    ///     jobs.get(&Labels { tenant: tenant.into(), outcome }).inc();
    /// }
    /// assert_eq!(jobs.remove_partial_match(&[("tenant", "acme")]), 2);
    /// assert_eq!(registry.encode_text_string()?, "\
    /// ## HELP jobs_total Jobs.
    /// ## TYPE jobs_total counter
    /// jobs_total{outcome=\"ok\",tenant=\"zeta\"} 1
    /// ");
    /// # Ok::<(), promkit::Error>(())
    /// ```
    pub fn remove_partial_match(&self, pairs: &[(&str, &str)]) -> usize {
        let store = &self.inner.store;
        let names = &store.desc.label_names;
        let wanted: Vec<(usize, &str)> =
            pairs.iter().filter_map(|(n, v)| names.iter().position(|x| x == n).map(|i| (i, *v))).collect();
        if wanted.len() != pairs.len() {
            return 0;
        }
        // Matches are found under the read lock and removed one by one under the write lock, so
        // a scrape is never blocked for the whole scan.
        let mut hits: Vec<(Box<str>, M)> = Vec::new();
        store.for_each(|key, m| {
            if wanted.iter().all(|&(i, v)| store.value_in_key(key, i) == v) {
                hits.push((key.into(), m.clone()));
            }
        });
        let mut removed = 0;
        for (key, m) in hits {
            if store.remove_key(key.as_bytes()) {
                removed += 1;
                if self.is_dense() {
                    // The store's entry shares its state with the dense slot's handle.
                    m.reset();
                }
            }
        }
        if removed > 0 {
            // Which slots were hit is not known from a key, so every slot re-checks on its next
            // lookup: `put` re-exports a removed series and leaves a present one alone.
            for slot in &self.inner.dense {
                slot.present.store(false, Ordering::Relaxed);
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
        Self::DENSE
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

#[cfg(test)]
mod tests {
    use crate::{Counter, LabelSet, Registry};

    /// `{tenant, ok}` with a fixed cardinality (two tenants, two outcomes): a dense family.
    #[derive(Clone, Copy)]
    struct Dense {
        tenant_b: bool,
        ok: bool,
    }

    impl LabelSet for Dense {
        const NAMES: &'static [&'static str] = &["tenant", "ok"];
        const CARDINALITY: Option<usize> = Some(4);
        const LEN: usize = 2;

        fn index(&self) -> usize {
            usize::from(self.tenant_b) * 2 + usize::from(self.ok)
        }

        fn for_each_value(&self, f: &mut dyn FnMut(usize, &str)) {
            f(0, if self.tenant_b { "b" } else { "a" });
            f(1, if self.ok { "true" } else { "false" });
        }
    }

    const ALL: [Dense; 4] = [
        Dense { tenant_b: false, ok: false },
        Dense { tenant_b: false, ok: true },
        Dense { tenant_b: true, ok: false },
        Dense { tenant_b: true, ok: true },
    ];

    /// Threads racing each slot's first lookup (which sets it and publishes it to the hit
    /// path) all land on one series per slot, and no add is lost. Run under Miri too, which
    /// checks the hit path's unchecked read of the slot against that publication.
    #[test]
    fn racing_first_lookups_share_one_series_per_slot() {
        let per_thread = if cfg!(miri) { 20 } else { 20_000 };
        let registry = Registry::new();
        let f = Counter::builder("r_total").help("R.").typed_labels::<Dense>().register(&registry).unwrap();
        let start = std::sync::Barrier::new(3);
        std::thread::scope(|s| {
            for t in 0..3 {
                let (f, start) = (&f, &start);
                s.spawn(move || {
                    start.wait();
                    for i in 0..per_thread {
                        // Each thread walks the slots from a different one.
                        f.with(&ALL[(i + t) % 4], |c| c.inc());
                    }
                });
            }
        });
        let total: u64 = ALL.iter().map(|l| f.with(l, Counter::get)).sum();
        assert_eq!(total, 3 * per_thread as u64);
        assert_eq!(f.len(), 4);
        let text = registry.encode_text_string().unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("r_total{")).count(), 4, "{text}");
    }

    /// Lookups racing removals (each of which resets the slot's series and clears its flag)
    /// never see a slot without its series, and once the removals stop a lookup exports the
    /// series again: the one every handle taken before still updates.
    #[test]
    fn lookups_racing_removals_keep_one_series_per_slot() {
        let rounds = if cfg!(miri) { 20 } else { 5_000 };
        let registry = Registry::new();
        let f = Counter::builder("x_total").help("X.").typed_labels::<Dense>().register(&registry).unwrap();
        let held: Vec<Counter> = ALL.iter().map(|l| f.get(l)).collect();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..rounds {
                    if i % 2 == 0 {
                        f.remove(&ALL[i % 4]);
                    } else {
                        f.clear();
                    }
                }
            });
            s.spawn(|| {
                for i in 0..rounds {
                    f.with(&ALL[i % 4], |c| c.inc());
                }
            });
        });
        f.clear();
        for (label, handle) in ALL.iter().zip(&held) {
            handle.inc_by(7);
            assert_eq!(f.with(label, Counter::get), 7, "the held handle is the slot's series");
        }
        assert_eq!(f.len(), 4);
        let text = registry.encode_text_string().unwrap();
        assert_eq!(
            text.lines().filter(|l| l.starts_with("x_total{") && l.ends_with(" 7")).count(),
            4,
            "{text}"
        );
    }

    #[test]
    fn partial_removal_on_a_hashed_family_matches_every_given_pair() {
        let registry = Registry::new();
        let f = Counter::builder("t_total")
            .typed_labels_named::<[&str; 2], _>(["tenant", "code"])
            .register(&registry)
            .unwrap();
        for labels in [["a", "200"], ["a", "500"], ["b", "200"]] {
            f.get(&labels).inc();
        }
        assert!(!f.is_dense());
        assert_eq!(f.remove_partial_match(&[("tenant", "a"), ("code", "500")]), 1);
        assert_eq!(f.remove_partial_match(&[("nope", "a")]), 0);
        assert_eq!(f.remove_partial_match(&[("tenant", "c")]), 0);
        assert_eq!(f.remove_partial_match(&[("code", "200")]), 2);
        assert!(f.is_empty());
        // An empty match list matches every series, as Go's DeletePartialMatch does.
        f.get(&["z", "1"]).inc();
        assert_eq!(f.remove_partial_match(&[]), 1);
    }

    #[test]
    fn partial_removal_on_a_dense_family_resets_and_re_exports_on_next_use() {
        let registry = Registry::new();
        let f = Counter::builder("d_total").help("D.").typed_labels::<Dense>().register(&registry).unwrap();
        assert!(f.is_dense());
        let kept = Dense { tenant_b: true, ok: true };
        let gone = Dense { tenant_b: false, ok: true };
        f.with(&kept, |c| c.inc_by(5));
        f.with(&gone, |c| c.inc_by(3));
        f.with(&Dense { tenant_b: false, ok: false }, |c| c.inc());
        let held = f.get(&gone);

        assert_eq!(f.remove_partial_match(&[("tenant", "a")]), 2);
        assert_eq!(f.len(), 1);
        assert_eq!(held.get(), 0, "a dense series is reset in place");
        assert_eq!(
            registry.encode_text_string().unwrap(),
            "# HELP d_total D.\n# TYPE d_total counter\nd_total{ok=\"true\",tenant=\"b\"} 5\n"
        );
        // The untouched series keeps its value and stays exported after its slot re-checks.
        f.with(&kept, |c| c.inc());
        f.with(&gone, |c| c.inc());
        assert_eq!(held.get(), 1, "the held handle is the series that came back");
        assert_eq!(
            registry.encode_text_string().unwrap(),
            "# HELP d_total D.\n# TYPE d_total counter\nd_total{ok=\"true\",tenant=\"a\"} 1\nd_total{ok=\"true\",tenant=\"b\"} 6\n"
        );
    }
}
