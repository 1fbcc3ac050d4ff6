//! `LabelSet`: a whole set of labels as one Rust type, so a wrong label cannot compile.

use super::value::LabelValue;

/// The labels of one series, as a type.
///
/// `#[derive(LabelSet)]` implements it for a struct with named fields whose types implement
/// [`LabelValue`]; the field names are the label names (`#[label(rename = "...")]` changes one).
/// Fixed-size arrays of strings implement it too, for label sets whose names are given at run
/// time ([`TypedFamily`](crate::TypedFamily) takes the names when it is built).
///
/// When every field has a fixed cardinality the whole set has one
/// ([`CARDINALITY`](Self::CARDINALITY) is their product) and families store its series densely.
pub trait LabelSet {
    /// The label names, in field order; empty for types whose names come at run time.
    const NAMES: &'static [&'static str];

    /// The number of distinct label sets when it is fixed; `None` otherwise.
    const CARDINALITY: Option<usize>;

    /// The number of labels (equal to `NAMES.len()` for derived sets).
    const LEN: usize;

    /// This set's position in `0..CARDINALITY` (mixed radix over the fields in order). Only called
    /// when `CARDINALITY` is `Some`.
    fn index(&self) -> usize;

    /// Calls `f(i, value)` for each label, in field order.
    fn for_each_value(&self, f: &mut dyn FnMut(usize, &str));
}

impl<V: LabelValue, const N: usize> LabelSet for [V; N] {
    const NAMES: &'static [&'static str] = &[];
    const CARDINALITY: Option<usize> = None;
    const LEN: usize = N;

    #[inline]
    fn index(&self) -> usize {
        0
    }

    #[inline]
    fn for_each_value(&self, f: &mut dyn FnMut(usize, &str)) {
        for (i, v) in self.iter().enumerate() {
            v.with_str(|s| f(i, s));
        }
    }
}

impl LabelSet for () {
    const NAMES: &'static [&'static str] = &[];
    const CARDINALITY: Option<usize> = Some(1);
    const LEN: usize = 0;

    #[inline]
    fn index(&self) -> usize {
        0
    }

    #[inline]
    fn for_each_value(&self, _: &mut dyn FnMut(usize, &str)) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_visit_values_in_order() {
        let mut seen = Vec::new();
        ["GET", "200"].for_each_value(&mut |i, v| seen.push((i, v.to_owned())));
        assert_eq!(seen, [(0, "GET".to_owned()), (1, "200".to_owned())]);
        assert_eq!(<[&str; 2]>::LEN, 2);
        assert_eq!(<[&str; 2]>::CARDINALITY, None);
    }
}
