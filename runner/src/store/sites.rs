//! Sites and their flows: create, read, update, delete, import.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::rows::{self, FLOW_COLUMNS, SITE_COLUMNS};
use super::{Store, StoreError};
use crate::domain::{Flow, FlowSpec, Schedule, Site, SiteSpec};

/// A unique-constraint failure on the site name becomes [`StoreError::DuplicateSite`].
fn duplicate_name(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::DuplicateSite(name.to_owned()),
        _ => StoreError::Db(e),
    }
}

/// When a site with this schedule first runs: at once when scheduled and enabled.
fn first_run_at(spec: &SiteSpec, now: i64) -> Option<i64> {
    (spec.enabled && Schedule::from_interval_secs(spec.interval_secs) != Schedule::Manual).then_some(now)
}

fn to_i64(v: Option<u64>) -> Option<i64> {
    v.and_then(|v| i64::try_from(v).ok()).filter(|&v| v > 0)
}

/// A flow's optional seconds as stored (0 kept: a flow interval of 0 means "by hand only").
fn secs(v: Option<u64>) -> Option<i64> {
    v.and_then(|v| i64::try_from(v).ok())
}

fn steps_json(flow: &FlowSpec) -> String {
    // Serializing plain enums of strings and integers to JSON cannot fail.
    serde_json::to_string(&flow.steps).unwrap_or_else(|_| "[]".to_owned())
}

/// Writes `flows` under the site: flows matched by name are updated in place (keeping their
/// ids), new ones added; with `delete_missing`, the site's other flows are removed.
async fn upsert_flows(
    conn: &mut AnyConnection,
    site_id: i64,
    flows: &[FlowSpec],
    now: i64,
    delete_missing: bool,
) -> Result<(), StoreError> {
    let existing: HashMap<String, (i64, i64)> =
        sqlx::query("SELECT id, name, position FROM flows WHERE site_id = $1")
            .bind(site_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("name")?, (r.try_get("id")?, r.try_get("position")?))))
            .collect::<Result<_, sqlx::Error>>()?;
    let mut next_position = existing.values().map(|&(_, p)| p + 1).max().unwrap_or(0);
    let mut kept = Vec::new();
    for (i, flow) in flows.iter().enumerate() {
        let position = if delete_missing { i64::try_from(i).unwrap_or(i64::MAX) } else { next_position };
        if let Some(&(id, old_position)) = existing.get(&flow.name) {
            let position = if delete_missing { position } else { old_position };
            sqlx::query(
                "UPDATE flows SET position = $1, driver = $2, start_url = $3, steps = $4, updated_at = $5, \
                                  retries = $7, timeout_secs = $9, \
                                  next_run_at = CASE WHEN interval_secs IS NOT DISTINCT FROM $8 \
                                                     THEN next_run_at ELSE NULL END, \
                                  interval_secs = $8 \
                 WHERE id = $6",
            )
            .bind(position)
            .bind(&flow.driver)
            .bind(&flow.start_url)
            .bind(steps_json(flow))
            .bind(now)
            .bind(id)
            .bind(flow.retries.map(i64::from))
            .bind(secs(flow.interval_secs))
            .bind(secs(flow.timeout_secs))
            .execute(&mut *conn)
            .await?;
            kept.push(id);
        } else {
            sqlx::query(
                "INSERT INTO flows (site_id, position, name, driver, start_url, steps, created_at, updated_at, retries, \
                                    interval_secs, timeout_secs) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)",
            )
            .bind(site_id)
            .bind(position)
            .bind(&flow.name)
            .bind(&flow.driver)
            .bind(&flow.start_url)
            .bind(steps_json(flow))
            .bind(now)
            .bind(flow.retries.map(i64::from))
            .bind(secs(flow.interval_secs))
            .bind(secs(flow.timeout_secs))
            .execute(&mut *conn)
            .await?;
            next_position += 1;
        }
    }
    if delete_missing {
        for (name, &(id, _)) in &existing {
            if !kept.contains(&id) && !flows.iter().any(|f| &f.name == name) {
                sqlx::query("DELETE FROM flows WHERE id = $1").bind(id).execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Stores a new site and its flows, all or nothing. `builtin` marks the demo site.
    ///
    /// # Errors
    ///
    /// [`StoreError::DuplicateSite`] when the name is taken; [`StoreError::Db`].
    pub async fn create_site(
        &self,
        spec: &SiteSpec,
        builtin: Option<&str>,
        now: i64,
    ) -> Result<Site, StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO sites (name, base_url, interval_secs, enabled, builtin, next_run_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {SITE_COLUMNS}"
        ))
        .bind(&spec.name)
        .bind(&spec.base_url)
        .bind(to_i64(spec.interval_secs))
        .bind(i64::from(spec.enabled))
        .bind(builtin)
        .bind(first_run_at(spec, now))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| duplicate_name(e, &spec.name))?;
        let site = rows::site(&row)?;
        if let Some(flows) = &spec.flows {
            upsert_flows(&mut tx, site.id, flows, now, true).await?;
        }
        tx.commit().await?;
        Ok(site)
    }

    /// Every site, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY id"))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(rows::site)
            .collect()
    }

    /// One site.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn site(&self, id: i64) -> Result<Site, StoreError> {
        let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("site", id))?;
        rows::site(&row)
    }

    /// The site of this name, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn site_by_name(&self, name: &str) -> Result<Option<Site>, StoreError> {
        sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE name = $1"))
            .bind(name)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(rows::site)
            .transpose()
    }

    /// The built-in site of this kind (`demo`), if seeded.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn builtin_site(&self, kind: &str) -> Result<Option<Site>, StoreError> {
        sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE builtin = $1 ORDER BY id LIMIT 1"))
            .bind(kind)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(rows::site)
            .transpose()
    }

    /// How many sites there are.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn count_sites(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM sites").fetch_one(self.pool()).await?;
        rows::int(&row, "n")
    }

    /// Replaces a site's fields and, when `spec.flows` is present, its flows (matched by
    /// name, so kept flows keep their ids), all or nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::DuplicateSite`]; [`StoreError::Db`].
    pub async fn update_site(&self, id: i64, spec: &SiteSpec, now: i64) -> Result<Site, StoreError> {
        let mut tx = self.pool().begin().await?;
        // A changed site schedule re-plans the flows that follow it (the scheduler gives them
        // their first run again, with their jitter).
        sqlx::query(
            "UPDATE flows SET next_run_at = NULL WHERE site_id = $1 AND interval_secs IS NULL AND \
             EXISTS (SELECT 1 FROM sites WHERE id = $1 AND \
                     (interval_secs IS DISTINCT FROM $2 OR enabled <> $3))",
        )
        .bind(id)
        .bind(to_i64(spec.interval_secs))
        .bind(i64::from(spec.enabled))
        .execute(&mut *tx)
        .await?;
        // The next run: unchanged when the schedule is, else one interval from now.
        let next = first_run_at(spec, now)
            .map(|_| now.saturating_add(to_i64(spec.interval_secs).unwrap_or(0).saturating_mul(1000)));
        let row = sqlx::query(&format!(
            "UPDATE sites SET name = $1, base_url = $2, \
                 next_run_at = CASE WHEN interval_secs IS NOT DISTINCT FROM $3 AND enabled = $4 \
                                    AND next_run_at IS NOT NULL THEN next_run_at ELSE $5 END, \
                 interval_secs = $3, enabled = $4, updated_at = $6 \
             WHERE id = $7 RETURNING {SITE_COLUMNS}"
        ))
        .bind(&spec.name)
        .bind(&spec.base_url)
        .bind(to_i64(spec.interval_secs))
        .bind(i64::from(spec.enabled))
        .bind(next)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| duplicate_name(e, &spec.name))?
        .ok_or_else(|| StoreError::not_found("site", id))?;
        let site = rows::site(&row)?;
        if let Some(flows) = &spec.flows {
            upsert_flows(&mut tx, id, flows, now, true).await?;
        }
        tx.commit().await?;
        Ok(site)
    }

    /// Points a site at a new base URL (the demo site, whose port changes at each start).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn set_base_url(&self, id: i64, base_url: &str, now: i64) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE sites SET base_url = $1, updated_at = $2 WHERE id = $3")
            .bind(base_url)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("site", id));
        }
        Ok(())
    }

    /// Deletes a site and its flows. Its runs and jobs stay, as history, under the site's name.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Db`].
    pub async fn delete_site(&self, id: i64) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM sites WHERE id = $1").bind(id).execute(self.pool()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("site", id));
        }
        Ok(())
    }

    /// A site's flows, in order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when a stored flow does not parse; [`StoreError::Db`].
    pub async fn flows(&self, site_id: i64) -> Result<Vec<Flow>, StoreError> {
        sqlx::query(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE site_id = $1 ORDER BY position, id"))
            .bind(site_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(rows::flow)
            .collect()
    }

    /// How many flows each site has, by site id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`].
    pub async fn flow_counts(&self) -> Result<HashMap<i64, i64>, StoreError> {
        sqlx::query("SELECT site_id, COUNT(*) AS n FROM flows GROUP BY site_id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("site_id")?, rows::int(r, "n")?)))
            .collect()
    }

    /// One flow.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Corrupt`]; [`StoreError::Db`].
    pub async fn flow(&self, id: i64) -> Result<Flow, StoreError> {
        let row = sqlx::query(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("flow", id))?;
        rows::flow(&row)
    }

    /// Adds flows to a site, replacing those of the same name, all or nothing; returns the
    /// site's flows afterwards.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown site; [`StoreError::Db`].
    pub async fn import_flows(
        &self,
        site_id: i64,
        flows: &[FlowSpec],
        now: i64,
    ) -> Result<Vec<Flow>, StoreError> {
        let mut tx = self.pool().begin().await?;
        // Write first: SQLite then holds the write lock for the whole transaction.
        let touched = sqlx::query("UPDATE sites SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(site_id)
            .execute(&mut *tx)
            .await?;
        if touched.rows_affected() == 0 {
            return Err(StoreError::not_found("site", site_id));
        }
        upsert_flows(&mut tx, site_id, flows, now, false).await?;
        tx.commit().await?;
        self.flows(site_id).await
    }
}
