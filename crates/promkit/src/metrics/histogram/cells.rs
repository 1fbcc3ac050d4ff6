//! The histogram's storage: the first observer's own shard, written with plain stores, and
//! spin-locked shards for every other thread.
//!
//! The first thread to observe a histogram owns its first shard. The owner never takes a lock:
//! it writes the shard under a sequence lock (an odd sequence while it writes, even when done),
//! with plain loads and stores and no atomic read-modify-write at all, so a single-threaded
//! observation costs a bucket search and a few stores. A scrape reads the shard with retries
//! until it sees an even sequence that did not change while it read: it never sees half an
//! observation. Only the owner writes the shard, so a reset from another thread cannot zero
//! it: it bumps a generation instead, scrapes count the shard as empty until the owner has
//! seen that generation, and the owner zeroes the shard on its next observation.
//!
//! Every other thread observes into a spin-locked shard: an observation takes the lock (one
//! compare-and-swap), bumps one bucket and the sum with plain loads and stores, and releases it
//! with a plain store. There is one such shard, made when a second thread first observes; the
//! first time two threads collide on it, the histogram spreads out to one cache-line-aligned
//! shard per CPU slot. A scrape takes each locked shard's lock in turn, so it reads every
//! shard as a whole: the `+Inf` bucket always equals the count, buckets never decrease and the
//! sum matches the counted observations (what Go's hot/cold swap guarantees).
//!
//! A histogram nobody observes from two threads is one unpadded allocation: the owner's shard
//! lives right after the histogram's header (see [`WordsArc`](crate::sync::WordsArc)), and
//! [`Cells`] is a view of those words and of the shared state that other threads and resets
//! make, wherever the histogram keeps it ([`SharedSlot`]).

use std::sync::atomic::Ordering;

use crate::sync::{AtomicU64, OnceBox, fence};

/// Words per cache line.
const LINE: usize = 8;
/// Word 0 of a locked shard is its lock; of the owner's shard, the owner's tag in the high
/// half and the sequence in the low half. Word 1 is the sum's bits, then the counts of the
/// buckets and `+Inf`: one per word in a locked shard, two per word in the owner's (see
/// [`words`]).
const LOCK: usize = 0;
const SUM: usize = 1;
const FIRST_BUCKET: usize = 2;
/// The owner's tag is in the high half of word 0; the sequence in the low half.
const TAG_SHIFT: u32 = 32;
const SEQUENCE: u64 = (1 << TAG_SHIFT) - 1;
/// Word 0 of an owner's shard that nobody may claim: a histogram with a fixed number of
/// shards, or one whose observations go to native storage. Its tag is one [`tag_of`] never
/// gives, and it is not zero, so no claim succeeds; its sequence is even, so a scrape reads
/// the (empty) shard at once.
const NO_OWNER: u64 = SEQUENCE << TAG_SHIFT;

/// Bits in half a word: an owner's count takes half a word.
const HALF: u32 = 32;
const HALF_MAX: u64 = (1 << HALF) - 1;
/// What one carry counts: 2³¹ observations, as many as the owner makes in one turn of its
/// sequence (two steps each).
const CARRY_SHIFT: u32 = 31;
const CARRY: u64 = 1 << CARRY_SHIFT;

/// Words in the owner's shard of a histogram with `finite_buckets` bounds: word 0, the sum,
/// and the counts of the buckets and `+Inf` two to a word, bucket `i` in the low half of word
/// `2 + i / 2` for an even `i`, the high half for an odd one. With Go's default buckets the
/// shard is 64 bytes where a word per count took 112: the histogram's state is one 88-byte
/// block, and a family of many series is a third smaller.
///
/// A half never fills, and the owner never checks one. Its sequence turns over once every
/// 2³¹ observations; as it does, at the end of that observation, the owner moves 2³¹ out of
/// every half that holds that many into the half's carry, in the shared state (made then).
/// After that move every half holds less than 2³¹, and the 2³¹ observations to the next
/// turn add at most 2³¹ to it; before the first turn, a half counts at most 2³¹. A scrape
/// adds the carries, read in the same section as the halves.
pub(crate) fn words(finite_buckets: usize) -> usize {
    // (finite_buckets + 1) counts, two to a word, rounded up.
    FIRST_BUCKET + finite_buckets / 2 + 1
}

/// Words of a locked shard, given the owner's shard's: the lock, the sum and a whole word for
/// each half of the owner's. A locked shard is made only when several threads observe, so its
/// counts take a word each and never carry.
fn locked_words(owner_words: usize) -> usize {
    FIRST_BUCKET + 2 * (owner_words - FIRST_BUCKET)
}

/// Marks an owner's shard (`words` long, all zero) as one nobody owns.
pub(crate) fn disown(first: &[AtomicU64]) {
    // Relaxed: done before the histogram is shared with any other thread.
    first[LOCK].store(NO_OWNER, Ordering::Relaxed);
}

/// Where a histogram keeps its [`Shared`] state, made the first time another thread or a reset
/// comes (or at once, for fixed shards).
pub(crate) trait SharedSlot {
    /// The shared state, if it was made. An Acquire load: whoever made it published it.
    fn shared(&self) -> Option<&Shared>;
    /// The shared state, made (with no shards, [`Shared::new`]) if it was not yet.
    fn shared_or_init(&self) -> &Shared;
}

/// A histogram's classic storage: the owner's shard and the slot of the shared state.
pub(crate) struct Cells<'a, S: ?Sized> {
    /// The owner's shard, [`words`] long: unpadded, right after the histogram's header. Word 0
    /// is [`NO_OWNER`] for a histogram with a fixed number of shards or with native storage.
    first: &'a [AtomicU64],
    /// What other threads and resets need, made the first time one of them comes, or at once
    /// for a histogram built with a fixed number of shards.
    slot: &'a S,
}

// Two references, copied by hand: a derive would ask `S: Copy`.
impl<S: ?Sized> Clone for Cells<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S: ?Sized> Copy for Cells<'_, S> {}

#[derive(Debug)]
pub(crate) struct Shared {
    /// Bumped by every reset: the owner's shard counts as empty until `applied` catches up.
    generation: AtomicU64,
    /// The generation the owner last zeroed its shard for. Written by the owner only, inside
    /// its write section, so a scrape reads it together with the shard.
    applied: AtomicU64,
    /// The locked shard every thread but the owner uses until two collide on it (cache-line
    /// aligned, so it never shares a line with the owner's), made when the first of them
    /// comes: a reset or an exemplar makes the shared state without it. Never made with fixed
    /// shards.
    second: OnceBox<Shards>,
    /// One padded shard per CPU slot, made on the first collision on `second`, or at once for
    /// a histogram built with a fixed number of shards.
    spread: OnceBox<Shards>,
    /// One count per half of the owner's shard, of the [`CARRY`]s moved out of it, made the
    /// first time one is (see [`words`]). Written by the owner only, inside its write section,
    /// so a scrape reads them together with the shard.
    carries: OnceBox<Box<[AtomicU64]>>,
}

/// Cache-line-aligned locked shards.
#[derive(Debug)]
struct Shards {
    words: Box<[AtomicU64]>,
    /// Index of shard 0's lock word: the first word on a cache-line boundary.
    base: usize,
    /// Words per shard, a whole number of cache lines.
    stride: usize,
    /// Shards minus one (the shard count is a power of two).
    mask: usize,
    /// Words a shard uses: the lock, the sum and the buckets.
    used: usize,
}

impl Shards {
    /// `shards` shards (rounded up to a power of two, at least one) of `used` words each.
    fn new(used: usize, shards: usize) -> Self {
        let shards = shards.max(1).next_power_of_two();
        let stride = used.div_ceil(LINE) * LINE;
        let words: Box<[AtomicU64]> = (0..shards * stride + LINE - 1).map(|_| AtomicU64::new(0)).collect();
        // The allocation is 8-aligned; skip to the first 64-byte boundary so shards never
        // share a cache line (no false sharing between threads on different shards).
        let addr = words.as_ptr() as usize;
        let base = ((64 - addr % 64) % 64) / 8;
        Self { words, base, stride, mask: shards - 1, used }
    }

    /// Shard `i` modulo the shard count.
    #[inline]
    fn shard(&self, i: usize) -> &[AtomicU64] {
        let start = self.base + (i & self.mask) * self.stride;
        &self.words[start..start + self.used]
    }

    /// The shard of the thread with this [`thread_index`](crate::sync::thread_index), locked.
    #[inline]
    fn lock_own(&self, index: usize) -> &[AtomicU64] {
        let shard = self.shard(index);
        lock(&shard[LOCK]);
        shard
    }

    fn each(&self, f: &mut impl FnMut(&[AtomicU64])) {
        (0..=self.mask).for_each(|i| f(self.shard(i)));
    }
}

impl Shared {
    /// Shared state with no shards yet: nothing allocated until a thread other than the owner
    /// observes. Also what a histogram with native storage keeps, which never observes into
    /// its classic shards (the native storage counts its own classic buckets).
    pub(crate) fn new() -> Self {
        Self {
            generation: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            second: OnceBox::new(),
            spread: OnceBox::new(),
            carries: OnceBox::new(),
        }
    }

    /// The shared state of a histogram with `finite_buckets` bounds and `shards` locked
    /// shards from the start, which keeps them and has no owner.
    pub(crate) fn fixed(finite_buckets: usize, shards: usize) -> Self {
        let shared = Self::new();
        shared.spread.get_or_init(|| Shards::new(locked_words(words(finite_buckets)), shards));
        shared
    }

    /// Every locked shard.
    fn each_locked(&self, mut f: impl FnMut(&[AtomicU64])) {
        if let Some(second) = self.second.get() {
            second.each(&mut f);
        }
        if let Some(spread) = self.spread.get() {
            spread.each(&mut f);
        }
    }
}

/// The owner tag of the thread with this [`thread_index`](crate::sync::thread_index): the
/// index plus one, or `u64::MAX` (never a stored tag, so never an owner) for the rare thread
/// whose index does not fit the high half of word 0 below [`NO_OWNER`]'s tag.
#[inline]
fn tag_of(index: usize) -> u64 {
    let tag = index as u64 + 1;
    if tag < SEQUENCE { tag } else { u64::MAX }
}

/// Adds one observation to a locked shard's bucket and sum, with plain loads and stores: the
/// caller holds the shard's lock.
#[inline(always)]
fn bump(shard: &[AtomicU64], bucket: usize, v: f64) {
    let b = &shard[FIRST_BUCKET + bucket];
    b.store(b.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    add_to_sum(shard, v);
}

/// Adds `v` to a shard's sum, with a plain load and store (the caller alone writes the shard).
#[inline(always)]
fn add_to_sum(shard: &[AtomicU64], v: f64) {
    let s = &shard[SUM];
    s.store((f64::from_bits(s.load(Ordering::Relaxed)) + v).to_bits(), Ordering::Relaxed);
}

/// Where bucket `bucket`'s count sits in the owner's shard: its word's index and the shift of
/// its half.
#[inline(always)]
fn half_of(bucket: usize) -> (usize, u32) {
    (FIRST_BUCKET + bucket / 2, if bucket.is_multiple_of(2) { 0 } else { HALF })
}

impl<'a, S: SharedSlot + ?Sized> Cells<'a, S> {
    /// The cells of a histogram whose owner's shard is `first` ([`words`] long; zero for a
    /// new histogram, or [`disown`]ed for one with fixed shards, whose shared state the slot
    /// then already holds, or with native storage, which never observes through these cells)
    /// and whose shared state lives in `slot`. A histogram with fixed
    /// shards has that many locked shards from the start and never changes them: with one,
    /// every observer shares it and a collision waits. Otherwise the first observer owns the
    /// first shard, and the others share one locked shard that spreads to
    /// [`cpu_slots`](crate::sync::cpu_slots) on the first collision.
    #[inline]
    pub(crate) fn new(first: &'a [AtomicU64], slot: &'a S) -> Self {
        Self { first, slot }
    }

    /// Words a locked shard uses.
    fn used(self) -> usize {
        locked_words(self.first.len())
    }

    /// Halves in the owner's shard: one per bucket and `+Inf`, and one more if they are odd.
    fn halves(self) -> usize {
        2 * (self.first.len() - FIRST_BUCKET)
    }

    fn shared(self) -> &'a Shared {
        self.slot.shared_or_init()
    }

    /// Counts one observation in `bucket` (`+Inf` is the last).
    #[cfg(test)]
    pub(crate) fn observe(&self, bucket: usize, v: f64) {
        self.observe_with(self.slot.shared(), bucket, v);
    }

    /// Counts one observation in `bucket` (`+Inf` is the last), given what the slot holds: the
    /// caller has just read it.
    #[inline]
    pub(crate) fn observe_with(&self, shared: Option<&'a Shared>, bucket: usize, v: f64) {
        let index = crate::sync::thread_index();
        if let Some(word) = self.first.first() {
            let tag = tag_of(index);
            // Relaxed: the owner reads back its own stores; another thread only compares the
            // tag, which never changes once set, and claims with a compare-and-swap from zero.
            let w = word.load(Ordering::Relaxed);
            if w >> TAG_SHIFT == tag {
                return self.owner_observe(shared, w, bucket, v);
            }
            // Relaxed: claiming publishes nothing; the owner's writes are ordered by the
            // sequence lock, and a losing claimant only learns it is not the owner.
            if w == 0
                && tag <= SEQUENCE
                && word.compare_exchange(0, tag << TAG_SHIFT, Ordering::Relaxed, Ordering::Relaxed).is_ok()
            {
                return self.owner_observe(shared, tag << TAG_SHIFT, bucket, v);
            }
        }
        self.locked_observe(shared, index, bucket, v);
    }

    /// The owner's observation: a write section of the sequence lock around plain stores.
    /// `w` is word 0 as the owner last left it (an even sequence).
    #[inline(always)]
    fn owner_observe(&self, shared: Option<&Shared>, w: u64, bucket: usize, v: f64) {
        // The shard's address and length, and the shared state's, are read once, before the
        // first store. The header they come from holds atomics, so LLVM may not assume a store
        // through one of them leaves it alone: read after the odd sequence, the bucket's and
        // the sum's addresses waited for a reload behind that store (about a tenth of a
        // classic observe on a virtualised AMD EPYC).
        let first = self.first;
        let word = &first[LOCK];
        // An odd sequence, then a Release fence: a scrape that reads any store below also
        // reads this sequence or a later one (its Acquire fence pairs with this fence), so it
        // retries rather than keep a torn read. `w`'s sequence is even: adding one leaves the
        // tag alone.
        word.store(w + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        if let Some(shared) = shared {
            // A reset asked for the shard to be zeroed: do it first. Relaxed: the generation
            // publishes nothing but itself, and a reset that happened-before this observation
            // is seen (coherence).
            let generation = shared.generation.load(Ordering::Relaxed);
            if shared.applied.load(Ordering::Relaxed) != generation {
                first[SUM..].iter().for_each(|c| c.store(0, Ordering::Relaxed));
                if let Some(carries) = shared.carries.get() {
                    carries.iter().for_each(|c| c.store(0, Ordering::Relaxed));
                }
                shared.applied.store(generation, Ordering::Relaxed);
            }
        }
        // No half is full (see `words`): the add stays inside it.
        let (at, shift) = half_of(bucket);
        let count = &first[at];
        count.store(count.load(Ordering::Relaxed) + (1 << shift), Ordering::Relaxed);
        add_to_sum(first, v);
        let next = w.wrapping_add(2);
        #[allow(clippy::cast_possible_truncation)] // the sequence is the low half
        if next as u32 == 0 {
            return self.turn(next);
        }
        // Release: the stores above happen-before a scrape's Acquire load of this even
        // sequence.
        word.store(next, Ordering::Release);
    }

    /// The end of the owner's write section when its sequence turns over (once every 2³¹
    /// observations): moves [`CARRY`] out of every half that holds as much into its carry,
    /// made with the shared state the first time, so no half can fill before the next turn
    /// (see [`words`]). Then ends the section with `next`, the sequence plus two, whose carry
    /// out of the low half it takes back from the tag.
    #[cold]
    #[inline(never)]
    fn turn(self, next: u64) {
        let halves = self.halves();
        let mut carries = None;
        for i in 0..halves {
            let (at, shift) = half_of(i);
            // Relaxed: only the owner writes its shard and its carries, inside the write
            // section, whose sequence orders them for scrapes.
            let w = self.first[at].load(Ordering::Relaxed);
            if (w >> shift) & HALF_MAX >= CARRY {
                let carries: &[AtomicU64] = carries.get_or_insert_with(|| {
                    self.shared().carries.get_or_init(|| (0..halves).map(|_| AtomicU64::new(0)).collect())
                });
                carries[i].store(carries[i].load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                self.first[at].store(w - (CARRY << shift), Ordering::Relaxed);
            }
        }
        // Release, as at the end of any write section.
        self.first[LOCK].store(next - (1 << TAG_SHIFT), Ordering::Release);
    }

    /// Any other thread's observation: into a locked shard.
    #[inline]
    fn locked_observe(self, shared: Option<&'a Shared>, index: usize, bucket: usize, v: f64) {
        let shard = match shared {
            Some(shared) => self.lock_shard(shared, index),
            None => self.lock_shard_first_time(index),
        };
        // Relaxed loads and stores inside the critical section: the lock's Acquire/Release
        // order them against every other holder, observers and scrapes alike.
        bump(shard, bucket, v);
        shard[LOCK].store(0, Ordering::Release);
    }

    /// A locked shard for the thread with this index: its spread shard once the histogram has
    /// spread, else the shared one if it is free.
    #[inline]
    fn lock_shard(self, shared: &'a Shared, index: usize) -> &'a [AtomicU64] {
        if let Some(spread) = shared.spread.get() {
            return spread.lock_own(index);
        }
        match shared.second.get() {
            Some(second) => self.lock_second(shared, second, index),
            None => self.lock_second_first_time(shared, index),
        }
    }

    /// The shared locked shard if it is free; else the histogram spreads out.
    #[inline]
    fn lock_second(self, shared: &'a Shared, second: &'a Shards, index: usize) -> &'a [AtomicU64] {
        let shard = second.shard(0);
        if try_lock(&shard[LOCK]) { shard } else { self.collided(shared, index) }
    }

    /// The first thread other than the owner to observe: it makes the shared locked shard.
    #[cold]
    #[inline(never)]
    fn lock_second_first_time(self, shared: &'a Shared, index: usize) -> &'a [AtomicU64] {
        let second = shared.second.get_or_init(|| Shards::new(self.used(), 1));
        self.lock_second(shared, second, index)
    }

    /// The first observation by a thread other than the owner, or the first since the shared
    /// state was made: it makes the shared state, and the shared locked shard.
    #[cold]
    #[inline(never)]
    fn lock_shard_first_time(self, index: usize) -> &'a [AtomicU64] {
        self.lock_shard(self.shared(), index)
    }

    /// An observer found the shared locked shard taken: the histogram spreads out (once) and
    /// the observer takes its own shard. A histogram with fixed shards never gets here: its
    /// `spread` is set from the start.
    #[cold]
    #[inline(never)]
    fn collided(self, shared: &'a Shared, index: usize) -> &'a [AtomicU64] {
        shared.spread.get_or_init(|| Shards::new(self.used(), crate::sync::cpu_slots())).lock_own(index)
    }

    /// Reads all shards into `cumulative` (one entry for each of the `finite_buckets` and
    /// `+Inf`) and returns the sum.
    pub(crate) fn read(&self, cumulative: &mut Vec<u64>, finite_buckets: usize) -> f64 {
        cumulative.clear();
        cumulative.resize(finite_buckets + 1, 0);
        let shared = self.slot.shared();
        // A disowned shard is never written, so it reads as empty, at once.
        let mut sum = self.read_first(shared, cumulative);
        if let Some(shared) = shared {
            shared.each_locked(|shard| {
                lock(&shard[LOCK]);
                for (c, w) in cumulative.iter_mut().zip(&shard[FIRST_BUCKET..]) {
                    *c += w.load(Ordering::Relaxed);
                }
                sum += f64::from_bits(shard[SUM].load(Ordering::Relaxed));
                shard[LOCK].store(0, Ordering::Release);
            });
        }
        let mut running = 0;
        for c in cumulative.iter_mut() {
            running += *c;
            *c = running;
        }
        sum
    }

    /// The owner's shard into `counts` (overwriting them) and its sum: the sequence lock's
    /// read side, retried until one read saw no write section.
    fn read_first(&self, shared: Option<&Shared>, counts: &mut [u64]) -> f64 {
        let word = &self.first[LOCK];
        // Relaxed: a reset that happened-before this scrape is seen here (coherence).
        let generation = shared.map(|s| s.generation.load(Ordering::Relaxed));
        let mut spins = 0u32;
        loop {
            // Acquire: pairs with the owner's Release store of an even sequence, so the
            // loads below see that section's stores.
            let before = word.load(Ordering::Acquire);
            if before & 1 == 0 {
                for (i, c) in counts.iter_mut().enumerate() {
                    let (at, shift) = half_of(i);
                    *c = (self.first[at].load(Ordering::Relaxed) >> shift) & HALF_MAX;
                }
                // Looked up on every attempt: the owner makes the shared state and the
                // carries inside a write section, which a retry follows.
                if let Some(carries) = self.slot.shared().and_then(|s| s.carries.get()) {
                    for (c, carried) in counts.iter_mut().zip(carries.iter()) {
                        *c += carried.load(Ordering::Relaxed) << CARRY_SHIFT;
                    }
                }
                let sum = f64::from_bits(self.first[SUM].load(Ordering::Relaxed));
                let applied = shared.map(|s| s.applied.load(Ordering::Relaxed));
                // Acquire fence: if any load above read a store of a later write section,
                // the load below reads that section's odd sequence or a later one (pairs
                // with the owner's Release fence).
                fence(Ordering::Acquire);
                if word.load(Ordering::Relaxed) == before {
                    if applied < generation {
                        // Reset since the owner last wrote: the shard counts as empty.
                        counts.iter_mut().for_each(|c| *c = 0);
                        return 0.0;
                    }
                    return sum;
                }
            }
            // The owner is mid-write (or wrote meanwhile): it holds no lock and finishes in a
            // few instructions, unless it was preempted.
            back_off(&mut spins);
        }
    }

    /// Zeroes every shard (for families that reset a series in place). The owner's shard is
    /// zeroed by its owner, on its next observation; until then scrapes count it as empty.
    pub(crate) fn reset(&self) {
        let shared = self.shared();
        // Relaxed: the generation publishes nothing but itself. A scrape or an observation
        // that the reset happened-before reads this value or a later one (coherence); the
        // locked shards' zeroing below is ordered by their locks.
        shared.generation.fetch_add(1, Ordering::Relaxed);
        shared.each_locked(|shard| {
            lock(&shard[LOCK]);
            for w in &shard[SUM..] {
                w.store(0, Ordering::Relaxed);
            }
            shard[LOCK].store(0, Ordering::Release);
        });
    }
}

/// Takes a shard lock if it is free. Acquire on success pairs with the Release that freed it,
/// so this holder sees every store of the previous one.
#[inline]
fn try_lock(word: &AtomicU64) -> bool {
    // A strong CAS: on x86 it is the same instruction, and it keeps loom's model finite.
    word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok()
}

/// Takes a shard lock, waiting for it if it is held (ordering as in [`try_lock`]).
#[inline]
fn lock(word: &AtomicU64) {
    if !try_lock(word) {
        lock_contended(word);
    }
}

/// [`lock`] after a failed first attempt: out of line, so an uncontended observe makes no
/// call and keeps its values in registers.
#[cold]
#[inline(never)]
fn lock_contended(word: &AtomicU64) {
    // Acquire on success, as in `lock`.
    while word.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
        let mut spins = 0u32;
        // Wait with plain loads (no cache-line ping-pong), then yield: a preempted holder
        // needs the CPU more than a spinning waiter does.
        while word.load(Ordering::Relaxed) != 0 {
            back_off(&mut spins);
        }
    }
}

/// One wait for a shard another thread is writing: a spin hint for the first 64 waits, then a
/// yield, since a preempted writer needs the CPU more than a spinning waiter does.
fn back_off(spins: &mut u32) {
    if *spins < 64 {
        *spins += 1;
        spin_hint();
    } else {
        yield_now();
    }
}

#[cfg(not(loom))]
fn spin_hint() {
    std::hint::spin_loop();
}
#[cfg(not(loom))]
fn yield_now() {
    std::thread::yield_now();
}
#[cfg(loom)]
fn spin_hint() {
    loom::thread::yield_now();
}
#[cfg(loom)]
fn yield_now() {
    loom::thread::yield_now();
}

/// Cells that own their words and their slot, as the tests build them.
#[cfg(test)]
pub(super) struct Owned {
    first: Box<[AtomicU64]>,
    shared: OnceBox<Shared>,
    finite_buckets: usize,
}

#[cfg(test)]
impl SharedSlot for OnceBox<Shared> {
    fn shared(&self) -> Option<&Shared> {
        self.get()
    }

    fn shared_or_init(&self) -> &Shared {
        self.get_or_init(Shared::new)
    }
}

#[cfg(test)]
impl Owned {
    /// Cells for `finite_buckets` bounds, with `fixed` locked shards or an owner's shard.
    pub(super) fn new(finite_buckets: usize, fixed: Option<usize>) -> Self {
        let first = (0..words(finite_buckets)).map(|_| AtomicU64::new(0)).collect();
        let owned = Self { first, shared: OnceBox::new(), finite_buckets };
        if let Some(n) = fixed {
            disown(&owned.first);
            owned.shared.get_or_init(|| Shared::fixed(finite_buckets, n));
        }
        owned
    }

    fn cells(&self) -> Cells<'_, OnceBox<Shared>> {
        Cells::new(&self.first, &self.shared)
    }

    /// Bucket `bucket`'s half-word count in the owner's shard, without its carries.
    fn owners_half(&self, bucket: usize) -> u64 {
        let (at, shift) = half_of(bucket);
        (self.first[at].load(Ordering::Relaxed) >> shift) & HALF_MAX
    }

    /// Sets the owner's sequence so that its next observation turns it over.
    fn turns_next(&self) {
        let tag = self.first[LOCK].load(Ordering::Relaxed) & !SEQUENCE;
        self.first[LOCK].store(tag | (SEQUENCE - 1), Ordering::Relaxed);
    }

    /// Sets bucket `bucket`'s half-word count in the owner's shard, as `n` observations by
    /// the owner would have (their sum aside): how the tests reach a full half quickly.
    fn set_owners_half(&self, bucket: usize, n: u64) {
        let (at, shift) = half_of(bucket);
        let w = self.first[at].load(Ordering::Relaxed);
        self.first[at].store((w & !(HALF_MAX << shift)) | (n << shift), Ordering::Relaxed);
    }

    pub(super) fn observe(&self, bucket: usize, v: f64) {
        self.cells().observe(bucket, v);
    }

    pub(super) fn read(&self, cumulative: &mut Vec<u64>) -> f64 {
        self.cells().read(cumulative, self.finite_buckets)
    }

    pub(super) fn reset(&self) {
        self.cells().reset();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn spread(c: &Owned) -> Option<&Shards> {
        c.shared.get().and_then(|s| s.spread.get())
    }

    /// Runs `f` on a thread of its own: an observer that is not the owner.
    fn elsewhere(f: impl FnOnce() + Send) {
        std::thread::scope(|s| s.spawn(f).join().unwrap());
    }

    #[test]
    fn eager_shards_are_cache_line_aligned_and_read_adds_them_up() {
        let c = Owned::new(3, Some(4));
        let spread = spread(&c).expect("a fixed shard count spreads at once");
        for i in 0..4 {
            assert_eq!(spread.shard(i).as_ptr() as usize % 64, 0);
        }
        assert_eq!(c.first[LOCK].load(Ordering::Relaxed), NO_OWNER, "a fixed-shard histogram has no owner");
        c.observe(0, 0.5);
        c.observe(3, 10.0);
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 10.5);
        assert_eq!(out, [1, 1, 1, 2]);
        c.reset();
        assert_eq!(c.read(&mut out), 0.0);
        assert_eq!(out, [0, 0, 0, 0]);
    }

    #[test]
    fn a_histogram_one_thread_observes_is_its_owners_shard_alone() {
        let c = Owned::new(11, None);
        for i in 0..1000 {
            c.observe(i % 12, 1.0);
        }
        assert!(c.shared.get().is_none(), "made shared state without a second thread");
        assert_eq!(c.first.len(), 2 + 6, "word 0, the sum and twelve buckets two to a word");
        assert_eq!(c.owners_half(11), 83, "bucket 11 counts in the high half of the last word");
        let w = c.first[LOCK].load(Ordering::Relaxed);
        assert_eq!(w >> TAG_SHIFT, tag_of(crate::sync::thread_index()), "the first observer owns the shard");
        assert_eq!(w & SEQUENCE, 2000, "two sequence steps per observation, even between them");
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 1000.0);
        assert_eq!(out.last(), Some(&1000));
    }

    #[test]
    fn the_sequence_wraps_inside_its_half_and_leaves_the_tag_alone() {
        let c = Owned::new(1, None);
        c.observe(0, 1.0);
        let tag = c.first[LOCK].load(Ordering::Relaxed) & !SEQUENCE;
        c.turns_next();
        c.observe(1, 2.0);
        assert_eq!(c.first[LOCK].load(Ordering::Relaxed), tag, "the sequence wrapped to zero");
        c.observe(1, 3.0);
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 6.0);
        assert_eq!(out, [1, 3]);
    }

    #[test]
    fn each_turn_of_the_sequence_moves_full_halves_into_carries_exactly() {
        // Three counts: buckets 0 and 1 share a word, `+Inf` has the low half of the next.
        let c = Owned::new(2, None);
        assert_eq!(c.first.len(), 2 + 2);
        c.observe(1, 1.0);
        c.set_owners_half(0, CARRY - 1);
        c.turns_next();
        c.observe(1, 1.0);
        assert!(c.shared.get().is_none(), "a turn made carries with no half at 2^31");
        assert_eq!((c.owners_half(0), c.owners_half(1)), (CARRY - 1, 2));
        // The most a half can hold as a turn comes, one just past a carry, and one that
        // reaches a carry with the turning observation.
        c.set_owners_half(1, CARRY + 4);
        c.set_owners_half(2, HALF_MAX);
        c.turns_next();
        c.observe(0, 1.0);
        assert_eq!((c.owners_half(0), c.owners_half(1), c.owners_half(2)), (0, 4, CARRY - 1));
        let carries = c.shared.get().and_then(|s| s.carries.get()).expect("the turn made the carries");
        let carried = || carries.iter().map(|k| k.load(Ordering::Relaxed)).collect::<Vec<u64>>();
        assert_eq!(carried(), [1, 1, 1, 0], "one carry per half, the unused fourth one included");
        c.observe(2, 1.0);
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 4.0);
        assert_eq!(out, [CARRY, CARRY + CARRY + 4, CARRY + CARRY + 4 + HALF_MAX + 1]);
        c.turns_next();
        c.observe(1, 1.0);
        assert_eq!(carried(), [1, 1, 2, 0]);
        assert_eq!((c.owners_half(0), c.owners_half(1), c.owners_half(2)), (0, 5, 0));
        assert_eq!(c.read(&mut out), 5.0, "a turn changes no count");
        assert_eq!(out, [CARRY, CARRY + CARRY + 5, CARRY + CARRY + 5 + HALF_MAX + 1]);
        elsewhere(|| c.observe(2, 0.5));
        assert_eq!(c.read(&mut out), 5.5, "a locked shard adds to the carried counts");
        assert_eq!(out[2], CARRY + CARRY + 5 + HALF_MAX + 2);
        elsewhere(|| c.reset());
        c.observe(1, 2.0);
        assert_eq!(carried(), [0, 0, 0, 0], "the owner zeroed its carries with its shard");
        assert_eq!(c.read(&mut out), 2.0);
        assert_eq!(out, [0, 1, 1]);
    }

    #[test]
    fn other_threads_share_a_locked_shard_and_spread_when_they_collide() {
        let c = Owned::new(1, None);
        c.observe(0, 1.0);
        elsewhere(|| c.observe(1, 5.0));
        let second =
            c.shared.get().and_then(|s| s.second.get()).expect("a second thread made the locked shard");
        let locked = second.shard(0);
        assert_eq!(locked.as_ptr() as usize % 64, 0, "the locked shard starts a cache line");
        assert_eq!(locked[FIRST_BUCKET + 1].load(Ordering::Relaxed), 1);
        assert!(spread(&c).is_none(), "spread out without a collision");
        // Another holder of the locked shard, as a racing observer would be.
        assert!(try_lock(&locked[LOCK]));
        elsewhere(|| c.observe(1, 2.0));
        let spread = spread(&c).expect("the collision spread the histogram");
        locked[LOCK].store(0, Ordering::Release);
        let total: u64 =
            (0..=spread.mask).map(|i| spread.shard(i)[FIRST_BUCKET + 1].load(Ordering::Relaxed)).sum();
        assert_eq!(total, 1, "the colliding observation went to a spread shard");
        c.observe(1, 4.0);
        assert_eq!(c.owners_half(1), 1, "the owner keeps its own shard");
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 12.0);
        assert_eq!(out, [1, 4]);
        c.reset();
        assert_eq!(c.read(&mut out), 0.0);
        assert_eq!(out, [0, 0]);
    }

    #[test]
    fn a_reset_from_another_thread_empties_the_owners_shard_at_once_and_for_good() {
        let c = Owned::new(1, None);
        c.observe(0, 1.0);
        c.observe(1, 2.0);
        elsewhere(|| c.reset());
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 0.0, "scrapes count the owner's shard as empty");
        assert_eq!(out, [0, 0]);
        assert_eq!((c.owners_half(0), c.owners_half(1)), (1, 1), "only the owner writes its shard");
        c.observe(1, 4.0);
        assert_eq!(c.read(&mut out), 4.0, "the owner zeroed its shard before counting");
        assert_eq!(out, [0, 1]);
        c.observe(0, 1.0);
        assert_eq!(c.read(&mut out), 5.0, "the owner zeroes once per reset");
        assert_eq!(out, [1, 2]);
        c.reset();
        c.reset();
        elsewhere(|| c.observe(0, 0.5));
        assert_eq!(c.read(&mut out), 0.5);
        assert_eq!(out, [1, 1]);
    }

    #[test]
    fn shared_state_made_by_a_reset_holds_no_shard_until_another_thread_observes() {
        let c = Owned::new(1, None);
        c.observe(0, 1.0);
        c.reset();
        let shared = c.shared.get().expect("a reset makes the shared state");
        c.observe(1, 2.0);
        assert!(shared.second.get().is_none(), "made a locked shard for the owner alone");
        assert!(shared.spread.get().is_none());
        elsewhere(|| c.observe(1, 3.0));
        let second = shared.second.get().expect("another thread made the locked shard");
        assert_eq!(second.shard(0)[FIRST_BUCKET + 1].load(Ordering::Relaxed), 1);
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 5.0);
        assert_eq!(out, [0, 2]);
    }

    #[test]
    fn a_single_shard_histogram_waits_instead_of_spreading() {
        let c = Owned::new(1, Some(1));
        let spread = spread(&c).expect("a fixed shard count is made at once");
        let only = spread.shard(0);
        assert!(try_lock(&only[LOCK]));
        std::thread::scope(|s| {
            let observer = s.spawn(|| c.observe(0, 1.0));
            only[LOCK].store(0, Ordering::Release);
            observer.join().unwrap();
        });
        assert_eq!(spread.mask, 0, "one shard, shared by every observer");
        assert_eq!(
            c.first[LOCK].load(Ordering::Relaxed),
            NO_OWNER,
            "nobody owns a fixed-shard histogram's first shard"
        );
        assert!(c.first[SUM..].iter().all(|w| w.load(Ordering::Relaxed) == 0), "the first shard stays empty");
        let mut out = Vec::new();
        assert_eq!(c.read(&mut out), 1.0);
        assert_eq!(out, [1, 1]);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::sync::Arc;

    /// An observer racing a scrape: the scrape sees the observation whole or not at all
    /// (count and sum agree), and the final state is exact.
    #[test]
    fn loom_scrape_never_sees_a_torn_observation() {
        check(|| {
            let cells = Arc::new(Owned::new(1, Some(1)));
            let a = Arc::clone(&cells);
            let t = loom::thread::spawn(move || a.observe(1, 2.0));
            let mut out = Vec::new();
            let sum = cells.read(&mut out);
            match out[1] {
                0 => assert_eq!(sum, 0.0),
                1 => assert_eq!(sum, 2.0),
                n => panic!("impossible count {n}"),
            }
            assert_eq!(out[0], 0);
            t.join().unwrap();
            cells.observe(0, 1.0);
            assert_eq!(cells.read(&mut out), 3.0);
            assert_eq!(out, [1, 2]);
        });
    }

    /// The counts and sum of one read of a one-bound histogram whose observations are 1.0
    /// (bucket 0) and 2.0 (bucket 1): checks the sum matches the counted observations and
    /// returns how many of each it counted.
    fn whole(cells: &Owned) -> (u64, u64) {
        let mut out = Vec::new();
        let sum = cells.read(&mut out);
        let counts = (out[0], out[1] - out[0]);
        assert!(counts.0 <= 1 && counts.1 <= 1, "impossible counts {counts:?}");
        assert_eq!(
            sum,
            counts.0 as f64 + 2.0 * counts.1 as f64,
            "the sum does not match the counted observations"
        );
        counts
    }

    /// Claims the owner's shard for the calling thread, as its first observation would.
    ///
    /// The models claim with this bare compare-and-swap first because loom 0.7 does not
    /// explore a thread's write that follows its own load of the same word while another
    /// thread reads that word (its backtracking only looks at each thread's next operation):
    /// an owner starting with `observe` (a load, then the claim) was checked in one
    /// interleaving only. Starting with a write, every interleaving of the write sections
    /// with the scrape is explored. The claim race itself is the two-observer model below.
    fn claim(cells: &Owned) {
        let tag = tag_of(crate::sync::thread_index()) << TAG_SHIFT;
        assert!(cells.first[LOCK].compare_exchange(0, tag, Ordering::Relaxed, Ordering::Relaxed).is_ok());
    }

    /// Spawns the owner: it claims the shard, then observes 1.0 (bucket 0) and 2.0 (bucket 1).
    fn spawn_owner(cells: &Arc<Owned>) -> loom::thread::JoinHandle<()> {
        let c = Arc::clone(cells);
        loom::thread::spawn(move || {
            claim(&c);
            c.observe(0, 1.0);
            c.observe(1, 2.0);
        })
    }

    /// Checks `model` in every interleaving with up to two preemptions: spin loops make an
    /// unbounded model infinite, and two preemptions cover one critical section (or write
    /// section) against another.
    fn check(model: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(model);
    }

    /// The owner writing its shard with plain stores while a scrape reads it: the sequence
    /// lock makes the scrape see each observation whole or not at all, and in order.
    #[test]
    fn loom_an_owners_plain_stores_are_never_read_torn() {
        check(|| {
            let cells = Arc::new(Owned::new(1, None));
            let owner = spawn_owner(&cells);
            let counts = whole(&cells);
            assert!(counts != (0, 1), "the second observation was seen without the first");
            owner.join().unwrap();
            assert_eq!(whole(&cells), (1, 1));
            assert!(cells.shared.get().is_none(), "one observer made no shared state");
        });
    }

    /// A reset from another thread racing the owner's two observations and a scrape: the
    /// owner's shard is only ever zeroed by its owner, scrapes see whole observations, and
    /// what survives the reset is the owner's observations after it, in order.
    #[test]
    fn loom_a_reset_racing_the_owner_keeps_only_later_observations() {
        check(|| {
            let cells = Arc::new(Owned::new(1, None));
            let owner = spawn_owner(&cells);
            let c = Arc::clone(&cells);
            let resetter = loom::thread::spawn(move || c.reset());
            whole(&cells);
            owner.join().unwrap();
            resetter.join().unwrap();
            let after = whole(&cells);
            assert!(after != (1, 0), "the first observation survived a reset the second did not");
        });
    }

    /// The owner's sequence turning over while a scrape reads: a full half's move into its
    /// carry (made then, with the shared state) is seen whole or not at all, on the first
    /// attempt or on a retry.
    #[test]
    fn loom_a_carry_is_never_read_torn() {
        check(|| {
            let cells = Arc::new(Owned::new(1, None));
            cells.set_owners_half(0, HALF_MAX);
            let c = Arc::clone(&cells);
            let owner = loom::thread::spawn(move || {
                // Claims the shard with a sequence about to turn over (see `claim`).
                let tag = tag_of(crate::sync::thread_index()) << TAG_SHIFT;
                let turning = tag | (SEQUENCE - 1);
                assert!(
                    c.first[LOCK].compare_exchange(0, turning, Ordering::Relaxed, Ordering::Relaxed).is_ok()
                );
                c.observe(1, 1.0);
            });
            let mut out = Vec::new();
            let sum = cells.read(&mut out);
            match out[1] - out[0] {
                0 => assert_eq!((out[0], sum), (HALF_MAX, 0.0)),
                1 => assert_eq!((out[0], sum), (HALF_MAX, 1.0)),
                n => panic!("torn read: {out:?}, {n} in bucket 1"),
            }
            owner.join().unwrap();
            assert_eq!(cells.read(&mut out), 1.0);
            assert_eq!(out, [HALF_MAX, HALF_MAX + 1]);
            assert_eq!(cells.owners_half(0), CARRY - 1, "the turn moved a carry out");
        });
    }

    /// Two observers racing each other and a scrape on a histogram that spreads on its first
    /// collision: one claims the owner's shard, the shared shards are published before anyone
    /// uses them, the scrape sees each observation whole or not at all, and the final state is
    /// exact wherever the observations landed.
    #[test]
    fn loom_spreading_out_loses_and_tears_nothing() {
        check(|| {
            let cells = Arc::new(Owned::new(1, None));
            let observers: Vec<_> = [(0, 1.0), (1, 2.0)]
                .into_iter()
                .map(|(bucket, v)| {
                    let c = Arc::clone(&cells);
                    loom::thread::spawn(move || c.observe(bucket, v))
                })
                .collect();
            let mut out = Vec::new();
            let sum = cells.read(&mut out);
            let expected = match (out[0], out[1] - out[0]) {
                (0, 0) => 0.0,
                (1, 0) => 1.0,
                (0, 1) => 2.0,
                (1, 1) => 3.0,
                counts => panic!("impossible counts {counts:?}"),
            };
            assert_eq!(sum, expected, "the sum does not match the counted observations");
            observers.into_iter().for_each(|t| t.join().unwrap());
            assert_eq!(cells.read(&mut out), 3.0);
            assert_eq!(out, [1, 2]);
        });
    }
}
