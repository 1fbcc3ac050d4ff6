//! The series store behind every family: labelled series indexed by their escaped label values.
//!
//! A series' key is its label values, escaped for the exposition formats, in label-name order
//! and joined by newlines (which an escaped value never contains raw: a newline is escaped to
//! `\n`). Keys are hashed and compared
//! as bytes, so a lookup builds the key in a reused thread-local buffer and allocates nothing on
//! a hit; and a scrape copies each key between the pre-rendered label names instead of escaping
//! every value again. Series live in a slab indexed by a hash table of slab positions, so the
//! scrape order (sorted as Go sorts: by label values) can be cached as positions and reused
//! until a series is added or removed.
//!
//! In front of the table sits a small per-thread cache of recent lookups (one per store and
//! thread): a hit hashes the raw values, compares them in place with the cached copy and uses
//! the cached handle, touching no lock and no shared cache line that anything writes. Removals
//! bump the store's epoch, and a cache whose epoch is stale is emptied before it is read, so a
//! removed series is never handed out again.
//!
//! A [`SeriesRef`] borrows a cached handle instead of cloning it. While any guard from a thread
//! is alive, that thread's cache is only read: no slot is filled, reset or dropped (a miss or a
//! stale cache gets an owned clone instead), so each guard's pointer stays valid.

use std::cell::{Ref, RefCell};
use std::cmp::Ordering as CmpOrdering;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering;
use std::sync::{PoisonError, RwLock};

use crossbeam_utils::CachePadded;
use hashbrown::HashTable;

use super::entries::{Entries, Entry};
use super::keys::Keys;
use thread_local::ThreadLocal;

use crate::model::{Desc, FamilyHeader, LabelTemplate, Labels, Sink, StoredSample};
use crate::sync::{AtomicU64, AtomicUsize, Mutex, lock};
use crate::syntax::escape::{unescape_label_value, write_label_value};

use super::Metric;
use super::builder::WhenEmpty;
use super::series_ref::SeriesRef;

/// How many series [`Store::collect`] hands to the sink in one run: enough to make the call
/// and the encoder's setup negligible, few enough for the stack (40 bytes each).
const RUN: usize = 64;

/// The label value every label of the overflow series carries once a family's series limit is
/// reached.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

#[derive(Debug)]
pub(crate) struct Store<M: Metric> {
    pub(crate) desc: Desc,
    /// Sorted position → declared index.
    sorted: Box<[usize]>,
    template: LabelTemplate,
    pub(crate) options: M::Options,
    limit: Option<usize>,
    when_empty: WhenEmpty,
    overflowed: AtomicU64,
    hasher: foldhash::fast::RandomState,
    inner: RwLock<Inner<M>>,
    order: Mutex<OrderCache>,
    /// Bumped (under the write lock) by every removal. Padded: hits read it on every lookup,
    /// and it must not share a line with the lock word that misses and inserts write.
    epoch: CachePadded<std::sync::atomic::AtomicU64>,
    /// Each thread's recent lookups in this store. Padded: each thread writes its own.
    cache: ThreadLocal<CachePadded<Local<M>>>,
}

/// One thread's lookup cache in one store, and how many [`SeriesRef`]s borrow from it.
#[derive(Debug)]
struct Local<M> {
    /// Live guards borrowing a handle in `cache`. While non-zero the cache is only read (a
    /// shared borrow): no slot is filled, reset or dropped, so every guard's pointer stays
    /// valid. A lookup that would modify it returns an owned clone instead. Atomic only for
    /// a guard dropped by a thread-local destructor after its thread gave the entry back
    /// (see `SeriesRef`'s `Drop`); otherwise only the owning thread touches it.
    pins: AtomicUsize,
    /// The [`thread_token`] of the thread using this entry. The `thread_local` crate hands an
    /// exited thread's entry to the next new thread, possibly while the old thread's
    /// thread-local destructors still drop guards; the new thread takes the entry over only
    /// once it reads `pins` as zero, and until then neither reads nor writes the cache.
    owner: AtomicUsize,
    cache: RefCell<Cache<M>>,
}

impl<M> Local<M> {
    fn new(owner: usize, epoch: u64) -> Self {
        Self {
            pins: AtomicUsize::new(0),
            owner: AtomicUsize::new(owner),
            cache: RefCell::new(Cache::new(epoch)),
        }
    }

    /// Whether the thread with token `me` may use this entry: it is its owner, or it takes the
    /// entry over from an exited thread none of whose guards is alive any more.
    #[inline]
    fn claim(&self, me: usize) -> bool {
        // Relaxed: `owner` is only ever compared with the reader's own token; the ordering
        // with the old owner's guards comes from `pins` (Acquire in `take_over`, Release in
        // their drop) and, for its other accesses, from the `thread_local` crate's hand-over
        // lock.
        self.owner.load(Ordering::Relaxed) == me || self.take_over(me)
    }

    /// Whether no guard borrows from the cache, so the slots may be filled, reset or dropped.
    #[inline]
    fn unpinned(&self) -> bool {
        // Acquire: pairs with a guard's Release unpin, so its reads of a slot happen-before
        // the caller modifies the slots.
        self.pins.load(Ordering::Acquire) == 0
    }

    /// Takes over the entry of an exited thread once none of its guards is alive.
    #[cold]
    #[inline(never)]
    fn take_over(&self, me: usize) -> bool {
        // `unpinned`'s Acquire pairs with the old owner's last guard drop (Release), so its
        // reads of the slots happen-before this thread modifies them.
        if !self.unpinned() {
            return false;
        }
        self.owner.store(me, Ordering::Relaxed);
        true
    }
}

/// How many recent lookups a thread remembers per store: enough for the handful of label
/// combinations a request handler touches, small enough that a linear scan of the hashes is a
/// few compares.
const CACHE_SLOTS: usize = 8;

/// One thread's recent lookups in one store.
#[derive(Debug)]
struct Cache<M> {
    /// The store's epoch when these slots were filled; a different epoch empties them.
    epoch: u64,
    /// The next slot to overwrite (round robin).
    next: usize,
    slots: [Slot<M>; CACHE_SLOTS],
}

#[derive(Debug)]
struct Slot<M> {
    /// The values' [`fingerprint`].
    fp: u64,
    /// The raw values in declared order, each followed by a 0xff byte.
    /// Reused: it grows to the longest key seen and then allocates no more.
    raw: Vec<u8>,
    metric: Option<M>,
}

impl<M> Cache<M> {
    fn new(epoch: u64) -> Self {
        Self { epoch, next: 0, slots: std::array::from_fn(|_| Slot { fp: 0, raw: Vec::new(), metric: None }) }
    }

    /// Drops every cached handle (a removal happened since they were cached).
    #[cold]
    fn reset(&mut self, epoch: u64) {
        for slot in &mut self.slots {
            slot.metric = None;
        }
        self.epoch = epoch;
        self.next = 0;
    }
}

#[derive(Debug)]
struct Inner<M> {
    table: HashTable<u32>,
    slab: Entries<M>,
    /// Every entry's key bytes.
    keys: Keys,
    free: Vec<u32>,
    /// Bumped on every insert and removal; the scrape order is rebuilt when it changes.
    generation: u64,
    len: usize,
}

#[derive(Debug, Default)]
struct OrderCache {
    generation: u64,
    valid: bool,
    order: Vec<u32>,
}

thread_local! {
    static KEY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A number that tells the running threads apart: the address of a thread-local byte (which no
/// other running thread shares; a thread started after one exited may get the same address,
/// and then it is that thread's heir, which is what the lookup cache's `owner` asks).
#[inline]
fn thread_token() -> usize {
    thread_local! {
        static TOKEN: u8 = const { 0 };
    }
    TOKEN.with(|t| std::ptr::from_ref(t).addr())
}

impl<M: Metric> Store<M> {
    pub(crate) fn new(desc: Desc, options: M::Options, limit: Option<usize>, when_empty: WhenEmpty) -> Self {
        let mut sorted: Vec<usize> = (0..desc.label_names.len()).collect();
        sorted.sort_by(|&a, &b| desc.label_names[a].cmp(&desc.label_names[b]));
        let vars: Vec<&str> = sorted.iter().map(|&i| desc.label_names[i].as_str()).collect();
        let template = LabelTemplate::new(&vars, &desc.const_labels);
        Self {
            sorted: sorted.into_boxed_slice(),
            template,
            options,
            limit,
            when_empty,
            overflowed: AtomicU64::new(0),
            hasher: foldhash::fast::RandomState::default(),
            inner: RwLock::new(Inner {
                table: HashTable::new(),
                slab: Entries::new(),
                keys: Keys::new(),
                free: Vec::new(),
                generation: 0,
                len: 0,
            }),
            order: Mutex::new(OrderCache::default()),
            epoch: CachePadded::new(std::sync::atomic::AtomicU64::new(0)),
            cache: ThreadLocal::new(),
            desc,
        }
    }

    pub(crate) fn arity(&self) -> usize {
        self.sorted.len()
    }

    /// Builds the key of the values `value(i)` (declared order) in the thread's key buffer and
    /// runs `f` on it.
    #[inline]
    pub(crate) fn with_key<R>(
        &self,
        value: &mut dyn FnMut(usize, &mut Vec<u8>),
        f: impl FnOnce(&[u8]) -> R,
    ) -> R {
        KEY.with(|cell| {
            // A nested lookup (a metric created while building another's key) cannot happen:
            // values are written before `f` runs and `f` does not call back into user code
            // while the buffer is borrowed, but fall back to a fresh buffer rather than panic.
            match cell.try_borrow_mut() {
                Ok(mut buf) => {
                    buf.clear();
                    self.fill_key(&mut buf, value);
                    f(&buf)
                }
                Err(_) => {
                    let mut buf = Vec::new();
                    self.fill_key(&mut buf, value);
                    f(&buf)
                }
            }
        })
    }

    fn fill_key(&self, buf: &mut Vec<u8>, value: &mut dyn FnMut(usize, &mut Vec<u8>)) {
        for (k, &i) in self.sorted.iter().enumerate() {
            if k > 0 {
                buf.push(b'\n');
            }
            value(i, buf);
        }
    }

    /// Key for plain string values in declared order.
    #[inline]
    pub(crate) fn with_str_key<R>(&self, values: &[&str], f: impl FnOnce(&[u8]) -> R) -> R {
        self.with_key(&mut |i, buf| write_label_value(buf, values[i]), f)
    }

    /// The hash of a series: its unescaped values in label-name order, each followed by a
    /// 0xff byte (which UTF-8 never contains). Hashing values rather than the escaped key lets a
    /// lookup hash its raw input without escaping or copying it.
    fn hash_key(&self, key: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        if !self.sorted.is_empty() {
            for seg in key.split(|&b| b == b'\n') {
                if seg.contains(&b'\\') {
                    let seg = std::str::from_utf8(seg).unwrap_or_default();
                    h.write(unescape_label_value(seg).as_bytes());
                } else {
                    h.write(seg);
                }
                h.write_u8(0xff);
            }
        }
        h.finish()
    }

    /// The same hash from raw values (`get` maps a declared label index to its value).
    #[inline]
    fn hash_raw<'v>(&self, get: &impl Fn(usize) -> &'v str) -> u64 {
        let mut h = self.hasher.build_hasher();
        for &i in self.sorted.iter() {
            h.write(get(i).as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// Whether a stored key holds exactly these raw values. A segment without a backslash is
    /// compared as bytes; only a value that needed escaping is unescaped to compare.
    #[inline]
    fn key_matches<'v>(&self, key: &str, get: &impl Fn(usize) -> &'v str) -> bool {
        if self.sorted.is_empty() {
            return key.is_empty();
        }
        let mut rest = key.as_bytes();
        for (n, &i) in self.sorted.iter().enumerate() {
            let end = if n + 1 == self.sorted.len() {
                rest.len()
            } else {
                match rest.iter().position(|&b| b == b'\n') {
                    Some(p) => p,
                    None => return false,
                }
            };
            let (seg, raw) = (&rest[..end], get(i).as_bytes());
            // An escaped segment is longer than its raw value, so equal lengths compare directly.
            let same = if seg.len() == raw.len() {
                bytes_eq(seg, raw)
            } else {
                seg.contains(&b'\\')
                    && unescape_label_value(std::str::from_utf8(seg).unwrap_or_default()).as_bytes() == raw
            };
            if !same {
                return false;
            }
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        true
    }

    /// Runs `f` on the series with these raw values (`get` maps a declared label index to its
    /// value), created if it does not exist. A hit in this thread's cache takes no lock, clones
    /// no handle and allocates nothing; a miss looks in the table (creating the series if
    /// needed) and caches the handle.
    #[inline(always)]
    pub(crate) fn with_series<'v, R>(&self, get: &impl Fn(usize) -> &'v str, f: impl FnOnce(&M) -> R) -> R {
        let fp = fingerprint(self.sorted.len(), get);
        // Acquire, read before any table lookup this call makes: pairs with the Release bump
        // of a removal. Reading epoch E means every removal that bumped to E happens-before the
        // rest of this call, so (a) slots filled at epoch E were filled from a table lookup that
        // itself started after reading E, hence hold no series removed at or before E; and (b) a
        // table lookup below that follows this read sees those removals too, so the handle it
        // caches under E is not one they removed. A removal that bumps to E+1 later makes this
        // thread's next lookup (which reads E+1) empty the cache. A lookup that starts after
        // `remove` returned (ordered by any synchronisation) reads E+1 or later by coherence.
        let epoch = self.epoch.load(Ordering::Acquire);
        // The hit: `f` runs on the cached handle under a shared borrow of the cache, so `f` may
        // look this store up again (a nested hit reads the cache too; a nested miss finds it
        // borrowed and takes the uncached path).
        if let Some(local) = self.local_if_present()
            && let Some((cache, pos)) = self.hit(local, epoch, fp, get)
            && let Some(metric) = &cache.slots[pos].metric
        {
            return f(metric);
        }
        self.with_series_missed(epoch, fp, get, f)
    }

    /// [`with_series`](Self::with_series) past its hit: fills the cache (no guard borrowing
    /// from it, a current or stale cache), or takes the uncached path.
    #[cold]
    #[inline(never)]
    fn with_series_missed<'v, R>(
        &self,
        epoch: u64,
        fp: u64,
        get: &impl Fn(usize) -> &'v str,
        f: impl FnOnce(&M) -> R,
    ) -> R {
        let Some(local) = self.local(epoch) else {
            return f(&self.lookup(self.hash_raw(get), get).0);
        };
        // Guards borrow from the cache, so no slot may be filled, and the hit path found
        // nothing to read: an owned clone.
        if !local.unpinned() {
            return f(&self.lookup(self.hash_raw(get), get).0);
        }
        // Borrowed while `f` runs: `f` may look up this store again (a nested call), which
        // then finds the cache busy and takes the uncached path instead of panicking.
        let Ok(mut cache) = local.cache.try_borrow_mut() else {
            return f(&self.lookup(self.hash_raw(get), get).0);
        };
        match self.slot(&mut cache, epoch, fp, get) {
            Ok(pos) => match &cache.slots[pos].metric {
                Some(m) => f(m),
                None => f(&self.lookup(self.hash_raw(get), get).0),
            },
            Err(overflow) => f(&overflow),
        }
    }

    /// This thread's cache entry, or `None` while guards of the thread that used it before
    /// (and exited) are still alive.
    #[inline]
    fn local(&self, epoch: u64) -> Option<&Local<M>> {
        let me = thread_token();
        let local = self.cache.get_or(|| CachePadded::new(Local::new(me, epoch)));
        local.claim(me).then_some(&**local)
    }

    /// This thread's cache entry if it has one (the hit path: no closure, no creation).
    #[inline(always)]
    fn local_if_present(&self) -> Option<&Local<M>> {
        let local = self.cache.get()?;
        local.claim(thread_token()).then_some(&**local)
    }

    /// The cache slot holding these values' handle, if this thread's cache is current and
    /// holds it, with the cache borrowed.
    ///
    /// A hit only reads the cache (a shared borrow of its cell), so unlike a fill it needs no
    /// check of the guards borrowing from it: they read the same slots and nothing writes them
    /// while this borrow or any guard is alive. `None` for a miss, a stale epoch (the cache is
    /// emptied by the miss path) or a cache mutably borrowed (a fill in progress further up
    /// this thread's stack).
    #[inline(always)]
    fn hit<'s, 'v>(
        &self,
        local: &'s Local<M>,
        epoch: u64,
        fp: u64,
        get: &impl Fn(usize) -> &'v str,
    ) -> Option<(Ref<'s, Cache<M>>, usize)> {
        let cache = local.cache.try_borrow().ok()?;
        if cache.epoch != epoch {
            return None;
        }
        let n = self.sorted.len();
        // A plain loop, not `position`: this is inlined into the caller's loop, where the
        // iterator adaptor was left out of line and returned its answer through memory.
        for pos in 0..CACHE_SLOTS {
            let s = &cache.slots[pos];
            if s.fp == fp && s.metric.is_some() && raw_matches(&s.raw, n, get) {
                return Some((cache, pos));
            }
        }
        None
    }

    /// The slot holding these values' handle (filled on a miss), with the cache emptied first
    /// if `epoch` is newer than its own; the overflow series (uncached) as `Err`.
    #[inline]
    fn slot<'v>(
        &self,
        cache: &mut Cache<M>,
        epoch: u64,
        fp: u64,
        get: &impl Fn(usize) -> &'v str,
    ) -> Result<usize, M> {
        if cache.epoch != epoch {
            cache.reset(epoch);
        }
        let n = self.sorted.len();
        let hit =
            cache.slots.iter().position(|s| s.fp == fp && s.metric.is_some() && raw_matches(&s.raw, n, get));
        match hit {
            Some(pos) => Ok(pos),
            None => self.fill(cache, fp, get),
        }
    }

    /// The series with these raw values, created if it does not exist, borrowed from this
    /// thread's cache: a hit takes no lock, allocates nothing and moves no reference count.
    #[inline(always)]
    #[allow(unsafe_code)] // Justified at the block.
    pub(crate) fn series_ref<'v>(&self, get: &impl Fn(usize) -> &'v str) -> SeriesRef<'_, M> {
        let fp = fingerprint(self.sorted.len(), get);
        // Acquire: as in `with_series`.
        let epoch = self.epoch.load(Ordering::Acquire);
        if let Some(local) = self.local_if_present()
            && let Some((cache, pos)) = self.hit(local, epoch, fp, get)
            && let Some(metric) = &cache.slots[pos].metric
        {
            let metric = std::ptr::NonNull::from(metric);
            drop(cache);
            // The shared borrow ends here; the guard's count in `pins` takes over from it
            // before anything could modify the slot (only this thread does, and only after
            // reading `pins` as zero).
            if SeriesRef::<M>::pin(&local.pins) {
                // SAFETY: as in `series_ref_missed`: the slot lives as long as the store and
                // is not modified while `pins` is non-zero; it was just read under a shared
                // borrow, so no modification was in progress either.
                return unsafe { SeriesRef::pinned(metric, &local.pins) };
            }
        }
        self.series_ref_missed(epoch, fp, get)
    }

    /// [`series_ref`](Self::series_ref) past its hit: fills the cache and pins the slot, or
    /// returns an owned clone.
    #[cold]
    #[inline(never)]
    #[allow(unsafe_code)] // Justified at each block.
    fn series_ref_missed<'v>(
        &self,
        epoch: u64,
        fp: u64,
        get: &impl Fn(usize) -> &'v str,
    ) -> SeriesRef<'_, M> {
        let Some(local) = self.local(epoch) else {
            return SeriesRef::owned(self.lookup(self.hash_raw(get), get).0);
        };
        // As in `with_series_missed`: no fill while guards borrow from the cache.
        if !local.unpinned() {
            return SeriesRef::owned(self.lookup(self.hash_raw(get), get).0);
        }
        let Ok(mut cache) = local.cache.try_borrow_mut() else {
            // Inside `with_series`' closure: the cache is being read; own a clone.
            return SeriesRef::owned(self.lookup(self.hash_raw(get), get).0);
        };
        let pos = match self.slot(&mut cache, epoch, fp, get) {
            Ok(pos) => pos,
            Err(overflow) => return SeriesRef::owned(overflow),
        };
        let Some(metric) = cache.slots[pos].metric.as_ref() else {
            return SeriesRef::owned(self.lookup(self.hash_raw(get), get).0);
        };
        let metric = std::ptr::NonNull::from(metric);
        drop(cache);
        if !SeriesRef::<M>::pin(&local.pins) {
            // SAFETY: the pointer came from the cache just now and nothing has modified it.
            return SeriesRef::owned(unsafe { metric.as_ref() }.clone());
        }
        // SAFETY: `metric` points into this thread's cache entry, which lives as long as the
        // store (`ThreadLocal` keeps entries until it is dropped, and never moves them), and
        // so for the guard's lifetime (it borrows the family, which owns the store). The slot
        // is not modified while `pins` is non-zero: every path that fills, resets or drops a
        // slot (the miss paths of `with_series` and `series_ref`) first reads `pins` as zero
        // with Acquire, and with a guard alive it reads at least one: its own increment, in
        // program order; and a thread inheriting the entry does not touch it until it reads
        // zero (`take_over`).
        unsafe { SeriesRef::pinned(metric, &local.pins) }
    }

    /// Looks the values up in the table and caches the handle in the next slot; its position.
    /// The overflow series is returned uncached (`Err`): every lookup that finds the limit
    /// reached must count in [`overflowed`](Self::overflowed), and a later removal may make
    /// room for these values.
    #[cold]
    #[inline(never)]
    fn fill<'v>(&self, cache: &mut Cache<M>, fp: u64, get: &impl Fn(usize) -> &'v str) -> Result<usize, M> {
        let (metric, overflowed) = self.lookup(self.hash_raw(get), get);
        if overflowed {
            return Err(metric);
        }
        let pos = cache.next;
        cache.next = (pos + 1) % CACHE_SLOTS;
        let slot = &mut cache.slots[pos];
        slot.fp = fp;
        slot.raw.clear();
        for i in 0..self.sorted.len() {
            slot.raw.extend_from_slice(get(i).as_bytes());
            slot.raw.push(0xff);
        }
        slot.metric = Some(metric);
        Ok(pos)
    }

    /// The table lookup behind the cache: hashes and compares the input in place (no escaping,
    /// no copy, no allocation on a hit); creates the series on a miss. True with the overflow
    /// series (the limit was reached).
    fn lookup<'v>(&self, hash: u64, get: &impl Fn(usize) -> &'v str) -> (M, bool) {
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            let (slab, keys) = (&inner.slab, &inner.keys);
            let found = inner
                .table
                .find(hash, |&p| slab.get(p).is_some_and(|e| self.key_matches(keys.get(e.key), get)));
            if let Some(e) = found.and_then(|&p| slab.get(p)) {
                return (e.metric.clone(), false);
            }
        }
        let mut key = Vec::new();
        self.fill_key(&mut key, &mut |i, buf| write_label_value(buf, get(i)));
        self.insert_counted(hash, &key)
    }

    /// The series with these raw values if it exists; never creates one.
    pub(crate) fn get_existing_raw<'v>(&self, get: &impl Fn(usize) -> &'v str) -> Option<M> {
        let hash = self.hash_raw(get);
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let (slab, keys) = (&inner.slab, &inner.keys);
        let found =
            inner.table.find(hash, |&p| slab.get(p).is_some_and(|e| self.key_matches(keys.get(e.key), get)));
        found.and_then(|&p| slab.get(p)).map(|e| e.metric.clone())
    }

    /// The series with this key if it exists; never creates one.
    pub(crate) fn get_existing(&self, key: &[u8]) -> Option<M> {
        let hash = self.hash_key(key);
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.find(hash, key).map(|e| e.metric.clone())
    }

    /// The series with this key, created if it does not exist (or the overflow series when the
    /// limit is reached).
    #[inline]
    pub(crate) fn get_or_create(&self, key: &[u8]) -> M {
        let hash = self.hash_key(key);
        {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(m) = inner.find(hash, key) {
                return m.metric.clone();
            }
        }
        self.insert(hash, key)
    }

    #[cold]
    fn insert(&self, hash: u64, key: &[u8]) -> M {
        self.insert_counted(hash, key).0
    }

    /// Creates the series with this key, or returns it if another thread just did; true with
    /// the overflow series.
    #[cold]
    fn insert_counted(&self, hash: u64, key: &[u8]) -> (M, bool) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = inner.find(hash, key) {
            return (m.metric.clone(), false);
        }
        if self.limit.is_some_and(|limit| inner.len >= limit) {
            // Relaxed: a statistic, read at scrape time.
            self.overflowed.fetch_add(1, Ordering::Relaxed);
            drop(inner);
            let overflow = self.overflow_key();
            let hash = self.hash_key(overflow.as_bytes());
            let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(m) = inner.find(hash, overflow.as_bytes()) {
                return (m.metric.clone(), true);
            }
            return (self.insert_locked(&mut inner, hash, &overflow), true);
        }
        (self.insert_locked(&mut inner, hash, &String::from_utf8_lossy(key)), false)
    }

    fn insert_locked(&self, inner: &mut Inner<M>, hash: u64, key: &str) -> M {
        let metric = M::create(&self.options);
        self.insert_entry(inner, hash, key, metric.clone());
        metric
    }

    fn insert_entry(&self, inner: &mut Inner<M>, hash: u64, key: &str, metric: M) {
        if inner.table.len() == inner.table.capacity() {
            self.grow_table(inner);
        }
        let key = inner.keys.push(key);
        let pos = match inner.free.pop() {
            Some(pos) => {
                inner.slab.set(pos, key, metric);
                pos
            }
            None => inner.slab.push(key, metric),
        };
        let Inner { table, slab, keys, .. } = inner;
        table.insert_unique(hash, pos, |&p| self.hash_of(slab, keys, p));
        inner.len += 1;
        inner.generation += 1;
    }

    /// Exports `metric` under `key` unless a series with that key exists already.
    pub(crate) fn put(&self, key: &[u8], metric: M) {
        let hash = self.hash_key(key);
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.find(hash, key).is_some() {
            return;
        }
        self.insert_entry(&mut inner, hash, &String::from_utf8_lossy(key), metric);
    }

    /// Replaces a full table with one sized for one more series, before an insert would make
    /// the table grow itself. The table keeps positions, not hashes, so growing rehashes every
    /// key. The table's own growth does that in bucket order: a random read of a slab entry
    /// and then of its key for every series, which took a quarter of the time of creating
    /// series in bulk. Here the keys are hashed in slab order, which is the order they were
    /// stored in: both reads walk memory forwards.
    #[cold]
    #[inline(never)]
    fn grow_table(&self, inner: &mut Inner<M>) {
        let Inner { table, slab, keys, .. } = inner;
        // `len + 1` items need the next power of two of buckets above the full table's, as the
        // table's own growth would pick; after many removals it is a smaller table instead.
        let mut grown = HashTable::with_capacity(table.len() + 1);
        for (pos, entry) in slab.iter().enumerate() {
            if let Some(e) = entry {
                let hash = self.hash_key(keys.get(e.key).as_bytes());
                let pos = u32::try_from(pos).unwrap_or(u32::MAX);
                // Never grows: the capacity covers every entry.
                grown.insert_unique(hash, pos, |&p| self.hash_of(slab, keys, p));
            }
        }
        *table = grown;
    }

    fn hash_of(&self, slab: &Entries<M>, keys: &Keys, pos: u32) -> u64 {
        slab.get(pos).map_or(0, |e| self.hash_key(keys.get(e.key).as_bytes()))
    }

    fn overflow_key(&self) -> String {
        vec![OVERFLOW_LABEL_VALUE; self.arity()].join("\n")
    }

    /// Removes the series with this key; true if it existed.
    pub(crate) fn remove_key(&self, key: &[u8]) -> bool {
        let hash = self.hash_key(key);
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let Inner { table, slab, keys, .. } = &mut *inner;
        let Ok(found) =
            table.find_entry(hash, |&p| slab.get(p).is_some_and(|e| keys.get(e.key).as_bytes() == key))
        else {
            return false;
        };
        let (pos, _) = found.remove();
        if let Some((key, _)) = inner.slab.take(pos) {
            inner.keys.remove(key);
        }
        inner.free.push(pos);
        inner.compact_keys();
        inner.len -= 1;
        inner.generation += 1;
        self.bump_epoch();
        true
    }

    /// Removes every series for which `keep` is false; returns how many went.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&str) -> bool) -> usize {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let Inner { table, slab, free, keys, .. } = &mut *inner;
        let mut removed = 0;
        table.retain(|&mut p| {
            let keep = slab.get(p).is_some_and(|e| keep(keys.get(e.key)));
            if !keep {
                if let Some((key, _)) = slab.take(p) {
                    keys.remove(key);
                }
                free.push(p);
                removed += 1;
            }
            keep
        });
        inner.compact_keys();
        inner.len -= removed;
        if removed > 0 {
            inner.generation += 1;
            self.bump_epoch();
        }
        removed
    }

    /// Tells every thread's cache that series were removed. Called with the write lock held,
    /// after the table changed. Release: a lookup that reads the new epoch (Acquire) sees the
    /// removal, so it neither uses slots filled before it nor caches a removed handle. The
    /// increment needs no stronger ordering: writers are serialised by the lock.
    fn bump_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// The unescaped value of label `declared` (declared index) in a stored key.
    pub(crate) fn value_in_key<'k>(&self, key: &'k str, declared: usize) -> std::borrow::Cow<'k, str> {
        let k = self.sorted.iter().position(|&i| i == declared).unwrap_or(0);
        unescape_label_value(key.split('\n').nth(k).unwrap_or_default())
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(PoisonError::into_inner).len
    }

    pub(crate) fn overflowed(&self) -> u64 {
        self.overflowed.load(Ordering::Relaxed)
    }

    pub(crate) fn has_limit(&self) -> bool {
        self.limit.is_some()
    }

    /// Writes the family header and every series, in Go's order (sorted by label values). A
    /// family without series writes nothing unless it asked to be shown (Go leaves an empty
    /// vector out of the exposition).
    pub(crate) fn collect(&self, sink: &mut dyn Sink) {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        if inner.len == 0 && self.when_empty == WhenEmpty::Omit {
            return;
        }
        sink.family(&FamilyHeader {
            name: &self.desc.name,
            help: &self.desc.help,
            unit: &self.desc.unit,
            kind: M::KIND,
        });
        let mut order = lock(&self.order);
        if !order.valid || order.generation != inner.generation {
            order.order.clear();
            order.order.extend(
                inner
                    .slab
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.is_some())
                    .map(|(p, _)| u32::try_from(p).unwrap_or(0)),
            );
            order.order.sort_by(|&a, &b| {
                let key = |p: u32| inner.slab.get(p).map_or("", |e| inner.keys.get(e.key));
                compare_keys(key(a), key(b))
            });
            order.generation = inner.generation;
            order.valid = true;
        }
        // Series with nothing but a value go to the sink in runs (one call per run, not per
        // series); any other series ends the run and is written alone, so the order holds.
        let mut run = [StoredSample::EMPTY; RUN];
        let mut n = 0;
        for &p in &order.order {
            let Some(e) = inner.slab.get(p) else { continue };
            let (key, readable) = inner.keys.get_readable(e.key);
            if let Some((value, created)) = e.metric.plain_value() {
                run[n] = StoredSample { key, value, created, readable };
                n += 1;
                if n == RUN {
                    sink.stored_samples(&self.template, &run);
                    n = 0;
                }
            } else {
                if n > 0 {
                    sink.stored_samples(&self.template, &run[..n]);
                    n = 0;
                }
                e.metric.write(
                    &self.options,
                    &Labels::Stored { template: &self.template, values: key },
                    sink,
                );
            }
        }
        if n > 0 {
            sink.stored_samples(&self.template, &run[..n]);
        }
    }

    /// Calls `f` for every series (unordered), for tests and typed lookups.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, &M)) {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        for e in inner.slab.iter().flatten() {
            f(inner.keys.get(e.key), e.metric);
        }
    }
}

impl<M: Metric> crate::model::LimitStats for Store<M> {
    fn family(&self) -> &str {
        &self.desc.name
    }

    fn overflowed(&self) -> u64 {
        Store::overflowed(self)
    }
}

impl<M> Inner<M> {
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<Entry<'_, M>> {
        let (slab, keys) = (&self.slab, &self.keys);
        self.table
            .find(hash, |&p| slab.get(p).is_some_and(|e| keys.get(e.key).as_bytes() == key))
            .and_then(|&p| slab.get(p))
    }

    /// Rewrites the keys without the removed ones once those outweigh the live ones. Positions
    /// and the hash table are untouched: only the entries' key references change.
    fn compact_keys(&mut self) {
        if self.keys.wants_compaction() {
            let Self { slab, keys, .. } = self;
            keys.compact(slab.keys_mut());
        }
    }
}

/// Whether a cache slot's raw values (declared order, each followed by 0xff) are exactly the
/// `n` values `get(i)`.
#[inline(always)]
fn raw_matches<'v>(raw: &[u8], n: usize, get: &impl Fn(usize) -> &'v str) -> bool {
    let mut rest = raw;
    for i in 0..n {
        let v = get(i).as_bytes();
        // 0xff never occurs in UTF-8, so it ends a value unambiguously.
        match rest.get(v.len()) {
            Some(&0xff) if short_eq(&rest[..v.len()], v) => rest = &rest[v.len() + 1..],
            _ => return false,
        }
    }
    rest.is_empty()
}

/// A cheap 64-bit digest of `n` values `get(i)` (declared order) that picks the cache slot to
/// compare: one multiply per value over its length and first and last bytes (all of a value up
/// to 16 bytes). Unkeyed: a collision (values alike but for their middle bytes) costs only a
/// comparison among the few slots, never a wrong answer, since slots are compared in full.
#[inline(always)]
fn fingerprint<'v>(n: usize, get: &impl Fn(usize) -> &'v str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = n as u64;
    for i in 0..n {
        let v = get(i).as_bytes();
        let (head, tail) = head_tail(v);
        // Each value mixed on its own (its position folded in), then combined: the multiplies
        // of a key's values run in parallel instead of each waiting for the previous one.
        let x = u128::from(head ^ K ^ (i as u64).wrapping_mul(K))
            * u128::from(tail ^ (v.len() as u64).rotate_left(32) ^ K.rotate_left(17));
        h = h.rotate_left(23) ^ (x as u64) ^ ((x >> 64) as u64);
    }
    h
}

/// The first and last eight bytes of `v` (overlapping when shorter than 16; for fewer than
/// eight bytes, the first and last four, or three bytes spread over the value).
#[inline(always)]
fn head_tail(v: &[u8]) -> (u64, u64) {
    let n = v.len();
    let u64_at = |i: usize| u64::from_le_bytes(v[i..i + 8].try_into().unwrap_or_default());
    let u32_at = |i: usize| u64::from(u32::from_le_bytes(v[i..i + 4].try_into().unwrap_or_default()));
    if n >= 8 {
        (u64_at(0), u64_at(n - 8))
    } else if n >= 4 {
        (u32_at(0), u32_at(n - 4))
    } else if n > 0 {
        (u64::from(v[0]) << 16 | u64::from(v[n / 2]) << 8 | u64::from(v[n - 1]), 0)
    } else {
        (0, 0)
    }
}

/// Equality of two slices of equal length: for up to 16 bytes, [`head_tail`]'s overlapping
/// loads cover every byte (no loop, no call); [`bytes_eq`] beyond.
#[inline(always)]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() <= 16 { head_tail(a) == head_tail(b) } else { bytes_eq(a, b) }
}

/// Byte equality of two slices of equal length, inline: label values are short, and a call to
/// libc's `memcmp` costs more than comparing them eight bytes at a time here.
#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let (mut a, mut b) = (a, b);
    while a.len() >= 8 {
        let (x, y) = (
            u64::from_ne_bytes(a[..8].try_into().unwrap_or_default()),
            u64::from_ne_bytes(b[..8].try_into().unwrap_or_default()),
        );
        if x != y {
            return false;
        }
        a = &a[8..];
        b = &b[8..];
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

/// Go's series order: label values compared one by one, in label-name order, unescaped.
fn compare_keys(a: &str, b: &str) -> CmpOrdering {
    let (mut a, mut b) = (a.split('\n'), b.split('\n'));
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) => {
                let ord = if x.contains('\\') || y.contains('\\') {
                    unescape_label_value(x).cmp(&unescape_label_value(y))
                } else {
                    x.cmp(y)
                };
                if ord != CmpOrdering::Equal {
                    return ord;
                }
            }
            (None, None) => return CmpOrdering::Equal,
            (None, Some(_)) => return CmpOrdering::Less,
            (Some(_), None) => return CmpOrdering::Greater,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_byte_comparisons() {
        assert!(bytes_eq(b"", b""));
        assert!(bytes_eq(b"GET", b"GET"));
        assert!(!bytes_eq(b"GET", b"GEX"));
        assert!(bytes_eq(b"0123456789abcdef-x", b"0123456789abcdef-x"));
        assert!(!bytes_eq(b"0123456789abcdef-x", b"0123456789abcdeX-x"));
        assert!(!bytes_eq(b"0123456789abcdef-x", b"0123456789abcdef-y"));
    }

    #[test]
    fn growing_the_table_keeps_every_series_and_forgets_removed_ones() {
        let family = crate::Counter::builder("grown_total").help("Grown.").labels(["id"]).build().unwrap();
        let id = |i: u64| format!("id-{i}");
        let inc = |i: u64| family.with_label_values(&[&id(i)]).unwrap().inc_by(i);
        // Past several growths of the table, with removals (free slab positions, tombstones)
        // between them, so later growths hash around holes and reused positions.
        (0..3000).for_each(inc);
        for i in (0..3000).step_by(3) {
            assert!(family.remove(&[&id(i)]).unwrap(), "series {i} was there to remove");
        }
        (3000..9000).for_each(inc);
        assert_eq!(family.len(), 9000 - 1000);
        for i in 0..9000 {
            let expected = if i < 3000 && i % 3 == 0 { 0 } else { i };
            let got = family.with_series(&[&id(i)], |c| c.get()).unwrap();
            assert_eq!(got, expected, "series {i}");
        }
        assert_eq!(family.len(), 9000, "every removed series came back once, at zero");
    }

    use proptest::strategy::Strategy;

    /// One step of [`a_family_agrees_with_a_map_through_inserts_removals_and_compactions`].
    #[derive(Debug, Clone)]
    enum Op {
        Add(usize, u64),
        Remove(usize),
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Series added, bumped and removed at random, with label values short and long (past
        /// the one-byte key length, so spilled into boxes of their own), with characters that
        /// escape, and enough removals for the keys to be compacted: the family holds exactly
        /// what a map does, and its exposition lists exactly that.
        #[test]
        fn a_family_agrees_with_a_map_through_inserts_removals_and_compactions(
            ops in proptest::collection::vec(
                proptest::prop_oneof![
                    3 => (0..48usize, 1..5u64).prop_map(|(i, n)| Op::Add(i, n)),
                    2 => (0..48usize).prop_map(Op::Remove),
                ],
                1..400,
            )
        ) {
            use proptest::prelude::*;
            // Every third value is a few kilobytes, so a few dozen removals make a compaction.
            let values: Vec<String> = (0..48)
                .map(|i| match i % 3 {
                    0 => format!("id-{i}"),
                    1 => format!("q\"{i}\"\\\n"),
                    _ => format!("{i}-").repeat(700 + i * 10),
                })
                .collect();
            let family = crate::Counter::builder("model_total").help("M.").labels(["v"]).build().unwrap();
            let mut model = std::collections::BTreeMap::<usize, u64>::new();
            for op in &ops {
                match *op {
                    Op::Add(i, n) => {
                        family.with_label_values(&[&values[i]]).unwrap().inc_by(n);
                        *model.entry(i).or_default() += n;
                    }
                    Op::Remove(i) => {
                        prop_assert_eq!(family.remove(&[&values[i]]).unwrap(), model.remove(&i).is_some());
                    }
                }
            }
            prop_assert_eq!(family.len(), model.len());
            for (i, value) in values.iter().enumerate() {
                let held = family.get_existing(&[value]).unwrap().map(|c| c.get());
                prop_assert_eq!(held, model.get(&i).copied(), "value {}", i);
            }
            let registry = crate::Registry::new();
            registry.register(family.clone()).unwrap();
            let text = registry.encode_text_string().unwrap();
            let total: u64 = text
                .lines()
                .filter(|l| l.starts_with("model_total{"))
                .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
                .sum();
            prop_assert_eq!(text.lines().filter(|l| l.starts_with("model_total{")).count(), model.len());
            prop_assert_eq!(total, model.values().sum::<u64>());
        }
    }

    #[test]
    fn short_comparisons_see_every_byte() {
        let base: Vec<u8> = (b'a'..=b'z').collect();
        for len in 0..=base.len() {
            let a = &base[..len];
            assert!(short_eq(a, a));
            for flip in 0..len {
                let mut b = a.to_vec();
                b[flip] ^= 0x20;
                assert!(!short_eq(a, &b), "length {len}, byte {flip}");
            }
        }
    }

    #[test]
    fn cached_values_match_only_themselves() {
        let get = |v: &'static [&'static str]| move |i: usize| v[i];
        let mut raw = Vec::new();
        for v in ["GET", "200"] {
            raw.extend_from_slice(v.as_bytes());
            raw.push(0xff);
        }
        assert!(raw_matches(&raw, 2, &get(&["GET", "200"])));
        assert!(!raw_matches(&raw, 2, &get(&["GET", "20"])));
        assert!(!raw_matches(&raw, 2, &get(&["GET2", "00"])));
        assert!(!raw_matches(&raw, 1, &get(&["GET"])));
        assert_ne!(fingerprint(2, &get(&["GET", "200"])), fingerprint(2, &get(&["200", "GET"])));
    }

    #[test]
    fn keys_compare_like_unescaped_values() {
        // Raw: "a" < "a!" (prefix), which a plain comparison of the joined keys also gives
        // only because the separator sorts first; escaped values need unescaping.
        assert_eq!(compare_keys("a\nz", "a!\na"), CmpOrdering::Less);
        // Escaped backslash sorts by the backslash, not by the escape.
        assert_eq!(compare_keys(r"a\\", "a]"), CmpOrdering::Less);
        assert_eq!(compare_keys("x\n1", "x\n1"), CmpOrdering::Equal);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{Cache, Local};
    use crate::Counter;
    use crate::metrics::series_ref::SeriesRef;
    use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use loom::sync::{Arc, Mutex};

    /// A model of the lookup cache's handoff with removals: the store's steps in
    /// `Store::with_series` (epoch read with Acquire before any table lookup, a stale cache
    /// emptied, a miss filled from the table) and a removal's (table changed, then the epoch
    /// bumped with Release, under the lock), with the real [`Cache`]. The table maps one key to
    /// a series id: the remover replaces series 1 by series 2 (remove, then re-create). A
    /// lookup that starts after the removal returned (here: after reading its flag with
    /// Acquire) and any lookup after both threads finished must find series 2, never the
    /// removed series 1 from a cache slot.
    #[test]
    fn loom_a_removal_empties_stale_lookup_caches() {
        loom::model(|| {
            let table = Arc::new(Mutex::new(1u32));
            let epoch = Arc::new(AtomicU64::new(0));
            let removed = Arc::new(AtomicBool::new(false));
            let lookup = |cache: &mut Cache<u32>, table: &Mutex<u32>, epoch: &AtomicU64| -> u32 {
                let now = epoch.load(Ordering::Acquire);
                if cache.epoch != now {
                    cache.reset(now);
                }
                if let Some(m) = cache.slots[0].metric {
                    return m;
                }
                let m = *table.lock().unwrap();
                cache.slots[0].metric = Some(m);
                m
            };
            let (t, e, r) = (Arc::clone(&table), Arc::clone(&epoch), Arc::clone(&removed));
            let reader = loom::thread::spawn(move || {
                let mut cache = Cache::new(e.load(Ordering::Acquire));
                let first = lookup(&mut cache, &t, &e);
                assert!(first == 1 || first == 2);
                if r.load(Ordering::Acquire) {
                    assert_eq!(lookup(&mut cache, &t, &e), 2, "a removed series came from the cache");
                }
                cache
            });
            {
                let mut t = table.lock().unwrap();
                *t = 2;
                epoch.fetch_add(1, Ordering::Release);
            }
            removed.store(true, Ordering::Release);
            let mut cache = reader.join().unwrap();
            assert_eq!(lookup(&mut cache, &table, &epoch), 2, "a stale slot outlived the removal");
        });
    }

    /// A model of a lookup-cache entry handed from an exiting thread to a new one while the
    /// exiting thread's thread-local destructors still hold guards on it: the real `Local`
    /// (`claim`, `take_over`, `unpinned`) and real [`SeriesRef`] guards (their `pin` and their
    /// drop), with the cached handle a loom cell that loom checks for unordered access.
    ///
    /// Thread A fills the slot and takes two guards (a lookup and a nested hit), then gives
    /// the entry back (the `thread_local` crate frees its thread id under a lock, modelled by
    /// `handed`) before its destructors read through the guards and drop them one by one.
    /// Thread B, started later, gets the entry once it is handed over and does what a lookup
    /// does: claim the entry, fill the slot if no guard borrows it, pin it and read it. B tries
    /// twice, so it also runs after a refusal. Loom fails the model if B's fill could overlap
    /// or fail to follow A's reads, or a guard read a slot B was writing.
    #[test]
    #[allow(unsafe_code)] // Reads and writes of the modelled slot, checked by loom.
    fn loom_an_inherited_cache_entry_waits_for_the_old_owners_guards() {
        const A: usize = 1;
        const B: usize = 2;
        loom::model(|| {
            let local = Arc::new(Local::<u32>::new(A, 0));
            // The cached handle of one slot (the counter the guards point to stands beside it).
            let slot = Arc::new(loom::cell::UnsafeCell::new(0u32));
            let handed = Arc::new(Mutex::new(false));

            let (l, sl, h) = (Arc::clone(&local), Arc::clone(&slot), Arc::clone(&handed));
            let a = loom::thread::spawn(move || {
                let counter = Counter::new();
                assert!(l.claim(A) && l.unpinned());
                sl.with_mut(|p| unsafe { *p = 1 });
                let l: &Local<u32> = &l;
                let guard = || {
                    assert!(SeriesRef::<Counter>::pin(&l.pins));
                    // SAFETY: the counter outlives the guards, which this closure's caller
                    // drops before it; `pins` counts each.
                    unsafe { SeriesRef::pinned(std::ptr::NonNull::from(&counter), &l.pins) }
                };
                let first = guard();
                let nested = guard();
                *h.lock().unwrap() = true;
                assert_eq!(sl.with(|p| unsafe { *p }), 1);
                nested.inc();
                drop(nested);
                assert_eq!(sl.with(|p| unsafe { *p }), 1, "the slot changed under a guard");
                first.inc();
                drop(first);
                assert_eq!(counter.get(), 2);
            });

            let (l, sl, h) = (Arc::clone(&local), Arc::clone(&slot), Arc::clone(&handed));
            let b = loom::thread::spawn(move || {
                let counter = Counter::new();
                for _ in 0..2 {
                    // Not handed over yet: B would get an entry of its own.
                    // Still pinned by A's guards: B's lookup is uncached (an owned clone).
                    if !*h.lock().unwrap() || !l.claim(B) {
                        continue;
                    }
                    if l.unpinned() {
                        sl.with_mut(|p| unsafe { *p = 2 });
                    }
                    assert!(SeriesRef::<Counter>::pin(&l.pins));
                    // SAFETY: as in thread A; dropped before `counter`.
                    let g = unsafe { SeriesRef::pinned(std::ptr::NonNull::from(&counter), &l.pins) };
                    assert_eq!(sl.with(|p| unsafe { *p }), 2);
                    g.inc();
                }
            });
            a.join().unwrap();
            b.join().unwrap();
            assert!(local.unpinned(), "a guard's count was lost");
        });
    }
}
