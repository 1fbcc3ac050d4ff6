//! Bucket bounds: validation, Go's helper sequences, and the `le` strings each format writes.

use std::sync::{Arc, OnceLock};

use super::bucket_search::{self, BucketSearch};
use super::error::BucketError;
use crate::syntax::float::{write_go_float, write_om_float};

/// Go's `DefBuckets`: 5 ms to 10 s, for request latencies in seconds.
pub const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Validated, strictly increasing, finite-or-`+Inf`-free bucket upper bounds, shared by every
/// series of a family. The `le` label text of each bound is rendered once, per format.
///
/// ```
/// use promkit::Buckets;
/// let b = Buckets::new([0.1, 1.0, 10.0, f64::INFINITY])?; // a trailing +Inf is dropped
/// assert_eq!(b.bounds(), &[0.1, 1.0, 10.0]);
/// assert!(Buckets::new([1.0, 1.0]).is_err());
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    bounds: Box<[f64]>,
    le_text: Box<[Box<str>]>,
    le_openmetrics: Box<[Box<str>]>,
    /// How observations find their bucket: built by the first histogram that observes with
    /// these bounds, never for parsed ones.
    search: OnceLock<BucketSearch>,
}

/// The bounds decide everything else an `Inner` holds.
impl PartialEq for Inner {
    fn eq(&self, other: &Self) -> bool {
        self.bounds == other.bounds
    }
}

/// Go's default buckets, built once: every histogram given no buckets shares their `le`
/// strings and their bucket search instead of holding copies.
impl Default for Buckets {
    fn default() -> Self {
        static DEFAULT: std::sync::LazyLock<Buckets> = std::sync::LazyLock::new(|| {
            Buckets::new(DEFAULT_BUCKETS).unwrap_or_else(|_| unreachable!("the default buckets are valid"))
        });
        DEFAULT.clone()
    }
}

impl Buckets {
    /// Validates `bounds`: at least one finite bound, no NaN, no `-Inf`, strictly increasing.
    /// A trailing `+Inf` is dropped (the `+Inf` bucket always exists).
    ///
    /// # Errors
    /// [`BucketError`] naming the first bad bound.
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> Result<Self, BucketError> {
        let mut bounds: Vec<f64> = bounds.into_iter().collect();
        if bounds.last() == Some(&f64::INFINITY) {
            bounds.pop();
        }
        if bounds.is_empty() {
            return Err(BucketError::Empty);
        }
        for (index, &value) in bounds.iter().enumerate() {
            if value.is_nan() {
                return Err(BucketError::NaN { index });
            }
            if value == f64::NEG_INFINITY {
                return Err(BucketError::NegativeInfinity { index });
            }
            // The trailing `+Inf` was dropped above: any left is out of place.
            if value == f64::INFINITY {
                return Err(BucketError::InfinityNotLast { index });
            }
            if index > 0 {
                let previous = bounds[index - 1];
                if value == previous {
                    return Err(BucketError::Duplicate { index, value });
                }
                if value < previous {
                    return Err(BucketError::NotSorted { index, value, previous });
                }
            }
        }
        let render = |f: fn(&mut Vec<u8>, f64)| -> Box<[Box<str>]> {
            bounds
                .iter()
                .map(|&b| {
                    let mut out = Vec::new();
                    f(&mut out, b);
                    String::from_utf8(out).unwrap_or_default().into_boxed_str()
                })
                .collect()
        };
        let le_text = render(write_go_float);
        let le_openmetrics = render(write_om_float);
        Ok(Self(Arc::new(Inner {
            bounds: bounds.into_boxed_slice(),
            le_text,
            le_openmetrics,
            search: OnceLock::new(),
        })))
    }

    /// No classic bucket at all, only the implied `+Inf` one: native-only histograms, and a
    /// parsed histogram whose only bucket is `+Inf`.
    ///
    /// ```
    /// assert!(promkit::Buckets::none().is_empty());
    /// ```
    pub fn none() -> Self {
        Self(Arc::new(Inner {
            bounds: Box::default(),
            le_text: Box::default(),
            le_openmetrics: Box::default(),
            search: OnceLock::new(),
        }))
    }

    /// The bucket search for these bounds, built on first use and shared by every clone.
    #[inline]
    pub(crate) fn search(&self) -> &BucketSearch {
        self.0.search.get_or_init(|| BucketSearch::new(&self.0.bounds))
    }

    /// The upper bounds, without the implied `+Inf`.
    pub fn bounds(&self) -> &[f64] {
        &self.0.bounds
    }

    /// The number of finite bounds.
    pub fn len(&self) -> usize {
        self.0.bounds.len()
    }

    /// True only for a native-only histogram's (absent) classic buckets.
    pub fn is_empty(&self) -> bool {
        self.0.bounds.is_empty()
    }

    /// The `le` text of bound `i` in text 0.0.4 (`1`, `0.005`, `1e+06`).
    pub(crate) fn le_text(&self, i: usize) -> &str {
        &self.0.le_text[i]
    }

    /// The `le` text of bound `i` in OpenMetrics (`1.0`, `0.005`, `1e+06`).
    pub(crate) fn le_openmetrics(&self, i: usize) -> &str {
        &self.0.le_openmetrics[i]
    }

    /// The bucket an observation falls in: the first bound `>= v`, or `len()` for `+Inf`
    /// (NaN lands there too, as in Go).
    #[inline]
    pub(crate) fn index(&self, v: f64) -> usize {
        bucket_search::scan(&self.0.bounds, v)
    }

    /// [`index`](Self::index) through the observation search, built on first use: what a
    /// histogram's observe uses.
    #[inline]
    pub(crate) fn search_index(&self, v: f64) -> usize {
        self.search().index(&self.0.bounds, v)
    }

    /// `count` bounds: `start`, `start + width`, … (Go's `LinearBuckets`: the bounds are summed
    /// one after the other, so they round exactly as Go's do and `le` values match).
    ///
    /// # Errors
    /// `count` of zero or a `width` that is not positive and finite.
    pub fn linear(start: f64, width: f64, count: usize) -> Result<Self, BucketError> {
        const HELPER: &str = "linear_buckets";
        if count < 1 {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "count must be at least 1",
            });
        }
        if !start.is_finite() {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "start must be a finite number",
            });
        }
        if !(width > 0.0 && width.is_finite()) {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "width must be positive and finite",
            });
        }
        let mut bounds = Vec::with_capacity(count);
        let mut b = start;
        for _ in 0..count {
            bounds.push(b);
            b += width;
        }
        Self::new(bounds)
    }

    /// `count` bounds: `start`, `start * factor`, … (Go's `ExponentialBuckets`, multiplied one
    /// after the other like Go's).
    ///
    /// # Errors
    /// `count` of zero, `start` not positive, or `factor` not above 1.
    pub fn exponential(start: f64, factor: f64, count: usize) -> Result<Self, BucketError> {
        const HELPER: &str = "exponential_buckets";
        if count < 1 {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "count must be at least 1",
            });
        }
        if !(start > 0.0 && start.is_finite()) {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "start must be positive and finite",
            });
        }
        if !(factor > 1.0 && factor.is_finite()) {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "factor must be finite and greater than 1",
            });
        }
        let mut bounds = Vec::with_capacity(count);
        let mut b = start;
        for _ in 0..count {
            bounds.push(b);
            b *= factor;
        }
        Self::new(bounds)
    }

    /// `count` bounds growing by a constant factor from `min` to `max` (Go's
    /// `ExponentialBucketsRange`).
    ///
    /// # Errors
    /// `count` below 2, `min` not positive, or `max` not above `min`.
    pub fn exponential_range(min: f64, max: f64, count: usize) -> Result<Self, BucketError> {
        const HELPER: &str = "exponential_buckets_range";
        if count < 2 {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "count must be at least 2",
            });
        }
        if !(min > 0.0 && min.is_finite()) {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "min must be positive and finite",
            });
        }
        if !(max > min && max.is_finite()) {
            return Err(BucketError::InvalidHelperArgs {
                helper: HELPER,
                reason: "max must be finite and greater than min",
            });
        }
        // Exact as f64: bucket counts are small.
        let growth = (max / min).powf(1.0 / (count - 1) as f64);
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let bounds = (0..count).map(|i| min * growth.powi(i as i32));
        Self::new(bounds)
    }
}

/// Go's `LinearBuckets`; see [`Buckets::linear`].
///
/// # Errors
/// As [`Buckets::linear`].
pub fn linear_buckets(start: f64, width: f64, count: usize) -> Result<Buckets, BucketError> {
    Buckets::linear(start, width, count)
}

/// Go's `ExponentialBuckets`; see [`Buckets::exponential`].
///
/// # Errors
/// As [`Buckets::exponential`].
pub fn exponential_buckets(start: f64, factor: f64, count: usize) -> Result<Buckets, BucketError> {
    Buckets::exponential(start, factor, count)
}

/// Go's `ExponentialBucketsRange`; see [`Buckets::exponential_range`].
///
/// # Errors
/// As [`Buckets::exponential_range`].
pub fn exponential_buckets_range(min: f64, max: f64, count: usize) -> Result<Buckets, BucketError> {
    Buckets::exponential_range(min, max, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_bad_bound() {
        assert_eq!(Buckets::new([]), Err(BucketError::Empty));
        assert_eq!(Buckets::new([f64::INFINITY]), Err(BucketError::Empty));
        assert_eq!(Buckets::new([1.0, f64::NAN]), Err(BucketError::NaN { index: 1 }));
        assert_eq!(
            Buckets::new([2.0, 1.0]),
            Err(BucketError::NotSorted { index: 1, value: 1.0, previous: 2.0 })
        );
        assert_eq!(Buckets::new([1.0, 1.0]), Err(BucketError::Duplicate { index: 1, value: 1.0 }));
        assert_eq!(Buckets::new([f64::NEG_INFINITY, 1.0]), Err(BucketError::NegativeInfinity { index: 0 }));
        assert_eq!(Buckets::new([1.0, f64::INFINITY, 2.0]), Err(BucketError::InfinityNotLast { index: 1 }));
        assert_eq!(Buckets::new([-1.0, 0.0, 1.0, f64::INFINITY]).unwrap().bounds(), &[-1.0, 0.0, 1.0]);
    }

    #[test]
    fn helpers_match_go() {
        // The seed's buckets: LinearBuckets(200 - 5*40, 0.5*40, 20) = 0, 20, …, 380.
        let b = linear_buckets(0.0, 20.0, 20).unwrap();
        assert_eq!(b.bounds().first(), Some(&0.0));
        assert_eq!(b.bounds().last(), Some(&380.0));
        // Go sums the width one step at a time: 0.1 + 0.1 + 0.1 is 0.30000000000000004.
        let b = linear_buckets(0.1, 0.1, 3).unwrap();
        assert_eq!(b.le_text(2), "0.30000000000000004");
        let b = exponential_buckets(0.001, 10.0, 7).unwrap();
        let le: Vec<_> = (0..7).map(|i| b.le_text(i).to_owned()).collect();
        assert_eq!(le, ["0.001", "0.01", "0.1", "1", "10", "100", "1000"]);
        let le: Vec<_> = (0..7).map(|i| b.le_openmetrics(i).to_owned()).collect();
        assert_eq!(le, ["0.001", "0.01", "0.1", "1.0", "10.0", "100.0", "1000.0"]);
        let b = exponential_buckets_range(1.0, 100.0, 3).unwrap();
        assert_eq!(b.bounds(), &[1.0, 10.0, 100.0]);
        assert!(linear_buckets(0.0, 0.0, 3).is_err());
        assert!(linear_buckets(0.0, 1.0, 0).is_err());
        assert!(exponential_buckets(0.0, 2.0, 3).is_err());
        assert!(exponential_buckets(1.0, 1.0, 3).is_err());
        assert!(exponential_buckets_range(2.0, 1.0, 3).is_err());
        assert_eq!(Buckets::default().bounds(), &DEFAULT_BUCKETS);
    }

    #[test]
    fn index_finds_the_first_bound_not_below() {
        let b = Buckets::new([1.0, 2.0, 5.0]).unwrap();
        assert_eq!(b.index(0.5), 0);
        assert_eq!(b.index(1.0), 0);
        assert_eq!(b.index(1.5), 1);
        assert_eq!(b.index(5.0), 2);
        assert_eq!(b.index(6.0), 3);
        assert_eq!(b.index(f64::NAN), 3);
        assert_eq!(b.index(f64::INFINITY), 3);
        assert_eq!(b.index(f64::NEG_INFINITY), 0);
        let many = Buckets::linear(0.0, 1.0, 100).unwrap();
        for v in [-1.0, 0.0, 0.5, 42.0, 99.0, 99.5, 1e9] {
            let expected = many.bounds().iter().position(|&b| v <= b).unwrap_or(100);
            assert_eq!(many.index(v), expected, "{v}");
        }
    }
}
