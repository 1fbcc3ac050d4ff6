//! Native-histogram bucket math: the key of a value at a schema, and a key's upper bound.
//!
//! Bucket `k` of schema `s` holds observations in `(2^((k-1)/2^s), 2^(k/2^s)]`. Go's
//! client_golang computes the key with `frexp` and, for positive schemas, a binary search of the
//! mantissa in its own bound table ([`BOUNDS`]), whose constants are not all correctly rounded;
//! so the answer for a value on or next to a bound is Go's table's, not the exact power of two.
//!
//! Here the search is a table lookup: the top `s + 1` bits of the mantissa split `[0.5, 1)` into
//! `2^(s+1)` equal steps of `2^-(s+2)`, narrower than the gap between any two of Go's bounds
//! (at least `0.5 * (2^(2^-s) - 1) > 0.34 * 2^-s`), so each step holds at most one bound. The
//! table keeps, per step, how many bounds lie below the step and the first bound at or above
//! its start; one comparison with that bound finishes the count. The result is exactly Go's
//! `sort.SearchFloat64s(bounds, frac)` (the tests compare the two at every bound, next to it
//! and at random).
//!
//! It all works on the value's bits, with no float made or compared: every `frac` and every
//! bound share one exponent, so they compare as their significands (the mantissa with its
//! leading 1) do, and the top `s + 2` bits of the significand are the step's place in the table.

use super::native_bounds::BOUNDS;

/// Bits of an `f64`'s mantissa field.
const MANTISSA_BITS: u32 = 52;
const MANTISSA: u64 = (1 << MANTISSA_BITS) - 1;

/// The significand's leading bit, implicit in an `f64`'s bits.
const LEADING: u64 = 1 << MANTISSA_BITS;

/// For one step of the mantissa: the bounds below its start, and the significand of the first
/// bound at or above its start (`2 * LEADING`, above every significand, when there is none).
#[derive(Clone, Copy, Debug)]
struct Step {
    bound: u64,
    below: u32,
}

/// Steps of schema `s` (1 to 8) sit at `2^(s+1)..2^(s+2)` (4 to 8 for schema 1, 512 to 1024
/// for 8): a significand's top `s + 2` bits are its step's index, with no offset to add.
const STEPS: usize = 1 << 10;

/// The significand of `frac` (in `[0.5, 1)`), from its bits: within that range, ordered as
/// the values are. (Only the mantissa field of `frac_bits` is read.)
#[inline(always)]
const fn significand(frac_bits: u64) -> u64 {
    (frac_bits & MANTISSA) | LEADING
}

/// The step tables of schemas 1 to 8, computed from Go's bounds at compile time.
static TABLE: [Step; STEPS] = {
    let mut table = [Step { bound: 2 * LEADING, below: 0 }; STEPS];
    let mut schema = 1;
    while schema <= 8 {
        let bounds = BOUNDS[schema as usize];
        let steps = 1usize << (schema + 1);
        let mut j = 0;
        while j < steps {
            // The step's start, 0.5 + j * 2^-(s+2), as a significand.
            let start = LEADING | ((j as u64) << (MANTISSA_BITS - schema - 1));
            let mut below = 0;
            while below < bounds.len() && significand(bounds[below].to_bits()) < start {
                below += 1;
            }
            let bound = if below < bounds.len() { significand(bounds[below].to_bits()) } else { 2 * LEADING };
            table[steps + j] = Step { bound, below: below as u32 };
            j += 1;
        }
        schema += 1;
    }
    table
};

/// `v = frac * 2^exp` with `frac` in `[0.5, 1)`, for finite positive `v` (Go's `math.Frexp`).
#[inline]
fn frexp(v: f64) -> (f64, i32) {
    let bits = v.to_bits();
    if (bits >> MANTISSA_BITS) & 0x7ff == 0 {
        return frexp_subnormal(v);
    }
    frexp_normal(bits)
}

/// [`frexp`] of a normal number, given its bits.
#[inline]
fn frexp_normal(bits: u64) -> (f64, i32) {
    #[allow(clippy::cast_possible_wrap)] // an 11-bit field
    let raw_exp = ((bits >> MANTISSA_BITS) & 0x7ff) as i32;
    let frac = f64::from_bits((bits & (0x8000_0000_0000_0000 | MANTISSA)) | (1022 << MANTISSA_BITS));
    (frac, raw_exp - 1022)
}

#[cold]
fn frexp_subnormal(v: f64) -> (f64, i32) {
    // Scale into the normal range first.
    let (f, e) = frexp(v * f64::from_bits(0x4350_0000_0000_0000)); // 2^54
    (f, e - 54)
}

/// `x * 2^e`, exact wherever the result is normal (Go's `math.Ldexp`).
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(u64::try_from(k + 1023).unwrap_or(0) << 52);
    while e > 1023 {
        x *= pow2(1023);
        e -= 1023;
    }
    while e < -1022 {
        x *= pow2(-1022);
        e += 1022;
    }
    x * pow2(e)
}

/// How many of schema `schema`'s bounds (1 to 8) lie below the `frac` (in `[0.5, 1)`) whose
/// bits are `frac_bits`: Go's `sort.SearchFloat64s(nativeHistogramBounds[schema], frac)`.
#[inline(always)]
fn bounds_below(frac_bits: u64, schema: u32) -> i32 {
    let sig = significand(frac_bits);
    // Below `2^(schema + 2)`, within `STEPS` for every schema there is: the mask only lets
    // the compiler drop the bounds check.
    #[allow(clippy::cast_possible_truncation)]
    let step = TABLE[(sig >> (MANTISSA_BITS - schema - 1)) as usize & (STEPS - 1)];
    #[allow(clippy::cast_possible_wrap)] // at most 256
    let below = step.below as i32;
    below + i32::from(step.bound < sig)
}

/// The bucket key of `|v|` (positive, finite or infinite) at `schema` (-4 to 8).
#[inline(always)] // Once per observation: a call costs as much as the table lookup.
pub(crate) fn key(abs: f64, schema: i32) -> i32 {
    let bits = abs.to_bits();
    // One check for both rare cases, infinity (exponent field all ones) and subnormals (all
    // zeros): the exponent field minus one wraps past `0x7fd` for exactly those two. (`abs`
    // has no sign bit; were it set, the field would read above `0x7ff` and go there too.)
    let raw_exp = bits >> MANTISSA_BITS;
    if raw_exp.wrapping_sub(1) >= 0x7fe {
        return key_extreme(abs, schema);
    }
    // `abs = frac * 2^exp` with `frac` in `[0.5, 1)`, and `frac` has `abs`' mantissa bits.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // an 11-bit field
    let exp = raw_exp as i32 - 1022;
    key_of(bits, exp, schema)
}

/// The key of `frac * 2^exp` at `schema`, where `frac` (in `[0.5, 1)`) has the mantissa bits
/// of `frac_bits` (its other bits are not read).
#[inline(always)]
fn key_of(frac_bits: u64, exp: i32, schema: i32) -> i32 {
    if schema > 0 {
        #[allow(clippy::cast_sign_loss)] // positive here
        let s = schema as u32;
        bounds_below(frac_bits, s) + ((exp - 1) << s)
    } else {
        // `frac` is 0.5 exactly when its mantissa bits are zero.
        let k = if frac_bits & MANTISSA == 0 { exp - 1 } else { exp };
        let offset = (1 << -schema) - 1;
        (k + offset) >> -schema
    }
}

/// [`key`] of an infinite or subnormal `|v|`: out of line, so the common case stays short.
#[cold]
#[inline(never)]
fn key_extreme(abs: f64, schema: i32) -> i32 {
    if abs.is_infinite() {
        // ±Inf get a bucket of their own above the one holding f64::MAX.
        return key(f64::MAX, schema) + 1;
    }
    let (frac, exp) = frexp(abs);
    key_of(frac.to_bits(), exp, schema)
}

/// The upper bound of bucket `key` at `schema` (Go's `getLe`), with the bucket that holds
/// `f64::MAX` bounded by `f64::MAX` rather than `+Inf`.
pub(crate) fn upper_bound(key: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = key << -schema;
        if exp == 1024 {
            return f64::MAX;
        }
        return ldexp(1.0, exp);
    }
    let frac_idx = key & ((1 << schema) - 1);
    let frac = BOUNDS[usize::try_from(schema).unwrap_or(0)][usize::try_from(frac_idx).unwrap_or(0)];
    let exp = (key >> schema) + 1;
    if frac == 0.5 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Go's key: `frexp`, then for positive schemas a binary search in its bound table.
    fn go_key(abs: f64, schema: i32) -> i32 {
        let (abs, inf) = if abs.is_infinite() { (f64::MAX, true) } else { (abs, false) };
        let (frac, exp) = frexp(abs);
        let k = if schema > 0 {
            let bounds = BOUNDS[schema as usize];
            let idx = bounds.partition_point(|&b| b < frac) as i32;
            idx + (exp - 1) * bounds.len() as i32
        } else {
            let k = if frac == 0.5 { exp - 1 } else { exp };
            let offset = (1 << -schema) - 1;
            (k + offset) >> -schema
        };
        if inf { k + 1 } else { k }
    }

    #[test]
    fn each_step_holds_at_most_one_bound() {
        for schema in 1..=8u32 {
            let steps = 1usize << (schema + 1);
            for (i, b) in BOUNDS[schema as usize].iter().enumerate() {
                let sig = significand(b.to_bits());
                let at = (sig >> (MANTISSA_BITS - schema - 1)) as usize;
                assert!((steps..2 * steps).contains(&at), "schema {schema} bound {i}: step {at}");
                let step = TABLE[at];
                assert_eq!(step.below as usize, i, "schema {schema} bound {i}: {b}");
                assert_eq!(step.bound, sig);
                assert_eq!(f64::from_bits(sig & MANTISSA | 1022 << MANTISSA_BITS), *b, "{b} is in [0.5, 1)");
            }
        }
    }

    #[test]
    fn keys_match_go_at_every_bound_and_its_neighbours() {
        for schema in -4..=8 {
            for exp in [-1074, -1022, -60, -1, 0, 1, 2, 30, 1023] {
                let scale = ldexp(1.0, exp);
                for &b in BOUNDS[8].iter().chain(BOUNDS[schema.max(0) as usize]) {
                    for v in [b, b.next_up(), b.next_down(), 2.0 * b, (2.0 * b).next_down()] {
                        let v = v * scale;
                        if v > 0.0 && v.is_finite() {
                            assert_eq!(key(v, schema), go_key(v, schema), "{v:e} at schema {schema}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn keys_match_go_at_every_step_edge() {
        for schema in 1..=8u32 {
            for j in 0..(1u64 << (schema + 1)) {
                let start = f64::from_bits((1023 << MANTISSA_BITS) | (j << (MANTISSA_BITS - schema - 1)));
                for v in [start, start.next_up(), start.next_down(), start * 3.0, start / 1024.0] {
                    let s = schema as i32;
                    assert_eq!(key(v, s), go_key(v, s), "{v:e} at schema {schema}");
                }
            }
        }
    }

    #[test]
    fn keys_at_exact_boundaries_go_to_the_lower_bucket() {
        // Upper bounds are inclusive: 1 is in bucket 0, 2 in bucket 1 (schema 0).
        assert_eq!(key(1.0, 0), 0);
        assert_eq!(key(2.0, 0), 1);
        assert_eq!(key(1.5, 0), 1);
        assert_eq!(key(0.5, 0), -1);
        assert_eq!(key(4.0, -1), 1);
        assert_eq!(key(5.0, -1), 2);
        assert_eq!(key(1.0, 3), 0);
        assert_eq!(key(2.0, 3), 8);
        assert_eq!(key(f64::MAX, 0), 1024);
        assert_eq!(key(f64::INFINITY, 0), 1025);
        assert_eq!(key(f64::INFINITY, 3), go_key(f64::INFINITY, 3));
        assert_eq!(upper_bound(1024, 0), f64::MAX);
        assert_eq!(upper_bound(1025, 0), f64::INFINITY);
        // Subnormals and the smallest positive value.
        assert_eq!(key(f64::from_bits(1), 0), -1074);
        assert_eq!(key(f64::MIN_POSITIVE, 0), -1022);
        assert_eq!(key(f64::from_bits(1), 8), go_key(f64::from_bits(1), 8));
    }

    proptest! {
        /// The table lookup gives Go's binary-search key for any value at any schema.
        #[test]
        fn keys_match_go(bits in any::<u64>(), schema in -4i32..=8) {
            let v = f64::from_bits(bits).abs();
            prop_assume!(v > 0.0 && !v.is_nan());
            prop_assert_eq!(key(v, schema), go_key(v, schema), "{:e} at schema {}", v, schema);
        }

        /// Every finite value lies in its bucket: above the previous bound, at most its own.
        #[test]
        fn values_lie_within_their_bucket(bits in any::<u64>(), schema in -4i32..=8) {
            let v = f64::from_bits(bits).abs();
            prop_assume!(v.is_finite() && v > 0.0);
            let k = key(v, schema);
            let upper = upper_bound(k, schema);
            let lower = upper_bound(k - 1, schema);
            prop_assert!(v <= upper, "{v} > upper {upper} (key {k}, schema {schema})");
            prop_assert!(v > lower, "{v} <= lower {lower} (key {k}, schema {schema})");
        }

        /// Keys are monotone in the value.
        #[test]
        fn keys_are_monotone(a in any::<u64>(), b in any::<u64>(), schema in -4i32..=8) {
            let (x, y) = (f64::from_bits(a).abs(), f64::from_bits(b).abs());
            prop_assume!(x.is_finite() && y.is_finite() && x > 0.0 && y > 0.0 && x <= y);
            prop_assert!(key(x, schema) <= key(y, schema));
        }
    }
}
