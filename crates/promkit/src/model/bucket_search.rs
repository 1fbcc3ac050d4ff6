//! Finding an observation's classic bucket in a few steps with no data-dependent branch.
//!
//! A linear scan that stops at the first bound `>= v` mispredicts its exit whenever
//! observations spread over the buckets (latencies do), which costs more than the compares;
//! counting every bound below `v` costs a compare per bound. Usual bounds (Go's defaults,
//! exponential ones, a few per power of two) are instead searched through the value's top 12
//! bits, its sign and binary exponent: a table gives how many bounds lie below every value with
//! those bits, and at most [`SPAN`] compares against the next bounds finish the count. Other
//! bound lists fall back to a branch-free count over a padded array (up to [`INLINE`] bounds)
//! or to [`scan`], the scan `Buckets::index` uses.
//!
//! Built once per bucket list (shared by every series of a family) and only for histograms
//! that observe: a parsed histogram's bounds never build one. The 4 KiB tables are shared by
//! every bucket list with the same bounds in the process, so histograms built each with their
//! own copy of the same bounds still hold one table between them.

use std::sync::{Arc, Mutex, PoisonError, Weak};

/// Values with the same top 12 bits (sign and exponent) share a table entry.
const KEYS: usize = 1 << 12;
/// The most bounds one table entry may leave to compare.
pub(crate) const SPAN: usize = 4;
/// Bound lists up to this long that the table cannot serve are counted branch-free.
pub(crate) const INLINE: usize = 16;

/// How an observation's bucket is found for one bucket list.
#[derive(Debug)]
pub(crate) enum BucketSearch {
    /// Through the sign-and-exponent table.
    Table {
        /// Per key: how many bounds are below every value with that key (at most 255 bounds).
        start: Arc<[u8; KEYS]>,
        /// The bounds, then [`SPAN`] times `+Inf`, so a count past the last bound stops there.
        padded: Box<[f64]>,
    },
    /// A count over the bounds padded with `+Inf` to [`INLINE`].
    Padded { padded: [f64; INLINE], len: usize },
    /// Long lists with many bounds per power of two: [`scan`] over the bounds themselves.
    Scan,
    /// No bounds (a native-only histogram's classic part): every observation is in `+Inf`,
    /// bucket 0, with no lookup at all.
    Empty,
}

impl BucketSearch {
    /// The search for these bounds (finite, strictly increasing, as `Buckets` validates them).
    pub(crate) fn new(bounds: &[f64]) -> Self {
        if bounds.is_empty() {
            return Self::Empty;
        }
        if let Some(start) = shared_table(bounds) {
            let padded = bounds.iter().copied().chain([f64::INFINITY; SPAN]).collect();
            return Self::Table { start, padded };
        }
        if bounds.len() <= INLINE {
            let mut padded = [f64::INFINITY; INLINE];
            padded[..bounds.len()].copy_from_slice(bounds);
            return Self::Padded { padded, len: bounds.len() };
        }
        Self::Scan
    }

    /// The first bucket whose bound is `>= v`, the bound count for `+Inf`; NaN lands in `+Inf`,
    /// as in Go. `bounds` are the ones this search was built for.
    #[inline]
    pub(crate) fn index(&self, bounds: &[f64], v: f64) -> usize {
        match self {
            Self::Table { start, padded } => {
                // NaN takes +Inf's key: every (finite) bound is below it. The select compiles
                // to a conditional move.
                let bits = if v.is_nan() { f64::INFINITY.to_bits() } else { v.to_bits() };
                let first = usize::from(start[(bits >> 52) as usize]);
                // The bounds from `first` on that are below `v`: at most SPAN of them by
                // construction, and the padding ends the window (NaN is below none).
                let window = &padded[first..first + SPAN];
                first + window.iter().map(|&b| usize::from(b < v)).sum::<usize>()
            }
            Self::Padded { padded, len } => {
                // Counting the bounds at or above `v` and taking them from the total, rather
                // than counting `v > b`: NaN is at or above no bound, so it counts as above
                // them all (padding included) and the `min` puts it in `+Inf`. Any other `v`
                // is at or below the `+Inf` padding, so the padding cancels out.
                let at_or_above = padded.iter().map(|&b| usize::from(v <= b)).sum::<usize>();
                (INLINE - at_or_above).min(*len)
            }
            Self::Scan => scan(bounds, v),
            Self::Empty => 0,
        }
    }
}

/// The first bound `>= v` found by a scan or, for long lists, a binary search: the reference
/// every search agrees with, and what [`Buckets::index`](super::Buckets) uses.
#[inline]
pub(crate) fn scan(bounds: &[f64], v: f64) -> usize {
    // A linear scan beats a binary search on short, branch-predictable lists (Go switches at
    // 35 bounds too).
    if bounds.len() < 35 {
        bounds.iter().position(|&b| v <= b).unwrap_or(bounds.len())
    } else {
        bounds.partition_point(|&b| b < v)
    }
}

/// The table for these bounds, shared with every other search over the same bounds that is
/// alive: the tables are kept weakly, by bounds, and a dead one is dropped from the list when
/// a new one is added.
fn shared_table(bounds: &[f64]) -> Option<Arc<[u8; KEYS]>> {
    type Tables = Vec<(Box<[f64]>, Weak<[u8; KEYS]>)>;
    static TABLES: Mutex<Tables> = Mutex::new(Vec::new());
    let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(table) = tables.iter().find(|(b, _)| **b == *bounds).and_then(|(_, t)| t.upgrade()) {
        return Some(table);
    }
    let table: Arc<[u8; KEYS]> = Arc::from(table(bounds)?);
    tables.retain(|(b, t)| t.strong_count() > 0 && **b != *bounds);
    tables.push((bounds.into(), Arc::downgrade(&table)));
    Some(table)
}

/// The table for these bounds, if every key leaves at most [`SPAN`] bounds to compare and the
/// counts fit a byte.
fn table(bounds: &[f64]) -> Option<Box<[u8; KEYS]>> {
    if bounds.len() > usize::from(u8::MAX) {
        return None;
    }
    // How many bounds are below `x` (or at or below it).
    let below = |x: f64| bounds.partition_point(|&b| b < x);
    let at_or_below = |x: f64| bounds.partition_point(|&b| b <= x);
    let mut start = Box::new([0u8; KEYS]);
    for (key, entry) in start.iter_mut().enumerate() {
        let (negative, exponent) = (key >> 11 == 1, (key & 0x7ff) as u64);
        // The magnitudes with this exponent: [low, high). Exponent 0 holds zero and the
        // subnormals; 0x7ff holds only the infinity (NaN is given +Inf's key).
        let low = if exponent == 0 { 0.0 } else { f64::from_bits(exponent << 52) };
        let high = f64::from_bits((exponent + 1).min(0x7ff) << 52);
        // The fewest and the most bounds below some value with this key.
        let (fewest, most) = match (negative, exponent) {
            (false, 0x7ff) => (bounds.len(), bounds.len()),
            (true, 0x7ff) => (0, 0),
            // Values in [low, high).
            (false, _) => (below(low), below(high)),
            // Values in (-high, -low]: a bound is below each of them only if it is at or
            // below -high, and below some of them if it is below -low.
            (true, _) => (at_or_below(-high), below(-low)),
        };
        if most - fewest > SPAN {
            return None;
        }
        *entry = u8::try_from(fewest).ok()?;
    }
    Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Buckets, exponential_buckets};
    use proptest::prelude::*;

    const SPECIAL: [f64; 12] = [
        0.0,
        -0.0,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
    ];

    fn kind(s: &BucketSearch) -> &'static str {
        match s {
            BucketSearch::Table { .. } => "table",
            BucketSearch::Padded { .. } => "padded",
            BucketSearch::Scan => "scan",
            BucketSearch::Empty => "empty",
        }
    }

    fn check(b: &Buckets, v: f64) {
        let s = BucketSearch::new(b.bounds());
        assert_eq!(s.index(b.bounds(), v), b.index(v), "{} search of {v:e} in {:?}", kind(&s), b.bounds());
    }

    #[test]
    fn usual_bounds_use_the_table_and_agree_at_every_edge() {
        for b in [
            Buckets::default(),
            exponential_buckets(1e-4, 2.0, 30).unwrap(),
            Buckets::new([-10.0, -1.0, -0.5, 0.0, 0.5, 1.0, 10.0]).unwrap(),
            Buckets::new([-0.0]).unwrap(),
            Buckets::new([f64::MIN, f64::MAX]).unwrap(),
            Buckets::new([5e-324, f64::MIN_POSITIVE]).unwrap(),
        ] {
            assert_eq!(kind(&BucketSearch::new(b.bounds())), "table", "{:?}", b.bounds());
            for &bound in b.bounds() {
                for v in [bound, bound.next_down(), bound.next_up(), -bound, bound * 2.0, bound / 2.0] {
                    check(&b, v);
                }
            }
            for v in SPECIAL {
                check(&b, v);
            }
        }
    }

    #[test]
    fn equal_bounds_share_one_table_while_it_lives() {
        let table = |s: &BucketSearch| match s {
            BucketSearch::Table { start, .. } => Arc::clone(start),
            _ => panic!("no table"),
        };
        let bounds = [0.25, 0.5, 1.0, 3.0, 7.5];
        let (a, b) = (BucketSearch::new(&bounds), BucketSearch::new(&bounds));
        assert!(Arc::ptr_eq(&table(&a), &table(&b)), "two tables for the same bounds");
        let other = BucketSearch::new(&[0.25, 0.5, 1.0, 3.0, 8.0]);
        assert!(!Arc::ptr_eq(&table(&a), &table(&other)));
        assert_eq!(other.index(&[0.25, 0.5, 1.0, 3.0, 8.0], 7.9), 4);
        assert_eq!(a.index(&bounds, 7.9), 5);
        let weak = Arc::downgrade(&table(&a));
        drop((a, b));
        assert_eq!(weak.strong_count(), 0, "the table outlived its searches");
        assert_eq!(BucketSearch::new(&bounds).index(&bounds, 0.3), 1);
    }

    #[test]
    fn no_bounds_put_everything_in_inf_without_a_lookup() {
        let none = Buckets::none();
        let search = BucketSearch::new(none.bounds());
        assert_eq!(kind(&search), "empty");
        for v in SPECIAL.into_iter().chain([1.0, -3.5, 1e300]) {
            assert_eq!(search.index(none.bounds(), v), 0, "{v:e}");
            check(&none, v);
        }
    }

    #[test]
    fn dense_and_long_lists_fall_back() {
        let dense = Buckets::linear(1.0, 0.1, 12).unwrap();
        assert_eq!(kind(&BucketSearch::new(dense.bounds())), "padded");
        let long = Buckets::linear(1.0, 0.01, 300).unwrap();
        assert_eq!(kind(&BucketSearch::new(long.bounds())), "scan");
        for b in [dense, long] {
            for v in SPECIAL.into_iter().chain([1.0, 1.05, 1.1, 2.0, 3.99, 4.0]) {
                check(&b, v);
            }
        }
    }

    proptest! {
        /// Linear lists of every length and spacing (all three searches), any value.
        #[test]
        fn linear_lists_agree_with_the_scan(n in 1usize..300, step in 0.001f64..10.0, v in any::<f64>()) {
            let b = Buckets::linear(-step * 3.0, step, n).unwrap();
            prop_assert_eq!(BucketSearch::new(b.bounds()).index(b.bounds(), v), b.index(v));
        }

        /// Arbitrary sorted lists spread over many magnitudes and both signs, probed at their
        /// bounds, beside them and anywhere.
        #[test]
        fn arbitrary_lists_agree_with_the_scan(
            raw in prop::collection::btree_set(any::<i64>(), 1..40),
            probes in prop::collection::vec(any::<f64>(), 1..20),
        ) {
            // Integers scaled by powers of two: exact, sorted, distinct, from 2^-20 to 2^40.
            let bounds: Vec<f64> = raw.iter().map(|&i| (i >> 20) as f64 * 2f64.powi(((i & 63) - 20) as i32)).collect();
            let mut bounds: Vec<f64> = bounds.into_iter().filter(|b| b.is_finite()).collect();
            bounds.sort_by(f64::total_cmp);
            bounds.dedup();
            prop_assume!(!bounds.is_empty());
            let b = Buckets::new(bounds.clone()).unwrap();
            let s = BucketSearch::new(b.bounds());
            for &x in bounds.iter().chain(&probes) {
                for v in [x, x.next_down(), x.next_up(), -x] {
                    prop_assert_eq!(s.index(b.bounds(), v), b.index(v), "{} search of {:e}", kind(&s), v);
                }
            }
        }
    }
}
