//! Registering a declaration: the `register`/`must_register` pair of each [`Builder`] shape.
//!
//! They live with the registry, not with the builder, so that metric types never depend on
//! the registry: a builder only validates and builds; registering is the registry's business.

use crate::labels::LabelSet;
use crate::metrics::{Builder, Family, Labelled, Metric, Single, Typed, TypedFamily};

use super::{Error, Registry};

impl<M: Metric> Builder<M, Single> {
    /// Builds the metric under the registry's [`NameValidation`](crate::NameValidation) and
    /// registers it.
    ///
    /// # Errors
    /// [`Error::Build`] for an invalid declaration, [`Error::Register`] when the registry
    /// refuses it (a family of that name exists, say).
    pub fn register(self, registry: &Registry) -> Result<M, Error> {
        let described = self.name_validation(registry.name_validation()).build()?;
        let metric = described.metric().clone();
        registry.register(described)?;
        Ok(metric)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` would return: for metrics declared once at start-up (Go's
    /// `MustRegister`), never for declarations built from input.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> M {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl<M: Metric> Builder<M, Labelled> {
    /// Builds the family and registers it.
    ///
    /// # Errors
    /// As [`Builder::register`] for single metrics.
    pub fn register(self, registry: &Registry) -> Result<Family<M>, Error> {
        let family = self.name_validation(registry.name_validation()).build()?;
        registry.register(family.clone())?;
        Ok(family)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` would return; for start-up declarations only.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> Family<M> {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl<L: LabelSet + 'static, M: Metric> Builder<M, Typed<L>> {
    /// Builds the family and registers it.
    ///
    /// # Errors
    /// As [`Builder::register`] for single metrics.
    pub fn register(self, registry: &Registry) -> Result<TypedFamily<L, M>, Error> {
        let family = self.name_validation(registry.name_validation()).build()?;
        registry.register(family.clone())?;
        Ok(family)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` would return; for start-up declarations only.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> TypedFamily<L, M> {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}
