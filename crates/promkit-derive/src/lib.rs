#![doc = include_str!("../README.md")]
//!
//! # What the derives generate
//!
//! `LabelValue` gives each variant its label text and the enum its number of values;
//! `LabelSet` gives the struct its label names, their count, the number of combinations and
//! each value's index among them (what makes a set of enums an array lookup):
//!
//! ```
//! use promkit::{LabelSet, LabelValue};
//!
//! #[derive(Clone, Copy, LabelValue)]
//! #[label(rename_all = "UPPERCASE")]
//! enum Method {
//!     Get,
//!     Post,
//! }
//!
//! #[derive(LabelSet)]
//! struct Request {
//!     method: Method,
//!     #[label(rename = "ok")]
//!     success: bool,
//! }
//!
//! assert_eq!(Method::CARDINALITY, Some(2));
//! assert_eq!(Method::Post.with_str(str::to_owned), "POST");
//!
//! assert_eq!(Request::NAMES, ["method", "ok"]);
//! assert_eq!(Request::LEN, 2);
//! // Every field has a fixed set of values, so the set has one too: 2 methods × 2 bools.
//! assert_eq!(Request::CARDINALITY, Some(4));
//! let request = Request { method: Method::Post, success: true };
//! // Mixed radix, first field most significant: method 1 × 2 + ok 1.
//! assert_eq!(request.index(), 3);
//!
//! let mut values = Vec::new();
//! request.for_each_value(&mut |i, v| values.push((i, v.to_owned())));
//! assert_eq!(values, [(0, "POST".to_owned()), (1, "true".to_owned())]);
//! ```
//!
//! # Attributes
//!
//! | Where                         | Attribute                              | Effect |
//! |-------------------------------|----------------------------------------|--------|
//! | `LabelSet` field              | `#[label(rename = "code")]`            | the label name, instead of the field name |
//! | `LabelValue` variant          | `#[label(rename = "GET")]`             | the label text, instead of the variant name |
//! | `LabelValue` enum             | `#[label(rename_all = "snake_case")]`  | rewrite every variant name not renamed: `"lowercase"`, `"UPPERCASE"`, `"snake_case"`, `"kebab-case"`, `"SCREAMING_SNAKE_CASE"` |
//! | `LabelSet` struct or `LabelValue` enum | `#[label(crate = "my::promkit")]` | where promkit is, for crates that re-export it (default `::promkit`) |
//!
//! # Compile errors
//!
//! Misuse is a compile error at the offending tokens, never a panic: either derive on the wrong
//! kind of item, a `LabelValue` variant with fields or two variants with the same text, an empty
//! `LabelValue` enum or empty text, a label name that is not `[a-zA-Z_][a-zA-Z0-9_]*` or starts
//! with `__` (reserved for Prometheus), two fields with the same label name, an unknown or
//! repeated attribute key, and a field whose type is not a label value (reported at the type,
//! with the trait's own message). The exact messages are pinned in this crate's
//! `tests/ui/*.stderr`.
// Every type in a public signature can be named by users (not just reached).
#![warn(unnameable_types)]

mod attr;
mod label_set;
mod label_value;

use proc_macro::TokenStream;

/// Derives `promkit::LabelSet` for a struct with named fields, one field per label.
///
/// - `NAMES` are the field names in order (`r#type` gives `type`), or the field's
///   `#[label(rename = "...")]`. Each must be a valid Prometheus label name not starting with
///   `__`, and each may appear once.
/// - `LEN` is the number of fields; a struct with no fields (`struct NoLabels {}`) is one series.
/// - `CARDINALITY` is the product of the fields' `LabelValue::CARDINALITY`: `Some` when every
///   field has a fixed set of values (enums, `bool`), `None` when any is free-form (strings,
///   integers) or the product overflows `usize`.
/// - `index` numbers the set in mixed radix, first field most significant:
///   `(i0 * C1 + i1) * C2 + i2 ...`, a bijection onto `0..CARDINALITY`.
/// - `for_each_value` calls `f(i, text)` for each field in order.
///
/// Every field's type must implement `LabelValue`. Fields may borrow (`&'a str`,
/// `Cow<'a, str>`); a field of a generic type `T` adds a `T: LabelValue` bound to the impl.
///
/// ```
/// use promkit::LabelSet;
///
/// #[derive(LabelSet)]
/// struct Route<'a> {
///     path: &'a str,
///     #[label(rename = "code")]
///     status: u16,
/// }
///
/// assert_eq!(Route::NAMES, ["path", "code"]);
/// assert_eq!(Route::CARDINALITY, None);
/// ```
#[proc_macro_derive(LabelSet, attributes(label))]
pub fn derive_label_set(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    label_set::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Derives `promkit::LabelValue` for an enum of unit variants, each one a fixed label text.
///
/// - `CARDINALITY` is `Some(number of variants)`.
/// - `index` is the variant's position in declaration order (explicit discriminants do not
///   change it).
/// - `with_str` gives the variant's text: its name verbatim (`r#type` gives `type`), the
///   enum's `#[label(rename_all = "...")]` rule applied to it, or the variant's own
///   `#[label(rename = "...")]`, which wins over `rename_all`. Texts must be distinct and not
///   empty.
///
/// ```
/// use promkit::LabelValue;
///
/// #[derive(Clone, Copy, LabelValue)]
/// #[label(rename_all = "snake_case")]
/// enum Outcome {
///     Success,
///     ClientError,
///     #[label(rename = "5xx")]
///     ServerError,
/// }
///
/// assert_eq!(Outcome::CARDINALITY, Some(3));
/// assert_eq!(Outcome::ClientError.index(), 1);
/// assert_eq!(Outcome::ClientError.with_str(str::to_owned), "client_error");
/// assert_eq!(Outcome::ServerError.with_str(str::to_owned), "5xx");
/// ```
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    label_value::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}
