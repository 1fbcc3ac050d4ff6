//! Secrets (sealed values, never read back through the API) and variables (plain values).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError};

/// What a read shows of a secret: its name and dates, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// The name flows use in `${secrets.NAME}`.
    pub name: String,
    /// Unix ms when first set.
    pub created_at: i64,
    /// Unix ms when last set (rotated).
    pub updated_at: i64,
}

/// A variable, value included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Var {
    /// The name flows use in `${vars.NAME}`.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Unix ms when first set.
    pub created_at: i64,
    /// Unix ms when last set.
    pub updated_at: i64,
}

/// Which table: secrets or vars. Both have (name, value column, created_at, updated_at).
#[derive(Clone, Copy)]
enum Table {
    Secrets,
    Vars,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Secrets => "secrets",
            Self::Vars => "vars",
        }
    }
    fn value(self) -> &'static str {
        match self {
            Self::Secrets => "sealed",
            Self::Vars => "value",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Self::Secrets => "secret",
            Self::Vars => "variable",
        }
    }
}

impl Store {
    async fn upsert(&self, table: Table, name: &str, value: &str, now: i64) -> Result<(), StoreError> {
        let (t, v) = (table.name(), table.value());
        sqlx::query(&format!(
            "INSERT INTO {t} (name, {v}, created_at, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET {v} = excluded.{v}, updated_at = excluded.updated_at"
        ))
        .bind(name)
        .bind(value)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn remove(&self, table: Table, name: &str) -> Result<(), StoreError> {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE name = $1", table.name()))
            .bind(name)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(table.what(), name));
        }
        Ok(())
    }

    async fn rows(&self, table: Table) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
        let (t, v) = (table.name(), table.value());
        sqlx::query(&format!("SELECT name, {v} AS v, created_at, updated_at FROM {t} ORDER BY name"))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok((r.try_get("name")?, r.try_get("v")?, r.try_get("created_at")?, r.try_get("updated_at")?))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::Db)
    }

    /// Sets (or rotates) a secret; `sealed` is its value sealed by
    /// [`SecretKey::seal`](crate::secrets::SecretKey::seal).
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn set_secret(&self, name: &str, sealed: &str, now: i64) -> Result<(), StoreError> {
        self.upsert(Table::Secrets, name, sealed, now).await
    }

    /// Deletes a secret.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn delete_secret(&self, name: &str) -> Result<(), StoreError> {
        self.remove(Table::Secrets, name).await
    }

    /// Every secret's name and dates, by name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn secrets(&self) -> Result<Vec<SecretInfo>, StoreError> {
        Ok(self
            .rows(Table::Secrets)
            .await?
            .into_iter()
            .map(|(name, _, created_at, updated_at)| SecretInfo { name, created_at, updated_at })
            .collect())
    }

    /// The sealed values of the named secrets that exist, for the worker pool to open.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn sealed_secrets(&self, names: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        Ok(self
            .rows(Table::Secrets)
            .await?
            .into_iter()
            .filter(|(name, ..)| names.contains(&name.as_str()))
            .map(|(name, sealed, ..)| (name, sealed))
            .collect())
    }

    /// Sets a variable.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn set_var(&self, name: &str, value: &str, now: i64) -> Result<(), StoreError> {
        self.upsert(Table::Vars, name, value, now).await
    }

    /// Deletes a variable.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn delete_var(&self, name: &str) -> Result<(), StoreError> {
        self.remove(Table::Vars, name).await
    }

    /// Every variable, by name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn vars(&self) -> Result<Vec<Var>, StoreError> {
        Ok(self
            .rows(Table::Vars)
            .await?
            .into_iter()
            .map(|(name, value, created_at, updated_at)| Var { name, value, created_at, updated_at })
            .collect())
    }
}
