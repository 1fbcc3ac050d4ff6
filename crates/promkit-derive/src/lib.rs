//! Derive macros for promkit's typed labels.

use proc_macro::TokenStream;

/// Derives `promkit::LabelSet` for a struct with named fields.
#[proc_macro_derive(LabelSet, attributes(label))]
pub fn derive_label_set(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}

/// Derives `promkit::LabelValue` for an enum of unit variants.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
