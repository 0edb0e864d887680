//! Deleting the failure counters whose window and lockout have passed, so
//! `credential_failures` holds only the failures of the last window and the lockouts
//! still running, however many random names are sprayed at it.

use std::time::Duration;

use auth_common::clock::Clock;
use auth_common::service::db::{DbPool, QueryContext, blocking};

use super::{CounterError, SCOPES, failures};

/// How often expired counters are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Deletes the counters whose window and lockout have passed; returns how many.
pub async fn sweep(pool: &DbPool, clock: &Clock) -> Result<usize, CounterError> {
    let now = clock.now().naive_utc();
    blocking(pool, move |conn| {
        let mut swept = 0;
        for (scope, policy) in &SCOPES {
            swept += failures::sweep(conn, scope, policy, now).context("sweeping expired credential failures")?;
        }
        Ok(swept)
    })
    .await
}

/// Sweeps expired counters every minute, so the table stays as small as the failures of
/// the last window (and the lockouts still running), however many names are sprayed; and
/// the authorization codes and browser sessions that expired (or ended) over an hour ago.
pub fn spawn_sweeper(pool: DbPool, clock: Clock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&pool, &clock).await {
                Ok(0) => {}
                Ok(swept) => log::debug!("swept {swept} expired credential failure counters"),
                Err(e) => log::warn!("sweeping credential failures: {:#}", anyhow::Error::from(e)),
            }
            // Authorization codes expire in a minute and sessions end; an hour on, not even
            // a replay of a code needs recognising.
            let now = clock.now().naive_utc();
            let swept: Result<usize, CounterError> = blocking(&pool, move |conn| {
                let codes = crate::tokens::authorization_code::sweep(conn, now)
                    .context("sweeping expired authorization codes")?;
                let sessions = crate::signin::session::sweep(conn, now).context("sweeping ended browser sessions")?;
                Ok(codes + sessions)
            })
            .await;
            if let Err(e) = swept {
                log::warn!("sweeping authorization codes and sessions: {:#}", anyhow::Error::from(e));
            }
        }
    })
}
