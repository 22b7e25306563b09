//! Migrations (embedded from the workspace's `migrations/`) and the connection pool.

use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The workspace's migrations, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The connection pool.
pub type DbPool = Pool<AsyncPgConnection>;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Migrating failed.
    #[error("migrations failed: {0}")]
    Migrations(String),
    /// The pool could not be built.
    #[error("connection pool: {0}")]
    Pool(String),
}

/// A migrated database and its pool.
#[derive(Clone)]
pub struct Database {
    /// The pool.
    pub pool: DbPool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("status", &self.pool.status())
            .finish()
    }
}

/// Applies the pending migrations to the database at `url`; returns how many ran.
pub async fn run_migrations(url: &str) -> Result<usize, ConnectError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| ConnectError::Migrations(e.to_string()))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(|done| done.len())
            .map_err(|e| ConnectError::Migrations(e.to_string()))
    })
    .await
    .map_err(|e| ConnectError::Migrations(e.to_string()))?
}

/// Reverts every applied migration (for the round-trip test and operators starting over).
pub async fn revert_all_migrations(url: &str) -> Result<usize, ConnectError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| ConnectError::Migrations(e.to_string()))?;
        conn.revert_all_migrations(MIGRATIONS)
            .map(|done| done.len())
            .map_err(|e| ConnectError::Migrations(e.to_string()))
    })
    .await
    .map_err(|e| ConnectError::Migrations(e.to_string()))?
}

/// Migrates the database at `url` and opens a pool of at most `max_size` connections.
pub async fn connect(url: &str, max_size: usize) -> Result<Database, ConnectError> {
    let applied = run_migrations(url).await?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    // Fast recycling: a broken connection fails its next query (answered as 503 and retried by the
    // caller) instead of every checkout paying a test query.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    let pool = Pool::builder(manager)
        .max_size(max_size)
        .build()
        .map_err(|e| ConnectError::Pool(e.to_string()))?;
    Ok(Database { pool })
}
