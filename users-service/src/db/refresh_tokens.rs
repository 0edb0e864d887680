//! Queries on `refresh_tokens`. The rules (rotation, reuse detection) live in
//! `tokens::refresh`; these are the statements it is built from.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::{NewRefreshToken, RefreshTokenRow};
use super::schema::refresh_tokens::dsl;

/// Stores a new token.
pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken<'_>) -> QueryResult<()> {
    diesel::insert_into(dsl::refresh_tokens).values(new).execute(conn).map(|_| ())
}

/// The token with this hash.
pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    dsl::refresh_tokens.filter(dsl::token_hash.eq(hash)).select(RefreshTokenRow::as_select()).first(conn).optional()
}

/// Marks a token spent if, and only if, it is still live. Returns whether this call spent
/// it: of two concurrent uses, exactly one gets `true`.
pub fn spend(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        dsl::refresh_tokens
            .filter(dsl::token_hash.eq(hash))
            .filter(dsl::used_at.is_null())
            .filter(dsl::revoked_at.is_null()),
    )
    .set(dsl::used_at.eq(now))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// Revokes every live token of a family, including one a concurrent rotation adds.
///
/// On PostgreSQL (READ COMMITTED) a rotation that holds the lock on the token it spends
/// makes this UPDATE wait, and the successor it then inserts is not in this statement's
/// snapshot. Repeating the statement until it finds nothing more revokes that successor
/// too: a rotation can only add one after spending a live token, which blocks us again.
pub fn revoke_family(conn: &mut DbConnection, family: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let revoked =
            diesel::update(dsl::refresh_tokens.filter(dsl::family_id.eq(family)).filter(dsl::revoked_at.is_null()))
                .set(dsl::revoked_at.eq(now))
                .execute(conn)?;
        if revoked == 0 {
            return Ok(total);
        }
        total += revoked;
    }
}
