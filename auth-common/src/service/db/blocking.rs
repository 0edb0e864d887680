//! Running queries off actix's async workers, and the readiness ping.
//!
//! **The `web::block` boundary.** diesel is synchronous: a query blocks its thread until
//! the database answers, and so does waiting for a pooled connection. Run on one of
//! actix's few async workers, that would stall every other request the worker serves.
//! [`blocking`] therefore takes the connection *and* runs the queries on the blocking
//! thread pool; handlers never touch a connection themselves.

use diesel::RunQueryDsl;

use super::{DbConnection, DbPool};

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had in time: the database is down or overloaded.
    #[error("no database connection available: {0}")]
    Unavailable(#[from] r2d2::Error),
    /// The blocking task was cancelled (the server is shutting down).
    #[error("the database task was cancelled")]
    Cancelled,
}

/// Runs `f` with a pooled connection on the blocking thread pool (see the module docs).
pub async fn blocking<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(DbError::from)?;
        let result = f(&mut conn);
        conn.mark_used();
        result
    })
    .await
    .map_err(|_| E::from(DbError::Cancelled))?
}

/// Whether the database answers a trivial query: for readiness checks.
pub async fn ping(pool: &DbPool) -> Result<(), String> {
    blocking(pool, |conn| diesel::sql_query("SELECT 1").execute(conn).map(|_| ()).map_err(PingError::Query))
        .await
        .map_err(|e: PingError| e.to_string())
}

#[derive(Debug, thiserror::Error)]
enum PingError {
    #[error("the database did not answer: {0}")]
    Query(diesel::result::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}
