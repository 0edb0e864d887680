//! Failure counting with lockouts, kept in the database (`credential_failures`): after
//! `free_failures` failures for one counter within `window`, it is refused for
//! `base_lockout`, doubling with each further failure up to `window`.
//!
//! A token bucket (governor's model) cannot be reset by a success, which this policy
//! needs, so each counter is a row: written only on failure, read by every check. These
//! functions are synchronous and take a connection, like the queries they are made of;
//! `Guards` runs them off the async workers.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::QueryResult;

use crate::db::DbConnection;
use crate::db::credential_failures;

/// When a counter locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before the counter is locked out.
    pub free_failures: u32,
    /// The first lockout; each further failure doubles it.
    pub base_lockout: Duration,
    /// How long failures are remembered, and the longest lockout.
    pub window: Duration,
}

impl Policy {
    /// The lockout the `failures`-th failure starts, if any.
    pub fn lockout_after(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.free_failures)?;
        Some((self.base_lockout * 2u32.pow(beyond.min(10))).min(self.window))
    }
}

/// One counter: what is counted (`scope`), which one (`subject`), and its policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub scope: &'static str,
    pub subject: String,
    pub policy: Policy,
}

/// What a check found for one counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No failures counted.
    Nothing,
    /// Failures counted, not locked (or no longer).
    Counting,
    /// Locked out for this much longer.
    Locked(Duration),
}

/// What each of `keys` shows at `now`, in the order given, read in one query.
pub fn read(conn: &mut DbConnection, keys: &[&Key], now: NaiveDateTime) -> QueryResult<Vec<Found>> {
    let wanted: Vec<(&str, &str)> = keys.iter().map(|k| (k.scope, k.subject.as_str())).collect();
    let rows = credential_failures::find(conn, &wanted)?;
    Ok(keys
        .iter()
        .map(|key| match rows.iter().find(|r| r.scope == key.scope && r.subject == key.subject) {
            None => Found::Nothing,
            Some(row) => match row.locked_until.and_then(|until| (until - now).to_std().ok()) {
                Some(left) if !left.is_zero() => Found::Locked(left),
                _ => Found::Counting,
            },
        })
        .collect())
}

/// Counts a failure at `now`; returns the lockout it starts, if any. Call it inside a
/// transaction when counting several keys, so the count and its lock land together.
pub fn record_failure(conn: &mut DbConnection, key: &Key, now: NaiveDateTime) -> QueryResult<Option<Duration>> {
    let failures =
        credential_failures::record_failure(conn, key.scope, &key.subject, now, before(now, key.policy.window))?;
    let Some(lockout) = key.policy.lockout_after(u32::try_from(failures).unwrap_or(u32::MAX)) else {
        return Ok(None);
    };
    credential_failures::lock_until(conn, key.scope, &key.subject, after(now, lockout))?;
    Ok(Some(lockout))
}

/// Forgets a counter.
pub fn clear(conn: &mut DbConnection, key: &Key) -> QueryResult<()> {
    credential_failures::delete(conn, key.scope, &key.subject)
}

/// Deletes the counters of `scope` whose window and lockout have both passed at `now`;
/// returns how many.
pub fn sweep(conn: &mut DbConnection, scope: &str, policy: &Policy, now: NaiveDateTime) -> QueryResult<usize> {
    credential_failures::sweep(conn, scope, before(now, policy.window), now)
}

fn before(now: NaiveDateTime, by: Duration) -> NaiveDateTime {
    TimeDelta::from_std(by).ok().and_then(|by| now.checked_sub_signed(by)).unwrap_or(NaiveDateTime::MIN)
}

fn after(now: NaiveDateTime, by: Duration) -> NaiveDateTime {
    TimeDelta::from_std(by).ok().and_then(|by| now.checked_add_signed(by)).unwrap_or(NaiveDateTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy =
        Policy { free_failures: 5, base_lockout: Duration::from_secs(30), window: Duration::from_secs(900) };

    #[test]
    fn the_fifth_failure_locks_and_each_further_one_doubles_the_lockout_up_to_the_window() {
        let lockouts: Vec<Option<Duration>> = (1..=12).map(|n| POLICY.lockout_after(n)).collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(&lockouts[..4], &[None; 4], "four free failures");
        assert_eq!(
            &lockouts[4..],
            &[secs(30), secs(60), secs(120), secs(240), secs(480), secs(900), secs(900), secs(900)]
        );
        assert_eq!(POLICY.lockout_after(u32::MAX), secs(900), "no overflow");
    }
}
