//! `Slab`: a store's series positions, in fixed chunks so growth neither doubles nor copies.
//!
//! A `Vec` of a million entries holds up to twice the space it uses and copies every entry
//! when it grows. Here the first chunk grows like a `Vec` up to [`CHUNK`] entries (a family
//! with a few series stays small), and every later chunk is allocated at exactly [`CHUNK`]
//! entries and never moves, so the slack is under one chunk and growth copies nothing.
//! Position `p` lives at chunk `p / CHUNK`, index `p % CHUNK`.

use std::ops::{Index, IndexMut};

/// Entries per chunk: a power of two, so a position splits with a shift and a mask.
const CHUNK: usize = 1024;

/// A growable array addressed by position, in chunks of [`CHUNK`] entries.
#[derive(Debug)]
pub(super) struct Slab<E> {
    chunks: Vec<Vec<E>>,
    len: usize,
}

impl<E> Slab<E> {
    pub(super) fn new() -> Self {
        Self { chunks: Vec::new(), len: 0 }
    }

    /// The number of positions in use (filled or not).
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends `e` at position `len()`.
    pub(super) fn push(&mut self, e: E) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(e),
            _ => {
                // The first chunk starts empty and grows on demand; later ones are sized once.
                let mut chunk = if self.chunks.is_empty() { Vec::new() } else { Vec::with_capacity(CHUNK) };
                chunk.push(e);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    /// Every entry, in position order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &E> {
        self.chunks.iter().flatten()
    }

    /// Every entry, mutably, in position order.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut E> {
        self.chunks.iter_mut().flatten()
    }
}

impl<E> Index<usize> for Slab<E> {
    type Output = E;

    #[inline]
    fn index(&self, p: usize) -> &E {
        &self.chunks[p / CHUNK][p % CHUNK]
    }
}

impl<E> IndexMut<usize> for Slab<E> {
    #[inline]
    fn index_mut(&mut self, p: usize) -> &mut E {
        &mut self.chunks[p / CHUNK][p % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, Slab};

    #[test]
    fn positions_survive_growth_across_chunks() {
        let mut slab = Slab::new();
        let n = CHUNK * 3 + 7;
        for i in 0..n {
            slab.push(i);
        }
        assert_eq!(slab.len(), n);
        assert_eq!(slab[0], 0);
        assert_eq!(slab[CHUNK - 1], CHUNK - 1);
        assert_eq!(slab[CHUNK], CHUNK);
        assert_eq!(slab[n - 1], n - 1);
        slab[CHUNK + 1] = 0;
        assert_eq!(slab[CHUNK + 1], 0);
        assert_eq!(slab.iter().count(), n);
        assert_eq!(slab.chunks.iter().skip(1).map(Vec::capacity).collect::<Vec<_>>(), vec![CHUNK; 3]);
    }
}
