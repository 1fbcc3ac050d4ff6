//! `NameValidation`: which metric and label names a registry accepts, the legacy character set
//! or any UTF-8 (Prometheus 3), chosen per registry rather than process-wide as Go's
//! `model.NameValidationScheme` is.

/// Which metric and label names are accepted: set per registry with
/// [`RegistryBuilder::name_validation`](crate::registry::RegistryBuilder::name_validation), or
/// on a [`Builder`](crate::Builder) that is built without a registry.
///
/// A metric is built before it is registered, so the scheme applies at the first step that
/// knows it: `builder.register(&registry)` builds under the registry's scheme, `build()` under
/// the builder's own (legacy unless set), and [`Registry::register`](crate::Registry::register)
/// checks every description against the registry's scheme again, so a UTF-8 metric cannot
/// slip into a legacy registry.
///
/// Names are validated, never rewritten: how a UTF-8 name reaches a scraper (quoted, or
/// escaped) is chosen per scrape by the [`EscapingScheme`](super::EscapingScheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum NameValidation {
    /// Metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`:
    /// what every Prometheus version scrapes as it is (the default).
    #[default]
    Legacy,
    /// Any non-empty UTF-8 name (Go's `UTF8Validation`), such as OpenTelemetry's
    /// `http.server.duration`; label names starting with `__` stay reserved, and a type's own
    /// labels (`le`, `quantile`) stay refused.
    Utf8,
}
