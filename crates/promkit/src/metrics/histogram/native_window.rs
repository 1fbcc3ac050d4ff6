//! The bucket counts of one sign of a native histogram's shard: a dense window of keys.
//!
//! Keys near each other are counted in one array, `counts[k - offset]`, so an observation is an
//! index and an add, not a hash lookup. The window starts where the first observation lands and
//! grows at either end when a key falls outside it, by at least half its length (so growing is
//! rare: a spread of `n` keys reallocates about `log2(n)` times, and never again once it is
//! covered). A window never spans more than [`MAX_SPAN`] keys; keys beyond that (a histogram
//! observing values hundreds of orders of magnitude apart) are counted in a sparse map instead,
//! which bounds the memory a shard can take.

use hashbrown::HashMap;

/// The most keys one window covers: 8 KiB of counts; 128 powers of two at schema 3.
pub(super) const MAX_SPAN: usize = 1024;
/// The fewest keys a window grows by.
const MIN_GROWTH: usize = 8;

/// Keys outside the window. A fixed hasher: keys are small integers from our own math, not
/// input an attacker picks the hashes of.
type Far = HashMap<i32, u64, foldhash::fast::FixedState>;

#[derive(Debug, Default)]
pub(super) struct Window {
    /// The key of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
    /// Counts of keys outside `offset..offset + counts.len()`, never of keys inside it.
    far: Far,
}

impl Window {
    /// Counts one observation at `key`; true when that bucket was empty before.
    #[inline]
    pub(super) fn bump(&mut self, key: i32) -> bool {
        // A key below the offset wraps to a huge index and misses, like one past the end.
        let i = key.wrapping_sub(self.offset).cast_unsigned() as usize;
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
            return *c == 1;
        }
        self.add_outside(key, 1)
    }

    /// Adds `n` observations at `key`; true when that bucket was empty before.
    pub(super) fn add(&mut self, key: i32, n: u64) -> bool {
        let i = key.wrapping_sub(self.offset).cast_unsigned() as usize;
        if let Some(c) = self.counts.get_mut(i) {
            let was = *c;
            *c += n;
            return was == 0 && n > 0;
        }
        self.add_outside(key, n)
    }

    #[cold]
    fn add_outside(&mut self, key: i32, n: u64) -> bool {
        if let Some(c) = self.far.get_mut(&key) {
            let was = *c;
            *c += n;
            return was == 0 && n > 0;
        }
        if self.grow_to(key) {
            return self.add(key, n);
        }
        self.far.insert(key, n);
        n > 0
    }

    /// Widens the window to cover `key` with room to spare, unless that takes more than
    /// [`MAX_SPAN`] keys; true when it now covers `key`.
    fn grow_to(&mut self, key: i32) -> bool {
        let len = self.counts.len();
        let span = |lo: i64, hi: i64| usize::try_from(hi - lo).unwrap_or(usize::MAX);
        let (lo, hi) = (i64::from(self.offset), i64::from(self.offset) + len as i64);
        let key = i64::from(key);
        let growth = i64::try_from((len / 2).max(MIN_GROWTH)).unwrap_or(i64::MAX);
        let (new_lo, new_hi) = if len == 0 {
            // Centred on the first key: later observations spread both ways.
            (key - growth / 2, key + growth / 2)
        } else if key < lo {
            ((key - growth / 2).min(lo - growth), hi)
        } else {
            (lo, (key + 1 + growth / 2).max(hi + growth))
        };
        // Trim the slack (never the key) to stay within the span limit.
        let (new_lo, new_hi) = if span(new_lo, new_hi) <= MAX_SPAN {
            (new_lo, new_hi)
        } else if key < lo || len == 0 {
            (key, new_hi.min(key + MAX_SPAN as i64))
        } else {
            (new_lo.max(key + 1 - MAX_SPAN as i64), key + 1)
        };
        if span(new_lo, new_hi) > MAX_SPAN || (len > 0 && (new_lo > lo || new_hi < hi)) {
            return false;
        }
        let Ok(new_offset) = i32::try_from(new_lo) else { return false };
        let mut counts = vec![0; span(new_lo, new_hi)];
        if len > 0 {
            let shift = usize::try_from(lo - new_lo).unwrap_or(0);
            counts[shift..shift + len].copy_from_slice(&self.counts);
        }
        self.counts = counts;
        self.offset = new_offset;
        // Far keys the window now covers move into it, so a key lives in one place only.
        if !self.far.is_empty() {
            let covered: Vec<(i32, u64)> = self
                .far
                .iter()
                .filter(|(k, _)| (new_lo..new_hi).contains(&i64::from(**k)))
                .map(|(k, c)| (*k, *c))
                .collect();
            for (k, c) in covered {
                self.far.remove(&k);
                self.counts[usize::try_from(i64::from(k) - new_lo).unwrap_or(0)] += c;
            }
        }
        true
    }

    /// The populated buckets, `(key, count)` in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        let dense = self.counts.iter().zip(self.offset..).filter(|(c, _)| **c > 0).map(|(c, k)| (k, *c));
        dense.chain(self.far.iter().filter(|(_, c)| **c > 0).map(|(k, c)| (*k, *c)))
    }

    /// How many buckets are populated.
    pub(super) fn populated(&self) -> usize {
        self.iter().count()
    }

    /// Takes the count of `key` out, leaving that bucket empty.
    pub(super) fn remove(&mut self, key: i32) -> u64 {
        let i = key.wrapping_sub(self.offset).cast_unsigned() as usize;
        match self.counts.get_mut(i) {
            Some(c) => std::mem::take(c),
            None => self.far.remove(&key).unwrap_or(0),
        }
    }

    /// Empties every bucket, keeping the window's room for the next observations.
    pub(super) fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.far.clear();
    }

    /// Re-keys every bucket one schema coarser: bucket `k` lies in bucket `ceil(k/2)`.
    pub(super) fn halve(&mut self) {
        let old: Vec<(i32, u64)> = self.iter().collect();
        let half = |k: i32| (k + 1).div_euclid(2);
        // The window's own range halves too, so its room keeps covering the same values.
        let len = self.counts.len();
        self.counts.clear();
        self.far.clear();
        if len > 0 {
            let lo = half(self.offset);
            let hi = half(self.offset + i32::try_from(len).unwrap_or(i32::MAX) - 1);
            self.offset = lo;
            self.counts.resize(usize::try_from(hi - lo + 1).unwrap_or(1), 0);
        }
        for (k, c) in old {
            self.add(half(k), c);
        }
    }

    /// Heap bytes held.
    #[cfg(test)]
    pub(super) fn heap_bytes(&self) -> usize {
        self.counts.capacity() * 8 + self.far.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn sorted(w: &Window) -> Vec<(i32, u64)> {
        let mut v: Vec<_> = w.iter().collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn grows_both_ways_and_reports_new_buckets() {
        let mut w = Window::default();
        assert!(w.bump(10));
        assert!(!w.bump(10));
        assert!(w.bump(-30));
        assert!(w.bump(200));
        assert_eq!(sorted(&w), vec![(-30, 1), (10, 2), (200, 1)]);
        assert!(w.far.is_empty());
        assert_eq!(w.populated(), 3);
    }

    #[test]
    fn keys_beyond_the_span_go_far_and_come_back_when_covered() {
        let mut w = Window::default();
        w.bump(0);
        let far = 10 * MAX_SPAN as i32;
        assert!(w.bump(far));
        assert!(w.bump(-far));
        assert_eq!(w.far.len(), 2);
        assert!(w.counts.len() <= MAX_SPAN);
        assert_eq!(w.remove(far), 1);
        assert_eq!(sorted(&w), vec![(-far, 1), (0, 1)]);
    }

    #[test]
    fn growth_is_geometric() {
        let mut w = Window::default();
        let mut reallocations = 0;
        for k in 0..500 {
            let len = w.counts.len();
            w.bump(k);
            reallocations += usize::from(w.counts.len() != len);
        }
        assert!(reallocations <= 12, "{reallocations} reallocations for 500 keys");
    }

    #[test]
    fn halving_merges_neighbours() {
        let mut w = Window::default();
        for k in [-3, -2, -1, 0, 1, 2, 3, 4] {
            w.bump(k);
        }
        w.halve();
        assert_eq!(sorted(&w), vec![(-1, 2), (0, 2), (1, 2), (2, 2)]);
    }

    proptest! {
        /// Whatever the order and spread of keys, the window counts what a map counts.
        #[test]
        fn counts_like_a_map(keys in prop::collection::vec(prop_oneof![-50i32..50, -300_000i32..300_000], 1..200)) {
            let mut w = Window::default();
            let mut m = BTreeMap::new();
            for k in keys {
                let c = m.entry(k).or_insert(0u64);
                *c += 1;
                prop_assert_eq!(w.bump(k), *c == 1);
            }
            prop_assert_eq!(sorted(&w), m.into_iter().collect::<Vec<_>>());
            prop_assert!(w.counts.len() <= MAX_SPAN);
            for (k, _) in &w.far {
                let i = k.wrapping_sub(w.offset).cast_unsigned() as usize;
                prop_assert!(i >= w.counts.len(), "far key {} inside the window", k);
            }
        }
    }
}
