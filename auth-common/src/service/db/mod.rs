//! The database layer both services share: one binary serves SQLite and PostgreSQL,
//! chosen at run time by `DATABASE_URL`.
//!
//! Nothing outside a service's `db/` module knows which backend it talks to: queries are
//! written once against [`DbConnection`], diesel's `MultiConnection` over the two.
//!
//! - [`DbConnection`], [`Backend`]: the connection to either backend, and which one a URL selects.
//! - `pool`: the connection pool, and its migrations.
//! - `blocking`: running queries off the async workers, and the readiness ping.
//! - [`QueryError`]: a failed query named by what it was doing (`.context("…")`).
//! - [`Timestamp`]: `TIMESTAMP` columns read without re-parsing a format per value.

use diesel::{PgConnection, SqliteConnection};

mod blocking;
mod pool;
mod query_error;
mod timestamp;

pub use blocking::{DbError, blocking, ping};
pub use pool::{ConnectionManager, DbPool, TrackedConnection, connect};
pub use query_error::{QueryContext, QueryError};
pub use timestamp::Timestamp;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, the production database.
    Postgresql(PgConnection),
    /// SQLite, the zero-set-up default.
    Sqlite(SqliteConnection),
}

/// The backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// Anything else: a file path, `sqlite://path` or `:memory:`.
    Sqlite,
}

impl Backend {
    /// The backend `url` selects.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") { Self::Postgres } else { Self::Sqlite }
    }
}

/// Whether `err` is a unique-constraint violation, on either backend.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(err, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
