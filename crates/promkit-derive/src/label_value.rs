//! `#[derive(LabelValue)]`: an enum of unit variants becomes a label with a fixed set of texts.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields};

use crate::attr::{Errors, LabelAttrs, Position, item_head};

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            item_head(input),
            "LabelValue can be derived for enums of unit variants; \
             for a struct of labels use #[derive(LabelSet)]",
        ));
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            item_head(input),
            "LabelValue cannot be derived for an enum with no variants: \
             a label needs at least one value",
        ));
    }

    let mut errors = Errors::default();
    let container = errors.take(LabelAttrs::parse(&input.attrs, Position::ValueEnum)).unwrap_or_default();

    let mut variants = Vec::with_capacity(data.variants.len());
    let mut texts = Vec::with_capacity(data.variants.len());
    // Label text -> the variant that has it, to name both in a duplicate error.
    let mut seen: HashMap<String, &syn::Ident> = HashMap::new();
    for variant in &data.variants {
        let name = variant.ident.unraw().to_string();
        if !matches!(variant.fields, Fields::Unit) {
            errors.push_spanned(
                &variant.fields,
                format!(
                    "variant `{name}` has fields, but a LabelValue enum can only have unit \
                     variants (each one is a fixed label text); for free-form values use a \
                     `String` field in the LabelSet instead"
                ),
            );
        }
        let attrs = errors.take(LabelAttrs::parse(&variant.attrs, Position::Variant)).unwrap_or_default();
        let text = match (&attrs.rename, container.rename_all) {
            (Some(lit), _) => lit.value(),
            (None, Some(rule)) => rule.apply(&name),
            (None, None) => name,
        };
        // Point text errors at the rename when there is one: that is what to change.
        let at = attrs.rename.as_ref().map_or(variant.ident.to_token_stream(), ToTokens::to_token_stream);
        // An empty value and a missing label are the same series to Prometheus.
        if text.is_empty() {
            errors.push_spanned(
                &at,
                "a label value cannot be empty: Prometheus treats an empty value as no label \
                 at all"
                    .to_owned(),
            );
        }
        match seen.get(&text) {
            Some(first) => {
                errors.push_spanned(
                    at,
                    format!(
                        "variants `{first}` and `{}` both have the label text `{text}`; \
                         give one of them a different #[label(rename = \"...\")]",
                        variant.ident.unraw()
                    ),
                );
            }
            None => {
                seen.insert(text.clone(), &variant.ident);
            }
        }
        variants.push(&variant.ident);
        texts.push(text);
    }

    let krate = container.krate();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let count = variants.len();
    let positions = 0..count;
    let expanded = quote! {
        #[automatically_derived]
        impl #impl_generics #krate::LabelValue for #ident #ty_generics #where_clause {
            const CARDINALITY: ::core::option::Option<::core::primitive::usize> =
                ::core::option::Option::Some(#count);

            const TEXTS: &'static [&'static ::core::primitive::str] = &[#(#texts),*];

            #[inline]
            fn index(&self) -> ::core::primitive::usize {
                // A match, not `as usize`: explicit discriminants must not move the index.
                // `{ .. }` matches any variant shape, so a variant wrongly given fields gets
                // one error (ours) rather than a second one from this pattern.
                match self {
                    #(Self::#variants { .. } => #positions,)*
                }
            }

            #[inline]
            fn with_str<__R>(
                &self,
                f: impl ::core::ops::FnOnce(&::core::primitive::str) -> __R,
            ) -> __R {
                f(match self {
                    #(Self::#variants { .. } => #texts,)*
                })
            }
        }
    };
    let errors = errors.into_compile_errors();
    Ok(quote!(#expanded #errors))
}
