//! The schema migrations, embedded in the binary: `runner/migrations/sqlite` and
//! `runner/migrations/postgres`, one file per version in each, applied by sqlx's migrator
//! (which locks, so instances starting together against one PostgreSQL migrate once).
//!
//! Versions may have gaps: a branch adds its own numbered file without the others', and the
//! migrator applies every version it has and the store lacks, whatever its place in the
//! order, so a store migrated with 1 and 3 takes 2 when a build that has it starts.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::{Backend, Store, StoreError};

/// (version, description, SQL) per backend, in version order.
const SQLITE: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, "secrets", include_str!("../../migrations/sqlite/0002_secrets.sql")),
    (3, "operations", include_str!("../../migrations/sqlite/0003_operations.sql")),
    (4, "flow schedule", include_str!("../../migrations/sqlite/0004_flow_schedule.sql")),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
    (2, "secrets", include_str!("../../migrations/postgres/0002_secrets.sql")),
    (3, "operations", include_str!("../../migrations/postgres/0003_operations.sql")),
    (4, "flow schedule", include_str!("../../migrations/postgres/0004_flow_schedule.sql")),
];

/// The embedded migrations of one backend.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

pub(super) async fn run(store: &Store) -> Result<(), StoreError> {
    let source = match store.backend {
        Backend::Sqlite => Embedded(SQLITE),
        Backend::Postgres => Embedded(POSTGRES),
    };
    let migrator = Migrator::new(source).await?;
    migrator.run(&store.pool).await?;
    Ok(())
}
