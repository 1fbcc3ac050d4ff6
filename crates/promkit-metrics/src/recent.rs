//! Each thread's recently resolved handles, in front of the recorder's shared handle maps.
//!
//! A macro call resolves its key on every call (`counter!(..)` asks the recorder for a handle
//! each time). The shared maps take a read lock per lookup: two atomic read-modify-writes on a
//! lock word every thread shares, a third of a hit's time on a 2-core host. A thread's own
//! small direct-mapped table answers repeated keys with no lock, no atomic beyond the handle's
//! reference count, and no allocation.
//!
//! Entries are tagged with the id of the handle map they came from (ids are never reused,
//! unlike addresses), so a thread that records into several recorders never takes one
//! recorder's handle for another's. The maps never drop a handle, so an entry never goes
//! stale; a dropped recorder's entries only hold its handles until they are displaced or the
//! thread ends (at most [`SLOTS`] per handle kind per thread).

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::LocalKey;

use metrics::Key;

use crate::handles::{CounterHandle, GaugeHandle, HistogramHandle};

/// Entries per thread and handle kind: a power of two, indexed by the key's hash.
const SLOTS: usize = 32;

/// A new handle map's id.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // Relaxed: only uniqueness matters, which the read-modify-write gives in any order.
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One thread's recent keys of one handle kind.
pub(crate) struct Recent<H> {
    slots: [Option<Slot<H>>; SLOTS],
}

struct Slot<H> {
    map: u64,
    key: Key,
    handle: Option<Arc<H>>,
}

impl<H> Recent<H> {
    const fn new() -> Self {
        Self { slots: [const { None }; SLOTS] }
    }
}

/// The thread-local table of a handle kind.
pub(crate) trait Local: Sized + 'static {
    fn recent() -> &'static LocalKey<RefCell<Recent<Self>>>;
}

macro_rules! local {
    ($($handle:ty => $name:ident),*) => {$(
        thread_local! {
            static $name: RefCell<Recent<$handle>> = const { RefCell::new(Recent::new()) };
        }
        impl Local for $handle {
            fn recent() -> &'static LocalKey<RefCell<Recent<Self>>> {
                &$name
            }
        }
    )*};
}

local!(CounterHandle => COUNTERS, GaugeHandle => GAUGES, HistogramHandle => HISTOGRAMS);

#[inline]
fn index(key: &Key) -> usize {
    // The hash's low bits (metrics' rapidhash mixes every bit).
    #[allow(clippy::cast_possible_truncation)] // only the low bits are wanted
    let low = key.get_hash() as usize;
    low & (SLOTS - 1)
}

/// The handle this thread resolved for `key` in map `map`, if it is still in its table
/// (`Some(None)` is a cached refusal).
#[inline]
pub(crate) fn get<H: Local>(map: u64, key: &Key) -> Option<Option<Arc<H>>> {
    H::recent()
        .try_with(|r| {
            // A failed borrow is a lookup from inside another (a recorder called back into
            // while it resolves): answered by the shared map instead.
            let r = r.try_borrow().ok()?;
            let slot = r.slots[index(key)].as_ref()?;
            (slot.map == map && slot.key.get_hash() == key.get_hash() && slot.key == *key)
                .then(|| slot.handle.clone())
        })
        .ok()
        .flatten()
}

/// Remembers `handle` for `key` in map `map`, displacing whatever shared its slot.
pub(crate) fn put<H: Local>(map: u64, key: &Key, handle: &Option<Arc<H>>) {
    let _ = H::recent().try_with(|r| {
        if let Ok(mut r) = r.try_borrow_mut() {
            r.slots[index(key)] = Some(Slot { map, key: key.clone(), handle: handle.clone() });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Label;

    fn counter() -> Option<Arc<CounterHandle>> {
        Some(Arc::new(CounterHandle(promkit::Counter::default())))
    }

    #[test]
    fn a_key_is_found_only_in_the_map_it_was_put_for() {
        let (a, b) = (next_id(), next_id());
        assert_ne!(a, b);
        let key = Key::from_parts("req_total", vec![Label::new("method", "GET")]);
        assert!(get::<CounterHandle>(a, &key).is_none());
        let handle = counter();
        put(a, &key, &handle);
        let hit = get::<CounterHandle>(a, &key).expect("a hit").expect("a handle");
        assert!(Arc::ptr_eq(&hit, handle.as_ref().unwrap()));
        assert!(get::<CounterHandle>(b, &key).is_none(), "another map's lookup misses");
        let other = Key::from_parts("req_total", vec![Label::new("method", "PUT")]);
        assert!(get::<CounterHandle>(a, &other).is_none(), "another key misses");
        // A cached refusal is a hit too.
        put::<CounterHandle>(b, &key, &None);
        assert!(matches!(get::<CounterHandle>(b, &key), Some(None)));
        // Other threads have tables of their own.
        std::thread::scope(|s| {
            s.spawn(|| assert!(get::<CounterHandle>(a, &key).is_none()));
        });
    }

    #[test]
    fn keys_in_one_slot_displace_each_other() {
        let map = next_id();
        let keys: Vec<Key> = (0..SLOTS * 8).map(|i| Key::from_parts(format!("k{i}"), vec![])).collect();
        let first = &keys[0];
        let twin = keys[1..].iter().find(|k| index(k) == index(first)).expect("two keys share a slot");
        put(map, first, &counter());
        put(map, twin, &counter());
        assert!(get::<CounterHandle>(map, first).is_none());
        assert!(get::<CounterHandle>(map, twin).is_some());
    }
}
