//! One timer, once a minute on each replica, deleting the rows nothing needs any more: the
//! failure counters whose window and lockout have passed (`throttle::sweep`), and the
//! authorization codes and browser sessions that expired or ended over an hour ago. Every
//! delete is idempotent, so replicas sweeping the same database at once do no harm.

use std::time::Duration;

use auth_common::clock::Clock;
use auth_common::service::db::{DbPool, QueryContext, blocking};

use crate::error::ApiError;

/// How often the sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Sweeps every minute until the service stops.
pub fn spawn_sweeper(pool: DbPool, clock: Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match crate::throttle::sweep(&pool, &clock).await {
                Ok(0) => {}
                Ok(swept) => log::debug!("swept {swept} expired credential failure counters"),
                Err(e) => log::warn!("sweeping credential failures: {:#}", anyhow::Error::from(e)),
            }
            match sweep_signins(&pool, &clock).await {
                Ok(0) => {}
                Ok(swept) => log::debug!("swept {swept} expired authorization codes and browser sessions"),
                Err(e) => log::warn!("sweeping authorization codes and sessions: {e:#}"),
            }
        }
    })
}

/// Deletes the authorization codes and browser sessions past their hour; how many. Codes
/// expire in a minute and sessions end; an hour on, not even a replayed code needs
/// recognising.
pub async fn sweep_signins(pool: &DbPool, clock: &Clock) -> Result<usize, ApiError> {
    let now = clock.now().naive_utc();
    blocking(pool, move |conn| {
        let codes =
            crate::tokens::authorization_code::sweep(conn, now).context("sweeping expired authorization codes")?;
        let sessions = crate::signin::session::sweep(conn, now).context("sweeping ended browser sessions")?;
        Ok(codes + sessions)
    })
    .await
}
