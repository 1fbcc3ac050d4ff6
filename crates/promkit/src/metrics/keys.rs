//! `Keys`: a store's series keys in a few large byte chunks instead of one allocation each.
//!
//! A `Box<str>` per series costs its 16-byte pointer and an allocation (32 bytes of malloc chunk
//! for a typical 12-byte key). Here keys are appended to chunks of up to [`CHUNK`] bytes and a
//! series holds a 5-byte [`KeyRef`]: where the key starts across the chunks, and its length.
//! The first chunk grows like a `String` (a family with a few series stays small); later chunks
//! are allocated at [`CHUNK`] bytes and keys never move except when [`compact`](Keys::compact)
//! rewrites them. Removed keys leave dead bytes, which the store reclaims by compacting once
//! they outweigh the live ones.
//!
//! A key of 255 bytes or more, and any key once [`MAX_CHUNKS`] chunks (4 GiB) are full, is
//! kept in a box of its own instead ("spilled"), its reference holding its index among those.

/// Bytes per chunk; a key's start within its chunk fits a `u16`.
const CHUNK: usize = 1 << 16;

/// The chunks a [`KeyRef`] can address: its 32-bit start holds the chunk above the start in
/// the chunk. Tests use a few, so the spilling past them is exercised.
const MAX_CHUNKS: usize = if cfg!(test) { 4 } else { 1 << 16 };

/// `KeyRef::len` of a spilled key: its length is its box's.
const SPILLED: u8 = u8::MAX;

/// Where one key lives: its chunk (the upper 16 bits of `at`), its start in the chunk (the lower
/// 16) and its length; or, with `len` [`SPILLED`], its index among the spilled keys.
///
/// Packed, so the store keeps it in 5 bytes beside its series (13 bytes where a pair with an
/// 8-byte reference took 16); its fields are only ever copied out, never borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, packed)]
pub(super) struct KeyRef {
    at: u32,
    len: u8,
}

impl KeyRef {
    /// A reference to nothing, for a slab position without a series.
    pub(super) const NONE: KeyRef = KeyRef { at: 0, len: 0 };
}

/// Every key of one store.
#[derive(Debug, Default)]
pub(super) struct Keys {
    chunks: Vec<String>,
    /// Keys too long for a one-byte length, or stored once every chunk was taken; a removed
    /// one is emptied.
    spilled: Vec<Box<str>>,
    /// Bytes of removed keys still in the chunks.
    dead: usize,
    /// Bytes of live keys.
    live: usize,
}

impl Keys {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Stores `key`; where it went.
    pub(super) fn push(&mut self, key: &str) -> KeyRef {
        self.live += key.len();
        let len = match u8::try_from(key.len()) {
            Ok(len) if len != SPILLED => len,
            _ => return self.spill(key),
        };
        let fits = self.chunks.last().is_some_and(|c| c.len() + key.len() <= CHUNK);
        if !fits {
            if self.chunks.len() == MAX_CHUNKS {
                return self.spill(key);
            }
            let chunk = if self.chunks.is_empty() { String::new() } else { String::with_capacity(CHUNK) };
            self.chunks.push(chunk);
        }
        let chunk = self.chunks.len() - 1;
        let last = self.chunks.last_mut().expect("a chunk was just ensured");
        let start = last.len();
        last.push_str(key);
        // `chunk < MAX_CHUNKS = 2^16` and `start < CHUNK = 2^16`: the two fit 32 bits.
        KeyRef { at: (chunk << 16 | start) as u32, len }
    }

    /// Stores `key` in a box of its own.
    #[cold]
    fn spill(&mut self, key: &str) -> KeyRef {
        self.spilled.push(key.into());
        // A store has fewer than 2^32 series (its slab positions are `u32`s), and compaction
        // rebuilds this list from the live ones.
        KeyRef { at: u32::try_from(self.spilled.len() - 1).unwrap_or(u32::MAX), len: SPILLED }
    }

    /// The chunk, start and length of a key in the chunks; `None` for a spilled one.
    #[inline(always)]
    fn place(r: KeyRef) -> Option<(usize, usize, usize)> {
        let (at, len) = (r.at as usize, r.len);
        (len != SPILLED).then_some((at >> 16, at & (CHUNK - 1), usize::from(len)))
    }

    /// The spilled key at `r`.
    #[cold]
    fn spilled(&self, r: KeyRef) -> &str {
        self.spilled.get(r.at as usize).map_or("", |k| k)
    }

    /// The key at `r`, and the bytes from its start to the end of its chunk (the key and the
    /// keys stored after it): what an encoder may read past the key to copy it in one move.
    #[inline]
    pub(super) fn get_readable(&self, r: KeyRef) -> (&str, &[u8]) {
        let Some((chunk, start, len)) = Self::place(r) else {
            let key = self.spilled(r);
            return (key, key.as_bytes());
        };
        let chunk = &self.chunks[chunk];
        // Sliced without `str`'s char-boundary checks: on a scrape they were the first reads
        // of each key's bytes, and dropping them made a 10,000-series text encode 3.5%
        // faster. The clamps keep the range in bounds whatever `r` holds.
        let start = start.min(chunk.len());
        let readable = &chunk.as_bytes()[start..];
        let len = len.min(readable.len());
        // SAFETY: `KeyRef`s are made only by `push` (and by `compact`, through `push`), each
        // for a whole `&str` it appended at `start..start + len` of this chunk. The store
        // keeps each `KeyRef` in its own entries, beside the `Keys` that made it, and uses
        // it with no other. Chunks are only appended to, or replaced whole by `compact`,
        // which updates every `KeyRef`. So both ends are char boundaries of the chunk's
        // valid UTF-8, and the range is in bounds (clamped above besides).
        #[allow(unsafe_code)]
        let key = unsafe { chunk.get_unchecked(start..start + len) };
        (key, readable)
    }

    /// The key at `r`.
    #[inline]
    pub(super) fn get(&self, r: KeyRef) -> &str {
        match Self::place(r) {
            Some((chunk, start, len)) => &self.chunks[chunk][start..start + len],
            None => self.spilled(r),
        }
    }

    /// Marks the key at `r` removed; its bytes stay until the next compaction (a spilled key's
    /// box is freed at once).
    pub(super) fn remove(&mut self, r: KeyRef) {
        let len = self.get(r).len();
        self.live -= len;
        self.dead += len;
        if Self::place(r).is_none()
            && let Some(k) = self.spilled.get_mut(r.at as usize)
        {
            *k = Box::default();
        }
    }

    /// True when removed keys take more room than live ones (and at least a chunk), so a
    /// compaction is worth its copy.
    pub(super) fn wants_compaction(&self) -> bool {
        self.dead > self.live && self.dead >= CHUNK
    }

    /// Copies every live key (each `KeyRef` yielded by `refs`, updated in place) into fresh
    /// chunks, dropping the dead bytes.
    pub(super) fn compact<'r>(&mut self, refs: impl Iterator<Item = &'r mut KeyRef>) {
        let mut fresh = Keys::new();
        for r in refs {
            *r = fresh.push(self.get(*r));
        }
        *self = fresh;
    }
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, Keys};

    #[test]
    fn keys_round_trip_across_chunks_and_compaction() {
        let mut keys = Keys::new();
        let texts: Vec<String> = (0..20_000).map(|i| format!("GET\nid-{i}")).collect();
        let mut refs: Vec<_> = texts.iter().map(|t| keys.push(t)).collect();
        let long = "x".repeat(70_000);
        let long_ref = keys.push(&long);
        let after_long = keys.push("after");
        assert!(keys.chunks.len() > 2, "20,000 keys span several chunks");
        for (t, r) in texts.iter().zip(&refs) {
            assert_eq!(keys.get(*r), t);
            assert_eq!(keys.get_readable(*r).0, t);
        }
        assert_eq!(keys.get_readable(long_ref).0, long);
        assert_eq!(keys.get(long_ref), long);
        assert_eq!(keys.get(after_long), "after");
        assert!(keys.chunks.iter().skip(1).all(|c| c.capacity() <= CHUNK || c.len() == c.capacity()));

        for r in refs.drain(..15_000) {
            keys.remove(r);
        }
        assert!(keys.wants_compaction());
        keys.compact(refs.iter_mut());
        for (t, r) in texts[15_000..].iter().zip(&refs) {
            assert_eq!(keys.get(*r), t);
            let (key, readable) = keys.get_readable(*r);
            assert_eq!(key, t);
            assert!(readable.starts_with(t.as_bytes()));
        }
        assert_eq!(keys.dead, 0);
    }

    #[test]
    fn a_key_of_255_bytes_or_more_is_spilled_and_one_shorter_is_not() {
        let mut keys = Keys::new();
        let (short, long) = ("s".repeat(254), "l".repeat(255));
        let (s, l) = (keys.push(&short), keys.push(&long));
        assert_eq!(keys.spilled.len(), 1);
        assert_eq!(keys.chunks[0], short, "the 254-byte key is in the chunk");
        assert_eq!((keys.get(s), keys.get(l)), (short.as_str(), long.as_str()));
        assert_eq!(keys.get_readable(l), (long.as_str(), long.as_bytes()), "a spilled key is readable alone");
        keys.remove(l);
        assert_eq!(&*keys.spilled[0], "", "a removed spilled key is freed at once");
        assert_eq!((keys.live, keys.dead), (254, 255));
    }

    #[test]
    fn keys_past_the_last_chunk_spill_and_survive_compaction() {
        let mut keys = Keys::new();
        // About 13 bytes each: three times what the test build's chunks hold.
        let n = 3 * super::MAX_CHUNKS * CHUNK / 13;
        let texts: Vec<String> = (0..n).map(|i| format!("GET\nid-{i:07}")).collect();
        let mut refs: Vec<_> = texts.iter().map(|t| keys.push(t)).collect();
        assert_eq!(keys.chunks.len(), super::MAX_CHUNKS, "every chunk was filled before any spill");
        assert!(keys.spilled.len() > n / 2, "{} of {n} keys spilled", keys.spilled.len());
        for (t, r) in texts.iter().zip(&refs) {
            assert_eq!(keys.get(*r), t);
            let (key, readable) = keys.get_readable(*r);
            assert_eq!(key, t);
            assert!(readable.starts_with(t.as_bytes()));
        }
        // Remove the first five sixths: the chunked keys and most spilled ones.
        let gone = 5 * n / 6;
        for r in refs.drain(..gone) {
            keys.remove(r);
        }
        assert!(keys.wants_compaction());
        keys.compact(refs.iter_mut());
        assert_eq!(keys.spilled.len(), 0, "the {} live keys fit the chunks again", n - gone);
        for (t, r) in texts[gone..].iter().zip(&refs) {
            assert_eq!(keys.get(*r), t);
        }
        assert_eq!((keys.live, keys.dead), (texts[gone..].iter().map(String::len).sum(), 0));
    }
}
