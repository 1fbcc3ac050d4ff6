//! `#[derive(LabelSet)]`: a struct with named fields becomes a set of labels, one per field.

use std::collections::HashMap;

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DataStruct, DeriveInput, Fields, Ident, Type};

use crate::attr::{Errors, LabelAttrs, Position, item_head};

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(DataStruct { fields: Fields::Named(named), .. }) => &named.named,
        Data::Struct(DataStruct { fields: Fields::Unnamed(unnamed), .. }) => {
            return Err(syn::Error::new_spanned(
                unnamed,
                "LabelSet needs named fields, because each field's name is a label name; \
                 write `struct Labels { method: Method, .. }` instead of a tuple struct",
            ));
        }
        Data::Struct(DataStruct { fields: Fields::Unit, .. }) => {
            return Err(syn::Error::new_spanned(
                item_head(input),
                "a unit struct has no labels; use `()` as the label set for series without \
                 labels, or give the struct named fields, one per label",
            ));
        }
        Data::Enum(_) => {
            return Err(syn::Error::new_spanned(
                item_head(input),
                "LabelSet is derived for structs with named fields (one field per label); \
                 for an enum of label values use #[derive(LabelValue)]",
            ));
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(
                item_head(input),
                "LabelSet cannot be derived for a union; use a struct with named fields, \
                 one per label",
            ));
        }
    };

    let mut errors = Errors::default();
    let container = errors.take(LabelAttrs::parse(&input.attrs, Position::SetStruct)).unwrap_or_default();
    let krate = container.krate();

    let mut names = Vec::with_capacity(fields.len());
    // Label name -> the field that has it, to name both in a duplicate error.
    let mut seen: HashMap<String, &Ident> = HashMap::new();
    for field in fields {
        let Some(ident) = &field.ident else { continue };
        let attrs = errors.take(LabelAttrs::parse(&field.attrs, Position::Field)).unwrap_or_default();
        let (name, at, fix) = match &attrs.rename {
            Some(lit) => (lit.value(), lit.to_token_stream(), "change the rename"),
            None => (
                ident.unraw().to_string(),
                ident.to_token_stream(),
                "rename the field or add #[label(rename = \"...\")]",
            ),
        };
        if let Err(why) = check_label_name(&name) {
            errors.push_spanned(&at, format!("{why}; {fix}"));
        }
        match seen.get(&name) {
            Some(first) => errors.push_spanned(
                &at,
                format!(
                    "fields `{}` and `{}` both have the label name `{name}`; a label can appear \
                     only once in a set, so give one of them a different \
                     #[label(rename = \"...\")]",
                    first.unraw(),
                    ident.unraw()
                ),
            ),
            None => {
                seen.insert(name.clone(), ident);
            }
        }
        names.push(name);
    }

    let named: Vec<(&Ident, &Type)> =
        fields.iter().filter_map(|f| Some((f.ident.as_ref()?, &f.ty))).collect();
    let idents: Vec<&Ident> = named.iter().map(|(f, _)| *f).collect();
    // Every use of a field's type is spanned at that type, so a type that is not a label value
    // is reported there, with the trait's `on_unimplemented` message.
    let as_value: Vec<TokenStream> =
        named.iter().map(|(_, ty)| quote_spanned!(ty.span()=> <#ty as #krate::LabelValue>)).collect();
    let positions = 0..named.len();
    let len = named.len();

    let cardinality = as_value
        .iter()
        .map(|v| quote!(#v::CARDINALITY))
        .reduce(|acc, c| quote!(#krate::labels::mul_cardinality(#acc, #c)))
        .unwrap_or_else(|| quote!(::core::option::Option::Some(1)));

    // Mixed radix, first field most significant: ((i0 * C1 + i1) * C2 + i2) ...
    let mut index = quote!(0);
    for (n, (v, f)) in as_value.iter().zip(&idents).enumerate() {
        let i = quote!(#v::index(&self.#f));
        index = if n == 0 { i } else { quote!((#index) * #v::CARDINALITY.unwrap_or(1) + #i) };
    }

    // Generic field types get a `LabelValue` bound on the impl, as serde bounds its fields.
    // Concrete ones need no assertion: their uses above are spanned at the type, so a type that
    // is not a label value gets one error, at the field. (A separate `assert::<T>()` would repeat
    // each error with a note pointing into the macro.)
    let type_params: Vec<&Ident> = input.generics.type_params().map(|p| &p.ident).collect();
    let mut generics = input.generics.clone();
    for &(_, ty) in &named {
        if mentions_any(ty.to_token_stream(), &type_params) {
            generics
                .make_where_clause()
                .predicates
                .push(syn::parse_quote_spanned!(ty.span()=> #ty: #krate::LabelValue));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let ident = &input.ident;
    let expanded = quote! {
        #[automatically_derived]
        impl #impl_generics #krate::LabelSet for #ident #ty_generics #where_clause {
            const NAMES: &'static [&'static ::core::primitive::str] = &[#(#names),*];
            const CARDINALITY: ::core::option::Option<::core::primitive::usize> = #cardinality;
            const LEN: ::core::primitive::usize = #len;

            #[inline]
            fn index(&self) -> ::core::primitive::usize {
                #index
            }

            #[inline]
            fn for_each_value(
                &self,
                __f: &mut dyn ::core::ops::FnMut(::core::primitive::usize, &::core::primitive::str),
            ) {
                #(#as_value::with_str(&self.#idents, |__s| __f(#positions, __s));)*
            }
        }
    };
    let errors = errors.into_compile_errors();
    Ok(quote!(#expanded #errors))
}

/// Prometheus' label name rule, `[a-zA-Z_][a-zA-Z0-9_]*` without a leading `__`, with the
/// reason a name breaks it.
fn check_label_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a label name cannot be empty".to_owned());
    }
    if name.starts_with("__") {
        return Err(format!(
            "`{name}` is not allowed: names starting with `__` are reserved for Prometheus' own \
             labels"
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let why = if name.contains('-') {
            "use `_`, not `-`"
        } else {
            "use only ASCII letters, digits and `_`, and do not start with a digit"
        };
        return Err(format!("`{name}` is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*): {why}"));
    }
    Ok(())
}

/// Whether `tokens` name one of `params` anywhere, e.g. `T` in `Option<Vec<T>>`.
fn mentions_any(tokens: TokenStream, params: &[&Ident]) -> bool {
    !params.is_empty()
        && tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) => params.iter().any(|p| **p == i),
            TokenTree::Group(g) => mentions_any(g.stream(), params),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_follow_prometheus_rules() {
        assert_eq!(check_label_name("method"), Ok(()));
        assert_eq!(check_label_name("_private"), Ok(()));
        assert_eq!(check_label_name("code2"), Ok(()));
        assert!(check_label_name("__name__").unwrap_err().contains("reserved"));
        assert!(check_label_name("http-code").unwrap_err().contains("use `_`, not `-`"));
        assert!(check_label_name("2xx").is_err());
        assert!(check_label_name("größe").is_err());
        assert!(check_label_name("").is_err());
    }

    #[test]
    fn type_parameters_are_found_inside_groups() {
        let t: Ident = syn::parse_quote!(T);
        assert!(mentions_any(quote!(Option<Vec<T>>), &[&t]));
        assert!(mentions_any(quote!(&'a (T)), &[&t]));
        assert!(!mentions_any(quote!(String), &[&t]));
        assert!(!mentions_any(quote!(TT), &[&t]));
    }
}
