//! The connection pool: connections opened by backend, pinged only when idle, and the
//! migrations applied once at start.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use super::{Backend, DbConnection};

/// A pool of [`DbConnection`]s.
pub type DbPool = Pool<ConnectionManager>;

/// A pooled connection, and when it last finished a piece of work.
pub struct TrackedConnection {
    conn: DbConnection,
    last_used: Instant,
}

impl TrackedConnection {
    /// Records that a piece of work just finished on this connection.
    pub(super) fn mark_used(&mut self) {
        self.last_used = Instant::now();
    }
}

impl Deref for TrackedConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for TrackedConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// A connection used this recently is taken as alive without a ping: HikariCP's
/// `aliveBypassWindowMs`, and its default.
const ALIVE_BYPASS: Duration = Duration::from_millis(500);

/// Opens connections for the pool, choosing the backend from the URL rather than by trial
/// (diesel's own manager would try PostgreSQL first, then SQLite, for every URL).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl ManageConnection for ConnectionManager {
    type Connection = TrackedConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<TrackedConnection, Self::Error> {
        let conn = match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError)?,
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = SqliteConnection::establish(path).map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; the busy timeout makes a second
                // writer wait for the lock instead of failing at once. It comes first:
                // switching a fresh file to WAL takes that lock too, and replicas
                // starting together on it would otherwise fail with "database is locked".
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                DbConnection::Sqlite(conn)
            }
        };
        Ok(TrackedConnection { conn, last_used: Instant::now() })
    }

    /// A PostgreSQL connection can die with the server or the network, so one that has
    /// been idle is pinged before it is handed out. One in use a moment ago is not: under
    /// load that ping would be a second round trip to the database for every request
    /// (it cost the posts page 15 % on PostgreSQL). A connection that breaks anyway fails
    /// one request and is then dropped (`has_broken`).
    fn is_valid(&self, conn: &mut TrackedConnection) -> Result<(), Self::Error> {
        if conn.last_used.elapsed() < ALIVE_BYPASS {
            return Ok(());
        }
        conn.conn.ping().map_err(diesel::r2d2::Error::QueryError)?;
        conn.last_used = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut TrackedConnection) -> bool {
        conn.conn.is_broken()
    }
}

/// The PostgreSQL advisory lock held while migrating (any constant both services share).
const MIGRATION_LOCK: i64 = 0x6964_656e_7469_7479;

/// A pool for `url`, with its migrations (one set per backend) applied.
///
/// PostgreSQL gets `max_size` connections; SQLite allows one writer at a time, so a few
/// connections are all it can use.
pub fn connect(
    url: &str,
    max_size: u32,
    sqlite: EmbeddedMigrations,
    postgres: EmbeddedMigrations,
) -> anyhow::Result<DbPool> {
    let backend = Backend::of(url);
    let size = match backend {
        Backend::Postgres => max_size,
        Backend::Sqlite => max_size.min(4),
    };
    let pool = Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        // A SQLite file cannot go away under a connection; a PostgreSQL server can (see
        // `is_valid`).
        .test_on_check_out(backend == Backend::Postgres)
        .connection_timeout(Duration::from_secs(5))
        .build(ConnectionManager { url: url.to_owned(), backend })
        .map_err(|e| anyhow::anyhow!("connecting to the database ({backend:?}): {e}"))?;
    let mut conn = pool.get()?;
    // Replicas (and init containers) starting together: each migrates inside a lock, so
    // one applies the migrations and the others then find nothing to do, instead of two
    // creating the same table at once.
    type MigrationResult = Result<usize, Box<dyn std::error::Error + Send + Sync>>;
    let applied = match &mut **conn {
        DbConnection::Postgresql(c) => c.transaction(|c| -> MigrationResult {
            c.batch_execute(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))?;
            Ok(c.run_pending_migrations(postgres)?.len())
        }),
        DbConnection::Sqlite(c) => {
            c.immediate_transaction(|c| -> MigrationResult { Ok(c.run_pending_migrations(sqlite)?.len()) })
        }
    }
    .map_err(|e| anyhow::anyhow!("running database migrations: {e}"))?;
    if applied > 0 {
        log::info!("applied {applied} database migration(s)");
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connection_idle_past_the_bypass_window_is_pinged() {
        let manager = ConnectionManager { url: ":memory:".to_owned(), backend: Backend::Sqlite };
        let mut conn = manager.connect().unwrap();
        let recent = conn.last_used;
        manager.is_valid(&mut conn).unwrap();
        assert_eq!(conn.last_used, recent, "used a moment ago: handed out without a ping");

        let idle = Instant::now() - ALIVE_BYPASS * 2;
        conn.last_used = idle;
        manager.is_valid(&mut conn).unwrap();
        assert!(conn.last_used > idle, "idle: pinged, and the ping counts as a use");
    }

    /// Replicas starting together on a fresh file: switching it to WAL needs the lock
    /// another process may hold, so a connection waits for it rather than failing.
    #[test]
    fn a_new_sqlite_connection_waits_for_a_lock_another_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh.db").display().to_string();
        let mut holder = SqliteConnection::establish(&path).unwrap();
        holder.batch_execute("CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);").unwrap();
        let manager = ConnectionManager { url: path, backend: Backend::Sqlite };
        let waiting = std::thread::spawn(move || manager.connect().map(|_| ()));
        // Not time passing for an outcome: it lets the connection meet the lock first (it
        // failed at once with "database is locked" when the busy timeout came second).
        std::thread::sleep(Duration::from_millis(300));
        holder.batch_execute("COMMIT").unwrap();
        waiting.join().unwrap().expect("connects once the lock is released");
    }
}
