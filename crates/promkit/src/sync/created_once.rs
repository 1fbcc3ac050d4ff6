//! `CreatedOnce`: a series' creation time and its rarely used parts, in one word.
//!
//! A counter keeps its creation time (OpenMetrics `_created`) for good and a box of extras
//! (local handles, an exemplar, spread cells) that most counters never make. As an `f64` beside
//! a [`OnceBox`](super::OnceBox) the two take 16 bytes; here they share one 64-bit word. Until the
//! box is made the word holds the time's bits shifted up by one with the low bit set. Making the
//! box moves the time into it and swaps the word for the box's address, which is even. So a
//! counter's shared state is 24 bytes with its reference count, where it was 32: the system
//! allocator gives it a 32-byte chunk instead of a 48-byte one.
//!
//! The word is a `u64` rather than a pointer so it holds the time on 32-bit targets too; the
//! box's address goes through it with its provenance exposed, and comes back from it with
//! [`std::ptr::with_exposed_provenance`].
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use super::AtomicU64;

/// A creation time, and a `T` made by the first [`get_or_init`](Self::get_or_init).
///
/// `T: Send + Sync` for the reason [`OnceBox`](super::OnceBox) gives: the value may be built on
/// one thread, read from any and dropped on another.
pub(crate) struct CreatedOnce<T: Send + Sync> {
    /// Odd: `created.to_bits() << 1 | 1`, nothing published yet. Even: the exposed address of a
    /// `Box<Published<T>>` this struct owns (its alignment is at least 8).
    word: AtomicU64,
    /// The box the word may own, for the drop check and the auto traits.
    _owns: PhantomData<Box<Published<T>>>,
}

/// What a published word points to.
struct Published<T> {
    created: f64,
    value: T,
}

/// The low bit of a word that still holds the time.
const TIME: u64 = 1;

impl<T: Send + Sync> CreatedOnce<T> {
    /// The time `created`, in seconds since the Unix epoch, with no value yet. A time before
    /// the epoch (a clock set that far back) is kept as the epoch: the word has no room for
    /// the sign bit.
    pub(crate) fn new(created: f64) -> Self {
        let created = if created > 0.0 { created } else { 0.0 };
        // The sign bit is clear, so the shift loses nothing; NaN was mapped to 0 above.
        Self { word: AtomicU64::new(created.to_bits() << 1 | TIME), _owns: PhantomData }
    }

    /// The creation time given to [`new`](Self::new).
    #[inline]
    pub(crate) fn created(&self) -> f64 {
        match self.published() {
            Ok(p) => p.created,
            Err(bits) => f64::from_bits(bits),
        }
    }

    /// The value, if one was published.
    #[inline]
    pub(crate) fn get(&self) -> Option<&T> {
        self.published().ok().map(|p| &p.value)
    }

    /// The value, or the creation time while there is none: one load where [`get`](Self::get)
    /// and [`created`](Self::created) take two.
    #[inline]
    pub(crate) fn get_or_created(&self) -> Result<&T, f64> {
        self.published().map(|p| &p.value).map_err(f64::from_bits)
    }

    /// The value, made by `make` if none was published yet.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> T) -> &T {
        let bits = match self.published() {
            Ok(p) => return &p.value,
            Err(bits) => bits,
        };
        let new = Box::into_raw(Box::new(Published { created: f64::from_bits(bits), value: make() }));
        let address = new.expose_provenance() as u64;
        // Release on success publishes the box's construction to every Acquire load; Acquire on
        // failure makes the winner's construction visible before we read it. The expected word
        // is the time's, which never changes: the exchange fails only if another thread
        // published first.
        match self.word.compare_exchange(bits << 1 | TIME, address, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `new` is now owned by `self` and freed only by `drop`, which takes
            // `&mut self`; only shared references to it are made.
            Ok(_) => unsafe { &(*new).value },
            Err(winner) => {
                // SAFETY: `new` came from `Box::into_raw` above and was never published, so this
                // is its only owner.
                drop(unsafe { Box::from_raw(new) });
                // SAFETY: the word left the time's state, so it holds a published address (even);
                // as in `published`.
                unsafe { &(*Self::pointer(winner)).value }
            }
        }
    }

    /// The published box, or the time's bits while there is none.
    #[inline(always)]
    fn published(&self) -> Result<&Published<T>, u64> {
        // Acquire: pairs with the Release of the publishing compare-and-swap, so the box's
        // construction happens-before this read of it.
        let word = self.word.load(Ordering::Acquire);
        if word & TIME == TIME {
            return Err(word >> 1);
        }
        // SAFETY: an even word is the exposed address of a `Box<Published<T>>` published by
        // `get_or_init` and freed only by `drop`, which takes `&mut self`: it outlives this
        // borrow of `self`.
        Ok(unsafe { &*Self::pointer(word) })
    }

    /// A published word as the pointer it was made from.
    #[inline(always)]
    fn pointer(word: u64) -> *mut Published<T> {
        // A published word is an address this process exposed, so it fits a `usize`.
        #[allow(clippy::cast_possible_truncation)]
        std::ptr::with_exposed_provenance_mut(word as usize)
    }
}

impl<T: Send + Sync> Drop for CreatedOnce<T> {
    fn drop(&mut self) {
        // Acquire, as in `OnceBox::drop`: loom's atomics lend no `get_mut`.
        let word = self.word.load(Ordering::Acquire);
        if word & TIME == 0 {
            // SAFETY: a published box, owned by `self`, freed once here.
            drop(unsafe { Box::from_raw(Self::pointer(word)) });
        }
    }
}

impl<T: Send + Sync + std::fmt::Debug> std::fmt::Debug for CreatedOnce<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedOnce").field("created", &self.created()).field("value", &self.get()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::CreatedOnce;

    #[test]
    fn the_time_survives_the_value_being_made() {
        for created in [1_733_600_000.123_456_7, 0.0, f64::MIN_POSITIVE, 4.0e10] {
            let once: CreatedOnce<String> = CreatedOnce::new(created);
            assert_eq!(once.created().to_bits(), created.to_bits(), "{created} before the value");
            assert_eq!(once.get(), None);
            assert_eq!(once.get_or_init(|| "first".to_owned()), "first");
            assert_eq!(once.get_or_init(|| "second".to_owned()), "first");
            assert_eq!(once.get().map(String::as_str), Some("first"));
            assert_eq!(once.created().to_bits(), created.to_bits(), "{created} after the value");
        }
        assert_eq!(std::mem::size_of::<CreatedOnce<String>>(), 8);
    }

    #[test]
    fn a_time_before_the_epoch_is_kept_as_the_epoch() {
        for created in [-1.5, -0.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(CreatedOnce::<u8>::new(created).created().to_bits(), 0.0f64.to_bits(), "{created}");
        }
    }

    #[test]
    fn racing_initialisers_agree_on_one_value_and_drop_the_rest() {
        crate::sync::race::four_racers_agree(CreatedOnce::new(12.25), |once, make| {
            assert_eq!(once.created(), 12.25, "before publishing");
            let won = once.get_or_init(make).0;
            assert_eq!(once.created(), 12.25, "after publishing");
            won
        });
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::CreatedOnce;
    use loom::sync::Arc;

    /// Two threads publish while the model's thread reads: every reader sees the time it was
    /// given, before and after, and all agree on the one value that won.
    #[test]
    fn loom_publishing_keeps_the_time_and_one_value() {
        loom::model(|| {
            let once = Arc::new(CreatedOnce::new(1_733_600_000.5));
            let racers: Vec<_> = [1u32, 2]
                .into_iter()
                .map(|n| {
                    let once = Arc::clone(&once);
                    loom::thread::spawn(move || {
                        let v = *once.get_or_init(|| n);
                        assert_eq!(once.created(), 1_733_600_000.5);
                        v
                    })
                })
                .collect();
            assert_eq!(once.created(), 1_733_600_000.5);
            let early = once.get().copied();
            let won: Vec<u32> = racers.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(won[0], won[1], "both racers read the winner's value");
            assert!(early.is_none() || early == Some(won[0]), "an early read saw {early:?}, not {}", won[0]);
            assert_eq!(once.get().copied(), Some(won[0]));
        });
    }
}
