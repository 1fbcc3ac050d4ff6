//! `Entries`: a store's series by slab position, their key references beside their metrics.
//!
//! A pair of a 5-byte [`KeyRef`] and an 8-byte metric handle would be padded to 16 bytes;
//! kept in two slabs side by side they take 13, three bytes less per series.

use super::keys::KeyRef;
use super::slab::Slab;

/// The series at each slab position, or none at a free one.
#[derive(Debug)]
pub(super) struct Entries<M> {
    keys: Slab<KeyRef>,
    metrics: Slab<Option<M>>,
}

/// One filled position: where its key is and its metric.
#[derive(Debug)]
pub(super) struct Entry<'a, M> {
    pub(super) key: KeyRef,
    pub(super) metric: &'a M,
}

impl<M> Entries<M> {
    pub(super) fn new() -> Self {
        Self { keys: Slab::new(), metrics: Slab::new() }
    }

    /// The number of positions in use (filled or not).
    pub(super) fn len(&self) -> usize {
        self.metrics.len()
    }

    /// The series at `p`, if the position is filled.
    #[inline]
    pub(super) fn get(&self, p: u32) -> Option<Entry<'_, M>> {
        let p = p as usize;
        self.metrics[p].as_ref().map(|metric| Entry { key: self.keys[p], metric })
    }

    /// Empties position `p`, returning what it held.
    pub(super) fn take(&mut self, p: u32) -> Option<(KeyRef, M)> {
        let p = p as usize;
        self.metrics[p].take().map(|m| (std::mem::replace(&mut self.keys[p], KeyRef::NONE), m))
    }

    /// Fills the free position `p`.
    pub(super) fn set(&mut self, p: u32, key: KeyRef, metric: M) {
        let p = p as usize;
        self.keys[p] = key;
        self.metrics[p] = Some(metric);
    }

    /// Fills a new position at the end; its number.
    pub(super) fn push(&mut self, key: KeyRef, metric: M) -> u32 {
        self.keys.push(key);
        self.metrics.push(Some(metric));
        // A store never holds 2^32 positions: the hash table keeps them as `u32`s.
        u32::try_from(self.len() - 1).unwrap_or(u32::MAX)
    }

    /// Every position in order, with its series if it is filled.
    pub(super) fn iter(&self) -> impl Iterator<Item = Option<Entry<'_, M>>> {
        self.keys
            .iter()
            .zip(self.metrics.iter())
            .map(|(&key, m)| m.as_ref().map(|metric| Entry { key, metric }))
    }

    /// The key reference of every filled position, to update in place.
    pub(super) fn keys_mut(&mut self) -> impl Iterator<Item = &mut KeyRef> {
        self.keys.iter_mut().zip(self.metrics.iter()).filter(|(_, m)| m.is_some()).map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::{Entries, KeyRef};
    use crate::metrics::keys::Keys;

    #[test]
    fn positions_keep_their_key_and_metric_through_take_and_set() {
        let mut keys = Keys::new();
        let mut entries = Entries::new();
        let refs: Vec<KeyRef> = (0..3000).map(|i| keys.push(&format!("k{i}"))).collect();
        for (i, r) in refs.iter().enumerate() {
            assert_eq!(entries.push(*r, i), i as u32);
        }
        assert_eq!(entries.take(1500), Some((refs[1500], 1500)));
        assert!(entries.get(1500).is_none());
        assert_eq!(entries.take(1500), None, "an empty position stays empty");
        let e = entries.get(2999).expect("filled");
        assert_eq!((keys.get(e.key), *e.metric), ("k2999", 2999));
        assert_eq!(entries.iter().flatten().count(), 2999);
        assert_eq!(entries.keys_mut().count(), 2999, "only filled positions' keys are handed out");
        entries.set(1500, refs[0], 7);
        let e = entries.get(1500).expect("refilled");
        assert_eq!((keys.get(e.key), *e.metric), ("k0", 7));
        assert_eq!(std::mem::size_of::<KeyRef>(), 5);
    }
}
