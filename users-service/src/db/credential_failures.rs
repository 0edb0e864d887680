//! Queries on `credential_failures`: failed credential checks, counted in the database so
//! every replica sees the same counts. The rules (how many failures lock, for how long)
//! live in `throttle`; these are the statements they are built from.
//!
//! A row is keyed by `(scope, subject)`: `scope` says what is counted (a login name, a
//! client id, an address), `subject` which one.

use chrono::NaiveDateTime;
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Timestamp};

use super::DbConnection;
use super::schema::credential_failures::dsl;

/// One counter, as a check reads it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Counter {
    pub scope: String,
    pub subject: String,
    pub locked_until: Option<NaiveDateTime>,
}

/// The counters among `keys` that have a row, in one query.
pub fn find(conn: &mut DbConnection, keys: &[(&str, &str)]) -> QueryResult<Vec<Counter>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = dsl::credential_failures.select((dsl::scope, dsl::subject, dsl::locked_until)).into_boxed();
    for (scope, subject) in keys {
        query = query.or_filter(dsl::scope.eq(*scope).and(dsl::subject.eq(*subject)));
    }
    query.load(conn)
}

/// Counts one failure and returns the count, atomically: of two replicas recording at
/// once, each gets its own count and neither is lost (one statement, the row locked by
/// the conflict on PostgreSQL, one writer at a time on SQLite).
///
/// A row whose first failure is before `stale_before` and whose lock (if any) has passed
/// by `now` starts again at one, as if it had been swept.
pub fn record_failure(
    conn: &mut DbConnection,
    scope: &str,
    subject: &str,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> QueryResult<i32> {
    let no_lock: Option<NaiveDateTime> = None;
    let restart = || {
        dsl::first_failure
            .lt(stale_before)
            .and(dsl::locked_until.is_null().or(dsl::locked_until.assume_not_null().le(now)))
    };
    let upsert = diesel::insert_into(dsl::credential_failures)
        .values((
            dsl::scope.eq(scope),
            dsl::subject.eq(subject),
            dsl::failures.eq(1),
            dsl::first_failure.eq(now),
            dsl::locked_until.eq(no_lock),
        ))
        .on_conflict((dsl::scope, dsl::subject))
        .do_update()
        .set((
            dsl::failures.eq(case_when::<_, _, Integer>(restart(), 1).otherwise(dsl::failures + 1)),
            dsl::first_failure.eq(case_when::<_, _, Timestamp>(restart(), now).otherwise(dsl::first_failure)),
            dsl::locked_until
                .eq(case_when::<_, _, Nullable<Timestamp>>(restart(), no_lock).otherwise(dsl::locked_until)),
        ));
    // diesel's `RETURNING` does not cross its multi-backend connection (see `users::insert`).
    match conn {
        DbConnection::Postgresql(c) => upsert.returning(dsl::failures).get_result(c),
        DbConnection::Sqlite(c) => upsert.returning(dsl::failures).get_result(c),
    }
}

/// Locks a counter until `until`, unless it is locked longer already (a replica that
/// counted a later failure may have set a longer lock first).
pub fn lock_until(conn: &mut DbConnection, scope: &str, subject: &str, until: NaiveDateTime) -> QueryResult<()> {
    diesel::update(dsl::credential_failures.find((scope, subject)))
        .filter(dsl::locked_until.is_null().or(dsl::locked_until.assume_not_null().lt(until)))
        .set(dsl::locked_until.eq(until))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a counter.
pub fn delete(conn: &mut DbConnection, scope: &str, subject: &str) -> QueryResult<()> {
    diesel::delete(dsl::credential_failures.find((scope, subject))).execute(conn).map(|_| ())
}

/// Deletes the counters of `scope` whose first failure is before `stale_before` and whose
/// lock (if any) has passed by `now`; returns how many.
pub fn sweep(
    conn: &mut DbConnection,
    scope: &str,
    stale_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        dsl::credential_failures
            .filter(dsl::scope.eq(scope))
            .filter(dsl::first_failure.lt(stale_before))
            .filter(dsl::locked_until.is_null().or(dsl::locked_until.assume_not_null().le(now))),
    )
    .execute(conn)
}

/// How many counters there are, in every scope.
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    dsl::credential_failures.count().get_result(conn)
}
