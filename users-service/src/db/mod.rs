//! users-service's tables and queries. Query functions are synchronous and take a
//! `&mut DbConnection`; handlers call them inside [`auth_common::service::db::blocking`].

pub mod credential_failures;
pub mod models;
pub mod refresh_tokens;
pub mod schema;
pub mod users;

use auth_common::service::db::DbPool;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

pub use auth_common::service::db::DbConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Opens the pool for `url` and applies the migrations of its backend.
pub fn connect(url: &str, max_connections: u32) -> anyhow::Result<DbPool> {
    auth_common::service::db::connect(url, max_connections, SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS)
}
