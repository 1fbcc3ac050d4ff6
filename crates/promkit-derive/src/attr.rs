//! `#[label(...)]` attributes: which keys each position takes, and the `rename_all` rules.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Data, DeriveInput, LitStr, Path};

/// Where a `#[label(...)]` attribute sits; decides which keys it accepts and what the error for
/// an unknown key suggests.
#[derive(Clone, Copy)]
pub(crate) enum Position {
    /// On an enum deriving `LabelValue`: `crate`, `rename_all`.
    ValueEnum,
    /// On a struct deriving `LabelSet`: `crate`.
    SetStruct,
    /// On a variant of a `LabelValue` enum: `rename`.
    Variant,
    /// On a field of a `LabelSet` struct: `rename`.
    Field,
}

impl Position {
    fn takes(self, key: &str) -> bool {
        match self {
            Self::ValueEnum => matches!(key, "crate" | "rename_all"),
            Self::SetStruct => key == "crate",
            Self::Variant | Self::Field => key == "rename",
        }
    }

    fn unknown_key(self, key: &str) -> String {
        let keys = match self {
            Self::ValueEnum => "on an enum deriving LabelValue the keys are `rename_all` and `crate`",
            Self::SetStruct => "on a struct deriving LabelSet the only key is `crate`",
            Self::Variant => "on a variant the only key is `rename`",
            Self::Field => "on a field the only key is `rename`",
        };
        // The common slip is a right key in the wrong place; say where it goes.
        let hint = match (self, key) {
            (Self::SetStruct, "rename") => " (`rename` goes on a field)",
            (Self::SetStruct, "rename_all") => {
                " (label names are the field names; rename a field with #[label(rename = \"...\")])"
            }
            (Self::ValueEnum, "rename") => " (`rename` goes on a variant)",
            (Self::Variant, "rename_all" | "crate") => " (this key goes on the enum)",
            (Self::Field, "crate") => " (this key goes on the struct)",
            _ => "",
        };
        format!("unknown `label` attribute `{key}`: {keys}{hint}")
    }
}

/// The keys found in the `#[label(...)]` attributes of one item.
#[derive(Default)]
pub(crate) struct LabelAttrs {
    /// `crate = "path"`: where promkit is, for crates that re-export it.
    pub(crate) krate: Option<Path>,
    /// `rename_all = "..."`.
    pub(crate) rename_all: Option<RenameAll>,
    /// `rename = "..."`, kept as the literal so errors can point at it.
    pub(crate) rename: Option<LitStr>,
}

impl LabelAttrs {
    /// Parses every `#[label(...)]` in `attrs`, accepting only the keys `position` takes.
    pub(crate) fn parse(attrs: &[Attribute], position: Position) -> syn::Result<Self> {
        let mut out = Self::default();
        let mut errors = Errors::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
            let parsed = attr.parse_nested_meta(|meta| {
                let key = path_text(&meta.path);
                if !position.takes(&key) {
                    return Err(meta.error(position.unknown_key(&key)));
                }
                let lit = string_value(&meta, &key)?;
                match key.as_str() {
                    "crate" => {
                        let path = lit.parse().map_err(|_| {
                            syn::Error::new_spanned(
                                &lit,
                                format!(
                                    "`{}` is not a path; `crate` takes the path promkit is \
                                     re-exported at, as in crate = \"my_crate::promkit\"",
                                    lit.value()
                                ),
                            )
                        })?;
                        set_once(&meta, &mut out.krate, path)
                    }
                    "rename_all" => set_once(&meta, &mut out.rename_all, RenameAll::from_lit(&lit)?),
                    _ => set_once(&meta, &mut out.rename, lit),
                }
            });
            if let Err(e) = parsed {
                errors.push(e);
            }
        }
        errors.finish()?;
        Ok(out)
    }

    /// The path generated code uses for promkit: `crate = "..."`, or `::promkit`.
    pub(crate) fn krate(&self) -> TokenStream {
        match &self.krate {
            Some(path) => quote!(#path),
            None => quote!(::promkit),
        }
    }
}

fn path_text(path: &Path) -> String {
    quote!(#path).to_string().replace(' ', "")
}

/// The string after `key =`, with an error that shows the expected form.
fn string_value(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
    let expected = || format!("`{key}` takes a string, as in #[label({key} = \"...\")]");
    let value = meta.value().map_err(|e| syn::Error::new(e.span(), expected()))?;
    value.parse().map_err(|e| syn::Error::new(e.span(), expected()))
}

fn set_once<T>(meta: &ParseNestedMeta<'_>, slot: &mut Option<T>, value: T) -> syn::Result<()> {
    if slot.is_some() {
        let key = path_text(&meta.path);
        return Err(meta.error(format!("`{key}` is given twice; keep one")));
    }
    *slot = Some(value);
    Ok(())
}

/// A `rename_all` rule, applied to variant names (serde's spellings, so they read the same).
#[derive(Clone, Copy)]
pub(crate) enum RenameAll {
    Lower,
    Upper,
    Snake,
    Kebab,
    ScreamingSnake,
}

impl RenameAll {
    const VALID: &'static str =
        "\"lowercase\", \"UPPERCASE\", \"snake_case\", \"kebab-case\", \"SCREAMING_SNAKE_CASE\"";

    fn from_lit(lit: &LitStr) -> syn::Result<Self> {
        Ok(match lit.value().as_str() {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "snake_case" => Self::Snake,
            "kebab-case" => Self::Kebab,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            other => {
                return Err(syn::Error::new_spanned(
                    lit,
                    format!("unknown rename_all rule `{other}`; expected one of {}", Self::VALID),
                ));
            }
        })
    }

    /// Applies the rule to a variant name such as `NotFound` or `HTTPError`.
    pub(crate) fn apply(self, name: &str) -> String {
        match self {
            Self::Lower => name.to_lowercase(),
            Self::Upper => name.to_uppercase(),
            Self::Snake => join(name, "_", str::to_lowercase),
            Self::Kebab => join(name, "-", str::to_lowercase),
            Self::ScreamingSnake => join(name, "_", str::to_uppercase),
        }
    }
}

fn join(name: &str, sep: &str, case: fn(&str) -> String) -> String {
    words(name).iter().map(|w| case(w)).collect::<Vec<_>>().join(sep)
}

/// Splits `HTTPServerError2xx` into `HTTP`, `Server`, `Error2xx`: a word starts at an upper-case
/// letter after a lower-case letter or digit, at the last capital of an acronym followed by
/// lower case, and after `_`. Digits stay with the word before them.
fn words(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<(usize, char)> = part.char_indices().collect();
        let mut start = 0;
        for w in 1..chars.len() {
            let (at, cur) = chars[w];
            let prev = chars[w - 1].1;
            let next_lower = chars.get(w + 1).is_some_and(|&(_, c)| c.is_lowercase());
            let boundary = cur.is_uppercase()
                && (prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower));
            if boundary {
                out.push(&part[start..at]);
                start = at;
            }
        }
        out.push(&part[start..]);
    }
    out
}

/// Collects errors so one compile reports every misuse, not just the first.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn push_spanned(&mut self, tokens: impl quote::ToTokens, message: String) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Keeps the error when `result` failed; gives its value otherwise.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }

    /// The errors as `compile_error!` calls, to emit next to a best-effort expansion so one
    /// mistake doesn't also make every use of the type fail.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.0.map(syn::Error::into_compile_error).unwrap_or_default()
    }
}

/// Tokens spanning "this item" for errors: its keyword and name (`struct Labels`).
pub(crate) fn item_head(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    match &input.data {
        Data::Struct(s) => {
            let kw = s.struct_token;
            quote!(#kw #ident)
        }
        Data::Enum(e) => {
            let kw = e.enum_token;
            quote!(#kw #ident)
        }
        Data::Union(u) => {
            let kw = u.union_token;
            quote!(#kw #ident)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_case_changes_and_acronyms() {
        assert_eq!(words("NotFound"), ["Not", "Found"]);
        assert_eq!(words("HTTPServerError"), ["HTTP", "Server", "Error"]);
        assert_eq!(words("Http2Xx"), ["Http2", "Xx"]);
        assert_eq!(words("Status404"), ["Status404"]);
        assert_eq!(words("Already_Snake"), ["Already", "Snake"]);
        assert_eq!(words("Get"), ["Get"]);
    }

    #[test]
    fn rename_all_rules_match_serde_spellings() {
        let name = "NotFound";
        assert_eq!(RenameAll::Lower.apply(name), "notfound");
        assert_eq!(RenameAll::Upper.apply(name), "NOTFOUND");
        assert_eq!(RenameAll::Snake.apply(name), "not_found");
        assert_eq!(RenameAll::Kebab.apply(name), "not-found");
        assert_eq!(RenameAll::ScreamingSnake.apply(name), "NOT_FOUND");
        assert_eq!(RenameAll::Snake.apply("HTTPError"), "http_error");
    }
}
