//! Finding an observation's classic bucket without a data-dependent branch.
//!
//! A linear scan that stops at the first bound `>= v` mispredicts its exit whenever
//! observations spread over the buckets (latencies do), which costs more than the compares.
//! For up to [`INLINE`] bounds the index is instead the number of bounds below `v`, counted
//! over a fixed-size array padded with `+Inf`: the compiler unrolls and vectorises the loop,
//! and the time no longer depends on the value. Longer lists use [`Buckets::index`].

use crate::model::Buckets;

/// Bound lists up to this long are searched branch-free.
const INLINE: usize = 16;

/// A histogram's bounds, laid out for the search.
#[derive(Debug, Clone)]
pub(super) struct BucketSearch {
    /// The finite bounds, then `+Inf` up to [`INLINE`]; unused when `len > INLINE`.
    padded: [f64; INLINE],
    /// How many finite bounds there are (the `+Inf` bucket's index).
    len: usize,
}

impl BucketSearch {
    pub(super) fn new(buckets: &Buckets) -> Self {
        let mut padded = [f64::INFINITY; INLINE];
        let bounds = buckets.bounds();
        if bounds.len() <= INLINE {
            padded[..bounds.len()].copy_from_slice(bounds);
        }
        Self { padded, len: bounds.len() }
    }

    /// The first bucket whose bound is `>= v`, `len` for `+Inf`; NaN lands in `+Inf`, as in Go.
    #[inline]
    pub(super) fn index(&self, buckets: &Buckets, v: f64) -> usize {
        if self.len > INLINE {
            return buckets.index(v);
        }
        // Counting the bounds at or above `v` and taking them from the total, rather than
        // counting `v > b`: NaN is at or above no bound, so it counts as above them all
        // (padding included) and the `min` puts it in `+Inf`. Any other `v` is at or below
        // the `+Inf` padding, so the padding cancels out.
        let at_or_above = self.padded.iter().map(|&b| usize::from(v <= b)).sum::<usize>();
        let above = INLINE - at_or_above;
        above.min(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges_match_the_linear_scan() {
        let b = Buckets::new([1.0, 2.0, 5.0]).unwrap();
        let s = BucketSearch::new(&b);
        for v in [0.5, 1.0, 1.5, 5.0, 6.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
            assert_eq!(s.index(&b, v), b.index(v), "{v}");
        }
        let none = Buckets::none();
        assert_eq!(BucketSearch::new(&none).index(&none, 3.0), 0);
    }

    proptest! {
        /// Every list length (inline and not) and every value: the same bucket as the scan.
        #[test]
        fn agrees_with_the_scan(n in 1usize..40, step in 0.01f64..10.0, v in any::<f64>()) {
            let b = Buckets::linear(-step * 3.0, step, n).unwrap();
            prop_assert_eq!(BucketSearch::new(&b).index(&b, v), b.index(v));
        }
    }
}
