//! The store: sites, flows, runs and the job queue, in SQLite (default) or PostgreSQL.
//!
//! One set of queries serves both through sqlx's `Any` driver, at run time (no compile-time
//! checked macros, so building needs no database). The SQL sticks to what both accept:
//! `$n` parameters, `RETURNING`, integers for times (unix ms) and flags. Where they differ
//! (claiming a job: PostgreSQL adds `FOR UPDATE SKIP LOCKED`) the query is picked per
//! [`Backend`].
//!
//! Every write that touches more than one row runs in one transaction, and every such
//! transaction writes first, so SQLite takes its write lock at the start and never fails
//! a read-then-write upgrade.

mod attempts;
mod migrate;
mod prune;
mod queue;
mod recovery;
mod rows;
mod runs;
mod schedule;
mod secrets;
mod sites;
mod stats;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use attempts::Attempt;
pub use prune::Pruned;
pub use queue::{ClaimedJob, Finished, Recovered};
pub use runs::{Page, RunFilter};
pub use schedule::DueFlow;
pub use secrets::{SecretInfo, Var};
pub use stats::{DurationPoint, Summary, Totals};

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file: one process (or a few on one machine).
    Sqlite,
    /// A PostgreSQL server: any number of runner instances share it and its job queue.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the database at {location}: {source}")]
    Open {
        /// The path or URL, password removed.
        location: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// No such row.
    #[error("{what} {id} not found")]
    NotFound {
        /// `site`, `flow`, `run`, `job`.
        what: &'static str,
        /// The id or name looked for.
        id: String,
    },
    /// A site of that name exists already.
    #[error("a site named `{0}` exists already; pick another name")]
    DuplicateSite(String),
    /// A stored value that does not parse (hand-edited database, or a newer schema).
    #[error("stored {what} {id} is unreadable: {detail}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Its id.
        id: i64,
        /// The parse error.
        detail: String,
    },
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound { what, id: id.to_string() }
    }
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Most pooled connections.
    pub max_connections: u32,
    /// How long to wait for a pooled connection.
    pub acquire_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(10) }
    }
}

/// The store: a connection pool and the backend it talks to. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Where `--db` points: a PostgreSQL URL, an `sqlite:` URL, or a file path.
fn locate(db: &str) -> (String, Backend) {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        (db.to_owned(), Backend::Postgres)
    } else if db.starts_with("sqlite:") {
        (db.to_owned(), Backend::Sqlite)
    } else {
        // sqlx percent-decodes the path, so encode what would otherwise end it or be decoded.
        let mut path = String::with_capacity(db.len());
        for c in db.chars() {
            match c {
                '%' => path.push_str("%25"),
                '?' => path.push_str("%3F"),
                '#' => path.push_str("%23"),
                c => path.push(c),
            }
        }
        (format!("sqlite://{path}?mode=rwc"), Backend::Sqlite)
    }
}

/// `db` with any password replaced, for messages.
pub fn redact(db: &str) -> String {
    match url::Url::parse(db) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => db.to_owned(),
    }
}

/// Per connection: SQLite's busy timeout, in ms.
const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000";

impl Store {
    /// Opens (creating an SQLite file if needed) and migrates the store at `db`: a file
    /// path, an `sqlite:` URL or a `postgres://` URL.
    ///
    /// # Errors
    ///
    /// [`StoreError::Open`] when the database cannot be reached or created,
    /// [`StoreError::Migrate`] when its schema cannot be brought up to date.
    pub async fn open(db: &str, options: &OpenOptions) -> Result<Self, StoreError> {
        install_default_drivers();
        let (url, backend) = locate(db);
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // A writer waits this long for another (an instance's pool, a
                        // pruning batch) instead of failing at once with "database is locked".
                        conn.execute(SQLITE_BUSY_TIMEOUT).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| StoreError::Open { location: redact(db), source })?;
        if backend == Backend::Sqlite {
            // Freed pages go back to the file system by `PRAGMA incremental_vacuum` after
            // pruning. The mode takes effect on an existing file only through one VACUUM,
            // done once here (before WAL, which VACUUM cannot change the mode under).
            let mut conn = pool.acquire().await?;
            let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum").fetch_one(&mut *conn).await?;
            if mode != 2 {
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL").await?;
                conn.execute("VACUUM").await?;
                let now: i64 = sqlx::query_scalar("PRAGMA auto_vacuum").fetch_one(&mut *conn).await?;
                tracing::info!(before = mode, after = now, "SQLite auto_vacuum set to incremental (2)");
            }
            drop(conn);
            // WAL lets readers (the API) work while a worker writes; it sticks to the file.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        let store = Self { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The database behind the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    ///
    /// # Errors
    ///
    /// The driver's error when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_argument_forms() {
        assert_eq!(locate("runner.db"), ("sqlite://runner.db?mode=rwc".into(), Backend::Sqlite));
        assert_eq!(locate("/tmp/a?b#c%d.db").0, "sqlite:///tmp/a%3Fb%23c%25d.db?mode=rwc");
        assert_eq!(locate("sqlite::memory:").1, Backend::Sqlite);
        assert_eq!(locate("postgres://u:p@h/db").1, Backend::Postgres);
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("runner.db"), "runner.db");
    }
}
