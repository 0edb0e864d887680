//! Deleting the failure counters whose window and lockout have passed, so
//! `credential_failures` holds only the failures of the last window and the lockouts
//! still running, however many random names are sprayed at it. `crate::sweeper` runs it
//! once a minute.

use auth_common::clock::Clock;
use auth_common::service::db::{DbPool, QueryContext, blocking};

use super::{CounterError, SCOPES, failures};

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
