//! `Family`: a metric with string labels, one series per distinct set of label values.

use std::sync::Arc;

use crate::model::CollectError;
use crate::syntax::escape::write_label_value;

use super::LabelError;
use crate::model::{Collector, Desc, Sink};

use super::Metric;
use super::series_ref::SeriesRef;
pub use super::store::OVERFLOW_LABEL_VALUE;
use super::store::Store;

/// Labelled series of one metric type, looked up by label values (Go's `CounterVec` & co.).
///
/// A lookup returns a [`SeriesRef`]: the handle borrowed from this thread's lookup cache, so
/// `with_label_values(&[..])?.inc()` on a series this thread used recently takes no lock,
/// allocates nothing and moves no reference count. Which form to use:
/// - an update now, values known per call: `with_label_values(&[..])?.inc()`, or
///   [`with_series`](Self::with_series) with a closure (slightly faster still);
/// - a series updated often with fixed values, or kept in a struct or sent to another thread:
///   resolve it once with [`SeriesRef::to_owned`] (one reference-count increment) and keep the
///   owned handle; each update is then one atomic operation, with no lookup at all.
///
/// Nothing the family hands out holds a lock, so no handle can deadlock a scrape.
///
/// ```
/// use promkit::{Counter, Registry};
/// let registry = Registry::new();
/// let requests = Counter::builder("http_requests_total")
///     .help("Requests by method and code.")
///     .labels(["method", "code"])
///     .register(&registry)?;
/// requests.with_label_values(&["GET", "200"])?.inc();
/// let ok_get: Counter = requests.with(&[("code", "200"), ("method", "GET")])?.to_owned(); // any order
/// ok_get.inc_by(2);
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP http_requests_total Requests by method and code.
/// ## TYPE http_requests_total counter
/// http_requests_total{code=\"200\",method=\"GET\"} 3
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Debug)]
pub struct Family<M: Metric> {
    store: Arc<Store<M>>,
    /// Values bound by [`curry_with`](Self::curry_with), by declared label index.
    curried: Arc<[Option<Box<str>>]>,
    /// True when no label is curried, so lookups map values to labels one to one.
    uncurried: bool,
}

impl<M: Metric> Clone for Family<M> {
    fn clone(&self) -> Self {
        Self { store: Arc::clone(&self.store), curried: Arc::clone(&self.curried), uncurried: self.uncurried }
    }
}

impl<M: Metric> Family<M> {
    pub(crate) fn from_store(store: Store<M>) -> Self {
        let n = store.arity();
        Self { store: Arc::new(store), curried: (0..n).map(|_| None).collect(), uncurried: true }
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.store.desc.name
    }

    /// The label names still to be given (declared order, without curried ones).
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.store
            .desc
            .label_names
            .iter()
            .zip(self.curried.iter())
            .filter(|(_, c)| c.is_none())
            .map(|(n, _)| n.as_str())
    }

    fn names_list(&self) -> String {
        self.label_names().collect::<Vec<_>>().join(", ")
    }

    fn free_count(&self) -> usize {
        self.curried.iter().filter(|c| c.is_none()).count()
    }

    /// Writes the key of `values` (the uncurried labels, in declared order) and runs `f` on it.
    fn with_values_key<R>(&self, values: &[&str], f: impl FnOnce(&[u8]) -> R) -> Result<R, LabelError> {
        if values.len() != self.free_count() {
            return Err(LabelError::WrongCount {
                family: self.name().to_owned(),
                expected: self.free_count(),
                got: values.len(),
                names: self.names_list(),
            });
        }
        if values.len() == self.curried.len() {
            return Ok(self.store.with_str_key(values, f));
        }
        // Map declared index → position among the free values.
        Ok(self.store.with_key(
            &mut |i, buf| match &self.curried[i] {
                Some(v) => write_label_value(buf, v),
                None => {
                    let free_pos = self.curried[..i].iter().filter(|c| c.is_none()).count();
                    write_label_value(buf, values[free_pos]);
                }
            },
            f,
        ))
    }

    /// The series for these label values (in the order the label names were declared),
    /// created at zero on first use, borrowed from this thread's lookup cache.
    ///
    /// Each thread remembers its last few lookups in each family, so a repeated lookup takes no
    /// lock, allocates nothing and moves no reference count: `with_label_values(&[..])?.inc()`
    /// is a cache probe and the update. Take [`SeriesRef::to_owned`] to keep the handle (in a
    /// struct, in another thread): resolve once, then each update is one atomic operation.
    /// [`with_series`](Self::with_series) is the closure form.
    ///
    /// # Errors
    /// [`LabelError::WrongCount`] when the number of values is not the number of labels.
    #[inline(always)] // The guard then lives in registers: returned through memory, its two words
    // were written separately and read as one, which stalls store forwarding.
    pub fn with_label_values(&self, values: &[&str]) -> Result<SeriesRef<'_, M>, LabelError> {
        if self.uncurried && values.len() == self.curried.len() {
            return Ok(self.store.series_ref(&|i| values[i]));
        }
        self.with_label_values_curried(values)
    }

    /// [`with_label_values`](Self::with_label_values) on a curried family, or with a wrong
    /// count: out of line, so the common form inlines into the caller and its guard is
    /// returned in registers.
    #[inline(never)]
    fn with_label_values_curried(&self, values: &[&str]) -> Result<SeriesRef<'_, M>, LabelError> {
        if values.len() != self.free_count() {
            return Err(self.wrong_count(values.len()));
        }
        let get = |i: usize| -> &str {
            match &self.curried[i] {
                Some(v) => v,
                None => values[self.curried[..i].iter().filter(|c| c.is_none()).count()],
            }
        };
        Ok(self.store.series_ref(&get))
    }

    /// Runs `f` on the series for these label values (declared order), created at zero on
    /// first use, and returns what `f` returns: the handle-free form of
    /// [`with_label_values`](Self::with_label_values), for a label value known only per call.
    /// A repeated lookup takes no lock, moves no reference count and allocates nothing.
    ///
    /// ```
    /// use promkit::{Counter, Registry};
    /// let registry = Registry::new();
    /// let requests = Counter::builder("requests_total").labels(["method", "code"]).register(&registry)?;
    /// for code in ["200", "200", "404"] {
    ///     requests.with_series(&["GET", code], |c| c.inc())?;
    /// }
    /// assert_eq!(requests.with_series(&["GET", "200"], |c| c.get())?, 2);
    /// # Ok::<(), promkit::Error>(())
    /// ```
    ///
    /// `f` may look up series of this family again: a nested hit reads the cache too, a nested
    /// miss bypasses it.
    ///
    /// # Errors
    /// [`LabelError::WrongCount`] when the number of values is not the number of labels.
    #[inline]
    pub fn with_series<R>(&self, values: &[&str], f: impl FnOnce(&M) -> R) -> Result<R, LabelError> {
        if self.uncurried && values.len() == self.curried.len() {
            return Ok(self.store.with_series(&|i| values[i], f));
        }
        self.with_series_curried(values, f)
    }

    fn with_series_curried<R>(&self, values: &[&str], f: impl FnOnce(&M) -> R) -> Result<R, LabelError> {
        if values.len() != self.free_count() {
            return Err(self.wrong_count(values.len()));
        }
        let get = |i: usize| -> &str {
            match &self.curried[i] {
                Some(v) => v,
                None => values[self.curried[..i].iter().filter(|c| c.is_none()).count()],
            }
        };
        Ok(self.store.with_series(&get, f))
    }

    /// The series for these label values if it exists, without creating it: the read for tests
    /// and checks, where [`with_label_values`](Self::with_label_values) would add the very
    /// series it reads to the exposition.
    ///
    /// ```
    /// use promkit::{Counter, Registry};
    /// let registry = Registry::new();
    /// let errors = Counter::builder("errors_total").labels(["kind"]).register(&registry)?;
    /// errors.with_label_values(&["timeout"])?.inc();
    /// assert_eq!(errors.get_existing(&["timeout"])?.map(|c| c.get()), Some(1));
    /// assert!(errors.get_existing(&["refused"])?.is_none());
    /// assert_eq!(errors.len(), 1); // the miss created nothing
    /// # Ok::<(), promkit::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`LabelError::WrongCount`] when the number of values is not the number of labels.
    pub fn get_existing(&self, values: &[&str]) -> Result<Option<M>, LabelError> {
        if values.len() != self.free_count() {
            return Err(self.wrong_count(values.len()));
        }
        if values.len() == self.curried.len() {
            return Ok(self.store.get_existing_raw(&|i| values[i]));
        }
        let get = |i: usize| -> &str {
            match &self.curried[i] {
                Some(v) => v,
                None => values[self.curried[..i].iter().filter(|c| c.is_none()).count()],
            }
        };
        Ok(self.store.get_existing_raw(&get))
    }

    fn wrong_count(&self, got: usize) -> LabelError {
        LabelError::WrongCount {
            family: self.name().to_owned(),
            expected: self.free_count(),
            got,
            names: self.names_list(),
        }
    }

    /// As [`with_label_values`](Self::with_label_values), panicking on a wrong count.
    ///
    /// # Panics
    /// When the number of values is not the number of labels: a programming error, for label
    /// values fixed in the source. Never use it with values from input.
    #[track_caller]
    pub fn must_with_label_values(&self, values: &[&str]) -> SeriesRef<'_, M> {
        self.with_label_values(values).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The series for these `(name, value)` pairs, in any order (Go's `With(Labels)`), borrowed
    /// as [`with_label_values`](Self::with_label_values) borrows it.
    ///
    /// # Errors
    /// [`LabelError`] for an unknown, missing or repeated name.
    pub fn with(&self, pairs: &[(&str, &str)]) -> Result<SeriesRef<'_, M>, LabelError> {
        let values = self.values_from_pairs(pairs)?;
        self.with_label_values(&values)
    }

    fn values_from_pairs<'a>(&self, pairs: &[(&str, &'a str)]) -> Result<Vec<&'a str>, LabelError> {
        let free: Vec<&str> = self.label_names().collect();
        let mut values: Vec<Option<&str>> = vec![None; free.len()];
        for &(name, value) in pairs {
            let Some(i) = free.iter().position(|n| *n == name) else {
                return Err(LabelError::UnknownName {
                    family: self.name().to_owned(),
                    name: name.to_owned(),
                    names: self.names_list(),
                });
            };
            if values[i].replace(value).is_some() {
                return Err(LabelError::DuplicateName {
                    family: self.name().to_owned(),
                    name: name.to_owned(),
                });
            }
        }
        values.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| LabelError::WrongCount {
            family: self.name().to_owned(),
            expected: free.len(),
            got: pairs.len(),
            names: self.names_list(),
        })
    }

    /// Removes the series with these label values from the exposition; true if it existed.
    /// Handles already held keep working but are no longer exported (as in Go).
    ///
    /// # Errors
    /// [`LabelError::WrongCount`] as for lookups.
    pub fn remove(&self, values: &[&str]) -> Result<bool, LabelError> {
        self.with_values_key(values, |key| self.store.remove_key(key))
    }

    /// Removes the series with these `(name, value)` pairs, in any order (Go's
    /// `Delete(Labels)`); true if it existed. The pair form of [`remove`](Self::remove), as
    /// [`with`](Self::with) is of [`with_label_values`](Self::with_label_values).
    ///
    /// ```
    /// # use promkit::{Counter, Registry};
    /// # let registry = Registry::new();
    /// let requests = Counter::builder("req_total").labels(["method", "code"]).register(&registry)?;
    /// requests.with_label_values(&["GET", "200"])?.inc();
    /// assert!(requests.remove_by(&[("code", "200"), ("method", "GET")])?);
    /// assert!(!requests.remove_by(&[("code", "200"), ("method", "GET")])?);
    /// # Ok::<(), promkit::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`LabelError`] for an unknown, missing or repeated name.
    pub fn remove_by(&self, pairs: &[(&str, &str)]) -> Result<bool, LabelError> {
        let values = self.values_from_pairs(pairs)?;
        self.remove(&values)
    }

    /// Removes every series whose labels include all these `(name, value)` pairs (Go's
    /// `DeletePartialMatch`); returns how many were removed. Curried labels match too.
    pub fn remove_partial_match(&self, pairs: &[(&str, &str)]) -> usize {
        let names = &self.store.desc.label_names;
        let wanted: Vec<(usize, &str)> =
            pairs.iter().filter_map(|(n, v)| names.iter().position(|x| x == n).map(|i| (i, *v))).collect();
        if wanted.len() != pairs.len() {
            return 0;
        }
        self.store.retain(|key| {
            let curried_match = self
                .curried
                .iter()
                .enumerate()
                .all(|(i, c)| c.as_deref().is_none_or(|c| self.store.value_in_key(key, i) == c));
            let hit = curried_match && wanted.iter().all(|&(i, v)| self.store.value_in_key(key, i) == v);
            !hit
        })
    }

    /// Removes every series.
    pub fn clear(&self) {
        self.store.retain(|_| false);
    }

    /// The number of series.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when no series exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many lookups found the series limit reached and went to the overflow series.
    pub fn overflowed(&self) -> u64 {
        self.store.overflowed()
    }

    /// A view of this family with some labels bound (Go's `CurryWith`): lookups on it take only
    /// the remaining labels. Series are shared with this family.
    ///
    /// ```
    /// # use promkit::{Counter, Registry};
    /// # let registry = Registry::new();
    /// let requests = Counter::builder("req_total").labels(["handler", "code"]).register(&registry)?;
    /// let api = requests.curry_with(&[("handler", "/api")])?;
    /// api.with_label_values(&["500"])?.inc();
    /// assert_eq!(requests.with_label_values(&["/api", "500"])?.get(), 1);
    /// # Ok::<(), promkit::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`LabelError`] for a name the family does not have or has curried already.
    pub fn curry_with(&self, pairs: &[(&str, &str)]) -> Result<Self, LabelError> {
        let mut curried: Vec<Option<Box<str>>> = self.curried.to_vec();
        for &(name, value) in pairs {
            let i = self.store.desc.label_names.iter().position(|n| n == name);
            match i {
                Some(i) if curried[i].is_none() => curried[i] = Some(value.into()),
                Some(_) => {
                    return Err(LabelError::DuplicateName {
                        family: self.name().to_owned(),
                        name: name.to_owned(),
                    });
                }
                None => {
                    return Err(LabelError::UnknownName {
                        family: self.name().to_owned(),
                        name: name.to_owned(),
                        names: self.names_list(),
                    });
                }
            }
        }
        let uncurried = curried.iter().all(Option::is_none);
        Ok(Self { store: Arc::clone(&self.store), curried: curried.into(), uncurried })
    }

    /// As [`curry_with`](Self::curry_with), panicking on a bad name (Go's `MustCurryWith`).
    ///
    /// # Panics
    /// For a name the family does not have or has curried already: a programming error, for
    /// names fixed in the source.
    #[track_caller]
    pub fn must_curry_with(&self, pairs: &[(&str, &str)]) -> Self {
        self.curry_with(pairs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Calls `f(values, series)` for every series, values in declared label order (unordered
    /// series; for tests and custom exports).
    pub fn for_each(&self, mut f: impl FnMut(&[String], &M)) {
        let n = self.store.desc.label_names.len();
        self.store.for_each(|key, m| {
            let values: Vec<String> = (0..n).map(|i| self.store.value_in_key(key, i).into_owned()).collect();
            f(&values, m);
        });
    }
}

impl<M: Metric> Collector for Family<M> {
    fn describe(&self) -> Vec<Desc> {
        vec![self.store.desc.clone()]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        self.store.collect(sink);
        Ok(())
    }

    fn series_limit(&self) -> Option<Arc<dyn crate::model::LimitStats>> {
        self.store.has_limit().then(|| Arc::clone(&self.store) as Arc<dyn crate::model::LimitStats>)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{Counter, Gauge, LabelError, Registry};

    #[test]
    fn lookups_validate_counts_and_names() {
        let r = Registry::new();
        let f = Counter::builder("t_total").labels(["a", "b"]).register(&r).unwrap();
        assert!(matches!(
            f.with_label_values(&["x"]),
            Err(LabelError::WrongCount { expected: 2, got: 1, .. })
        ));
        assert!(matches!(f.with(&[("a", "1"), ("c", "2")]), Err(LabelError::UnknownName { .. })));
        assert!(matches!(f.with(&[("a", "1"), ("a", "2")]), Err(LabelError::DuplicateName { .. })));
        assert!(matches!(f.with(&[("a", "1")]), Err(LabelError::WrongCount { .. })));
        let e = f.with_label_values(&["x"]).unwrap_err().to_string();
        assert_eq!(e, "`t_total` takes 2 label values (a, b), got 1");
        let one = Counter::builder("one_total").labels(["a"]).register(&r).unwrap();
        let e = one.with_label_values(&[]).unwrap_err().to_string();
        assert_eq!(e, "`one_total` takes 1 label value (a), got 0");
        let c = f.with(&[("b", "2"), ("a", "1")]).unwrap();
        assert!(c.same_as(&f.with_label_values(&["1", "2"]).unwrap()));
    }

    #[test]
    fn remove_by_takes_pairs_in_any_order_and_respects_currying() {
        let r = Registry::new();
        let f = Counter::builder("rb_total").labels(["a", "b", "c"]).register(&r).unwrap();
        f.with_label_values(&["1", "2", "3"]).unwrap().inc();
        f.with_label_values(&["1", "9", "3"]).unwrap().inc();
        let a1 = f.must_curry_with(&[("a", "1")]);
        assert!(matches!(a1.remove_by(&[("a", "1")]), Err(LabelError::UnknownName { .. })));
        assert!(matches!(a1.remove_by(&[("c", "3")]), Err(LabelError::WrongCount { .. })));
        assert_eq!(a1.remove_by(&[("c", "3"), ("b", "2")]), Ok(true));
        assert_eq!(f.remove_by(&[("c", "3"), ("b", "2"), ("a", "1")]), Ok(false));
        assert_eq!(f.len(), 1);
    }

    #[test]
    #[should_panic(expected = "`mc_total` has no label `x`")]
    fn must_curry_with_panics_with_the_error() {
        let r = Registry::new();
        let f = Counter::builder("mc_total").labels(["a"]).register(&r).unwrap();
        let _ = f.must_curry_with(&[("x", "1")]);
    }

    #[test]
    fn remove_partial_match_and_clear() {
        let r = Registry::new();
        let f = Gauge::builder("g").labels(["a", "b"]).register(&r).unwrap();
        for (a, b) in [("1", "x"), ("1", "y"), ("2", "x")] {
            f.with_label_values(&[a, b]).unwrap().set(1);
        }
        assert_eq!(f.remove_partial_match(&[("b", "x")]), 2);
        assert_eq!(f.len(), 1);
        assert!(f.remove(&["1", "y"]).unwrap());
        assert!(!f.remove(&["1", "y"]).unwrap());
        f.with_label_values(&["3", "z"]).unwrap();
        f.clear();
        assert!(f.is_empty());
        assert_eq!(f.remove_partial_match(&[("nope", "x")]), 0);
    }

    #[test]
    fn cached_lookups_see_removals_in_every_form() {
        let r = Registry::new();
        let f = Counter::builder("cache_total").labels(["a", "b"]).register(&r).unwrap();
        let a1 = f.must_curry_with(&[("a", "1")]);
        let removals: [&dyn Fn(); 4] = [
            &|| assert!(f.remove(&["1", "x"]).unwrap()),
            &|| assert_eq!(f.remove_partial_match(&[("b", "x")]), 1),
            &|| f.clear(),
            &|| assert!(a1.remove(&["x"]).unwrap()),
        ];
        for (n, remove) in removals.iter().enumerate() {
            f.with_series(&["1", "x"], |c| c.inc_by(5)).unwrap();
            a1.with_series(&["x"], |c| c.inc()).unwrap();
            assert_eq!(f.with_label_values(&["1", "x"]).unwrap().get(), 6, "removal {n}");
            remove();
            assert_eq!(f.with_series(&["1", "x"], |c| c.get()).unwrap(), 0, "removal {n}");
            assert_eq!(a1.with_series(&["x"], |c| c.get()).unwrap(), 0, "removal {n}");
            f.clear();
        }
    }

    #[test]
    fn lookups_past_the_cache_size_and_nested_lookups_count_exactly() {
        let r = Registry::new();
        let f = Counter::builder("many_total").labels(["k"]).register(&r).unwrap();
        let keys: Vec<String> = (0..20).map(|i| format!("key-{i}")).collect();
        for round in 0..5 {
            for (i, k) in keys.iter().enumerate() {
                // A nested lookup of the same family while the cache is borrowed.
                let inner = f.with_series(&[k], |c| {
                    c.inc();
                    f.with_series(&[&keys[(i + 1) % keys.len()]], |n| n.get()).unwrap()
                });
                assert_eq!(inner.unwrap(), if i + 1 < keys.len() { round } else { round + 1 });
            }
        }
        assert!(keys.iter().all(|k| f.with_label_values(&[k]).unwrap().get() == 5));
        // Values alike but for their middle bytes share a fingerprint and still differ.
        let long = ["0123456789abcdefAAAA0123456789abcdef", "0123456789abcdefBBBB0123456789abcdef"];
        f.with_series(&[long[0]], |c| c.inc()).unwrap();
        assert_eq!(f.with_series(&[long[1]], |c| c.get()).unwrap(), 0);
        assert!(matches!(f.with_series(&[], |c| c.get()), Err(LabelError::WrongCount { .. })));
        assert!(matches!(f.with_series(&["a", "b"], |c| c.get()), Err(LabelError::WrongCount { .. })));
        assert!(matches!(
            a_curried(&r).with_series(&["1", "2"], |c| c.get()),
            Err(LabelError::WrongCount { .. })
        ));
    }

    fn a_curried(r: &Registry) -> crate::Family<Counter> {
        Counter::builder("cur_total").labels(["a", "b"]).register(r).unwrap().must_curry_with(&[("a", "1")])
    }

    #[test]
    fn removed_series_restart_at_zero() {
        let r = Registry::new();
        let f = Counter::builder("c_total").labels(["a"]).register(&r).unwrap();
        let old = f.with_label_values(&["x"]).unwrap();
        old.inc_by(5);
        assert!(f.remove(&["x"]).unwrap());
        let new = f.with_label_values(&["x"]).unwrap();
        assert_eq!(new.get(), 0);
        assert!(!old.same_as(&new));
    }
}
