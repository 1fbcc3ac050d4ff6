//! `LabelValue`: one field of a typed label set, turned into label text.

use std::borrow::Cow;
use std::sync::Arc;

/// A type that can be the value of one label.
///
/// Implemented for strings, integers and `bool`; `#[derive(LabelValue)]` implements it for
/// enums of unit variants. Types with a small, fixed set of values (enums, `bool`) report it in
/// [`CARDINALITY`](Self::CARDINALITY), which lets a [`TypedFamily`](crate::TypedFamily) whose
/// labels are all such types store its series in a dense array: a lookup is an index, with no
/// hash and no lock.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a label value",
    label = "not a label value",
    note = "label values are strings, integers, bools, or enums with `#[derive(promkit::LabelValue)]`"
)]
pub trait LabelValue {
    /// The number of distinct values, when it is fixed (enums, `bool`); `None` otherwise.
    const CARDINALITY: Option<usize>;

    /// The label text of every value, in [`index`](Self::index) order, when the values are a
    /// fixed set (`["false", "true"]` for `bool`, each variant's text for a derived enum);
    /// empty otherwise. An [`EnumStateSet`](crate::EnumStateSet) writes one state per text.
    const TEXTS: &'static [&'static str] = &[];

    /// This value's position in `0..CARDINALITY`. Only called when `CARDINALITY` is `Some`.
    fn index(&self) -> usize;

    /// Calls `f` with the label text of this value.
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R;
}

impl LabelValue for bool {
    const CARDINALITY: Option<usize> = Some(2);
    const TEXTS: &'static [&'static str] = &["false", "true"];
    #[inline]
    fn index(&self) -> usize {
        usize::from(*self)
    }
    #[inline]
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(if *self { "true" } else { "false" })
    }
}

macro_rules! string_label_value {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            const CARDINALITY: Option<usize> = None;
            #[inline]
            fn index(&self) -> usize {
                0
            }
            #[inline]
            fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
                f(self)
            }
        }
    )*};
}
string_label_value!(str, String, Box<str>, Arc<str>, Cow<'_, str>);

impl<T: LabelValue + ?Sized> LabelValue for &T {
    const CARDINALITY: Option<usize> = T::CARDINALITY;
    const TEXTS: &'static [&'static str] = T::TEXTS;
    #[inline]
    fn index(&self) -> usize {
        (**self).index()
    }
    #[inline]
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        (**self).with_str(f)
    }
}

macro_rules! integer_label_value {
    ($($t:ty),*) => {$(
        impl LabelValue for $t {
            const CARDINALITY: Option<usize> = None;
            #[inline]
            fn index(&self) -> usize {
                0
            }
            #[inline]
            fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
                f(itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
integer_label_value!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// Multiplies two cardinalities in a `const` context; `None` (unbounded) absorbs, and so does
/// an overflow. Used by `#[derive(LabelSet)]`.
#[doc(hidden)]
pub const fn mul_cardinality(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => a.checked_mul(b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_and_integers_render_as_go_would() {
        assert_eq!(true.with_str(str::to_owned), "true");
        assert_eq!(false.index(), 0);
        assert_eq!(true.index(), 1);
        assert_eq!((-42i32).with_str(str::to_owned), "-42");
        assert_eq!(u64::MAX.with_str(str::to_owned), "18446744073709551615");
        assert_eq!("x".with_str(str::len), 1);
    }

    #[test]
    fn cardinality_product_saturates_to_unbounded() {
        assert_eq!(mul_cardinality(Some(3), Some(4)), Some(12));
        assert_eq!(mul_cardinality(Some(3), None), None);
        assert_eq!(mul_cardinality(Some(usize::MAX), Some(2)), None);
    }
}
