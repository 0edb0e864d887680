//! Keeps a running users-service's keys in step with the database: a look at the key
//! set's version every 500 ms (one indexed one-row read), a reload when it has moved, and
//! at once when `wake` is notified (on `SIGHUP`). So a change made by `keys …` or by
//! another replica is served by every replica within a second, well inside the 2 s the
//! deployment docs promise; PostgreSQL's `LISTEN/NOTIFY` would save the polls, but not
//! the polling, which a lost notification would still need.

use std::sync::Arc;
use std::time::Duration;

use auth_common::service::db::DbPool;
use tokio::sync::Notify;

use super::KeyRing;

/// How often the version is read.
pub const INTERVAL: Duration = Duration::from_millis(500);

/// Runs until the returned task is aborted.
pub fn spawn(ring: Arc<KeyRing>, pool: DbPool, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_error = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = wake.notified() => log::info!("SIGHUP: reloading signing keys"),
            }
            let (ring, pool) = (ring.clone(), pool.clone());
            let result = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(|e| anyhow::anyhow!("no database connection: {e}"))?;
                ring.reload(&mut conn)
            })
            .await;
            let error = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(e) => Some(e.to_string()),
            };
            // Say it once, not twice a second.
            if error.is_some() && error != last_error {
                log::error!(
                    "signing keys not reloaded, keeping the current ones: {}",
                    error.as_deref().unwrap_or_default()
                );
            }
            if error.is_none() && last_error.is_some() {
                log::info!("signing keys reloaded again");
            }
            last_error = error;
        }
    })
}
